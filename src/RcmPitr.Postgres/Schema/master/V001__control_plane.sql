-- RcmPitr control-plane schema, version 1: the part of the platform's master database RcmPitr reads
-- and writes. In production the platform owns these tables; this file is what RcmPitr assumes of
-- them (docs/master-schema.md) and creates them for local use and tests. Every statement is
-- IF NOT EXISTS, so applying it to a master that already has them changes nothing.

CREATE SCHEMA IF NOT EXISTS identity;

CREATE TABLE IF NOT EXISTS identity.db_server (
  name             text PRIMARY KEY
                   CHECK (length(name) BETWEEN 3 AND 63 AND name ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  fqdn             text    NOT NULL,
  port             integer NOT NULL DEFAULT 5432 CHECK (port BETWEEN 1 AND 65535),
  arm_resource_id  text,
  admin_user       text    NOT NULL,
  admin_secret_ref text    NOT NULL,
  major_version    integer NOT NULL CHECK (major_version >= 11)
);

CREATE TABLE IF NOT EXISTS identity.tenant (
  id                uuid PRIMARY KEY,
  slug              text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'read_only', 'suspended')),
  status_reason     text,
  status_changed_at timestamptz NOT NULL DEFAULT now(),
  db_server         text NOT NULL REFERENCES identity.db_server (name),
  db_config_ref     text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS identity.tenant_audit (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id       uuid  NOT NULL REFERENCES identity.tenant (id),
  event           text  NOT NULL,
  actor           text  NOT NULL,
  reason          text  NOT NULL,
  details         jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- One row per (run, step): a retried activity finds its row instead of writing a second one.
  idempotency_key text  NOT NULL UNIQUE,
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS tenant_audit_tenant_created ON identity.tenant_audit (tenant_id, created_at);

-- State of RcmPitr's embedded durable engine: orchestration instances, their event history, their
-- inbox (activity results, timer firings, external events; a message is invisible until visible_at),
-- and activity work items leased by workers.

CREATE SCHEMA IF NOT EXISTS rcm_engine;

CREATE TABLE IF NOT EXISTS rcm_engine.instances (
  instance_id   text PRIMARY KEY,
  name          text NOT NULL,
  status        text NOT NULL CHECK (status IN ('Pending', 'Running', 'Completed', 'Failed', 'Terminated')),
  input         jsonb,
  output        jsonb,
  custom_status jsonb,
  failure       jsonb,
  -- At most one active instance per lock key (for restores: one per tenant).
  lock_key      text,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS instances_one_active_per_lock_key
  ON rcm_engine.instances (lock_key) WHERE lock_key IS NOT NULL AND status IN ('Pending', 'Running');
CREATE INDEX IF NOT EXISTS instances_name_status ON rcm_engine.instances (name, status);

CREATE TABLE IF NOT EXISTS rcm_engine.history (
  instance_id text NOT NULL REFERENCES rcm_engine.instances (instance_id) ON DELETE CASCADE,
  seq         integer NOT NULL,
  event       jsonb NOT NULL,
  PRIMARY KEY (instance_id, seq)
);

CREATE TABLE IF NOT EXISTS rcm_engine.messages (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  instance_id text NOT NULL REFERENCES rcm_engine.instances (instance_id) ON DELETE CASCADE,
  event       jsonb NOT NULL,
  visible_at  timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS messages_instance_visible ON rcm_engine.messages (instance_id, visible_at);
CREATE INDEX IF NOT EXISTS messages_visible ON rcm_engine.messages (visible_at);

CREATE TABLE IF NOT EXISTS rcm_engine.activities (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  instance_id  text NOT NULL REFERENCES rcm_engine.instances (instance_id) ON DELETE CASCADE,
  task_id      integer NOT NULL,
  name         text NOT NULL,
  input        jsonb,
  locked_by    text,
  locked_until timestamptz,
  deliveries   integer NOT NULL DEFAULT 0,
  UNIQUE (instance_id, task_id)
);

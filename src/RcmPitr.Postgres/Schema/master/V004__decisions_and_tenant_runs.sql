-- RcmPitr control-plane schema, version 4: RcmPitr's own tables for the approval gate and for one run per tenant.
-- decision_attempts: every approve/reject attempt the API received, accepted or refused, with who and why; at most
-- one accepted decision per run (the unique index makes the first one win, atomically). No row data, no secrets.
-- tenant_runs: the run that holds each tenant (one active run per tenant, taken over only once that run has ended).

CREATE SCHEMA IF NOT EXISTS rcm_pitr;

CREATE TABLE IF NOT EXISTS rcm_pitr.decision_attempts (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id         text        NOT NULL,
  principal_id   text        NOT NULL,
  principal_name text        NOT NULL,
  decision       text        NOT NULL CHECK (decision IN ('approve', 'reject')),
  accepted       boolean     NOT NULL,
  note           text,
  attempted_at   timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX IF NOT EXISTS decision_attempts_one_accepted_per_run ON rcm_pitr.decision_attempts (run_id) WHERE accepted;
CREATE INDEX IF NOT EXISTS decision_attempts_run ON rcm_pitr.decision_attempts (run_id, attempted_at);

CREATE TABLE IF NOT EXISTS rcm_pitr.tenant_runs (
  tenant     text PRIMARY KEY,
  run_id     text        NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now()
);

-- RcmPitr control-plane schema, version 3: the point-in-time restored servers RcmPitr created, and the runs that
-- hold each (ADR 0007). A restored server is identified by (source server, restore time to the second) and named
-- <source>-pitr-<yyyyMMddHHmmss>: every run restoring that source to that second shares it. A run's hold is a row of
-- restored_server_holder; the server is deleted when its last holder releases it, and only because a row here says
-- RcmPitr created it. Names, times and run ids only: no data, no secrets.

CREATE SCHEMA IF NOT EXISTS rcm_pitr;

CREATE TABLE IF NOT EXISTS rcm_pitr.restored_server (
  server_name      text PRIMARY KEY
                   CHECK (length(server_name) BETWEEN 3 AND 63 AND server_name ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  source_server    text        NOT NULL,
  restore_time     timestamptz NOT NULL,
  -- active: held by the runs in restored_server_holder (the first of them had it created);
  -- deleting: its last holder released it and the deletion is under way. Nobody attaches to it; the row goes
  -- when the provisioner reports the server gone.
  state            text        NOT NULL CHECK (state IN ('active', 'deleting')),
  created_by_run   text        NOT NULL,
  created_at       timestamptz NOT NULL,
  deleting_run     text,
  state_changed_at timestamptz NOT NULL,
  CHECK ((state = 'deleting') = (deleting_run IS NOT NULL)),
  UNIQUE (source_server, restore_time)
);

-- One row per (server, run): a retried acquire finds its hold instead of adding a second one.
CREATE TABLE IF NOT EXISTS rcm_pitr.restored_server_holder (
  server_name text        NOT NULL REFERENCES rcm_pitr.restored_server (server_name),
  run_id      text        NOT NULL,
  acquired_at timestamptz NOT NULL,
  PRIMARY KEY (server_name, run_id)
);

CREATE INDEX IF NOT EXISTS restored_server_holder_run ON rcm_pitr.restored_server_holder (run_id);

-- RcmPitr control-plane schema, version 6: RcmPitr's own table bounding how often a long step (dump, load, transfer) of
-- one run is started again after being aborted. A host can abort an activity without it ever ending (Azure Functions
-- does at functionTimeout) and the durable engine then starts it again, with no limit of its own. Each start and each
-- end (success or failure) is counted per run and step; a start after too many that never ended is refused.
-- Names of runs and steps and counts only: no data, no secrets.

CREATE SCHEMA IF NOT EXISTS rcm_pitr;

CREATE TABLE IF NOT EXISTS rcm_pitr.activity_starts (
  run_id          text        NOT NULL,
  step            text        NOT NULL,
  starts          integer     NOT NULL,
  ends            integer     NOT NULL DEFAULT 0,
  first_start_at  timestamptz NOT NULL,
  last_start_at   timestamptz NOT NULL,
  last_end_at     timestamptz,
  PRIMARY KEY (run_id, step)
);

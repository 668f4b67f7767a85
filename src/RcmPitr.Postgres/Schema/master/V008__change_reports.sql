-- RcmPitr control-plane schema, version 8: RcmPitr's own table for each run's full change report (what the cutover
-- changes, per table: rows only in live, only in the copy, different). A run's custom status carries only its summary;
-- the status API shows the full report from here. Table names, counts and sampled primary-key values only: no other row
-- data.

CREATE SCHEMA IF NOT EXISTS rcm_pitr;

CREATE TABLE IF NOT EXISTS rcm_pitr.change_reports (
  run_id      text PRIMARY KEY,
  report      jsonb       NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);

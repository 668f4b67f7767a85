-- RcmPitr control-plane schema, version 5: RcmPitr's own table for each run's full parity table. A run's custom
-- status must stay small (the Durable Functions storage provider caps it), so it carries the verdict and the rows
-- that need a look; the status API shows the full table from here. Counts and table names only: no row data.

CREATE SCHEMA IF NOT EXISTS rcm_pitr;

CREATE TABLE IF NOT EXISTS rcm_pitr.parity_reports (
  run_id      text PRIMARY KEY,
  report      jsonb       NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);

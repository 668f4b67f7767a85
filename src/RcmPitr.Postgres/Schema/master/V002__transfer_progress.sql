-- RcmPitr control-plane schema, version 2: RcmPitr's own table (not the platform's) for the live progress
-- of a run's database transfer. The transfer step writes its row every few seconds; the status API reads it.
-- A row holds counts and a phase only: no names of rows, no data, no secrets.

CREATE SCHEMA IF NOT EXISTS rcm_pitr;

CREATE TABLE IF NOT EXISTS rcm_pitr.transfer_progress (
  run_id        text PRIMARY KEY,
  mode          text        NOT NULL,
  phase         text        NOT NULL,
  tables_done   integer     NOT NULL DEFAULT 0,
  tables_total  integer     NOT NULL DEFAULT 0,
  bytes_moved   bigint      NOT NULL DEFAULT 0,
  started_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  -- When the counters last changed (the stall clock), and the failure when the step gave up.
  progressed_at timestamptz NOT NULL,
  error         text
);

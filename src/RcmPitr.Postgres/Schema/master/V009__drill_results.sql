-- RcmPitr control-plane schema, version 9: RcmPitr's own table of restore-drill results, one row per drill and tenant:
-- whether the tenant's dry run passed and why, when, how long, and the result's details (phase durations, sizes, the parity
-- verdict, canary-table row counts of the as-of copy and the check against a known-good reference). Counts and names only:
-- no row data. Earlier drills' rows are the reference of later ones and the history the drill page charts.

CREATE SCHEMA IF NOT EXISTS rcm_pitr;

CREATE TABLE IF NOT EXISTS rcm_pitr.drill_results (
  drill_id     text        NOT NULL,
  tenant       text        NOT NULL,
  run_id       text        NOT NULL,
  restore_time timestamptz NOT NULL,
  passed       boolean     NOT NULL,
  seconds      double precision,
  result       jsonb       NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (drill_id, tenant)
);

CREATE INDEX IF NOT EXISTS drill_results_by_tenant ON rcm_pitr.drill_results (tenant, recorded_at DESC);

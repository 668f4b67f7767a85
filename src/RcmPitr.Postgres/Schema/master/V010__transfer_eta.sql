-- RcmPitr control-plane schema, version 10: the transfer's expected bytes, achieved throughput and estimated end of its
-- byte-counting phase (the copy; index builds and a dump mode's restore follow it), for the status API's ETA.
-- Null in rows written before this version, and where unknown. Counts and times only.

ALTER TABLE rcm_pitr.transfer_progress
  ADD COLUMN IF NOT EXISTS bytes_total         bigint,
  ADD COLUMN IF NOT EXISTS bytes_per_second    double precision,
  ADD COLUMN IF NOT EXISTS estimated_finish_at timestamptz;

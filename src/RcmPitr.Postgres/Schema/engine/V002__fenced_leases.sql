-- Activity leases are fenced per claim and kept on the database's clock (never a host's):
--   lease_id    a fresh token written by every claim; renewing and completing must present it, so a
--               claim that lost its lease (to another process, or to another loop of the same one) can
--               neither extend it nor record a result;
--   claimed_at  when the current delivery was claimed (for the status of a running activity).
-- locked_by now names one activity loop (<process>/activity-<n>), not a whole process.

ALTER TABLE rcm_engine.activities ADD COLUMN IF NOT EXISTS lease_id uuid;
ALTER TABLE rcm_engine.activities ADD COLUMN IF NOT EXISTS claimed_at timestamptz;

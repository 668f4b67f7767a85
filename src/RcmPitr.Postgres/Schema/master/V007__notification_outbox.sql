-- RcmPitr control-plane schema, version 7: the notification outbox. A run's step writes its message here (one row per
-- run, event and configured target, so a redelivered step finds its row and never duplicates a message); a dispatcher on
-- each host delivers due rows at least once, claiming each with FOR UPDATE SKIP LOCKED so two hosts never send the same
-- message at once. Names, counts and reasons only: no row data, and never a webhook URL (targets are named; their URLs
-- stay in the secret store).

CREATE SCHEMA IF NOT EXISTS rcm_pitr;

CREATE TABLE IF NOT EXISTS rcm_pitr.notification_outbox (
  run_id          text        NOT NULL,
  event           text        NOT NULL,
  target          text        NOT NULL,
  tenant          text        NOT NULL,
  subject         text        NOT NULL,
  body            text        NOT NULL,
  state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),
  attempts        integer     NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL,
  next_attempt_at timestamptz NOT NULL,
  sent_at         timestamptz,
  last_error      text,
  PRIMARY KEY (run_id, event, target)
);

CREATE INDEX IF NOT EXISTS notification_outbox_due ON rcm_pitr.notification_outbox (next_attempt_at) WHERE state = 'pending';

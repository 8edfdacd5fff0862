-- A payment whose vend failed, or whose charge is unconfirmed, stays open until an operator's decision ends it
-- (DESIGN.md, "Operators"). The execution waits in its AwaitDecision step; the follow-up row carries that
-- step's task token, so the operator console can hand the decision to the execution, and a deadline after
-- which on-call is paged again. Every decision is kept in `decisions`, the audit trail: who, when, what, why.
-- A refund ends a payment as `refunded`, with the gateway's refund id; a UTRN the vendor gave out of band is
-- recorded as a vend made by hand.

ALTER TABLE payments DROP CONSTRAINT payments_status_known;
ALTER TABLE payments ADD CONSTRAINT payments_status_known CHECK (
  status IN ('accepted', 'charged', 'charge_declined', 'charge_unconfirmed', 'vended', 'vend_failed', 'refunded')
);
ALTER TABLE payments ADD COLUMN refund_id text
  CONSTRAINT payments_refund_id_unique UNIQUE;
-- A refunded payment names its refund; no other payment has one.
ALTER TABLE payments ADD CONSTRAINT payments_refund_id_iff_refunded CHECK (
  (status = 'refunded') = (refund_id IS NOT NULL AND length(refund_id) > 0)
);

ALTER TABLE payment_events DROP CONSTRAINT payment_events_type_known;
ALTER TABLE payment_events ADD CONSTRAINT payment_events_type_known CHECK (
  type IN ('accepted', 'charged', 'charge_declined', 'charge_unconfirmed', 'vend_requested', 'vend_retrying',
    'vended', 'vend_failed', 'refunded')
);

-- A UTRN the vendor gave an operator (by phone, from its portal) rather than to the meter-vending task.
ALTER TABLE vends ADD COLUMN recorded_by_hand boolean NOT NULL DEFAULT false;

CREATE TABLE follow_ups (
  -- One per payment: a re-vend that fails again opens the same row again.
  payment_id text PRIMARY KEY
    CONSTRAINT follow_ups_payment_id_fkey REFERENCES payments (payment_id),
  -- Why the payment is open: its status when the execution began to wait.
  reason text NOT NULL
    CONSTRAINT follow_ups_reason_known CHECK (reason IN ('vend_failed', 'charge_unconfirmed')),
  -- The waiting AwaitDecision step's token (SendTaskSuccess with the decision); null once decided.
  task_token text,
  execution_arn text,
  opened_at timestamptz NOT NULL DEFAULT now(),
  -- When on-call is paged again if nobody has decided; each missed deadline counts one escalation.
  deadline_at timestamptz NOT NULL,
  escalations integer NOT NULL DEFAULT 0
    CONSTRAINT follow_ups_escalations_not_negative CHECK (escalations >= 0),
  closed_at timestamptz,
  CONSTRAINT follow_ups_open_has_task_token CHECK ((closed_at IS NULL) = (task_token IS NOT NULL))
);

CREATE INDEX follow_ups_open_by_age ON follow_ups (opened_at) WHERE closed_at IS NULL;

CREATE TABLE decisions (
  -- Chosen by the console for each decision: the same decision handed over twice is recorded once.
  decision_id text PRIMARY KEY
    CONSTRAINT decisions_decision_id_format CHECK (decision_id ~ '^[A-Za-z0-9_-]{1,80}$'),
  payment_id text NOT NULL
    CONSTRAINT decisions_payment_id_fkey REFERENCES payments (payment_id),
  action text NOT NULL
    CONSTRAINT decisions_action_known CHECK (action IN ('revend', 'record_utrn', 'refund', 'recheck_charge')),
  -- Who decided (the operator's name or AWS identity) and why, in their words.
  operator text NOT NULL
    CONSTRAINT decisions_operator_present CHECK (length(operator) BETWEEN 1 AND 200),
  reason text NOT NULL
    CONSTRAINT decisions_reason_present CHECK (length(reason) BETWEEN 1 AND 1000),
  utrn text
    CONSTRAINT decisions_utrn_20_digits CHECK (utrn ~ '^[0-9]{20}$'),
  decided_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT decisions_utrn_iff_record_utrn CHECK ((action = 'record_utrn') = (utrn IS NOT NULL))
);

CREATE INDEX decisions_payment_id ON decisions (payment_id, decided_at);

-- The follow-up task (FollowUpRecords): opens a payment's follow-up with the waiting step's token, reads the
-- payment to know why it is open, and records a decision with the follow-up it closes.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'payments_follow_up') THEN
    CREATE ROLE payments_follow_up NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'payments_console') THEN
    CREATE ROLE payments_console NOLOGIN;
  END IF;
END
$$;

REVOKE ALL ON TABLE payments, vends, payment_events, payment_event_log, idempotency_records, schema_migrations,
  follow_ups, decisions
FROM payments_follow_up, payments_console;
REVOKE ALL ON TABLE follow_ups, decisions
FROM payments_front_end, payments_charge, payments_notify, payments_meter_vending;
GRANT USAGE ON SCHEMA public TO payments_follow_up, payments_console;

GRANT SELECT (payment_id, meter_id, amount_pence, status, status_token_hash, gateway_charge_id, decline_reason,
    charge_error, refund_id)
ON payments TO payments_follow_up;
GRANT SELECT (payment_id, reason, task_token, execution_arn, opened_at, deadline_at, escalations, closed_at),
  INSERT (payment_id, reason, task_token, execution_arn, opened_at, deadline_at, escalations, closed_at),
  UPDATE (reason, task_token, execution_arn, opened_at, deadline_at, escalations, closed_at)
ON follow_ups TO payments_follow_up;
GRANT SELECT (decision_id, payment_id, action, operator, reason, utrn, decided_at, recorded_at),
  INSERT (decision_id, payment_id, action, operator, reason, utrn, decided_at)
ON decisions TO payments_follow_up;

-- The operator console reads: payments, their vends, events, follow-ups (with the token it hands a decision
-- to) and the audit trail. It writes nothing: a decision is recorded by the execution it completes.
GRANT SELECT ON payments, vends, payment_events, follow_ups, decisions TO payments_console;

-- The charge task records a refund; the meter-vending task a UTRN recorded by hand; both read refund_id with
-- the rest of the payment.
GRANT SELECT (refund_id), UPDATE (refund_id) ON payments TO payments_charge;
GRANT SELECT (refund_id) ON payments TO payments_meter_vending, payments_front_end;
GRANT SELECT (attempt, transaction_id, utrn, recorded_by_hand), INSERT (recorded_by_hand)
ON vends TO payments_meter_vending;

-- Reconciliation (issue #11): a scheduled task (tasks/reconcile/, every 15 minutes on AWS, `npm run reconcile`
-- locally) compares what the gateway took with what the payments record, and keeps what it finds here, where
-- the operator console's follow-up list reads it:
-- - charged_not_vended: a payment whose money was taken (`charged`, or `vend_failed`) that is neither vended
--   nor refunded nor open for an operator's decision, and has stayed so for longer than the threshold: it fell
--   through (an execution that ended or was lost, a payment from before follow-ups existed).
-- - charge_without_payment: a succeeded charge the gateway made that no payment records: its reference is no
--   payment of ours, or that payment does not record this charge (unconfirmed, declined, another charge).
-- One row per (kind, payment) or (kind, charge): a later run that finds it again updates it, one that no longer
-- finds it marks it resolved, and one that finds a resolved finding again opens it again (RECORD_RECONCILIATION_SQL
-- in database/reconciliation.ts).

CREATE TABLE reconciliation_findings (
  -- `<kind>:<payment_id>` for charged_not_vended, `<kind>:<gateway_charge_id>` for charge_without_payment.
  finding_id text PRIMARY KEY,
  kind text NOT NULL
    CONSTRAINT reconciliation_findings_kind_known CHECK (kind IN ('charged_not_vended', 'charge_without_payment')),
  -- The payment: always for charged_not_vended; for charge_without_payment, the one the charge's reference
  -- names, or null when the reference is no payment of ours.
  payment_id text
    CONSTRAINT reconciliation_findings_payment_id_fkey REFERENCES payments (payment_id),
  -- The charge's reference at the gateway (a charge without a payment: what it was made for).
  reference text,
  gateway_charge_id text,
  amount_pence integer NOT NULL
    CONSTRAINT reconciliation_findings_amount_not_negative CHECK (amount_pence >= 0),
  -- The payment's status when last found; null when there is no payment.
  payment_status text,
  -- charged_not_vended: since when the payment has waited (its last status change, or its follow-up's
  -- closing, whichever is later); charge_without_payment: when the gateway made the charge.
  occurred_at timestamptz NOT NULL,
  -- When a run first found it (again, after it was resolved), last found it, and found it no longer.
  first_found_at timestamptz NOT NULL DEFAULT now(),
  last_found_at timestamptz NOT NULL DEFAULT now(),
  resolved_at timestamptz,
  CONSTRAINT reconciliation_findings_id_format CHECK (
    finding_id = kind || ':' || CASE kind WHEN 'charged_not_vended' THEN payment_id ELSE gateway_charge_id END
  ),
  CONSTRAINT reconciliation_findings_charged_not_vended_has_payment CHECK (
    kind <> 'charged_not_vended' OR payment_id IS NOT NULL
  ),
  CONSTRAINT reconciliation_findings_charge_without_payment_has_charge CHECK (
    kind <> 'charge_without_payment' OR (gateway_charge_id IS NOT NULL AND reference IS NOT NULL)
  ),
  CONSTRAINT reconciliation_findings_resolved_after_found CHECK (resolved_at IS NULL OR resolved_at >= first_found_at)
);

-- The console's follow-up list: open findings, oldest first.
CREATE INDEX reconciliation_findings_open_by_age ON reconciliation_findings (first_found_at) WHERE resolved_at IS NULL;
-- A payment's page: what reconciliation found about it.
CREATE INDEX reconciliation_findings_payment_id ON reconciliation_findings (payment_id);
-- Each run's search for payments charged but not vended reads these few, not every payment.
CREATE INDEX payments_charged_not_vended ON payments (updated_at) WHERE status IN ('charged', 'vend_failed');

-- The reconciliation task (ReconciliationRecords): reads what a payment records of its charge and whether its
-- follow-up is open, and records each run's findings. It moves no payment and appends no event: an operator
-- decides what a finding needs.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'payments_reconcile') THEN
    CREATE ROLE payments_reconcile NOLOGIN;
  END IF;
END
$$;

REVOKE ALL ON TABLE payments, vends, payment_events, payment_event_log, idempotency_records, schema_migrations,
  follow_ups, decisions, reconciliation_findings
FROM payments_reconcile;
REVOKE ALL ON TABLE reconciliation_findings
FROM payments_front_end, payments_charge, payments_notify, payments_meter_vending, payments_follow_up,
  payments_console;
GRANT USAGE ON SCHEMA public TO payments_reconcile;

GRANT SELECT (payment_id, amount_pence, status, gateway_charge_id, updated_at) ON payments TO payments_reconcile;
GRANT SELECT (payment_id, closed_at) ON follow_ups TO payments_reconcile;
GRANT SELECT (finding_id, kind, payment_id, reference, gateway_charge_id, amount_pence, payment_status, occurred_at,
    first_found_at, resolved_at),
  INSERT (finding_id, kind, payment_id, reference, gateway_charge_id, amount_pence, payment_status, occurred_at),
  UPDATE (payment_id, reference, gateway_charge_id, amount_pence, payment_status, occurred_at, first_found_at,
    last_found_at, resolved_at)
ON reconciliation_findings TO payments_reconcile;

-- The operator console lists the open findings in its follow-up list, and a payment's on its page.
GRANT SELECT ON reconciliation_findings TO payments_console;

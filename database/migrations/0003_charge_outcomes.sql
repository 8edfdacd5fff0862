-- Charge outcomes are three, each named for what is known: charged, declined (definitely not charged), and
-- unconfirmed (the outcome is unknown after the retries and is being reconciled with the gateway). A payment's
-- status is now moved by the task that learns the fact, in the same statement as the fact, not by the customer
-- notification; `vend_requested` was a notification's status, not a fact, so it folds into `charged`.

ALTER TABLE payments DROP CONSTRAINT payments_status_known;
ALTER TABLE payments DROP CONSTRAINT payments_charged_has_gateway_charge_id;
ALTER TABLE payment_events DROP CONSTRAINT payment_events_type_known;

-- The error that left the charge unconfirmed (PaymentGatewayUnavailable, States.Timeout, ...).
ALTER TABLE payments ADD COLUMN charge_error text;

UPDATE payments SET status = 'charged' WHERE status = 'vend_requested';

-- Before this migration a charge that could not be confirmed was recorded as a decline with this reason.
UPDATE payments SET status = 'charge_unconfirmed', decline_reason = NULL, charge_error = 'unknown',
  appended_events = array_replace(appended_events, 'charge_declined', 'charge_unconfirmed')
WHERE status = 'charge_declined' AND decline_reason = 'charge_not_confirmed';
UPDATE payment_events SET type = 'charge_unconfirmed', body = body - 'reason'
WHERE type = 'charge_declined' AND body->>'reason' = 'charge_not_confirmed';

ALTER TABLE payments ADD CONSTRAINT payments_status_known CHECK (
  status IN ('accepted', 'charged', 'charge_declined', 'charge_unconfirmed', 'vended', 'vend_failed')
);
ALTER TABLE payments ADD CONSTRAINT payments_charged_has_gateway_charge_id CHECK (
  status IN ('accepted', 'charge_declined', 'charge_unconfirmed') OR gateway_charge_id IS NOT NULL
);
ALTER TABLE payments ADD CONSTRAINT payments_unconfirmed_has_charge_error CHECK (
  status <> 'charge_unconfirmed' OR (charge_error IS NOT NULL AND length(charge_error) > 0)
);
ALTER TABLE payment_events ADD CONSTRAINT payment_events_type_known CHECK (
  type IN (
    'accepted', 'charged', 'charge_declined', 'charge_unconfirmed', 'vend_requested', 'vend_retrying', 'vended',
    'vend_failed'
  )
);

-- The payments schema: payments, vend attempts, the customer-facing event log and idempotency records.
--
-- Runs through the RDS Data API one statement at a time (migrate.ts splits on top-level semicolons), on
-- Aurora PostgreSQL and on the embedded PGlite alike: core PostgreSQL only, no extensions.

-- One row per top-up, created by the front-end when it accepts POST /api/payments.
CREATE TABLE payments (
  -- Also the Step Functions execution name, so it keeps to the characters and length an execution name allows.
  payment_id text PRIMARY KEY
    CONSTRAINT payments_payment_id_format CHECK (payment_id ~ '^[A-Za-z0-9_-]{1,80}$'),
  -- An electricity MPAN core (13 digits) or a gas MPRN (6 to 10 digits).
  meter_id text NOT NULL
    CONSTRAINT payments_meter_id_format CHECK (meter_id ~ '^[0-9]{6,13}$'),
  amount_pence integer NOT NULL
    CONSTRAINT payments_amount_pence_within_top_up_limits CHECK (amount_pence BETWEEN 1000 AND 17500),
  status text NOT NULL DEFAULT 'accepted'
    CONSTRAINT payments_status_known CHECK (
      status IN ('accepted', 'charged', 'charge_declined', 'vend_requested', 'vended', 'vend_failed')
    ),
  decline_reason text,
  gateway_charge_id text
    CONSTRAINT payments_gateway_charge_id_unique UNIQUE,
  status_token_hash text NOT NULL
    CONSTRAINT payments_status_token_hash_present CHECK (length(status_token_hash) > 0),
  -- The last seq handed out in payment_events for this payment (see APPEND_PAYMENT_EVENT_SQL).
  last_event_seq integer NOT NULL DEFAULT 0
    CONSTRAINT payments_last_event_seq_not_negative CHECK (last_event_seq >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- A declined payment says why; no other payment has a decline reason.
  CONSTRAINT payments_decline_reason_iff_declined CHECK (
    (status = 'charge_declined') = (decline_reason IS NOT NULL AND length(decline_reason) > 0)
  ),
  -- From `charged` on, the gateway's charge is known (refunds and disputes need it).
  CONSTRAINT payments_charged_has_gateway_charge_id CHECK (
    status IN ('accepted', 'charge_declined') OR gateway_charge_id IS NOT NULL
  )
);

CREATE INDEX payments_meter_id_created_at ON payments (meter_id, created_at);

-- One row per vend attempt, written by the Meter Vending Lambda.
CREATE TABLE vends (
  payment_id text NOT NULL
    CONSTRAINT vends_payment_id_fkey REFERENCES payments (payment_id),
  attempt integer NOT NULL
    CONSTRAINT vends_attempt_positive CHECK (attempt >= 1),
  -- The vendor's transaction id, derived from the payment id: the same for every attempt of a payment, so
  -- the vendor returns the same UTRN when a vend is asked for again.
  transaction_id text NOT NULL
    CONSTRAINT vends_transaction_id_present CHECK (length(transaction_id) > 0),
  -- vended: the vendor issued a UTRN; rejected: the meter refused it (not retryable);
  -- vendor_unavailable: the vendor could not be reached or timed out (retryable).
  outcome text NOT NULL
    CONSTRAINT vends_outcome_known CHECK (outcome IN ('vended', 'rejected', 'vendor_unavailable')),
  utrn text
    CONSTRAINT vends_utrn_20_digits CHECK (utrn ~ '^[0-9]{20}$'),
  rejection_code text,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- A redelivered SQS message for the same attempt finds its row instead of adding another.
  CONSTRAINT vends_pkey PRIMARY KEY (payment_id, attempt),
  CONSTRAINT vends_vended_has_utrn CHECK (outcome <> 'vended' OR utrn IS NOT NULL),
  CONSTRAINT vends_rejection_code_iff_rejected CHECK (
    (outcome = 'rejected') = (rejection_code IS NOT NULL AND length(rejection_code) > 0)
  )
);

-- At most one successful vend per payment, per vendor transaction and per UTRN, however often SQS delivers.
CREATE UNIQUE INDEX vends_one_success_per_payment ON vends (payment_id) WHERE outcome = 'vended';
CREATE UNIQUE INDEX vends_one_success_per_transaction ON vends (transaction_id) WHERE outcome = 'vended';
CREATE UNIQUE INDEX vends_utrn_unique ON vends (utrn) WHERE outcome = 'vended';

-- The single row whose counter orders every event across payments (see APPEND_PAYMENT_EVENT_SQL): appends
-- take its row lock until they commit, so ids become visible in id order and a tailer never skips one.
CREATE TABLE payment_event_log (
  singleton boolean PRIMARY KEY DEFAULT true
    CONSTRAINT payment_event_log_one_row CHECK (singleton),
  last_id bigint NOT NULL DEFAULT 0
);

INSERT INTO payment_event_log (singleton, last_id) VALUES (true, 0);

-- What the customer is shown, in order: per payment by seq (1, 2, 3, ... without gaps), across payments by id.
CREATE TABLE payment_events (
  -- Global position: every front-end instance tails "events with id > N".
  id bigint NOT NULL
    CONSTRAINT payment_events_id_unique UNIQUE,
  payment_id text NOT NULL
    CONSTRAINT payment_events_payment_id_fkey REFERENCES payments (payment_id),
  seq integer NOT NULL
    CONSTRAINT payment_events_seq_positive CHECK (seq >= 1),
  type text NOT NULL
    CONSTRAINT payment_events_type_known CHECK (
      type IN ('accepted', 'charged', 'charge_declined', 'vend_requested', 'vend_retrying', 'vended', 'vend_failed')
    ),
  body jsonb NOT NULL DEFAULT '{}'::jsonb
    CONSTRAINT payment_events_body_is_object CHECK (jsonb_typeof(body) = 'object'),
  at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT payment_events_pkey PRIMARY KEY (payment_id, seq)
);

-- Replays of POST /api/payments: the first response for a key, and the hash of the body it answered.
CREATE TABLE idempotency_records (
  -- The Idempotency-Key header (1 to 255 characters) with the scope it is valid in.
  key text PRIMARY KEY
    CONSTRAINT idempotency_records_key_length CHECK (length(key) BETWEEN 1 AND 512),
  request_hash text NOT NULL
    CONSTRAINT idempotency_records_request_hash_present CHECK (length(request_hash) > 0),
  -- Both null while the first request is still being answered.
  response jsonb,
  status_code integer
    CONSTRAINT idempotency_records_status_code_http CHECK (status_code BETWEEN 100 AND 599),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  CONSTRAINT idempotency_records_response_complete CHECK ((response IS NULL) = (status_code IS NULL)),
  CONSTRAINT idempotency_records_expires_after_creation CHECK (expires_at > created_at)
);

-- For the sweep that deletes expired records.
CREATE INDEX idempotency_records_expires_at ON idempotency_records (expires_at);

-- One database role per service, each granted only what the statements it runs need (database/statements.ts,
-- through its part of database/payments-repository.ts), so the internet-facing front-end cannot, say, move a
-- payment's status or record a vend. The migrations keep the master user. The names are SERVICE_ROLES in
-- database/service-roles.ts.
--
-- Roles belong to the cluster, not the database, so one may already exist (another database of the cluster, a
-- re-created database): each is created only when missing, and every grant starts from nothing (REVOKE ALL), so
-- a role ends with exactly the privileges below whatever it held before. They are created NOLOGIN: on AWS the
-- migrations custom resource gives each LOGIN with the password in its own secret; locally the embedded Data
-- API runs each secret's statements as its role.
--
-- Privileges follow PostgreSQL's rules for each statement: UPDATE of the columns SET, SELECT of every column
-- read (WHERE, SET expressions, RETURNING, and excluded.* in ON CONFLICT DO UPDATE), INSERT of the columns
-- listed. Foreign key checks run as the table owner and need nothing here. A new statement, or a new column a
-- statement reads or writes, needs a migration granting it: payments-repository.grants.test.ts fails until then.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'payments_front_end') THEN
    CREATE ROLE payments_front_end NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'payments_charge') THEN
    CREATE ROLE payments_charge NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'payments_notify') THEN
    CREATE ROLE payments_notify NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'payments_meter_vending') THEN
    CREATE ROLE payments_meter_vending NOLOGIN;
  END IF;
END
$$;

REVOKE ALL ON TABLE payments, vends, payment_events, payment_event_log, idempotency_records, schema_migrations
FROM payments_front_end, payments_charge, payments_notify, payments_meter_vending;

GRANT USAGE ON SCHEMA public TO payments_front_end, payments_charge, payments_notify, payments_meter_vending;

-- The front-end (FrontEndPayments): accepts a top-up in one statement (ACCEPT_PAYMENT_SQL: claims the
-- idempotency key, inserts the payment, appends `accepted`), replays a key's record, reads a payment and tails
-- the event log.
GRANT SELECT (key, request_hash, response, status_code, expires_at),
  INSERT (key, request_hash, response, status_code, expires_at),
  UPDATE (request_hash, response, status_code, created_at, expires_at)
ON idempotency_records TO payments_front_end;
GRANT SELECT (payment_id, meter_id, amount_pence, status, status_token_hash, gateway_charge_id, decline_reason,
    charge_error),
  INSERT (payment_id, meter_id, amount_pence, status_token_hash, last_event_seq, appended_events)
ON payments TO payments_front_end;
GRANT SELECT (singleton, last_id), UPDATE (last_id) ON payment_event_log TO payments_front_end;
GRANT SELECT (id, payment_id, seq, type, body, at), INSERT (id, payment_id, seq, type)
ON payment_events TO payments_front_end;

-- The charge task (ChargeRecords): reads the payment and records the charge's outcome on it, nothing else.
GRANT SELECT (payment_id, meter_id, amount_pence, status, status_token_hash, gateway_charge_id, decline_reason,
    charge_error),
  UPDATE (status, gateway_charge_id, decline_reason, charge_error, updated_at)
ON payments TO payments_charge;

-- The notify task (CustomerEvents): appends customer events (APPEND_PAYMENT_EVENT_SQL) and finds one already
-- appended (EVENT_SEQ_SQL).
GRANT SELECT (payment_id, last_event_seq, appended_events), UPDATE (last_event_seq, appended_events)
ON payments TO payments_notify;
GRANT SELECT (singleton, last_id), UPDATE (last_id) ON payment_event_log TO payments_notify;
GRANT SELECT (id, payment_id, seq, type, body, at), INSERT (id, payment_id, seq, type, body)
ON payment_events TO payments_notify;

-- The meter-vending task (VendRecords): records each vend attempt with the status it settles, a vend failed
-- after the retries (reading the payment when it moves nothing), and appends customer events as notify does.
GRANT SELECT (payment_id, outcome), INSERT (payment_id, attempt, transaction_id, outcome, utrn, rejection_code)
ON vends TO payments_meter_vending;
GRANT SELECT (payment_id, meter_id, amount_pence, status, status_token_hash, gateway_charge_id, decline_reason,
    charge_error, last_event_seq, appended_events),
  UPDATE (status, updated_at, last_event_seq, appended_events)
ON payments TO payments_meter_vending;
GRANT SELECT (singleton, last_id), UPDATE (last_id) ON payment_event_log TO payments_meter_vending;
GRANT SELECT (id, payment_id, seq, type, body, at), INSERT (id, payment_id, seq, type, body)
ON payment_events TO payments_meter_vending;

/**
 * The statements that keep payment_events in order. Every writer of events uses APPEND_PAYMENT_EVENT_SQL
 * (or ACCEPT_PAYMENT_SQL for a payment's first); every reader one of the two reads below. Named parameters are the Data API's (`:paymentId`).
 */

/**
 * Appends one event to a payment's log, once, and moves the payment's status with it, in one statement;
 * returns the event, or no row when the payment does not exist or already has this event (the caller tells
 * the two apart with EVENT_SEQ_SQL).
 *
 * - once: the payment row's `appended_events` lists the keys of the events it has (the type; for
 *   `vend_retrying` the type and attempt). The UPDATE adds the key only if it is not there; a concurrent
 *   append of the same event waits for the row lock and then, re-checking the condition on the committed
 *   row, finds the key and appends nothing.
 * - status: an event named like a status (`charged`, `charge_declined`, `vend_requested`, `vended`,
 *   `vend_failed`) sets it; `charge_declined` also records `body.reason` as the decline reason.
 * - seq: the payment's `last_event_seq` is incremented in the same UPDATE, so seqs are 1, 2, 3, ... with no
 *   duplicate and no gap (a rolled-back append takes its increment with it, and a refused duplicate takes none).
 * - id: taken from the single `payment_event_log` counter, whose row lock is held until commit, so events
 *   become visible in id order and a tailer reading `id > N` never skips one that commits later. Appends
 *   across all payments therefore commit one at a time: append in autocommit (or as the last statement of a
 *   short transaction) and the lock is held for well under a millisecond.
 * - The payment row is locked before the counter, so two appends never deadlock on each other.
 *
 * Parameters: paymentId (stringValue), type (stringValue, one of PAYMENT_EVENT_TYPES), body (stringValue,
 * a JSON object; typeHint JSON optional).
 * Columns: id, seq, at.
 *
 * @example
 * await db.execute(APPEND_PAYMENT_EVENT_SQL, { paymentId, type: 'vended', body: { json: { utrn } } });
 * // [[id, seq, '2025-01-02 03:04:05.678']]; the same call again → []
 */
export const APPEND_PAYMENT_EVENT_SQL = `WITH event AS (
  SELECT type, body,
    CASE WHEN type = 'vend_retrying' THEN type || ':' || coalesce(body->>'attempt', '') ELSE type END AS key
  FROM (SELECT CAST(:type AS text) AS type, CAST(:body AS jsonb) AS body) AS given
), payment AS (
  UPDATE payments SET
    last_event_seq = last_event_seq + 1,
    appended_events = appended_events || event.key,
    status = CASE WHEN event.type IN ('charged', 'charge_declined', 'vend_requested', 'vended', 'vend_failed')
      THEN event.type ELSE status END,
    decline_reason = CASE WHEN event.type = 'charge_declined' THEN event.body->>'reason' ELSE decline_reason END,
    updated_at = now()
  FROM event
  WHERE payment_id = :paymentId AND NOT (event.key = ANY (appended_events))
  RETURNING payment_id, last_event_seq
), log_position AS (
  UPDATE payment_event_log SET last_id = last_id + 1
  WHERE singleton AND EXISTS (SELECT 1 FROM payment)
  RETURNING last_id
)
INSERT INTO payment_events (id, payment_id, seq, type, body)
SELECT log_position.last_id, payment.payment_id, payment.last_event_seq, event.type, event.body
FROM payment CROSS JOIN log_position CROSS JOIN event
RETURNING id, seq, at`;

/**
 * The seq of an event a payment already has (what APPEND_PAYMENT_EVENT_SQL found instead of appending), and
 * whether the payment exists at all: one row `[exists, seq]`, seq null when the payment lacks the event.
 * Parameters: paymentId, type, attempt (stringValue; only compared for `vend_retrying`).
 */
export const EVENT_SEQ_SQL = `SELECT
  EXISTS (SELECT 1 FROM payments WHERE payment_id = :paymentId),
  (SELECT seq FROM payment_events
   WHERE payment_id = :paymentId AND type = :type
     AND (type <> 'vend_retrying' OR body->>'attempt' = :attempt))`;

/**
 * Accepts a top-up in one statement: claims the idempotency key with the response to replay, creates the
 * payment and appends its `accepted` event (seq 1). A key whose record has expired is claimed afresh. When
 * the key is taken (by an earlier request, or a concurrent one that commits first: the INSERT waits for it),
 * nothing is written and no row returned; read the record with IDEMPOTENCY_RECORD_SQL to replay it.
 *
 * Parameters: key, requestHash, response (JSON text), ttlHours, paymentId, meterId, amountPence,
 * statusTokenHash. Columns: the event's id.
 */
export const ACCEPT_PAYMENT_SQL = `WITH claimed AS (
  INSERT INTO idempotency_records AS record (key, request_hash, response, status_code, expires_at)
  VALUES (:key, :requestHash, CAST(:response AS jsonb), 202, now() + CAST(:ttlHours AS integer) * interval '1 hour')
  ON CONFLICT (key) DO UPDATE SET
    request_hash = excluded.request_hash,
    response = excluded.response,
    status_code = excluded.status_code,
    created_at = now(),
    expires_at = excluded.expires_at
  WHERE record.expires_at <= now()
  RETURNING key
), payment AS (
  INSERT INTO payments (payment_id, meter_id, amount_pence, status_token_hash, last_event_seq, appended_events)
  SELECT :paymentId, :meterId, :amountPence, :statusTokenHash, 1, ARRAY['accepted'] FROM claimed
  RETURNING payment_id
), log_position AS (
  UPDATE payment_event_log SET last_id = last_id + 1
  WHERE singleton AND EXISTS (SELECT 1 FROM payment)
  RETURNING last_id
)
INSERT INTO payment_events (id, payment_id, seq, type)
SELECT log_position.last_id, payment.payment_id, 1, 'accepted'
FROM payment CROSS JOIN log_position
RETURNING id`;

/** The record a key's first request left: columns request_hash, response (JSON text), status_code. */
export const IDEMPOTENCY_RECORD_SQL = `SELECT request_hash, response::text, status_code
FROM idempotency_records WHERE key = :key AND expires_at > now()`;

/**
 * Every payment's events after a global position, oldest first: what a front-end instance tails.
 * Parameters: afterId (longValue; 0 for all), limit (longValue).
 * Columns: id, payment_id, seq, type, body (JSON text), at.
 */
export const PAYMENT_EVENTS_AFTER_ID_SQL = `SELECT id, payment_id, seq, type, body::text AS body, at
FROM payment_events
WHERE id > :afterId
ORDER BY id
LIMIT :limit`;

/**
 * One payment's events after a seq, in order: what a reconnecting client is sent first.
 * Parameters: paymentId (stringValue), afterSeq (longValue; 0 for all).
 * Columns: id, seq, type, body (JSON text), at.
 */
export const PAYMENT_EVENTS_AFTER_SEQ_SQL = `SELECT id, seq, type, body::text AS body, at
FROM payment_events
WHERE payment_id = :paymentId AND seq > :afterSeq
ORDER BY seq`;

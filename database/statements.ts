/**
 * Every statement the payments code runs, each used through the payments repository (payments-repository.ts).
 * Writers of events use APPEND_PAYMENT_EVENT_SQL (or ACCEPT_PAYMENT_SQL for a payment's first); a payment's
 * status moves only with the fact that moves it (RECORD_CHARGED_SQL, RECORD_VEND_ATTEMPT_SQL, ...). Named
 * parameters are the Data API's (`:paymentId`).
 */

/**
 * Appends one event to a payment's log, once, in one statement (a customer event tells; it moves no status);
 * returns the event, or no row when the payment does not exist or already has this event (the caller tells
 * the two apart with EVENT_SEQ_SQL).
 *
 * - once: the payment row's `appended_events` lists the keys of the events it has (the type; for
 *   `vend_retrying` the type and attempt). The UPDATE adds the key only if it is not there; a concurrent
 *   append of the same event waits for the row lock and then, re-checking the condition on the committed
 *   row, finds the key and appends nothing.
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
 */
export const APPEND_PAYMENT_EVENT_SQL = `WITH event AS (
  SELECT type, body,
    CASE WHEN type = 'vend_retrying' THEN type || ':' || coalesce(body->>'attempt', '') ELSE type END AS key
  FROM (SELECT CAST(:type AS text) AS type, CAST(:body AS jsonb) AS body) AS given
), payment AS (
  UPDATE payments SET
    last_event_seq = last_event_seq + 1,
    appended_events = appended_events || event.key
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
 * whether the payment exists at all: one row `{ exists, seq }`, seq null when the payment lacks the event.
 * Parameters: paymentId, type, attempt (stringValue; only compared for `vend_retrying`).
 */
export const EVENT_SEQ_SQL = `SELECT
  EXISTS (SELECT 1 FROM payments WHERE payment_id = :paymentId) AS exists,
  (SELECT seq FROM payment_events
   WHERE payment_id = :paymentId AND type = :type
     AND (type <> 'vend_retrying' OR body->>'attempt' = :attempt)) AS seq`;

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
export const IDEMPOTENCY_RECORD_SQL = `SELECT request_hash, response::text AS response, status_code
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

/** The last global event position handed out (0 before the first). Columns: last_id. */
export const LAST_EVENT_ID_SQL = `SELECT last_id FROM payment_event_log WHERE singleton`;

/** One payment. Parameters: paymentId. Columns: those of PaymentRowSchema (payments-repository.ts). */
export const FIND_PAYMENT_SQL = `SELECT payment_id, meter_id, amount_pence, status, status_token_hash,
  gateway_charge_id, decline_reason, charge_error, refund_id
FROM payments WHERE payment_id = :paymentId`;

/**
 * The charge task learned the gateway took the money: records the charge and moves the status to `charged`
 * (from `accepted`, or from `charge_unconfirmed` once reconciled; a later status stays). The same charge id
 * again changes nothing; no row when the payment is missing, declined, or holds another charge.
 * Parameters: paymentId, chargeId. Columns: status.
 */
export const RECORD_CHARGED_SQL = `UPDATE payments SET
  gateway_charge_id = :chargeId,
  status = CASE WHEN status IN ('accepted', 'charge_unconfirmed') THEN 'charged' ELSE status END,
  updated_at = now()
WHERE payment_id = :paymentId
  AND status <> 'charge_declined'
  AND (gateway_charge_id IS NULL OR gateway_charge_id = :chargeId)
RETURNING status`;

/**
 * The charge task learned the card was declined, or the gateway refused the request (no money taken): records
 * the reason with the status. No row when the payment is missing or was charged.
 * Parameters: paymentId, reason. Columns: status.
 */
export const RECORD_CHARGE_DECLINED_SQL = `UPDATE payments SET
  status = 'charge_declined', decline_reason = :reason, updated_at = now()
WHERE payment_id = :paymentId
  AND status IN ('accepted', 'charge_unconfirmed', 'charge_declined')
  AND gateway_charge_id IS NULL
RETURNING status`;

/**
 * The charge's outcome is unknown after the retries: records `charge_unconfirmed` with the error, unless the
 * payment already records an outcome (a charge or decline recorded before the task crashed), and returns the
 * charge as the payment now holds it. No row when the payment is missing.
 * Parameters: paymentId, chargeError. Columns: status, gateway_charge_id, decline_reason.
 */
export const RECORD_CHARGE_UNCONFIRMED_SQL = `WITH marked AS (
  UPDATE payments SET status = 'charge_unconfirmed', charge_error = :chargeError, updated_at = now()
  WHERE payment_id = :paymentId AND status IN ('accepted', 'charge_unconfirmed')
  RETURNING status, gateway_charge_id, decline_reason
)
SELECT status, gateway_charge_id, decline_reason FROM marked
UNION ALL
SELECT status, gateway_charge_id, decline_reason FROM payments
WHERE payment_id = :paymentId AND NOT EXISTS (SELECT 1 FROM marked)`;

/**
 * One vend attempt, with the status it settles, in one statement: a `vended` attempt moves the payment to
 * `vended`; a failed one moves it to `vend_failed` when `endsVend` (a rejection, or the last attempt). A
 * repeat of the same attempt (a redelivered message) records nothing and moves nothing: the first did both.
 * Only a charged payment (or one whose vend failed, for a later vend) moves.
 * Parameters: paymentId, attempt, transactionId, outcome, utrn, rejectionCode, endsVend (boolean).
 * Columns: recorded (0 or 1), status (the status it moved to, or null).
 */
export const RECORD_VEND_ATTEMPT_SQL = `WITH attempt AS (
  INSERT INTO vends (payment_id, attempt, transaction_id, outcome, utrn, rejection_code)
  VALUES (:paymentId, :attempt, :transactionId, :outcome, :utrn, :rejectionCode)
  ON CONFLICT DO NOTHING
  RETURNING payment_id, outcome
), payment AS (
  UPDATE payments SET
    status = CASE WHEN attempt.outcome = 'vended' THEN 'vended' ELSE 'vend_failed' END,
    updated_at = now()
  FROM attempt
  WHERE payments.payment_id = attempt.payment_id
    AND (attempt.outcome = 'vended' OR CAST(:endsVend AS boolean))
    AND payments.status IN ('charged', 'vend_failed')
  RETURNING payments.status
)
SELECT (SELECT count(*) FROM attempt) AS recorded, (SELECT status FROM payment) AS status`;

/**
 * The vend failed after the retries (learned by the state machine: the attempts ran out of time): moves a
 * charged payment to `vend_failed`. No row when the payment is not `charged` (already failed, or missing).
 * Parameters: paymentId. Columns: status.
 */
export const RECORD_VEND_FAILED_SQL = `UPDATE payments SET status = 'vend_failed', updated_at = now()
WHERE payment_id = :paymentId AND status = 'charged'
RETURNING status`;

/**
 * The execution waits for an operator's decision on a payment whose vend failed or whose charge is unconfirmed:
 * opens the payment's follow-up with the waiting step's token and a deadline, in one statement. A follow-up
 * that was closed (a re-vend that failed again) opens afresh; one still open gets the new token, and counts an
 * escalation when its deadline had passed (the machine pages on-call again and waits anew). The same token
 * again (a retried step) changes nothing. No row when the payment is not open for a decision.
 * Parameters: paymentId, taskToken, executionArn, deadlineSeconds (longValue).
 * Columns: reason, escalations, deadline_at.
 */
export const OPEN_FOLLOW_UP_SQL = `INSERT INTO follow_ups AS follow_up
  (payment_id, reason, task_token, execution_arn, opened_at, deadline_at, escalations, closed_at)
SELECT payment_id, status, :taskToken, :executionArn, now(),
  now() + CAST(:deadlineSeconds AS integer) * interval '1 second', 0, NULL
FROM payments WHERE payment_id = :paymentId AND status IN ('vend_failed', 'charge_unconfirmed')
ON CONFLICT (payment_id) DO UPDATE SET
  reason = excluded.reason,
  task_token = excluded.task_token,
  execution_arn = excluded.execution_arn,
  opened_at = CASE WHEN follow_up.closed_at IS NULL THEN follow_up.opened_at ELSE excluded.opened_at END,
  deadline_at = CASE WHEN follow_up.task_token = excluded.task_token THEN follow_up.deadline_at
    ELSE excluded.deadline_at END,
  escalations = CASE
    WHEN follow_up.closed_at IS NOT NULL THEN 0
    WHEN follow_up.task_token <> excluded.task_token AND follow_up.deadline_at <= now()
      THEN follow_up.escalations + 1
    ELSE follow_up.escalations END,
  closed_at = NULL
RETURNING reason, escalations, deadline_at`;

/**
 * An operator's decision reached the execution: records it in the audit trail and closes the payment's
 * follow-up, in one statement. The same decision again (a retried step) records nothing. Counts the payment's
 * re-vend decisions, this one included (the statement's own insert is not yet visible to its SELECTs, so it
 * is added in). Once a refund was decided for the payment, anything but a refund is not recorded (refund_decided:
 * see decisionsOpenTo in workflow/contracts.ts). Parameters: decisionId, paymentId, action, operator, reason, utrn (null unless record_utrn),
 * decidedAt. Columns: recorded (0 or 1), closed (0 or 1), refund_decided, revends.
 */
export const RECORD_DECISION_SQL = `WITH refund_decided AS (
  SELECT EXISTS (
    SELECT 1 FROM decisions WHERE payment_id = :paymentId AND action = 'refund' AND decision_id <> :decisionId
  ) AS found
), decision AS (
  INSERT INTO decisions (decision_id, payment_id, action, operator, reason, utrn, decided_at)
  SELECT :decisionId, :paymentId, :action, :operator, :reason, :utrn, CAST(:decidedAt AS timestamptz)
  WHERE CAST(:action AS text) = 'refund' OR NOT (SELECT found FROM refund_decided)
  ON CONFLICT (decision_id) DO NOTHING
  RETURNING payment_id
), closed AS (
  UPDATE follow_ups SET task_token = NULL, closed_at = now()
  FROM decision
  WHERE follow_ups.payment_id = decision.payment_id AND follow_ups.closed_at IS NULL
  RETURNING follow_ups.payment_id
)
SELECT (SELECT count(*) FROM decision) AS recorded, (SELECT count(*) FROM closed) AS closed,
  (SELECT found FROM refund_decided) AS refund_decided,
  (SELECT count(*) FROM decisions WHERE payment_id = :paymentId AND action = 'revend')
    + (SELECT count(*) FROM decision WHERE CAST(:action AS text) = 'revend') AS revends`;

/**
 * The charge task refunded a payment whose vend failed (an operator's decision): records the gateway's refund
 * id with the status `refunded`. The same refund again changes nothing; no row when the payment is missing, not
 * vend_failed, or holds another refund.
 * Parameters: paymentId, refundId. Columns: status.
 */
export const RECORD_REFUNDED_SQL = `UPDATE payments SET status = 'refunded', refund_id = :refundId, updated_at = now()
WHERE payment_id = :paymentId
  AND (status = 'vend_failed' OR (status = 'refunded' AND refund_id = :refundId))
RETURNING status`;

/**
 * A vend the system learned of after the fact, recorded as the payment's vend (the next attempt number, under
 * the payment's transaction id) with the status `vended`, in one statement:
 * - by hand (`byHand` true): a UTRN the vendor gave an operator out of band, for a payment whose vend failed;
 * - found at the vendor (`byHand` false): a vend the vendor made whose answer never reached us (a connection
 *   dropped, a crash), for a payment charged or vend_failed.
 * No row recorded when the payment is in no such status (read VENDED_UTRN_SQL to tell a repeat from a
 * conflict). Parameters: paymentId, transactionId, utrn, byHand. Columns: recorded (0 or 1).
 */
export const RECORD_VEND_AFTER_THE_FACT_SQL = `WITH attempt AS (
  INSERT INTO vends (payment_id, attempt, transaction_id, outcome, utrn, recorded_by_hand)
  SELECT payment_id,
    coalesce((SELECT max(attempt) FROM vends WHERE payment_id = :paymentId), 0) + 1,
    :transactionId, 'vended', :utrn, CAST(:byHand AS boolean)
  FROM payments WHERE payment_id = :paymentId
    AND (status = 'vend_failed' OR (status = 'charged' AND NOT CAST(:byHand AS boolean)))
  RETURNING payment_id
), payment AS (
  UPDATE payments SET status = 'vended', updated_at = now()
  FROM attempt WHERE payments.payment_id = attempt.payment_id
  RETURNING payments.status
)
SELECT (SELECT count(*) FROM payment) AS recorded`;

/** A payment's status and the UTRN it was vended with, if any. Parameters: paymentId. Columns: status, utrn. */
export const VENDED_UTRN_SQL = `SELECT status,
  (SELECT utrn FROM vends WHERE payment_id = :paymentId AND outcome = 'vended') AS utrn
FROM payments WHERE payment_id = :paymentId`;

/**
 * The statements that keep payment_events in order. Every writer of events uses APPEND_PAYMENT_EVENT_SQL;
 * every reader one of the two reads below. Named parameters are the Data API's (`:paymentId`).
 */

/**
 * Appends one event to a payment's log and returns it; no row when the payment does not exist.
 *
 * - seq: the payment's `last_event_seq` is incremented in the same statement. Its row lock makes a second
 *   writer for the same payment wait until the first commits, then count on from the committed value, so
 *   seqs are 1, 2, 3, ... with no duplicate, and no gap (a rolled-back append takes its increment with it).
 * - id: taken from the single `payment_event_log` counter, whose row lock is held until commit, so events
 *   become visible in id order and a tailer reading `id > N` never skips one that commits later. The cost
 *   is that appends across all payments commit one at a time: append in short transactions (autocommit,
 *   or as the last statement of a transaction) and the lock is held for milliseconds.
 * - The payment row is locked before the counter (the counter's update waits on the payment's), so two
 *   appends never deadlock on each other.
 *
 * Parameters: paymentId (stringValue), type (stringValue, one of PAYMENT_EVENT_TYPES), body (stringValue,
 * a JSON object; typeHint JSON optional).
 *
 * @example
 * await rds.send(new ExecuteStatementCommand({ ...target, sql: APPEND_PAYMENT_EVENT_SQL, parameters: [
 *   { name: 'paymentId', value: { stringValue: paymentId } },
 *   { name: 'type', value: { stringValue: 'vended' } },
 *   { name: 'body', value: { stringValue: JSON.stringify({ utrn }) }, typeHint: 'JSON' },
 * ] }));
 * // records: [[{ longValue: id }, { longValue: seq }, { stringValue: '2025-01-02 03:04:05.678' }]]
 */
export const APPEND_PAYMENT_EVENT_SQL = `WITH payment AS (
  UPDATE payments SET last_event_seq = last_event_seq + 1
  WHERE payment_id = :paymentId
  RETURNING payment_id, last_event_seq
), log_position AS (
  UPDATE payment_event_log SET last_id = last_id + 1
  WHERE singleton AND EXISTS (SELECT 1 FROM payment)
  RETURNING last_id
)
INSERT INTO payment_events (id, payment_id, seq, type, body)
SELECT log_position.last_id, payment.payment_id, payment.last_event_seq, :type, CAST(:body AS jsonb)
FROM payment CROSS JOIN log_position
RETURNING id, seq, at`;

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

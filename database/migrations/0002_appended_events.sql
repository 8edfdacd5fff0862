-- Each payment row lists the events already appended to its log, so one statement can append an event at most
-- once: the append's UPDATE of the payment row checks the list, and when it waits for a concurrent append's row
-- lock, PostgreSQL re-checks that condition on the row as the other append committed it. (A NOT EXISTS over
-- payment_events in the same statement would read the statement's older snapshot and let a duplicate in.)
-- An event's key is its type; a retry announcement's is `vend_retrying:<attempt>`.

ALTER TABLE payments ADD COLUMN appended_events text[] NOT NULL DEFAULT '{}';

UPDATE payments SET appended_events = ARRAY(
  SELECT CASE WHEN e.type = 'vend_retrying' THEN e.type || ':' || coalesce(e.body->>'attempt', '') ELSE e.type END
  FROM payment_events e
  WHERE e.payment_id = payments.payment_id
  ORDER BY e.seq
);

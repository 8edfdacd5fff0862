-- Idempotency records keep the client's Idempotency-Key hashed (SHA-256, hex, of `<scope>:<key>`), as
-- payments-repository.ts now looks them up: the key is the client's, and it opens the status token the record
-- keeps sealed for replays. Records written before this keep their response as it was; they expire within a day.

UPDATE idempotency_records SET key = encode(sha256(convert_to(key, 'UTF8')), 'hex');

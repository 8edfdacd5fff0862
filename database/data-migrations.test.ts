/**
 * Migrations that carry data over, each run on a database written before it:
 * - 0003: a charge that could not be confirmed, stored as a decline with reason `charge_not_confirmed`,
 *   becomes `charge_unconfirmed` (status and customer event); the `vend_requested` status, which no fact sets
 *   any more, becomes `charged`;
 * - 0004: idempotency records are found by their hashed key, and one written before still replays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataApi } from './data-api.ts';
import { loadMigrations, migrate } from './migrate.ts';
import { DataApiPaymentsRepository } from './payments-repository.ts';
import { type DataApiForTests, startDataApi } from './testing/data-api.ts';

let db: DataApiForTests;

beforeAll(async () => {
  db = await startDataApi();
}, 60_000);

afterAll(async () => {
  await db?.close();
});

const rowsOf = async (sql: string) =>
  ((await db.sql(sql)).records ?? []).map((record) => record.map((field) => field.stringValue ?? null));

describe('the data migrations', () => {
  it('carries payments written by the earlier schema over to the three charge outcomes', async () => {
    // Prepare: the schema before 0003, and what the old code wrote
    const shipped = await loadMigrations();
    await migrate({ client: db.client, ...db.target, migrations: shipped.filter((m) => m.version < 3) });
    const first = {
      paymentId: 'pay_first',
      statusToken: 'token-first',
      eventsUrl: '/api/payments/pay_first/events?token=token-first',
    };
    await db.sql(
      `INSERT INTO idempotency_records (key, request_hash, response, status_code, expires_at)
      VALUES ('POST /api/payments:key-before', 'hash-before', CAST(:response AS jsonb), 202, now() + interval '1 hour')`,
      {
        response: JSON.stringify(first),
      },
    );
    const insert = `INSERT INTO payments (payment_id, meter_id, amount_pence, status, decline_reason, gateway_charge_id, status_token_hash, last_event_seq, appended_events)
      VALUES (:paymentId, '1200000000011', 2000, :status, :declineReason, :chargeId, 'hash', 2, ARRAY['accepted', :event])`;
    await db.sql(insert, {
      paymentId: 'pay_unconfirmed',
      status: 'charge_declined',
      declineReason: 'charge_not_confirmed',
      chargeId: null,
      event: 'charge_declined',
    });
    await db.sql(insert, {
      paymentId: 'pay_declined',
      status: 'charge_declined',
      declineReason: 'insufficient_funds',
      chargeId: null,
      event: 'charge_declined',
    });
    await db.sql(insert, {
      paymentId: 'pay_vending',
      status: 'vend_requested',
      declineReason: null,
      chargeId: 'ch_1',
      event: 'vend_requested',
    });
    await db.sql(`UPDATE payment_event_log SET last_id = 2`);
    await db.sql(`INSERT INTO payment_events (id, payment_id, seq, type, body)
      VALUES (1, 'pay_unconfirmed', 2, 'charge_declined', '{"reason": "charge_not_confirmed"}'),
             (2, 'pay_declined', 2, 'charge_declined', '{"reason": "insufficient_funds"}')`);

    // Act
    const { applied } = await migrate({ client: db.client, ...db.target });

    // Assess
    expect(applied).toEqual([
      '0003_charge_outcomes',
      '0004_idempotency_keys_hashed',
      '0005_service_roles',
      '0006_follow_ups',
      '0007_reconciliation',
    ]);
    expect(
      await rowsOf(
        "SELECT payment_id, status, decline_reason, charge_error, array_to_string(appended_events, ',') FROM payments ORDER BY payment_id",
      ),
    ).toEqual([
      ['pay_declined', 'charge_declined', 'insufficient_funds', null, 'accepted,charge_declined'],
      ['pay_unconfirmed', 'charge_unconfirmed', null, 'unknown', 'accepted,charge_unconfirmed'],
      ['pay_vending', 'charged', null, null, 'accepted,vend_requested'],
    ]);
    expect(await rowsOf('SELECT payment_id, type, body::text FROM payment_events ORDER BY id')).toEqual([
      ['pay_unconfirmed', 'charge_unconfirmed', '{}'],
      ['pay_declined', 'charge_declined', '{"reason": "insufficient_funds"}'],
    ]);
    const replay = await new DataApiPaymentsRepository(new DataApi(db.client, db.target)).acceptPayment({
      idempotencyKey: 'key-before',
      requestHash: 'hash-before',
      payment: { paymentId: 'pay_again', meterId: '1200000000011', amountPence: 2000, statusTokenHash: 'h' },
      response: { paymentId: 'pay_again' },
    });
    expect(replay).toEqual({ kind: 'replay', statusCode: 202, response: first });
    expect(await rowsOf('SELECT key FROM idempotency_records')).toEqual([
      [expect.stringMatching(/^[0-9a-f]{64}$/)],
    ]);
  });
});

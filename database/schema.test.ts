/**
 * The schema the migrations build, as the payment code meets it through the Data API: what it
 * refuses (bad UTRNs, out-of-range amounts, a second successful vend, a duplicate event seq, ...) and the
 * event log's ordering, which front-end instances rely on to push every event exactly once.
 */
import {
  BeginTransactionCommand,
  CommitTransactionCommand,
  RollbackTransactionCommand,
} from '@aws-sdk/client-rds-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from './migrate.ts';
import { PAYMENT_EVENT_TYPES, PAYMENT_STATUSES, TOP_UP_LIMITS_PENCE, VEND_OUTCOMES } from './schema.ts';
import {
  APPEND_PAYMENT_EVENT_SQL,
  PAYMENT_EVENTS_AFTER_ID_SQL,
  PAYMENT_EVENTS_AFTER_SEQ_SQL,
} from './statements.ts';
import { type DataApiForTests, startDataApi } from './testing/data-api.ts';

type Row = Record<string, string | number | null>;

let db: DataApiForTests;
let payments = 0;
let utrns = 0;

beforeAll(async () => {
  db = await startDataApi();
  await migrate({ client: db.client, ...db.target });
});

afterAll(async () => {
  await db?.close();
});

const UTRN = '12345678901234567890';

async function insertPayment(overrides: Row = {}): Promise<string> {
  payments += 1;
  const row: Row = {
    paymentId: `pay_${payments}`,
    meterId: '2000012345678',
    amountPence: 2000,
    status: 'accepted',
    declineReason: null,
    // Charged at the gateway already, so any event may be appended to it.
    gatewayChargeId: `ch_pay_${payments}`,
    statusTokenHash: 'f'.repeat(64),
    chargeError: null,
    refundId: null,
    ...overrides,
  };
  await db.sql(
    `INSERT INTO payments (payment_id, meter_id, amount_pence, status, decline_reason, gateway_charge_id, status_token_hash, charge_error, refund_id)
     VALUES (:paymentId, :meterId, :amountPence, :status, :declineReason, :gatewayChargeId, :statusTokenHash, :chargeError, :refundId)`,
    row,
  );
  return row.paymentId as string;
}

async function insertVend(paymentId: string, overrides: Row = {}): Promise<void> {
  await db.sql(
    `INSERT INTO vends (payment_id, attempt, transaction_id, outcome, utrn, rejection_code)
     VALUES (:paymentId, :attempt, :transactionId, :outcome, :utrn, :rejectionCode)`,
    {
      paymentId,
      attempt: 1,
      transactionId: paymentId,
      outcome: 'vended',
      utrn: nextUtrn(),
      rejectionCode: null,
      ...overrides,
    },
  );
}

/** A UTRN no other vend in this file has. */
function nextUtrn(): string {
  utrns += 1;
  return String(utrns).padStart(20, '7');
}

async function appendEvent(
  paymentId: string,
  type: string,
  body: object = {},
  transactionId?: string,
): Promise<{ id: number; seq: number } | undefined> {
  const result = await db.sql(
    APPEND_PAYMENT_EVENT_SQL,
    { paymentId, type, body: JSON.stringify(body) },
    transactionId,
  );
  const record = result.records?.[0];
  return record === undefined ? undefined : { id: record[0]?.longValue ?? 0, seq: record[1]?.longValue ?? 0 };
}

async function insertIdempotencyRecord(overrides: Row = {}): Promise<void> {
  await db.sql(
    `INSERT INTO idempotency_records (key, request_hash, response, status_code, expires_at)
     VALUES (:key, :requestHash, CAST(:response AS jsonb), :statusCode, now() + CAST(:ttl AS interval))`,
    {
      key: `payments:${payments}-${Math.random()}`,
      requestHash: 'e'.repeat(64),
      response: '{"paymentId":"pay_1"}',
      statusCode: 202,
      ttl: '24 hours',
      ...overrides,
    },
  );
}

/** The Data API error a statement fails with (fails the test if it succeeds). */
async function refusal(statement: () => Promise<unknown>): Promise<{ name: string; message: string }> {
  const error = await statement().then(
    () => undefined,
    (failure: unknown) => failure as Error,
  );
  if (error === undefined) throw new Error('the statement was accepted');
  return { name: error.name, message: error.message };
}

describe('the schema accepts what the payment flow writes', () => {
  it('records a payment from acceptance to vend, with its vend attempts, events and idempotency record', async () => {
    // Prepare
    const paymentId = await insertPayment({ amountPence: TOP_UP_LIMITS_PENCE.min });

    // Act
    await db.sql(
      `UPDATE payments SET status = 'charged', gateway_charge_id = :charge, updated_at = now() WHERE payment_id = :paymentId`,
      { paymentId, charge: `ch_${paymentId}` },
    );
    await insertVend(paymentId, { attempt: 1, outcome: 'vendor_unavailable', utrn: null });
    await insertVend(paymentId, { attempt: 2, outcome: 'vended' });
    await db.sql(`UPDATE payments SET status = 'vended' WHERE payment_id = :paymentId`, { paymentId });
    for (const type of ['accepted', 'charged', 'vend_requested', 'vend_retrying', 'vended']) {
      await appendEvent(paymentId, type, type === 'vended' ? { utrn: UTRN } : {});
    }
    await insertIdempotencyRecord();

    // Assess
    const events = await db.sql(PAYMENT_EVENTS_AFTER_SEQ_SQL, { paymentId, afterSeq: 0 });
    expect(events.records?.map((record) => [record[1]?.longValue, record[2]?.stringValue])).toEqual([
      [1, 'accepted'],
      [2, 'charged'],
      [3, 'vend_requested'],
      [4, 'vend_retrying'],
      [5, 'vended'],
    ]);
    expect(JSON.parse(events.records?.[4]?.[3]?.stringValue ?? 'null')).toEqual({ utrn: UTRN });
  });

  it.each(PAYMENT_STATUSES)('accepts payment status %s', async (status) => {
    // Act
    const paymentId = await insertPayment({
      status,
      gatewayChargeId: ['accepted', 'charge_declined', 'charge_unconfirmed'].includes(status)
        ? null
        : `ch_status_${status}`,
      declineReason: status === 'charge_declined' ? 'insufficient_funds' : null,
      chargeError: status === 'charge_unconfirmed' ? 'PaymentGatewayUnavailable' : null,
      refundId: status === 'refunded' ? `re_status_${status}` : null,
    });

    // Assess
    const row = await db.sql('SELECT status FROM payments WHERE payment_id = :paymentId', { paymentId });
    expect(row.records).toEqual([[{ stringValue: status }]]);
  });

  it.each(PAYMENT_EVENT_TYPES)('accepts event type %s', async (type) => {
    // Prepare
    const paymentId = await insertPayment();

    // Act
    const appended = await appendEvent(
      paymentId,
      type,
      type === 'charge_declined' ? { reason: 'generic_decline' } : {},
    );

    // Assess
    expect(appended?.seq).toBe(1);
  });

  it.each(VEND_OUTCOMES)('accepts vend outcome %s', async (outcome) => {
    // Prepare
    const paymentId = await insertPayment();

    // Act
    await insertVend(paymentId, {
      outcome,
      utrn: outcome === 'vendor_unavailable' ? null : nextUtrn(),
      rejectionCode: outcome === 'rejected' ? 'not_for_this_device' : null,
    });

    // Assess
    const row = await db.sql('SELECT outcome FROM vends WHERE payment_id = :paymentId', { paymentId });
    expect(row.records).toEqual([[{ stringValue: outcome }]]);
  });

  it('accepts the top-up limits themselves', async () => {
    // Act
    const smallest = await insertPayment({ amountPence: TOP_UP_LIMITS_PENCE.min });
    const largest = await insertPayment({ amountPence: TOP_UP_LIMITS_PENCE.max });

    // Assess
    const rows = await db.sql(
      'SELECT amount_pence FROM payments WHERE payment_id IN (:smallest, :largest) ORDER BY amount_pence',
      { smallest, largest },
    );
    expect(rows.records).toEqual([[{ longValue: 1000 }], [{ longValue: 17500 }]]);
  });
});

describe('the schema refuses bad data', () => {
  it.each<{ what: string; constraint: string; write: () => Promise<unknown> }>([
    {
      what: 'a negative amount',
      constraint: 'payments_amount_pence_within_top_up_limits',
      write: () => insertPayment({ amountPence: -500 }),
    },
    {
      what: 'an amount below the top-up minimum',
      constraint: 'payments_amount_pence_within_top_up_limits',
      write: () => insertPayment({ amountPence: TOP_UP_LIMITS_PENCE.min - 1 }),
    },
    {
      what: 'an amount above the top-up maximum',
      constraint: 'payments_amount_pence_within_top_up_limits',
      write: () => insertPayment({ amountPence: TOP_UP_LIMITS_PENCE.max + 1 }),
    },
    {
      what: 'a meter id that is not an MPAN or MPRN',
      constraint: 'payments_meter_id_format',
      write: () => insertPayment({ meterId: 'M-1' }),
    },
    {
      what: 'a payment id no Step Functions execution could be named',
      constraint: 'payments_payment_id_format',
      write: () => insertPayment({ paymentId: 'pay ment/1' }),
    },
    {
      what: 'an unknown status',
      constraint: 'payments_status_known',
      write: () => insertPayment({ status: 'disputed', gatewayChargeId: 'ch_disputed' }),
    },
    {
      what: 'a declined payment without a reason',
      constraint: 'payments_decline_reason_iff_declined',
      write: () => insertPayment({ status: 'charge_declined' }),
    },
    {
      what: 'a decline reason on a payment that was not declined',
      constraint: 'payments_decline_reason_iff_declined',
      write: () => insertPayment({ declineReason: 'generic_decline' }),
    },
    {
      what: 'a charged payment without its gateway charge id',
      constraint: 'payments_charged_has_gateway_charge_id',
      write: () => insertPayment({ status: 'charged', gatewayChargeId: null }),
    },
    {
      what: 'two payments with the same gateway charge id',
      constraint: 'payments_gateway_charge_id_unique',
      write: async () => {
        await insertPayment({ status: 'charged', gatewayChargeId: 'ch_twice' });
        await insertPayment({ status: 'charged', gatewayChargeId: 'ch_twice' });
      },
    },
    {
      what: 'a UTRN of 19 digits',
      constraint: 'vends_utrn_20_digits',
      write: async () => insertVend(await insertPayment(), { utrn: '1234567890123456789' }),
    },
    {
      what: 'a UTRN with letters',
      constraint: 'vends_utrn_20_digits',
      write: async () => insertVend(await insertPayment(), { utrn: '1234567890ABCDEFGHIJ' }),
    },
    {
      what: 'a successful vend without a UTRN',
      constraint: 'vends_vended_has_utrn',
      write: async () => insertVend(await insertPayment(), { utrn: null }),
    },
    {
      what: 'a rejected vend without a rejection code',
      constraint: 'vends_rejection_code_iff_rejected',
      write: async () => insertVend(await insertPayment(), { outcome: 'rejected' }),
    },
    {
      what: 'a second successful vend for the same payment (another attempt)',
      constraint: 'vends_one_success_per_payment',
      write: async () => {
        const paymentId = await insertPayment();
        await insertVend(paymentId, { attempt: 1, utrn: '11111111111111111111' });
        await insertVend(paymentId, { attempt: 2, utrn: '22222222222222222222' });
      },
    },
    {
      what: 'the same vend attempt recorded twice (a duplicate SQS delivery)',
      constraint: 'vends_pkey',
      write: async () => {
        const paymentId = await insertPayment();
        await insertVend(paymentId, { outcome: 'vendor_unavailable', utrn: null });
        await insertVend(paymentId, { outcome: 'vendor_unavailable', utrn: null });
      },
    },
    {
      what: 'one UTRN credited for two payments',
      constraint: 'vends_utrn_unique',
      write: async () => {
        await insertVend(await insertPayment(), { utrn: '33333333333333333333' });
        await insertVend(await insertPayment(), { utrn: '33333333333333333333' });
      },
    },
    {
      what: 'a vend for a payment that does not exist',
      constraint: 'vends_payment_id_fkey',
      write: () => insertVend('pay_nobody'),
    },
    {
      what: 'an event with a seq the payment already has',
      constraint: 'payment_events_pkey',
      write: async () => {
        const paymentId = await insertPayment();
        await appendEvent(paymentId, 'accepted');
        await db.sql(
          `INSERT INTO payment_events (id, payment_id, seq, type) VALUES (-1, :paymentId, 1, 'charged')`,
          { paymentId },
        );
      },
    },
    {
      what: 'an event type the WebSocket contract does not have',
      constraint: 'payment_events_type_known',
      write: async () => appendEvent(await insertPayment(), 'disputed'),
    },
    {
      what: 'an event body that is not a JSON object',
      constraint: 'payment_events_body_is_object',
      write: async () => appendEvent(await insertPayment(), 'accepted', ['not', 'an', 'object']),
    },
    {
      what: 'an idempotency record with a response but no status code',
      constraint: 'idempotency_records_response_complete',
      write: () => insertIdempotencyRecord({ statusCode: null }),
    },
    {
      what: 'an idempotency record that expires before it was made',
      constraint: 'idempotency_records_expires_after_creation',
      write: () => insertIdempotencyRecord({ ttl: '-1 second' }),
    },
    {
      what: 'two idempotency records for one key',
      constraint: 'idempotency_records_pkey',
      write: async () => {
        await insertIdempotencyRecord({ key: 'payments:key-1' });
        await insertIdempotencyRecord({ key: 'payments:key-1' });
      },
    },
  ])('refuses $what ($constraint)', async ({ constraint, write }) => {
    // Act
    const error = await refusal(write);

    // Assess
    expect(error.name).toBe('DatabaseErrorException');
    expect(error.message).toContain(`"${constraint}"`);
  });
});

describe('the payment event log', () => {
  it('gives each payment gapless seqs and every event a unique, gapless id under concurrent appends', async () => {
    // Prepare
    const paymentIds = [await insertPayment(), await insertPayment(), await insertPayment()];
    const { records: [[last] = []] = [] } = await db.sql('SELECT last_id FROM payment_event_log');
    const startId = last?.longValue ?? 0;
    const appendInTransaction = async (paymentId: string, index: number) => {
      const { transactionId } = await db.client.send(new BeginTransactionCommand(db.target));
      const appended = await appendEvent(paymentId, 'vend_retrying', { attempt: index }, transactionId);
      await db.client.send(new CommitTransactionCommand({ ...db.target, transactionId }));
      return appended;
    };

    // Act: 30 at once, under the SDK's 50 sockets (see the README on the embedded Data API's one connection).
    const appended = await Promise.all(
      Array.from({ length: 30 }, (_, index) => {
        const paymentId = paymentIds[index % 3] as string;
        return index % 4 === 0
          ? appendInTransaction(paymentId, index)
          : appendEvent(paymentId, 'vend_retrying', { attempt: index });
      }),
    );

    // Assess
    for (const paymentId of paymentIds) {
      const events = await db.sql(PAYMENT_EVENTS_AFTER_SEQ_SQL, { paymentId, afterSeq: 0 });
      expect(events.records?.map((record) => record[1]?.longValue)).toEqual(
        Array.from({ length: 10 }, (_, index) => index + 1),
      );
    }
    expect(appended.map((event) => event?.id).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
      Array.from({ length: 30 }, (_, index) => startId + index + 1),
    );
  });

  it('lets a tailer read everything after its last id, in id order, across payments', async () => {
    // Prepare
    const first = await insertPayment();
    const second = await insertPayment();
    const start = (await appendEvent(first, 'accepted'))?.id ?? 0;
    await appendEvent(second, 'accepted');
    await appendEvent(first, 'charged');
    await appendEvent(second, 'charge_declined', { reason: 'insufficient_funds' });

    // Act
    const tail = await db.sql(PAYMENT_EVENTS_AFTER_ID_SQL, { afterId: start, limit: 100 });

    // Assess
    expect(
      tail.records?.map((record) => [record[1]?.stringValue, record[2]?.longValue, record[3]?.stringValue]),
    ).toEqual([
      [second, 1, 'accepted'],
      [first, 2, 'charged'],
      [second, 2, 'charge_declined'],
    ]);
    expect(tail.records?.map((record) => record[0]?.longValue)).toEqual([start + 1, start + 2, start + 3]);
  });

  it('leaves no gap when an append is rolled back', async () => {
    // Prepare
    const paymentId = await insertPayment();
    await appendEvent(paymentId, 'accepted');
    const { transactionId } = await db.client.send(new BeginTransactionCommand(db.target));
    const undone = await appendEvent(paymentId, 'charged', {}, transactionId);
    await db.client.send(new RollbackTransactionCommand({ ...db.target, transactionId }));

    // Act
    const kept = await appendEvent(paymentId, 'charge_declined', { reason: 'generic_decline' });

    // Assess
    expect(undone?.seq).toBe(2);
    expect(kept?.seq).toBe(2);
    expect(kept?.id).toBe(undone?.id);
  });

  it('appends an event once, however often it is sent, and moves no status (only facts do)', async () => {
    // Prepare
    const paymentId = await insertPayment();

    // Act: a retried step and a redelivered message send the same events again, some at once
    const sent = await Promise.all([
      appendEvent(paymentId, 'charged'),
      appendEvent(paymentId, 'charged'),
      appendEvent(paymentId, 'vend_retrying', { attempt: 1 }),
      appendEvent(paymentId, 'vend_retrying', { attempt: 1 }),
      appendEvent(paymentId, 'vend_retrying', { attempt: 2 }),
    ]);
    const again = await appendEvent(paymentId, 'charged');

    // Assess
    const events = await db.sql(PAYMENT_EVENTS_AFTER_SEQ_SQL, { paymentId, afterSeq: 0 });
    const status = await db.sql('SELECT status FROM payments WHERE payment_id = :paymentId', { paymentId });
    expect(
      events.records?.map((record) => [record[1]?.longValue, record[2]?.stringValue, record[3]?.stringValue]),
    ).toEqual([
      [1, 'charged', '{}'],
      [2, 'vend_retrying', '{"attempt": 1}'],
      [3, 'vend_retrying', '{"attempt": 2}'],
    ]);
    expect(sent.filter((appended) => appended !== undefined)).toHaveLength(3);
    expect(again).toBeUndefined();
    expect(status.records).toEqual([[{ stringValue: 'accepted' }]]);
  });

  it('appends nothing, and uses up no id, for a payment that does not exist', async () => {
    // Prepare
    const paymentId = await insertPayment();
    const before = (await appendEvent(paymentId, 'accepted'))?.id ?? 0;

    // Act
    const missing = await appendEvent('pay_nobody', 'accepted');
    const after = await appendEvent(paymentId, 'charged');

    // Assess
    expect(missing).toBeUndefined();
    expect(after?.id).toBe(before + 1);
  });
});

/**
 * The operator console's reads (operator-views.ts) against the embedded Data API, run as the console's own role
 * (`payments_console`): every statement runs, answers what the console shows, and the role can change nothing.
 * The payments are written with the master user through the payments repository, as the tasks write them.
 */
import { DatabaseErrorException } from '@aws-sdk/client-rds-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataApi } from './data-api.ts';
import { type OPERATOR_VIEW_STATEMENTS, OperatorViews } from './operator-views.ts';
import { DataApiPaymentsRepository } from './payments-repository.ts';
import { type DataApiForTests, SERVICE_TARGETS, startDataApi } from './testing/data-api.ts';
import { migratedSnapshot } from './testing/migrated-snapshot.ts';

const PERMISSION_DENIED = /^ERROR: permission denied for table [a-z_]+; SQLState: 42501$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

let db: DataApiForTests;
let views: OperatorViews;
let consoleDb: DataApi;
const METER = '9902000000019';
const OTHER_METER = '1200000000011';
/** Written in this order, a second apart in created_at. */
const ids = {
  vended: 'pay_views_vended',
  refunded: 'pay_views_refunded',
  openOld: 'pay_views_open_old',
  openNew: 'pay_views_open_new',
  unconfirmed: 'pay_views_unconfirmed',
};

beforeAll(async () => {
  db = await startDataApi({ snapshot: await migratedSnapshot() });
  const master = new DataApiPaymentsRepository(new DataApi(db.client, db.target));
  consoleDb = new DataApi(db.client, SERVICE_TARGETS.console);
  views = new OperatorViews(consoleDb);

  const accept = async (paymentId: string, meterId: string, secondsAgo: number) => {
    await master.acceptPayment({
      idempotencyKey: `key-${paymentId}`,
      requestHash: `hash-${paymentId}`,
      payment: { paymentId, meterId, amountPence: 2000, statusTokenHash: 'a'.repeat(64) },
      response: { paymentId },
    });
    await db.sql(
      `UPDATE payments SET created_at = now() - CAST(:secondsAgo AS integer) * interval '1 second' WHERE payment_id = :paymentId`,
      { paymentId, secondsAgo },
    );
  };
  const vendFailed = async (paymentId: string) => {
    await master.recordCharged(paymentId, `ch_${paymentId}`);
    await master.appendEvent({ paymentId, type: 'charged', body: { amountPence: 2000 } });
    await master.recordVendAttempt({
      paymentId,
      attempt: 1,
      transactionId: paymentId,
      outcome: 'vendor_unavailable',
    });
    await master.recordVendAttempt({
      paymentId,
      attempt: 2,
      transactionId: paymentId,
      outcome: 'rejected',
      rejectionCode: 'METER_LOCKED_OUT',
      endsVend: true,
    });
    await master.recordVendFailed(paymentId);
    await master.appendEvent({
      paymentId,
      type: 'vend_failed',
      body: { reason: 'VendRejected', rejectionCode: 'METER_LOCKED_OUT' },
    });
  };
  const open = (paymentId: string, deadlineSeconds = 3600) =>
    master.openFollowUp({
      paymentId,
      taskToken: `token-${paymentId}`,
      executionArn: `arn:aws:states:us-east-1:000000000000:execution:PaymentToVend:${paymentId}`,
      deadlineSeconds,
    });

  await accept(ids.vended, OTHER_METER, 50);
  await master.recordCharged(ids.vended, `ch_${ids.vended}`);
  await master.recordVendAttempt({
    paymentId: ids.vended,
    attempt: 1,
    transactionId: ids.vended,
    outcome: 'vended',
    utrn: '12345678901234567890',
  });

  await accept(ids.refunded, METER, 40);
  await vendFailed(ids.refunded);
  await open(ids.refunded);
  await master.recordDecision(ids.refunded, {
    decisionId: 'decision-refund-1',
    action: 'refund',
    operator: 'alice',
    reason: 'the vendor is down all week',
    decidedAt: '2026-01-02T03:04:05.000Z',
  });
  await master.recordRefunded(ids.refunded, 're_1');

  await accept(ids.openOld, METER, 30);
  await vendFailed(ids.openOld);
  await open(ids.openOld);
  await accept(ids.openNew, METER, 20);
  await vendFailed(ids.openNew);
  await open(ids.openNew);
  // Opened in the other order than they were paid: the list is by when each was opened.
  await db.sql(
    `UPDATE follow_ups SET opened_at = now() - interval '2 hours', escalations = 2 WHERE payment_id = :paymentId`,
    { paymentId: ids.openOld },
  );

  await accept(ids.unconfirmed, OTHER_METER, 10);
  await master.recordChargeUnconfirmed(ids.unconfirmed, 'PaymentGatewayUnavailable');
  await open(ids.unconfirmed);
}, 60_000);

afterAll(async () => {
  await db?.close();
});

describe('searching payments', () => {
  it('finds them by meter, newest first, with why each is open', async () => {
    const found = await views.searchPayments({ meterId: METER });

    expect(found.map((payment) => payment.paymentId)).toEqual([ids.openNew, ids.openOld, ids.refunded]);
    expect(found[0]).toEqual({
      paymentId: ids.openNew,
      meterId: METER,
      amountPence: 2000,
      status: 'vend_failed',
      createdAt: expect.stringMatching(ISO),
      updatedAt: expect.stringMatching(ISO),
      openFor: 'vend_failed',
    });
    expect(found[2]).toMatchObject({ status: 'refunded', openFor: null });
  });

  it('finds them by the payment id, whole or in part and in any case, and by status', async () => {
    expect((await views.searchPayments({ paymentId: ids.vended })).map((p) => p.paymentId)).toEqual([
      ids.vended,
    ]);
    expect((await views.searchPayments({ paymentId: 'VIEWS_OPEN' })).map((p) => p.paymentId)).toEqual([
      ids.openNew,
      ids.openOld,
    ]);
    expect((await views.searchPayments({ status: 'charge_unconfirmed' })).map((p) => p.paymentId)).toEqual([
      ids.unconfirmed,
    ]);
    expect(
      await views.searchPayments({ paymentId: 'views', meterId: OTHER_METER, status: 'vended' }),
    ).toMatchObject([{ paymentId: ids.vended, openFor: null }]);
    expect(await views.searchPayments({ paymentId: 'pay_nothing_like_it' })).toEqual([]);
  });

  it('gives at most the limit asked for, and blank filters filter nothing', async () => {
    const two = await views.searchPayments({ limit: 2, paymentId: '  ', meterId: '' });
    expect(two.map((payment) => payment.paymentId)).toEqual([ids.unconfirmed, ids.openNew]);
  });
});

describe('one payment', () => {
  it('has its charge, refund and UTRN, and never the status token hash', async () => {
    const refunded = await views.payment(ids.refunded);
    const vended = await views.payment(ids.vended);
    const unconfirmed = await views.payment(ids.unconfirmed);

    expect(refunded).toEqual({
      paymentId: ids.refunded,
      meterId: METER,
      amountPence: 2000,
      status: 'refunded',
      gatewayChargeId: `ch_${ids.refunded}`,
      declineReason: null,
      chargeError: null,
      refundId: 're_1',
      utrn: null,
      createdAt: expect.stringMatching(ISO),
      updatedAt: expect.stringMatching(ISO),
    });
    expect(vended).toMatchObject({ status: 'vended', utrn: '12345678901234567890', refundId: null });
    expect(unconfirmed).toMatchObject({
      status: 'charge_unconfirmed',
      chargeError: 'PaymentGatewayUnavailable',
      gatewayChargeId: null,
    });
    expect(JSON.stringify(refunded)).not.toContain('a'.repeat(64));
    expect(await views.payment('pay_nobody')).toBeUndefined();
  });

  it('has its customer events in order, each with its own fields', async () => {
    const events = await views.events(ids.openOld);

    expect(events.map((event) => [event.seq, event.type])).toEqual([
      [1, 'accepted'],
      [2, 'charged'],
      [3, 'vend_failed'],
    ]);
    expect(events[2]).toEqual({
      seq: 3,
      type: 'vend_failed',
      at: expect.stringMatching(ISO),
      fields: { reason: 'VendRejected', rejectionCode: 'METER_LOCKED_OUT' },
    });
  });

  it('has every vend attempt with its outcome', async () => {
    expect(await views.vends(ids.openOld)).toEqual([
      {
        attempt: 1,
        transactionId: ids.openOld,
        outcome: 'vendor_unavailable',
        utrn: null,
        rejectionCode: null,
        recordedByHand: false,
        createdAt: expect.stringMatching(ISO),
      },
      {
        attempt: 2,
        transactionId: ids.openOld,
        outcome: 'rejected',
        utrn: null,
        rejectionCode: 'METER_LOCKED_OUT',
        recordedByHand: false,
        createdAt: expect.stringMatching(ISO),
      },
    ]);
    expect(await views.vends(ids.unconfirmed)).toEqual([]);
  });

  it('has its follow-up, open with the waiting step’s token or closed by a decision', async () => {
    const open = await views.followUp(ids.openOld);
    const closed = await views.followUp(ids.refunded);

    expect(open).toEqual({
      paymentId: ids.openOld,
      reason: 'vend_failed',
      taskToken: `token-${ids.openOld}`,
      executionArn: `arn:aws:states:us-east-1:000000000000:execution:PaymentToVend:${ids.openOld}`,
      openedAt: expect.stringMatching(ISO),
      deadlineAt: expect.stringMatching(ISO),
      escalations: 2,
      closedAt: null,
    });
    expect(closed).toMatchObject({ taskToken: null, closedAt: expect.stringMatching(ISO) });
    expect(await views.followUp(ids.vended)).toBeUndefined();
  });

  it('has the audit trail: who decided what, when and why', async () => {
    expect(await views.decisions(ids.refunded)).toEqual([
      {
        decisionId: 'decision-refund-1',
        action: 'refund',
        operator: 'alice',
        reason: 'the vendor is down all week',
        utrn: null,
        decidedAt: '2026-01-02T03:04:05.000Z',
        recordedAt: expect.stringMatching(ISO),
      },
    ]);
    expect(await views.decisions(ids.openOld)).toEqual([]);
  });
});

describe('the open follow-ups', () => {
  it('are the payments waiting for a decision, oldest first', async () => {
    const open = await views.openFollowUps();

    expect(open.map((item) => [item.paymentId, item.reason])).toEqual([
      [ids.openOld, 'vend_failed'],
      [ids.openNew, 'vend_failed'],
      [ids.unconfirmed, 'charge_unconfirmed'],
    ]);
    expect(open[0]).toEqual({
      paymentId: ids.openOld,
      meterId: METER,
      amountPence: 2000,
      status: 'vend_failed',
      reason: 'vend_failed',
      executionArn: expect.stringContaining(ids.openOld),
      openedAt: expect.stringMatching(ISO),
      deadlineAt: expect.stringMatching(ISO),
      escalations: 2,
    });
    expect(JSON.stringify(open)).not.toContain('token-');
    expect(await views.openFollowUps({ limit: 1 })).toHaveLength(1);
  });
});

describe("the console's database role", () => {
  it('runs every statement the console has', async () => {
    // Every statement of OPERATOR_VIEW_STATEMENTS, once each, through OperatorViews.
    const runs: Record<keyof typeof OPERATOR_VIEW_STATEMENTS, () => Promise<unknown>> = {
      searchPayments: () => views.searchPayments({ paymentId: 'pay', meterId: METER, status: 'vend_failed' }),
      payment: () => views.payment(ids.refunded),
      events: () => views.events(ids.refunded),
      vends: () => views.vends(ids.refunded),
      followUp: () => views.followUp(ids.refunded),
      decisions: () => views.decisions(ids.refunded),
      openFollowUps: () => views.openFollowUps(),
    };
    for (const [name, run] of Object.entries(runs)) {
      await expect(run(), name).resolves.toBeDefined();
    }
  });

  it.each([
    [
      'decide by itself',
      `INSERT INTO decisions (decision_id, payment_id, action, operator, reason, decided_at)
      VALUES ('forged', '${ids.openOld}', 'refund', 'mallory', 'why not', now())`,
    ],
    [
      'close a follow-up',
      `UPDATE follow_ups SET closed_at = now(), task_token = NULL WHERE payment_id = '${ids.openOld}'`,
    ],
    ['move a payment', `UPDATE payments SET status = 'vended' WHERE payment_id = '${ids.openOld}'`],
    [
      'record a vend',
      `INSERT INTO vends (payment_id, attempt, transaction_id, outcome, utrn)
      VALUES ('${ids.openOld}', 9, 'tx', 'vended', '99999999999999999999')`,
    ],
    ['delete customer events', `DELETE FROM payment_events WHERE payment_id = '${ids.openOld}'`],
    ['read idempotency records', 'SELECT key FROM idempotency_records'],
  ])('cannot %s (permission denied)', async (_what, sql) => {
    const outcome = await consoleDb.execute(sql).then(
      () => 'ran',
      (error: Error) => error,
    );

    expect(outcome).toBeInstanceOf(DatabaseErrorException);
    expect((outcome as Error).message).toMatch(PERMISSION_DENIED);
  });

  it('changed nothing while refused', async () => {
    expect(await views.followUp(ids.openOld)).toMatchObject({ closedAt: null });
    expect(await views.decisions(ids.openOld)).toEqual([]);
    expect(await views.payment(ids.openOld)).toMatchObject({ status: 'vend_failed' });
  });
});

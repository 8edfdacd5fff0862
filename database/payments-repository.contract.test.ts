/**
 * The payments repository's contract, run against the real one on the embedded Data API and against the
 * in-memory double the task tests use, so the double cannot drift from the database's rules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataApi } from './data-api.ts';
import { PaymentChargeConflictError, PaymentNotFoundError, PaymentNotOpenError } from './payments-errors.ts';
import { DataApiPaymentsRepository, type PaymentsRepository } from './payments-repository.ts';
import { type DataApiForTests, startDataApi } from './testing/data-api.ts';
import { InMemoryPaymentsRepository } from './testing/in-memory-payments-repository.ts';
import { migratedSnapshot } from './testing/migrated-snapshot.ts';

let db: DataApiForTests | undefined;

beforeAll(async () => {
  db = await startDataApi({ snapshot: await migratedSnapshot() });
}, 60_000);

afterAll(async () => {
  await db?.close();
});

const implementations: [string, () => PaymentsRepository][] = [
  ['on the Data API', () => new DataApiPaymentsRepository(new DataApi(db!.client, db!.target))],
  ['in memory', () => new InMemoryPaymentsRepository()],
];

describe.each(implementations)('the payments repository %s', (_name, repository) => {
  let payments: PaymentsRepository;
  let count = 0;

  beforeAll(() => {
    payments = repository();
  });

  /** A newly accepted payment (each test has its own), and its id. */
  async function accepted(): Promise<string> {
    count += 1;
    const paymentId = `pay_${_name.replaceAll(' ', '_')}_${count}`;
    const outcome = await payments.acceptPayment({
      idempotencyKey: `key-${paymentId}`,
      requestHash: `hash-${paymentId}`,
      payment: { paymentId, meterId: '1200000000011', amountPence: 2000, statusTokenHash: 'a'.repeat(64) },
      response: { paymentId },
    });
    expect(outcome).toEqual({ kind: 'accepted' });
    return paymentId;
  }

  async function charged(): Promise<string> {
    const paymentId = await accepted();
    await payments.recordCharged(paymentId, `ch_${paymentId}`);
    return paymentId;
  }

  const statusOf = async (paymentId: string) => (await payments.findPayment(paymentId))?.status;

  it('accepts a payment with its first event, and replays its key or refuses it with another body', async () => {
    // Prepare
    const paymentId = await accepted();
    const request = {
      idempotencyKey: `key-${paymentId}`,
      payment: { paymentId: 'pay_other', meterId: '1200000000011', amountPence: 2000, statusTokenHash: 'b' },
      response: { paymentId: 'pay_other' },
    };

    // Act
    const replay = await payments.acceptPayment({ ...request, requestHash: `hash-${paymentId}` });
    const reused = await payments.acceptPayment({ ...request, requestHash: 'another body' });

    // Assess
    expect(replay).toEqual({ kind: 'replay', statusCode: 202, response: { paymentId } });
    expect(reused).toEqual({ kind: 'key_reused' });
    expect(await payments.findPayment(paymentId)).toEqual({
      paymentId,
      meterId: '1200000000011',
      amountPence: 2000,
      status: 'accepted',
      statusTokenHash: 'a'.repeat(64),
      gatewayChargeId: null,
      declineReason: null,
      chargeError: null,
      refundId: null,
    });
    expect(await payments.findPayment('pay_other')).toBeUndefined();
    expect((await payments.eventsAfterSeq(paymentId, 0)).map((event) => [event.seq, event.type])).toEqual([
      [1, 'accepted'],
    ]);
  });

  it('records a charge with its status, once; another charge for the payment is a conflict', async () => {
    // Prepare
    const paymentId = await accepted();

    // Act
    await payments.recordCharged(paymentId, 'ch_1');
    await payments.recordCharged(paymentId, 'ch_1');
    const conflict = await payments.recordCharged(paymentId, 'ch_2').catch((error: unknown) => error);

    // Assess
    expect(conflict).toBeInstanceOf(PaymentChargeConflictError);
    expect(await payments.findPayment(paymentId)).toMatchObject({
      status: 'charged',
      gatewayChargeId: 'ch_1',
    });
  });

  it('records a decline with its reason; a decline after a charge, or a charge after a decline, is a conflict', async () => {
    // Prepare
    const declined = await accepted();
    const paid = await charged();

    // Act
    await payments.recordChargeDeclined(declined, 'insufficient_funds');
    const chargeAfterDecline = await payments
      .recordCharged(declined, 'ch_x')
      .catch((error: unknown) => error);
    const declineAfterCharge = await payments
      .recordChargeDeclined(paid, 'generic_decline')
      .catch((error: unknown) => error);

    // Assess
    expect(await payments.findPayment(declined)).toMatchObject({
      status: 'charge_declined',
      declineReason: 'insufficient_funds',
    });
    expect(chargeAfterDecline).toBeInstanceOf(PaymentChargeConflictError);
    expect(declineAfterCharge).toBeInstanceOf(PaymentChargeConflictError);
    expect(await statusOf(paid)).toBe('charged');
  });

  it('records an unconfirmed charge with its error, and a later reconciled charge moves it on', async () => {
    // Prepare
    const paymentId = await accepted();

    // Act
    const unconfirmed = await payments.recordChargeUnconfirmed(paymentId, 'PaymentGatewayUnavailable');
    const statusWhileUnconfirmed = await statusOf(paymentId);
    await payments.recordCharged(paymentId, 'ch_late');

    // Assess
    expect(unconfirmed).toEqual({ outcome: 'unconfirmed', chargeId: null, declineReason: null });
    expect(statusWhileUnconfirmed).toBe('charge_unconfirmed');
    expect(await payments.findPayment(paymentId)).toMatchObject({
      status: 'charged',
      gatewayChargeId: 'ch_late',
      chargeError: 'PaymentGatewayUnavailable',
    });
  });

  it('answers an unconfirmed charge with the outcome the payment already records', async () => {
    // Prepare
    const paid = await charged();
    const declined = await accepted();
    await payments.recordChargeDeclined(declined, 'expired_card');

    // Act
    const forPaid = await payments.recordChargeUnconfirmed(paid, 'Lambda.Unknown');
    const forDeclined = await payments.recordChargeUnconfirmed(declined, 'Lambda.Unknown');
    const forMissing = await payments
      .recordChargeUnconfirmed('pay_missing', 'Lambda.Unknown')
      .catch((error: unknown) => error);

    // Assess
    expect(forPaid).toEqual({ outcome: 'charged', chargeId: `ch_${paid}`, declineReason: null });
    expect(forDeclined).toEqual({ outcome: 'declined', chargeId: null, declineReason: 'expired_card' });
    expect(forMissing).toBeInstanceOf(PaymentNotFoundError);
    expect([await statusOf(paid), await statusOf(declined)]).toEqual(['charged', 'charge_declined']);
  });

  it('records a vended attempt with the status, once however often it is delivered', async () => {
    // Prepare
    const paymentId = await charged();
    const attempt = {
      paymentId,
      attempt: 1,
      transactionId: paymentId,
      outcome: 'vended',
      utrn: `${String(count).padStart(4, '0')}${'1'.repeat(16)}`,
    } as const;

    // Act
    const first = await payments.recordVendAttempt(attempt);
    const again = await payments.recordVendAttempt(attempt);
    const secondSuccess = await payments.recordVendAttempt({ ...attempt, attempt: 2 });

    // Assess
    expect([first, again, secondSuccess]).toEqual(['recorded', 'already-recorded', 'already-recorded']);
    expect(await statusOf(paymentId)).toBe('vended');
  });

  it('moves the status on a failed attempt only when it ends the vend', async () => {
    // Prepare
    const retried = await charged();
    const rejected = await charged();
    const unavailable = { transactionId: retried, outcome: 'vendor_unavailable' } as const;

    // Act
    await payments.recordVendAttempt({ ...unavailable, paymentId: retried, attempt: 1 });
    const afterFirst = await statusOf(retried);
    await payments.recordVendAttempt({ ...unavailable, paymentId: retried, attempt: 2, endsVend: true });
    await payments.recordVendAttempt({
      paymentId: rejected,
      attempt: 1,
      transactionId: rejected,
      outcome: 'rejected',
      rejectionCode: 'NOT_FOR_THIS_DEVICE',
      endsVend: true,
    });

    // Assess
    expect(afterFirst).toBe('charged');
    expect(await statusOf(retried)).toBe('vend_failed');
    expect(await statusOf(rejected)).toBe('vend_failed');
  });

  it('records a vend failed after the retries for a charged payment only', async () => {
    // Prepare
    const paymentId = await charged();
    const vended = await charged();
    await payments.recordVendAttempt({
      paymentId: vended,
      attempt: 1,
      transactionId: vended,
      outcome: 'vended',
      utrn: `${String(count).padStart(4, '0')}${'2'.repeat(16)}`,
    });

    // Act
    const failed = await payments.recordVendFailed(paymentId);
    const again = await payments.recordVendFailed(paymentId);
    const left = await payments.recordVendFailed(vended);
    const missing = await payments.recordVendFailed('pay_missing').catch((error: unknown) => error);

    // Assess
    expect([failed, again]).toEqual([
      { status: 'vend_failed', utrn: null },
      { status: 'vend_failed', utrn: null },
    ]);
    // An attempt that vended but whose answer was lost: the vend stands, with its UTRN.
    expect(left).toEqual({ status: 'vended', utrn: `${String(count).padStart(4, '0')}${'2'.repeat(16)}` });
    expect(missing).toBeInstanceOf(PaymentNotFoundError);
  });

  async function vendFailed(): Promise<string> {
    const paymentId = await charged();
    await payments.recordVendFailed(paymentId);
    return paymentId;
  }

  const openRequest = (paymentId: string, taskToken = `token-${paymentId}`, deadlineSeconds = 3600) => ({
    paymentId,
    taskToken,
    executionArn: `arn:aws:states:us-east-1:000000000000:execution:PaymentToVend:${paymentId}`,
    deadlineSeconds,
  });

  const refundDecision = (decisionId: string) => ({
    decisionId,
    action: 'refund' as const,
    operator: 'ops@example.com',
    reason: 'the customer asked for their money back',
    decidedAt: '2026-12-02T12:00:00.000Z',
  });

  it('opens a follow-up for a payment whose vend failed; a retried open changes nothing, a missed deadline escalates', async () => {
    // Prepare
    const paymentId = await vendFailed();

    // Act
    const opened = await payments.openFollowUp(openRequest(paymentId));
    const retried = await payments.openFollowUp(openRequest(paymentId));
    await payments.openFollowUp(openRequest(paymentId, 'token-soon', 0));
    const escalated = await payments.openFollowUp(openRequest(paymentId, 'token-after-deadline'));

    // Assess
    expect(opened).toMatchObject({ reason: 'vend_failed', escalations: 0 });
    expect(retried).toEqual(opened);
    expect(escalated).toMatchObject({ reason: 'vend_failed', escalations: 1 });
  });

  it('refuses to open a follow-up for a payment that is not open for a decision', async () => {
    // Prepare
    const paymentId = await charged();

    // Act
    const failure = await payments.openFollowUp(openRequest(paymentId)).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(PaymentNotOpenError);
  });

  it('records a decision once, closing the follow-up; the next open starts afresh', async () => {
    // Prepare
    const paymentId = await vendFailed();
    await payments.openFollowUp(openRequest(paymentId, 'token-1', 0));
    await payments.openFollowUp(openRequest(paymentId, 'token-2', 0));

    // Act
    const first = await payments.recordDecision(paymentId, refundDecision(`d-${paymentId}`));
    const again = await payments.recordDecision(paymentId, refundDecision(`d-${paymentId}`));
    const reopened = await payments.openFollowUp(openRequest(paymentId, 'token-3'));

    // Assess
    expect([first, again]).toEqual([
      { recorded: 'recorded', revends: 0 },
      { recorded: 'already-recorded', revends: 0 },
    ]);
    expect(reopened.escalations).toBe(0);
  });

  it('after a refund decision, records no other action but a refund', async () => {
    // Prepare
    const paymentId = await vendFailed();
    await payments.openFollowUp(openRequest(paymentId));
    await payments.recordDecision(paymentId, refundDecision(`r1-${paymentId}`));
    await payments.openFollowUp(openRequest(paymentId, 'token-again'));

    // Act
    const revend = await payments.recordDecision(paymentId, {
      ...refundDecision(`v-${paymentId}`),
      action: 'revend',
    });
    const refund = await payments.recordDecision(paymentId, refundDecision(`r2-${paymentId}`));

    // Assess
    expect(revend.recorded).toBe('refused');
    expect(refund.recorded).toBe('recorded');
  });

  it('records a refund with the status refunded, once; only a payment whose vend failed is refunded', async () => {
    // Prepare
    const paymentId = await vendFailed();
    const stillCharged = await charged();

    // Act
    await payments.recordRefunded(paymentId, `re_${paymentId}`);
    await payments.recordRefunded(paymentId, `re_${paymentId}`);
    const other = await payments.recordRefunded(paymentId, 're_other').catch((error: unknown) => error);
    const notFailed = await payments.recordRefunded(stillCharged, 're_x').catch((error: unknown) => error);

    // Assess
    expect(await payments.findPayment(paymentId)).toMatchObject({
      status: 'refunded',
      refundId: `re_${paymentId}`,
    });
    expect(other).toBeInstanceOf(PaymentNotOpenError);
    expect(notFailed).toBeInstanceOf(PaymentNotOpenError);
    expect(await statusOf(stillCharged)).toBe('charged');
  });

  it('records a UTRN given by hand as the vend, once; a payment whose vend did not fail is refused', async () => {
    // Prepare
    const paymentId = await vendFailed();
    const vended = await charged();
    await payments.recordVendAttempt({
      paymentId: vended,
      attempt: 1,
      transactionId: vended,
      outcome: 'vended',
      utrn: `1${String(count).padStart(19, '0')}`,
    });
    const utrn = `2${String(count).padStart(19, '0')}`;

    // Act
    await payments.recordUtrnByHand(paymentId, paymentId, utrn);
    await payments.recordUtrnByHand(paymentId, paymentId, utrn);
    const another = await payments
      .recordUtrnByHand(paymentId, paymentId, `3${utrn.slice(1)}`)
      .catch((e: unknown) => e);
    const notFailed = await payments
      .recordUtrnByHand(vended, vended, `4${utrn.slice(1)}`)
      .catch((e: unknown) => e);

    // Assess
    expect(await statusOf(paymentId)).toBe('vended');
    expect(another).toBeInstanceOf(PaymentNotOpenError);
    expect(notFailed).toBeInstanceOf(PaymentNotOpenError);
  });

  it('records a vend found at the vendor on a charged or vend_failed payment; a vended one keeps its UTRN', async () => {
    // Prepare
    const stillCharged = await charged();
    const failed = await vendFailed();
    const vended = await charged();
    const firstUtrn = `5${String(count).padStart(19, '0')}`;
    await payments.recordVendAttempt({
      paymentId: vended,
      attempt: 1,
      transactionId: vended,
      outcome: 'vended',
      utrn: firstUtrn,
    });
    const utrnOf = (digit: number) => `${digit}${String(count).padStart(19, '0')}`;

    // Act
    const fromCharged = await payments.recordVendFound(stillCharged, stillCharged, utrnOf(6));
    const fromFailed = await payments.recordVendFound(failed, failed, utrnOf(7));
    const again = await payments.recordVendFound(failed, failed, utrnOf(7));
    const alreadyVended = await payments.recordVendFound(vended, vended, utrnOf(8));

    // Assess
    expect(fromCharged).toEqual({ status: 'vended', utrn: utrnOf(6) });
    expect(fromFailed).toEqual({ status: 'vended', utrn: utrnOf(7) });
    expect(again).toEqual(fromFailed);
    expect(alreadyVended).toEqual({ status: 'vended', utrn: firstUtrn });
    expect(await statusOf(failed)).toBe('vended');
  });

  it('appends each customer event once (vend_retrying once per attempt), in seq order, moving no status', async () => {
    // Prepare
    const paymentId = await charged();
    const before = await payments.lastEventId();

    // Act
    const told = await payments.appendEvent({ paymentId, type: 'charged', body: { amountPence: 2000 } });
    const repeated = await payments.appendEvent({ paymentId, type: 'charged', body: { amountPence: 2000 } });
    await payments.appendEvent({ paymentId, type: 'vend_retrying', body: { attempt: 2, maxAttempts: 4 } });
    await payments.appendEvent({ paymentId, type: 'vend_retrying', body: { attempt: 2, maxAttempts: 4 } });
    await payments.appendEvent({ paymentId, type: 'vend_retrying', body: { attempt: 3, maxAttempts: 4 } });
    await payments.appendEvent({ paymentId, type: 'vend_failed', body: { reason: 'VendorUnavailable' } });
    const missing = await payments
      .appendEvent({ paymentId: 'pay_missing', type: 'charged', body: {} })
      .catch((error: unknown) => error);

    // Assess
    expect([told, repeated]).toEqual([
      { recorded: true, seq: 2 },
      { recorded: false, seq: 2 },
    ]);
    expect(missing).toBeInstanceOf(PaymentNotFoundError);
    const events = await payments.eventsAfterSeq(paymentId, 1);
    expect(events.map(({ at: _at, ...event }) => event)).toEqual([
      { seq: 2, type: 'charged', amountPence: 2000 },
      { seq: 3, type: 'vend_retrying', attempt: 2, maxAttempts: 4 },
      { seq: 4, type: 'vend_retrying', attempt: 3, maxAttempts: 4 },
      { seq: 5, type: 'vend_failed', reason: 'VendorUnavailable' },
    ]);
    expect(events.every((event) => !Number.isNaN(Date.parse(event.at)))).toBe(true);
    const tailed = await payments.eventsAfterId(before, 100);
    expect(tailed.map((event) => [event.paymentId, event.event.seq])).toEqual(
      [2, 3, 4, 5].map((seq) => [paymentId, seq]),
    );
    expect(await payments.lastEventId()).toBe(before + 4);
    expect(await statusOf(paymentId)).toBe('charged');
  });
});

import { beforeEach, describe, expect, it } from 'vitest';
import { PaymentNotOpenError } from '../../database/payments-errors.ts';
import { InMemoryPaymentsRepository } from '../../database/testing/in-memory-payments-repository.ts';
import type { Decision } from '../../workflow/contracts.ts';
import { RecordingLogger } from '../shared/testing/fakes.ts';
import { createFollowUp, DecisionRefusedError } from './follow-up.ts';

const open = {
  action: 'open',
  paymentId: 'pay_1',
  taskToken: 'token-1',
  executionArn: 'arn:aws:states:us-east-1:000000000000:execution:PaymentToVend:pay_1',
  deadlineSeconds: 3600,
} as const;

const decision: Decision = {
  decisionId: 'd-1',
  action: 'refund',
  operator: 'ops@example.com',
  reason: 'the customer asked for their money back',
  decidedAt: '2026-12-02T12:00:00.000Z',
};

let payments: InMemoryPaymentsRepository;
let logger: RecordingLogger;
let followUp: ReturnType<typeof createFollowUp>;

beforeEach(() => {
  payments = new InMemoryPaymentsRepository();
  logger = new RecordingLogger();
  followUp = createFollowUp({ payments, logger });
});

describe('open (AwaitDecision)', () => {
  it("keeps the task token on the payment's follow-up, with why it is open, and logs no token", async () => {
    // Prepare
    payments.addPayment({ paymentId: 'pay_1', status: 'vend_failed', gatewayChargeId: 'ch_1' });

    // Act
    await followUp(open);

    // Assess
    expect(payments.followUps.get('pay_1')).toMatchObject({
      reason: 'vend_failed',
      taskToken: 'token-1',
      escalations: 0,
      closed: false,
    });
    expect(JSON.stringify(logger.lines)).not.toContain('token-1');
  });

  it('refuses a payment that is not open for a decision', async () => {
    // Prepare
    payments.addPayment({ paymentId: 'pay_1', status: 'vended', gatewayChargeId: 'ch_1' });

    // Act
    const failure = await followUp(open).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(PaymentNotOpenError);
  });
});

describe('recordDecision (RecordDecision)', () => {
  it('answers the round of vend attempts each re-vend starts', async () => {
    // Act
    const first = await followUp({
      action: 'recordDecision',
      paymentId: 'pay_1',
      decision: { ...decision, action: 'revend' },
    });
    await followUp(open);
    const second = await followUp({
      action: 'recordDecision',
      paymentId: 'pay_1',
      decision: { ...decision, decisionId: 'd-2', action: 'revend' },
    });

    // Assess
    expect([first, second]).toEqual([
      { action: 'revend', vendRound: 2 },
      { action: 'revend', vendRound: 3 },
    ]);
  });

  beforeEach(async () => {
    payments.addPayment({ paymentId: 'pay_1', status: 'vend_failed', gatewayChargeId: 'ch_1' });
    await followUp(open);
  });

  it('records who decided what, when and why, closes the follow-up, and answers the action', async () => {
    // Act
    const answer = await followUp({ action: 'recordDecision', paymentId: 'pay_1', decision });
    const again = await followUp({ action: 'recordDecision', paymentId: 'pay_1', decision });

    // Assess
    expect(answer).toEqual({ action: 'refund', vendRound: 1 });
    expect(again).toEqual(answer);
    expect(payments.decisions).toEqual([{ ...decision, paymentId: 'pay_1' }]);
    expect(payments.followUps.get('pay_1')).toMatchObject({ taskToken: null, closed: true });
  });

  it('after a refund was decided, refuses anything but a refund (the refund may have been made)', async () => {
    // Prepare: the refund was decided, then could not be carried out, and the payment waits again.
    await followUp({ action: 'recordDecision', paymentId: 'pay_1', decision });
    await followUp(open);

    // Act
    const revend = await followUp({
      action: 'recordDecision',
      paymentId: 'pay_1',
      decision: { ...decision, decisionId: 'd-2', action: 'revend' },
    }).catch((error: unknown) => error);
    const refundAgain = await followUp({
      action: 'recordDecision',
      paymentId: 'pay_1',
      decision: { ...decision, decisionId: 'd-3' },
    });

    // Assess
    expect(revend).toBeInstanceOf(DecisionRefusedError);
    expect((revend as Error).message).toMatch(/only a refund can end it now/);
    expect(refundAgain).toEqual({ action: 'refund', vendRound: 1 });
    expect(payments.decisions.map((each) => each.decisionId)).toEqual(['d-1', 'd-3']);
  });

  it.each([
    [
      'an action the payment cannot take',
      { ...decision, action: 'recheck_charge' },
      /vend_failed: recheck_charge cannot end it/,
    ],
    ['a UTRN without record_utrn', { ...decision, utrn: '12345678901234567890' }, /check utrn/],
    ['record_utrn without a UTRN', { ...decision, action: 'record_utrn' }, /check utrn/],
    ['no reason', { ...decision, reason: '  ' }, /check reason/],
    ['not a decision at all', 'refund please', /check decision/],
  ])('refuses %s as DecisionRefused, recording nothing', async (_, given, message) => {
    // Act
    const failure = await followUp({ action: 'recordDecision', paymentId: 'pay_1', decision: given }).catch(
      (error: unknown) => error,
    );

    // Assess
    expect(failure).toBeInstanceOf(DecisionRefusedError);
    expect((failure as Error).message).toMatch(message);
    expect(payments.decisions).toEqual([]);
    expect(payments.followUps.get('pay_1')).toMatchObject({ closed: false });
  });
});

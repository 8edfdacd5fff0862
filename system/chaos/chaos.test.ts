/**
 * The chaos run: a tiny one against the whole system (kill -9 included) finds nothing wrong, and the auditor
 * catches what a broken system would leave behind, planted in a record set that is otherwise sound.
 */
import { describe, expect, it } from 'vitest';
import type { GatewayChargeRecord } from '../../simulators/payment-gateway.ts';
import { auditChaos } from './audit.ts';
import type { ChaosRecords, CustomerEvent } from './records.ts';
import { formatReport } from './report.ts';
import { runChaos } from './run.ts';
import { tokensIn } from './scan.ts';

describe('npm run chaos', () => {
  it('kills the system twice under 12 top-ups and finds every payment settled and sound', async () => {
    // Act
    const report = await runChaos({ payments: 12, kills: 2, seed: 20261202, settleSeconds: 180 });

    // Assess
    expect(report.audit.violations, formatReport(report)).toEqual([]);
    expect(report.unsettled).toEqual([]);
    expect(report.kills).toHaveLength(2);
    expect(report.audit.payments).toBe(12);
    expect(report.cardProbes.refused).toBe(report.cardProbes.sent);
  }, 300_000);
});

const P1 = 'pay_11111111111111111111111111111111';
const P2 = 'pay_22222222222222222222222222222222';
const P3 = 'pay_33333333333333333333333333333333';
const UTRN = '12345678901234567890';
const EXECUTION = (paymentId: string) =>
  `arn:aws:states:us-east-1:000000000000:execution:PaymentToVend:${paymentId}`;

function charge(paymentId: string, overrides: Partial<GatewayChargeRecord> = {}): GatewayChargeRecord {
  return {
    id: `ch_sim_${paymentId.slice(4, 12)}`,
    object: 'charge',
    status: 'succeeded',
    amountPence: 2000,
    amountRefundedPence: 0,
    refunded: false,
    currency: 'GBP',
    reference: paymentId,
    paymentToken: 'tok_visa',
    failureCode: null,
    declineCode: null,
    failureMessage: null,
    createdAt: '2026-12-02T10:00:00.000Z',
    livemode: false,
    idempotencyKey: paymentId,
    ...overrides,
  };
}

const events = (...types: (string | [string, Record<string, unknown>])[]): CustomerEvent[] =>
  types.map((type, index) =>
    typeof type === 'string' ? { seq: index + 1, type } : { seq: index + 1, type: type[0], ...type[1] },
  );

/**
 * Three payments as a sound system leaves them: one vended, one declined, one whose vend failed and waits for a
 * decision (one VendingFailure message, one alert).
 */
function soundRecords(): ChaosRecords {
  const vendedEvents = events('accepted', ['charged', { amountPence: 2000 }], 'vend_requested', [
    'vended',
    { utrn: UTRN, creditPence: 2000 },
  ]);
  const declinedEvents = events('accepted', ['charge_declined', { reason: 'generic_decline' }]);
  const failedEvents = events(
    'accepted',
    ['charged', { amountPence: 2000 }],
    'vend_requested',
    ['vend_retrying', { attempt: 2 }],
    ['vend_retrying', { attempt: 3 }],
    'vend_failed',
  );
  const client = (index: number, paymentId: string, paymentToken: string, meterId: string) => ({
    index,
    idempotencyKey: `chaos-key-${'abc'[index]}`,
    body: { meterId, amountPence: 2000, paymentToken },
    meterScenario: 'vends' as const,
    answers: [{ paymentId, statusToken: `token-${index}` }],
    refusals: [],
    requests: 1,
  });
  const payment = (
    paymentId: string,
    status: string,
    extra: Partial<ChaosRecords['database']['payments'][number]> = {},
  ) => ({
    paymentId,
    meterId: paymentId === P3 ? '9902000000019' : '9900000000015',
    amountPence: 2000,
    status,
    declineReason: null,
    gatewayChargeId: null,
    refundId: null,
    ...extra,
  });
  const dbEvents = (paymentId: string, list: CustomerEvent[]) =>
    list.map((event) => ({ paymentId, seq: event.seq, type: event.type }));
  return {
    seed: 1,
    clients: [
      client(0, P1, 'tok_visa', '9900000000015'),
      client(1, P2, 'tok_chargeDeclined', '9900000000015'),
      client(2, P3, 'tok_visa', '9902000000019'),
    ],
    cardProbes: [{ index: 0, placement: 'body', status: 400 }],
    customerViews: {
      [P1]: { status: 'vended', events: vendedEvents },
      [P2]: { status: 'charge_declined', events: declinedEvents },
      [P3]: { status: 'vend_failed', events: failedEvents },
    },
    database: {
      payments: [
        payment(P1, 'vended', { gatewayChargeId: charge(P1).id }),
        payment(P2, 'charge_declined', { declineReason: 'generic_decline' }),
        payment(P3, 'vend_failed', { gatewayChargeId: charge(P3).id }),
      ],
      vends: [
        {
          paymentId: P1,
          attempt: 1,
          transactionId: P1,
          outcome: 'vended',
          utrn: UTRN,
          recordedByHand: false,
        },
        ...[1, 2, 3].map((attempt) => ({
          paymentId: P3,
          attempt,
          transactionId: P3,
          outcome: 'vendor_unavailable',
          utrn: null,
          recordedByHand: false,
        })),
      ],
      events: [...dbEvents(P1, vendedEvents), ...dbEvents(P2, declinedEvents), ...dbEvents(P3, failedEvents)],
      followUps: [
        { paymentId: P3, reason: 'vend_failed', hasTaskToken: true, closedAt: null, escalations: 0 },
      ],
      decisions: [],
    },
    executions: [
      { name: P1, status: 'SUCCEEDED' },
      { name: P2, status: 'FAILED', error: 'ChargeDeclined' },
      { name: P3, status: 'RUNNING', currentState: 'AwaitDecision' },
    ],
    gateway: {
      charges: [
        charge(P1),
        charge(P2, { status: 'failed', failureCode: 'card_declined', declineCode: 'generic_decline' }),
        charge(P3),
      ],
      refunds: [],
    },
    vendor: {
      vends: [
        {
          transactionId: P1,
          meterId: '9900000000015',
          amountPence: 2000,
          creditPence: 2000,
          utrn: UTRN,
          vendedAt: '2026-12-02T10:00:01.000Z',
        },
      ],
    },
    queues: {
      paymentFailure: [
        { paymentId: P2, meterId: '9900000000015', amountPence: 2000, reason: 'generic_decline' },
      ],
      vendingFailure: [
        {
          paymentId: P3,
          meterId: '9902000000019',
          amountPence: 2000,
          chargeId: charge(P3).id,
          vendRound: 1,
          failure: { Error: 'VendorUnavailable' },
          executionArn: EXECUTION(P3),
        },
      ],
      deadLettered: [],
    },
    alerts: [
      {
        messageId: 'sns-1',
        subject: 'PaymentToVend: a paid top-up could not be vended',
        message: `Payment ${P3} (2000 pence) was charged but meter 9902000000019 could not be credited (vend round 1): VendorUnavailable. Execution ${EXECUTION(P3)}. Decide in the operator console (Follow-up).`,
      },
    ],
    decisionsSent: [],
    decisionsNotHandedOver: [],
    decisionsMade: false,
    secretsFound: [],
  };
}

const rulesFor = (records: ChaosRecords, paymentId: string) =>
  auditChaos(records)
    .violations.filter((violation) => violation.paymentId === paymentId)
    .map((violation) => violation.rule);

describe('the chaos auditor', () => {
  it('finds nothing wrong with a sound record set', () => {
    const audit = auditChaos(soundRecords());

    expect(audit.violations).toEqual([]);
    expect(audit.outcomes).toMatchObject({ vended: 1, declined: 1, openVendFailed: 1, stuck: 0 });
  });

  it('names the payment charged a second time under a broken idempotency key', () => {
    // Prepare: the gateway charged P1 again, under a key that is not the payment id.
    const records = soundRecords();
    const second = charge(P1, { id: 'ch_sim_second', idempotencyKey: `${P1}-retry` });
    const doctored = {
      ...records,
      gateway: { ...records.gateway, charges: [...records.gateway.charges, second] },
    };

    // Act
    const audit = auditChaos(doctored);

    // Assess
    expect(audit.violations).toContainEqual(
      expect.objectContaining({
        paymentId: P1,
        index: 0,
        rule: 'charged-twice',
        detail: expect.stringContaining('ch_sim_second'),
      }),
    );
    expect(rulesFor(doctored, P1)).toContain('charge-key');
    expect(rulesFor(doctored, P2)).toEqual([]);
  });

  it('names an event told twice, and one missing', () => {
    const records = soundRecords();
    const view = records.customerViews[P1] as { status: string; events: CustomerEvent[] };
    const told = [...view.events, { seq: 5, type: 'vended', utrn: UTRN, creditPence: 2000 }];
    const duplicated = {
      ...records,
      customerViews: { ...records.customerViews, [P1]: { ...view, events: told } },
    };
    const gapped = {
      ...records,
      customerViews: {
        ...records.customerViews,
        [P1]: { ...view, events: view.events.filter((event) => event.seq !== 2) },
      },
    };

    expect(rulesFor(duplicated, P1)).toEqual(expect.arrayContaining(['event-duplicate', 'events-differ']));
    expect(rulesFor(gapped, P1)).toEqual(expect.arrayContaining(['events-gap', 'events-order']));
  });

  it('names a missing alert, an alert where none is due, and counts a repeated page as a duplicate', () => {
    const records = soundRecords();
    const [alert] = records.alerts;
    const missing = { ...records, alerts: [] };
    const unexpected = {
      ...records,
      alerts: [
        ...records.alerts,
        { ...alert!, messageId: 'sns-2', message: alert!.message.replaceAll(P3, P1) },
      ],
    };
    const repeated = { ...records, alerts: [...records.alerts, { ...alert!, messageId: 'sns-3' }, alert!] };

    expect(rulesFor(missing, P3)).toEqual(['vend-failed-alert-missing']);
    expect(rulesFor(unexpected, P1)).toEqual(['vend-failed-alert-unexpected']);
    const audit = auditChaos(repeated);
    expect(audit.violations).toEqual([]);
    expect(audit.duplicates).toMatchObject({ alerts: 1, alertRedeliveries: 1 });
  });

  it('names a vend made twice, a credit the payment does not show, and a payment left stuck', () => {
    const records = soundRecords();
    const [vend] = records.vendor.vends;
    const twice = { ...records, vendor: { vends: [vend!, { ...vend!, utrn: '99999999999999999999' }] } };
    const creditedUnshown = { ...records, vendor: { vends: [vend!, { ...vend!, transactionId: P3 }] } };
    const stuck = {
      ...records,
      executions: records.executions.map((execution) =>
        execution.name === P3 ? { ...execution, currentState: 'Vend' } : execution,
      ),
    };

    expect(rulesFor(twice, P1)).toContain('vended-twice');
    expect(rulesFor(creditedUnshown, P3)).toEqual(['credited-but-not-vended']);
    expect(rulesFor(stuck, P3)).toEqual(['stuck']);
  });

  it('allows a decision that could not be carried out when on-call was paged, and names a silent one', () => {
    // Prepare: P3's refund was decided, the gateway kept failing, and P3 waits for another decision.
    const records = soundRecords();
    const decided = {
      ...records,
      database: {
        ...records.database,
        decisions: [{ decisionId: 'd1', paymentId: P3, action: 'refund', utrn: null }],
      },
      decisionsSent: [{ paymentId: P3, decisionId: 'd1', action: 'refund' }],
      decisionsMade: true,
    };
    const page = {
      messageId: 'sns-9',
      subject: 'PaymentToVend: an operator decision could not be carried out',
      message: `The refund decision on payment ${P3} could not be carried out: PaymentGatewayUnavailable. The payment is still open. Execution ${EXECUTION(P3)}.`,
    };
    const paged = { ...decided, alerts: [...decided.alerts, page] };
    const pagedTwice = { ...decided, alerts: [...decided.alerts, page, { ...page, messageId: 'sns-10' }] };

    expect(auditChaos(paged).violations).toEqual([]);
    expect(auditChaos(paged).decisionsNotCarriedOut).toBe(1);
    expect(rulesFor(decided, P3)).toEqual(['decision-not-carried-out']);
    expect(rulesFor(pagedTwice, P3)).toEqual(['decision-failed-alert-unexpected']);
  });

  it('names a follow-up message missing or of the wrong vend round, and a kept card number', () => {
    const records = soundRecords();
    const noMessage = { ...records, queues: { ...records.queues, vendingFailure: [] } };
    const wrongRound = {
      ...records,
      queues: {
        ...records.queues,
        vendingFailure: records.queues.vendingFailure.map((body) => ({ ...(body as object), vendRound: 2 })),
      },
    };
    const kept = { ...records, secretsFound: ['a card number in logs/system-0002.log'] };

    expect(rulesFor(noMessage, P3)).toEqual(['vending-failure-message-missing']);
    expect(rulesFor(wrongRound, P3)).toEqual(['vending-failure-message-rounds']);
    expect(auditChaos(kept).violations).toEqual([
      expect.objectContaining({ rule: 'secret-kept', detail: 'a card number in logs/system-0002.log' }),
    ]);
  });
});

describe('the status-token scan', () => {
  it('finds a whole token wherever it sits, and not a part of one', () => {
    const token = 'MYnTuFwP6sxMSVMup8CY0Gbo1XsV9h_zdnwcj6U3cG8';
    const other = 'vXO8dDlpaG0J3b6Zin66yNV6-n-T-6ahHsEW1mcrBUU';

    expect(tokensIn(`{"eventsUrl":"/api/payments/pay_1/events?token=${token}"}`, [token, other])).toBe(1);
    expect(tokensIn(`\u0000\u0003abc${token}xyz${other}`, [token, other])).toBe(2);
    expect(tokensIn(`token=${token.slice(0, 40)}`, [token])).toBe(0);
  });
});

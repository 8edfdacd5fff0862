import { beforeEach, describe, expect, it } from 'vitest';
import type {
  ChargedNotVendedPayment,
  ReconciliationRecords,
  ReconciliationRun,
  RecordedCharge,
  RecordedRun,
} from '../../database/reconciliation.ts';
import type {
  GatewayChargeListing,
  GatewayChargeListQuery,
  GatewayChargePage,
  ListedGatewayCharge,
} from '../shared/payment-gateway/client.ts';
import { PaymentGatewayUnavailableError } from '../shared/payment-gateway/errors.ts';
import { RecordingLogger } from '../shared/testing/fakes.ts';
import { CHARGES_PER_PAGE, createReconcile, MAX_CHARGE_PAGES, MAX_CHARGED_NOT_VENDED } from './reconcile.ts';

const NOW = new Date('2026-03-10T12:00:00.000Z');
const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();

/** The gateway's listing over a fixed set of charges, paged and filtered as the gateway does; records every query. */
class ListedCharges implements GatewayChargeListing {
  readonly queries: GatewayChargeListQuery[] = [];
  failure: Error | undefined;

  constructor(readonly charges: ListedGatewayCharge[] = []) {}

  async listCharges(query: GatewayChargeListQuery): Promise<GatewayChargePage> {
    this.queries.push(query);
    if (this.failure) throw this.failure;
    const newestFirst = this.#newestFirst();
    const from =
      query.startingAfter === undefined
        ? 0
        : newestFirst.findIndex(({ charge }) => charge.chargeId === query.startingAfter) + 1;
    const after = query.createdAfter?.getTime() ?? Number.NEGATIVE_INFINITY;
    const before = query.createdBefore?.getTime() ?? Number.POSITIVE_INFINITY;
    const limit = query.limit ?? 10;
    const listed: ListedGatewayCharge[] = [];
    for (const { charge, at } of newestFirst.slice(from)) {
      if (at < after || at >= before) continue;
      listed.push(charge);
      if (listed.length > limit) break;
    }
    return { charges: listed.slice(0, limit), hasMore: listed.length > limit };
  }

  #sorted: { charge: ListedGatewayCharge; at: number }[] = [];

  #newestFirst() {
    if (this.#sorted.length !== this.charges.length) {
      this.#sorted = this.charges
        .map((charge) => ({ charge, at: Date.parse(charge.createdAt) }))
        .sort((a, b) => b.at - a.at);
    }
    return this.#sorted;
  }
}

/** The reconciliation records in memory: stuck payments and payments' charges as given; runs recorded. */
class RecordsDouble implements ReconciliationRecords {
  readonly stuck: ChargedNotVendedPayment[] = [];
  readonly payments = new Map<string, RecordedCharge>();
  readonly runs: ReconciliationRun[] = [];
  readonly lookedUp: string[][] = [];
  readonly stuckQueries: { olderThanMinutes: number; limit: number }[] = [];
  resolves = 0;

  async chargedNotVended(request: { olderThanMinutes: number; limit: number }) {
    this.stuckQueries.push(request);
    return this.stuck.slice(0, request.limit);
  }

  async recordedCharges(paymentIds: readonly string[]) {
    this.lookedUp.push([...paymentIds]);
    return [...new Set(paymentIds)].flatMap((id) => this.payments.get(id) ?? []);
  }

  async recordRun(run: ReconciliationRun): Promise<RecordedRun> {
    this.runs.push(run);
    return { found: run.findings.length, opened: run.findings.length, resolved: this.resolves };
  }
}

function charge(
  chargeId: string,
  reference: string,
  createdMinutesAgo: number,
  overrides: Partial<ListedGatewayCharge> = {},
): ListedGatewayCharge {
  return {
    chargeId,
    status: 'succeeded',
    reference,
    amountPence: 2000,
    amountRefundedPence: 0,
    refunded: false,
    createdAt: minutesAgo(createdMinutesAgo),
    ...overrides,
  };
}

let gateway: ListedCharges;
let records: RecordsDouble;
let logger: RecordingLogger;
let reconcile: ReturnType<typeof createReconcile>;

beforeEach(() => {
  gateway = new ListedCharges();
  records = new RecordsDouble();
  logger = new RecordingLogger();
  reconcile = createReconcile({ gateway, records, logger, now: () => NOW });
});

describe('reconcile', () => {
  it('finds the payments charged but not vended past the threshold, as the records give them', async () => {
    // Prepare
    records.stuck.push(
      {
        paymentId: 'pay_stuck',
        amountPence: 2000,
        status: 'charged',
        gatewayChargeId: 'ch_1',
        since: minutesAgo(90),
      },
      {
        paymentId: 'pay_fell_through',
        amountPence: 1500,
        status: 'vend_failed',
        gatewayChargeId: 'ch_2',
        since: minutesAgo(70),
      },
    );

    // Act
    const summary = await reconcile({});

    // Assess
    expect(summary).toEqual({ chargedNotVended: 2, chargeWithoutPayment: 0, resolved: 0 });
    expect(records.stuckQueries).toEqual([{ olderThanMinutes: 60, limit: MAX_CHARGED_NOT_VENDED + 1 }]);
    expect(records.runs[0]?.findings).toEqual([
      {
        kind: 'charged_not_vended',
        paymentId: 'pay_stuck',
        gatewayChargeId: 'ch_1',
        amountPence: 2000,
        paymentStatus: 'charged',
        occurredAt: minutesAgo(90),
      },
      expect.objectContaining({
        kind: 'charged_not_vended',
        paymentId: 'pay_fell_through',
        paymentStatus: 'vend_failed',
      }),
    ]);
  });

  it('finds the succeeded charges no payment records, and none that a payment records, was declined or was refunded in full', async () => {
    // Prepare
    gateway.charges.push(
      charge('ch_recorded', 'pay_recorded', 120),
      charge('ch_not_ours', 'order_from_elsewhere', 130),
      charge('ch_unconfirmed', 'pay_unconfirmed', 140),
      charge('ch_second', 'pay_recorded', 150),
      charge('ch_declined', 'pay_declined', 160, { status: 'failed' }),
      charge('ch_refunded', 'pay_lost', 170, { amountRefundedPence: 2000, refunded: true }),
      charge('ch_part_refunded', 'pay_lost_too', 180, { amountRefundedPence: 500 }),
    );
    records.payments.set('pay_recorded', {
      paymentId: 'pay_recorded',
      status: 'vended',
      gatewayChargeId: 'ch_recorded',
    });
    records.payments.set('pay_unconfirmed', {
      paymentId: 'pay_unconfirmed',
      status: 'charge_unconfirmed',
      gatewayChargeId: null,
    });

    // Act
    const summary = await reconcile({});

    // Assess
    expect(summary).toEqual({ chargedNotVended: 0, chargeWithoutPayment: 4, resolved: 0 });
    expect(records.runs[0]?.findings).toEqual([
      {
        kind: 'charge_without_payment',
        paymentId: null,
        reference: 'order_from_elsewhere',
        gatewayChargeId: 'ch_not_ours',
        amountPence: 2000,
        paymentStatus: null,
        occurredAt: minutesAgo(130),
      },
      expect.objectContaining({
        gatewayChargeId: 'ch_unconfirmed',
        paymentId: 'pay_unconfirmed',
        paymentStatus: 'charge_unconfirmed',
      }),
      expect.objectContaining({
        gatewayChargeId: 'ch_second',
        paymentId: 'pay_recorded',
        paymentStatus: 'vended',
      }),
      expect.objectContaining({ gatewayChargeId: 'ch_part_refunded', paymentId: null, amountPence: 1500 }),
    ]);
    // The declined and the refunded charges' references are not even looked up.
    expect(records.lookedUp.flat()).not.toContain('pay_declined');
    expect(records.lookedUp.flat()).not.toContain('pay_lost');
  });

  it('reads the gateway from the lookback up to the threshold ago, every page, and records that window', async () => {
    // Prepare: 250 charges inside the window, one too recent, one too old
    for (let index = 0; index < 250; index += 1)
      gateway.charges.push(charge(`ch_${index}`, `pay_${index}`, 61 + index));
    gateway.charges.push(
      charge('ch_too_recent', 'pay_too_recent', 30),
      charge('ch_too_old', 'pay_too_old', 49 * 60),
    );

    // Act
    const summary = await reconcile({});

    // Assess
    const window = { start: new Date('2026-03-08T12:00:00.000Z'), end: new Date('2026-03-10T11:00:00.000Z') };
    expect(gateway.queries).toEqual([
      { createdAfter: window.start, createdBefore: window.end, limit: CHARGES_PER_PAGE },
      {
        createdAfter: window.start,
        createdBefore: window.end,
        limit: CHARGES_PER_PAGE,
        startingAfter: 'ch_99',
      },
      {
        createdAfter: window.start,
        createdBefore: window.end,
        limit: CHARGES_PER_PAGE,
        startingAfter: 'ch_199',
      },
    ]);
    expect(summary.chargeWithoutPayment).toBe(250);
    expect(records.runs).toEqual([
      {
        findings: expect.any(Array),
        chargeWindow: window,
        complete: { chargedNotVended: true, charges: true },
      },
    ]);
  });

  it('takes another threshold and lookback from the event, and EventBridge’s scheduled event as it comes', async () => {
    // Act
    await reconcile({ thresholdMinutes: 30, lookbackHours: 2 });
    await reconcile({
      version: '0',
      id: '5d2f5a8e-0000-0000-0000-000000000000',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      time: '2026-03-10T12:00:00Z',
      resources: ['arn:aws:events:eu-west-2:111111111111:rule/Reconciliation'],
      detail: {},
    });

    // Assess
    expect(records.runs.map((run) => run.chargeWindow)).toEqual([
      { start: new Date('2026-03-10T10:00:00.000Z'), end: new Date('2026-03-10T11:30:00.000Z') },
      { start: new Date('2026-03-08T12:00:00.000Z'), end: new Date('2026-03-10T11:00:00.000Z') },
    ]);
    expect(records.stuckQueries.map((query) => query.olderThanMinutes)).toEqual([30, 60]);
  });

  it.each([{ thresholdMinutes: 0 }, { thresholdMinutes: '30' }, { lookbackHours: 1, thresholdMinutes: 90 }])(
    'refuses %o before reading anything',
    async (event) => {
      // Act
      const failure = await reconcile(event).catch((error: unknown) => error);

      // Assess
      expect((failure as Error).name).toBe('ZodError');
      expect(gateway.queries).toEqual([]);
      expect(records.runs).toEqual([]);
    },
  );

  it('logs one line, with counts and no card data, and returns the summary with what the run resolved', async () => {
    // Prepare
    gateway.charges.push(charge('ch_not_ours', 'tok_visa_reference', 90));
    records.resolves = 3;

    // Act
    const summary = await reconcile({});

    // Assess
    expect(summary).toEqual({ chargedNotVended: 0, chargeWithoutPayment: 1, resolved: 3 });
    expect(logger.lines).toHaveLength(1);
    expect(JSON.parse(logger.lines[0]!)).toEqual([
      'info',
      'reconciled the gateway with the payments',
      {
        chargedNotVended: 0,
        chargeWithoutPayment: 1,
        resolved: 3,
        opened: 1,
        chargesListed: 1,
        window: { start: '2026-03-08T12:00:00.000Z', end: '2026-03-10T11:00:00.000Z' },
        thresholdMinutes: 60,
      },
    ]);
    expect(logger.lines[0]).not.toMatch(/tok_|paymentToken|ch_not_ours/);
  });

  it('says so when it could read only part of the window or of the stuck payments, and resolves nothing there', async () => {
    // Prepare
    for (let index = 0; index < MAX_CHARGE_PAGES * CHARGES_PER_PAGE + 1; index += 1) {
      gateway.charges.push(charge(`ch_${index}`, `pay_${index}`, 61 + index / 100));
    }
    for (let index = 0; index <= MAX_CHARGED_NOT_VENDED; index += 1) {
      records.stuck.push({
        paymentId: `pay_stuck_${index}`,
        amountPence: 2000,
        status: 'charged',
        gatewayChargeId: `ch_stuck_${index}`,
        since: minutesAgo(90),
      });
    }

    // Act
    const summary = await reconcile({});

    // Assess
    expect(gateway.queries).toHaveLength(MAX_CHARGE_PAGES);
    expect(summary).toMatchObject({
      chargedNotVended: MAX_CHARGED_NOT_VENDED,
      chargeWithoutPayment: MAX_CHARGE_PAGES * CHARGES_PER_PAGE,
    });
    expect(records.runs[0]?.complete).toEqual({ chargedNotVended: false, charges: false });
    expect(logger.lines).toHaveLength(1);
    expect(JSON.parse(logger.lines[0]!)).toEqual([
      'warn',
      expect.stringMatching(/in part/),
      expect.objectContaining({ complete: { chargedNotVended: false, charges: false } }),
    ]);
  });

  it('records nothing when the gateway cannot be read', async () => {
    // Prepare
    gateway.failure = new PaymentGatewayUnavailableError('the payment gateway answered 503', { status: 503 });

    // Act
    const failure = await reconcile({}).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(PaymentGatewayUnavailableError);
    expect(records.runs).toEqual([]);
  });
});

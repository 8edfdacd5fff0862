/**
 * The simulators' fault plan: how it picks requests, and each fault met through the HTTP clients the task
 * Lambdas use. Whatever the fault, the parties keep their promises: a retry with the same idempotency key or
 * transaction id gets what was committed, and nothing is charged or vended twice.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpPaymentGateway } from '../tasks/shared/payment-gateway/client.ts';
import {
  PaymentGatewayRequestInProgressError,
  PaymentGatewayUnavailableError,
} from '../tasks/shared/payment-gateway/errors.ts';
import { HttpVendingVendor } from '../tasks/shared/vending-vendor/client.ts';
import { VendorUnavailableError } from '../tasks/shared/vending-vendor/errors.ts';
import {
  FAULT_KINDS,
  type Fault,
  FaultPlan,
  type FaultPlanOptions,
  type FaultRule,
  type FaultTarget,
  faultPlanFromEnv,
} from './faults.ts';
import { testMpan } from './mpan.ts';
import type { SimulatorLogger } from './server.ts';
import { type RunningSimulators, startSimulators } from './start-simulators.ts';

const CHARGE_POST: FaultTarget = { simulator: 'gateway', method: 'POST', path: '/v1/charges' };
const VEND_POST: FaultTarget = { simulator: 'vendor', method: 'POST', path: '/v1/vends' };
const ORDINARY_METER = '1200000000011';

type LogEntry = Parameters<SimulatorLogger>[0];

let running: RunningSimulators | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

/** Simulators with a fault plan, the real clients pointed at them, and the request log. */
async function withFaults(rules: readonly FaultRule[], clientTimeoutMs = 5_000) {
  const log: LogEntry[] = [];
  running = await startSimulators({
    port: 0,
    faults: { rules: [...rules] },
    logger: (entry) => log.push(entry),
  });
  return {
    simulators: running,
    log,
    gateway: new HttpPaymentGateway({ baseUrl: running.gatewayUrl, timeoutMs: clientTimeoutMs }),
    vendor: new HttpVendingVendor({ baseUrl: running.vendorUrl, timeoutMs: clientTimeoutMs }),
  };
}

function chargeOf(idempotencyKey: string) {
  return { idempotencyKey, amountPence: 2000, paymentToken: 'tok_visa', reference: idempotencyKey };
}

function vendOf(transactionId: string, meterId = ORDINARY_METER) {
  return { transactionId, meterId, amountPence: 2000 };
}

function decisions(plan: FaultPlan, targets: readonly FaultTarget[]): (Fault['kind'] | undefined)[] {
  return targets.map((target) => plan.decide(target)?.kind);
}

describe('the fault plan', () => {
  it('faults the same requests for the same seed, and uses every kind of fault by default', () => {
    // Prepare
    const requests = Array.from({ length: 400 }, (_, index) => (index % 2 === 0 ? CHARGE_POST : VEND_POST));

    // Act
    const first = decisions(new FaultPlan({ seed: 42 }), requests);
    const again = decisions(new FaultPlan({ seed: 42 }), requests);
    const otherSeed = decisions(new FaultPlan({ seed: 43 }), requests);

    // Assess
    expect(again).toEqual(first);
    expect(otherSeed).not.toEqual(first);
    expect(new Set(first.filter((kind) => kind !== undefined))).toEqual(new Set(FAULT_KINDS));
  });

  it('leaves GETs alone by default: only the requests with promises to keep are faulted', () => {
    // Act
    const kinds = decisions(
      new FaultPlan({ seed: 42 }),
      Array.from({ length: 200 }, () => ({ ...CHARGE_POST, method: 'GET' })),
    );

    // Assess
    expect(kinds.every((kind) => kind === undefined)).toBe(true);
  });

  it('lets `after` requests through, answers 5xx in a burst, and stops after `times`', () => {
    // Prepare
    const plan = new FaultPlan({ rules: [{ fault: 'error', after: 1, burst: 2, times: 3 }] });

    // Act
    const kinds = decisions(
      plan,
      Array.from({ length: 6 }, () => CHARGE_POST),
    );

    // Assess
    expect(kinds).toEqual([undefined, 'error', 'error', 'error', undefined, undefined]);
  });

  it.each([
    ['simulator', { simulator: 'vendor' }],
    ['method', { method: 'get' }],
    ['path', { path: '/v1/refunds' }],
    ['path prefix', { pathPrefix: '/v1/ref' }],
  ] as const)('faults only the requests its %s matches', (_, match) => {
    // Prepare
    const plan = new FaultPlan({ rules: [{ fault: 'drop', ...match }] });

    // Act
    const kinds = decisions(plan, [CHARGE_POST, { simulator: 'vendor', method: 'GET', path: '/v1/refunds' }]);

    // Assess
    expect(kinds).toEqual([undefined, 'drop']);
  });

  it.each([
    [undefined, undefined],
    ['', undefined],
    ['off', undefined],
    ['seed:42', { seed: 42 }],
    [
      '{"seed":7,"rules":[{"fault":"timeout","path":"/v1/vends","holdMs":1000}]}',
      { seed: 7, rules: [{ fault: 'timeout', path: '/v1/vends', holdMs: 1000 }] },
    ],
  ] as const)('reads SIMULATOR_FAULTS=%j', (value, expected) => {
    // Act
    const plan = faultPlanFromEnv(value);

    // Assess
    expect(plan).toEqual(expected);
  });

  it.each([
    'seed:forty-two',
    'chaos',
    '{"seed":',
    '{"rules":[{"fault":"explode"}]}',
    '{"rules":[{"fault":"error","status":404}]}',
  ])('refuses SIMULATOR_FAULTS=%s, naming the forms it takes', (value) => {
    // Act
    const reading = () => faultPlanFromEnv(value);

    // Assess
    expect(reading).toThrow(/SIMULATOR_FAULTS must be/);
  });
});

describe('faults met through the task clients', () => {
  it('a charge committed and its answer dropped is replayed to the retry, not repeated', async () => {
    // Prepare
    const { simulators, gateway, log } = await withFaults([
      { fault: 'drop', simulator: 'gateway', path: '/v1/charges', times: 1 },
    ]);

    // Act
    const dropped = await gateway.charge(chargeOf('pay_fault_drop')).catch((error: unknown) => error);
    const retried = await gateway.charge(chargeOf('pay_fault_drop'));

    // Assess
    expect(dropped).toBeInstanceOf(PaymentGatewayUnavailableError);
    expect(retried).toEqual({ status: 'succeeded', chargeId: simulators.gateway.charges()[0]?.id });
    expect(simulators.gateway.chargeCount('pay_fault_drop')).toBe(1);
    expect(simulators.gateway.requestCount('pay_fault_drop')).toBe(2);
    expect(log.map((entry) => entry.fault)).toEqual(['drop', undefined]);
  });

  it('a refund committed and its answer dropped is replayed to the retry, not repeated', async () => {
    // Prepare
    const { simulators, gateway } = await withFaults([
      { fault: 'drop', simulator: 'gateway', path: '/v1/refunds', times: 1 },
    ]);
    const charged = await gateway.charge(chargeOf('pay_fault_refund'));
    const chargeId = charged.status === 'succeeded' ? charged.chargeId : 'not charged';
    const refund = { idempotencyKey: 'refund_pay_fault_refund', chargeId, reason: 'vend_failed' } as const;

    // Act
    const dropped = await gateway.refund(refund).catch((error: unknown) => error);
    const retried = await gateway.refund(refund);

    // Assess
    expect(dropped).toBeInstanceOf(PaymentGatewayUnavailableError);
    expect(retried).toEqual({ refundId: simulators.gateway.refunds()[0]?.id, amountPence: 2000 });
    expect(simulators.gateway.refundCount(chargeId)).toBe(1);
  });

  it('a vend committed and its answer dropped gets the same UTRN on the retry, and is not vended again', async () => {
    // Prepare
    const { simulators, vendor } = await withFaults([
      { fault: 'drop', simulator: 'vendor', path: '/v1/vends', times: 1 },
    ]);

    // Act
    const dropped = await vendor.vend(vendOf('pay_fault_drop_vend')).catch((error: unknown) => error);
    const retried = await vendor.vend(vendOf('pay_fault_drop_vend'));

    // Assess
    expect(dropped).toBeInstanceOf(VendorUnavailableError);
    expect(retried).toEqual({ utrn: simulators.vendor.vends()[0]?.utrn, creditPence: 2000 });
    expect(simulators.vendor.vendCount('pay_fault_drop_vend')).toBe(1);
    expect(simulators.vendor.attemptCount('pay_fault_drop_vend')).toBe(2);
  });

  it('a slow answer reaches a client that waits for it', async () => {
    // Prepare
    const { simulators, gateway, vendor, log } = await withFaults([{ fault: 'slow', delayMs: 200 }]);

    // Act
    const charged = await gateway.charge(chargeOf('pay_fault_slow'));
    const vended = await vendor.vend(vendOf('pay_fault_slow'));

    // Assess
    expect(charged.status).toBe('succeeded');
    expect(vended.utrn).toBe(simulators.vendor.vends()[0]?.utrn);
    expect(log.map(({ fault, status }) => ({ fault, status }))).toEqual([
      { fault: 'slow', status: 200 },
      { fault: 'slow', status: 200 },
    ]);
  });

  it('a client that gives up on a slow answer retries with the same key and is charged once', async () => {
    // Prepare: the first request waits far longer than the client does.
    const { simulators } = await withFaults([
      { fault: 'slow', simulator: 'gateway', delayMs: 60_000, times: 1 },
    ]);
    const impatient = new HttpPaymentGateway({ baseUrl: simulators.gatewayUrl, timeoutMs: 100 });
    const patient = new HttpPaymentGateway({ baseUrl: simulators.gatewayUrl, timeoutMs: 5_000 });

    // Act
    const gaveUp = await impatient.charge(chargeOf('pay_fault_gave_up')).catch((error: unknown) => error);
    const retried = await patient.charge(chargeOf('pay_fault_gave_up'));

    // Assess
    expect(gaveUp).toBeInstanceOf(PaymentGatewayUnavailableError);
    expect(retried.status).toBe('succeeded');
    expect(simulators.gateway.chargeCount('pay_fault_gave_up')).toBe(1);
  });

  it('a burst of 5xx reaches neither party: the retries after it charge and vend once', async () => {
    // Prepare
    const { simulators, gateway, vendor } = await withFaults([
      { fault: 'error', simulator: 'gateway', burst: 2, times: 2 },
      { fault: 'error', simulator: 'vendor', status: 502, burst: 2, times: 2 },
    ]);

    // Act
    const chargeFailures = [
      await gateway.charge(chargeOf('pay_fault_burst')).catch((error: unknown) => error),
      await gateway.charge(chargeOf('pay_fault_burst')).catch((error: unknown) => error),
    ];
    const charged = await gateway.charge(chargeOf('pay_fault_burst'));
    const vendFailures = [
      await vendor.vend(vendOf('pay_fault_burst')).catch((error: unknown) => error),
      await vendor.vend(vendOf('pay_fault_burst')).catch((error: unknown) => error),
    ];
    const vended = await vendor.vend(vendOf('pay_fault_burst'));

    // Assess
    expect(chargeFailures.map((error) => error instanceof PaymentGatewayUnavailableError)).toEqual([
      true,
      true,
    ]);
    expect(charged.status).toBe('succeeded');
    expect(simulators.gateway.requestCount('pay_fault_burst')).toBe(1);
    expect(vendFailures.map((error) => error instanceof VendorUnavailableError)).toEqual([true, true]);
    expect(vended.utrn).toMatch(/^\d{20}$/);
    expect(simulators.vendor.attemptCount('pay_fault_burst')).toBe(1);
  });

  it('an answer held past the client timeout after commit is replayed to the retry', async () => {
    // Prepare: held for longer than the test lasts, so only the clients' giving up ends each hold.
    const { simulators, log } = await withFaults([{ fault: 'timeout', holdMs: 600_000, times: 2 }]);
    const impatientGateway = new HttpPaymentGateway({ baseUrl: simulators.gatewayUrl, timeoutMs: 200 });
    const impatientVendor = new HttpVendingVendor({ baseUrl: simulators.vendorUrl, timeoutMs: 200 });

    // Act
    const chargeTimedOut = await impatientGateway
      .charge(chargeOf('pay_fault_timeout'))
      .catch((error: unknown) => error);
    const vendTimedOut = await impatientVendor
      .vend(vendOf('pay_fault_timeout'))
      .catch((error: unknown) => error);
    await expect.poll(() => log.filter((entry) => entry.fault === 'timeout').length).toBe(2);
    const charged = await impatientGateway.charge(chargeOf('pay_fault_timeout'));
    const vended = await impatientVendor.vend(vendOf('pay_fault_timeout'));

    // Assess
    expect(chargeTimedOut).toBeInstanceOf(PaymentGatewayUnavailableError);
    expect(vendTimedOut).toBeInstanceOf(VendorUnavailableError);
    expect(charged).toEqual({ status: 'succeeded', chargeId: simulators.gateway.charges()[0]?.id });
    expect(vended.utrn).toBe(simulators.vendor.vends()[0]?.utrn);
    expect(simulators.gateway.chargeCount('pay_fault_timeout')).toBe(1);
    expect(simulators.vendor.vendCount('pay_fault_timeout')).toBe(1);
    expect(log.filter((entry) => entry.fault === 'timeout').map((entry) => entry.status)).toEqual([200, 200]);
  });

  it('under the seeded random plan (SIMULATOR_FAULTS=seed:42) every payment is charged once and vended once', async () => {
    // Prepare
    const log: LogEntry[] = [];
    running = await startSimulators({
      port: 0,
      faults: faultPlanFromEnv('seed:42') as FaultPlanOptions,
      logger: (entry) => log.push(entry),
    });
    const gateway = new HttpPaymentGateway({ baseUrl: running.gatewayUrl, timeoutMs: 2_000 });
    const vendor = new HttpVendingVendor({ baseUrl: running.vendorUrl, timeoutMs: 2_000 });
    const paymentIds = Array.from({ length: 15 }, (_, index) => `pay_fault_random_${index}`);

    // Act
    const outcomes = [];
    for (const paymentId of paymentIds) {
      const charged = await untilAnswered(() => gateway.charge(chargeOf(paymentId)));
      const vended = await untilAnswered(() =>
        vendor.vend(vendOf(paymentId, testMpan('00', paymentIds.indexOf(paymentId)))),
      );
      outcomes.push({ charged, vended });
    }

    // Assess
    const simulators = running;
    expect(log.some((entry) => entry.fault !== undefined)).toBe(true);
    for (const [index, paymentId] of paymentIds.entries()) {
      expect(simulators.gateway.chargeCount(paymentId), paymentId).toBe(1);
      expect(simulators.vendor.vendCount(paymentId), paymentId).toBe(1);
      expect(outcomes[index]?.charged.status, paymentId).toBe('succeeded');
    }
    expect(outcomes.map(({ vended }) => vended.utrn)).toEqual(
      simulators.vendor.vends().map((made) => made.utrn),
    );
  }, 120_000);
});

/** What a task's retries do: the same call again while the party says "not now", up to a bound. */
async function untilAnswered<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const transient =
        error instanceof PaymentGatewayUnavailableError ||
        error instanceof PaymentGatewayRequestInProgressError ||
        error instanceof VendorUnavailableError;
      if (!transient || attempt === 30) throw error;
      await sleep(50);
    }
  }
}

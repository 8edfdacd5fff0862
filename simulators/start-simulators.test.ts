/**
 * Both simulators on one port: what `npm start` will run.
 */
import { describe, expect, it } from 'vitest';
import { testMpan } from './mpan.ts';
import { startSimulators } from './start-simulators.ts';
import { getJson, postJson } from './testing.ts';

const CHARGE = { amountPence: 2000, currency: 'GBP', paymentToken: 'tok_visa', reference: 'pay_1' };

describe('startSimulators', () => {
  it('serves the gateway under /gateway and the vendor under /vendor on one port', async () => {
    // Prepare
    const simulators = await startSimulators({ port: 0 });
    try {
      // Act
      const gateway = await getJson(`${simulators.url}/gateway`);
      const vendor = await getJson(`${simulators.url}/vendor/`);

      // Assess
      expect(simulators.gatewayUrl).toBe(`${simulators.url}/gateway`);
      expect(simulators.vendorUrl).toBe(`${simulators.url}/vendor`);
      expect(gateway.headers.get('x-simulator')).toBe('payment-gateway');
      expect(vendor.headers.get('x-simulator')).toBe('vending-vendor');
      expect(gateway.json.simulator).toBe('payment-gateway');
      expect(vendor.json.simulator).toBe('vending-vendor');
    } finally {
      await simulators.close();
    }
  });

  it('closes at once even while slow answers are pending', async () => {
    // Prepare
    const simulators = await startSimulators({
      port: 0,
      gateway: { slowDelayMs: 600_000 },
      vendor: { slowDelayMs: 600_000 },
    });
    const slowCharge = postJson(
      `${simulators.gatewayUrl}/v1/charges`,
      { ...CHARGE, paymentToken: 'tok_slow' },
      { 'Idempotency-Key': 'slow' },
    );
    const slowVend = postJson(`${simulators.vendorUrl}/v1/vends`, {
      transactionId: 'slow',
      meterId: testMpan('09'),
      amountPence: 2000,
    });
    const outcomes = Promise.allSettled([slowCharge, slowVend]);
    await expect.poll(() => simulators.gateway.requestCount('slow')).toBe(1);
    await expect.poll(() => simulators.vendor.attemptCount('slow')).toBe(1);

    // Act
    await simulators.close();

    // Assess
    expect((await outcomes).map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    expect(simulators.gateway.chargeCount('slow')).toBe(0);
    expect(simulators.vendor.vendCount('slow')).toBe(0);
  });

  it('logs each request without its body or headers', async () => {
    // Prepare
    const entries: unknown[] = [];
    const simulators = await startSimulators({ port: 0, logger: (entry) => entries.push(entry) });
    try {
      // Act
      await postJson(
        `${simulators.gatewayUrl}/v1/charges`,
        { ...CHARGE, paymentToken: '4242424242424242' },
        { 'Idempotency-Key': 'k' },
      );

      // Assess
      expect(entries).toEqual([
        { simulator: 'payment-gateway', method: 'POST', path: '/gateway/v1/charges', status: 400 },
      ]);
    } finally {
      await simulators.close();
    }
  });

  it('forgets charges and vends on reset', async () => {
    // Prepare
    const simulators = await startSimulators({ port: 0 });
    try {
      const first = await postJson(`${simulators.gatewayUrl}/v1/charges`, CHARGE, { 'Idempotency-Key': 'k' });
      await postJson(`${simulators.vendorUrl}/v1/vends`, {
        transactionId: 't',
        meterId: testMpan('00'),
        amountPence: 2000,
      });

      // Act
      simulators.reset();
      const again = await postJson(`${simulators.gatewayUrl}/v1/charges`, CHARGE, { 'Idempotency-Key': 'k' });

      // Assess
      expect(again.headers.get('idempotent-replayed')).toBeNull();
      expect(again.json.id).not.toBe(first.json.id);
      expect(simulators.vendor.vends()).toHaveLength(0);
    } finally {
      await simulators.close();
    }
  });
});

/** The vendor client against the vendor simulator: success, replay, outage and every kind of refusal. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testMpan } from '../../../simulators/mpan.ts';
import { type RunningSimulators, startSimulators } from '../../../simulators/start-simulators.ts';
import { HttpVendingVendor } from './client.ts';
import { VendorUnavailableError, VendRejectedError, VendRequestRefusedError } from './errors.ts';

let simulators: RunningSimulators;
let vendor: HttpVendingVendor;

beforeAll(async () => {
  simulators = await startSimulators({ port: 0 });
  vendor = new HttpVendingVendor({ baseUrl: simulators.vendorUrl, timeoutMs: 5_000 });
});

afterAll(async () => {
  await simulators.close();
});

describe('HttpVendingVendor', () => {
  it('vends once per transaction id, answering a repeat with the same UTRN', async () => {
    // Act
    const first = await vendor.vend({ transactionId: 'pay_v1', meterId: '1200000000011', amountPence: 2000 });
    const again = await vendor.vend({ transactionId: 'pay_v1', meterId: '1200000000011', amountPence: 2000 });

    // Assess
    expect(first).toEqual({ utrn: expect.stringMatching(/^\d{20}$/), creditPence: 2000 });
    expect(again).toEqual(first);
    expect(simulators.vendor.vendCount('pay_v1')).toBe(1);
  });

  it('throws VendorUnavailable while the vendor is down', async () => {
    // Act
    const failure = await vendor
      .vend({ transactionId: 'pay_v2', meterId: testMpan('02'), amountPence: 2000 })
      .catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(VendorUnavailableError);
    expect((failure as Error).name).toBe('VendorUnavailable');
  });

  it.each([
    ['03', 'NOT_FOR_THIS_DEVICE'],
    ['04', 'DUPLICATE_UTRN'],
    ['08', 'METER_LOCKED_OUT'],
  ])('throws VendRejected for meter scenario %s with code %s', async (scenario, rejectionCode) => {
    // Act
    const failure = await vendor
      .vend({ transactionId: `pay_v3_${scenario}`, meterId: testMpan(scenario), amountPence: 2000 })
      .catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(VendRejectedError);
    expect(failure).toMatchObject({ name: 'VendRejected', rejectionCode });
  });

  it('throws a refused request for an invalid meter id and for a reused transaction id', async () => {
    // Prepare
    await vendor.vend({ transactionId: 'pay_v4', meterId: '1200000000011', amountPence: 2000 });

    // Act
    const invalid = await vendor
      .vend({ transactionId: 'pay_v5', meterId: '1200000000012', amountPence: 2000 })
      .catch((error: unknown) => error);
    const reused = await vendor
      .vend({ transactionId: 'pay_v4', meterId: '1200000000011', amountPence: 3000 })
      .catch((error: unknown) => error);

    // Assess
    expect(invalid).toMatchObject({ name: 'VendRequestRefused', status: 400, errorCode: 'INVALID_METER_ID' });
    expect(reused).toBeInstanceOf(VendRequestRefusedError);
    expect(reused).toMatchObject({ status: 409 });
  });

  it('looks a transaction up without vending: vended with its UTRN, or not vended (never asked, rejected)', async () => {
    // Prepare
    const made = await vendor.vend({ transactionId: 'pay_v6', meterId: '1200000000011', amountPence: 1200 });
    await vendor
      .vend({ transactionId: 'pay_v7', meterId: testMpan('03'), amountPence: 1200 })
      .catch(() => undefined);

    // Act
    const vended = await vendor.lookUp('pay_v6');
    const rejected = await vendor.lookUp('pay_v7');
    const never = await vendor.lookUp('pay_v8');

    // Assess
    expect(vended).toEqual({ status: 'vended', ...made });
    expect(rejected).toEqual({ status: 'not_vended', rejectionCode: 'NOT_FOR_THIS_DEVICE' });
    expect(never).toEqual({ status: 'not_vended', rejectionCode: null });
    expect(simulators.vendor.attemptCount('pay_v6')).toBe(1);
    expect(simulators.vendor.vendCount('pay_v8')).toBe(0);
  });

  it('throws VendorUnavailable when the vendor cannot tell: unreachable, or the vend still under way', async () => {
    // Prepare
    const unreachable = new HttpVendingVendor({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 1_000 });
    const slow = vendor.vend({ transactionId: 'pay_v9', meterId: testMpan('09'), amountPence: 1200 });
    await new Promise((resolve) => setTimeout(resolve, 100));

    // Act
    const down = await unreachable.lookUp('pay_v6').catch((error: unknown) => error);
    const underWay = await vendor.lookUp('pay_v9').catch((error: unknown) => error);
    await slow;

    // Assess
    expect(down).toBeInstanceOf(VendorUnavailableError);
    expect(underWay).toBeInstanceOf(VendorUnavailableError);
    expect((underWay as Error).message).toContain('still working on this vend');
  });
});

/** The vendor client against the vendor simulator: success, replay, outage and every kind of refusal. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testMpan } from '../../../local/simulators/mpan.ts';
import { type RunningSimulators, startSimulators } from '../../../local/simulators/start-simulators.ts';
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
});

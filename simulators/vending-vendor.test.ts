/**
 * The vending vendor simulator over HTTP, as the meter vending Lambda will reach it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testMpan, withCheckDigit } from './mpan.ts';
import { type RunningSimulators, startSimulators } from './start-simulators.ts';
import { getJson, postJson } from './testing.ts';
import { isUtrn } from './utrn.ts';

const ORDINARY_METER = withCheckDigit('120000000001');

let simulators: RunningSimulators;
let vendsUrl: string;

beforeAll(async () => {
  simulators = await startSimulators({ port: 0, vendor: { slowDelayMs: 300 } });
  vendsUrl = `${simulators.vendorUrl}/v1/vends`;
});

afterAll(async () => {
  await simulators.close();
});

beforeEach(() => {
  simulators.reset();
});

function vend(meterId: string, transactionId: string = randomUUID(), amountPence = 2000) {
  return postJson(vendsUrl, { transactionId, meterId, amountPence });
}

describe('vending', () => {
  it('vends to any valid MPAN at the first attempt and says it is a simulator', async () => {
    // Prepare
    const transactionId = randomUUID();

    // Act
    const answer = await vend(ORDINARY_METER, transactionId, 2500);

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-simulator')).toBe('vending-vendor');
    expect(answer.json).toMatchObject({ transactionId, meterId: ORDINARY_METER, creditPence: 2500 });
    expect(isUtrn(answer.json.utrn)).toBe(true);
    expect(simulators.vendor.vendCount(transactionId)).toBe(1);
  });

  it('returns the same UTRN for the same transaction and never vends twice', async () => {
    // Prepare
    const transactionId = randomUUID();
    const first = await vend(ORDINARY_METER, transactionId);

    // Act
    const again = await vend(ORDINARY_METER, transactionId);

    // Assess
    expect(again.status).toBe(200);
    expect(again.text).toBe(first.text);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(simulators.vendor.vends()).toHaveLength(1);
  });

  it('gives different transactions different UTRNs', async () => {
    // Act
    const first = await vend(ORDINARY_METER);
    const second = await vend(ORDINARY_METER);

    // Assess
    expect(second.json.utrn).not.toBe(first.json.utrn);
  });

  it('vends once when requests for one transaction overlap, answering each with the same UTRN', async () => {
    // Prepare
    const transactionId = randomUUID();

    // Act
    const answers = await Promise.all(Array.from({ length: 4 }, () => vend(testMpan('09'), transactionId)));

    // Assess
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(new Set(answers.map((answer) => answer.json.utrn)).size).toBe(1);
    expect(simulators.vendor.vendCount(transactionId)).toBe(1);
  });

  it('refuses a transaction id reused for another meter or amount with 409', async () => {
    // Prepare
    const transactionId = randomUUID();
    await vend(ORDINARY_METER, transactionId, 2000);

    // Act
    const answer = await vend(ORDINARY_METER, transactionId, 3000);

    // Assess
    expect(answer.status).toBe(409);
    expect(answer.json).toMatchObject({ errorCode: 'TRANSACTION_ID_CONFLICT', retryable: false });
    expect(simulators.vendor.vends()).toHaveLength(1);
  });

  it('describes its meters at its root', async () => {
    // Act
    const answer = await getJson(`${simulators.vendorUrl}/`);

    // Assess
    expect(answer.json.notice).toMatch(/SIMULATOR/);
    expect(Object.keys(answer.json.meters)).toEqual(expect.arrayContaining(['9901…', '9902…', '9903…']));
  });
});

describe('test meters', () => {
  it('9901… fails transiently twice per transaction, then vends', async () => {
    // Prepare
    const meterId = testMpan('01');
    const transactionId = randomUUID();

    // Act
    const answers = [
      await vend(meterId, transactionId),
      await vend(meterId, transactionId),
      await vend(meterId, transactionId),
    ];

    // Assess
    expect(answers.map((answer) => answer.status)).toEqual([503, 503, 200]);
    expect(answers[0]!.json).toMatchObject({ errorCode: 'VENDOR_UNAVAILABLE', retryable: true });
    expect(answers[0]!.headers.get('retry-after')).toBe('1');
    expect(isUtrn(answers[2]!.json.utrn)).toBe(true);
    expect(simulators.vendor.vendCount(transactionId)).toBe(1);
    expect(simulators.vendor.attemptCount(transactionId)).toBe(3);
  });

  it('9901… counts failures per transaction id', async () => {
    // Prepare
    const meterId = testMpan('01');
    await vend(meterId, 'tx-a');
    await vend(meterId, 'tx-a');

    // Act
    const otherTransaction = await vend(meterId, 'tx-b');

    // Assess
    expect(otherTransaction.status).toBe(503);
  });

  it('9902… stays down', async () => {
    // Prepare
    const transactionId = randomUUID();

    // Act
    const answers = [];
    for (let attempt = 0; attempt < 5; attempt += 1) answers.push(await vend(testMpan('02'), transactionId));

    // Assess
    expect(answers.every((answer) => answer.status === 503)).toBe(true);
    expect(answers.every((answer) => answer.json.errorCode === 'VENDOR_UNAVAILABLE')).toBe(true);
    expect(simulators.vendor.vendCount(transactionId)).toBe(0);
  });

  it("9902… vends once its outage is ended (the simulator's control), under the same transaction id; other 9902… meters stay down", async () => {
    // Prepare
    const meter = testMpan('02', 7);
    const transactionId = randomUUID();
    const before = await vend(meter, transactionId);

    // Act
    const ended = await postJson(`${simulators.vendorUrl}/simulator/outages/${meter}/end`, {});
    const after = await vend(meter, transactionId);
    const otherMeter = await vend(testMpan('02', 8), randomUUID());

    // Assess
    expect(before.status).toBe(503);
    expect(ended).toMatchObject({ status: 200, json: { meterId: meter, outage: 'ended' } });
    expect(after.status).toBe(200);
    expect(isUtrn(after.json.utrn)).toBe(true);
    expect(simulators.vendor.vendCount(transactionId)).toBe(1);
    expect(otherMeter.status).toBe(503);
  });

  it('refuses to end the outage of something that is not a meter', async () => {
    // Act
    const answer = await postJson(`${simulators.vendorUrl}/simulator/outages/not-a-meter/end`, {});

    // Assess
    expect(answer).toMatchObject({ status: 400, json: { errorCode: 'INVALID_METER_ID' } });
  });

  it.each([
    ['03', 'NOT_FOR_THIS_DEVICE'],
    ['04', 'DUPLICATE_UTRN'],
    ['05', 'NOT_AUTHENTIC'],
    ['06', 'EXCEEDS_MAX_CREDIT_THRESHOLD'],
    ['07', 'EXCEEDS_MAX_METER_BALANCE'],
    ['08', 'METER_LOCKED_OUT'],
  ])('99%s… is rejected by the meter (422 %s), not to be retried', async (scenario, rejectionCode) => {
    // Prepare
    const transactionId = randomUUID();

    // Act
    const answer = await vend(testMpan(scenario), transactionId);
    const retry = await vend(testMpan(scenario), transactionId);

    // Assess
    expect(answer.status).toBe(422);
    expect(answer.json).toMatchObject({ errorCode: 'VEND_REJECTED', rejectionCode, retryable: false });
    expect(retry.status).toBe(422);
    expect(retry.text).toBe(answer.text);
    expect(simulators.vendor.vendCount(transactionId)).toBe(0);
  });

  it('9909… vends after a delay', async () => {
    // Act
    const answer = await vend(testMpan('09'));

    // Assess
    expect(answer.status).toBe(200);
    expect(isUtrn(answer.json.utrn)).toBe(true);
  });

  it.each([['00'], ['42']])('an unassigned test scenario 99%s… vends like any meter', async (scenario) => {
    // Act
    const answer = await vend(testMpan(scenario));

    // Assess
    expect(answer.status).toBe(200);
  });
});

describe('looking up a transaction', () => {
  const lookUp = (transactionId: string) => getJson(`${vendsUrl}/${encodeURIComponent(transactionId)}`);

  it('answers a vended transaction with its UTRN, without vending again', async () => {
    // Prepare
    const transactionId = randomUUID();
    const vended = await vend(ORDINARY_METER, transactionId, 1500);

    // Act
    const found = await lookUp(transactionId);

    // Assess
    expect(found.status).toBe(200);
    expect(found.json).toMatchObject({
      transactionId,
      status: 'vended',
      utrn: vended.json.utrn,
      creditPence: 1500,
      meterId: ORDINARY_METER,
    });
    expect(simulators.vendor.attemptCount(transactionId)).toBe(1);
  });

  it('answers 404 for a transaction that never vended, and for one that only failed transiently', async () => {
    // Prepare
    const failedOnce = randomUUID();
    await vend(testMpan('01'), failedOnce);

    // Act
    const unknown = await lookUp(randomUUID());
    const transient = await lookUp(failedOnce);

    // Assess
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ errorCode: 'TRANSACTION_NOT_FOUND', retryable: false });
    expect(transient.status).toBe(404);
  });

  it('answers a rejected transaction with the rejection code', async () => {
    // Prepare
    const transactionId = randomUUID();
    await vend(testMpan('03'), transactionId);

    // Act
    const found = await lookUp(transactionId);

    // Assess
    expect(found.json).toMatchObject({ status: 'rejected', rejectionCode: 'NOT_FOR_THIS_DEVICE' });
  });

  it('says a vend still under way is in progress, not absent', async () => {
    // Prepare
    const transactionId = randomUUID();
    const slow = vend(testMpan('09'), transactionId);
    await new Promise((resolve) => setTimeout(resolve, 50));

    // Act
    const during = await lookUp(transactionId);
    await slow;
    const after = await lookUp(transactionId);

    // Assess
    expect(during.json).toMatchObject({ transactionId, status: 'in_progress' });
    expect(after.json).toMatchObject({ status: 'vended' });
  });

  it("answers during a 9902… meter's outage: the vendor's records are not the meter network", async () => {
    // Prepare
    const transactionId = randomUUID();
    const refused = await vend(testMpan('02'), transactionId);

    // Act
    const found = await lookUp(transactionId);

    // Assess
    expect(refused.status).toBe(503);
    expect(found.status).toBe(404);
    expect(found.json).toMatchObject({ errorCode: 'TRANSACTION_NOT_FOUND' });
  });
});

describe('refusals', () => {
  it.each([
    ['1200000000012', 'a wrong check digit'],
    ['120000000001', '12 digits'],
    ['12000000000111', '14 digits'],
    ['12 0000 0000 011', 'spaces'],
  ])('refuses meter %j (%s) with 400 INVALID_METER_ID', async (meterId) => {
    // Act
    const answer = await vend(meterId);

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ errorCode: 'INVALID_METER_ID', retryable: false, field: 'meterId' });
    expect(simulators.vendor.vends()).toHaveLength(0);
  });

  it.each([
    [{ meterId: ORDINARY_METER, amountPence: 2000 }, 'transactionId'],
    [{ transactionId: 'tx', meterId: ORDINARY_METER, amountPence: 0 }, 'amountPence'],
    [{ transactionId: 'tx', meterId: ORDINARY_METER, amountPence: 19.99 }, 'amountPence'],
    [{ transactionId: 'tx', meterId: 1200000000011, amountPence: 2000 }, 'meterId'],
    [{ transactionId: 'tx', meterId: ORDINARY_METER, amountPence: 2000, pin: '1234' }, 'pin'],
  ])('refuses %j with 400 INVALID_REQUEST naming %s', async (body, field) => {
    // Act
    const answer = await postJson(vendsUrl, body);

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ errorCode: 'INVALID_REQUEST', retryable: false, field });
  });

  it('refuses a body that is not JSON', async () => {
    // Act
    const answer = await postJson(vendsUrl, 'meter=1');

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.json.errorCode).toBe('INVALID_REQUEST');
  });

  it('answers unknown routes and prefixes with 404', async () => {
    // Act
    const route = await getJson(`${simulators.vendorUrl}/v1/meters`);
    const prefix = await getJson(`${simulators.url}/elsewhere`);

    // Assess
    expect(route.status).toBe(404);
    expect(route.json.errorCode).toBe('ROUTE_NOT_FOUND');
    expect(prefix.status).toBe(404);
  });

  it('refuses a body over 64 KiB with 413', async () => {
    // Act
    const answer = await postJson(vendsUrl, { transactionId: 'x'.repeat(70_000) });

    // Assess
    expect(answer.status).toBe(413);
    expect(answer.json.errorCode).toBe('BODY_TOO_LARGE');
  });
});

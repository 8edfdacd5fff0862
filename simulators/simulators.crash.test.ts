/**
 * The simulators killed with SIGKILL (kill -9) and started again on their data directory, as `npm start`
 * runs them: what a real gateway and vendor would remember across a crash of theirs, they remember.
 * Afterwards each test opens the data directory in this process to count what was charged and vended.
 */
import { fileURLToPath } from 'node:url';
import { ChildProcesses, type RunningProcess } from '@payment-to-vend/embedded-aws/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { FaultPlanOptions } from './faults.ts';
import { testMpan } from './mpan.ts';
import { type RunningSimulators, startSimulators } from './start-simulators.ts';
import { getJson, postJson } from './testing.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/simulators-process.ts', import.meta.url));
const ORDINARY_METER = '1200000000011';
const CRASH_TEST_TIMEOUT_MS = 60_000;

const processes = new ChildProcesses();
afterEach(() => processes.killAll());
afterAll(() => processes.removeTempDirs());

interface ProcessOptions {
  readonly gateway?: { readonly slowDelayMs?: number };
  readonly faults?: FaultPlanOptions;
}

/** The simulators in a child process on `dataDir`; `value` is their URL. */
function startProcess(dataDir: string, options: ProcessOptions = {}): Promise<RunningProcess<string>> {
  return processes.start(FIXTURE, [dataDir, JSON.stringify(options)]);
}

/** What the data directory of killed simulators holds, read by opening it here. */
async function afterTheCrash<T>(dataDir: string, read: (simulators: RunningSimulators) => T): Promise<T> {
  const simulators = await startSimulators({ port: 0, dataDir });
  try {
    return read(simulators);
  } finally {
    await simulators.close();
  }
}

function charge(url: string, key: string, paymentToken = 'tok_visa') {
  return postJson(
    `${url}/gateway/v1/charges`,
    { amountPence: 2000, currency: 'GBP', paymentToken, reference: key },
    { 'Idempotency-Key': key },
  );
}

function vend(url: string, transactionId: string, meterId = ORDINARY_METER) {
  return postJson(`${url}/vendor/v1/vends`, { transactionId, meterId, amountPence: 2000 });
}

describe('the payment gateway simulator killed with -9', () => {
  it(
    'replays a charge acknowledged before the crash to the same key, and charges nothing twice',
    async () => {
      // Prepare
      const dataDir = processes.tempDir('simulators-crash-charge-');
      const before = await startProcess(dataDir);
      const first = await charge(before.value, 'pay_crash_charge');
      await before.kill();

      // Act
      const after = await startProcess(dataDir);
      const again = await charge(after.value, 'pay_crash_charge');
      const listed = await getJson(`${after.value}/gateway/v1/charges?reference=pay_crash_charge`);
      await after.kill();

      // Assess
      expect(first.status).toBe(200);
      expect(again.status).toBe(200);
      expect(again.text).toBe(first.text);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.headers.get('original-request')).toBe(first.headers.get('request-id'));
      expect(listed.json.data.map((listedCharge: { id: string }) => listedCharge.id)).toEqual([
        first.json.id,
      ]);
      expect(await afterTheCrash(dataDir, ({ gateway }) => gateway.chargeCount('pay_crash_charge'))).toBe(1);
    },
    CRASH_TEST_TIMEOUT_MS,
  );

  it(
    'replays a refund acknowledged before the crash, and refunds nothing twice',
    async () => {
      // Prepare
      const dataDir = processes.tempDir('simulators-crash-refund-');
      const before = await startProcess(dataDir);
      const charged = await charge(before.value, 'pay_crash_refund');
      const refundRequest = { charge: charged.json.id, reason: 'vend_failed' };
      const first = await postJson(`${before.value}/gateway/v1/refunds`, refundRequest, {
        'Idempotency-Key': 'refund_pay_crash_refund',
      });
      await before.kill();

      // Act
      const after = await startProcess(dataDir);
      const again = await postJson(`${after.value}/gateway/v1/refunds`, refundRequest, {
        'Idempotency-Key': 'refund_pay_crash_refund',
      });
      const refunded = await getJson(`${after.value}/gateway/v1/charges/${charged.json.id}`);
      await after.kill();

      // Assess
      expect(first.status).toBe(200);
      expect(again.text).toBe(first.text);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(refunded.json).toMatchObject({ amountRefundedPence: 2000, refunded: true });
      expect(await afterTheCrash(dataDir, ({ gateway }) => gateway.refundCount(charged.json.id))).toBe(1);
    },
    CRASH_TEST_TIMEOUT_MS,
  );

  it(
    "keeps counting tok_gatewayOutage's failures across the crash instead of starting again",
    async () => {
      // Prepare
      const dataDir = processes.tempDir('simulators-crash-outage-');
      const before = await startProcess(dataDir);
      const failures = [
        await charge(before.value, 'pay_crash_outage', 'tok_gatewayOutage'),
        await charge(before.value, 'pay_crash_outage', 'tok_gatewayOutage'),
      ];
      await before.kill();

      // Act
      const after = await startProcess(dataDir);
      const third = await charge(after.value, 'pay_crash_outage', 'tok_gatewayOutage');
      await after.kill();

      // Assess
      expect(failures.map((failure) => failure.status)).toEqual([503, 503]);
      expect(third.status).toBe(200);
      expect(
        await afterTheCrash(dataDir, ({ gateway }) => ({
          charges: gateway.chargeCount('pay_crash_outage'),
          requests: gateway.requestCount('pay_crash_outage'),
        })),
      ).toEqual({ charges: 1, requests: 3 });
    },
    CRASH_TEST_TIMEOUT_MS,
  );

  it(
    'frees the key of a charge in progress at the crash: nothing was charged, and a retry charges once',
    async () => {
      // Prepare: a tok_slow charge that is still waiting when the process dies.
      const dataDir = processes.tempDir('simulators-crash-in-flight-');
      const before = await startProcess(dataDir, { gateway: { slowDelayMs: 600_000 } });
      const lost = charge(before.value, 'pay_crash_in_flight', 'tok_slow').catch((error: unknown) => error);
      await expect
        .poll(async () => (await charge(before.value, 'pay_crash_in_flight', 'tok_slow')).json?.error?.code, {
          timeout: 10_000,
        })
        .toBe('idempotency_request_in_progress');
      await before.kill();

      // Act
      const after = await startProcess(dataDir, { gateway: { slowDelayMs: 10 } });
      const retried = await charge(after.value, 'pay_crash_in_flight', 'tok_slow');
      const replayed = await charge(after.value, 'pay_crash_in_flight', 'tok_slow');
      await after.kill();

      // Assess
      expect(await lost).toBeInstanceOf(Error);
      expect(retried.status).toBe(200);
      expect(retried.headers.get('idempotent-replayed')).toBeNull();
      expect(replayed.text).toBe(retried.text);
      expect(await afterTheCrash(dataDir, ({ gateway }) => gateway.chargeCount('pay_crash_in_flight'))).toBe(
        1,
      );
    },
    CRASH_TEST_TIMEOUT_MS,
  );
});

describe('the vending vendor simulator killed with -9', () => {
  it(
    'returns the same UTRN for the transaction id after the crash, and vends nothing twice',
    async () => {
      // Prepare
      const dataDir = processes.tempDir('simulators-crash-vend-');
      const before = await startProcess(dataDir);
      const first = await vend(before.value, 'pay_crash_vend');
      await before.kill();

      // Act
      const after = await startProcess(dataDir);
      const again = await vend(after.value, 'pay_crash_vend');
      await after.kill();

      // Assess
      expect(first.status).toBe(200);
      expect(again.text).toBe(first.text);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await afterTheCrash(dataDir, ({ vendor }) => vendor.vends().map((made) => made.utrn))).toEqual([
        first.json.utrn,
      ]);
    },
    CRASH_TEST_TIMEOUT_MS,
  );

  it(
    "keeps counting a 9901… meter's failures across the crash: it fails twice in all, not twice per process",
    async () => {
      // Prepare
      const dataDir = processes.tempDir('simulators-crash-flaky-');
      const before = await startProcess(dataDir);
      const firstFailure = await vend(before.value, 'pay_crash_flaky', testMpan('01'));
      await before.kill();

      // Act
      const after = await startProcess(dataDir);
      const secondFailure = await vend(after.value, 'pay_crash_flaky', testMpan('01'));
      const third = await vend(after.value, 'pay_crash_flaky', testMpan('01'));
      await after.kill();

      // Assess
      expect([firstFailure.status, secondFailure.status, third.status]).toEqual([503, 503, 200]);
      expect(
        await afterTheCrash(dataDir, ({ vendor }) => ({
          vends: vendor.vendCount('pay_crash_flaky'),
          attempts: vendor.attemptCount('pay_crash_flaky'),
        })),
      ).toEqual({ vends: 1, attempts: 3 });
    },
    CRASH_TEST_TIMEOUT_MS,
  );
});

describe('an answer dropped after commit, then a kill -9', () => {
  it(
    'replays the committed charge and vend to the retries after the restart',
    async () => {
      // Prepare: the first charge and the first vend are made, then their connections destroyed unanswered.
      const dataDir = processes.tempDir('simulators-crash-dropped-');
      const before = await startProcess(dataDir, {
        faults: {
          rules: [
            { fault: 'drop', simulator: 'gateway', path: '/v1/charges', times: 1 },
            { fault: 'drop', simulator: 'vendor', path: '/v1/vends', times: 1 },
          ],
        },
      });
      const lostCharge = await charge(before.value, 'pay_crash_dropped').catch((error: unknown) => error);
      const lostVend = await vend(before.value, 'pay_crash_dropped').catch((error: unknown) => error);
      await before.kill();

      // Act
      const after = await startProcess(dataDir);
      const charged = await charge(after.value, 'pay_crash_dropped');
      const vended = await vend(after.value, 'pay_crash_dropped');
      await after.kill();

      // Assess
      expect(lostCharge).toBeInstanceOf(Error);
      expect(lostVend).toBeInstanceOf(Error);
      expect(charged.status).toBe(200);
      expect(charged.headers.get('idempotent-replayed')).toBe('true');
      expect(vended.status).toBe(200);
      expect(vended.headers.get('idempotent-replayed')).toBe('true');
      expect(
        await afterTheCrash(dataDir, ({ gateway, vendor }) => ({
          chargeIds: gateway.charges().map((made) => made.id),
          utrns: vendor.vends().map((made) => made.utrn),
        })),
      ).toEqual({ chargeIds: [charged.json.id], utrns: [vended.json.utrn] });
    },
    CRASH_TEST_TIMEOUT_MS,
  );
});

/**
 * The whole system (embedded AWS, task Lambdas, front-end) killed with SIGKILL mid-payment and started again
 * on its data directory, as `npm start` would be: the payment carries on to the credit, the card charged
 * once and the meter vended once, the customer's events complete and in order, and nobody paged.
 *
 * The gateway and vendor simulators run here, in the test's process, not in the killed one: what they
 * remember (idempotency keys, charges, vends) survives the crash, as a real gateway's and vendor's would.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type PublishedMessage, SnsEngine } from '@payment-to-vend/embedded-aws';
import { ChildProcesses } from '@payment-to-vend/embedded-aws/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulators, startSimulators } from '../simulators/start-simulators.ts';
import { synthesizeLocalDefinition } from '../workflow/local-definition.ts';
import {
  type AcceptedPayment,
  type PaymentStatus,
  type RunningPaymentSystem,
  startPaymentSystemProcess,
  waitUntil,
} from './testing/payment-system-processes.ts';
import { findSecrets } from './testing/secrets-scan.ts';

const SLOW_CHARGE_MS = 8_000;
/** A test card number (Luhn-valid) that each scenario sends where card data must be refused. */
const CARD_NUMBER = '4000056655665556';
let simulators: RunningSimulators;
let definitionFile: string;

beforeAll(async () => {
  // tok_slow answers after longer than the system takes to restart, so a resumed Charge finds it in progress.
  simulators = await startSimulators({ port: 0, gateway: { slowDelayMs: SLOW_CHARGE_MS } });
  definitionFile = join(mkdtempSync(join(tmpdir(), 'payment-to-vend-asl-')), 'payment-to-vend.asl.json');
  // Short vend timings: after a crash, the Vend step's heartbeat timeout is what retries a vend in flight.
  const definition = synthesizeLocalDefinition({
    props: {
      vendHeartbeatSeconds: 5,
      vendTimeoutSeconds: 30,
      vendRetryIntervalSeconds: 1,
      chargeRetryIntervalSeconds: 1,
    },
  });
  writeFileSync(definitionFile, JSON.stringify(definition));
}, 60_000);

afterAll(async () => {
  await simulators?.close();
  if (definitionFile !== undefined) rmSync(dirname(definitionFile), { recursive: true, force: true });
});

/**
 * `it` with child processes of the test's own (killed, and their folders removed, after it), so the two
 * scenarios can run side by side: each waits seconds on the simulators and on the Vend step's heartbeat.
 */
const test = it.extend<{ children: ChildProcesses }>({
  // biome-ignore lint/correctness/noEmptyPattern: Vitest reads a fixture's dependencies from this pattern.
  children: async ({}, use) => {
    const children = new ChildProcesses();
    try {
      await use(children);
    } finally {
      children.killAll();
      children.removeTempDirs();
    }
  },
});

function start(children: ChildProcesses, dataDir: string): Promise<RunningPaymentSystem> {
  return startPaymentSystemProcess(children, {
    dataDir,
    providers: { gatewayUrl: simulators.gatewayUrl, vendorUrl: simulators.vendorUrl },
    definitionFile,
  });
}

/** SIGKILLs the system as soon as `inFlight` holds; fails the test unless it still held as the signal went. */
async function killWhile(
  system: RunningPaymentSystem,
  paymentId: string,
  what: string,
  inFlight: () => boolean,
): Promise<void> {
  await withHistory(system, paymentId, waitUntil(what, inFlight, { timeoutMs: 30_000, intervalMs: 5 }));
  // Checked and killed in one turn of the event loop: the simulators answer in later turns.
  const stillInFlight = inFlight();
  const killed = system.kill();
  expect(stillInFlight, `${what} when killed`).toBe(true);
  await killed;
}

/** A wait that, timing out, says where the execution had got to. */
async function withHistory<T>(system: RunningPaymentSystem, paymentId: string, wait: Promise<T>): Promise<T> {
  try {
    return await wait;
  } catch (error) {
    const history = await system.executionHistory(paymentId).catch((cause: unknown) => String(cause));
    throw new Error(`${(error as Error).message}\nexecution history:\n${history}`);
  }
}

/** Waits for the execution to end, then reads the payment as its customer would. */
async function outcomeOf(
  system: RunningPaymentSystem,
  accepted: AcceptedPayment,
): Promise<{ status: string; payment: PaymentStatus; history: string }> {
  let status = 'RUNNING';
  await withHistory(
    system,
    accepted.paymentId,
    waitUntil('the payment execution ends', async () => {
      status = await system.executionStatus(accepted.paymentId);
      return status !== 'RUNNING';
    }),
  );
  return {
    status,
    payment: await system.payment(accepted),
    history: await system.executionHistory(accepted.paymentId),
  };
}

/** What reached SNS (the OnCall topic is its only topic), read from the data directory of a dead system. */
async function publishedTo(dataDir: string): Promise<PublishedMessage[]> {
  const sns = await SnsEngine.open({ dataDir });
  try {
    return sns.published();
  } finally {
    await sns.close();
  }
}

/** The data directory (journals, queues, database files) and every log hold no status token or card number. */
function expectNoSecretsKept(
  dataDir: string,
  logs: readonly (() => string)[],
  accepted: AcceptedPayment,
): void {
  const output = logs.map((log) => log());
  // The logs are on (as npm start has them), so an empty scan means something.
  expect(output.join('').length).toBeGreaterThan(0);
  expect(
    findSecrets(
      { dataDir, logs: output },
      { statusTokens: [accepted.statusToken], cardNumbers: [CARD_NUMBER] },
    ),
  ).toEqual([]);
}

function summary({ status, payment }: { status: string; payment: PaymentStatus }) {
  return { status, events: payment.events.map((event) => event.type) };
}

describe.concurrent('the payment system killed with -9 mid-payment and started again', () => {
  test('charges once and vends when it dies while the charge is at the gateway', async ({ children }) => {
    // Prepare
    const { gateway, vendor } = simulators;
    const dataDir = children.tempDir('payment-system-crash-charge-');
    let system = await start(children, dataDir);
    const accepted = await system.topUp({
      meterId: '1200000000011',
      amountPence: 2000,
      paymentToken: 'tok_slow',
    });
    const { paymentId } = accepted;
    const refusals = await system.sendCardData(CARD_NUMBER);
    const logs = [() => system.output()];

    // Act
    await killWhile(
      system,
      paymentId,
      'the charge is at the gateway',
      () => gateway.requestCount(paymentId) > 0 && gateway.chargeCount(paymentId) === 0,
    );
    // Started again at once: the resumed Charge usually finds the first request still at the gateway (409, in
    // progress) and keeps asking until the gateway replays the charge it made (a machine slow to restart finds
    // the charge done and has it replayed at once; both must end the same).
    system = await start(children, dataDir);
    logs.push(() => system.output());
    const outcome = await outcomeOf(system, accepted);
    await system.kill();
    const published = await publishedTo(dataDir);

    // Assess
    expect(summary(outcome), outcome.history).toEqual({
      status: 'SUCCEEDED',
      events: ['accepted', 'charged', 'vend_requested', 'vended'],
    });
    expect(refusals).toEqual([400, 400, 400, 400]);
    expectNoSecretsKept(dataDir, logs, accepted);
    const { events } = outcome.payment;
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    // Asked again after the restart, and answered from the first charge.
    expect(gateway.requestCount(paymentId)).toBeGreaterThan(1);
    expect(gateway.charges().filter((charge) => charge.reference === paymentId)).toEqual([
      expect.objectContaining({ status: 'succeeded', idempotencyKey: paymentId }),
    ]);
    const vends = vendor.vends().filter((vend) => vend.transactionId === paymentId);
    expect(vends).toHaveLength(1);
    expect(events.at(-1)?.utrn).toBe(vends[0]?.utrn);
    expect(published).toEqual([]);
  }, 150_000);

  test('vends once when it dies while the vend is at the vendor', async ({ children }) => {
    // Prepare
    const { gateway, vendor } = simulators;
    const dataDir = children.tempDir('payment-system-crash-vend-');
    let system = await start(children, dataDir);
    const accepted = await system.topUp({
      meterId: '9909000000011',
      amountPence: 2000,
      paymentToken: 'tok_visa',
    });
    const { paymentId } = accepted;
    const logs = [() => system.output()];

    // Act
    await killWhile(
      system,
      paymentId,
      'the vend is at the vendor',
      () => vendor.attemptCount(paymentId) > 0 && vendor.vendCount(paymentId) === 0,
    );
    // The message the dead process had received stays invisible for the queue's visibility timeout; the
    // Vend step's heartbeat timeout sends the next attempt, under the same transaction id.
    system = await start(children, dataDir);
    logs.push(() => system.output());
    const refusals = await system.sendCardData(CARD_NUMBER);
    const outcome = await outcomeOf(system, accepted);
    await system.kill();
    const published = await publishedTo(dataDir);

    // Assess
    expect(summary(outcome), outcome.history).toEqual({
      status: 'SUCCEEDED',
      events: ['accepted', 'charged', 'vend_requested', 'vend_retrying', 'vended'],
    });
    expect(refusals).toEqual([400, 400, 400, 400]);
    expectNoSecretsKept(dataDir, logs, accepted);
    const { events } = outcome.payment;
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    expect(gateway.charges().filter((charge) => charge.reference === paymentId)).toEqual([
      expect.objectContaining({ status: 'succeeded', idempotencyKey: paymentId }),
    ]);
    expect(vendor.attemptCount(paymentId)).toBeGreaterThan(1);
    const vends = vendor.vends().filter((vend) => vend.transactionId === paymentId);
    expect(vends).toHaveLength(1);
    expect(events.at(-1)?.utrn).toBe(vends[0]?.utrn);
    expect(published).toEqual([]);
  }, 150_000);
});

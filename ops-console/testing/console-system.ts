/**
 * Test support: the whole payment system in this process (the embedded AWS running PaymentToVend with short
 * retries, the task Lambdas, the simulators, the database), the front-end to pay through (and, when asked, the
 * customer page served on a port of its own), and operator consoles built on it through the AWS SDK like any
 * other client. It uses no test runner's API, so scripts (scripts/screenshots.ts) start it too.
 *
 * @example
 * const env = await startConsoleSystem({ serveCustomerPage: true });
 * const { executionArn } = await env.pay({ meterId: '9901000000017' });
 * await env.waitUntilFinished(executionArn);
 * const { url } = await env.serveConsole({ actionsEnabled: true, database: env.system.consoleDatabase });
 * await env.close();
 */
import { randomUUID } from 'node:crypto';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { FastifyInstance } from 'fastify';
import { migratedSnapshot } from '../../database/testing/migrated-snapshot.ts';
import { buildApp } from '../../frontend-api/app.ts';
import { freePort } from '../../frontend-api/testing/browser.ts';
import { testMpan } from '../../simulators/mpan.ts';
import { type PaymentSystem, startPaymentSystem } from '../../system/payment-system.ts';
import { synthesizeLocalDefinition } from '../../workflow/local-definition.ts';
import { buildOpsConsole } from '../app.ts';
import type { OpsConsoleConfigInput } from '../config.ts';
import { currentStateOf } from '../executions/history.ts';
import { PAYMENT_TO_VEND_DECISION_STATES } from '../executions/outcomes.ts';

/** The simulators' scenarios the console tests use (README: test cards and meters). */
export const METERS = {
  vends: '1200000000011',
  /** The vendor fails twice, then vends. */
  flaky: '9901000000017',
  /** The vendor stays down. */
  vendorDown: '9902000000019',
  /** The meter refuses the UTRN: NOT_FOR_THIS_DEVICE. */
  notForThisDevice: '9903000000010',
  /** The vendor answers after 2 s. */
  slow: '9909000000011',
} as const;

export const CARDS = {
  visa: 'tok_visa',
  declined: 'tok_chargeDeclined',
  /** The gateway never answers: the charge stays unconfirmed. */
  gatewayDown: 'tok_gatewayDown',
} as const;

/** Past METERS.vendorDown's serial (1), which other tests keep down. */
let meterSerial = 100;

/**
 * A vendor-down meter of its own (`testMpan('02', n)`): each has its own outage, so a test that ends one
 * (`system.simulators.vendor.endOutage`) leaves the others down. (Each system has simulators of its own, so
 * systems never share an outage.)
 */
export function freshVendorDownMeter(): string {
  meterSerial += 1;
  return testMpan('02', meterSerial);
}

/** Vend retries take about a second each here; nothing waits on a clock, only up to this for a condition. */
export const FINISH_TIMEOUT_MS = 60_000;

/** Vend attempts per round here (the first included): a vendor that stays down is tried this often. */
export const MAX_VEND_ATTEMPTS = 4;

export interface ConsoleSystemOptions {
  /** Serve the front-end (the customer page and its API) on a free port, at `customerPageUrl`. */
  readonly serveCustomerPage?: boolean;
  /** Where the system keeps its state; default null, in memory. */
  readonly dataDir?: string | null;
}

export interface ConsoleSystem {
  readonly system: PaymentSystem;
  readonly sfn: SFNClient;
  /** The customer page, such as http://127.0.0.1:41234 (only with `serveCustomerPage`). */
  readonly customerPageUrl: string | undefined;
  /** Pays through the front-end, as a customer does; the execution is named by the payment id. */
  pay(options: { meterId?: string; paymentToken?: string; amountPence?: number }): Promise<{
    paymentId: string;
    executionArn: string;
  }>;
  /** Waits (bounded) until the execution is no longer running, and answers its status. */
  waitUntilFinished(executionArn: string): Promise<string>;
  /**
   * Waits (bounded) until the execution waits in AwaitDecision with its task handed to the follow-up function
   * (so the payment's follow-up row holds the token an operator's decision goes to); with `visits`, until it
   * waits there for the visits-th time (after a decision that failed, say).
   */
  waitUntilAwaitingDecision(executionArn: string, options?: { visits?: number }): Promise<void>;
  buildConsole(config?: OpsConsoleConfigInput): Promise<FastifyInstance>;
  /** A console listening on a free loopback port, for a browser. */
  serveConsole(config?: OpsConsoleConfigInput): Promise<{ app: FastifyInstance; url: string }>;
  close(): Promise<void>;
}

export async function startConsoleSystem(options: ConsoleSystemOptions = {}): Promise<ConsoleSystem> {
  const system = await startPaymentSystem({
    port: 0,
    databaseSnapshot: await migratedSnapshot(),
    dataDir: options.dataDir ?? null,
    simulatorsPort: 0,
    logLevel: 'SILENT',
    definition: synthesizeLocalDefinition({
      props: {
        maxVendAttempts: MAX_VEND_ATTEMPTS,
        vendRetryIntervalSeconds: 1,
        vendBackoffRate: 1,
        vendMaxDelaySeconds: 1,
        chargeRetryIntervalSeconds: 1,
      },
    }),
  });
  // The events socket checks the page's Origin: the port is known before the app is built.
  const customerPort = options.serveCustomerPage ? await freePort() : undefined;
  const customerPageUrl = customerPort === undefined ? undefined : `http://127.0.0.1:${customerPort}`;
  const frontEnd = await buildApp({
    config: {
      awsEndpointUrl: system.aws.endpoint,
      stateMachineArn: system.stateMachineArn,
      database: system.database,
      rateLimitMax: 10_000,
      ...(customerPageUrl === undefined ? {} : { allowedOrigins: [customerPageUrl] }),
    },
  });
  if (customerPort !== undefined) await frontEnd.listen({ port: customerPort, host: '127.0.0.1' });
  const sfn = new SFNClient({
    endpoint: system.aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const consoles: FastifyInstance[] = [];

  const buildConsole = async (config: OpsConsoleConfigInput = {}) => {
    const app = await buildOpsConsole({ config: { awsEndpointUrl: system.aws.endpoint, ...config } });
    consoles.push(app);
    return app;
  };

  return {
    system,
    sfn,
    customerPageUrl,
    async pay({ meterId = METERS.vends, paymentToken = CARDS.visa, amountPence = 2000 }) {
      const response = await frontEnd.inject({
        method: 'POST',
        url: '/api/payments',
        // A UUID: a run of digits passing the Luhn check would be refused as a card number.
        headers: { 'idempotency-key': `ops-${randomUUID()}` },
        payload: { meterId, amountPence, paymentToken },
      });
      if (response.statusCode !== 202) {
        throw new Error(`The front-end answered ${response.statusCode}: ${response.body}`);
      }
      const { paymentId } = response.json() as { paymentId: string };
      const executionArn = `${system.stateMachineArn.replace(':stateMachine:', ':execution:')}:${paymentId}`;
      return { paymentId, executionArn };
    },
    async waitUntilFinished(executionArn) {
      return pollUntil(
        async () => {
          const { status } = await sfn.send(new DescribeExecutionCommand({ executionArn }));
          return status === 'RUNNING' || status === 'PENDING_REDRIVE' ? undefined : (status ?? 'UNKNOWN');
        },
        { timeoutMs: FINISH_TIMEOUT_MS, what: `${executionArn} to finish` },
      );
    },
    async waitUntilAwaitingDecision(executionArn, { visits = 1 } = {}) {
      const awaitDecision = PAYMENT_TO_VEND_DECISION_STATES.awaitDecision;
      await pollUntil(
        async () => {
          const { events = [] } = await sfn.send(
            new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 10 }),
          );
          const submitted = events[0]?.type === 'TaskSubmitted';
          if (!submitted || currentStateOf(events) !== awaitDecision) return undefined;
          if (visits === 1) return true;
          const { events: all = [] } = await sfn.send(
            new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }),
          );
          const entered = all.filter(
            (event) =>
              event.type === 'TaskStateEntered' && event.stateEnteredEventDetails?.name === awaitDecision,
          );
          return entered.length >= visits ? true : undefined;
        },
        { timeoutMs: FINISH_TIMEOUT_MS, what: `${executionArn} to wait for a decision (visit ${visits})` },
      );
    },
    buildConsole,
    async serveConsole(config = {}) {
      const app = await buildConsole(config);
      await app.listen({ port: 0, host: '127.0.0.1' });
      const address = app.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      return { app, url: `http://127.0.0.1:${port}` };
    },
    async close() {
      await Promise.all(consoles.map((app) => app.close()));
      sfn.destroy();
      await frontEnd.close();
      await system.close();
    },
  };
}

/**
 * Asks `check` every `intervalMs` until it answers something other than undefined, for at most `timeoutMs`
 * (expect.poll does this inside a test; this works in hooks too).
 */
export async function pollUntil<T>(
  check: () => Promise<T | undefined>,
  { timeoutMs, intervalMs = 200, what }: { timeoutMs: number; intervalMs?: number; what: string },
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await check();
    if (answer !== undefined) return answer;
    if (Date.now() > deadline) throw new Error(`Waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

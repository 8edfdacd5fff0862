/**
 * Crash-test support for the whole system: the system in a child process (`payment-system-process.ts`),
 * driven over HTTP as a customer drives it, with a Step Functions client for the execution's status, and
 * killed with SIGKILL as `kill -9` would.
 *
 * @example
 * const processes = new ChildProcesses();
 * const system = await startPaymentSystemProcess(processes, { dataDir, providers, definitionFile });
 * const accepted = await system.topUp({ meterId: '1200000000011', amountPence: 2000, paymentToken: 'tok_visa' });
 * await system.kill();
 */

import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { ChildProcesses } from '@payment-to-vend/embedded-aws/testing';
import { sfnClient } from '@payment-to-vend/embedded-aws/testing';

const FIXTURE = fileURLToPath(new URL('./payment-system-process.ts', import.meta.url));
/** Runs the fixture from the system's bundle, with the task Lambdas' handlers bundled beside it. */
const LAUNCHER = fileURLToPath(new URL('../bundle/run-bundled.mjs', import.meta.url));

/** What the fixture prints, as one line of JSON after `ready `, once the front-end listens. */
export interface PaymentSystemProcessReady {
  readonly frontEndUrl: string;
  readonly awsEndpoint: string;
  readonly stateMachineArn: string;
}

export interface TopUp {
  readonly meterId: string;
  readonly amountPence: number;
  readonly paymentToken: string;
}

export interface AcceptedPayment {
  readonly paymentId: string;
  readonly statusToken: string;
  readonly eventsUrl: string;
}

export interface PaymentEvent {
  readonly seq: number;
  readonly type: string;
  readonly [field: string]: unknown;
}

export interface PaymentStatus {
  readonly paymentId: string;
  readonly status: string;
  readonly events: readonly PaymentEvent[];
}

export interface RunningPaymentSystem extends PaymentSystemProcessReady {
  /** POST /api/payments; throws unless it is accepted (202). */
  topUp(topUp: TopUp): Promise<AcceptedPayment>;
  /** GET /api/payments/{paymentId} with the payment's status token. */
  payment(accepted: AcceptedPayment): Promise<PaymentStatus>;
  /** The PaymentToVend execution's status (its name is the payment id). */
  executionStatus(paymentId: string): Promise<string>;
  /** The execution's history, one line per event, with the error of each failure: for assertion messages. */
  executionHistory(paymentId: string): Promise<string>;
  /** Sends requests that carry a card number in the body, a header, the path and the query (all refused). */
  sendCardData(cardNumber: string): Promise<number[]>;
  /** Everything the process logged (the front-end's and the task Lambdas' logs). */
  output(): string;
  /** SIGKILL, sent before the first await (so a caller's check just before it still holds); resolves once the process is gone. */
  kill(): Promise<void>;
}

function readyPaymentSystem(stdout: string): PaymentSystemProcessReady | undefined {
  const line = /^ready (\{.*\})$/m.exec(stdout)?.[1];
  return line === undefined ? undefined : (JSON.parse(line) as PaymentSystemProcessReady);
}

/**
 * A fresh Idempotency-Key without digits: the front-end refuses a request in which anything looks like a
 * card number, and a run of digits such as a timestamp can pass the Luhn check.
 */
function newIdempotencyKey(): string {
  return `crash-${randomUUID()
    .replaceAll('-', '')
    .replace(/[0-9]/g, (digit) => 'ghijklmnop'[Number(digit)] ?? '')}`;
}

/** Starts the system on `dataDir` (kept or new) and resolves once it answers. */
export async function startPaymentSystemProcess(
  processes: ChildProcesses,
  options: {
    readonly dataDir: string;
    readonly providers: { readonly gatewayUrl: string; readonly vendorUrl: string };
    /** The state machine's ASL as a JSON file. */
    readonly definitionFile: string;
  },
): Promise<RunningPaymentSystem> {
  const running = await processes.start(
    FIXTURE,
    [options.dataDir, options.providers.gatewayUrl, options.providers.vendorUrl, options.definitionFile],
    readyPaymentSystem,
    { launcher: LAUNCHER },
  );
  const ready = running.value;
  const sfn: SFNClient = sfnClient(ready.awsEndpoint);
  const executionArnOf = (paymentId: string) =>
    `${ready.stateMachineArn.replace(':stateMachine:', ':execution:')}:${paymentId}`;
  return {
    ...ready,
    async topUp(topUp) {
      const response = await fetch(`${ready.frontEndUrl}/api/payments`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'Idempotency-Key': newIdempotencyKey(),
        },
        body: JSON.stringify(topUp),
      });
      const body = await response.text();
      if (response.status !== 202) throw new Error(`top-up refused: ${response.status} ${body}`);
      return JSON.parse(body) as AcceptedPayment;
    },
    async payment(accepted) {
      const response = await fetch(`${ready.frontEndUrl}/api/payments/${accepted.paymentId}`, {
        headers: { authorization: `Bearer ${accepted.statusToken}` },
      });
      const body = await response.text();
      if (response.status !== 200) throw new Error(`payment status: ${response.status} ${body}`);
      return JSON.parse(body) as PaymentStatus;
    },
    async executionStatus(paymentId) {
      const { status } = await sfn.send(
        new DescribeExecutionCommand({ executionArn: executionArnOf(paymentId) }),
      );
      return status ?? 'UNKNOWN';
    },
    async executionHistory(paymentId) {
      const { events = [] } = await sfn.send(
        new GetExecutionHistoryCommand({ executionArn: executionArnOf(paymentId), maxResults: 1000 }),
      );
      return events
        .map((event) => {
          const details = Object.entries(event).find(
            ([key, value]) => /(Failed|TimedOut)EventDetails$/.test(key) && value !== undefined,
          )?.[1] as { error?: string; cause?: string } | undefined;
          const failure = details === undefined ? '' : ` ${details.error}: ${details.cause?.slice(0, 300)}`;
          const state = event.stateEnteredEventDetails?.name ?? '';
          return `${event.id} ${event.type} ${state}${failure}`.trimEnd();
        })
        .join('\n');
    },
    async sendCardData(cardNumber) {
      const spaced = cardNumber.replace(/(\d{4})(?=\d)/g, '$1 ');
      const post = (headers: Record<string, string>, body: unknown) =>
        fetch(`${ready.frontEndUrl}/api/payments`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
        });
      const topUp = { meterId: '1200000000011', amountPence: 2000, paymentToken: 'tok_visa' };
      const answers = await Promise.all([
        post({ 'Idempotency-Key': newIdempotencyKey() }, { ...topUp, paymentToken: spaced }),
        post({ 'Idempotency-Key': cardNumber }, topUp),
        fetch(`${ready.frontEndUrl}/api/payments/${cardNumber}`),
        fetch(`${ready.frontEndUrl}/api/payments/pay_x?token=${cardNumber}`),
      ]);
      return answers.map((answer) => answer.status);
    },
    output: () => running.output(),
    kill() {
      sfn.destroy();
      return running.kill();
    },
  };
}

/**
 * Polls `condition` until it holds; throws after `timeoutMs`, naming `what`. Every wait in a crash test is on
 * a condition, never a fixed sleep: a loaded machine only makes it take longer.
 *
 * @example
 * await waitUntil('the charge reaches the gateway', () => gateway.requestCount(paymentId) > 0);
 */
export async function waitUntil(
  what: string,
  condition: () => boolean | Promise<boolean>,
  { timeoutMs = 90_000, intervalMs = 20 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

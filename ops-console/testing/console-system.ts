/**
 * Test support: the whole payment system in this process (the embedded AWS running PaymentToVend with short
 * retries, the task Lambdas, the simulators, the database), the front-end to pay through, and operator consoles
 * built on it through the AWS SDK like any other client.
 *
 * @example
 * const env = await startConsoleSystem();
 * const { executionArn } = await env.pay({ meterId: '9901000000017' });
 * await env.waitUntilFinished(executionArn);
 * const console = await env.buildConsole({ actionsEnabled: true });
 * await env.close();
 */
import { randomUUID } from 'node:crypto';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { buildApp } from '../../frontend-api/app.ts';
import { type PaymentSystem, startPaymentSystem } from '../../system/payment-system.ts';
import { synthesizeLocalDefinition } from '../../workflow/local-definition.ts';
import { buildOpsConsole } from '../app.ts';
import type { OpsConsoleConfigInput } from '../config.ts';

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

export const CARDS = { visa: 'tok_visa', declined: 'tok_chargeDeclined' } as const;

/** Vend retries take about a second each here; nothing waits on a clock, only up to this for a condition. */
export const FINISH_TIMEOUT_MS = 60_000;

export interface ConsoleSystem {
  readonly system: PaymentSystem;
  readonly sfn: SFNClient;
  /** Pays through the front-end, as a customer does; the execution is named by the payment id. */
  pay(options: { meterId?: string; paymentToken?: string; amountPence?: number }): Promise<{
    paymentId: string;
    executionArn: string;
  }>;
  /** Waits (bounded) until the execution is no longer running, and answers its status. */
  waitUntilFinished(executionArn: string): Promise<string>;
  buildConsole(config?: OpsConsoleConfigInput): Promise<FastifyInstance>;
  close(): Promise<void>;
}

export async function startConsoleSystem(): Promise<ConsoleSystem> {
  const system = await startPaymentSystem({
    port: 0,
    dataDir: null,
    simulatorsPort: 0,
    logLevel: 'SILENT',
    definition: synthesizeLocalDefinition({
      props: {
        vendRetryIntervalSeconds: 1,
        vendBackoffRate: 1,
        vendMaxDelaySeconds: 1,
        chargeRetryIntervalSeconds: 1,
      },
    }),
  });
  const frontEnd = await buildApp({
    config: {
      awsEndpointUrl: system.aws.endpoint,
      stateMachineArn: system.stateMachineArn,
      database: system.database,
      rateLimitMax: 10_000,
    },
  });
  const sfn = new SFNClient({
    endpoint: system.aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const consoles: FastifyInstance[] = [];

  return {
    system,
    sfn,
    async pay({ meterId = METERS.vends, paymentToken = CARDS.visa, amountPence = 2000 }) {
      const response = await frontEnd.inject({
        method: 'POST',
        url: '/api/payments',
        // A UUID: a run of digits passing the Luhn check would be refused as a card number.
        headers: { 'idempotency-key': `ops-${randomUUID()}` },
        payload: { meterId, amountPence, paymentToken },
      });
      expect(response.statusCode, response.body).toBe(202);
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
    async buildConsole(config = {}) {
      const app = await buildOpsConsole({ config: { awsEndpointUrl: system.aws.endpoint, ...config } });
      consoles.push(app);
      return app;
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

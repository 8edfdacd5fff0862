/**
 * Test support: the embedded AWS in memory, the migrations applied, a stand-in PaymentToVend state machine
 * (a single Pass state, so StartExecution works) and the app built against them. Build more apps on the same
 * AWS with `buildAppOnIt()` (several instances serving one customer).
 *
 * @example
 * const env = await startFrontEndForTests();
 * const response = await env.app.inject({ method: 'GET', url: '/health' });
 * await env.close();
 */
import { ExecuteStatementCommand } from '@aws-sdk/client-rds-data';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { FastifyInstance } from 'fastify';
import { APPEND_PAYMENT_EVENT_SQL } from '../../database/statements.ts';
import { type DataApiForTests, startDataApi, TARGET } from '../../database/testing/data-api.ts';
import { migratedSnapshot } from '../../database/testing/migrated-snapshot.ts';
import { buildApp } from '../app.ts';
import type { FrontendConfigInput } from '../plugins/config.ts';

export const ALLOWED_ORIGIN = 'http://127.0.0.1:3000';

export interface FrontEndForTests {
  readonly app: FastifyInstance;
  readonly db: DataApiForTests;
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  buildAppOnIt(overrides?: Partial<FrontendConfigInput>): Promise<FastifyInstance>;
  /** Appends an event to a payment's log, as NotifyCustomer does. */
  appendEvent(paymentId: string, type: string, body?: object): Promise<void>;
  count(table: 'payments' | 'payment_events' | 'idempotency_records'): Promise<number>;
  close(): Promise<void>;
}

export async function startFrontEndForTests(): Promise<FrontEndForTests> {
  const db = await startDataApi({ snapshot: await migratedSnapshot() });
  const sfn = new SFNClient({
    endpoint: db.aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    disableHostPrefix: true,
  });
  const { stateMachineArn } = await sfn.send(
    new CreateStateMachineCommand({
      name: 'PaymentToVend',
      definition: JSON.stringify({ StartAt: 'StandIn', States: { StandIn: { Type: 'Pass', End: true } } }),
      roleArn: 'arn:aws:iam::000000000000:role/test',
    }),
  );
  const config = (overrides: Partial<FrontendConfigInput> = {}): FrontendConfigInput => ({
    awsEndpointUrl: db.aws.endpoint,
    region: 'us-east-1',
    stateMachineArn: stateMachineArn!,
    database: TARGET,
    allowedOrigins: [ALLOWED_ORIGIN],
    rateLimitMax: 10_000,
    eventPollIntervalMs: 50,
    ...overrides,
  });
  const apps: FastifyInstance[] = [];
  const buildAppOnIt = async (overrides?: Partial<FrontendConfigInput>) => {
    const app = await buildApp({ config: config(overrides) });
    apps.push(app);
    return app;
  };
  const app = await buildAppOnIt();
  return {
    app,
    db,
    sfn,
    stateMachineArn: stateMachineArn!,
    buildAppOnIt,
    async appendEvent(paymentId, type, body = {}) {
      // As the charge task does: the gateway's charge is recorded before the customer is told.
      if (type === 'charged') {
        await db.sql('UPDATE payments SET gateway_charge_id = :chargeId WHERE payment_id = :paymentId', {
          paymentId,
          chargeId: `ch_${paymentId}`,
        });
      }
      await db.client.send(
        new ExecuteStatementCommand({
          ...TARGET,
          sql: APPEND_PAYMENT_EVENT_SQL,
          parameters: [
            { name: 'paymentId', value: { stringValue: paymentId } },
            { name: 'type', value: { stringValue: type } },
            { name: 'body', value: { stringValue: JSON.stringify(body) } },
          ],
        }),
      );
    },
    async count(table) {
      const { records } = await db.sql(`SELECT count(*) FROM ${table}`);
      return Number(records?.[0]?.[0]?.longValue ?? 0);
    },
    async close() {
      await Promise.all(apps.map((each) => each.close()));
      sfn.destroy();
      await db.close();
    },
  };
}

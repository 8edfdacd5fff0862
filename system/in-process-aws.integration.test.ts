/**
 * The payment system in one process (startPaymentSystem, as `npm start` runs it): the task Lambdas' and the SQS
 * poller's SDK clients hand their requests to the embedded AWS in-process, so a payment run from its
 * StartExecution to `vended` opens no TCP connection to the embedded AWS's port; with `inProcessAws: false`
 * (LOCAL_AWS_IN_PROCESS=0) the same payment reaches it over HTTP. The test's own calls use the in-process handler
 * too, so every connection counted is one the system made. (The front-end keeps the endpoint: BENCHMARKS.md.)
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { ExecuteStatementCommand, RDSDataClient } from '@aws-sdk/client-rds-data';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migratedSnapshot } from '../database/testing/migrated-snapshot.ts';
import { type PaymentSystem, startPaymentSystem } from './payment-system.ts';

/** Ports of the embedded AWS started here, and the TCP connections each accepted. */
const acceptedByPort = new Map<number, number>();
const countAccepted = (message: unknown) => {
  const port = (message as { socket: Socket }).socket.localPort;
  if (port !== undefined && acceptedByPort.has(port)) acceptedByPort.set(port, acceptedByPort.get(port)! + 1);
};

let system: PaymentSystem | undefined;

beforeEach(() => subscribe('net.server.socket', countAccepted));

afterEach(async () => {
  unsubscribe('net.server.socket', countAccepted);
  await system?.close();
  system = undefined;
});

async function start(inProcessAws: boolean): Promise<PaymentSystem> {
  system = await startPaymentSystem({
    port: 0,
    databaseSnapshot: await migratedSnapshot(),
    dataDir: null,
    simulatorsPort: 0,
    logLevel: 'SILENT',
    inProcessAws,
  });
  acceptedByPort.set(system.aws.port, 0);
  return system;
}

/** A payment as the front-end accepts it (its row, then its execution), followed until the execution ends. */
async function payAndWaitForEnd(running: PaymentSystem): Promise<string | undefined> {
  const client = {
    endpoint: running.aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    requestHandler: running.aws.requestHandler,
  };
  const rds = new RDSDataClient(client);
  const sfn = new SFNClient(client);
  try {
    const paymentId = `pay_in_process_${crypto.randomUUID().replaceAll('-', '')}`;
    const input = { paymentId, meterId: '1200000000011', amountPence: 1500, paymentToken: 'tok_visa' };
    await rds.send(
      new ExecuteStatementCommand({
        ...running.masterDatabase,
        sql: `INSERT INTO payments (payment_id, meter_id, amount_pence, status_token_hash)
              VALUES (:paymentId, :meterId, :amountPence, 'not-a-real-hash')`,
        parameters: [
          { name: 'paymentId', value: { stringValue: paymentId } },
          { name: 'meterId', value: { stringValue: input.meterId } },
          { name: 'amountPence', value: { longValue: input.amountPence } },
        ],
      }),
    );
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: running.stateMachineArn,
        name: paymentId,
        input: JSON.stringify(input),
      }),
    );
    await running.aws.stepFunctions.finished(executionArn ?? '');
    return (await sfn.send(new DescribeExecutionCommand({ executionArn }))).status;
  } finally {
    rds.destroy();
    sfn.destroy();
  }
}

describe('the payment system in one process', () => {
  it('vends a payment without a TCP connection to the embedded AWS', async () => {
    // Prepare
    const running = await start(true);

    // Act
    const status = await payAndWaitForEnd(running);

    // Assess
    expect(status).toBe('SUCCEEDED');
    expect(running.awsRequestHandler).toBe(running.aws.requestHandler);
    expect(acceptedByPort.get(running.aws.port)).toBe(0);
  }, 60_000);

  it('reaches the embedded AWS over HTTP when in-process calls are off', async () => {
    // Prepare
    const running = await start(false);

    // Act
    const status = await payAndWaitForEnd(running);

    // Assess
    expect(status).toBe('SUCCEEDED');
    expect(running.awsRequestHandler).toBeUndefined();
    expect(acceptedByPort.get(running.aws.port)).toBeGreaterThan(0);
  }, 60_000);
});

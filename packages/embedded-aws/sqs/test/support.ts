/**
 * Test support: the SQS engine (in memory unless a data directory is given) behind `createAwsServer` on a free
 * port, and a real SQSClient pointed at it.
 *
 * @example
 * const sqs = await startSqs();
 * const { QueueUrl } = await sqs.client.send(new CreateQueueCommand({ QueueName: 'q' }));
 * await sqs.close();
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createAwsServer } from '../../aws/server.ts';
import { SqsEngine, type SqsEngineOptions } from '../sqs-engine.ts';
import { createSqsService, SQS_ACTIONS } from '../sqs-service.ts';

export interface RunningSqs {
  readonly endpoint: string;
  readonly engine: SqsEngine;
  readonly client: SQSClient;
  readonly server: Server;
  close(): Promise<void>;
}

export function sqsClient(endpoint: string): SQSClient {
  return new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

export async function startSqs(
  options: Partial<Pick<SqsEngineOptions, 'dataDir' | 'now' | 'enforceDeletedQueueCooldown'>> = {},
): Promise<RunningSqs> {
  // The endpoint is only known once the server listens; the engine needs it for QueueUrls.
  let engine: SqsEngine | undefined;
  const server = createAwsServer({
    services: [
      {
        targetPrefix: 'AmazonSQS',
        actions: SQS_ACTIONS,
        handle: (action, input, context) => createSqsService(engine!).handle(action, input, context),
      },
    ],
    maxBodyBytes: 8 * 1024 * 1024,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  engine = await SqsEngine.open({ dataDir: options.dataDir ?? null, endpoint, ...options });
  const client = sqsClient(endpoint);
  return {
    endpoint,
    engine,
    client,
    server,
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await engine!.close();
    },
  };
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function errorOf(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail');
}

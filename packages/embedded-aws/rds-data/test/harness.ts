/**
 * Test support: the Data API routes over an in-memory database on a free port, with a real RDSDataClient.
 *
 * @example
 * const data = await startDataApi();
 * await data.client.send(new ExecuteStatementCommand({ ...data.target, sql: 'SELECT 1' }));
 * await data.close();
 */
import type { AddressInfo } from 'node:net';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { createAwsServer } from '../../aws/server.ts';
import { dataApiRoutes } from '../data-api-routes.ts';
import { DataApiDatabase, type DataApiDatabaseOptions } from '../database.ts';

/** What every call names; the embedded Data API accepts any cluster and secret. */
export const TARGET = {
  resourceArn: 'arn:aws:rds:us-east-1:000000000000:cluster:payments',
  secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:payments-db-AbCdEf',
  database: 'payments',
} as const;

export interface DataApiHarness {
  readonly endpoint: string;
  readonly client: RDSDataClient;
  readonly database: DataApiDatabase;
  close(): Promise<void>;
}

export function dataClient(endpoint: string): RDSDataClient {
  return new RDSDataClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

export async function startDataApi(options: Partial<DataApiDatabaseOptions> = {}): Promise<DataApiHarness> {
  const database = await DataApiDatabase.open({ dataDir: null, ...options });
  const server = createAwsServer({ services: [], routes: dataApiRoutes(database), logger: () => {} });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = dataClient(endpoint);
  return {
    endpoint,
    client,
    database,
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await database.close();
    },
  };
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function errorOf(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

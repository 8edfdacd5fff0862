/**
 * Test support: the embedded AWS in memory on a free port, and a real RDSDataClient pointed at its Data API.
 *
 * @example
 * const db = await startDataApi();
 * await migrate({ client: db.client, ...db.target });
 * await db.close();
 */
import {
  ExecuteStatementCommand,
  type ExecuteStatementCommandOutput,
  RDSDataClient,
  type SqlParameter,
} from '@aws-sdk/client-rds-data';
import { type EmbeddedAws, startEmbeddedAws } from '../../local/embedded-aws.ts';

/** What every call names; the embedded Data API accepts any cluster and secret. */
export const TARGET = {
  resourceArn: 'arn:aws:rds:us-east-1:000000000000:cluster:payments',
  secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:payments-db-AbCdEf',
  database: 'payments',
} as const;

export interface DataApiForTests {
  readonly aws: EmbeddedAws;
  readonly client: RDSDataClient;
  readonly target: typeof TARGET;
  /** ExecuteStatement with `:name` parameters given as a plain object (strings, numbers, null). */
  sql(
    sql: string,
    parameters?: Record<string, string | number | null>,
    transactionId?: string,
  ): Promise<ExecuteStatementCommandOutput>;
  close(): Promise<void>;
}

export async function startDataApi(): Promise<DataApiForTests> {
  const aws = await startEmbeddedAws({ port: 0, dataDir: null });
  const client = new RDSDataClient({
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  return {
    aws,
    client,
    target: TARGET,
    sql: (sql, parameters = {}, transactionId) =>
      client.send(
        new ExecuteStatementCommand({ ...TARGET, sql, parameters: parametersOf(parameters), transactionId }),
      ),
    async close() {
      client.destroy();
      await aws.close();
    },
  };
}

function parametersOf(values: Record<string, string | number | null>): SqlParameter[] {
  return Object.entries(values).map(([name, value]) => ({
    name,
    value:
      value === null
        ? { isNull: true }
        : typeof value === 'number'
          ? { longValue: value }
          : { stringValue: value },
  }));
}

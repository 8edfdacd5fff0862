/**
 * Test support: the embedded AWS in memory on a free port, and a real RDSDataClient pointed at its Data API.
 * `TARGET` names the master secret (the migrations'); `SERVICE_TARGETS` name each service's secret, which the
 * embedded Data API runs as the service's role (migration 0005 creates them), as each signs in on Aurora.
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
import { type EmbeddedAws, startEmbeddedAws } from '@payment-to-vend/embedded-aws';
import type { DataApiTarget } from '../data-api.ts';
import { SERVICE_ROLES, type ServiceRoleKey } from '../service-roles.ts';

/** The master user's secret: the embedded Data API runs any secret it has no role for as the master. */
export const TARGET = {
  resourceArn: 'arn:aws:rds:us-east-1:000000000000:cluster:payments',
  secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:payments-db-AbCdEf',
  database: 'payments',
} as const;

/** Each service's own secret, run as its role. */
export const SERVICE_TARGETS: Readonly<Record<ServiceRoleKey, DataApiTarget>> = Object.fromEntries(
  Object.entries(SERVICE_ROLES).map(([key, role]) => [
    key,
    { ...TARGET, secretArn: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${role}-AbCdEf` },
  ]),
) as Record<ServiceRoleKey, DataApiTarget>;

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

/** `snapshot`: what the database starts from (migrated-snapshot.ts); default a new, empty cluster. */
export async function startDataApi(options: { snapshot?: Blob } = {}): Promise<DataApiForTests> {
  const aws = await startEmbeddedAws({
    port: 0,
    dataDir: null,
    ...(options.snapshot === undefined ? {} : { databaseSnapshot: options.snapshot }),
    dataApiRoles: Object.fromEntries(
      Object.entries(SERVICE_TARGETS).map(([key, target]) => [
        target.secretArn,
        SERVICE_ROLES[key as ServiceRoleKey],
      ]),
    ),
  });
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

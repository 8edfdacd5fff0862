/**
 * The DatabaseMigrations custom resource's handler (CDK's custom resource Provider framework calls it):
 * on Create and Update it applies the pending migrations through the RDS Data API; on Delete it does
 * nothing, the schema goes with the database.
 *
 * The migration files are copied beside this bundle at build time (`migrations/`), so the schema deployed is
 * the one in the repository at that commit. `migrate()` is idempotent and safe against a concurrent runner.
 *
 * @example
 * await handler({ RequestType: 'Create', ResourceProperties: { ClusterArn, SecretArn, Database } });
 * // { PhysicalResourceId: 'payments-schema:arn:aws:rds:…', Data: { Versions: '1' } }
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { z } from 'zod';
import { loadMigrations, migrate } from '../../database/migrate.ts';

const logger = new Logger({ serviceName: 'migrate-database' });
const client = new RDSDataClient({});

const MigrationsEventSchema = z.object({
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  PhysicalResourceId: z.string().optional(),
  ResourceProperties: z.object({
    ClusterArn: z.string().startsWith('arn:'),
    SecretArn: z.string().startsWith('arn:'),
    Database: z.string().min(1),
  }),
});

export interface MigrationsResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: { readonly Applied: string; readonly Versions: string };
}

export const handler = async (event: unknown): Promise<MigrationsResponse> => {
  const request = MigrationsEventSchema.parse(event);
  const { ClusterArn, SecretArn, Database } = request.ResourceProperties;
  // One schema per cluster and database: a new cluster is a new resource, the old one's Delete is a no-op.
  const physicalResourceId = `payments-schema:${ClusterArn}:${Database}`;
  if (request.RequestType === 'Delete') {
    return { PhysicalResourceId: request.PhysicalResourceId ?? physicalResourceId };
  }
  const migrations = await loadMigrations(new URL('./migrations/', import.meta.url));
  const result = await migrate({
    client,
    resourceArn: ClusterArn,
    secretArn: SecretArn,
    database: Database,
    migrations,
    log: (line) => logger.info(line),
  });
  logger.info('migrations done', { applied: result.applied, versions: result.versions });
  return {
    PhysicalResourceId: physicalResourceId,
    Data: { Applied: result.applied.join(','), Versions: result.versions.join(',') },
  };
};

/**
 * The DatabaseMigrations custom resource's handler (CDK's custom resource Provider framework calls it):
 * on Create and Update it applies the pending migrations through the RDS Data API as the master user, then
 * lets each service's database user sign in with the password in its own secret (`enableServiceLogins`: the
 * migrations create the roles NOLOGIN); on Delete it does nothing, the schema goes with the database.
 * Passwords are read here and sent only in the statement that sets them: never logged, never in a response or
 * an error.
 *
 * The migration files are copied beside this bundle at build time (`migrations/`), so the schema deployed is
 * the one in the repository at that commit. `migrate()` is idempotent and safe against a concurrent runner.
 *
 * @example
 * await handler({ RequestType: 'Create', ResourceProperties: { ClusterArn, SecretArn, Database, ServiceSecrets } });
 * // { PhysicalResourceId: 'payments-schema:arn:aws:rds:…', Data: { Applied: '0005_service_roles', Versions: '1,…,5' } }
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { DataApi } from '../../database/data-api.ts';
import { loadMigrations, migrate } from '../../database/migrate.ts';
import {
  enableServiceLogins,
  isServiceRole,
  type ServiceCredentials,
  type ServiceRole,
} from '../../database/service-roles.ts';

/** What a service user's secret holds (the rotation adds host, port, engine and masterarn). */
const ServiceSecretSchema = z.object({ username: z.string().min(1), password: z.string().min(1) });

const MigrationsEventSchema = z.object({
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  PhysicalResourceId: z.string().optional(),
  ResourceProperties: z.object({
    ClusterArn: z.string().startsWith('arn:'),
    SecretArn: z.string().startsWith('arn:'),
    Database: z.string().min(1),
    /** Each service's role and the ARN of its secret. */
    ServiceSecrets: z
      .record(z.string(), z.string().startsWith('arn:'))
      .refine(
        (secrets) => Object.keys(secrets).every(isServiceRole),
        'names a role that is not a service role',
      )
      .default({}),
  }),
});

export interface MigrationsResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: { readonly Applied: string; readonly Versions: string };
}

export interface MigrationsDependencies {
  readonly rdsData: RDSDataClient;
  /** A secret's SecretString (AWSCURRENT). */
  readonly readSecret: (secretArn: string) => Promise<string | undefined>;
  readonly migrationsDir: URL;
  readonly log: (message: string, fields?: Readonly<Record<string, unknown>>) => void;
}

/** The handler over its dependencies; tests pass the embedded Data API and their own secrets. */
export function createMigrationsHandler(dependencies: MigrationsDependencies) {
  const { rdsData, readSecret, migrationsDir, log } = dependencies;

  /** A service's username and password from its secret; a malformed secret is named, its content never shown. */
  const serviceCredentials = async (role: ServiceRole, secretArn: string): Promise<ServiceCredentials> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse((await readSecret(secretArn)) ?? '');
    } catch {
      throw new Error(`the secret of ${role} (${secretArn}) is not JSON`);
    }
    const secret = ServiceSecretSchema.safeParse(parsed);
    if (!secret.success) throw new Error(`the secret of ${role} (${secretArn}) has no username and password`);
    return { role, username: secret.data.username, password: secret.data.password };
  };

  return async (event: unknown): Promise<MigrationsResponse> => {
    const request = MigrationsEventSchema.parse(event);
    const { ClusterArn, SecretArn, Database, ServiceSecrets } = request.ResourceProperties;
    // One schema per cluster and database: a new cluster is a new resource, the old one's Delete is a no-op.
    const physicalResourceId = `payments-schema:${ClusterArn}:${Database}`;
    if (request.RequestType === 'Delete') {
      return { PhysicalResourceId: request.PhysicalResourceId ?? physicalResourceId };
    }
    const master = { resourceArn: ClusterArn, secretArn: SecretArn, database: Database };
    const result = await migrate({
      client: rdsData,
      ...master,
      migrations: await loadMigrations(migrationsDir),
      log: (line) => log(line),
    });
    log('migrations done', { applied: result.applied, versions: result.versions });
    const credentials = await Promise.all(
      Object.entries(ServiceSecrets).map(([role, secretArn]) =>
        serviceCredentials(role as ServiceRole, secretArn),
      ),
    );
    const enabled = await enableServiceLogins(new DataApi(rdsData, master), credentials);
    log('service users can sign in', { users: enabled });
    return {
      PhysicalResourceId: physicalResourceId,
      Data: { Applied: result.applied.join(','), Versions: result.versions.join(',') },
    };
  };
}

const logger = new Logger({ serviceName: 'migrate-database' });
const secretsManager = new SecretsManagerClient({});

export const handler = createMigrationsHandler({
  rdsData: new RDSDataClient({}),
  readSecret: async (secretArn) =>
    (await secretsManager.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString,
  migrationsDir: new URL('./migrations/', import.meta.url),
  log: (message, fields) => logger.info(message, { ...fields }),
});

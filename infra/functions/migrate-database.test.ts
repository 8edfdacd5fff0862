/**
 * The migrations custom resource's handler against the embedded Data API: it migrates as the master user and
 * then lets each service's user sign in with its own secret's password, which goes nowhere else (no log line,
 * no response, no error).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../database/migrate.ts';
import { SERVICE_ROLE_NAMES, SERVICE_ROLES } from '../../database/service-roles.ts';
import { type DataApiForTests, startDataApi } from '../../database/testing/data-api.ts';
import { createMigrationsHandler } from './migrate-database.ts';

const secretArnOf = (role: string) => `arn:aws:secretsmanager:eu-west-2:222222222222:secret:${role}-AbCdEf`;
const PASSWORDS = Object.fromEntries(
  Object.values(SERVICE_ROLES).map((role) => [role, `pw${role.replaceAll('_', '')}Z9q`]),
);

let db: DataApiForTests;
let logged: string[];
let secrets: Map<string, string>;

beforeAll(async () => {
  db = await startDataApi();
}, 30_000);

afterAll(async () => {
  await db?.close();
});

function handlerOver(readable: Map<string, string>) {
  logged = [];
  return createMigrationsHandler({
    rdsData: db.client,
    readSecret: async (secretArn) => readable.get(secretArn),
    migrationsDir: MIGRATIONS_DIR,
    log: (message, fields) => logged.push(JSON.stringify({ message, ...fields })),
  });
}

function event(requestType: 'Create' | 'Update' | 'Delete', serviceSecrets: Record<string, string>) {
  return {
    RequestType: requestType,
    ResourceProperties: {
      ClusterArn: db.target.resourceArn,
      SecretArn: db.target.secretArn,
      Database: db.target.database,
      ServiceSecrets: serviceSecrets,
    },
  };
}

const allServiceSecrets = () =>
  Object.fromEntries(Object.values(SERVICE_ROLES).map((role) => [role, secretArnOf(role)]));

async function usersWhoCanSignIn(): Promise<string[]> {
  const { records = [] } = await db.sql(
    "SELECT rolname FROM pg_roles WHERE rolname LIKE 'payments\\_%' AND rolcanlogin ORDER BY rolname",
  );
  return records.map((record) => String(record[0]?.stringValue));
}

describe('the migrations custom resource', () => {
  it('migrates, then lets every service user sign in, without the passwords going anywhere else', async () => {
    // Prepare
    secrets = new Map(
      Object.values(SERVICE_ROLES).map((role) => [
        secretArnOf(role),
        JSON.stringify({ username: role, password: PASSWORDS[role], engine: 'postgres', port: 5432 }),
      ]),
    );
    const handler = handlerOver(secrets);

    // Act
    const response = await handler(event('Create', allServiceSecrets()));

    // Assess
    expect(response.Data?.Applied).toContain('0005_service_roles');
    expect(await usersWhoCanSignIn()).toEqual([...SERVICE_ROLE_NAMES].sort());
    const everythingSaid = JSON.stringify(response) + logged.join('\n');
    for (const password of Object.values(PASSWORDS)) expect(everythingSaid).not.toContain(password);
  });

  it('does it again harmlessly on an update', async () => {
    // Act
    const response = await handlerOver(secrets)(event('Update', allServiceSecrets()));

    // Assess
    expect(response.Data?.Applied).toBe('');
    expect(await usersWhoCanSignIn()).toHaveLength(SERVICE_ROLE_NAMES.length);
  });

  it('refuses a service secret that names the master user, without showing its password', async () => {
    // Prepare
    const hijacked = new Map([
      [
        secretArnOf('payments_charge'),
        JSON.stringify({ username: 'postgres', password: 'master-takeover-pw' }),
      ],
    ]);

    // Act
    const error = await handlerOver(hijacked)(
      event('Update', { payments_charge: secretArnOf('payments_charge') }),
    ).catch((failure: Error) => failure);

    // Assess
    expect((error as Error).name).toBe('ServiceLoginError');
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain('master-takeover-pw');
  });

  it('refuses a role that is not a service role, and does nothing on delete', async () => {
    // Act
    const unknown = await handlerOver(secrets)(event('Update', { postgres: secretArnOf('postgres') })).catch(
      (failure: Error) => failure,
    );
    const deleted = await handlerOver(new Map())({
      ...event('Delete', {}),
      PhysicalResourceId: 'payments-schema:kept',
    });

    // Assess
    expect((unknown as Error).name).toBe('ZodError');
    expect(deleted).toEqual({ PhysicalResourceId: 'payments-schema:kept' });
  });
});

/**
 * Letting each service's user sign in with the password in its secret: the statement quotes any password so
 * PostgreSQL stores exactly it, a secret can change only its own service's user, and a failure never carries
 * the password.
 */
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataApi } from './data-api.ts';
import { ServiceLoginError } from './errors.ts';
import { migrate } from './migrate.ts';
import {
  enableServiceLogins,
  loginStatement,
  quoteIdentifier,
  quoteLiteral,
  SERVICE_ROLES,
} from './service-roles.ts';
import { type DataApiForTests, startDataApi } from './testing/data-api.ts';

let db: DataApiForTests;

beforeAll(async () => {
  db = await startDataApi();
  await migrate({ client: db.client, ...db.target });
}, 60_000);

afterAll(async () => {
  await db?.close();
});

/** Whether PostgreSQL's SCRAM verifier for the user was made from this password (RFC 5802's StoredKey). */
async function signsInWith(username: string, password: string): Promise<boolean> {
  const { records } = await db.sql('SELECT rolpassword FROM pg_authid WHERE rolname = :username', {
    username,
  });
  const verifier = String(records?.[0]?.[0]?.stringValue);
  const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):/.exec(verifier);
  if (match === null) return false;
  const salted = pbkdf2Sync(
    password,
    Buffer.from(match[2] as string, 'base64'),
    Number(match[1]),
    32,
    'sha256',
  );
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return createHash('sha256').update(clientKey).digest('base64') === match[3];
}

async function canLogIn(username: string): Promise<boolean> {
  const { records } = await db.sql('SELECT rolcanlogin FROM pg_roles WHERE rolname = :username', {
    username,
  });
  return records?.[0]?.[0]?.booleanValue === true;
}

describe('quoting', () => {
  it.each([
    { value: 'plain', literal: "'plain'" },
    { value: "it's", literal: "'it''s'" },
    { value: 'back\\slash', literal: "E'back\\\\slash'" },
    { value: "both\\'", literal: "E'both\\\\'''" },
  ])('quotes $value as a literal that reads back the same', ({ value, literal }) => {
    // Act
    const quoted = quoteLiteral(value);

    // Assess
    expect(quoted).toBe(literal);
  });

  it('quotes identifiers and refuses NUL', () => {
    // Act
    const identifier = quoteIdentifier('odd"name');

    // Assess
    expect(identifier).toBe('"odd""name"');
    expect(() => quoteLiteral('a\0b')).toThrow(ServiceLoginError);
    expect(() => loginStatement('payments_charge', '')).toThrow(ServiceLoginError);
  });
});

describe('enableServiceLogins', () => {
  it.each([
    "it's-a-quote",
    'back\\slash\\',
    'semi;colon -- and /* comment',
    'dollar $$ and $tag$',
    '"double" quotes',
    'colon :word inside',
    'unicodé',
  ])('lets the user sign in with exactly the password %j', async (password) => {
    // Prepare
    const dataApi = new DataApi(db.client, db.target);

    // Act
    const enabled = await enableServiceLogins(dataApi, [
      { role: SERVICE_ROLES.charge, username: SERVICE_ROLES.charge, password },
    ]);

    // Assess
    expect(enabled).toEqual(['payments_charge']);
    expect(await canLogIn('payments_charge')).toBe(true);
    expect(await signsInWith('payments_charge', password)).toBe(true);
    expect(await signsInWith('payments_charge', `${password}x`)).toBe(false);
  });

  it("accepts a secret naming the role's rotation alternate, once rotation has made it", async () => {
    // Prepare: what Secrets Manager's multi-user rotation does for its second user
    await db.sql('CREATE ROLE payments_notify_clone LOGIN IN ROLE payments_notify');

    // Act
    const enabled = await enableServiceLogins(new DataApi(db.client, db.target), [
      { role: SERVICE_ROLES.notify, username: 'payments_notify_clone', password: 'rotated-password' },
    ]);

    // Assess
    expect(enabled).toEqual(['payments_notify_clone']);
    expect(await signsInWith('payments_notify_clone', 'rotated-password')).toBe(true);
  });

  it.each([
    { what: 'another user, the master included', username: 'postgres', message: /neither payments_charge/ },
    {
      what: 'an alternate rotation has not made',
      username: 'payments_charge_clone',
      message: /does not exist/,
    },
  ])('refuses a secret naming $what, and changes nothing', async ({ username, message }) => {
    // Act
    const error = await enableServiceLogins(new DataApi(db.client, db.target), [
      { role: SERVICE_ROLES.charge, username, password: 'not-to-be-set' },
    ]).catch((failure: Error) => failure);

    // Assess
    expect(error).toBeInstanceOf(ServiceLoginError);
    expect((error as Error).message).toMatch(message);
    expect(await signsInWith('postgres', 'not-to-be-set')).toBe(false);
  });

  it('reports a failed statement by its SQLState, without the statement or the password', async () => {
    // Prepare: a Data API that echoes the statement in its error, as a syntax error can echo part of it
    const echoing = {
      query: async () => [{ rolname: 'payments_charge' }],
      execute: async (sql: string) => {
        throw Object.assign(new Error(`ERROR: syntax error at or near "${sql}"; SQLState: 42601`), {
          name: 'DatabaseErrorException',
        });
      },
    } as unknown as DataApi;

    // Act
    const error = await enableServiceLogins(echoing, [
      { role: SERVICE_ROLES.charge, username: 'payments_charge', password: 'hunter2-secret' },
    ]).catch((failure: Error) => failure);

    // Assess
    expect(error).toBeInstanceOf(ServiceLoginError);
    expect((error as Error).message).toBe(
      'could not let payments_charge sign in (DatabaseErrorException, SQLState 42601)',
    );
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain('hunter2-secret');
  });
});

/**
 * The database role each service reaches the payments database as, and what makes one able to sign in.
 *
 * Migration 0005 creates the roles NOLOGIN and grants each only the tables, columns and statements its part of
 * the payments repository runs (`FrontEndPayments`, `ChargeRecords`, `CustomerEvents`, `VendRecords`); the
 * migrations keep the cluster's master user. On AWS each role has its own Secrets Manager secret, and the
 * migrations custom resource gives the role LOGIN with the secret's password (`loginStatement`). Locally the
 * embedded Data API runs each secret's statements as its role (`SET ROLE`), so a missing grant fails here as
 * it would on Aurora.
 *
 * @example
 * loginStatement('payments_charge', "it's-secret");
 * // `ALTER ROLE "payments_charge" WITH LOGIN PASSWORD 'it''s-secret'`
 */
import { z } from 'zod';
import type { DataApi } from './data-api.ts';
import { ServiceLoginError } from './errors.ts';

/**
 * Each service's database role; the same names are in migrations/0005_service_roles.sql, 0006_follow_ups.sql and
 * 0007_reconciliation.sql.
 */
export const SERVICE_ROLES = {
  frontEnd: 'payments_front_end',
  charge: 'payments_charge',
  notify: 'payments_notify',
  meterVending: 'payments_meter_vending',
  followUp: 'payments_follow_up',
  /** The operator console: reads payments, follow-ups and the audit trail; writes nothing. */
  console: 'payments_console',
  /** The reconciliation task: reads payments' charges and follow-ups, records findings (0007_reconciliation.sql). */
  reconcile: 'payments_reconcile',
} as const;

export type ServiceRoleKey = keyof typeof SERVICE_ROLES;
export type ServiceRole = (typeof SERVICE_ROLES)[ServiceRoleKey];

/** Every service role, in a stable order. */
export const SERVICE_ROLE_NAMES: readonly ServiceRole[] = Object.values(SERVICE_ROLES);

/**
 * The second user that Secrets Manager's multi-user rotation creates for a role (a member of it) and
 * alternates with: a secret may name either.
 */
export function alternateUserOf(role: ServiceRole): string {
  return `${role}_clone`;
}

export function isServiceRole(name: string): name is ServiceRole {
  return (SERVICE_ROLE_NAMES as readonly string[]).includes(name);
}

/**
 * PostgreSQL's quoting of an identifier: always quoted, so any name is one identifier.
 *
 * @example
 * quoteIdentifier('payments_charge'); // '"payments_charge"'
 */
export function quoteIdentifier(name: string): string {
  if (name.length === 0 || name.includes('\0'))
    throw new ServiceLoginError('a role name must be non-empty text');
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * PostgreSQL's quoting of a string literal, as its own `quote_literal()` does it: quotes doubled, and when there
 * is a backslash, an E'' literal with backslashes doubled, so the value reads the same whether
 * standard_conforming_strings is on or off.
 *
 * @example
 * quoteLiteral("a'b"); // "'a''b'"
 * quoteLiteral('a\\b'); // "E'a\\\\b'"
 */
export function quoteLiteral(value: string): string {
  // PostgreSQL text cannot hold NUL, and the statement would be cut short at it.
  if (value.includes('\0')) throw new ServiceLoginError('a password cannot contain a NUL character');
  const quoted = value.replaceAll("'", "''");
  return value.includes('\\') ? `E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`;
}

/**
 * The statement that lets a user sign in with a password. The Data API cannot bind a parameter in DDL, so the
 * password is in the text as a quoted literal: never log the statement, and run it only once the user is known
 * to exist (a failed statement's text can reach the PostgreSQL log).
 */
export function loginStatement(username: string, password: string): string {
  if (password.length === 0) throw new ServiceLoginError(`the password for ${username} is empty`);
  return `ALTER ROLE ${quoteIdentifier(username)} WITH LOGIN PASSWORD ${quoteLiteral(password)}`;
}

/** A service's credentials as its secret holds them. */
export interface ServiceCredentials {
  readonly role: ServiceRole;
  readonly username: string;
  readonly password: string;
}

/**
 * Lets each service's user sign in with the password its secret holds: `ALTER ROLE ... WITH LOGIN PASSWORD`,
 * through the Data API as the master user, after the migrations have created the roles. Setting the password
 * the secret already holds changes nothing, so running it again (every deployment that migrates) is harmless,
 * and so is running it while Secrets Manager rotates the secret (it reads the current value, which still
 * signs in until the rotation finishes). Refuses a secret whose user is not its service's role or that role's
 * rotation alternate: a service secret must never reset another user's password, the master's least of all.
 * Returns the users it enabled.
 *
 * @example
 * await enableServiceLogins(db, [{ role: 'payments_charge', username: 'payments_charge', password }]);
 * // ['payments_charge']
 */
export async function enableServiceLogins(
  db: DataApi,
  credentials: readonly ServiceCredentials[],
): Promise<string[]> {
  const enabled: string[] = [];
  for (const { role, username, password } of credentials) {
    if (username !== role && username !== alternateUserOf(role)) {
      throw new ServiceLoginError(
        `the secret of ${role} names the user ${username}, which is neither ${role} nor ${alternateUserOf(role)}`,
      );
    }
    const [existing] = await db.query(
      'SELECT rolname FROM pg_catalog.pg_roles WHERE rolname = :username',
      { username },
      z.object({ rolname: z.string() }),
    );
    if (existing === undefined) {
      throw new ServiceLoginError(`the user ${username} does not exist: the migrations create ${role}`);
    }
    await db.execute(loginStatement(username, password)).catch((error: unknown) => {
      // Neither the statement nor the database's message goes on: either could carry part of the password.
      throw new ServiceLoginError(`could not let ${username} sign in (${failureCodeOf(error)})`);
    });
    enabled.push(username);
  }
  return enabled;
}

/** The error's name and the SQLState the Data API appends to a database error, if any. */
function failureCodeOf(error: unknown): string {
  const name = error instanceof Error ? error.name : 'unknown error';
  const sqlState = error instanceof Error ? /SQLState: ([0-9A-Z]{5})/.exec(error.message)?.[1] : undefined;
  return sqlState === undefined ? name : `${name}, SQLState ${sqlState}`;
}

/**
 * The migration runner against the embedded AWS's Data API, through the real RDSDataClient: it applies
 * each migration once however many runners start, does nothing the second time, and leaves no trace of a
 * migration that failed.
 */
import type { RDSDataClient } from '@aws-sdk/client-rds-data';
import { ExecuteStatementCommand } from '@aws-sdk/client-rds-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MigrationChecksumMismatchError,
  MigrationFailedError,
  MigrationLockTimeoutError,
  MigrationOutOfOrderError,
} from './errors.ts';
import { defineMigration, loadMigrations, type Migration, migrate } from './migrate.ts';
import { type DataApiForTests, startDataApi } from './testing/data-api.ts';

let db: DataApiForTests;
let shipped: Migration[];

beforeAll(async () => {
  db = await startDataApi();
  shipped = await loadMigrations();
});

afterAll(async () => {
  await db?.close();
});

async function tables(): Promise<string[]> {
  const result = await db.sql(
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
  );
  return (result.records ?? []).map((record) => record[0]?.stringValue ?? '');
}

async function ledger(): Promise<{ version: number; appliedAt: string }[]> {
  const result = await db.sql('SELECT version, applied_at FROM schema_migrations ORDER BY version');
  return (result.records ?? []).map((record) => ({
    version: record[0]?.longValue ?? 0,
    appliedAt: record[1]?.stringValue ?? '',
  }));
}

/** A client on which another runner seems to hold the migration lock for the first `times` attempts. */
function contendedClient(times: number): { client: RDSDataClient; lockAttempts: () => number } {
  let attempts = 0;
  const client = {
    send(command: unknown) {
      if (
        command instanceof ExecuteStatementCommand &&
        command.input.sql?.includes('pg_try_advisory_xact_lock')
      ) {
        attempts += 1;
        if (attempts <= times) return Promise.resolve({ records: [[{ booleanValue: false }]] });
      }
      return db.client.send(command as ExecuteStatementCommand);
    },
  };
  return { client: client as unknown as RDSDataClient, lockAttempts: () => attempts };
}

describe('migrate', () => {
  it('applies every migration exactly once when two runners start together', async () => {
    // Act
    const [first, second] = await Promise.all([
      migrate({ client: db.client, ...db.target }),
      migrate({ client: db.client, ...db.target }),
    ]);

    // Assess
    expect([...first.applied, ...second.applied].sort()).toEqual([
      '0001_initial',
      '0002_appended_events',
      '0003_charge_outcomes',
      '0004_idempotency_keys_hashed',
      '0005_service_roles',
      '0006_follow_ups',
      '0007_reconciliation',
    ]);
    expect(first.versions).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(second.versions).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await tables()).toEqual([
      'decisions',
      'follow_ups',
      'idempotency_records',
      'payment_event_log',
      'payment_events',
      'payments',
      'reconciliation_findings',
      'schema_migrations',
      'vends',
    ]);
  });

  it('does nothing when run again', async () => {
    // Prepare
    const before = await ledger();

    // Act
    const again = await migrate({ client: db.client, ...db.target });

    // Assess
    expect(again.applied).toEqual([]);
    expect(await ledger()).toEqual(before);
  });

  it('rolls a failed migration back entirely, leaves it pending, and applies it once fixed', async () => {
    // Prepare
    const broken = defineMigration(
      13,
      'meter_notes',
      `CREATE TABLE meter_notes (meter_id text PRIMARY KEY, note text NOT NULL);
       INSERT INTO meter_notes VALUES ('2000012345678', 'key cabinet');
       ALTER TABLE payments ADD COLUMN channel text;
       INSERT INTO meter_notes VALUES ('2000012345678', 'duplicate');`,
    );
    const fixed = defineMigration(
      13,
      'meter_notes',
      `CREATE TABLE meter_notes (meter_id text PRIMARY KEY, note text NOT NULL);
       ALTER TABLE payments ADD COLUMN channel text;`,
    );

    // Act
    const failure = await migrate({
      client: db.client,
      ...db.target,
      migrations: [...shipped, broken],
    }).catch((error: unknown) => error);
    const tablesAfterFailure = await tables();
    const columns = await db.sql(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'payments' AND column_name = 'channel'",
    );
    const ledgerAfterFailure = await ledger();
    const retried = await migrate({ client: db.client, ...db.target, migrations: [...shipped, fixed] });

    // Assess
    expect(failure).toBeInstanceOf(MigrationFailedError);
    expect(failure).toMatchObject({ name: 'MigrationFailedError', version: 13, statement: 4 });
    expect((failure as Error).message).toContain('meter_notes_pkey');
    expect(tablesAfterFailure).not.toContain('meter_notes');
    expect(columns.records).toEqual([]);
    expect(ledgerAfterFailure.map((row) => row.version)).toEqual(
      shipped.map((migration) => migration.version),
    );
    expect(retried.applied).toEqual(['0013_meter_notes']);
    expect(await tables()).toContain('meter_notes');
  });

  it('refuses to run when an applied migration file has changed, and changes nothing', async () => {
    // Prepare
    const original = shipped[0] as Migration;
    const edited: Migration = { ...original, checksum: defineMigration(1, 'initial', '-- edited').checksum };
    const extra = defineMigration(14, 'late_table', 'CREATE TABLE late_table (id integer)');

    // Act
    const failure = await migrate({ client: db.client, ...db.target, migrations: [edited, extra] }).catch(
      (error: unknown) => error,
    );

    // Assess
    expect(failure).toBeInstanceOf(MigrationChecksumMismatchError);
    expect((failure as Error).message).toContain('migration 1 (initial)');
    expect(await tables()).not.toContain('late_table');
  });

  it('refuses a pending migration older than one already applied', async () => {
    // Prepare
    const late = defineMigration(12, 'merged_late', 'CREATE TABLE merged_late (id integer)');
    const applied = defineMigrationLike(13, await appliedChecksum(13));

    // Act
    const failure = await migrate({
      client: db.client,
      ...db.target,
      migrations: [...shipped, late, applied],
    }).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(MigrationOutOfOrderError);
    expect((failure as Error).message).toContain(
      'migration 12 (merged_late) is pending but 13 is already applied',
    );
    expect(await tables()).not.toContain('merged_late');
  });

  it('waits while another runner holds the migration lock, then applies', async () => {
    // Prepare
    const { client, lockAttempts } = contendedClient(2);
    const waits: number[] = [];
    const next = defineMigration(15, 'after_wait', 'CREATE TABLE after_wait (id integer)');
    const applied = await db.sql('SELECT version, checksum FROM schema_migrations');
    const known = (applied.records ?? []).map((record) =>
      defineMigrationLike(record[0]?.longValue ?? 0, record[1]?.stringValue ?? ''),
    );

    // Act
    const result = await migrate({
      client,
      ...db.target,
      migrations: [...known, next],
      sleep: async (ms) => {
        waits.push(ms);
      },
    });

    // Assess
    expect(result.applied).toEqual(['0015_after_wait']);
    expect(waits).toHaveLength(2);
    expect(lockAttempts()).toBe(4);
    expect(await tables()).toContain('after_wait');
  });

  it('gives up with MigrationLockTimeoutError when the lock stays held', async () => {
    // Prepare
    const { client } = contendedClient(Number.POSITIVE_INFINITY);

    // Act
    const failure = await migrate({
      client,
      ...db.target,
      migrations: shipped,
      lockTimeoutMs: 0,
      sleep: async () => {},
    }).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(MigrationLockTimeoutError);
    // The runner released its transactions: the database still answers autocommit statements.
    expect((await db.sql('SELECT 1')).records).toEqual([[{ longValue: 1 }]]);
  });
});

async function appliedChecksum(version: number): Promise<string> {
  const result = await db.sql('SELECT checksum FROM schema_migrations WHERE version = :version', { version });
  return result.records?.[0]?.[0]?.stringValue ?? '';
}

/** A stand-in for an applied migration: only its version and checksum matter to the runner. */
function defineMigrationLike(version: number, checksum: string): Migration {
  return { version, name: `applied_${version}`, checksum, statements: [] };
}

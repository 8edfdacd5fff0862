/**
 * Applies the pending migrations in `database/migrations/` through the RDS Data API.
 *
 * - Which migrations have run is recorded in `schema_migrations` (version, name, checksum, applied_at).
 * - Each migration runs in one Data API transaction together with its `schema_migrations` row: it applies
 *   entirely or not at all (PostgreSQL's DDL is transactional), and a failed one stays pending.
 * - Two runners at once (two deployments, two containers starting) are safe: each transaction first takes
 *   a transaction-level advisory lock, then checks the ledger again, so a migration another runner has
 *   just applied is skipped; the ledger's primary key refuses a second row for a version regardless. The
 *   lock is transaction-level because the Data API is connectionless: a session-level lock would stay on
 *   whichever pooled connection happened to run the call. It is taken with `pg_try_advisory_xact_lock` and
 *   retried with backoff, so no Data API call blocks (a call times out after 45 seconds).
 * - A migration file that changed after it was applied is refused (checksums), as is a pending migration
 *   older than the latest applied one.
 *
 * Migration files are `<version>_<name>.sql` (`0001_initial.sql`); the Data API runs one statement per call,
 * so a file is split on its top-level semicolons (see split-sql.ts). No `BEGIN`/`COMMIT` in the files, and
 * nothing that cannot run in a transaction (`CREATE INDEX CONCURRENTLY`, `VACUUM`).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RDSDataClient } from '@aws-sdk/client-rds-data';
import { DataApi, type DataApiTarget } from './data-api.ts';
import {
  MigrationChecksumMismatchError,
  MigrationFailedError,
  MigrationFileError,
  MigrationLockTimeoutError,
  MigrationOutOfOrderError,
} from './errors.ts';
import { splitSqlStatements } from './split-sql.ts';

/** The folder this module's migrations live in. */
export const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);

/** The advisory lock every runner takes (an arbitrary constant, the same for every runner). */
export const MIGRATION_LOCK_KEY = 4_211_902_735_118;

const FILE_NAME = /^(\d+)_([a-z0-9_]+)\.sql$/;

const CREATE_LEDGER_SQL = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/** One migration: its version orders it, its checksum pins its text once applied. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** SHA-256 of the file's text (line endings normalised to LF), hex. */
  readonly checksum: string;
  readonly statements: readonly string[];
}

export interface MigrateOptions extends DataApiTarget {
  readonly client: RDSDataClient;
  /** Defaults to the files in MIGRATIONS_DIR. */
  readonly migrations?: readonly Migration[];
  /** How long to wait for another runner's lock before giving up; default 10 minutes. */
  readonly lockTimeoutMs?: number;
  /** Progress lines (`applied 0001_initial`); default silent. */
  readonly log?: (line: string) => void;
  /** Waits between lock attempts; tests replace it. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface MigrateResult {
  /** What this run applied, as `<version>_<name>`, in order. */
  readonly applied: readonly string[];
  /** Every version the ledger holds after the run. */
  readonly versions: readonly number[];
}

/**
 * Makes a migration from its text.
 *
 * @example
 * const migration = defineMigration(2, 'vend_notes', 'ALTER TABLE vends ADD COLUMN note text;');
 * // { version: 2, name: 'vend_notes', checksum: '5e1f…', statements: ['ALTER TABLE vends ADD COLUMN note text'] }
 */
export function defineMigration(version: number, name: string, sql: string): Migration {
  if (!Number.isSafeInteger(version) || version < 1 || version > 2_147_483_647) {
    throw new MigrationFileError(`migration version ${version} must be a positive 32-bit integer`);
  }
  const text = sql.replace(/\r\n/g, '\n');
  return {
    version,
    name,
    checksum: createHash('sha256').update(text).digest('hex'),
    statements: splitSqlStatements(text),
  };
}

/**
 * Reads `<version>_<name>.sql` files from a folder, ordered by version.
 *
 * @example
 * const migrations = await loadMigrations(); // [{ version: 1, name: 'initial', ... }]
 */
export async function loadMigrations(directory: URL | string = MIGRATIONS_DIR): Promise<Migration[]> {
  const folder = typeof directory === 'string' ? directory : fileURLToPath(directory);
  const files = (await readdir(folder)).filter((file) => file.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_NAME.exec(file);
    if (match === null) {
      throw new MigrationFileError(
        `${file}: migration files are named <version>_<name>.sql, e.g. 0002_vend_notes.sql`,
      );
    }
    const text = await readFile(join(folder, file), 'utf8');
    migrations.push(defineMigration(Number(match[1]), match[2] as string, text));
  }
  return ordered(migrations);
}

/**
 * Applies every pending migration, each in its own transaction; a no-op when none is pending.
 *
 * @example
 * const client = new RDSDataClient({});
 * const { applied } = await migrate({ client, resourceArn: CLUSTER_ARN, secretArn: SECRET_ARN, database: 'payments' });
 * // applied: ['0001_initial'] the first time, [] afterwards
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const migrations = ordered(options.migrations ?? (await loadMigrations()));
  const dataApi = new MigrationLedger(options);
  const log = options.log ?? (() => {});

  await dataApi.underLock(async (transactionId) => {
    await dataApi.execute(CREATE_LEDGER_SQL, {}, transactionId);
  });
  const ledger = await dataApi.ledger();
  const latestApplied = Math.max(0, ...ledger.keys());
  for (const migration of migrations) {
    const checksum = ledger.get(migration.version);
    if (checksum === undefined) {
      if (migration.version < latestApplied) {
        throw new MigrationOutOfOrderError(migration.version, migration.name, latestApplied);
      }
    } else if (checksum !== migration.checksum) {
      throw new MigrationChecksumMismatchError(
        migration.version,
        migration.name,
        checksum,
        migration.checksum,
      );
    }
  }

  const applied: string[] = [];
  for (const migration of migrations) {
    if (ledger.has(migration.version)) continue;
    const label = `${String(migration.version).padStart(4, '0')}_${migration.name}`;
    const outcome = await dataApi.underLock(async (transactionId) => {
      // Another runner may have applied it while this one waited for the lock.
      const recorded = await dataApi.execute(
        'SELECT checksum FROM schema_migrations WHERE version = :version',
        { version: migration.version },
        transactionId,
      );
      const checksum = recorded[0] === undefined ? undefined : String(recorded[0][0]);
      if (checksum !== undefined) {
        if (checksum !== migration.checksum) {
          throw new MigrationChecksumMismatchError(
            migration.version,
            migration.name,
            checksum,
            migration.checksum,
          );
        }
        return 'already applied' as const;
      }
      for (const [index, statement] of migration.statements.entries()) {
        await dataApi.execute(statement, {}, transactionId).catch((cause: unknown) => {
          throw new MigrationFailedError(migration.version, migration.name, index + 1, statement, { cause });
        });
      }
      await dataApi
        .execute(
          'INSERT INTO schema_migrations (version, name, checksum) VALUES (:version, :name, :checksum)',
          { version: migration.version, name: migration.name, checksum: migration.checksum },
          transactionId,
        )
        .catch((cause: unknown) => {
          throw new MigrationFailedError(migration.version, migration.name, 0, '', { cause });
        });
      return 'applied' as const;
    });
    if (outcome === 'applied') {
      applied.push(label);
      log(`applied ${label}`);
    } else {
      log(`skipped ${label}: another runner applied it`);
    }
  }
  return { applied, versions: [...(await dataApi.ledger()).keys()] };
}

/** Orders by version and refuses duplicates. */
function ordered(migrations: readonly Migration[]): Migration[] {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  for (let index = 1; index < sorted.length; index += 1) {
    if (sorted[index]?.version === sorted[index - 1]?.version) {
      throw new MigrationFileError(`two migrations have version ${sorted[index]?.version}`);
    }
  }
  return sorted;
}

/** The runner's ledger and lock, over the Data API. */
class MigrationLedger {
  readonly #db: DataApi;
  readonly #lockTimeoutMs: number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: MigrateOptions) {
    this.#db = new DataApi(options.client, options);
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 10 * 60 * 1000;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  execute(sql: string, parameters: Readonly<Record<string, string | number>>, transactionId?: string) {
    return this.#db.execute(sql, parameters, transactionId);
  }

  /** version → checksum of every applied migration. */
  async ledger(): Promise<Map<number, string>> {
    const rows = await this.#db.execute('SELECT version, checksum FROM schema_migrations ORDER BY version');
    return new Map(rows.map((row) => [Number(row[0]), String(row[1] ?? '')]));
  }

  /**
   * Runs `work` in a transaction holding the migration lock, and commits; rolls back if `work` throws.
   * While another runner holds the lock, waits (full-jitter backoff) up to the lock timeout.
   */
  async underLock<T>(work: (transactionId: string) => Promise<T>): Promise<T> {
    const started = Date.now();
    for (let attempt = 0; ; attempt += 1) {
      const transactionId = await this.#db.begin();
      const result = await this.#lockedOrNot(transactionId, work);
      if (result.locked) {
        await this.#db.commit(transactionId);
        return result.value;
      }
      await this.#db.rollback(transactionId);
      const waited = Date.now() - started;
      if (waited >= this.#lockTimeoutMs) throw new MigrationLockTimeoutError(waited);
      await this.#sleep(Math.random() * Math.min(2000, 50 * 2 ** attempt));
    }
  }

  /** Takes the lock in the transaction and runs `work` if it got it; rolls back if anything throws. */
  async #lockedOrNot<T>(
    transactionId: string,
    work: (transactionId: string) => Promise<T>,
  ): Promise<{ locked: true; value: T } | { locked: false }> {
    try {
      const [lock] = await this.#db.execute(
        'SELECT pg_try_advisory_xact_lock(:key)',
        { key: MIGRATION_LOCK_KEY },
        transactionId,
      );
      if (lock?.[0] !== true) return { locked: false };
      return { locked: true, value: await work(transactionId) };
    } catch (error) {
      await this.#db.rollback(transactionId);
      throw error;
    }
  }
}

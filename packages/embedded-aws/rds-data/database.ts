/**
 * The database behind the embedded RDS Data API: one PGlite instance (PostgreSQL compiled to WebAssembly,
 * on the main thread), so one connection, and one queue in front of it.
 *
 * The Data API is connectionless; each call takes a pooled connection. Here there is exactly one, so:
 * - autocommit statements and BeginTransaction wait their turn in arrival order;
 * - from BeginTransaction until CommitTransaction/RollbackTransaction the transaction owns the connection:
 *   only its own calls run, everything else waits;
 * - a transaction with no call for 3 minutes is rolled back (the Data API's idle limit), and one open for
 *   24 hours likewise (its lifetime limit), so a forgotten transaction cannot block the queue forever;
 * - a statement that fails inside a transaction rolls it back: the Data API ends the transaction and later
 *   calls with its ID are told it is not found (AWS's troubleshooting guide lists "Transaction has been
 *   aborted due to an error from a previous call" among the causes);
 * - a second call for a transaction while one of its calls is still running is refused (guess: the v2 Data
 *   API answers "Transaction is still running a query"; v1 made it wait);
 * - a transaction quiet for a second while other calls wait for the connection has them answered
 *   ServiceUnavailableError, so a client whose HTTP connections are all taken by waiting calls can still send
 *   the transaction's next call (see #turnAwayWaiters); their SDKs retry them.
 *
 * Statements go over PostgreSQL's extended query protocol in a single exchange (Parse, Bind, Describe,
 * Execute, Sync), with parameters typed as the Data API types them (see named-parameters.ts); a statement
 * sent before is bound to the name it was prepared under instead of parsed again (prepared-statements.ts).
 *
 * Database users: on Aurora each secret signs in as its own user, and a statement its user may not run fails
 * (`ERROR: permission denied for table vends; SQLState: 42501`). Here the session is PGlite's superuser, and
 * `roles` maps a secret ARN to the role its calls run as: an autocommit call runs as
 * `SET ROLE <role>; <statement>; RESET ROLE` in the one exchange, which is one implicit transaction, so a
 * failing statement rolls the SET ROLE back with it and the next call starts as the master; a transaction runs
 * as the role of the secret it began with, each of its calls preceded by `SET LOCAL ROLE <role>`, which its
 * COMMIT or ROLLBACK undoes. A secret not in the map is the master user (the session's own), as before. This
 * reproduces Aurora's permission checks for the application's statements; it is no security boundary (a
 * statement can still change its role, as the session user is a superuser).
 *
 * Durability: with a data directory, PGlite keeps a real PostgreSQL cluster there (NODEFS writes straight to
 * the files), and every autocommit statement and CommitTransaction has written its WAL before the call is
 * answered, so committed rows survive kill -9; an open transaction dies with the process, as a real
 * connection's would. (PostgreSQL inside PGlite does not fsync, so this holds for a killed process, not for
 * a power cut.)
 *
 * Commit notifications (`onTablesChanged`): after an autocommit statement or a CommitTransaction that wrote
 * to tables, listeners in this process are told which (the tables an INSERT, UPDATE, DELETE, MERGE or
 * TRUNCATE in its SQL names, read from the text: a superset, never fewer). The WAL is written by then, so a
 * listener that reads at once sees the rows. This is the embedded database's own hook, for in-process
 * wiring only (the front-end's event tail wakes on it instead of waiting out its poll); the Data API has
 * nothing like it, so code that runs on AWS must keep polling.
 *
 * Group commit (issue #15): not done, on purpose. PostgreSQL inside PGlite runs with `fsync = off`, so a
 * commit has no fsync to share: it costs a WAL write() to the page cache, about what the SAVEPOINT and
 * RELEASE that would keep each statement of a group on its own cost.
 * `node --import tsx packages/embedded-aws/bench/group-commit-bench.ts` measures both; BENCHMARKS.md has the figures.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { type PGlite, protocol } from '@electric-sql/pglite';
import type { AwsError } from '../aws/errors.ts';
import {
  badRequest,
  databaseError,
  databaseUnavailable,
  type PostgresErrorFields,
  postgresErrorMessage,
  serviceUnavailable,
  transactionNotFound,
} from './errors.ts';
import { openCluster } from './fresh-cluster.ts';
import { type BoundStatement, bindParameters, type SqlParameterInput, scanSql } from './named-parameters.ts';
import { mayChangeSchema, PreparedStatements } from './prepared-statements.ts';
import {
  columnKey,
  columnMetadataOf,
  type Field,
  type PgType,
  type ResultField,
  type ResultSetOptions,
  RowConverter,
  TABLE_COLUMNS_SQL,
  type TableColumn,
  TYPE_CATALOG_SQL,
  TypeCatalog,
} from './records.ts';

export interface DataApiDatabaseOptions {
  /** PGlite data folder (e.g. `${DATA_DIR}/postgres`), or null to keep the database in memory. */
  readonly dataDir: string | null;
  /** How long a transaction may go without a call before it is rolled back; default 3 minutes. */
  readonly transactionIdleTimeoutMs?: number;
  /** How long a transaction may stay open at all; default 24 hours. */
  readonly transactionMaxLifetimeMs?: number;
  /**
   * How long a transaction that holds the connection may sit between calls while other calls wait for it,
   * before those calls are answered ServiceUnavailableError (which the SDK retries); default 1 second.
   */
  readonly connectionWaitLimitMs?: number;
  /**
   * The PostgreSQL role each secret's calls run as (secret ARN → role), as each secret on Aurora signs in as
   * its own user; a secret not here runs as the master user. The roles must exist by the first call that
   * uses them (the migrations create them).
   */
  readonly roles?: Readonly<Record<string, string>>;
  /**
   * Bind statements run before to a prepared name instead of parsing them again (prepared-statements.ts);
   * default true. Off only to measure what it saves (packages/embedded-aws/bench/prepared-statements-bench.ts).
   */
  readonly prepareStatements?: boolean;
  /**
   * What a new database starts from: a `snapshot()` of another, as an Aurora cluster restored from a
   * snapshot. Ignored when `dataDir` already holds a database.
   */
  readonly snapshot?: Blob;
}

export interface ExecuteStatementInput {
  /** Chooses the database user (see `roles`); none, or one not mapped, is the master. */
  readonly secretArn?: string | undefined;
  readonly sql: string;
  readonly parameters?: readonly SqlParameterInput[] | undefined;
  readonly transactionId?: string | undefined;
  readonly includeResultMetadata?: boolean | undefined;
  readonly formatRecordsAs?: 'NONE' | 'JSON' | undefined;
  readonly resultSetOptions?: ResultSetOptions | undefined;
}

export interface ExecuteStatementOutput {
  records?: Field[][];
  columnMetadata?: Record<string, unknown>[];
  numberOfRecordsUpdated: number;
  generatedFields?: Field[];
  formattedRecords?: string;
}

export interface BatchExecuteStatementInput {
  readonly secretArn?: string | undefined;
  readonly sql: string;
  readonly parameterSets?: readonly (readonly SqlParameterInput[])[] | undefined;
  readonly transactionId?: string | undefined;
}

/** The Data API's limit on formattedRecords ("The size limit for this field is currently 10 MB"). */
const MAX_FORMATTED_RECORDS_BYTES = 10 * 1024 * 1024;
const IDLE_TIMEOUT_MS = 3 * 60 * 1000;
const MAX_LIFETIME_MS = 24 * 60 * 60 * 1000;
const CONNECTION_WAIT_LIMIT_MS = 1000;

type BackendMessage = { readonly name: string } & Record<string, unknown>;

/** One statement's outcome over the extended protocol. */
interface StatementResult {
  fields: ResultField[] | null;
  rows: (string | null)[][];
  tag: string;
}

interface Exchange {
  readonly results: StatementResult[];
  readonly error: PostgresErrorFields | undefined;
  /** How many Parse messages succeeded (ParseComplete). */
  readonly parsed: number;
  /** ReadyForQuery's status: I idle, T in a transaction, E in a failed transaction. */
  readonly status: string;
}

interface OpenTransaction {
  readonly id: string;
  readonly deadline: number;
  /** The role of the secret it began with, or null for the master: every call of it runs as this role. */
  readonly role: string | null;
  /** The tables its statements wrote to, told to `onTablesChanged` listeners when it commits. */
  readonly written: Set<string>;
  /** A call for it is queued or running. */
  busy: boolean;
  ended: boolean;
  timer: NodeJS.Timeout | undefined;
  waitTimer: NodeJS.Timeout | undefined;
}

interface Job {
  readonly run: () => Promise<void>;
  readonly fail: (error: AwsError) => void;
}

/** A simple FIFO with O(1) shift. */
class JobQueue {
  #items: (Job | undefined)[] = [];
  #head = 0;

  push(job: Job): void {
    this.#items.push(job);
  }

  shift(): Job | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const job = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head += 1;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return job;
  }

  drain(): Job[] {
    const rest = this.#items.slice(this.#head).filter((job): job is Job => job !== undefined);
    this.#items = [];
    this.#head = 0;
    return rest;
  }
}

/** Told the tables a committed statement or transaction wrote to (lower-case, without schema). */
export type TablesChangedListener = (tables: ReadonlySet<string>) => void;

const serialize = protocol.serialize;
const SYNC = serialize.sync();

/**
 * The PostgreSQL database the Data API routes talk to.
 *
 * @example
 * const database = await DataApiDatabase.open({ dataDir: `${DATA_DIR}/postgres` });
 * const server = createAwsServer({ services: [...], routes: dataApiRoutes(database) });
 * // ...
 * await database.close();
 */
export class DataApiDatabase {
  readonly #pg: PGlite;
  readonly #types: TypeCatalog;
  readonly #idleTimeoutMs: number;
  readonly #maxLifetimeMs: number;
  readonly #connectionWaitLimitMs: number;
  /** Secret ARN → the quoted role identifier its calls run as. */
  readonly #roles: ReadonlyMap<string, string>;
  readonly #transactions = new Map<string, OpenTransaction>();
  /** Autocommit statements and BeginTransaction calls, waiting for the connection. */
  readonly #free = new JobQueue();
  /** Calls of the transaction that owns the connection. */
  readonly #owned = new JobQueue();
  /** Table columns for columnMetadata, by `tableID.columnID`; cleared after any DDL. */
  readonly #columns = new Map<string, TableColumn>();
  readonly #prepared: PreparedStatements;
  #owner: OpenTransaction | null = null;
  #running = false;
  #closed = false;
  #whenIdle: (() => void) | undefined;
  readonly #tablesChangedListeners = new Set<TablesChangedListener>();
  readonly #changeWaiters = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  #stopWatchingChanges: (() => void) | undefined;

  private constructor(
    pg: PGlite,
    types: TypeCatalog,
    roles: ReadonlyMap<string, string>,
    options: DataApiDatabaseOptions,
  ) {
    this.#pg = pg;
    this.#types = types;
    this.#idleTimeoutMs = options.transactionIdleTimeoutMs ?? IDLE_TIMEOUT_MS;
    this.#maxLifetimeMs = options.transactionMaxLifetimeMs ?? MAX_LIFETIME_MS;
    this.#connectionWaitLimitMs = options.connectionWaitLimitMs ?? CONNECTION_WAIT_LIMIT_MS;
    this.#roles = roles;
    this.#prepared = new PreparedStatements({ enabled: options.prepareStatements ?? true });
  }

  /**
   * Opens (creating if needed) the database; with a data directory, PostgreSQL recovers from its WAL
   * whatever a killed process had committed.
   */
  static async open(options: DataApiDatabaseOptions): Promise<DataApiDatabase> {
    // Checked before PGlite starts, so a bad name cannot leave it open.
    const roles = new Map(
      Object.entries(options.roles ?? {}).map(([secretArn, role]) => [secretArn, quoteIdentifier(role)]),
    );
    if (options.dataDir !== null) mkdirSync(options.dataDir, { recursive: true });
    const pg = await openCluster(options.dataDir, { snapshot: options.snapshot });
    const database = new DataApiDatabase(pg, new TypeCatalog(), roles, options);
    // Aurora's default time zone is UTC; timestamptz values print in it.
    const setup = await database.#simple("SET TimeZone = 'UTC'");
    if (setup.error) throw new Error(`could not set up the session: ${setup.error.message}`);
    await database.#reloadTypes();
    return database;
  }

  /**
   * The whole cluster as it is now (every database and role), for `snapshot` of a new one: taken when no
   * transaction holds the connection, after a checkpoint, so a database restored from it has little WAL to replay.
   *
   * @example
   * const migrated = await database.snapshot();
   * const copy = await DataApiDatabase.open({ dataDir: null, snapshot: migrated });
   */
  snapshot(): Promise<Blob> {
    return this.#schedule(null, async () => {
      const checkpoint = await this.#simple('CHECKPOINT');
      if (checkpoint.error) throw databaseError(postgresErrorMessage(checkpoint.error));
      return this.#pg.dumpDataDir('none');
    });
  }

  /** Rolls back any open transaction, refuses waiting calls and closes PGlite. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const job of [...this.#owned.drain(), ...this.#free.drain()]) job.fail(databaseUnavailable());
    if (this.#running) await new Promise<void>((resolve) => (this.#whenIdle = resolve));
    for (const transaction of this.#transactions.values()) {
      clearTimeout(transaction.timer);
      clearTimeout(transaction.waitTimer);
    }
    this.#transactions.clear();
    if (this.#owner !== null) {
      this.#owner = null;
      await this.#simple('ROLLBACK');
    }
    await this.#pg.close();
  }

  /**
   * Calls `listener` after each commit that wrote to tables (an autocommit statement or batch, or a
   * CommitTransaction), with the tables its SQL writes to. Called synchronously, after the WAL is written
   * and before the call is answered: keep it cheap; what it throws is ignored. Returns the unsubscribe.
   *
   * @example
   * const off = database.onTablesChanged((tables) => { if (tables.has('payment_events')) wakeTail(); });
   */
  onTablesChanged(listener: TablesChangedListener): () => void {
    const entry: TablesChangedListener = (tables) => listener(tables);
    this.#tablesChangedListeners.add(entry);
    return () => this.#tablesChangedListeners.delete(entry);
  }

  /**
   * Resolves after the next commit that writes to `table` (as `onTablesChanged` sees it); every caller
   * until then shares the one promise. Never rejects; one still waiting when the database closes stays
   * pending, so use it with a timeout (the event tail's poll interval).
   *
   * @example
   * eventTail.setWake(() => database.nextChangeTo('payment_events'));
   */
  nextChangeTo(table: string): Promise<void> {
    const waiting = this.#changeWaiters.get(table);
    if (waiting !== undefined) return waiting.promise;
    let resolve!: () => void;
    const promise = new Promise<void>((done) => (resolve = done));
    this.#changeWaiters.set(table, { promise, resolve });
    if (this.#changeWaiters.size === 1) {
      this.#stopWatchingChanges = this.onTablesChanged((tables) => {
        for (const [name, waiter] of this.#changeWaiters) {
          if (!tables.has(name)) continue;
          this.#changeWaiters.delete(name);
          waiter.resolve();
        }
        if (this.#changeWaiters.size === 0) this.#stopWatchingChanges?.();
      });
    }
    return promise;
  }

  /** After a successful statement: told now (autocommit) or kept for the transaction's commit. */
  #wrote(transaction: OpenTransaction | null, sql: string): void {
    if (this.#tablesChangedListeners.size === 0 && transaction === null) return;
    const tables = tablesWrittenBy(sql);
    if (tables.size === 0) return;
    if (transaction !== null) {
      for (const table of tables) transaction.written.add(table);
      return;
    }
    this.#tellTablesChanged(tables);
  }

  #tellTablesChanged(tables: ReadonlySet<string>): void {
    for (const listener of this.#tablesChangedListeners) {
      try {
        listener(tables);
      } catch {
        // A listener's failure is its own; the commit stands.
      }
    }
  }

  /**
   * ExecuteStatement: one statement, autocommit or in a transaction.
   *
   * @example
   * await database.executeStatement({ sql: 'SELECT :id::int AS id', parameters: [{ name: 'id', value: { longValue: 1 } }] });
   * // { records: [[{ longValue: 1 }]], numberOfRecordsUpdated: 0 }
   */
  async executeStatement(input: ExecuteStatementInput): Promise<ExecuteStatementOutput> {
    const scanned = scanSql(input.sql);
    if (scanned.multipleStatements) {
      // Guess at the wording: the v2 Data API does not run several statements in one call.
      throw databaseError("Multistatements aren't supported.");
    }
    const bound = bindParameters(scanned, input.parameters);
    const wantMetadata = input.includeResultMetadata === true && input.formatRecordsAs !== 'JSON';
    const role = this.#roleOf(input.secretArn);
    const outcome = await this.#schedule(input.transactionId ?? null, async (transaction) => {
      const exchange = await this.#run([bound], transaction, role);
      this.#wrote(transaction, input.sql);
      const result = exchange.results[0] ?? { fields: null, rows: [], tag: '' };
      if (result.fields !== null) {
        if (!this.#types.knowsAll(result.fields)) await this.#reloadTypes();
        if (wantMetadata) await this.#loadColumns(result.fields);
      } else if (isDdl(result.tag)) {
        this.#columns.clear();
      }
      return result;
    });
    if (outcome.fields === null) {
      return { numberOfRecordsUpdated: countOf(outcome.tag), generatedFields: [] };
    }
    const converter = new RowConverter(outcome.fields, this.#types, input.resultSetOptions ?? {});
    if (input.formatRecordsAs === 'JSON') {
      const formattedRecords = converter.formattedRecords(outcome.rows);
      if (Buffer.byteLength(formattedRecords) > MAX_FORMATTED_RECORDS_BYTES) {
        throw badRequest('Database response exceeded size limit');
      }
      return { numberOfRecordsUpdated: 0, formattedRecords };
    }
    const output: ExecuteStatementOutput = {
      records: converter.records(outcome.rows),
      numberOfRecordsUpdated: 0,
    };
    if (wantMetadata) output.columnMetadata = columnMetadataOf(outcome.fields, this.#types, this.#columns);
    return output;
  }

  /**
   * BatchExecuteStatement: the statement once per parameter set. Outside a transaction the whole batch is
   * one implicit transaction (as the JDBC driver sends a batch), so it applies entirely or not at all.
   *
   * @example
   * await database.batchExecuteStatement({ sql: 'INSERT INTO t VALUES (:v)', parameterSets: [[p1], [p2]] });
   * // { updateResults: [{ generatedFields: [] }, { generatedFields: [] }] }
   */
  async batchExecuteStatement(
    input: BatchExecuteStatementInput,
  ): Promise<{ updateResults: { generatedFields: Field[] }[] }> {
    const scanned = scanSql(input.sql);
    if (scanned.multipleStatements) throw databaseError("Multistatements aren't supported.");
    const statements = (input.parameterSets ?? []).map((set) => bindParameters(scanned, set));
    if (statements.length === 0) {
      // Nothing to run, but a transaction ID must still name an open transaction.
      if (input.transactionId !== undefined) await this.#schedule(input.transactionId, async () => undefined);
      return { updateResults: [] };
    }
    const role = this.#roleOf(input.secretArn);
    await this.#schedule(input.transactionId ?? null, async (transaction) => {
      const exchange = await this.#run(statements, transaction, role);
      this.#wrote(transaction, input.sql);
      if (exchange.results.some((result) => result.fields === null && isDdl(result.tag)))
        this.#columns.clear();
    });
    // generatedFields: Aurora PostgreSQL does not return them (use RETURNING); each entry is empty.
    return { updateResults: statements.map(() => ({ generatedFields: [] })) };
  }

  /**
   * BeginTransaction: waits for the connection, starts a transaction on it and returns its ID. The
   * transaction's calls run as the role of `secretArn` (see `roles`), whichever secret they name.
   *
   * @example
   * const { transactionId } = await database.beginTransaction(secretArn);
   */
  async beginTransaction(secretArn?: string): Promise<{ transactionId: string }> {
    const role = this.#roleOf(secretArn);
    return this.#schedule(null, async () => {
      const exchange = await this.#simple('BEGIN');
      if (exchange.error) throw databaseError(postgresErrorMessage(exchange.error));
      // Shaped like the Data API's IDs: long, opaque, base64.
      const transaction: OpenTransaction = {
        id: randomBytes(138).toString('base64'),
        deadline: Date.now() + this.#maxLifetimeMs,
        role,
        written: new Set(),
        busy: false,
        ended: false,
        timer: undefined,
        waitTimer: undefined,
      };
      this.#transactions.set(transaction.id, transaction);
      this.#owner = transaction;
      this.#scheduleExpiry(transaction);
      return { transactionId: transaction.id };
    });
  }

  /**
   * CommitTransaction.
   *
   * @example
   * await database.commitTransaction(transactionId); // { transactionStatus: 'Transaction Committed' }
   */
  async commitTransaction(transactionId: string): Promise<{ transactionStatus: string }> {
    return this.#schedule(transactionId, async (transaction) => {
      const exchange = await this.#simple('COMMIT');
      this.#end(transaction!);
      if (exchange.error) throw databaseError(postgresErrorMessage(exchange.error));
      if (transaction!.written.size > 0) this.#tellTablesChanged(transaction!.written);
      return { transactionStatus: 'Transaction Committed' };
    });
  }

  /**
   * RollbackTransaction.
   *
   * @example
   * await database.rollbackTransaction(transactionId); // { transactionStatus: 'Rollback Complete' }
   */
  async rollbackTransaction(transactionId: string): Promise<{ transactionStatus: string }> {
    return this.#schedule(transactionId, async (transaction) => {
      const exchange = await this.#simple('ROLLBACK');
      this.#end(transaction!);
      if (exchange.error) throw databaseError(postgresErrorMessage(exchange.error));
      return { transactionStatus: 'Rollback Complete' };
    });
  }

  // ─── The queue ──────────────────────────────────────────────────────────────────────────────────────

  /**
   * Runs `work` when the connection is free for it: for a transaction's call, as soon as the running call
   * ends (the transaction owns the connection); otherwise once no transaction holds it.
   */
  #schedule<T>(
    transactionId: string | null,
    work: (transaction: OpenTransaction | null) => Promise<T>,
  ): Promise<T> {
    if (this.#closed) return Promise.reject(databaseUnavailable());
    let transaction: OpenTransaction | null = null;
    if (transactionId !== null) {
      const found = this.#transactions.get(transactionId);
      if (found === undefined || found.ended) return Promise.reject(transactionNotFound(transactionId));
      if (found.busy) return Promise.reject(databaseError('Transaction is still running a query'));
      transaction = found;
      found.busy = true;
      clearTimeout(found.timer);
      clearTimeout(found.waitTimer);
    }
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        run: async () => {
          try {
            resolve(await work(transaction));
          } catch (error) {
            reject(error);
          } finally {
            if (transaction !== null) {
              transaction.busy = false;
              if (!transaction.ended) this.#scheduleExpiry(transaction);
            }
          }
        },
        fail: (error) => {
          if (transaction !== null) transaction.busy = false;
          reject(error);
        },
      };
      (transaction === null ? this.#free : this.#owned).push(job);
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#running) return;
    const job = this.#owner !== null ? this.#owned.shift() : this.#free.shift();
    if (job === undefined) {
      this.#whenIdle?.();
      this.#whenIdle = undefined;
      return;
    }
    this.#running = true;
    void job.run().finally(() => {
      this.#running = false;
      this.#pump();
    });
  }

  #scheduleExpiry(transaction: OpenTransaction): void {
    clearTimeout(transaction.timer);
    clearTimeout(transaction.waitTimer);
    transaction.waitTimer = setTimeout(() => this.#turnAwayWaiters(transaction), this.#connectionWaitLimitMs);
    transaction.waitTimer.unref();
    const delay = Math.max(0, Math.min(this.#idleTimeoutMs, transaction.deadline - Date.now()));
    transaction.timer = setTimeout(() => this.#expire(transaction), delay);
    // A forgotten transaction must not keep the process alive.
    transaction.timer.unref();
  }

  /**
   * Aurora runs many transactions at once; here one transaction holds the only connection, and the calls
   * waiting behind it hold their clients' HTTP connections. A client whose connection pool is full of such
   * waiting calls can no longer send the transaction's own next call: a deadlock until the idle limit. So
   * when the holder has been quiet for a while, the waiting calls are answered ServiceUnavailableError,
   * which frees their connections, and their SDKs retry them with backoff.
   */
  #turnAwayWaiters(transaction: OpenTransaction): void {
    if (transaction.ended || transaction.busy || this.#owner !== transaction) return;
    for (const job of this.#free.drain()) job.fail(serviceUnavailable());
  }

  /** The Data API's timeout: the transaction is rolled back and its ID forgotten. */
  #expire(transaction: OpenTransaction): void {
    if (transaction.ended || transaction.busy || this.#closed) return;
    transaction.ended = true;
    this.#transactions.delete(transaction.id);
    this.#owned.push({
      run: async () => {
        await this.#simple('ROLLBACK');
        if (this.#owner === transaction) this.#owner = null;
      },
      fail: () => {},
    });
    this.#pump();
  }

  #end(transaction: OpenTransaction): void {
    transaction.ended = true;
    clearTimeout(transaction.timer);
    clearTimeout(transaction.waitTimer);
    this.#transactions.delete(transaction.id);
    if (this.#owner === transaction) this.#owner = null;
  }

  /**
   * After a statement: a failure inside a transaction ends it (rolled back); outside one, a statement that
   * left the session inside a transaction (a bare BEGIN) is rolled back so the next caller starts clean.
   */
  async #afterStatement(transaction: OpenTransaction | null, exchange: Exchange): Promise<void> {
    if (exchange.error !== undefined) {
      if (transaction !== null) {
        await this.#simple('ROLLBACK');
        this.#end(transaction);
      } else if (exchange.status !== 'I') {
        await this.#simple('ROLLBACK');
      }
      throw databaseError(postgresErrorMessage(exchange.error));
    }
    if (transaction === null && exchange.status !== 'I') await this.#simple('ROLLBACK');
  }

  /** The quoted role a secret's calls run as; null for the master. */
  #roleOf(secretArn: string | undefined): string | null {
    return secretArn === undefined ? null : (this.#roles.get(secretArn) ?? null);
  }

  /**
   * Runs a call's statements as `role` (null: as the session, the master) and settles the session after them
   * (#afterStatement). Outside a transaction the role is set and reset around the statements in their one
   * implicit transaction; a failure rolls the SET ROLE back with it, and the session is reset once more in
   * case a statement ended that transaction early (a bare BEGIN or COMMIT). Inside one, `SET LOCAL ROLE` before
   * each call keeps the transaction's role even if an earlier call changed it, and the transaction's end undoes it.
   */
  async #run(
    statements: readonly BoundStatement[],
    transaction: OpenTransaction | null,
    secretRole: string | null,
  ): Promise<Exchange> {
    const role = transaction === null ? secretRole : transaction.role;
    if (role === null) {
      const exchange = await this.#extended(statements);
      await this.#afterStatement(transaction, exchange);
      return exchange;
    }
    const inTransaction = transaction !== null;
    const before = { text: `SET ${inTransaction ? 'LOCAL ' : ''}ROLE ${role}`, types: [], values: [] };
    const after = inTransaction ? [] : [{ text: 'RESET ROLE', types: [], values: [] }];
    const wrapped = await this.#extended([before, ...statements, ...after]);
    // Only the call's own statements' results: the SET comes first, and a failure leaves out the rest.
    const exchange = { ...wrapped, results: wrapped.results.slice(1, 1 + statements.length) };
    try {
      await this.#afterStatement(transaction, exchange);
    } finally {
      if (!inTransaction && (exchange.error !== undefined || exchange.status !== 'I')) {
        await this.#simple('RESET ROLE');
      }
    }
    return exchange;
  }

  // ─── The wire ───────────────────────────────────────────────────────────────────────────────────────

  /** Statements over the extended protocol in one exchange, ending with one Sync (see prepared-statements.ts). */
  async #extended(statements: readonly BoundStatement[]): Promise<Exchange> {
    if (this.#prepared.stale) {
      const dropped = await this.#simple('DEALLOCATE ALL');
      // Names are never reused, so one left behind by a failed DEALLOCATE costs memory, not correctness.
      if (dropped.error === undefined) this.#prepared.dropped();
    }
    const prepared = this.#prepared.messagesFor(statements);
    const exchange = await this.#exchange([...prepared.parts, SYNC]);
    const tags = exchange.results.map((result) => result.tag);
    this.#prepared.settle(prepared, exchange.parsed, mayChangeSchema(tags, exchange.error));
    return exchange;
  }

  /** One statement over the simple query protocol (transaction control, catalog queries). */
  #simple(sql: string): Promise<Exchange> {
    return this.#exchange([serialize.query(sql)]);
  }

  async #exchange(parts: readonly Uint8Array[]): Promise<Exchange> {
    let size = 0;
    for (const part of parts) size += part.length;
    const message = new Uint8Array(size);
    let offset = 0;
    for (const part of parts) {
      message.set(part, offset);
      offset += part.length;
    }
    const { messages } = await this.#pg.execProtocol(message, { throwOnError: false, syncToFs: false });
    return collect(messages as unknown as readonly BackendMessage[]);
  }

  async #reloadTypes(): Promise<void> {
    const exchange = await this.#simple(TYPE_CATALOG_SQL);
    const types: PgType[] = (exchange.results[0]?.rows ?? []).map((row) => ({
      oid: Number(row[0]),
      name: row[1] ?? '',
      element: Number(row[2]),
      category: row[3] ?? '',
    }));
    this.#types.replace(types);
  }

  /** Reads pg_attribute for the tables of a result set not yet in the cache. */
  async #loadColumns(fields: readonly ResultField[]): Promise<void> {
    const missing = new Set<number>();
    for (const field of fields) {
      if (field.tableID !== 0 && !this.#columns.has(columnKey(field.tableID, field.columnID)))
        missing.add(field.tableID);
    }
    if (missing.size === 0) return;
    const exchange = await this.#extended([
      { text: TABLE_COLUMNS_SQL, types: [1028], values: [`{${[...missing].join(',')}}`] },
    ]);
    for (const row of exchange.results[0]?.rows ?? []) {
      this.#columns.set(columnKey(Number(row[0]), Number(row[1])), {
        tableName: row[2] ?? '',
        notNull: row[3] === 't',
        autoIncrement: row[4] === 't',
      });
    }
  }
}

function collect(messages: readonly BackendMessage[]): Exchange {
  const results: StatementResult[] = [];
  let current: StatementResult = { fields: null, rows: [], tag: '' };
  let error: PostgresErrorFields | undefined;
  let status = 'I';
  let parsed = 0;
  for (const message of messages) {
    switch (message.name) {
      case 'parseComplete':
        parsed += 1;
        break;
      case 'rowDescription':
        current.fields = message.fields as ResultField[];
        break;
      case 'dataRow':
        current.rows.push(message.fields as (string | null)[]);
        break;
      case 'commandComplete':
        current.tag = message.text as string;
        results.push(current);
        current = { fields: null, rows: [], tag: '' };
        break;
      case 'emptyQuery':
        results.push(current);
        current = { fields: null, rows: [], tag: '' };
        break;
      case 'error':
        error ??= message as unknown as PostgresErrorFields;
        break;
      case 'readyForQuery':
        status = message.status as string;
        break;
    }
  }
  return { results, error, parsed, status };
}

/** The row count of a command tag (`INSERT 0 3`, `UPDATE 2`, `DELETE 1`); 0 for tags without one. */
function countOf(tag: string): number {
  const space = tag.lastIndexOf(' ');
  if (space === -1) return 0;
  const count = Number(tag.slice(space + 1));
  return Number.isFinite(count) ? count : 0;
}

/** PostgreSQL's quoted identifier: any role name is one identifier. */
function quoteIdentifier(name: string): string {
  if (name.length === 0 || name.includes('\0')) throw new Error(`not a role name: ${JSON.stringify(name)}`);
  return `"${name.replaceAll('"', '""')}"`;
}

const WRITES =
  /\b(?:insert\s+into|update|delete\s+from|merge\s+into|truncate(?:\s+table)?)\s+(?:only\s+)?((?:"(?:[^"]|"")+"|[a-z_][\w$]*)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[a-z_][\w$]*))?)/gi;
const writtenTablesCache = new Map<string, ReadonlySet<string>>();

/**
 * The tables a statement's text writes to, read from its INSERT INTO, UPDATE, DELETE FROM, MERGE INTO and
 * TRUNCATE clauses (CTEs included), lower-cased unless quoted, without their schema. A superset: a word
 * after `FOR UPDATE` or `DO UPDATE` counts too, which only tells a listener about a table that did not change.
 */
export function tablesWrittenBy(sql: string): ReadonlySet<string> {
  const cached = writtenTablesCache.get(sql);
  if (cached !== undefined) return cached;
  const tables = new Set<string>();
  for (const match of sql.matchAll(WRITES)) {
    const name = match[1] ?? '';
    const last = name.slice(Math.max(name.lastIndexOf('.') + 1, 0)).trim();
    const table = name.endsWith('"')
      ? (/"((?:[^"]|"")+)"$/.exec(name)?.[1] ?? last).replaceAll('""', '"')
      : last.toLowerCase();
    tables.add(table);
  }
  if (writtenTablesCache.size >= 1000) writtenTablesCache.clear();
  writtenTablesCache.set(sql, tables);
  return tables;
}

function isDdl(tag: string): boolean {
  return tag.startsWith('CREATE') || tag.startsWith('ALTER') || tag.startsWith('DROP');
}

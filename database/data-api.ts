/**
 * The one way this codebase talks to the payments database: the RDS Data API, with named parameters given as
 * a plain object, rows returned as arrays of plain values, and short transactions that roll back when their
 * work throws. The front-end, the task Lambdas and the migration runner all use it.
 *
 * Keep hot paths to one statement per step: every call is an HTTPS round trip to the Data API, and a
 * transaction spanning several calls holds its connection (and row locks) across all of them.
 *
 * A cluster that scales to zero (Aurora Serverless v2 with a minimum of 0 ACUs, as in dev) answers its first
 * call after a pause with DatabaseResumingException while it wakes; AWS says to wait a few seconds and try
 * again, so every call here does, for up to 20 seconds, before giving up.
 *
 * @example
 * const db = new DataApi(new RDSDataClient({}), { resourceArn, secretArn, database: 'payments' });
 * const rows = await db.execute('SELECT status FROM payments WHERE payment_id = :paymentId', { paymentId });
 * // [['charged']]
 */
import {
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  type Field,
  type RDSDataClient,
  RollbackTransactionCommand,
  type SqlParameter,
} from '@aws-sdk/client-rds-data';
import { z } from 'zod';

/** Which database the Data API reaches. */
export interface DataApiTarget {
  readonly resourceArn: string;
  readonly secretArn: string;
  readonly database?: string | undefined;
}

/** A parameter value; `{ json }` is sent with the JSON type hint. */
export type SqlValue = string | number | boolean | null | { readonly json: unknown };
export type SqlRow = (string | number | boolean | null)[];

/** Waits between attempts while the cluster resumes: 20 s in all, within the task Lambdas' timeouts. */
const RESUME_WAITS_MS = [1000, 2000, 4000, 6000, 7000] as const;

export interface DataApiOptions {
  /** Replaces the waits while the cluster resumes (tests). */
  readonly sleep?: (ms: number) => Promise<void>;
}

export class DataApi {
  readonly #client: RDSDataClient;
  readonly #target: DataApiTarget;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(client: RDSDataClient, target: DataApiTarget, options: DataApiOptions = {}) {
    this.#client = client;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#target = {
      resourceArn: target.resourceArn,
      secretArn: target.secretArn,
      ...(target.database === undefined ? {} : { database: target.database }),
    };
  }

  /** Runs one statement; returns its rows (empty for statements without RETURNING). */
  async execute(
    sql: string,
    parameters: Readonly<Record<string, SqlValue>> = {},
    transactionId?: string,
  ): Promise<SqlRow[]> {
    const command = new ExecuteStatementCommand({
      ...this.#target,
      sql,
      parameters: Object.entries(parameters).map(([name, value]) => parameterOf(name, value)),
      ...(transactionId === undefined ? {} : { transactionId }),
    });
    const output = await this.#whileResuming(() => this.#client.send(command));
    return (output.records ?? []).map((record) => record.map(plainValueOf));
  }

  /**
   * Runs one statement and reads its rows by column name: the Data API formats them as JSON objects
   * (`formatRecordsAs: 'JSON'`), and `row` checks each. Empty for statements without a result set.
   *
   * @example
   * const RowSchema = z.object({ status: z.string() });
   * await db.query('SELECT status FROM payments WHERE payment_id = :paymentId', { paymentId }, RowSchema);
   * // [{ status: 'charged' }]
   */
  async query<Row>(
    sql: string,
    parameters: Readonly<Record<string, SqlValue>>,
    row: z.ZodType<Row>,
    transactionId?: string,
  ): Promise<Row[]> {
    const command = new ExecuteStatementCommand({
      ...this.#target,
      sql,
      parameters: Object.entries(parameters).map(([name, value]) => parameterOf(name, value)),
      formatRecordsAs: 'JSON',
      ...(transactionId === undefined ? {} : { transactionId }),
    });
    const output = await this.#whileResuming(() => this.#client.send(command));
    if (output.formattedRecords === undefined) return [];
    return arrayOf(row).parse(JSON.parse(output.formattedRecords));
  }

  /** Runs `work` in one transaction: commits what it did, or rolls all of it back if it throws. */
  async transaction<T>(work: (transactionId: string) => Promise<T>): Promise<T> {
    const transactionId = await this.begin();
    let value: T;
    try {
      value = await work(transactionId);
    } catch (error) {
      await this.rollback(transactionId);
      throw error;
    }
    await this.commit(transactionId);
    return value;
  }

  /** BeginTransaction; prefer `transaction()`, which cannot leave one open. */
  async begin(): Promise<string> {
    const command = new BeginTransactionCommand(this.#target);
    const { transactionId } = await this.#whileResuming(() => this.#client.send(command));
    if (transactionId === undefined) throw new Error('BeginTransaction returned no transactionId');
    return transactionId;
  }

  async commit(transactionId: string): Promise<void> {
    const command = new CommitTransactionCommand({ ...this.#target, transactionId });
    await this.#whileResuming(() => this.#client.send(command));
  }

  /** Rolls back; a transaction the Data API already ended (a failed statement ends it) is not an error. */
  async rollback(transactionId: string): Promise<void> {
    await this.#client
      .send(new RollbackTransactionCommand({ ...this.#target, transactionId }))
      .catch(() => undefined);
  }

  /** Makes a call, waiting and making it again while a paused cluster resumes. */
  async #whileResuming<T>(call: () => Promise<T>): Promise<T> {
    for (const waitMs of [...RESUME_WAITS_MS, undefined]) {
      try {
        return await call();
      } catch (error) {
        if (waitMs === undefined || (error as Error).name !== 'DatabaseResumingException') throw error;
        await this.#sleep(waitMs);
      }
    }
    throw new Error('unreachable');
  }
}

function parameterOf(name: string, value: SqlValue): SqlParameter {
  if (value === null) return { name, value: { isNull: true } };
  if (typeof value === 'string') return { name, value: { stringValue: value } };
  if (typeof value === 'boolean') return { name, value: { booleanValue: value } };
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? { name, value: { longValue: value } }
      : { name, value: { doubleValue: value } };
  }
  return { name, value: { stringValue: JSON.stringify(value.json) }, typeHint: 'JSON' };
}

function plainValueOf(field: Field): string | number | boolean | null {
  if (field.isNull) return null;
  if (field.stringValue !== undefined) return field.stringValue;
  if (field.longValue !== undefined) return field.longValue;
  if (field.doubleValue !== undefined) return field.doubleValue;
  if (field.booleanValue !== undefined) return field.booleanValue;
  return null;
}

/**
 * The Data API gives a timestamptz as `2025-01-02 03:04:05.678` (UTC, no zone); the code and the wire use
 * ISO 8601.
 *
 * @example
 * isoTimestampOf('2025-01-02 03:04:05.678'); // '2025-01-02T03:04:05.678Z'
 */
export function isoTimestampOf(at: string): string {
  return new Date(`${at.replace(' ', 'T')}Z`).toISOString();
}

/** `z.array(row)`, built once per row schema: building one per call cost more than the parse itself. */
const arrays = new WeakMap<z.ZodType, z.ZodArray<z.ZodType>>();
function arrayOf<Row>(row: z.ZodType<Row>): z.ZodType<Row[]> {
  let array = arrays.get(row);
  if (array === undefined) {
    array = z.array(row);
    arrays.set(row, array);
  }
  return array as unknown as z.ZodType<Row[]>;
}

/**
 * A thin layer over the RDS Data API: named parameters as a plain object, rows as arrays of plain values,
 * and short transactions that roll back when their work throws.
 *
 * @example
 * const db = new DataApi(new RDSDataClient({}), databaseConfig(process.env));
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
import type { DatabaseConfig } from '../config.ts';

/** A parameter value; `{ json }` is sent with the JSON type hint. */
export type SqlValue = string | number | boolean | null | { readonly json: unknown };
export type SqlRow = (string | number | boolean | null)[];

export class DataApi {
  readonly #client: RDSDataClient;
  readonly #target: DatabaseConfig;

  constructor(client: RDSDataClient, target: DatabaseConfig) {
    this.#client = client;
    this.#target = target;
  }

  /** Runs one statement; returns its rows (empty for statements without RETURNING). */
  async execute(
    sql: string,
    parameters: Readonly<Record<string, SqlValue>> = {},
    transactionId?: string,
  ): Promise<SqlRow[]> {
    const output = await this.#client.send(
      new ExecuteStatementCommand({
        ...this.#target,
        sql,
        parameters: Object.entries(parameters).map(([name, value]) => parameterOf(name, value)),
        ...(transactionId === undefined ? {} : { transactionId }),
      }),
    );
    return (output.records ?? []).map((record) => record.map(plainValueOf));
  }

  /** Runs `work` in one transaction: commits what it did, or rolls all of it back if it throws. */
  async transaction<T>(work: (transactionId: string) => Promise<T>): Promise<T> {
    const { transactionId } = await this.#client.send(new BeginTransactionCommand(this.#target));
    if (transactionId === undefined) throw new Error('BeginTransaction returned no transactionId');
    let value: T;
    try {
      value = await work(transactionId);
    } catch (error) {
      await this.#client
        .send(new RollbackTransactionCommand({ ...this.#target, transactionId }))
        // A failed statement may already have ended the transaction.
        .catch(() => undefined);
      throw error;
    }
    await this.#client.send(new CommitTransactionCommand({ ...this.#target, transactionId }));
    return value;
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

/**
 * The payments store: the front-end's reads and writes of `payments`, `payment_events` and
 * `idempotency_records`, through the RDS Data API.
 *
 * @example
 * const outcome = await fastify.payments.acceptPayment({ idempotencyKey, requestHash, payment, response });
 * if (outcome.kind === 'replay') reply.code(outcome.statusCode).send(outcome.response);
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
import fp from 'fastify-plugin';
import {
  APPEND_PAYMENT_EVENT_SQL,
  PAYMENT_EVENTS_AFTER_ID_SQL,
  PAYMENT_EVENTS_AFTER_SEQ_SQL,
} from '../../database/statements.ts';

/** How long a key's first response is replayed. */
export const IDEMPOTENCY_TTL_HOURS = 24;

/** One event as the customer sees it: `{ seq, type, at, ...body }`. */
export interface PaymentEvent {
  readonly seq: number;
  readonly type: string;
  readonly at: string;
  readonly [field: string]: unknown;
}

/** An event from the global tail, with its position and payment. */
export interface TailedEvent {
  readonly id: number;
  readonly paymentId: string;
  readonly event: PaymentEvent;
}

export interface StoredPayment {
  readonly paymentId: string;
  readonly meterId: string;
  readonly amountPence: number;
  readonly status: string;
  readonly statusTokenHash: string;
}

export interface AcceptPaymentRequest {
  readonly idempotencyKey: string;
  readonly requestHash: string;
  readonly payment: Omit<StoredPayment, 'status'>;
  /** The 202 body to record for replays. */
  readonly response: object;
}

export type AcceptPaymentOutcome =
  | { readonly kind: 'accepted' }
  | { readonly kind: 'replay'; readonly statusCode: number; readonly response: unknown }
  | { readonly kind: 'key_reused' }
  | { readonly kind: 'in_progress' };

export interface PaymentsStore {
  acceptPayment(request: AcceptPaymentRequest): Promise<AcceptPaymentOutcome>;
  findPayment(paymentId: string): Promise<StoredPayment | undefined>;
  eventsAfterSeq(paymentId: string, afterSeq: number): Promise<PaymentEvent[]>;
  eventsAfterId(afterId: number, limit: number): Promise<TailedEvent[]>;
  lastEventId(): Promise<number>;
}

declare module 'fastify' {
  interface FastifyInstance {
    payments: PaymentsStore;
  }
}

interface Target {
  readonly resourceArn: string;
  readonly secretArn: string;
  readonly database: string;
}

/** The store over the Data API; exported for tests and scripts, the app uses the plugin. */
export function createPaymentsStore(client: RDSDataClient, target: Target): PaymentsStore {
  const run = async (sql: string, parameters: Record<string, string | number>, transactionId?: string) => {
    const output = await client.send(
      new ExecuteStatementCommand({ ...target, sql, parameters: parametersOf(parameters), transactionId }),
    );
    return output.records ?? [];
  };

  return {
    async acceptPayment({ idempotencyKey, requestHash, payment, response }) {
      const key = `POST /api/payments:${idempotencyKey}`;
      const { transactionId } = await client.send(new BeginTransactionCommand(target));
      try {
        await run(
          `DELETE FROM idempotency_records WHERE key = :key AND expires_at <= now()`,
          { key },
          transactionId,
        );
        // The primary key decides between concurrent first requests: the second waits for the first to
        // commit, then finds the row and is answered from it.
        const claimed = await run(
          `INSERT INTO idempotency_records (key, request_hash, expires_at)
           VALUES (:key, :requestHash, now() + CAST(:ttlHours AS integer) * interval '1 hour')
           ON CONFLICT (key) DO NOTHING RETURNING key`,
          { key, requestHash, ttlHours: IDEMPOTENCY_TTL_HOURS },
          transactionId,
        );
        if (claimed.length === 0) {
          await client.send(new RollbackTransactionCommand({ ...target, transactionId }));
          return await replayOf(key, requestHash);
        }
        await run(
          `INSERT INTO payments (payment_id, meter_id, amount_pence, status_token_hash)
           VALUES (:paymentId, :meterId, :amountPence, :statusTokenHash)`,
          payment,
          transactionId,
        );
        await run(
          `UPDATE idempotency_records SET response = CAST(:response AS jsonb), status_code = 202 WHERE key = :key`,
          { key, response: JSON.stringify(response) },
          transactionId,
        );
        // Last, so the event log's counter lock is held only until the commit just below.
        await run(
          APPEND_PAYMENT_EVENT_SQL,
          { paymentId: payment.paymentId, type: 'accepted', body: '{}' },
          transactionId,
        );
        await client.send(new CommitTransactionCommand({ ...target, transactionId }));
        return { kind: 'accepted' };
      } catch (error) {
        await client
          .send(new RollbackTransactionCommand({ ...target, transactionId }))
          .catch(() => undefined);
        throw error;
      }
    },

    async findPayment(paymentId) {
      const [row] = await run(
        `SELECT payment_id, meter_id, amount_pence, status, status_token_hash FROM payments WHERE payment_id = :paymentId`,
        { paymentId },
      );
      if (!row) return undefined;
      return {
        paymentId: text(row[0]),
        meterId: text(row[1]),
        amountPence: integer(row[2]),
        status: text(row[3]),
        statusTokenHash: text(row[4]),
      };
    },

    async eventsAfterSeq(paymentId, afterSeq) {
      const rows = await run(PAYMENT_EVENTS_AFTER_SEQ_SQL, { paymentId, afterSeq });
      return rows.map((row) => eventOf(row[1], row[2], row[3], row[4]));
    },

    async eventsAfterId(afterId, limit) {
      const rows = await run(PAYMENT_EVENTS_AFTER_ID_SQL, { afterId, limit });
      return rows.map((row) => ({
        id: integer(row[0]),
        paymentId: text(row[1]),
        event: eventOf(row[2], row[3], row[4], row[5]),
      }));
    },

    async lastEventId() {
      const [row] = await run(`SELECT last_id FROM payment_event_log WHERE singleton`, {});
      return row ? integer(row[0]) : 0;
    },
  };

  async function replayOf(key: string, requestHash: string): Promise<AcceptPaymentOutcome> {
    const [row] = await run(
      `SELECT request_hash, response::text, status_code FROM idempotency_records WHERE key = :key`,
      { key },
    );
    if (!row) return { kind: 'in_progress' };
    if (text(row[0]) !== requestHash) return { kind: 'key_reused' };
    if (row[1]?.isNull || row[2]?.isNull) return { kind: 'in_progress' };
    return { kind: 'replay', statusCode: integer(row[2]), response: JSON.parse(text(row[1])) as unknown };
  }
}

export const paymentsStorePlugin = fp(
  async (fastify) => {
    const { resourceArn, secretArn, database } = fastify.config.database;
    fastify.decorate(
      'payments',
      createPaymentsStore(fastify.aws.rdsData, { resourceArn, secretArn, database }),
    );
  },
  { name: 'payments-store', dependencies: ['config', 'aws-clients'], fastify: '5.x' },
);

function parametersOf(values: Record<string, string | number>): SqlParameter[] {
  return Object.entries(values).map(([name, value]) => ({
    name,
    value: typeof value === 'number' ? { longValue: value } : { stringValue: value },
  }));
}

function text(field: Field | undefined): string {
  if (field?.stringValue === undefined) throw new TypeError('expected a text column');
  return field.stringValue;
}

function integer(field: Field | undefined): number {
  if (field?.longValue !== undefined) return field.longValue;
  if (field?.stringValue !== undefined) return Number(field.stringValue);
  throw new TypeError('expected an integer column');
}

/** The Data API gives timestamptz as `2025-01-02 03:04:05.678` in UTC; the wire has ISO 8601. */
function isoOf(at: string): string {
  return new Date(`${at.replace(' ', 'T')}Z`).toISOString();
}

function eventOf(
  seq: Field | undefined,
  type: Field | undefined,
  body: Field | undefined,
  at: Field | undefined,
): PaymentEvent {
  // The log's own seq, type and time win over anything a writer put in the body.
  const { seq: _seq, type: _type, at: _at, ...fields } = JSON.parse(text(body)) as Record<string, unknown>;
  return { seq: integer(seq), type: text(type), at: isoOf(text(at)), ...fields };
}

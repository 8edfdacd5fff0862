/**
 * The payments store: the front-end's reads and writes of `payments`, `payment_events` and
 * `idempotency_records`, through the RDS Data API.
 *
 * @example
 * const outcome = await fastify.payments.acceptPayment({ idempotencyKey, requestHash, payment, response });
 * if (outcome.kind === 'replay') reply.code(outcome.statusCode).send(outcome.response);
 */
import fp from 'fastify-plugin';
import { DataApi, type SqlRow } from '../../database/data-api.ts';
import {
  ACCEPT_PAYMENT_SQL,
  IDEMPOTENCY_RECORD_SQL,
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
  | { readonly kind: 'key_reused' };

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

/** The store over the Data API; exported for tests and scripts, the app uses the plugin. */
export function createPaymentsStore(db: DataApi): PaymentsStore {
  return {
    async acceptPayment({ idempotencyKey, requestHash, payment, response }) {
      const key = `POST /api/payments:${idempotencyKey}`;
      // A key's record is gone only once it expired (and a sweep removed it): then the key is free again.
      for (let attempt = 1; ; attempt += 1) {
        const accepted = await db.execute(ACCEPT_PAYMENT_SQL, {
          key,
          requestHash,
          response: JSON.stringify(response),
          ttlHours: IDEMPOTENCY_TTL_HOURS,
          ...payment,
        });
        if (accepted.length > 0) return { kind: 'accepted' };
        const [record] = await db.execute(IDEMPOTENCY_RECORD_SQL, { key });
        if (record !== undefined) {
          if (record[0] !== requestHash) return { kind: 'key_reused' };
          return { kind: 'replay', statusCode: Number(record[2]), response: JSON.parse(String(record[1])) };
        }
        if (attempt === 3) throw new Error(`idempotency record for ${key} neither claimed nor found`);
      }
    },

    async findPayment(paymentId) {
      const [row] = await db.execute(
        `SELECT payment_id, meter_id, amount_pence, status, status_token_hash FROM payments WHERE payment_id = :paymentId`,
        { paymentId },
      );
      if (!row) return undefined;
      return {
        paymentId: String(row[0]),
        meterId: String(row[1]),
        amountPence: Number(row[2]),
        status: String(row[3]),
        statusTokenHash: String(row[4]),
      };
    },

    async eventsAfterSeq(paymentId, afterSeq) {
      const rows = await db.execute(PAYMENT_EVENTS_AFTER_SEQ_SQL, { paymentId, afterSeq });
      return rows.map((row) => eventOf(row[1], row[2], row[3], row[4]));
    },

    async eventsAfterId(afterId, limit) {
      const rows = await db.execute(PAYMENT_EVENTS_AFTER_ID_SQL, { afterId, limit });
      return rows.map((row) => ({
        id: Number(row[0]),
        paymentId: String(row[1]),
        event: eventOf(row[2], row[3], row[4], row[5]),
      }));
    },

    async lastEventId() {
      const [row] = await db.execute(`SELECT last_id FROM payment_event_log WHERE singleton`);
      return row ? Number(row[0]) : 0;
    },
  };
}

export const paymentsStorePlugin = fp(
  async (fastify) => {
    const { resourceArn, secretArn, database } = fastify.config.database;
    fastify.decorate(
      'payments',
      createPaymentsStore(new DataApi(fastify.aws.rdsData, { resourceArn, secretArn, database })),
    );
  },
  { name: 'payments-store', dependencies: ['config', 'aws-clients'], fastify: '5.x' },
);

/** The Data API gives timestamptz as `2025-01-02 03:04:05.678` in UTC; the wire has ISO 8601. */
function isoOf(at: string): string {
  return new Date(`${at.replace(' ', 'T')}Z`).toISOString();
}

function eventOf(...[seq, type, body, at]: (SqlRow[number] | undefined)[]): PaymentEvent {
  // The log's own seq, type and time win over anything a writer put in the body.
  const { seq: _seq, type: _type, at: _at, ...fields } = JSON.parse(String(body)) as Record<string, unknown>;
  return { seq: Number(seq), type: String(type), at: isoOf(String(at)), ...fields };
}

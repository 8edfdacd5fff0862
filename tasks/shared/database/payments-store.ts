/**
 * The payments database as the task Lambdas use it: the gateway charge on `payments`, vend attempts in
 * `vends`, and customer events in `payment_events` (appended with APPEND_PAYMENT_EVENT_SQL, once each).
 * Every write tolerates being made again: Step Functions calls a task at least once, SQS delivers at least once.
 *
 * @example
 * const store = new DataApiPaymentsStore(new DataApi(new RDSDataClient({}), databaseConfig(process.env)));
 * await store.appendNotification({ paymentId: 'pay_1', type: 'charged', amountPence: 2000 });
 * // { recorded: true, seq: 2 }; the same call again → { recorded: false, seq: 2 }
 */

import type { DataApi } from '../../../database/data-api.ts';
import type { VendOutcome } from '../../../database/schema.ts';
import { APPEND_PAYMENT_EVENT_SQL, EVENT_SEQ_SQL } from '../../../database/statements.ts';
import type { NotifyCustomerRequest } from '../../../workflow/contracts.ts';
import { PaymentChargeConflictError, PaymentNotFoundError, PaymentsDatabaseError } from './errors.ts';

export interface PaymentRecord {
  readonly paymentId: string;
  readonly meterId: string;
  readonly amountPence: number;
  readonly status: string;
  readonly gatewayChargeId: string | null;
}

export interface VendAttemptRecord {
  readonly paymentId: string;
  readonly attempt: number;
  readonly transactionId: string;
  readonly outcome: VendOutcome;
  readonly utrn?: string;
  readonly rejectionCode?: string;
}

export interface AppendedNotification {
  /** False when the event was already there (a retried step or a redelivered message). */
  readonly recorded: boolean;
  /** The event's per-payment sequence number. */
  readonly seq: number;
}

export interface PaymentsStore {
  findPayment(paymentId: string): Promise<PaymentRecord | undefined>;
  /** Records the gateway's charge id; the same id again is a no-op, another id a PaymentChargeConflictError. */
  recordCharge(paymentId: string, chargeId: string): Promise<void>;
  /** One row per (payment, attempt) and at most one success per payment: a repeat records nothing. */
  recordVendAttempt(attempt: VendAttemptRecord): Promise<'recorded' | 'already-recorded'>;
  /** Appends a customer event once per (paymentId, type), per attempt for vend_retrying; moves payments.status. */
  appendNotification(request: NotifyCustomerRequest): Promise<AppendedNotification>;
}

export class DataApiPaymentsStore implements PaymentsStore {
  readonly #db: DataApi;

  constructor(db: DataApi) {
    this.#db = db;
  }

  async findPayment(paymentId: string): Promise<PaymentRecord | undefined> {
    const [row] = await this.#db.execute(
      `SELECT payment_id, meter_id, amount_pence, status, gateway_charge_id
       FROM payments WHERE payment_id = :paymentId`,
      { paymentId },
    );
    if (row === undefined) return undefined;
    return {
      paymentId: String(row[0]),
      meterId: String(row[1]),
      amountPence: Number(row[2]),
      status: String(row[3]),
      gatewayChargeId: row[4] === null || row[4] === undefined ? null : String(row[4]),
    };
  }

  async recordCharge(paymentId: string, chargeId: string): Promise<void> {
    const updated = await this.#db.execute(
      `UPDATE payments SET gateway_charge_id = :chargeId, updated_at = now()
       WHERE payment_id = :paymentId AND (gateway_charge_id IS NULL OR gateway_charge_id = :chargeId)
       RETURNING payment_id`,
      { paymentId, chargeId },
    );
    if (updated.length > 0) return;
    if ((await this.findPayment(paymentId)) === undefined) throw new PaymentNotFoundError(paymentId);
    throw new PaymentChargeConflictError(paymentId);
  }

  async recordVendAttempt(attempt: VendAttemptRecord): Promise<'recorded' | 'already-recorded'> {
    // No conflict target: the (payment, attempt) key and the one-success-per-payment/transaction/UTRN
    // indexes all make a repeat a no-op.
    const inserted = await this.#db.execute(
      `INSERT INTO vends (payment_id, attempt, transaction_id, outcome, utrn, rejection_code)
       VALUES (:paymentId, :attempt, :transactionId, :outcome, :utrn, :rejectionCode)
       ON CONFLICT DO NOTHING
       RETURNING attempt`,
      {
        paymentId: attempt.paymentId,
        attempt: attempt.attempt,
        transactionId: attempt.transactionId,
        outcome: attempt.outcome,
        utrn: attempt.utrn ?? null,
        rejectionCode: attempt.rejectionCode ?? null,
      },
    );
    return inserted.length > 0 ? 'recorded' : 'already-recorded';
  }

  async appendNotification(request: NotifyCustomerRequest): Promise<AppendedNotification> {
    const { paymentId, type, ...fields } = request;
    const [appended] = await this.#db.execute(APPEND_PAYMENT_EVENT_SQL, {
      paymentId,
      type,
      body: { json: fields },
    });
    if (appended !== undefined) return { recorded: true, seq: Number(appended[1]) };

    // Rare: a retried step or a redelivered message. Find the event it appended the first time.
    const [found] = await this.#db.execute(EVENT_SEQ_SQL, {
      paymentId,
      type,
      attempt: request.type === 'vend_retrying' ? String(request.attempt) : '',
    });
    if (found?.[0] !== true) throw new PaymentNotFoundError(paymentId);
    if (found[1] === null || found[1] === undefined)
      throw new PaymentsDatabaseError(`appending ${type} to ${paymentId} wrote no row`);
    return { recorded: false, seq: Number(found[1]) };
  }
}

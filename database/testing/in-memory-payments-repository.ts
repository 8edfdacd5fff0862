/**
 * Test support: the payments repository in memory, keeping the same rules as the database (one outcome per
 * charge, one row per vend attempt and one success per payment, each customer event once, statuses moved only
 * by facts). payments-repository.contract.test.ts runs the same cases against this and the Data API.
 *
 * @example
 * const payments = new InMemoryPaymentsRepository();
 * payments.addPayment({ paymentId: 'pay_1' });
 * await payments.recordCharged('pay_1', 'ch_1');
 */
import type { ChargeResult, Decision } from '../../workflow/contracts.ts';
import { PaymentChargeConflictError, PaymentNotFoundError, PaymentNotOpenError } from '../payments-errors.ts';
import {
  type AcceptPaymentOutcome,
  type AcceptPaymentRequest,
  type AppendedEvent,
  type CustomerEvent,
  chargeResultOf,
  type OpenedFollowUp,
  type OpenFollowUpRequest,
  type Payment,
  type PaymentEvent,
  type PaymentsRepository,
  type RecordedDecision,
  type RecordedVendFailure,
  type TailedEvent,
  type VendAttempt,
} from '../payments-repository.ts';
import type { PaymentStatus } from '../schema.ts';

export class InMemoryPaymentsRepository implements PaymentsRepository {
  readonly payments = new Map<string, Payment>();
  readonly vends: VendAttempt[] = [];
  readonly events: (TailedEvent & { readonly key: string })[] = [];
  readonly followUps = new Map<
    string,
    OpenedFollowUp & { taskToken: string | null; executionArn: string; closed: boolean }
  >();
  readonly decisions: (Decision & { readonly paymentId: string })[] = [];
  readonly #idempotency = new Map<string, { requestHash: string; response: string }>();

  /** A payment as the front-end accepts it (or further on, with `status` and the rest given). */
  addPayment(payment: Partial<Payment> & { paymentId: string }): Payment {
    const added: Payment = {
      meterId: '1200000000011',
      amountPence: 2000,
      status: 'accepted',
      statusTokenHash: 'f'.repeat(64),
      gatewayChargeId: null,
      declineReason: null,
      chargeError: null,
      refundId: null,
      ...payment,
    };
    this.payments.set(payment.paymentId, added);
    return added;
  }

  /** The events a payment's customer has been told, in order, without their time. */
  told(paymentId: string): Record<string, unknown>[] {
    return this.events
      .filter((tailed) => tailed.paymentId === paymentId)
      .map(({ event: { at: _at, ...event } }) => event);
  }

  async acceptPayment(request: AcceptPaymentRequest): Promise<AcceptPaymentOutcome> {
    const key = `POST /api/payments:${request.idempotencyKey}`;
    const record = this.#idempotency.get(key);
    if (record !== undefined) {
      if (record.requestHash !== request.requestHash) return { kind: 'key_reused' };
      return { kind: 'replay', statusCode: 202, response: JSON.parse(record.response) };
    }
    this.#idempotency.set(key, {
      requestHash: request.requestHash,
      response: JSON.stringify(request.response),
    });
    this.addPayment(request.payment);
    this.#append(request.payment.paymentId, 'accepted', {}, 'accepted');
    return { kind: 'accepted' };
  }

  async findPayment(paymentId: string): Promise<Payment | undefined> {
    return this.payments.get(paymentId);
  }

  async eventsAfterSeq(paymentId: string, afterSeq: number): Promise<PaymentEvent[]> {
    return this.events
      .filter((tailed) => tailed.paymentId === paymentId && tailed.event.seq > afterSeq)
      .map((tailed) => tailed.event);
  }

  async eventsAfterId(afterId: number, limit: number): Promise<TailedEvent[]> {
    return this.events
      .filter((tailed) => tailed.id > afterId)
      .slice(0, limit)
      .map(({ key: _key, ...tailed }) => tailed);
  }

  async lastEventId(): Promise<number> {
    return this.events.length;
  }

  async recordCharged(paymentId: string, chargeId: string): Promise<void> {
    const payment = this.#existing(paymentId);
    if (payment.status === 'charge_declined') {
      throw new PaymentChargeConflictError(paymentId, 'is recorded as declined');
    }
    if (payment.gatewayChargeId !== null && payment.gatewayChargeId !== chargeId) {
      throw new PaymentChargeConflictError(paymentId);
    }
    const moves = payment.status === 'accepted' || payment.status === 'charge_unconfirmed';
    this.payments.set(paymentId, {
      ...payment,
      gatewayChargeId: chargeId,
      status: moves ? 'charged' : payment.status,
    });
  }

  async recordChargeDeclined(paymentId: string, reason: string): Promise<void> {
    const payment = this.#existing(paymentId);
    const undecided = ['accepted', 'charge_unconfirmed', 'charge_declined'].includes(payment.status);
    if (!undecided || payment.gatewayChargeId !== null) {
      throw new PaymentChargeConflictError(paymentId, 'is recorded as charged');
    }
    this.payments.set(paymentId, { ...payment, status: 'charge_declined', declineReason: reason });
  }

  async recordChargeUnconfirmed(paymentId: string, chargeError: string): Promise<ChargeResult> {
    const payment = this.#existing(paymentId);
    if (payment.status !== 'accepted' && payment.status !== 'charge_unconfirmed') {
      return chargeResultOf(payment.status, payment.gatewayChargeId, payment.declineReason);
    }
    this.payments.set(paymentId, { ...payment, status: 'charge_unconfirmed', chargeError });
    return { outcome: 'unconfirmed', chargeId: null, declineReason: null };
  }

  async recordVendAttempt(attempt: VendAttempt): Promise<'recorded' | 'already-recorded'> {
    const payment = this.#existing(attempt.paymentId);
    const duplicate = this.vends.some(
      (vend) =>
        vend.paymentId === attempt.paymentId &&
        (vend.attempt === attempt.attempt || (vend.outcome === 'vended' && attempt.outcome === 'vended')),
    );
    if (duplicate) return 'already-recorded';
    this.vends.push(attempt);
    const settles = attempt.outcome === 'vended' || attempt.endsVend === true;
    if (settles && (payment.status === 'charged' || payment.status === 'vend_failed')) {
      const status: PaymentStatus = attempt.outcome === 'vended' ? 'vended' : 'vend_failed';
      this.payments.set(attempt.paymentId, { ...payment, status });
    }
    return 'recorded';
  }

  async recordVendFailed(paymentId: string): Promise<RecordedVendFailure> {
    const payment = this.#existing(paymentId);
    if (payment.status === 'charged') {
      this.payments.set(paymentId, { ...payment, status: 'vend_failed' });
      return { status: 'vend_failed', utrn: null };
    }
    const vended = this.vends.find((vend) => vend.paymentId === paymentId && vend.outcome === 'vended');
    return { status: payment.status, utrn: payment.status === 'vended' ? (vended?.utrn ?? null) : null };
  }

  async appendEvent({ paymentId, type, body }: CustomerEvent): Promise<AppendedEvent> {
    this.#existing(paymentId);
    const key = type === 'vend_retrying' ? `${type}:${String(body.attempt ?? '')}` : type;
    const same = this.events.find((tailed) => tailed.paymentId === paymentId && tailed.key === key);
    if (same !== undefined) return { recorded: false, seq: same.event.seq };
    return { recorded: true, seq: this.#append(paymentId, type, body, key) };
  }

  async openFollowUp(request: OpenFollowUpRequest): Promise<OpenedFollowUp> {
    const payment = this.#existing(request.paymentId);
    if (payment.status !== 'vend_failed' && payment.status !== 'charge_unconfirmed') {
      throw new PaymentNotOpenError(request.paymentId, payment.status);
    }
    const now = Date.now();
    const deadlineAt = new Date(now + request.deadlineSeconds * 1000).toISOString();
    const earlier = this.followUps.get(request.paymentId);
    const sameToken = earlier?.taskToken === request.taskToken;
    const missedDeadline = earlier !== undefined && !earlier.closed && Date.parse(earlier.deadlineAt) <= now;
    const opened = {
      reason: payment.status,
      escalations:
        earlier === undefined || earlier.closed
          ? 0
          : earlier.escalations + (!sameToken && missedDeadline ? 1 : 0),
      deadlineAt: sameToken && earlier !== undefined ? earlier.deadlineAt : deadlineAt,
      taskToken: request.taskToken,
      executionArn: request.executionArn,
      closed: false,
    };
    this.followUps.set(request.paymentId, opened);
    return { reason: opened.reason, escalations: opened.escalations, deadlineAt: opened.deadlineAt };
  }

  async recordDecision(paymentId: string, decision: Decision): Promise<RecordedDecision> {
    this.#existing(paymentId);
    const revends = () =>
      this.decisions.filter((earlier) => earlier.paymentId === paymentId && earlier.action === 'revend')
        .length;
    if (this.decisions.some((earlier) => earlier.decisionId === decision.decisionId)) {
      return { recorded: 'already-recorded', revends: revends() };
    }
    const refundDecided = this.decisions.some(
      (earlier) => earlier.paymentId === paymentId && earlier.action === 'refund',
    );
    if (refundDecided && decision.action !== 'refund') return { recorded: 'refused', revends: revends() };
    this.decisions.push({ ...decision, paymentId });
    const followUp = this.followUps.get(paymentId);
    if (followUp !== undefined) this.followUps.set(paymentId, { ...followUp, taskToken: null, closed: true });
    return { recorded: 'recorded', revends: revends() };
  }

  async recordRefunded(paymentId: string, refundId: string): Promise<void> {
    const payment = this.#existing(paymentId);
    if (payment.status === 'refunded' && payment.refundId === refundId) return;
    if (payment.status !== 'vend_failed') throw new PaymentNotOpenError(paymentId, payment.status);
    this.payments.set(paymentId, { ...payment, status: 'refunded', refundId });
  }

  async recordUtrnByHand(paymentId: string, transactionId: string, utrn: string): Promise<void> {
    const payment = this.#existing(paymentId);
    const vended = this.vends.find((vend) => vend.paymentId === paymentId && vend.outcome === 'vended');
    if (payment.status === 'vended' && vended?.utrn === utrn) return;
    if (payment.status !== 'vend_failed') throw new PaymentNotOpenError(paymentId, payment.status);
    const attempt =
      Math.max(0, ...this.vends.filter((vend) => vend.paymentId === paymentId).map((v) => v.attempt)) + 1;
    this.vends.push({ paymentId, attempt, transactionId, outcome: 'vended', utrn });
    this.payments.set(paymentId, { ...payment, status: 'vended' });
  }

  async recordVendFound(
    paymentId: string,
    transactionId: string,
    utrn: string,
  ): Promise<RecordedVendFailure> {
    const payment = this.#existing(paymentId);
    const vended = this.vends.find((vend) => vend.paymentId === paymentId && vend.outcome === 'vended');
    if (payment.status === 'vended') return { status: 'vended', utrn: vended?.utrn ?? null };
    if (payment.status !== 'charged' && payment.status !== 'vend_failed') {
      throw new PaymentNotOpenError(paymentId, payment.status);
    }
    const attempt =
      Math.max(0, ...this.vends.filter((vend) => vend.paymentId === paymentId).map((v) => v.attempt)) + 1;
    this.vends.push({ paymentId, attempt, transactionId, outcome: 'vended', utrn });
    this.payments.set(paymentId, { ...payment, status: 'vended' });
    return { status: 'vended', utrn };
  }

  #append(paymentId: string, type: string, body: Readonly<Record<string, unknown>>, key: string): number {
    const seq = this.events.filter((tailed) => tailed.paymentId === paymentId).length + 1;
    const event: PaymentEvent = { ...body, seq, type, at: new Date().toISOString() };
    this.events.push({ id: this.events.length + 1, paymentId, event, key });
    return seq;
  }

  #existing(paymentId: string): Payment {
    const payment = this.payments.get(paymentId);
    if (payment === undefined) throw new PaymentNotFoundError(paymentId);
    return payment;
  }
}

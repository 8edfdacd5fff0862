/** What can go wrong reading or writing payments through the payments repository. */

/** The base of every payments database failure. */
export class PaymentsDatabaseError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PaymentsDatabaseError';
  }
}

/** No `payments` row for the id: the front-end inserts it before it starts the execution. */
export class PaymentNotFoundError extends PaymentsDatabaseError {
  readonly paymentId: string;

  constructor(paymentId: string) {
    super(`payment ${paymentId} is not in the payments table`);
    this.name = 'PaymentNotFound';
    this.paymentId = paymentId;
  }
}

/**
 * The charge outcome contradicts what the payment records (another gateway charge, or a decline after a
 * charge): two outcomes for one payment must never both be recorded.
 */
export class PaymentChargeConflictError extends PaymentsDatabaseError {
  constructor(paymentId: string, detail = 'already records a different gateway charge') {
    super(`payment ${paymentId} ${detail}`);
    this.name = 'PaymentChargeConflict';
  }
}

/**
 * The payment is not open for what was asked: a follow-up for a payment whose vend did not fail, a refund or a
 * UTRN recorded by hand for one that is not vend_failed (already vended, refunded, or never charged).
 */
export class PaymentNotOpenError extends PaymentsDatabaseError {
  readonly paymentId: string;
  readonly status: string;

  constructor(paymentId: string, status: string) {
    super(`payment ${paymentId} is ${status}: not open for this decision`);
    this.name = 'PaymentNotOpen';
    this.paymentId = paymentId;
    this.status = status;
  }
}

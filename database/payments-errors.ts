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

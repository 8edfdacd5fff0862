/** What can go wrong reading or writing the payments database through the Data API. */

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

/** The payment already holds another gateway charge: two charges for one payment must never be recorded. */
export class PaymentChargeConflictError extends PaymentsDatabaseError {
  constructor(paymentId: string) {
    super(`payment ${paymentId} already records a different gateway charge`);
    this.name = 'PaymentChargeConflict';
  }
}

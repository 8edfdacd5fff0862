/**
 * What can go wrong calling the payment gateway. A decline is not among them: it is the charge's outcome.
 * The names are what Step Functions matches: `PaymentGatewayUnavailable` is retried by the Charge step.
 */

/** The base of every payment gateway failure. */
export class PaymentGatewayError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PaymentGatewayError';
  }
}

/**
 * The gateway could not answer now (5xx, a timeout, a connection failure, or the same idempotency key
 * still in progress): the same request, with the same key, may succeed later.
 */
export class PaymentGatewayUnavailableError extends PaymentGatewayError {
  readonly status: number | undefined;

  constructor(message: string, options?: ErrorOptions & { status?: number }) {
    super(message, options);
    this.name = 'PaymentGatewayUnavailable';
    this.status = options?.status;
  }
}

/**
 * The gateway is still working on the first request with this idempotency key (409
 * idempotency_request_in_progress): a retry that came while an earlier attempt, perhaps of a task that
 * crashed, is still at the gateway. Nothing is wrong; asking again once the first is done replays its answer.
 */
export class PaymentGatewayRequestInProgressError extends PaymentGatewayError {
  constructor(options?: ErrorOptions) {
    super('the payment gateway is still working on the first request with this idempotency key', options);
    this.name = 'PaymentGatewayRequestInProgress';
  }
}

/** The gateway refused the request itself (4xx other than a decline): retrying it cannot help. */
export class PaymentGatewayRequestRefusedError extends PaymentGatewayError {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, options?: ErrorOptions) {
    // Only the gateway's code: its message could one day quote what was sent.
    super(`the payment gateway refused the charge request: ${status} ${code}`, options);
    this.name = 'PaymentGatewayRequestRefused';
    this.status = status;
    this.code = code;
  }
}

/**
 * The gateway refused a refund (4xx): the charge is unknown (`resource_missing`), was declined
 * (`charge_not_refundable`), is already refunded (`charge_already_refunded`), the amount is more than is left
 * (`amount_too_large`), or the request itself is wrong. Retrying it cannot help; `code` says which.
 */
export class PaymentGatewayRefundRefusedError extends PaymentGatewayError {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, options?: ErrorOptions) {
    super(`the payment gateway refused the refund: ${status} ${code}`, options);
    this.name = 'PaymentGatewayRefundRefused';
    this.status = status;
    this.code = code;
  }
}

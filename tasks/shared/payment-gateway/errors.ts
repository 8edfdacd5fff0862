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

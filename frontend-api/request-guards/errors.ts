/**
 * Refusals of requests that are malformed or hostile. The app's error handler (app.ts) answers each with its
 * status and the usual error body, `{ statusCode, error, code, message, field? }`, plus its `headers`.
 */

export interface RequestRefusal {
  readonly statusCode: 400 | 404 | 405 | 415;
  /** Machine-readable, snake_case, e.g. `card_data_refused`. */
  readonly code: string;
  /** Safe to show and to log: it never quotes what the client sent. */
  readonly message: string;
  /** Where the problem is: a body field path, a header name, `path`, `query` or `body`. */
  readonly field?: string;
  /** Response headers that go with the refusal (`Allow` on a 405). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A request refused before any route handler sees it. */
export class RequestRefusedError extends Error {
  readonly statusCode: RequestRefusal['statusCode'];
  readonly code: string;
  readonly field: string | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(refusal: RequestRefusal) {
    super(refusal.message);
    this.name = 'RequestRefusedError';
    this.statusCode = refusal.statusCode;
    this.code = refusal.code;
    this.field = refusal.field;
    this.headers = refusal.headers ?? {};
  }
}

/**
 * The refusal of a request that carries card data at `field`.
 *
 * @example
 * throw cardDataRefused('Idempotency-Key');
 */
export function cardDataRefused(field: string): RequestRefusedError {
  return new RequestRefusedError({
    statusCode: 400,
    code: 'card_data_refused',
    message: 'Card numbers and security codes must not be sent: use a payment token',
    field,
  });
}

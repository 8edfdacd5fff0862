/**
 * Errors the embedded AWS answers with, shaped as AWS answers them.
 *
 * On the wire (AWS JSON 1.0/1.1) an error is an HTTP 4xx/5xx whose body is
 * `{"__type":"<namespace>#<Name>","message":"..."}`. The SDK v3 and botocore both drop everything up to
 * the `#` and pick the exception class from the rest, and read `message` or `Message`; so `name` here is
 * the short name that clients see (`err.name` in the SDK, `Error.Code` in the CLI).
 */

/** What an error adds to the wire besides `__type` and `message`. */
export interface AwsErrorOptions {
  /** HTTP status; 400 unless the service model says otherwise. */
  readonly statusCode?: number;
  /**
   * The Coral namespace real AWS puts before `#` in `__type` (e.g. `com.amazon.coral.validate`).
   * Clients ignore it; it is kept so that raw responses read like AWS's.
   */
  readonly namespace?: string;
  /** Further members of the error shape, e.g. ValidationException's `reason`. */
  readonly fields?: Readonly<Record<string, unknown>>;
  /**
   * For awsQueryCompatible services (SQS): the `x-amzn-query-error` header's code, e.g.
   * `AWS.SimpleQueueService.NonExistentQueue`. The SDK then reports that code instead of `name`.
   */
  readonly queryErrorCode?: string;
  readonly cause?: unknown;
}

/**
 * An error a client is meant to see. Anything thrown by a handler that is not an AwsError becomes a
 * 500 InternalFailure with a generic message, so internals never leak.
 *
 * @example
 * throw new AwsError('ResourceNotFoundException', 'Queue does not exist', { statusCode: 400 });
 */
export class AwsError extends Error {
  override readonly name: string;
  readonly statusCode: number;
  readonly namespace: string | undefined;
  readonly fields: Readonly<Record<string, unknown>>;
  readonly queryErrorCode: string | undefined;

  constructor(name: string, message: string, options: AwsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = name;
    this.statusCode = options.statusCode ?? 400;
    this.namespace = options.namespace;
    this.fields = options.fields ?? {};
    this.queryErrorCode = options.queryErrorCode;
  }

  /** `__type` as AWS writes it: `namespace#Name`, or the bare name. */
  get wireType(): string {
    return this.namespace === undefined ? this.name : `${this.namespace}#${this.name}`;
  }

  /** Whether the caller (4xx) or the service (5xx) is at fault, as `x-amzn-query-error` spells it. */
  get fault(): 'Sender' | 'Receiver' {
    return this.statusCode >= 500 ? 'Receiver' : 'Sender';
  }
}

const CORAL_SERVICE = 'com.amazon.coral.service';
const CORAL_VALIDATE = 'com.amazon.coral.validate';

/**
 * The request broke a constraint of the service model (length, range, enum, required member).
 * AWS's message lists every violation: `1 validation error detected: Value 'x' at 'name' failed to
 * satisfy constraint: Member must have length less than or equal to 80`.
 *
 * @example
 * throw new ValidationException("1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null");
 */
export class ValidationException extends AwsError {
  constructor(message: string, options: { reason?: string } = {}) {
    super('ValidationException', message, {
      namespace: CORAL_VALIDATE,
      ...(options.reason === undefined ? {} : { fields: { reason: options.reason } }),
    });
  }
}

/**
 * The body is not JSON, or not the JSON the operation takes (an array where an object belongs, a number
 * where a string belongs).
 *
 * @example
 * throw new SerializationException('Unexpected character at position 1');
 */
export class SerializationException extends AwsError {
  constructor(message: string) {
    super('SerializationException', message, { namespace: CORAL_SERVICE });
  }
}

/**
 * The X-Amz-Target names no operation this endpoint knows (or is missing).
 *
 * @example
 * throw new UnknownOperationException('AWSStepFunctions.Frobnicate');
 */
export class UnknownOperationException extends AwsError {
  constructor(target: string | undefined) {
    super(
      'UnknownOperationException',
      target === undefined ? 'Missing X-Amz-Target header' : `Unknown operation: ${target}`,
      { namespace: CORAL_SERVICE },
    );
  }
}

/**
 * Something failed inside the service. The message stays generic on purpose; the real error is logged.
 *
 * @example
 * throw new InternalFailure();
 */
export class InternalFailure extends AwsError {
  constructor(
    message = 'The request processing has failed because of an unknown error, exception or failure.',
  ) {
    super('InternalFailure', message, { statusCode: 500 });
  }
}

/**
 * The body is over the size the service accepts (Step Functions: 1 MB per request, a hard quota).
 *
 * @example
 * throw new RequestEntityTooLargeException(1_048_576);
 */
export class RequestEntityTooLargeException extends AwsError {
  constructor(maxBytes: number) {
    super('RequestEntityTooLargeException', `Request size exceeds the limit of ${maxBytes} bytes`, {
      statusCode: 413,
    });
  }
}

/**
 * The HTTP request itself is unusable (wrong method for the endpoint, unreadable body).
 * Named as AWS's common errors name it; the exact status AWS uses for a GET on a JSON endpoint is a guess.
 *
 * @example
 * throw new MalformedHttpRequestException('Only POST is supported', 405);
 */
export class MalformedHttpRequestException extends AwsError {
  constructor(message: string, statusCode = 400) {
    super('MalformedHttpRequestException', message, { statusCode });
  }
}

/**
 * The caller is refused (kept for services that check a policy; the embedded AWS accepts any credentials).
 *
 * @example
 * throw new AccessDeniedException('User is not authorized to perform: states:StartExecution');
 */
export class AccessDeniedException extends AwsError {
  constructor(message: string) {
    super('AccessDeniedException', message, { namespace: CORAL_SERVICE });
  }
}

/**
 * Too many requests; clients retry it with backoff.
 *
 * @example
 * throw new ThrottlingException('Rate exceeded');
 */
export class ThrottlingException extends AwsError {
  constructor(message = 'Rate exceeded') {
    super('ThrottlingException', message, { namespace: CORAL_SERVICE });
  }
}

/**
 * The service cannot answer right now (e.g. it is shutting down); clients retry it.
 *
 * @example
 * throw new ServiceUnavailable();
 */
export class ServiceUnavailable extends AwsError {
  constructor(message = 'The request has failed due to a temporary failure of the server.') {
    super('ServiceUnavailable', message, { statusCode: 503 });
  }
}

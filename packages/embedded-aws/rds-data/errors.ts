/**
 * The RDS Data API's errors as the REST-JSON protocol carries them: an HTTP status, the
 * `x-amzn-ErrorType` header naming the exception (the SDK v3 picks its class from it) and a body
 * `{"message": "..."}`. Statuses are the ones the service model gives each exception
 * (BadRequestException 400, TransactionNotFoundException 404, ...).
 *
 * Which exception a failure becomes follows the Data API for Aurora PostgreSQL Serverless v2 and
 * provisioned clusters (the ones that still exist): SQL errors are DatabaseErrorException, malformed
 * requests BadRequestException. Serverless v1 reported SQL errors as BadRequestException; the message
 * format (PostgreSQL's message as the JDBC driver prints it, then `; SQLState: <code>`) is the same.
 */
import { AwsError } from '../aws/errors.ts';

function dataApiError(name: string, message: string, statusCode: number): AwsError {
  return new AwsError(name, message, { statusCode });
}

/**
 * The request is malformed (a required member missing, a parameter the Data API cannot bind).
 *
 * @example
 * throw badRequest('Array parameters are not supported.');
 */
export function badRequest(message: string): AwsError {
  return dataApiError('BadRequestException', message, 400);
}

/**
 * The database refused the statement.
 *
 * @example
 * throw databaseError('ERROR: relation "nope" does not exist\n  Position: 15; SQLState: 42P01');
 */
export function databaseError(message: string): AwsError {
  return dataApiError('DatabaseErrorException', message, 400);
}

/**
 * The transaction ID names no open transaction: never begun here, committed, rolled back, expired after
 * three idle minutes, or ended by an error in one of its statements.
 *
 * Guess: the v2 Data API answers TransactionNotFoundException (404, added to the model with v2); v1 sent
 * the same message as a BadRequestException. The message is the one AWS's troubleshooting guide quotes.
 *
 * @example
 * throw transactionNotFound('AQC5SRDIm7ATFBVO...');
 */
export function transactionNotFound(transactionId: string): AwsError {
  return dataApiError('TransactionNotFoundException', `Transaction ${transactionId} is not found`, 404);
}

/**
 * A result the Data API cannot represent (a multidimensional array, a response over the size limit).
 *
 * @example
 * throw unsupportedResult('Multidimensional arrays are not supported');
 */
export function unsupportedResult(message: string): AwsError {
  return dataApiError('UnsupportedResultException', message, 400);
}

/**
 * The database is shutting down; clients may retry.
 *
 * @example
 * throw databaseUnavailable();
 */
export function databaseUnavailable(): AwsError {
  return dataApiError('DatabaseUnavailableException', 'The database is not available', 504);
}

/**
 * The service cannot take the call now; the SDK retries it (a 503 is transient to every AWS SDK).
 *
 * @example
 * throw serviceUnavailable();
 */
export function serviceUnavailable(): AwsError {
  return dataApiError(
    'ServiceUnavailableError',
    'The service is temporarily unavailable. Retry the request.',
    503,
  );
}

/** The parts of a PostgreSQL ErrorResponse the message is built from. */
export interface PostgresErrorFields {
  readonly message: string;
  readonly severity?: string | undefined;
  readonly code?: string | undefined;
  readonly detail?: string | undefined;
  readonly hint?: string | undefined;
  readonly position?: string | undefined;
  readonly where?: string | undefined;
}

/**
 * PostgreSQL's error as the Data API reports it: the message as the PostgreSQL JDBC driver prints a server
 * error (`ERROR: <message>`, then `Detail:`, `Hint:`, `Position:`, `Where:` lines indented by two spaces),
 * followed by `; SQLState: <code>`.
 *
 * @example
 * postgresErrorMessage({ severity: 'ERROR', message: 'duplicate key value violates unique constraint "t_pkey"',
 *   detail: 'Key (id)=(1) already exists.', code: '23505' });
 * // 'ERROR: duplicate key value violates unique constraint "t_pkey"\n  Detail: Key (id)=(1) already exists.; SQLState: 23505'
 */
export function postgresErrorMessage(error: PostgresErrorFields): string {
  let text = `${error.severity ?? 'ERROR'}: ${error.message}`;
  if (error.detail) text += `\n  Detail: ${error.detail}`;
  if (error.hint) text += `\n  Hint: ${error.hint}`;
  if (error.position) text += `\n  Position: ${error.position}`;
  if (error.where) text += `\n  Where: ${error.where}`;
  return `${text}; SQLState: ${error.code ?? 'XX000'}`;
}

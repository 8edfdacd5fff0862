/**
 * The Lambda API's errors, as the Invoke operation answers them (REST-JSON): an HTTP status, the
 * `x-amzn-ErrorType` header, and a body `{"Type":"User","message":"..."}`. The SDK v3 picks the exception
 * class from the header; `Type` says whose fault it is (`User` for 4xx, `Service` for 5xx).
 */
import { AwsError } from '../aws/errors.ts';

function lambdaError(name: string, message: string, statusCode: number): AwsError {
  return new AwsError(name, message, {
    statusCode,
    fields: { Type: statusCode >= 500 ? 'Service' : 'User' },
  });
}

/**
 * The function (or the version named by the qualifier) does not exist.
 *
 * @example
 * throw resourceNotFound('Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope');
 */
export function resourceNotFound(message: string): AwsError {
  // Lambda's model gives this one error a capitalised `Message` member; the SDK fills `err.Message` from it.
  return new AwsError('ResourceNotFoundException', message, {
    statusCode: 404,
    fields: { Type: 'User', Message: message },
  });
}

/**
 * The request body is not JSON (or a header is invalid).
 *
 * @example
 * throw invalidRequestContent('Could not parse request body into json: ...');
 */
export function invalidRequestContent(message: string): AwsError {
  return lambdaError('InvalidRequestContentException', message, 400);
}

/**
 * A parameter has a value Lambda refuses (a qualifier that contradicts the ARN, a bad batch size).
 *
 * @example
 * throw invalidParameterValue('The derived qualifier from the function name does not match the specified qualifier.');
 */
export function invalidParameterValue(message: string): AwsError {
  return lambdaError('InvalidParameterValueException', message, 400);
}

/**
 * The request breaks the model's constraints (a function name that is not a name or an ARN, an unknown
 * invocation type). Lambda words these as the Coral validator does.
 *
 * @example
 * throw validationError("1 validation error detected: Value 'x' at 'invocationType' failed to satisfy constraint: ...");
 */
export function validationError(message: string): AwsError {
  return lambdaError('ValidationException', message, 400);
}

/**
 * The Invoke payload is over the quota for its invocation type.
 *
 * @example
 * throw requestTooLarge(6_291_456, 'InvokeFunction');
 */
export function requestTooLarge(maxBytes: number, operation: string): AwsError {
  return lambdaError(
    'RequestTooLargeException',
    `Request must be smaller than ${maxBytes} bytes for the ${operation} operation`,
    413,
  );
}

/**
 * A resource already exists or is in use (a second event source mapping for the same queue and function).
 *
 * @example
 * throw resourceConflict('An event source mapping with SQS arn ... already exists.');
 */
export function resourceConflict(message: string): AwsError {
  return lambdaError('ResourceConflictException', message, 409);
}

/**
 * The errors SQS answers with, as its JSON protocol puts them on the wire.
 *
 * SQS is `awsQueryCompatible`: besides the JSON body (`__type`, `message`) every error carries the header
 * `x-amzn-query-error: <code>;Sender`, where `<code>` is the error's old query-protocol code (for
 * QueueDoesNotExist it is `AWS.SimpleQueueService.NonExistentQueue`). The SDK v3 picks the exception class
 * from that code, and code that predates the JSON protocol compares `err.Code` with it.
 *
 * Modelled errors (those in the SQS service model) use the namespace `com.amazonaws.sqs` in `__type`, with
 * the query codes and HTTP statuses the model gives them. The common errors that are not modelled
 * (InvalidParameterValue, MissingParameter, ...) are written the way AWS writes them for other query-compatible
 * services: `com.amazon.coral.service#<Code>Exception`. That `__type` is a guess; clients only see the code.
 */
import { AwsError } from '../aws/errors.ts';

const SQS = 'com.amazonaws.sqs';
const CORAL = 'com.amazon.coral.service';

/** A modelled SQS error: `name` is the model's shape name, `queryCode` its awsQueryError code. */
function modelled(name: string, message: string, queryCode = name, statusCode = 400): AwsError {
  return new AwsError(name, message, { namespace: SQS, queryErrorCode: queryCode, statusCode });
}

/** A common (unmodelled) query error, e.g. InvalidParameterValue. */
function common(code: string, message: string, statusCode = 400): AwsError {
  return new AwsError(`${code}Exception`, message, {
    namespace: CORAL,
    queryErrorCode: code,
    statusCode,
  });
}

/**
 * Builds the SQS errors a handler throws.
 *
 * @example
 * throw sqsErrors.queueDoesNotExist();
 * throw sqsErrors.invalidParameterValue('Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.');
 */
export const sqsErrors = {
  queueDoesNotExist: () =>
    modelled(
      'QueueDoesNotExist',
      'The specified queue does not exist.',
      'AWS.SimpleQueueService.NonExistentQueue',
    ),
  /** CreateQueue with a taken name and different attributes (query code QueueAlreadyExists). */
  queueNameExists: (message: string) => modelled('QueueNameExists', message, 'QueueAlreadyExists'),
  queueDeletedRecently: (message: string) =>
    modelled('QueueDeletedRecently', message, 'AWS.SimpleQueueService.QueueDeletedRecently'),
  purgeQueueInProgress: (message: string) =>
    modelled('PurgeQueueInProgress', message, 'AWS.SimpleQueueService.PurgeQueueInProgress', 403),
  receiptHandleIsInvalid: (handle: string) =>
    modelled(
      'ReceiptHandleIsInvalid',
      `The input receipt handle "${handle}" is not a valid receipt handle.`,
      'ReceiptHandleIsInvalid',
      404,
    ),
  messageNotInflight: () =>
    modelled(
      'MessageNotInflight',
      "The specified message isn't in flight.",
      'AWS.SimpleQueueService.MessageNotInflight',
    ),
  invalidAddress: (address: string) =>
    modelled(
      'InvalidAddress',
      `The address ${address} is not valid for this endpoint.`,
      'InvalidAddress',
      404,
    ),
  invalidAttributeName: (message: string) => modelled('InvalidAttributeName', message),
  invalidAttributeValue: (message: string) => modelled('InvalidAttributeValue', message),
  invalidMessageContents: (message: string) => modelled('InvalidMessageContents', message),
  invalidIdFormat: (message: string) => modelled('InvalidIdFormat', message),
  emptyBatchRequest: (entryShape: string) =>
    modelled(
      'EmptyBatchRequest',
      `There should be at least one ${entryShape} in the request.`,
      'AWS.SimpleQueueService.EmptyBatchRequest',
    ),
  tooManyEntriesInBatchRequest: (count: number) =>
    modelled(
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are 10. You have sent ${count}.`,
      'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
    ),
  batchEntryIdsNotDistinct: (id: string) =>
    modelled(
      'BatchEntryIdsNotDistinct',
      `Id ${id} repeated.`,
      'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
    ),
  invalidBatchEntryId: () =>
    modelled(
      'InvalidBatchEntryId',
      'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
      'AWS.SimpleQueueService.InvalidBatchEntryId',
    ),
  batchRequestTooLong: (limit: number, sent: number) =>
    modelled(
      'BatchRequestTooLong',
      `Batch requests cannot be longer than ${limit} bytes. You have sent ${sent} bytes.`,
      'AWS.SimpleQueueService.BatchRequestTooLong',
    ),
  resourceNotFound: (message: string) =>
    modelled('ResourceNotFoundException', message, 'ResourceNotFoundException', 404),
  unsupportedOperation: (message: string) =>
    modelled('UnsupportedOperation', message, 'AWS.SimpleQueueService.UnsupportedOperation'),
  invalidParameterValue: (message: string) => common('InvalidParameterValue', message),
  /** `Value <value> for parameter <name> is invalid. Reason: <reason>` as SQS words it. */
  invalidParameter: (name: string, value: unknown, reason: string) =>
    common(
      'InvalidParameterValue',
      `Value ${String(value)} for parameter ${name} is invalid. Reason: ${reason}`,
    ),
  missingParameter: (name: string) =>
    common('MissingParameter', `The request must contain the parameter ${name}.`),
  /** A member of the wrong JSON type (a number where a string belongs). */
  serialization: (message: string) =>
    new AwsError('SerializationException', message, {
      namespace: CORAL,
      queryErrorCode: 'SerializationException',
    }),
};

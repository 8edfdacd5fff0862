/**
 * The errors the embedded SNS answers with, named by their query-protocol codes (`InvalidParameter`,
 * `NotFound`, ...), which is what clients see (`err.name` in the SDK v3 after it maps the code to its
 * exception, `Error.Code` in the CLI) and what the Step Functions integration reports as `SNS.<Code>`.
 * Messages follow SNS's own where they are known: `Invalid parameter: <Name>` with an optional `Reason: ...`.
 */
import { AwsError } from '../aws/errors.ts';

/** HTTP statuses the SNS service model gives its error codes; anything else is a 400. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  NotFound: 404,
  AuthorizationError: 403,
  InternalError: 500,
};

/**
 * An SNS error, named as SNS names it.
 *
 * @example
 * throw new SnsError('NotFound', 'Topic does not exist');
 */
export class SnsError extends AwsError {
  constructor(code: string, message: string) {
    super(code, message, { statusCode: STATUS_BY_CODE[code] ?? 400, queryErrorCode: code });
  }
}

/**
 * The errors a handler throws.
 *
 * @example
 * throw snsErrors.invalidParameter('TopicArn');
 * throw snsErrors.invalidParameter('Attributes', 'Topic already exists with different attributes');
 */
export const snsErrors = {
  invalidParameter: (parameter: string, reason?: string) =>
    new SnsError(
      'InvalidParameter',
      `Invalid parameter: ${parameter}${reason === undefined ? '' : ` Reason: ${reason}`}`,
    ),
  topicNotFound: () => new SnsError('NotFound', 'Topic does not exist'),
  subscriptionNotFound: () => new SnsError('NotFound', 'Subscription does not exist'),
  /** A required member the request leaves out, worded as AWS's request validation words it. */
  missingParameter: (member: string) =>
    new SnsError(
      'ValidationError',
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    ),
  /** Wording from AWS's list of errors common to all query APIs. */
  invalidAction: () =>
    new SnsError(
      'InvalidAction',
      'The action or operation requested is invalid. Verify that the action is typed correctly.',
    ),
  missingAction: () =>
    new SnsError('MissingAction', 'The request is missing an action or a required parameter.'),
};

/**
 * AWS's errors, as the console answers them: by name, in AWS's own words (this is the operator's console, and
 * AWS's message says what to fix), with the HTTP status that fits.
 */

export interface AwsErrorAnswer {
  readonly statusCode: number;
  readonly code: string;
  readonly message: string;
}

/** AWS's errors by name: what they mean for the request that met them. */
const AWS_STATUS: Record<string, number> = {
  ExecutionDoesNotExist: 404,
  StateMachineDoesNotExist: 404,
  ResourceNotFound: 404,
  QueueDoesNotExist: 404,
  InvalidArn: 400,
  InvalidName: 400,
  InvalidToken: 400,
  ValidationException: 400,
  StateMachineTypeNotSupported: 400,
  ExecutionNotRedrivable: 409,
  AccessDeniedException: 403,
  AccessDenied: 403,
  UnrecognizedClientException: 403,
  InvalidClientTokenId: 403,
  InvalidSignatureException: 403,
  ExpiredTokenException: 403,
  ThrottlingException: 503,
};

/** What an error from an AWS SDK call means for the request that met it; undefined when it is not one. */
export function answerForAwsError(error: unknown): AwsErrorAnswer | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.name === 'CredentialsProviderError') {
    return {
      statusCode: 503,
      code: 'no_aws_credentials',
      message: `No AWS credentials: ${error.message}. Pass --profile, or sign in (aws sso login)`,
    };
  }
  const connection = (error as { code?: unknown }).code;
  if (
    typeof connection === 'string' &&
    /^(ECONNREFUSED|ENOTFOUND|ECONNRESET|ETIMEDOUT|EAI_AGAIN)$/.test(connection)
  ) {
    return { statusCode: 502, code: 'aws_unreachable', message: `AWS could not be reached (${connection})` };
  }
  const metadata = (error as { $metadata?: unknown; $fault?: unknown }).$metadata;
  if (metadata === undefined) return undefined;
  const statusCode = AWS_STATUS[error.name];
  if (statusCode !== undefined) return { statusCode, code: error.name, message: error.message };
  const fault = (error as { $fault?: unknown }).$fault;
  return fault === 'client'
    ? { statusCode: 400, code: error.name, message: error.message }
    : { statusCode: 502, code: error.name, message: `AWS answered with an error: ${error.name}` };
}

/**
 * Lambda's Invoke operation on the embedded AWS's front door, so `@aws-sdk/client-lambda` (and the AWS CLI)
 * can call the embedded functions:
 *
 *   POST /2015-03-31/functions/{FunctionName}/invocations?Qualifier=…
 *   X-Amz-Invocation-Type: RequestResponse (default) | Event | DryRun
 *   X-Amz-Client-Context: base64 of a JSON object (synchronous invocations only)
 *   body: the event, any JSON value (empty means `{}`)
 *
 * answered with 200 and the function's response as the body (202 for Event, 204 for DryRun, both empty),
 * `X-Amz-Executed-Version: $LATEST`, and `X-Amz-Function-Error: Unhandled` when the function failed (the
 * body is then its error payload). `X-Amz-Log-Type: Tail` is accepted but no `X-Amz-Log-Result` is sent:
 * handler output goes to this process's stdout.
 */
import type { AwsError } from '../aws/errors.ts';
import { RawResponse, type RestJsonRoute, type RestRequest } from '../aws/server.ts';
import { invalidRequestContent, requestTooLarge, validationError } from './errors.ts';
import type { InvocationType, LambdaRunner } from './lambda-runner.ts';

/** Invoke quotas: 6 MB synchronous; 1 MB asynchronous (raised from 256 KB in 2025). */
const MAX_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;
const MAX_ASYNC_PAYLOAD_BYTES = 1024 * 1024;
const MAX_CLIENT_CONTEXT_BYTES = 3583;
const INVOCATION_TYPES: readonly InvocationType[] = ['Event', 'RequestResponse', 'DryRun'];

/**
 * The REST routes of the embedded Lambda API (Invoke only; functions are registered from code).
 *
 * @example
 * const server = createAwsServer({ services: [...], routes: [...lambdaRoutes(runner)] });
 * // new LambdaClient({ endpoint, region: 'us-east-1', credentials }).send(new InvokeCommand({ FunctionName: 'echo' }))
 */
export function lambdaRoutes(runner: LambdaRunner): RestJsonRoute[] {
  return [
    {
      method: 'POST',
      path: '/2015-03-31/functions/{FunctionName}/invocations',
      rawBody: true,
      bodyLimit: {
        bytes: MAX_SYNC_PAYLOAD_BYTES,
        error: (): AwsError => requestTooLarge(MAX_SYNC_PAYLOAD_BYTES, 'Invoke'),
      },
      handle: (_input, _context, request) => invoke(runner, request),
    },
  ];
}

async function invoke(runner: LambdaRunner, request: RestRequest): Promise<RawResponse> {
  const functionName = request.labels.FunctionName ?? '';
  const invocationType = invocationTypeOf(header(request, 'x-amz-invocation-type'));
  if (invocationType === 'Event' && request.body.length > MAX_ASYNC_PAYLOAD_BYTES) {
    // Guess at the operation name Lambda quotes for asynchronous invocations.
    throw requestTooLarge(MAX_ASYNC_PAYLOAD_BYTES, 'InvokeAsync');
  }
  const payload = payloadOf(request.body);
  const clientContext = clientContextOf(header(request, 'x-amz-client-context'));
  const qualifier = request.query.get('Qualifier') ?? undefined;
  const result = await runner.invoke(functionName, payload, {
    invocationType,
    ...(qualifier === undefined || qualifier === '' ? {} : { qualifier }),
    ...(clientContext === undefined || invocationType !== 'RequestResponse' ? {} : { clientContext }),
  });
  if (result.statusCode !== 200) return new RawResponse(result.statusCode);
  return new RawResponse(200, JSON.stringify(result.payload), {
    'Content-Type': 'application/json',
    'X-Amz-Executed-Version': result.executedVersion,
    ...(result.functionError === undefined ? {} : { 'X-Amz-Function-Error': result.functionError }),
  });
}

function invocationTypeOf(value: string | undefined): InvocationType {
  if (value === undefined || value === '') return 'RequestResponse';
  if ((INVOCATION_TYPES as readonly string[]).includes(value)) return value as InvocationType;
  throw validationError(
    `1 validation error detected: Value '${value}' at 'invocationType' failed to satisfy constraint: ` +
      `Member must satisfy enum value set: [${INVOCATION_TYPES.join(', ')}]`,
  );
}

function payloadOf(body: Buffer): unknown {
  const text = body.toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    // Lambda's wording up to the parser's own message (its parser is Jackson; ours is JSON.parse).
    throw invalidRequestContent(
      `Could not parse request body into json: Could not parse payload into json: ${(error as Error).message}`,
    );
  }
}

/** The decoded ClientContext; guessed wording for a malformed one. */
function clientContextOf(value: string | undefined): unknown {
  if (value === undefined || value === '') return undefined;
  if (value.length > MAX_CLIENT_CONTEXT_BYTES) {
    throw validationError(
      `1 validation error detected: Value at 'clientContext' failed to satisfy constraint: ` +
        `Member must have length less than or equal to ${MAX_CLIENT_CONTEXT_BYTES}`,
    );
  }
  try {
    const decoded: unknown = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
    if (typeof decoded === 'object' && decoded !== null && !Array.isArray(decoded)) return decoded;
  } catch {
    // Falls through to the error below.
  }
  throw invalidRequestContent('Client context must be a valid Base64-encoded JSON object.');
}

function header(request: RestRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

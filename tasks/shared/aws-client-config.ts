/**
 * The one way the task Lambdas' AWS SDK clients may differ between AWS and this machine. On AWS
 * `awsClientConfig` is `{}`: region, credentials and endpoints come from the Lambda environment as before.
 * Locally, the wiring that runs the embedded AWS in this same process (system/payment-system.ts) registers a
 * request handler for its endpoint, and a function whose AWS_ENDPOINT_URL names that endpoint gets
 * `{ requestHandler }`: its clients stay the real ones (the same serialization, SigV4 signing and error
 * parsing) but hand their requests to the embedded AWS without a socket.
 *
 * @example
 * const sfn = new SFNClient(awsClientConfig(process.env)); // {} on AWS
 */
import type { SFNClientConfig } from '@aws-sdk/client-sfn';

/** What an AWS SDK v3 client takes as `requestHandler` (one type for every client of the SDK). */
export type AwsRequestHandler = NonNullable<SFNClientConfig['requestHandler']>;

/** By endpoint: a process may run more than one embedded AWS (tests do, one after another). */
const handlers = new Map<string, AwsRequestHandler>();

/** What to add to an SDK client's configuration in a function with this environment. */
export function awsClientConfig(environment: Readonly<Record<string, string | undefined>>): {
  requestHandler?: AwsRequestHandler;
} {
  const endpoint = environment.AWS_ENDPOINT_URL;
  const requestHandler = endpoint === undefined ? undefined : handlers.get(endpoint);
  return requestHandler === undefined ? {} : { requestHandler };
}

/**
 * For the local wiring only: clients built from now on for `endpoint` use `requestHandler`. Returns what
 * undoes it, for when that embedded AWS closes.
 *
 * @example
 * const unregister = registerLocalRequestHandler(aws.endpoint, aws.requestHandler);
 */
export function registerLocalRequestHandler(endpoint: string, requestHandler: AwsRequestHandler): () => void {
  handlers.set(endpoint, requestHandler);
  return () => {
    if (handlers.get(endpoint) === requestHandler) handlers.delete(endpoint);
  };
}

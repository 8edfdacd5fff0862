/**
 * Test support: the embedded AWS on a free port with a real `@aws-sdk/client-s3` client pointed at it
 * (path-style), plus a signed-looking raw request for what the SDK does not show (the error document itself).
 *
 * @example
 * const running = await startAws();
 * await running.s3.send(new CreateBucketCommand({ Bucket: 'items' }));
 * await running.close();
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { type EmbeddedAws, startEmbeddedAws } from '../../embedded-aws.ts';

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface RunningAws {
  readonly aws: EmbeddedAws;
  readonly s3: S3Client;
  close(): Promise<void>;
}

export function s3Client(endpoint: string, config: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: CREDENTIALS,
    maxAttempts: 1,
    ...config,
  });
}

/** The embedded AWS on a free port, in memory unless given a data directory. */
export async function startAws(dataDir: string | null = null): Promise<RunningAws> {
  const aws = await startEmbeddedAws({ port: 0, dataDir });
  const s3 = s3Client(aws.endpoint);
  return {
    aws,
    s3,
    async close() {
      s3.destroy();
      await aws.close();
    },
  };
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function errorOf(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } } & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail');
}

/**
 * A request as an S3 client would send it, but by hand: its Authorization names the `s3` service in its
 * credential scope (the embedded AWS reads only that), so the raw answer can be looked at.
 */
export function rawS3Request(
  endpoint: string,
  path: string,
  init: { readonly method?: string; readonly body?: string; readonly headers?: Record<string, string> } = {},
): Promise<Response> {
  return fetch(`${endpoint}${path}`, {
    method: init.method ?? 'GET',
    ...(init.body === undefined ? {} : { body: init.body }),
    headers: {
      authorization:
        'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0',
      ...init.headers,
    },
  });
}

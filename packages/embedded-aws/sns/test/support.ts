/**
 * Test support: the embedded AWS in memory on a free port with real SNS and SQS clients pointed at it, and a
 * local HTTP subscriber that records what SNS posts to it (and can fail the first posts, or be down).
 *
 * @example
 * const aws = await startAws();
 * const { TopicArn } = await aws.sns.send(new CreateTopicCommand({ Name: 'alerts' }));
 * await aws.close();
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type EmbeddedAws, startEmbeddedAws } from '../../embedded-aws.ts';

const CLIENT_OPTIONS = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  maxAttempts: 1,
};

export interface RunningAws {
  readonly aws: EmbeddedAws;
  readonly sns: SNSClient;
  readonly sqs: SQSClient;
  close(): Promise<void>;
}

export function snsClient(endpoint: string): SNSClient {
  return new SNSClient({ endpoint, ...CLIENT_OPTIONS });
}

export function sqsClient(endpoint: string): SQSClient {
  return new SQSClient({ endpoint, ...CLIENT_OPTIONS });
}

export async function startAws(): Promise<RunningAws> {
  const aws = await startEmbeddedAws({ port: 0, dataDir: null, enforceDeletedQueueCooldown: false });
  const sns = snsClient(aws.endpoint);
  const sqs = sqsClient(aws.endpoint);
  return {
    aws,
    sns,
    sqs,
    async close() {
      sns.destroy();
      sqs.destroy();
      await aws.close();
    },
  };
}

/** A request SNS made of a subscriber. */
export interface ReceivedPost {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly status: number;
}

export interface Subscriber {
  readonly url: string;
  /** Every POST, answered or failed, in order. */
  readonly posts: ReceivedPost[];
  /** The POSTs answered 200. */
  accepted(): ReceivedPost[];
  /** Stops listening (later POSTs are refused connections) until `start`. */
  stop(): Promise<void>;
  /** Listens again, on the same port. */
  start(): Promise<void>;
}

/**
 * An HTTP subscriber on a free port. It answers 500 to the first `failFirst` posts, then 200. With
 * `listening: false` its port is chosen but nothing listens there yet: SNS's posts are refused until `start`.
 */
export async function startSubscriber(
  options: { readonly failFirst?: number; readonly listening?: boolean; readonly port?: number } = {},
): Promise<Subscriber> {
  const posts: ReceivedPost[] = [];
  let failuresLeft = options.failFirst ?? 0;
  let server: Server | undefined;
  let port = options.port ?? 0;
  const listen = async () => {
    const created = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', () => {
        const status = failuresLeft > 0 ? 500 : 200;
        if (failuresLeft > 0) failuresLeft--;
        posts.push({ path: req.url ?? '', headers: req.headers, body, status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      created.once('error', reject);
      created.listen(port, '127.0.0.1', () => resolve());
    });
    port = (created.address() as AddressInfo).port;
    server = created;
  };
  const stop = async () => {
    const running = server;
    server = undefined;
    if (running === undefined) return;
    await new Promise<void>((resolve) => {
      running.close(() => resolve());
      running.closeAllConnections();
    });
  };
  await listen();
  if (options.listening === false) await stop();
  return {
    get url() {
      return `http://127.0.0.1:${port}/sns`;
    },
    posts,
    accepted: () => posts.filter((post) => post.status === 200),
    stop,
    start: listen,
  };
}

/** Polls `read` until `done` holds of its value, for at most `timeoutMs`; fails with what it last saw. */
export async function eventually<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`still not there after ${timeoutMs} ms: ${JSON.stringify(value)?.slice(0, 500)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function errorOf(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail');
}

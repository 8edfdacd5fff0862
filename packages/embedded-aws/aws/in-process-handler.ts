/**
 * An AWS SDK v3 request handler for clients in the same process as the embedded AWS: it hands each request to
 * the HTTP front door's request listener (`createAwsServer`, with the query protocols attached in front of it)
 * as an in-memory request and response, instead of writing it to a socket. Everything else is the client's
 * own: the SDK still serializes the request in the service's protocol, signs it with SigV4 and reads the
 * answer (errors included) from the status, headers and body the server wrote, so a client with this handler
 * behaves as one with the default handler pointed at the endpoint, only without the TCP connection, the HTTP
 * parser and the event-loop turns they cost.
 *
 * Give it only where the server is in this process; anything else (the AWS CLI, another process) reaches the
 * same server over its socket, which stays.
 *
 * @example
 * const aws = await startEmbeddedAws({ port: 0, dataDir: null });
 * const sqs = new SQSClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials, requestHandler: aws.requestHandler });
 */
import type { Server, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type {
  HeaderBag,
  HttpHandlerOptions,
  HttpRequest,
  HttpResponse,
  RequestHandler,
  RequestHandlerMetadata,
} from '@smithy/types';
import inject from 'light-my-request';

type InjectedResponse = inject.Response;
type InjectMethod = NonNullable<inject.InjectOptions['method']>;

/**
 * The `HttpHandler` the SDK clients take as `requestHandler` (of `@smithy/core`'s protocols; the two methods
 * about its configuration are part of that interface and have nothing to configure here).
 */
export class InProcessRequestHandler
  implements RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions>
{
  readonly metadata: RequestHandlerMetadata = { handlerProtocol: 'http/1.1' };
  readonly #server: Server;

  /** `server` as `createAwsServer` made it; requests are emitted to its current 'request' listeners. */
  constructor(server: Server) {
    this.#server = server;
  }

  handle(request: HttpRequest, options: HttpHandlerOptions = {}): Promise<{ response: HttpResponse }> {
    const { abortSignal, requestTimeout } = options;
    if (abortSignal?.aborted) return Promise.reject(abortError());
    // As a socket would: a server that is not listening (closed, or never started) refuses the connection.
    if (!this.#server.listening) return Promise.reject(connectionRefused(request));
    let payload: string | Buffer | Readable | undefined;
    try {
      payload = request.body === undefined || request.body === null ? undefined : payloadOf(request.body);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let response: ServerResponse | undefined;
      const settle = (outcome: () => void) => {
        if (timer !== undefined) clearTimeout(timer);
        removeAbortListener?.();
        outcome();
      };
      // Giving up on a request hangs up on the server, as destroying the socket would: it sees its client gone.
      const giveUp = (error: Error) =>
        settle(() => {
          response?.destroy();
          reject(error);
        });
      const removeAbortListener = listenForAbort(abortSignal, () => giveUp(abortError()));
      // The default handler's requestTimeout: how long to wait for the answer, 0 or absent for ever.
      if (requestTimeout !== undefined && requestTimeout > 0) {
        timer = setTimeout(() => giveUp(timeoutError(requestTimeout)), requestTimeout);
      }
      inject(
        (req, res) => {
          response = res;
          this.#server.emit('request', req, res);
        },
        {
          method: request.method.toUpperCase() as InjectMethod,
          url: pathAndQueryOf(request),
          headers: definedHeaders(request.headers),
          ...(payload === undefined ? {} : { payload }),
          remoteAddress: '127.0.0.1',
          // The options are built here, never by a caller: light-my-request's own check of them is not needed.
          validate: false,
        },
        (error, injected) => {
          // light-my-request passes null, not undefined, for no error (its types say otherwise).
          if (error || !injected) {
            settle(() => reject(connectionReset(error ?? undefined)));
            return;
          }
          settle(() => resolve({ response: httpResponseOf(injected) }));
        },
      );
    });
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {}
}

/** The request target as the default handler writes it: the path, then the query string. */
function pathAndQueryOf(request: HttpRequest): string {
  const query = Object.entries(request.query ?? {})
    .flatMap(([key, value]) => {
      if (value === null) return [encodeURIComponent(key)];
      const values = Array.isArray(value) ? value : [value];
      return values.map((each) => `${encodeURIComponent(key)}=${encodeURIComponent(each)}`);
    })
    .join('&');
  return query === '' ? request.path : `${request.path}?${query}`;
}

function definedHeaders(headers: HeaderBag): Record<string, string> {
  const defined: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) defined[name] = value;
  return defined;
}

/** What the SDK sends as a body (a string, bytes or a stream) as the injected request's payload. */
function payloadOf(body: unknown): string | Buffer | Readable {
  if (typeof body === 'string' || Buffer.isBuffer(body) || body instanceof Readable) return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  throw new TypeError(`The in-process request handler cannot send a body of type ${typeof body}`);
}

/** The answer as the default handler gives it: status, lower-case headers (repeated ones joined), a stream. */
function httpResponseOf(response: InjectedResponse): HttpResponse {
  const headers: HeaderBag = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return {
    statusCode: response.statusCode,
    reason: response.statusMessage,
    headers,
    body: Readable.from([response.rawPayload], { objectMode: false }),
  };
}

/** Calls `onAbort` once the signal aborts; returns how to stop listening. */
function listenForAbort(
  signal: HttpHandlerOptions['abortSignal'],
  onAbort: () => void,
): (() => void) | undefined {
  if (signal === undefined) return undefined;
  if ('addEventListener' in signal && typeof signal.addEventListener === 'function') {
    signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener('abort', onAbort);
  }
  // The SDK's older AbortSignal shape, with only `onabort`.
  signal.onabort = onAbort;
  return () => {
    signal.onabort = null;
  };
}

/** Named as the default handler names them, so the SDK's retry logic reads them the same way. */
function abortError(): Error {
  return Object.assign(new Error('Request aborted'), { name: 'AbortError' });
}

function timeoutError(ms: number): Error {
  return Object.assign(new Error(`Request did not complete within ${ms} ms`), { name: 'TimeoutError' });
}

function connectionRefused(request: HttpRequest): Error {
  const where = `${request.hostname}${request.port === undefined ? '' : `:${request.port}`}`;
  return Object.assign(new Error(`connect ECONNREFUSED ${where} (the embedded AWS is not listening)`), {
    code: 'ECONNREFUSED',
  });
}

function connectionReset(cause: Error | undefined): Error {
  return Object.assign(new Error('socket hang up', { cause }), { code: 'ECONNRESET' });
}

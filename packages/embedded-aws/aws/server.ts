/**
 * The embedded AWS's one HTTP front door: every embedded service listens here (port 4566 by default), and
 * real AWS SDK v3 clients or the AWS CLI reach it with `endpoint: 'http://127.0.0.1:4566'`.
 *
 * Two wire protocols are served:
 * - AWS JSON 1.0/1.1 (Step Functions, SQS): `POST /`, `X-Amz-Target: <prefix>.<Action>`, a JSON object body;
 * - REST-JSON routes (the RDS Data API's `POST /Execute`, ...): method and path pick the handler.
 *
 * Services with a protocol of their own (S3's REST-XML: any method, the bucket and key in the path, binary
 * bodies, metadata in headers) are given whole requests instead, picked by the service their SigV4 credential
 * scope names (`Credential=<key>/<date>/<region>/s3/aws4_request`); see `SignedHttpService`.
 *
 * Clients sign requests with SigV4; any credentials are accepted, and only the region is read from the
 * signature's credential scope.
 *
 * Host prefixes: the SDK sends StartSyncExecution and TestState to `sync-<host>` unless the client sets
 * `disableHostPrefix: true`. Nothing is needed here (the path and target are the same), but against
 * `127.0.0.1` the prefixed name `sync-127.0.0.1` does not resolve, so clients must set that flag.
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import {
  AwsError,
  InternalFailure,
  MalformedHttpRequestException,
  RequestEntityTooLargeException,
  SerializationException,
  UnknownOperationException,
} from './errors.ts';
import { ClientGone, drain, readBody } from './request-body.ts';

/** Who is asking, as a handler needs to know it to build ARNs. */
export interface RequestContext {
  readonly requestId: string;
  readonly region: string;
  readonly accountId: string;
}

/**
 * A service spoken over the AWS JSON protocol: POST /, Content-Type application/x-amz-json-1.0|1.1,
 * X-Amz-Target: `${targetPrefix}.${Action}`. Step Functions: prefix 'AWSStepFunctions', JSON 1.0.
 * SQS (later): prefix 'AmazonSQS', JSON 1.0.
 *
 * `handle` returns the output object (Dates in it are sent as epoch seconds) or throws an AwsError.
 * When `actions` is given, any other action is refused with UnknownOperationException before `handle`
 * is called.
 */
export interface JsonProtocolService {
  readonly targetPrefix: string;
  readonly actions?: readonly string[];
  handle(action: string, input: unknown, context: RequestContext): Promise<unknown>;
}

/**
 * A REST-JSON route (the RDS Data API uses POST /Execute, /BeginTransaction, ...; Lambda uses
 * POST /2015-03-31/functions/{FunctionName}/invocations).
 *
 * `path` is literal, or a template whose `{Label}` segments each match one non-empty path segment; the
 * URI-decoded values reach `handle` as `request.labels` (the SDK percent-encodes an ARN's colons).
 * `handle` returns a JSON object to send with status 200, or a `RawResponse` to choose the status, the
 * headers and the body bytes (Lambda's Invoke answers 202/204 and passes the function's payload through).
 */
export interface RestJsonRoute {
  readonly method: string;
  readonly path: string;
  /** Give `handle` the body unparsed (`input` is then undefined): for payloads that need not be objects. */
  readonly rawBody?: boolean;
  /** A per-route body limit and the error to refuse a larger body with, instead of the server's. */
  readonly bodyLimit?: { readonly bytes: number; readonly error: () => AwsError };
  handle(input: unknown, context: RequestContext, request: RestRequest): Promise<unknown>;
}

/** The parts of an HTTP request a REST route may need beyond its parsed body. */
export interface RestRequest {
  readonly labels: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * A REST route's answer sent as given: status, headers and body bytes (JSON is not re-encoded).
 *
 * @example
 * return new RawResponse(202, '', { 'X-Amz-Executed-Version': '$LATEST' });
 */
export class RawResponse {
  constructor(
    readonly statusCode: number,
    readonly body: string | Buffer = '',
    readonly headers: Readonly<Record<string, string>> = {},
  ) {}
}

/**
 * A service that reads and answers whole HTTP requests itself: every request whose SigV4 credential scope
 * names `signingName` (in the Authorization header, or a presigned URL's `X-Amz-Credential` parameter) goes to
 * `handle`, before any JSON-protocol or REST-JSON dispatch and without the server reading its body. `handle`
 * answers every request, errors included; a rejection only hangs up on the client.
 */
export interface SignedHttpService {
  /** The service name in the credential scope, e.g. 's3'. */
  readonly signingName: string;
  handle(req: IncomingMessage, res: ServerResponse, context: RequestContext): Promise<void>;
}

export interface AwsServerOptions {
  readonly services: readonly JsonProtocolService[];
  readonly routes?: readonly RestJsonRoute[];
  /** Services answering whole requests, by the service their signature names (S3). */
  readonly signedServices?: readonly SignedHttpService[];
  /** Default 'us-east-1'; a SigV4 Authorization header's credential scope overrides it per request. */
  readonly region?: string;
  /** Default '000000000000'. */
  readonly accountId?: string;
  /** Largest body accepted; default 1 MiB, Step Functions' hard quota per request. */
  readonly maxBodyBytes?: number;
  /** One entry per request; by default only 5xx entries are written to stderr. */
  readonly logger?: (entry: Record<string, unknown>) => void;
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** After refusing an oversized body, read (and drop) at most this much more before hanging up. */
const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;

function drainBytesFor(maxBytes: number): number {
  return Math.max(maxBytes * 8, DRAIN_LIMIT_BYTES);
}

/**
 * Creates (does not start) the HTTP server; call `listen` on it.
 *
 * @example
 * const server = createAwsServer({ services: [createStepFunctionsService(engine)] });
 * server.listen(4566, '127.0.0.1');
 * // new SFNClient({ endpoint: 'http://127.0.0.1:4566', disableHostPrefix: true, region: 'us-east-1', ... })
 */
export function createAwsServer(options: AwsServerOptions): Server {
  const settings: Settings = {
    services: new Map(options.services.map((service) => [service.targetPrefix, service])),
    routes: options.routes ?? [],
    signedServices: new Map((options.signedServices ?? []).map((service) => [service.signingName, service])),
    region: options.region ?? 'us-east-1',
    accountId: options.accountId ?? '000000000000',
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    log: safeLogger(options.logger ?? logServerFaults),
  };
  const server = createServer((req, res) => {
    const scope = settings.signedServices.size > 0 ? credentialScopeOf(req) : undefined;
    const signed = scope === undefined ? undefined : settings.signedServices.get(scope.service);
    if (signed !== undefined) {
      serveSigned(signed, scope!.region, req, res, settings);
      return;
    }
    handleRequest(req, res, settings).catch((error: unknown) => {
      // handleRequest answers every failure itself; reaching here means even that failed.
      settings.log({ level: 'error', message: 'request handling failed', error: describe(error) });
      res.destroy();
    });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    // Unparseable HTTP: answer like any HTTP server would, never throw.
    settings.log({ level: 'warn', message: 'malformed HTTP request', error: error.code ?? error.message });
    if (socket.writable && !socket.destroyed)
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  return server;
}

interface Settings {
  readonly services: ReadonlyMap<string, JsonProtocolService>;
  readonly routes: readonly RestJsonRoute[];
  readonly signedServices: ReadonlyMap<string, SignedHttpService>;
  readonly region: string;
  readonly accountId: string;
  readonly maxBodyBytes: number;
  readonly log: (entry: Record<string, unknown>) => void;
}

type Dispatch =
  | {
      readonly kind: 'json';
      readonly service: JsonProtocolService;
      readonly action: string;
      readonly target: string;
    }
  | {
      readonly kind: 'rest';
      readonly route: RestJsonRoute;
      readonly labels: Readonly<Record<string, string>>;
    };

async function handleRequest(req: IncomingMessage, res: ServerResponse, settings: Settings): Promise<void> {
  const started = performance.now();
  const requestId = randomUUID();
  const path = pathOf(req.url);
  const target = headerOf(req, 'x-amz-target');
  const contentType = responseContentType(req, target);
  const entry: Record<string, unknown> = { requestId, method: req.method, path, target };
  res.setHeader('x-amzn-RequestId', requestId);
  // A response to a client that has gone away fails; that is not the server's problem.
  res.on('error', () => {});
  req.on('error', () => {});

  const finish = (status: number, extra: Record<string, unknown> = {}) => {
    settings.log({
      level: status >= 500 ? 'error' : 'info',
      ...entry,
      status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      ...extra,
    });
  };
  const fail = (error: unknown) => {
    const aws = error instanceof AwsError ? error : new InternalFailure();
    sendError(res, aws, contentType, aws.statusCode === 413);
    finish(aws.statusCode, {
      errorType: aws.name,
      ...(aws === error ? { errorMessage: aws.message } : { error: describe(error) }),
    });
  };

  let reading = false;
  try {
    const dispatch = dispatchOf(req, path, target, settings);
    reading = true;
    const limit =
      dispatch.kind === 'rest' && dispatch.route.bodyLimit !== undefined
        ? dispatch.route.bodyLimit
        : {
            bytes: settings.maxBodyBytes,
            error: () => new RequestEntityTooLargeException(settings.maxBodyBytes),
          };
    const body = await readBody(req, {
      maxBytes: limit.bytes,
      tooLarge: limit.error,
      drainBytes: drainBytesFor(limit.bytes),
    });
    const rawBody = dispatch.kind === 'rest' && dispatch.route.rawBody === true;
    const input = rawBody ? undefined : parseBody(body);
    const context: RequestContext = {
      requestId,
      region: credentialScopeOf(req)?.region ?? settings.region,
      accountId: settings.accountId,
    };
    const output =
      dispatch.kind === 'json'
        ? await dispatch.service.handle(dispatch.action, input, context)
        : await dispatch.route.handle(input, context, {
            labels: dispatch.labels,
            query: new URLSearchParams(queryOf(req.url)),
            headers: req.headers,
            body,
          });
    const status = output instanceof RawResponse ? output.statusCode : 200;
    const sent =
      output instanceof RawResponse
        ? send(res, status, output.headers['Content-Type'] ?? contentType, output.body, output.headers)
        : send(res, 200, contentType, JSON.stringify(toWire(output ?? {})));
    if (!sent) {
      finish(499, { message: 'client went away before the response' });
      return;
    }
    finish(status);
  } catch (error) {
    if (error instanceof ClientGone) {
      finish(499, { message: 'client went away during the request' });
      return;
    }
    // Refused before its body was read: let the body go by, boundedly, so the answer can be read.
    if (!reading) drain(req, drainBytesFor(settings.maxBodyBytes));
    fail(error);
  }
}

/** Which handler a request is for, decided from headers alone so a wrong request is refused unread. */
function dispatchOf(
  req: IncomingMessage,
  path: string,
  target: string | undefined,
  settings: Settings,
): Dispatch {
  if (target !== undefined) {
    if (req.method !== 'POST') {
      throw new MalformedHttpRequestException(
        `Method ${req.method} is not allowed; the AWS JSON protocol uses POST`,
        405,
      );
    }
    const dot = target.lastIndexOf('.');
    const service = dot > 0 ? settings.services.get(target.slice(0, dot)) : undefined;
    const action = target.slice(dot + 1);
    if (
      service === undefined ||
      action === '' ||
      (service.actions !== undefined && !service.actions.includes(action))
    ) {
      throw new UnknownOperationException(target);
    }
    return { kind: 'json', service, action, target };
  }
  const onPath = settings.routes.flatMap((route) => {
    const labels = matchPath(route.path, path);
    return labels === undefined ? [] : [{ route, labels }];
  });
  const match = onPath.find((candidate) => candidate.route.method.toUpperCase() === req.method);
  if (match !== undefined) return { kind: 'rest', route: match.route, labels: match.labels };
  if (onPath.length > 0) {
    throw new MalformedHttpRequestException(`Method ${req.method} is not allowed on ${path}`, 405);
  }
  if (req.method === 'POST' && path === '/') throw new UnknownOperationException(undefined);
  throw new AwsError('UnknownOperationException', `No operation at ${req.method} ${path}`, {
    statusCode: 404,
  });
}

/**
 * The labels of a `{Label}` path template matched against a request path, or undefined when it does not
 * match. A literal path matches only itself; a segment that is not valid percent-encoding matches nothing.
 */
function matchPath(template: string, path: string): Record<string, string> | undefined {
  if (!template.includes('{')) return template === path ? {} : undefined;
  const expected = template.split('/');
  const actual = path.split('/');
  if (expected.length !== actual.length) return undefined;
  const labels: Record<string, string> = {};
  for (const [index, part] of expected.entries()) {
    const segment = actual[index] ?? '';
    const label = /^\{(\w+)\}$/.exec(part)?.[1];
    if (label === undefined) {
      if (part !== segment) return undefined;
      continue;
    }
    if (segment === '') return undefined;
    try {
      labels[label] = decodeURIComponent(segment);
    } catch {
      return undefined;
    }
  }
  return labels;
}

function parseBody(body: Buffer): unknown {
  const text = body.toString('utf8');
  // The SDK always sends at least `{}`; an empty body is read the same way.
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SerializationException(`The request body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SerializationException('The request body must be a JSON object');
  }
  return parsed;
}

/**
 * Turns a handler's output into what the JSON protocols put on the wire: Dates become epoch seconds
 * (fractional, as AWS sends them), byte arrays base64, and undefined members disappear.
 */
function toWire(value: unknown): unknown {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new TypeError('Invalid Date in a response');
    return ms / 1000;
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toWire);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value)) {
      if (member !== undefined) out[key] = toWire(member);
    }
    return out;
  }
  return value;
}

function sendError(
  res: ServerResponse,
  error: AwsError,
  contentType: string,
  closeConnection: boolean,
): void {
  const headers: Record<string, string> = { 'x-amzn-ErrorType': error.name };
  if (error.queryErrorCode !== undefined)
    headers['x-amzn-query-error'] = `${error.queryErrorCode};${error.fault}`;
  if (error.statusCode === 405) headers.Allow = 'POST';
  if (closeConnection) headers.Connection = 'close';
  const body = { __type: error.wireType, message: error.message, ...(toWire(error.fields) as object) };
  send(res, error.statusCode, contentType, JSON.stringify(body), headers);
}

/** Writes a complete response; false when the client is already gone. */
function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): boolean {
  if (res.headersSent || res.destroyed || res.socket === null || res.socket.destroyed) return false;
  res.writeHead(status, {
    ...headers,
    'Content-Type': contentType,
    'Content-Length': String(Buffer.byteLength(body)),
  });
  res.end(body);
  return true;
}

/** JSON 1.1 requests are answered in 1.1, other JSON-protocol requests in 1.0, REST routes in plain JSON. */
function responseContentType(req: IncomingMessage, target: string | undefined): string {
  const requested = headerOf(req, 'content-type') ?? '';
  if (requested.includes('application/x-amz-json-1.1')) return 'application/x-amz-json-1.1';
  if (target !== undefined || requested.includes('application/x-amz-json-1.0'))
    return 'application/x-amz-json-1.0';
  return 'application/json';
}

/** Hands a request to a service that answers it whole; it is logged like the others once answered. */
function serveSigned(
  service: SignedHttpService,
  region: string,
  req: IncomingMessage,
  res: ServerResponse,
  settings: Settings,
): void {
  const started = performance.now();
  const requestId = randomUUID();
  const context: RequestContext = { requestId, region, accountId: settings.accountId };
  res.on('error', () => {});
  req.on('error', () => {});
  res.once('finish', () => {
    settings.log({
      level: res.statusCode >= 500 ? 'error' : 'info',
      requestId,
      method: req.method,
      path: pathOf(req.url),
      service: service.signingName,
      status: res.statusCode,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
    });
  });
  service.handle(req, res, context).catch((error: unknown) => {
    settings.log({ level: 'error', message: 'request handling failed', requestId, error: describe(error) });
    res.destroy();
  });
}

/**
 * The region and service a request is signed for, from its credential scope
 * `<key>/<date>/<region>/<service>/aws4_request`: in the Authorization header, or a presigned URL's
 * `X-Amz-Credential` parameter.
 */
function credentialScopeOf(req: IncomingMessage): { region: string; service: string } | undefined {
  const pattern = /\/\d{8}\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request/;
  let credential = headerOf(req, 'authorization');
  if (credential === undefined) {
    const query = queryOf(req.url);
    if (!query.includes('X-Amz-Credential=')) return undefined;
    credential = new URLSearchParams(query).get('X-Amz-Credential') ?? '';
  }
  const match = pattern.exec(credential);
  return match === null ? undefined : { region: match[1]!, service: match[2]! };
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function queryOf(url: string | undefined): string {
  const raw = url ?? '';
  const query = raw.indexOf('?');
  return query === -1 ? '' : raw.slice(query + 1);
}

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const query = raw.indexOf('?');
  return query === -1 ? raw : raw.slice(0, query);
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
}

/** A logger that throws must not take a request (or the process) down with it. */
function safeLogger(
  logger: (entry: Record<string, unknown>) => void,
): (entry: Record<string, unknown>) => void {
  return (entry) => {
    try {
      logger({ time: new Date().toISOString(), ...entry });
    } catch {
      // Logging is best effort.
    }
  };
}

function logServerFaults(entry: Record<string, unknown>): void {
  if (entry.level === 'error') console.error(JSON.stringify(entry));
}

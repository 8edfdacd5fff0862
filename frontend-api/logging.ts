/**
 * The front-end's logger options: the one place that decides what a log line may say about a request.
 * server.ts, `npm start` (system/main.ts) and buildApp all use them.
 *
 * - A request is logged by its method and path only. The query string is dropped whole: the events socket
 *   takes its status token there (`?token=…`), and nothing else in it is worth that risk.
 * - Card numbers in the path (refused, but Fastify logs "incoming request" before any hook runs) become
 *   `[card number]`, as in the host and client address, which clients choose too.
 * - Headers are not logged; should a log line ever hold them, those that carry secrets are censored.
 */
import type { FastifyServerOptions } from 'fastify';
import { CARD_NUMBER_PLACEHOLDER, containsCardNumber, withoutCardNumbers } from './domain/card-data.ts';
import { decodedOrAsIs } from './request-guards/card-data-guard.ts';

/** Fastify's logger options (pino's, with Fastify's serializer types). */
export type FrontendLoggerOptions = Exclude<FastifyServerOptions['logger'], boolean | undefined>;

/** Headers that hold a secret, or may carry card data on the way to being refused. */
const SECRET_HEADERS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'idempotency-key',
  'sec-websocket-protocol',
  'x-api-key',
];

const REDACTED_PATHS = [
  ...SECRET_HEADERS.flatMap((name) => [`headers["${name}"]`, `req.headers["${name}"]`]),
  'query',
  'req.query',
  'token',
  'statusToken',
];

/** Only what serializeRequest reads of a Fastify request. */
interface LoggedRequest {
  readonly method: string;
  readonly url: string;
  readonly host?: string | undefined;
  readonly ip?: string | undefined;
  readonly socket?: { readonly remotePort?: number | undefined } | undefined;
}

/**
 * What a log line says about a request: method, path (no query string, no card numbers), host and client.
 *
 * @example
 * serializeRequest({ method: 'GET', url: '/api/payments/pay_1/events?token=secret' });
 * // { method: 'GET', url: '/api/payments/pay_1/events', ... }
 */
export function serializeRequest(request: LoggedRequest) {
  return {
    method: request.method,
    url: pathForLog(request.url),
    host: request.host === undefined ? undefined : withoutCardNumbers(request.host),
    remoteAddress: request.ip === undefined ? undefined : withoutCardNumbers(request.ip),
    remotePort: request.socket?.remotePort,
  };
}

/**
 * The logger options, at `level` (default info), writing to `stream` (default stdout).
 *
 * @example
 * const app = await buildApp({ fastify: { logger: frontendLoggerOptions({ level: 'debug' }) } });
 */
export function frontendLoggerOptions(
  options: { level?: string; stream?: FrontendLoggerOptions['stream'] } = {},
): FrontendLoggerOptions {
  return {
    level: options.level ?? 'info',
    ...(options.stream === undefined ? {} : { stream: options.stream }),
    // `path` too: @fastify/websocket logs an upgrade to a path with no socket route as `{ path: <url> }`, query
    // string (and a status token in it) included.
    serializers: {
      req: serializeRequest,
      path: (path: unknown) => (typeof path === 'string' ? pathForLog(path) : path),
    },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
}

/**
 * `logger` (Fastify's option) with these serializers and redactions in force, whatever it set: `true` becomes
 * {@link frontendLoggerOptions}, options keep their level and destination, `false` stays off.
 */
export function withFrontendLogging(
  logger: FastifyServerOptions['logger'] | undefined,
): FastifyServerOptions['logger'] {
  if (logger === undefined || logger === false) return false;
  if (logger === true) return frontendLoggerOptions();
  const ours = frontendLoggerOptions();
  return { ...logger, serializers: { ...logger.serializers, ...ours.serializers }, redact: ours.redact };
}

function pathForLog(url: string): string {
  const path = withoutCardNumbers(url.split('?', 1)[0] ?? '');
  // Percent-encoded digits (`%34%30…`) are a card number once decoded, and no run of them shows in the path.
  return containsCardNumber(decodedOrAsIs(path)) ? CARD_NUMBER_PLACEHOLDER : path;
}

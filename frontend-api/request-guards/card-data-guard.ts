/**
 * Refuses card data wherever a request carries it: the path, the query string, any header, any body field.
 * The request line and headers are looked at on arrival (onRequest), the body once parsed and before it is
 * validated (preValidation), so a validation error can never quote a card number back, and no handler can
 * store or log one. Log lines written before these checks go through the request serializer of logging.ts,
 * which leaves card numbers out by itself.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { containsCardNumber, findCardData } from '../domain/card-data.ts';
import { cardDataRefused } from './errors.ts';

/**
 * Where the request line or headers carry card data: `'path'`, `'query'`, a header's name
 * (`'Idempotency-Key'`), or `'headers'` when it is in a header's name; undefined when nowhere.
 *
 * @example
 * findCardDataInRequest({ url: '/api/payments?card=4000056655665556', rawHeaders: [] }); // 'query'
 */
export function findCardDataInRequest(request: {
  readonly url?: string | undefined;
  readonly rawHeaders?: readonly string[] | undefined;
  readonly headers?: Readonly<Record<string, unknown>> | undefined;
}): string | undefined {
  const url = request.url ?? '';
  const queryStart = url.indexOf('?');
  const path = queryStart === -1 ? url : url.slice(0, queryStart);
  const query = queryStart === -1 ? '' : url.slice(queryStart + 1);
  if (containsCardNumber(path) || containsCardNumber(decodedOrAsIs(path))) return 'path';
  if (containsCardNumber(query)) return 'query';
  for (const [name, value] of new URLSearchParams(query)) {
    if (containsCardNumber(name) || containsCardNumber(value)) return 'query';
  }
  for (const [name, value] of headersOf(request)) {
    // Naming a header that holds a card number in its name would quote it.
    if (containsCardNumber(name) || containsCardNumber(asUtf8(name))) return 'headers';
    if (containsCardNumber(value) || containsCardNumber(asUtf8(value))) return headerName(name);
  }
  return undefined;
}

/** The hooks, on every route of the instance (and the 404 and 405 answers). */
export const cardDataGuard = fp(
  async (fastify: FastifyInstance) => {
    fastify.addHook('onRequest', async (request) => {
      const field = findCardDataInRequest(request.raw);
      if (field !== undefined) throw cardDataRefused(field);
    });
    fastify.addHook('preValidation', async (request) => {
      if (request.body === undefined) return;
      const field = findCardData(request.body);
      if (field !== undefined) throw cardDataRefused(field);
    });
  },
  { name: 'card-data-guard', fastify: '5.x' },
);

/** `percent%20encoded` decoded; as it is when it does not decode. */
export function decodedOrAsIs(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * A header as its sender most likely wrote it: Node reads header bytes as latin1, so full-width digits or a
 * no-break space sent in UTF-8 arrive as other characters, and only decoding them again shows the digits.
 */
function asUtf8(text: string): string {
  return Buffer.from(text, 'latin1').toString('utf8');
}

/** `idempotency-key` → `Idempotency-Key`, as the API's documentation names headers. */
function headerName(name: string): string {
  return name
    .toLowerCase()
    .replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
}

/** Each header as sent: the raw headers keep repeats apart; a WebSocket injected in tests has parsed ones only. */
function headersOf(request: Parameters<typeof findCardDataInRequest>[0]): Array<[string, string]> {
  if (request.rawHeaders !== undefined) {
    const pairs: Array<[string, string]> = [];
    for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
      pairs.push([request.rawHeaders[i]!, request.rawHeaders[i + 1]!]);
    }
    return pairs;
  }
  return Object.entries(request.headers ?? {}).flatMap(([name, value]) =>
    [value ?? []].flat().map((each): [string, string] => [name, String(each)]),
  );
}

/**
 * Request bodies: JSON in UTF-8, as it arrived, and nothing else. Every refusal is a 4xx that quotes nothing
 * of the body.
 *
 * - Any `Content-Encoding` but `identity`: 415. Nothing here decompresses, and a compressed body read as JSON
 *   is garbage at best.
 * - A `charset` other than UTF-8: 415. The body is read as UTF-8 whatever the header says, so another charset
 *   would be read wrongly rather than refused.
 * - A body starting with a byte-order mark: 400. JSON senders must not add one (RFC 8259 §8.1); refusing is
 *   simpler than deciding which of the body's bytes to trust.
 * - JSON nested deeper than {@link MAX_JSON_DEPTH}: 400 naming `body`, found by a scan that keeps a count, not
 *   a stack, so no depth can overflow it, and checked before JSON.parse and everything after it sees the body.
 * - Any other content type: 415 (Fastify's own answer once no parser matches).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { RequestRefusedError } from './errors.ts';

/** The API's bodies are flat objects; nothing legitimate comes near this. */
export const MAX_JSON_DEPTH = 32;

const BYTE_ORDER_MARK = '\uFEFF';

/**
 * Whether `json` opens more than `limit` objects or arrays inside one another (brackets inside strings do not
 * count). Linear, with constant memory.
 *
 * @example
 * isNestedDeeperThan('[[1]]', 1); // true
 */
export function isNestedDeeperThan(json: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i += 1) {
    const char = json[i];
    if (inString) {
      if (char === '\\') i += 1;
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
    } else if (char === '{' || char === '[') {
      depth += 1;
      if (depth > limit) return true;
    } else if (char === '}' || char === ']') {
      depth -= 1;
    }
  }
  return false;
}

/**
 * The charset a `Content-Type` names, lower-cased and unquoted, or undefined when it names none.
 *
 * @example
 * charsetOf('application/json; charset="UTF-8"'); // 'utf-8'
 */
export function charsetOf(contentType: string): string | undefined {
  for (const parameter of contentType.split(';').slice(1)) {
    const [name = '', ...value] = parameter.split('=');
    if (name.trim().toLowerCase() === 'charset') {
      return value
        .join('=')
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .toLowerCase();
    }
  }
  return undefined;
}

/** The body rules: replaces every content-type parser with one for UTF-8 JSON. */
export const jsonBodyGuard = fp(
  async (fastify: FastifyInstance) => {
    fastify.addHook('onRequest', async (request) => {
      const encoding = request.headers['content-encoding'];
      if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
        throw new RequestRefusedError({
          statusCode: 415,
          code: 'content_encoding_not_supported',
          message: 'Request bodies must not be encoded (no Content-Encoding)',
          field: 'Content-Encoding',
        });
      }
    });

    // Fastify's own JSON parser keeps its defences (__proto__ and constructor poisoning) and its 400s.
    const parseJson = fastify.getDefaultJsonParser('error', 'error');
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser(
      'application/json',
      { parseAs: 'string' },
      (request: FastifyRequest, body: string, done: (error: Error | null, body?: unknown) => void) => {
        const charset = charsetOf(request.headers['content-type'] ?? '');
        if (charset !== undefined && charset !== 'utf-8') {
          done(
            new RequestRefusedError({
              statusCode: 415,
              code: 'charset_not_supported',
              message: 'JSON bodies must be UTF-8',
              field: 'Content-Type',
            }),
          );
        } else if (body.startsWith(BYTE_ORDER_MARK)) {
          done(
            new RequestRefusedError({
              statusCode: 400,
              code: 'byte_order_mark_refused',
              message: 'The body must not start with a byte-order mark',
              field: 'body',
            }),
          );
        } else if (isNestedDeeperThan(body, MAX_JSON_DEPTH)) {
          done(
            new RequestRefusedError({
              statusCode: 400,
              code: 'json_too_deep',
              message: `The body must not nest objects or arrays more than ${MAX_JSON_DEPTH} deep`,
              field: 'body',
            }),
          );
        } else {
          parseJson(request, body, done);
        }
      },
    );
  },
  { name: 'json-body-guard', fastify: '5.x' },
);

/**
 * The console answers only its operator's browser on this machine. Listening on loopback keeps other machines
 * out; this keeps out web pages the operator happens to have open: a Host that is not a loopback name is a
 * page that rebound its own domain to 127.0.0.1 (DNS rebinding) to read executions, and a change (stop,
 * redrive) whose Origin is another site's is a forged request. Both are refused before any route runs.
 */
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { OpsConsoleRequestRefusedError } from '../errors.ts';

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const loopbackGuard = fp(
  async (fastify) => {
    fastify.addHook('onRequest', async (request) => {
      if (!LOOPBACK_NAMES.has(request.hostname.toLowerCase())) {
        throw new OpsConsoleRequestRefusedError(
          'host_not_allowed',
          'The console answers only at 127.0.0.1 or localhost',
        );
      }
      if (!SAFE_METHODS.has(request.method) && !isSameOrigin(request)) {
        throw new OpsConsoleRequestRefusedError(
          'cross_site_request',
          'Changes are accepted only from the console’s own pages',
        );
      }
    });
  },
  { name: 'ops-loopback-guard', fastify: '5.x' },
);

/**
 * Browsers say where a request comes from; clients that are not browsers (curl, tests) say nothing. Fetch
 * Metadata (`Sec-Fetch-Site`, which no page can set) decides when it is sent: the console's pages are sent with
 * `Referrer-Policy: no-referrer`, under which a browser sends a form's POST with `Origin: null`, so the Origin
 * is only the word of browsers without Fetch Metadata.
 */
function isSameOrigin(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.host;
  } catch {
    // `null` (an opaque origin: a sandboxed frame, a data: URL) is nobody we know.
    return false;
  }
}

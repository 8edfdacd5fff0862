/** How page routes answer: the page context every page needs, and HTML with the headers a console page wants. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { PageContext } from './layout.ts';

export function pageContext(fastify: FastifyInstance): PageContext {
  return { target: fastify.opsAws.target, actionsEnabled: fastify.opsConfig.actionsEnabled };
}

/** HTML, never cached (it holds payment data and changes), never framed (its buttons act). */
export function sendPage(
  reply: FastifyReply,
  markup: { toString(): string },
  statusCode = 200,
): FastifyReply {
  return reply
    .code(statusCode)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header(
      'content-security-policy',
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff')
    .send(String(markup));
}

/**
 * The console's pages post plain HTML forms (a decision, a redrive), which need no script: their bodies are
 * `application/x-www-form-urlencoded`, read here as an object of strings (a repeated field keeps its last
 * value). Call it in the route plugin that takes forms; it applies to that plugin's routes alone.
 */
import type { FastifyInstance } from 'fastify';

/** A form is a few short fields. */
const FORM_BODY_LIMIT_BYTES = 8 * 1024;

export function acceptForms(fastify: FastifyInstance): void {
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT_BYTES },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    },
  );
}

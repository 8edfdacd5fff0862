import type { FastifyRequest } from 'fastify';
import { RequestRefusedError } from '../../request-guards/errors.ts';

/**
 * Refuses a request that sends `Idempotency-Key` more than once. Node joins repeated headers into one
 * (`a, b`), a key the client never chose; which of the two it meant cannot be told, so neither is used.
 * Counted in the raw headers, where the repeats are still apart, whatever their case.
 *
 * @example
 * fastify.post('/api/payments', { onRequest: refuseRepeatedIdempotencyKey }, handler);
 */
export async function refuseRepeatedIdempotencyKey(request: FastifyRequest): Promise<void> {
  const rawHeaders = request.raw.rawHeaders ?? [];
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === 'idempotency-key') count += 1;
  }
  if (count > 1) {
    throw new RequestRefusedError({
      statusCode: 400,
      code: 'idempotency_key_repeated',
      message: 'Send the Idempotency-Key header once',
      field: 'Idempotency-Key',
    });
  }
}

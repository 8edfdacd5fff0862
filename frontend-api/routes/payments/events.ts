/**
 * WebSocket /api/payments/{paymentId}/events?token=<statusToken>&after=<seq>: every event with
 * `seq > after`, in order, then live ones as the instance's event tail sees them. A client that reconnects
 * with the last seq it saw gets every event it missed, once.
 *
 * Refused before the upgrade: an Origin outside the allowlist (403); an unknown payment, or a wrong or
 * missing token (404, the same answer for all three).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { PaymentEvent } from '../../../database/payments-repository.ts';
import { authorisedPayment } from './authorise.ts';
import { ErrorSchema, EventsQuerySchema, PAYMENT_NOT_FOUND, PaymentParamsSchema } from './schemas.ts';

/** A socket whose client reads this slowly is closed rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export const paymentEventsRoute: FastifyPluginAsyncZod = async (fastify) => {
  fastify.get(
    '/api/payments/:paymentId/events',
    {
      websocket: true,
      schema: {
        summary: 'WebSocket: the payment events after `after`, then live ones',
        params: PaymentParamsSchema,
        querystring: EventsQuerySchema,
        response: { 403: ErrorSchema, 404: ErrorSchema },
      },
      preHandler: async (request, reply) => {
        const origin = request.headers.origin;
        // Browsers always send Origin on a WebSocket; a non-browser client has no ambient credentials to abuse.
        if (origin !== undefined && !fastify.config.allowedOrigins.includes(origin)) {
          request.log.warn({ origin }, 'websocket origin refused');
          return reply.code(403).send({
            statusCode: 403,
            error: 'Forbidden',
            code: 'origin_not_allowed',
            message: 'This origin may not open the payment events socket',
          });
        }
        const payment = await authorisedPayment(fastify, request.params.paymentId, request.query.token);
        if (!payment) return reply.code(404).send(PAYMENT_NOT_FOUND);
      },
    },
    async (socket, request) => {
      const { paymentId } = request.params;
      let lastSeq = request.query.after;
      let catchingUp = false;
      let pending: PaymentEvent[] = [];
      let closed = false;

      const send = (event: PaymentEvent) => {
        if (closed || event.seq <= lastSeq) return;
        if (event.seq > lastSeq + 1) {
          // Not expected (the tail covers every commit after it started), but never skip: read the gap.
          pending.push(event);
          void catchUp();
          return;
        }
        socket.send(JSON.stringify(event));
        lastSeq = event.seq;
        if (socket.bufferedAmount > MAX_BUFFERED_BYTES) socket.close(1008, 'client too slow');
      };

      const catchUp = async () => {
        if (catchingUp) return;
        catchingUp = true;
        try {
          for (const event of await fastify.payments.eventsAfterSeq(paymentId, lastSeq)) send(event);
        } catch (error) {
          request.log.error({ err: error, paymentId }, 'reading payment events failed');
          socket.close(1011, 'events unavailable');
        } finally {
          catchingUp = false;
        }
        const buffered = pending.sort((a, b) => a.seq - b.seq);
        pending = [];
        for (const event of buffered) send(event);
      };

      socket.on('close', () => {
        closed = true;
        unsubscribe?.();
      });
      // The client has nothing to say; anything it sends is ignored (maxPayload bounds it).
      socket.on('message', () => undefined);

      let unsubscribe: (() => void) | undefined;
      try {
        unsubscribe = await fastify.eventTail.subscribe(paymentId, (event) =>
          catchingUp ? pending.push(event) : send(event),
        );
      } catch (error) {
        request.log.error({ err: error, paymentId }, 'subscribing to payment events failed');
        socket.close(1011, 'events unavailable');
        return;
      }
      if (closed) {
        unsubscribe();
        return;
      }
      await catchUp();
    },
  );
};

/**
 * The payments resource: POST /api/payments, GET /api/payments/{paymentId} and the events WebSocket
 * /api/payments/{paymentId}/events.
 */
import { createHash } from 'node:crypto';
import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { type PaymentToVendInput, PaymentToVendInputSchema } from '../../../workflow/contracts.ts';
import { newPaymentId } from '../../domain/payment-id.ts';
import { eventsUrlOf, openAccepted, sealAccepted } from '../../domain/replayable-response.ts';
import { hashStatusToken, newStatusToken } from '../../domain/status-token.ts';
import { authorisedPayment } from './authorise.ts';
import { paymentEventsRoute } from './events.ts';
import { refuseRepeatedIdempotencyKey } from './idempotency-key.ts';
import {
  type CreatePaymentBody,
  CreatePaymentBodySchema,
  CreatePaymentHeadersSchema,
  ErrorSchema,
  PAYMENT_NOT_FOUND,
  PaymentAcceptedSchema,
  PaymentParamsSchema,
  PaymentStatusSchema,
} from './schemas.ts';

const paymentsRoutes: FastifyPluginAsyncZod = async (fastify) => {
  fastify.post(
    '/api/payments',
    {
      schema: {
        summary: 'Start a top-up',
        headers: CreatePaymentHeadersSchema,
        body: CreatePaymentBodySchema,
        response: { 202: PaymentAcceptedSchema, 400: ErrorSchema, 422: ErrorSchema },
      },
      config: { rateLimit: { max: Math.max(1, Math.ceil(fastify.config.rateLimitMax / 4)) } },
      // Card data anywhere in the request is refused before this route's hooks (request-guards/).
      onRequest: refuseRepeatedIdempotencyKey,
    },
    async (request, reply) => {
      const body = request.body;
      const paymentId = newPaymentId();
      const statusToken = newStatusToken();
      const accepted = { paymentId, statusToken, eventsUrl: eventsUrlOf(paymentId, statusToken) };
      const owner = { idempotencyKey: request.headers['idempotency-key'], requestHash: requestHashOf(body) };
      // One statement claims the key: a concurrent request with the same key waits for this one's commit,
      // then replays its response, so every request with one key gets the same answer. What is kept to replay
      // holds the status token sealed, openable only by this key and body.
      const outcome = await fastify.payments.acceptPayment({
        ...owner,
        payment: {
          paymentId,
          meterId: body.meterId,
          amountPence: body.amountPence,
          statusTokenHash: hashStatusToken(statusToken),
        },
        response: sealAccepted(accepted, owner),
      });

      switch (outcome.kind) {
        case 'accepted':
          await startExecution(fastify, { paymentId, ...body });
          request.log.info({ paymentId }, 'payment accepted');
          return reply.code(202).send(accepted);
        case 'replay': {
          const first = openAccepted(outcome.response, owner);
          // The first request may have stopped before StartExecution: starting again is harmless.
          await startExecution(fastify, { paymentId: first.paymentId, ...body });
          reply.header('idempotent-replayed', 'true');
          return reply.code(202).send(first);
        }
        case 'key_reused':
          return reply.code(422).send({
            statusCode: 422,
            error: 'Unprocessable Entity',
            code: 'idempotency_key_reused',
            message: 'This Idempotency-Key was used with a different request body',
          });
      }
    },
  );

  fastify.get(
    '/api/payments/:paymentId',
    {
      schema: {
        summary: 'A payment status and its events',
        params: PaymentParamsSchema,
        response: { 200: PaymentStatusSchema, 404: ErrorSchema },
      },
    },
    async (request, reply) => {
      const payment = await authorisedPayment(
        fastify,
        request.params.paymentId,
        bearerTokenOf(request.headers.authorization),
      );
      if (!payment) return reply.code(404).send(PAYMENT_NOT_FOUND);
      const events = await fastify.payments.eventsAfterSeq(payment.paymentId, 0);
      return reply.code(200).send({
        paymentId: payment.paymentId,
        status: payment.status,
        meterId: payment.meterId,
        amountPence: payment.amountPence,
        events,
      });
    },
  );

  await fastify.register(paymentEventsRoute);
};

export default paymentsRoutes;

function bearerTokenOf(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

/** The same body, whatever its key order, gives the same hash. */
function requestHashOf(body: CreatePaymentBody): string {
  const canonical = JSON.stringify([body.meterId, body.amountPence, body.paymentToken]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

async function startExecution(fastify: FastifyInstance, input: PaymentToVendInput): Promise<void> {
  try {
    await fastify.aws.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: fastify.config.stateMachineArn,
        name: input.paymentId,
        input: JSON.stringify(PaymentToVendInputSchema.parse(input)),
      }),
    );
  } catch (error) {
    // Already started (and perhaps finished) by an earlier attempt of the same request.
    if (error instanceof ExecutionAlreadyExists) return;
    throw error;
  }
}

/**
 * The payments API: payments searched by id, meter or status; one payment with everything an operator needs;
 * and the operator's decision on a payment open for one (needs --enable-actions), handed to the execution that
 * waits for it. Without a payments database (--database-cluster-arn, --database-secret-arn) every route
 * answers 503 `no_database`.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireDecisionsEnabled } from '../../payments/decisions-enabled.ts';
import { ErrorSchema } from '../schemas.ts';
import {
  DecidedSchema,
  DecisionBodySchema,
  PaymentDetailQuerySchema,
  PaymentDetailSchema,
  PaymentListSchema,
  PaymentParamsSchema,
  SearchPaymentsQuerySchema,
} from './schemas.ts';

const TAGS = ['payments'];

export const paymentsApi: FastifyPluginAsyncZod = async (fastify) => {
  fastify.get(
    '/api/payments',
    {
      schema: {
        tags: TAGS,
        summary: 'Search payments',
        description:
          'Newest first. `paymentId` matches whole or in part (case-insensitive), `meterId` and `status` exactly; each item says why it is open for a decision (`openFor`), while it is.',
        querystring: SearchPaymentsQuerySchema,
        response: { 200: PaymentListSchema, 400: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request) => {
      const { paymentId, meterId, status, limit } = request.query;
      return { payments: await fastify.opsPayments.search({ paymentId, meterId, status, limit }) };
    },
  );

  fastify.get(
    '/api/payments/:paymentId',
    {
      schema: {
        tags: TAGS,
        summary: 'One payment',
        description:
          'The payment (charge, UTRN, refund), the customer’s timeline, every vend attempt with its error, its follow-up (why it is open, since when, its deadline, escalations and the decisions that can end it), the audit trail, its execution, the queue messages and the on-call alerts about it. The dead-letter queues are always looked at; PaymentFailure and VendingFailure only with `peekSourceQueues=true`, since each look counts one receive towards their maxReceiveCount.',
        params: PaymentParamsSchema,
        querystring: PaymentDetailQuerySchema,
        response: { 200: PaymentDetailSchema, 400: ErrorSchema, 404: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request) =>
      fastify.opsPayments.detail(request.params.paymentId, {
        peekSourceQueues: request.query.peekSourceQueues,
      }),
  );

  fastify.post(
    '/api/payments/:paymentId/decisions',
    {
      schema: {
        tags: TAGS,
        summary: 'Decide how an open payment ends (needs --enable-actions)',
        description:
          '`revend`, `record_utrn` (with `utrn`, 20 digits) or `refund` end a payment whose vend failed; `recheck_charge` one whose charge is unconfirmed. `reason` (why, in your words) is kept in the audit trail with who decided (the console’s operator) and when. The decision is handed to the execution waiting for it (202), which records it and carries it out: follow it on the payment. 409 when the payment is not open, the action cannot end it, or the execution no longer waits on the token read (its deadline passed and it waits anew: decide again).',
        params: PaymentParamsSchema,
        body: DecisionBodySchema,
        response: {
          202: DecidedSchema,
          400: ErrorSchema,
          403: ErrorSchema,
          404: ErrorSchema,
          409: ErrorSchema,
          503: ErrorSchema,
        },
      },
      // Before the body is validated: a read-only console refuses any decision, well-formed or not.
      preValidation: requireDecisionsEnabled,
    },
    async (request, reply) => {
      const { paymentId } = request.params;
      const { action, reason, utrn, decisionId } = request.body;
      const { decision, executionArn } = await fastify.opsPayments.decide(paymentId, {
        action,
        reason,
        utrn,
        decisionId,
      });
      request.log.info(
        { paymentId, decisionId: decision.decisionId, action, operator: decision.operator },
        'operator decision handed to the execution',
      );
      return reply.code(202).send({ paymentId, decision, executionArn });
    },
  );
};

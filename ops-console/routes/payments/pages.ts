/**
 * The payments pages: the search, one payment, and the decision forms' target (a plain HTML form posts here;
 * a decision handed over redirects back to the payment, one refused shows the payment again with why).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { acceptForms } from '../../pages/forms.ts';
import { paymentPath } from '../../pages/payment-format.ts';
import { type DecisionFormValues, paymentPage } from '../../pages/payment-page.ts';
import { paymentsListPage } from '../../pages/payments-list-page.ts';
import { pageContext, sendPage } from '../../pages/respond.ts';
import { requireDecisionsEnabled } from '../../payments/decisions-enabled.ts';
import { OpsConsoleDecisionConflictError } from '../../payments/payments-service.ts';
import {
  DecisionBodySchema,
  PaymentDetailQuerySchema,
  PaymentParamsSchema,
  SearchPaymentsQuerySchema,
} from './schemas.ts';

/** What the search form sends: anything, validated in the handler so that a mistake is shown on the page. */
const SearchFormSchema = z.object({
  paymentId: z.string().optional(),
  meterId: z.string().optional(),
  status: z.string().optional(),
  limit: z.string().optional(),
});

const PaymentPageQuerySchema = z.object({
  peekSourceQueues: z.string().optional(),
  decided: z.string().optional(),
  action: z.string().optional(),
});

/** What a decision form sends, validated in the handler. */
const DecisionFormSchema = z.object({
  action: z.string().optional(),
  reason: z.string().optional(),
  utrn: z.string().optional(),
  decisionId: z.string().optional(),
});

export const paymentsPages: FastifyPluginAsyncZod = async (fastify) => {
  acceptForms(fastify);

  fastify.get(
    '/payments',
    { schema: { hide: true, querystring: SearchFormSchema } },
    async (request, reply) => {
      const form = withoutBlanks(request.query);
      const context = pageContext(fastify);
      if (!fastify.opsPayments.available) {
        return sendPage(reply, paymentsListPage(context, { form, result: null, problem: NO_DATABASE }));
      }
      const parsed = SearchPaymentsQuerySchema.safeParse(form);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const problem = `${issue?.path.join('.') || 'search'}: ${issue?.message ?? 'not understood'}`;
        return sendPage(reply, paymentsListPage(context, { form, result: null, problem }), 400);
      }
      const result = await fastify.opsPayments.search(parsed.data);
      return sendPage(reply, paymentsListPage(context, { form, result, problem: null }));
    },
  );

  fastify.get(
    '/payments/:paymentId',
    { schema: { hide: true, params: PaymentParamsSchema, querystring: PaymentPageQuerySchema } },
    async (request, reply) => {
      const { paymentId } = request.params;
      const { decided, action } = request.query;
      return renderPayment(fastify, reply, paymentId, {
        peekSourceQueues: PaymentDetailQuerySchema.safeParse(request.query).data?.peekSourceQueues ?? false,
        decided:
          decided !== undefined && /^[A-Za-z0-9_-]{1,80}$/.test(decided)
            ? { decisionId: decided, action: action ?? '' }
            : undefined,
      });
    },
  );

  fastify.post(
    '/payments/:paymentId/decisions',
    {
      schema: { hide: true, params: PaymentParamsSchema, body: DecisionFormSchema },
      preValidation: requireDecisionsEnabled,
    },
    async (request, reply) => {
      const { paymentId } = request.params;
      const form = withoutBlanks(request.body ?? {});
      const values: DecisionFormValues = { action: form.action, reason: form.reason, utrn: form.utrn };
      const parsed = DecisionBodySchema.safeParse(form);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const message = `${issue?.path.join('.') || 'decision'}: ${issue?.message ?? 'not understood'}`;
        return renderPayment(fastify, reply, paymentId, { problem: { message, form: values } }, 400);
      }
      try {
        const { decision } = await fastify.opsPayments.decide(paymentId, parsed.data);
        request.log.info(
          {
            paymentId,
            decisionId: decision.decisionId,
            action: decision.action,
            operator: decision.operator,
          },
          'operator decision handed to the execution',
        );
        // Post/redirect/get: a reload of the page that follows does not send the form again.
        return reply.redirect(
          paymentPath(paymentId, { decided: decision.decisionId, action: decision.action }),
          303,
        );
      } catch (error) {
        if (!(error instanceof OpsConsoleDecisionConflictError)) throw error;
        return renderPayment(
          fastify,
          reply,
          paymentId,
          { problem: { message: error.message, form: values } },
          409,
        );
      }
    },
  );
};

const NO_DATABASE =
  'This console has no payments database: start it with --database-cluster-arn and --database-secret-arn (the payments_console role’s secret). npm start gives its own. Executions, queues and alerts work without it.';

async function renderPayment(
  fastify: FastifyInstance,
  reply: FastifyReply,
  paymentId: string,
  {
    peekSourceQueues = false,
    decided,
    problem,
  }: {
    peekSourceQueues?: boolean;
    decided?: { decisionId: string; action: string } | undefined;
    problem?: { message: string; form: DecisionFormValues } | undefined;
  },
  statusCode = 200,
): Promise<FastifyReply> {
  const detail = await fastify.opsPayments.detail(paymentId, { peekSourceQueues });
  return sendPage(
    reply,
    paymentPage(pageContext(fastify), detail, { operator: fastify.opsPayments.operator, decided, problem }),
    statusCode,
  );
}

function withoutBlanks<T extends Record<string, string | undefined>>(query: T): T {
  return Object.fromEntries(
    Object.entries(query).filter(([, value]) => value !== undefined && value.trim() !== ''),
  ) as T;
}

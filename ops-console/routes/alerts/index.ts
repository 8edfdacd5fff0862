/**
 * The alerts resource: the on-call alerts the console received through its own subscription to the on-call
 * topic, newest first, as JSON (optionally only those about one payment) and as a page.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { alertsPage } from '../../pages/alerts-page.ts';
import { pageContext, sendPage } from '../../pages/respond.ts';
import { AlertSchema, AlertsStatusSchema, PaymentIdSchema } from '../payments/schemas.ts';
import { ErrorSchema } from '../schemas.ts';

const alertsRoutes: FastifyPluginAsyncZod = async (fastify) => {
  fastify.get(
    '/api/alerts',
    {
      schema: {
        tags: ['alerts'],
        summary: 'The on-call alerts, newest first',
        description:
          'What the on-call topic published since the console subscribed its own queue to it (at most the 200 most recent). `status` says whether it follows the topic, and if not why (no topic named OnCall, no permission to subscribe). `paymentId` keeps only the alerts about that payment.',
        querystring: z.object({
          paymentId: PaymentIdSchema.optional(),
          limit: z.coerce.number().int().min(1).max(200).optional(),
        }),
        response: {
          200: z.object({ status: AlertsStatusSchema, alerts: z.array(AlertSchema) }),
          400: ErrorSchema,
        },
      },
    },
    async (request) => ({
      status: fastify.alerts.status(),
      alerts: fastify.alerts.recent({ paymentId: request.query.paymentId, limit: request.query.limit }),
    }),
  );

  fastify.get('/alerts', { schema: { hide: true } }, async (_request, reply) =>
    sendPage(
      reply,
      alertsPage(pageContext(fastify), { status: fastify.alerts.status(), alerts: fastify.alerts.recent() }),
    ),
  );
};

export default alertsRoutes;

/**
 * The queues resource: GET /api/queues, each queue with how many messages it holds. Read-only; taking a
 * follow-up off its queue belongs to the follow-up actions (issue #11, later).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ErrorSchema } from '../schemas.ts';

const QueueDepthSchema = z.object({
  name: z.string(),
  queueUrl: z.string(),
  visible: z.number().int(),
  inFlight: z.number().int(),
  delayed: z.number().int(),
  deadLetterTarget: z.string().nullable(),
});

const queuesRoutes: FastifyPluginAsyncZod = async (fastify) => {
  fastify.get(
    '/api/queues',
    {
      schema: {
        tags: ['queues'],
        summary: 'List queues and their depths',
        querystring: z.object({ namePrefix: z.string().min(1).max(80).optional() }),
        response: { 200: z.object({ queues: z.array(QueueDepthSchema) }), 502: ErrorSchema },
      },
    },
    async (request) => ({ queues: await fastify.queues.depths({ namePrefix: request.query.namePrefix }) }),
  );
};

export default queuesRoutes;

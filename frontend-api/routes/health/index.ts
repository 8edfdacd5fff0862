/** GET /health: the process is up and serving (a load balancer's target check; it touches no dependency). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

const healthRoutes: FastifyPluginAsyncZod = async (fastify) => {
  fastify.get(
    '/health',
    {
      schema: { summary: 'Liveness', response: { 200: z.object({ status: z.literal('ok') }) } },
      config: { rateLimit: false },
    },
    async () => ({ status: 'ok' as const }),
  );
};

export default healthRoutes;

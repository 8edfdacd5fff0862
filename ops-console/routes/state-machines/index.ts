/** The state machines resource: GET /api/state-machines. Their executions are under routes/executions. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ErrorSchema } from '../schemas.ts';

const StateMachineSchema = z.object({
  stateMachineArn: z.string(),
  name: z.string(),
  type: z.string(),
  creationDate: z.string().nullable(),
});

const stateMachinesRoutes: FastifyPluginAsyncZod = async (fastify) => {
  fastify.get(
    '/api/state-machines',
    {
      schema: {
        tags: ['state machines'],
        summary: 'List state machines',
        response: { 200: z.object({ stateMachines: z.array(StateMachineSchema) }), 502: ErrorSchema },
      },
    },
    async () => ({ stateMachines: await fastify.executions.stateMachines() }),
  );
};

export default stateMachinesRoutes;

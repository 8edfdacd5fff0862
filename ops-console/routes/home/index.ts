/**
 * The console itself: its front page, GET /api/console (where it reads and whether it may act) and
 * GET /health.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { answerForAwsError } from '../../aws-errors.ts';
import { homePage, type Loaded } from '../../pages/home-page.ts';
import { pageContext, sendPage } from '../../pages/respond.ts';

const homeRoutes: FastifyPluginAsyncZod = async (fastify) => {
  fastify.get('/', { schema: { hide: true } }, async (request, reply) => {
    const [machines, queues] = await Promise.all([
      loaded(() => fastify.executions.stateMachines()),
      loaded(() => fastify.queues.depths()),
    ]);
    for (const part of [machines, queues]) {
      if (!part.ok) request.log.warn({ problem: part.problem }, 'front page: a part could not be read');
    }
    return sendPage(reply, homePage(pageContext(fastify), { machines, queues }));
  });

  fastify.get(
    '/api/console',
    {
      schema: {
        tags: ['console'],
        summary: 'Where the console reads, and whether it may act',
        response: {
          200: z.object({
            target: z.string(),
            actionsEnabled: z.boolean(),
            pollIntervalMs: z.number().int(),
          }),
        },
      },
    },
    async () => ({
      target: fastify.opsAws.target,
      actionsEnabled: fastify.opsConfig.actionsEnabled,
      pollIntervalMs: fastify.opsConfig.pollIntervalMs,
    }),
  );

  fastify.get(
    '/health',
    {
      schema: {
        summary: 'Liveness',
        tags: ['console'],
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );
};

/** One part of the front page, or why it could not be read (the other part is still shown). */
async function loaded<T>(read: () => Promise<T>): Promise<Loaded<T>> {
  try {
    return { ok: true, value: await read() };
  } catch (error) {
    return { ok: false, problem: describeAwsError(error) };
  }
}

function describeAwsError(error: unknown): string {
  const answer = answerForAwsError(error);
  if (answer !== undefined) return answer.message;
  return error instanceof Error ? `${error.name}: ${error.message}` : 'It could not be read';
}

export default homeRoutes;

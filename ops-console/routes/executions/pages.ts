/** The executions pages: a state machine's executions, and one execution. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { executionPage } from '../../pages/execution-page.ts';
import { executionsListPage, type ListFormValues } from '../../pages/executions-list-page.ts';
import { pageContext, sendPage } from '../../pages/respond.ts';
import {
  dateOf,
  ExecutionParamsSchema,
  ListExecutionsParamsSchema,
  ListExecutionsQuerySchema,
} from './schemas.ts';

/** What the search form sends: anything, validated in the handler so that a mistake is shown on the page. */
const ListFormSchema = z.object({
  status: z.string().optional(),
  name: z.string().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  limit: z.string().optional(),
  cursor: z.string().optional(),
});

export const executionsPages: FastifyPluginAsyncZod = async (fastify) => {
  fastify.get(
    '/state-machines/:stateMachineArn/executions',
    { schema: { hide: true, params: ListExecutionsParamsSchema, querystring: ListFormSchema } },
    async (request, reply) => {
      const { stateMachineArn } = request.params;
      const form = withoutBlanks(request.query);
      // The ARN names the machine: no call for it (ListExecutions answers for one that does not exist).
      const machine = { stateMachineArn, name: stateMachineArn.split(':').at(-1) ?? stateMachineArn };
      const parsed = ListExecutionsQuerySchema.safeParse(form);
      let problem: string | null = null;
      let result = null;
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        problem = `${issue?.path.join('.') || 'search'}: ${issue?.message ?? 'not understood'}`;
      } else {
        const { status, name, from, to, limit, cursor } = parsed.data;
        result = await fastify.executions.list({
          stateMachineArn,
          status,
          name,
          from: dateOf(from),
          to: dateOf(to),
          limit,
          cursor,
        });
      }
      return sendPage(
        reply,
        executionsListPage(pageContext(fastify), {
          machine,
          form: form as ListFormValues,
          result,
          problem,
          cursor: form.cursor,
        }),
      );
    },
  );

  fastify.get(
    '/executions/:executionArn',
    { schema: { hide: true, params: ExecutionParamsSchema } },
    async (request, reply) => {
      const { executionArn } = request.params;
      const [detail, layout] = await Promise.all([
        fastify.executions.detail(executionArn),
        fastify.executions.graphOf(executionArn),
      ]);
      return sendPage(
        reply,
        executionPage(pageContext(fastify), detail, layout, {
          pollIntervalMs: fastify.opsConfig.pollIntervalMs,
        }),
      );
    },
  );
};

function withoutBlanks<T extends Record<string, string | undefined>>(query: T): T {
  return Object.fromEntries(
    Object.entries(query).filter(([, value]) => value !== undefined && value.trim() !== ''),
  ) as T;
}

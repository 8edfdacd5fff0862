/**
 * The executions API: a state machine's executions (filtered, paged, each with its real failure reason), one
 * execution in full, its graph, and the operator's stop and redrive (refused with 403 unless the console was
 * started with --enable-actions).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireActionsEnabled } from '../../plugins/actions.ts';
import { ErrorSchema } from '../schemas.ts';
import {
  dateOf,
  ExecutionDetailSchema,
  ExecutionPageSchema,
  ExecutionParamsSchema,
  GraphLayoutSchema,
  ListExecutionsParamsSchema,
  ListExecutionsQuerySchema,
  RedrivenSchema,
  StopBodySchema,
  StoppedSchema,
} from './schemas.ts';

const TAGS = ['executions'];

export const executionsApi: FastifyPluginAsyncZod = async (fastify) => {
  fastify.get(
    '/api/state-machines/:stateMachineArn/executions',
    {
      schema: {
        tags: TAGS,
        summary: 'List executions',
        description:
          'Newest first. `name` finds an execution by its whole name directly, or searches for it in part; `from` and `to` bound the start time. A search that reads many executions without filling the page stops with `scanLimitReached` and a `nextCursor` to search further.',
        params: ListExecutionsParamsSchema,
        querystring: ListExecutionsQuerySchema,
        response: { 200: ExecutionPageSchema, 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (request) => {
      const { status, name, from, to, limit, cursor } = request.query;
      return fastify.executions.list({
        stateMachineArn: request.params.stateMachineArn,
        status,
        name,
        from: dateOf(from),
        to: dateOf(to),
        limit,
        cursor,
      });
    },
  );

  fastify.get(
    '/api/executions/:executionArn',
    {
      schema: {
        tags: TAGS,
        summary: 'One execution',
        description:
          'Its description, the definition it ran, its history as rows, and a summary per state entered (status, retries, input, output, error, cause, timing). The payment token is never shown.',
        params: ExecutionParamsSchema,
        response: { 200: ExecutionDetailSchema, 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (request) => fastify.executions.detail(request.params.executionArn),
  );

  fastify.get(
    '/api/executions/:executionArn/graph',
    {
      schema: {
        tags: TAGS,
        summary: 'The graph of the machine the execution ran',
        description:
          'Positions laid out by ELK: nodes (states, Start, End, branches) and edges with their points.',
        params: ExecutionParamsSchema,
        response: { 200: GraphLayoutSchema, 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (request) => fastify.executions.graphOf(request.params.executionArn),
  );

  fastify.post(
    '/api/executions/:executionArn/stop',
    {
      schema: {
        tags: TAGS,
        summary: 'Stop a running execution (needs --enable-actions)',
        params: ExecutionParamsSchema,
        body: StopBodySchema,
        response: { 200: StoppedSchema, 400: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema },
      },
      preHandler: requireActionsEnabled,
    },
    async (request) => {
      const { executionArn } = request.params;
      const body = request.body ?? {};
      const stopped = await fastify.executions.stop(executionArn, {
        error: body.error,
        cause: body.cause ?? 'Stopped by an operator from the ops console',
      });
      request.log.info({ executionArn, action: 'stop' }, 'operator stopped an execution');
      return stopped;
    },
  );

  fastify.post(
    '/api/executions/:executionArn/redrive',
    {
      schema: {
        tags: TAGS,
        summary: 'Redrive a failed, aborted or timed-out execution (needs --enable-actions)',
        params: ExecutionParamsSchema,
        response: {
          200: RedrivenSchema,
          400: ErrorSchema,
          403: ErrorSchema,
          404: ErrorSchema,
          409: ErrorSchema,
        },
      },
      preHandler: requireActionsEnabled,
    },
    async (request) => {
      const { executionArn } = request.params;
      const redriven = await fastify.executions.redrive(executionArn);
      request.log.info({ executionArn, action: 'redrive' }, 'operator redrove an execution');
      return redriven;
    },
  );
};

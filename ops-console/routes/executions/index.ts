/** The executions resource: its JSON API (documented at /docs) and its pages. */
import type { FastifyPluginAsync } from 'fastify';
import { executionsApi } from './api.ts';
import { executionsPages } from './pages.ts';

const executionsRoutes: FastifyPluginAsync = async (fastify) => {
  await fastify.register(executionsApi);
  await fastify.register(executionsPages);
};

export default executionsRoutes;

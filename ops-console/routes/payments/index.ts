/** The payments resource: its JSON API (documented at /docs) and its pages. */
import type { FastifyPluginAsync } from 'fastify';
import { paymentsApi } from './api.ts';
import { paymentsPages } from './pages.ts';

const paymentsRoutes: FastifyPluginAsync = async (fastify) => {
  await fastify.register(paymentsApi);
  await fastify.register(paymentsPages);
};

export default paymentsRoutes;

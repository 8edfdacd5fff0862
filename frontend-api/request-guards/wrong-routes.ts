/**
 * Requests no route serves: 405, with `Allow`, for a known path asked with a method it does not serve
 * (DELETE /api/payments); 404 for an unknown path, which quotes nothing of the URL (Fastify's own 404 quotes
 * the URL in its answer and its log line, query string and all).
 *
 * Fastify's router is not open to questions such as "which methods does this URL have?", so the 405s are
 * routes of their own: every route is noted as it is added, and after the last one each path gets a route for
 * the methods it lacks, matched by the same router, params and all. Wildcard paths (static files, `/docs/*`)
 * get none: what lies under them is unknown, so a wrong method there is a 404.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { RequestRefusedError } from './errors.ts';

/** The paths routes are added at. */
export type RoutePaths = Set<string>;

/**
 * Notes the path of every route added to `fastify` from now on. Call it before the first route, and register
 * {@link wrongMethodRoutes} with the result after the last one.
 */
export function noteRoutePaths(fastify: FastifyInstance): RoutePaths {
  const paths: RoutePaths = new Set();
  fastify.addHook('onRoute', (route) => {
    if (!route.url.includes('*') && route.config?.wrongMethod !== true) paths.add(route.url);
  });
  return paths;
}

/** The 405 routes for every path noted in `routePaths`, and the 404 for every other. */
export const wrongMethodRoutes = fp<{ routePaths: RoutePaths }>(
  async (fastify, { routePaths }) => {
    for (const url of routePaths) {
      // Asked of the router rather than noted: Fastify adds some routes (`/docs/` beside `/docs`) unannounced.
      const served = fastify.supportedMethods.filter((method) => fastify.hasRoute({ method, url }));
      const missing = fastify.supportedMethods.filter((method) => !served.includes(method));
      if (missing.length === 0) continue;
      const allow = served.join(', ');
      fastify.route({
        method: missing,
        url,
        exposeHeadRoute: false,
        schema: { hide: true },
        config: { wrongMethod: true },
        // On arrival, so the refusal comes before any body is read.
        onRequest: async () => {
          throw new RequestRefusedError({
            statusCode: 405,
            code: 'method_not_allowed',
            message: `This path is served with ${allow} only`,
            headers: { allow },
          });
        },
        handler: async () => undefined,
      });
    }

    fastify.setNotFoundHandler((_request, reply) =>
      reply.code(404).send({
        statusCode: 404,
        error: 'Not Found',
        code: 'route_not_found',
        message: 'There is nothing at this path',
      }),
    );
  },
  { name: 'wrong-method-routes', fastify: '5.x' },
);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set on the 405 routes of wrong-routes.ts. */
    wrongMethod?: boolean;
  }
}

/**
 * WebSocket handshakes on routes that serve no WebSocket: 404 (`websocket_not_found`), with the usual error
 * body, quoting nothing of the URL.
 *
 * @fastify/websocket takes every upgrade Node's server hands over, on any path, and routes it through Fastify;
 * on a route without a WebSocket handler it upgrades the socket anyway (101) and then closes it, and the static
 * files' wildcard route matches every GET, so every path accepted a handshake (fuzzer finding #12). Refused here
 * instead, before the route sees it. A method the path does not serve keeps its 405 (wrong-routes.ts): there the
 * method is what is wrong.
 *
 * Needs @fastify/websocket registered before it (its onRequest hook sets `request.ws`), and must be registered
 * before the first route, so that its onRoute hook marks each WebSocket route.
 */
import fp from 'fastify-plugin';
import { RequestRefusedError } from './errors.ts';

export const upgradeGuard = fp(
  async (fastify) => {
    // Fastify's request knows its route's config, not its route options: note there which routes serve a socket.
    fastify.addHook('onRoute', (route) => {
      if (route.websocket === true || route.wsHandler !== undefined) {
        route.config = { ...route.config, websocketRoute: true };
      }
    });
    fastify.addHook('onRequest', async (request) => {
      const { config } = request.routeOptions;
      if (request.ws && config.websocketRoute !== true && config.wrongMethod !== true) {
        throw new RequestRefusedError({
          statusCode: 404,
          code: 'websocket_not_found',
          message: 'There is no WebSocket at this path',
        });
      }
    });
  },
  { name: 'upgrade-guard', fastify: '5.x', dependencies: ['@fastify/websocket'] },
);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set on the routes that serve a WebSocket. */
    websocketRoute?: boolean;
  }
}

/**
 * The front-end's process: builds the app, listens on PORT (default 3000), and shuts down gracefully on
 * SIGTERM/SIGINT (ECS stops a task with SIGTERM): it stops accepting connections, closes the event sockets,
 * lets requests in flight finish, then exits. Configuration: see plugins/config.ts.
 *
 * Run: `node --import tsx frontend-api/server.ts`
 */
import { buildApp } from './app.ts';
import { frontendLoggerOptions } from './logging.ts';
import { configFromEnv } from './plugins/config.ts';

/** How long a graceful shutdown may take before the process gives up on stragglers. */
const SHUTDOWN_GRACE_MS = 10_000;

const config = configFromEnv(process.env);
const app = await buildApp({
  config,
  fastify: {
    logger: frontendLoggerOptions({ level: process.env.LOG_LEVEL ?? 'info' }),
    // A request must arrive whole within 30 s (slow clients cannot hold a worker). Idle connections stay open
    // longer than the ALB's idle timeout (3600 s, for quiet WebSockets; infra/lib/constructs/frontend-service.ts),
    // so the ALB never reuses a connection this server has just closed (which it would answer with a 502).
    requestTimeout: 30_000,
    keepAliveTimeout: 3_605_000,
    connectionTimeout: 3_610_000,
    return503OnClosing: true,
    trustProxy: process.env.TRUST_PROXY === 'true',
  },
});

let shuttingDown = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (shuttingDown) return;
    shuttingDown = true;
    app.log.info({ signal }, 'shutting down');
    const forced = setTimeout(() => {
      app.log.error('graceful shutdown timed out');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    forced.unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}

await app.listen({ port: config.port, host: config.host });

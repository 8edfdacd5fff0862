/**
 * The whole system in this process, as the tests start it (embedded AWS in memory, the simulators, the task
 * Lambdas, the front-end on a free 127.0.0.1 port), with every front-end log line handed to the fuzzer as it
 * is written, at info level and through the front-end's own logger options (logging.ts), as `npm start` logs.
 *
 * @example
 * const system = await startSystemUnderFuzz();
 * const report = await runFuzz(system, { requests: 300, seed: 1, sockets: 50 });
 * await system.close();
 */
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { frontendLoggerOptions } from '../../frontend-api/logging.ts';
import { startLocalFrontEnd } from '../local-front-end.ts';
import { startPaymentSystem } from '../payment-system.ts';
import type { FuzzTarget } from './fuzzer.ts';
import type { OpenConnections } from './idle-sockets.ts';

/** The Origin the events socket allows here. */
export const ALLOWED_ORIGIN = 'http://127.0.0.1:3000';
/** High enough that no fuzz request meets the rate limit: the fuzzer probes the guards, not the limiter. */
const RATE_LIMIT_PER_MINUTE = 1_000_000;

export interface SystemUnderFuzz extends FuzzTarget {
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

export async function startSystemUnderFuzz(): Promise<SystemUnderFuzz> {
  const system = await startPaymentSystem({ port: 0, dataDir: null, simulatorsPort: 0, logLevel: 'SILENT' });
  const listeners = new Set<(line: string) => void>();
  let partial = '';
  const stream = {
    write(chunk: string) {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) for (const listener of listeners) listener(line);
    },
  };
  let app: FastifyInstance;
  try {
    ({ app } = await startLocalFrontEnd(system, {
      port: 0,
      allowedOrigins: [ALLOWED_ORIGIN],
      config: { rateLimitMax: RATE_LIMIT_PER_MINUTE },
      fastify: { logger: frontendLoggerOptions({ level: 'info', stream }) },
    }));
  } catch (error) {
    await system.close();
    throw error;
  }
  // Every connection, so that any the server fails to let go of (the fuzzer reports those) cannot hold up close.
  const connections = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    app,
    port,
    allowedOrigin: ALLOWED_ORIGIN,
    onLogLine(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    openConnections(): Promise<OpenConnections> {
      return new Promise((resolve, reject) =>
        app.server.getConnections((error, tcp) =>
          error ? reject(error) : resolve({ tcp, websockets: app.websocketServer.clients.size }),
        ),
      );
    },
    async close() {
      listeners.clear();
      for (const socket of connections) socket.destroy();
      try {
        await app.close();
      } finally {
        await system.close();
      }
    },
  };
}

/**
 * The customer front-end on a payment system whose embedded AWS runs in this process, as `npm start`, the chaos
 * run, the fuzzer and the end-to-end benchmark run it. The app reaches the embedded AWS only through its
 * endpoint, as it would reach AWS; what is local is that its event tail polls as soon as the embedded Data API
 * commits an event instead of waiting out its interval (on AWS it only polls; the poll stays the fallback).
 *
 * @example
 * const frontEnd = await startLocalFrontEnd(system, { port: 3000, fastify: { logger: false } });
 * // frontEnd.url === 'http://127.0.0.1:3000'
 */
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { buildApp } from '../frontend-api/app.ts';
import type { FrontendConfigInput } from '../frontend-api/plugins/config.ts';
import type { PaymentSystemWithProviders } from './payment-system.ts';

export interface LocalFrontEndOptions {
  /** 0 for any free port. */
  readonly port: number;
  /** Default: the front-end's own (frontend-api/plugins/config.ts). */
  readonly allowedOrigins?: readonly string[];
  /** The front-end settings beyond those the system gives (rate limit, poll interval). */
  readonly config?: Omit<FrontendConfigInput, 'awsEndpointUrl' | 'stateMachineArn' | 'database' | 'port'>;
  /** Whether a commit wakes the event tail (default true); off only to measure the poll alone. */
  readonly wakeOnCommit?: boolean;
  readonly fastify?: FastifyServerOptions;
}

export interface LocalFrontEnd {
  readonly app: FastifyInstance;
  readonly url: string;
}

export async function startLocalFrontEnd(
  system: PaymentSystemWithProviders,
  options: LocalFrontEndOptions,
): Promise<LocalFrontEnd> {
  const app = await buildApp({
    config: {
      ...options.config,
      awsEndpointUrl: system.aws.endpoint,
      stateMachineArn: system.stateMachineArn,
      database: system.database,
      port: options.port,
      ...(options.allowedOrigins === undefined ? {} : { allowedOrigins: [...options.allowedOrigins] }),
    },
    ...(options.fastify === undefined ? {} : { fastify: options.fastify }),
  });
  if (options.wakeOnCommit !== false) {
    const dataApi = await system.aws.dataApi();
    app.eventTail.setWake(() => dataApi.nextChangeTo('payment_events'));
  }
  await app.listen({ port: options.port, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('the front-end has no port');
  return { app, url: `http://127.0.0.1:${address.port}` };
}

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET } from '../database/testing/data-api.ts';
import { buildApp } from './app.ts';
import { frontendLoggerOptions, serializeRequest } from './logging.ts';
import {
  ALLOWED_ORIGIN,
  type FrontEndForTests,
  startFrontEndForTests,
} from './testing/embedded-front-end.ts';
import { TEST_CARD_DIGITS } from './testing/test-card.ts';

type WebSocket = Awaited<ReturnType<FastifyInstance['injectWS']>>;

const VALID = { meterId: '1600123456785', amountPence: 2000, paymentToken: 'tok_visa' };

let env: FrontEndForTests;

beforeAll(async () => {
  env = await startFrontEndForTests();
});

afterAll(async () => {
  await env.close();
});

/** An app on the test AWS whose log lines land in `lines`. */
async function appLoggingTo(logger: object): Promise<FastifyInstance> {
  return buildApp({
    config: {
      awsEndpointUrl: env.db.aws.endpoint,
      region: 'us-east-1',
      stateMachineArn: env.stateMachineArn,
      database: TARGET,
      allowedOrigins: [ALLOWED_ORIGIN],
      rateLimitMax: 10_000,
      eventPollIntervalMs: 50,
    },
    fastify: { logger },
  });
}

/** Makes the requests most likely to put a secret in a log line, and returns what was logged. */
async function logOfHostileSession(app: FastifyInstance, lines: string[]) {
  const accepted = await app.inject({
    method: 'POST',
    url: '/api/payments',
    headers: { 'idempotency-key': 'log-key-1' },
    payload: VALID,
  });
  const { paymentId, statusToken } = accepted.json();
  const socket: WebSocket = await app.injectWS(
    `/api/payments/${paymentId}/events?token=${encodeURIComponent(statusToken)}&after=0`,
    { headers: { origin: ALLOWED_ORIGIN } },
  );
  socket.terminate();
  const answers = [
    await app.inject({
      method: 'GET',
      url: `/api/payments/${paymentId}`,
      headers: { authorization: `Bearer ${statusToken}` },
    }),
    await app.inject({ method: 'GET', url: '/api/payments/4000056655665556' }),
    await app.inject({ method: 'GET', url: '/api/payments/4000%200566%205566%205556' }),
    await app.inject({
      method: 'GET',
      url: '/api/payments/%34%30%30%30%30%35%36%36%35%35%36%36%35%35%35%36',
    }),
    await app.inject({ method: 'GET', url: '/api/payments/4000056655665556%ZZ' }),
    await app.inject({ method: 'GET', url: `/api/payments/${paymentId}?card=4000056655665556` }),
    await app.inject({ method: 'GET', url: `/nowhere?token=${statusToken}` }),
    await app.inject({
      method: 'POST',
      url: '/api/payments',
      headers: { 'idempotency-key': '4000 0566 5566 5556' },
      payload: VALID,
    }),
    await app.inject({
      method: 'POST',
      url: '/api/payments',
      headers: { 'idempotency-key': 'log-key-2' },
      payload: { ...VALID, paymentToken: '4000.0566.5566.5556' },
    }),
  ];
  // Every request was answered before its log lines are read.
  expect(answers.map((answer) => answer.statusCode)).toEqual([200, 400, 400, 400, 400, 400, 404, 400, 400]);
  return { log: lines.join(''), statusToken: statusToken as string, paymentId: paymentId as string };
}

describe('request logs', () => {
  it('never hold a status token, a query string or card digits', async () => {
    // Prepare
    const lines: string[] = [];
    const app = await appLoggingTo(
      frontendLoggerOptions({ level: 'debug', stream: { write: (line: string) => lines.push(line) } }),
    );

    // Act
    const { log, statusToken, paymentId } = await logOfHostileSession(app, lines);
    await app.close();

    // Assess
    expect(log).not.toContain(statusToken);
    expect(log).not.toContain(encodeURIComponent(statusToken));
    expect(log).not.toContain('?');
    expect(log).not.toMatch(TEST_CARD_DIGITS);
    expect(log).toContain(`"url":"/api/payments/${paymentId}/events"`);
    expect(log).toContain('"url":"/api/payments/[card number]"');
    expect(log).toContain('"msg":"request refused"');
  });

  it('keep their serializers when the app is given plain logger options, as `npm start` once did', async () => {
    // Prepare
    const lines: string[] = [];
    const app = await appLoggingTo({ level: 'info', stream: { write: (line: string) => lines.push(line) } });

    // Act
    const { log, statusToken } = await logOfHostileSession(app, lines);
    await app.close();

    // Assess
    expect(log).toContain('incoming request');
    expect(log).not.toContain(statusToken);
    expect(log).not.toMatch(TEST_CARD_DIGITS);
  });

  it('keep the query string out of a logged path, as @fastify/websocket logs an upgrade to a path without a socket', async () => {
    // Prepare
    const lines: string[] = [];
    const app = await appLoggingTo(
      frontendLoggerOptions({ stream: { write: (line: string) => lines.push(line) } }),
    );

    // Act
    app.log.info({ path: '/health?token=a-status-token' }, 'closed incoming websocket connection');
    await app.close();

    // Assess
    expect(lines.join('')).toContain('"path":"/health"');
    expect(lines.join('')).not.toContain('a-status-token');
  });

  it('censor secret headers wherever a log line holds them', async () => {
    // Prepare
    const lines: string[] = [];
    const app = await appLoggingTo(
      frontendLoggerOptions({ stream: { write: (line: string) => lines.push(line) } }),
    );

    // Act
    app.log.info(
      { headers: { authorization: 'Bearer secret-1', 'idempotency-key': 'secret-2' }, token: 'secret-3' },
      'a careless line',
    );
    await app.close();

    // Assess
    expect(lines.join('')).toContain('a careless line');
    expect(lines.join('')).not.toMatch(/secret-\d/);
  });

  it.each([
    ['/api/payments/pay_1/events?token=abc&after=3', '/api/payments/pay_1/events'],
    ['/api/payments/4000-0566-5566-5556', '/api/payments/[card number]'],
    ['/api/payments/%34%30%30%30%30%35%36%36%35%35%36%36%35%35%35%36', '[card number]'],
    ['/health', '/health'],
  ])('show %s as %s', (url, logged) => {
    // Act
    const serialized = serializeRequest({ method: 'GET', url, ip: '127.0.0.1', host: 'localhost' });

    // Assess
    expect(serialized).toMatchObject({ method: 'GET', url: logged, remoteAddress: '127.0.0.1' });
  });
});

/**
 * WebSocket handshakes the front-end refuses, over real TCP connections: each gets its HTTP answer, and then the
 * server lets go of the connection (a refused handshake's socket is nobody's once Node hands it over as an
 * 'upgrade', so nothing else would ever close it). Fuzzer findings #8, #43 (sockets kept) and #12 (every path
 * upgraded).
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALLOWED_ORIGIN,
  type FrontEndForTests,
  startFrontEndForTests,
} from '../testing/embedded-front-end.ts';

/** How long a test waits for the server to close a connection before saying it did not. */
const CLOSE_WAIT_MS = 3_000;
const CARD_NUMBER = '4000056655665556';

let env: FrontEndForTests;
let app: FastifyInstance;
let payment: { paymentId: string; statusToken: string };

beforeAll(async () => {
  env = await startFrontEndForTests();
  // A listening app of its own, so that every connection it holds is one of these tests'.
  app = await env.buildAppOnIt();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const response = await app.inject({
    method: 'POST',
    url: '/api/payments',
    headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
    payload: JSON.stringify({ meterId: '9901000000017', amountPence: 2500, paymentToken: 'tok_visa' }),
  });
  payment = response.json();
});

afterAll(async () => {
  await env.close();
});

interface Handshake {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Whether the server closed the connection after answering (within {@link CLOSE_WAIT_MS}). */
  readonly closedByServer: boolean;
}

/** Sends a WebSocket handshake for `target` on a new connection and reads the answer. */
function handshake(
  server: FastifyInstance,
  target: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<Handshake> {
  const { port } = server.server.address() as AddressInfo;
  const headers = {
    Host: `127.0.0.1:${port}`,
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    Origin: ALLOWED_ORIGIN,
    ...options.headers,
  };
  const head = [
    `${options.method ?? 'GET'} ${target} HTTP/1.1`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ].join('\r\n');
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let received = Buffer.alloc(0);
    let answer: Omit<Handshake, 'closedByServer'> | undefined;
    let waitForClose: NodeJS.Timeout | undefined;
    const finish = (closedByServer: boolean) => {
      clearTimeout(waitForClose);
      socket.destroy();
      if (answer === undefined) reject(new Error('the connection closed without an answer'));
      else resolve({ ...answer, closedByServer });
    };
    socket.on('error', () => undefined);
    socket.on('close', () => finish(true));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (answer !== undefined) return;
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      const [statusLine = '', ...lines] = received.subarray(0, end).toString('latin1').split('\r\n');
      const answerHeaders = Object.fromEntries(
        lines.map((line) => [
          line.slice(0, line.indexOf(':')).toLowerCase(),
          line.slice(line.indexOf(':') + 1).trim(),
        ]),
      );
      const status = Number(statusLine.split(' ')[1]);
      const length = Number(answerHeaders['content-length'] ?? 0);
      if (status !== 101 && received.length < end + 4 + length) return;
      answer = {
        status,
        headers: answerHeaders,
        body: received.subarray(end + 4, end + 4 + length).toString('utf8'),
      };
      // Upgraded: nothing to wait for. Refused: the server should now let go of the connection on its own.
      if (status === 101) finish(false);
      else waitForClose = setTimeout(() => finish(false), CLOSE_WAIT_MS);
    });
    socket.write(`${head}\r\n\r\n`);
  });
}

function connectionsOf(server: FastifyInstance): Promise<number> {
  return new Promise((resolve, reject) =>
    server.server.getConnections((error, connections) => (error ? reject(error) : resolve(connections))),
  );
}

/**
 * How many more connections the server holds than `before`, once it has had a moment to count the ones just
 * closed (so that a connection one test leaves open does not fail the next).
 */
async function connectionsKept(server: FastifyInstance, before: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    if ((await connectionsOf(server)) <= before) return 0;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Math.max(0, (await connectionsOf(server)) - before);
}

describe('a handshake refused by a request guard', () => {
  it.each([
    ['a card number in the query', `?token=x&card=${CARD_NUMBER}`, {}, 400, 'card_data_refused'],
    [
      'a card number in a header',
      '?token=x',
      { 'Sec-WebSocket-Protocol': CARD_NUMBER },
      400,
      'card_data_refused',
    ],
    ['a Content-Encoding', '?token=x', { 'Content-Encoding': 'gzip' }, 415, 'content_encoding_not_supported'],
  ])(
    'with %s gets its answer, then the server closes the connection',
    async (_case, query, headers, status, code) => {
      // Prepare
      const before = await connectionsOf(app);

      // Act
      const answer = await handshake(app, `/api/payments/${payment.paymentId}/events${query}`, { headers });

      // Assess
      expect(answer.status).toBe(status);
      expect(JSON.parse(answer.body)).toMatchObject({ statusCode: status, code });
      expect(answer.body).not.toContain(CARD_NUMBER);
      expect(answer.closedByServer).toBe(true);
      expect(await connectionsKept(app, before)).toBe(0);
    },
  );

  it('to a URL the router cannot read gets its 400, then the server closes the connection', async () => {
    // Prepare
    const before = await connectionsOf(app);

    // Act
    const answer = await handshake(app, '/api/payments/%E0%A4%A/events?token=x');

    // Assess
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'invalid_url', field: 'path' });
    expect(answer.closedByServer).toBe(true);
    expect(await connectionsKept(app, before)).toBe(0);
  });
});

describe('a handshake to a path that serves no WebSocket', () => {
  it.each([
    ['GET', '/'],
    ['GET', '/index.html'],
    ['GET', '/nope'],
    ['GET', '/health'],
    ['GET', '/docs'],
    ['GET', '/api/payments/pay_x'],
    ['GET', '/api/payments/pay_x/events/more'],
    ['GET', '/api/events?token=secret-token'],
    // No route at all (GET has the static files' wildcard): Fastify's 404 handler.
    ['DELETE', '/nope'],
  ])('%s %s is refused with a 404 quoting nothing of the URL, then closed', async (method, target) => {
    // Prepare
    const before = await connectionsOf(app);

    // Act
    const answer = await handshake(app, target, { method });

    // Assess
    expect(answer.status).toBe(404);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(answer.body)).toEqual({
      statusCode: 404,
      error: 'Not Found',
      code: 'websocket_not_found',
      message: 'There is no WebSocket at this path',
    });
    expect(answer.body).not.toMatch(/nope|secret-token|pay_x/);
    expect(answer.closedByServer).toBe(true);
    expect(await connectionsKept(app, before)).toBe(0);
  });

  it.each([
    ['GET', '/api/payments', 'POST'],
    ['POST', `/api/payments/pay_x/events`, 'GET, HEAD'],
  ])(
    '%s %s, a method the path does not serve, is refused with its 405, then closed',
    async (method, target, allow) => {
      // Prepare
      const before = await connectionsOf(app);

      // Act
      const answer = await handshake(app, target, { method, headers: { 'Content-Length': '0' } });

      // Assess
      expect(answer.status).toBe(405);
      expect(answer.headers.allow).toBe(allow);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'method_not_allowed' });
      expect(answer.closedByServer).toBe(true);
      expect(await connectionsKept(app, before)).toBe(0);
    },
  );
});

describe('a handshake to the events socket', () => {
  it('is refused as an unknown payment without its token, then closed', async () => {
    // Prepare
    const before = await connectionsOf(app);

    // Act
    const answer = await handshake(app, `/api/payments/${payment.paymentId}/events?token=not-the-token`);

    // Assess
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'payment_not_found' });
    expect(answer.closedByServer).toBe(true);
    expect(await connectionsKept(app, before)).toBe(0);
  });

  it('is upgraded with the payment’s own token', async () => {
    // Act
    const answer = await handshake(
      app,
      `/api/payments/${payment.paymentId}/events?token=${encodeURIComponent(payment.statusToken)}`,
    );

    // Assess
    expect(answer.status).toBe(101);
  });

  it('is refused with a 404 when injectWS (as other tests open sockets) names a path that serves none', async () => {
    // Act
    const opening = app.injectWS('/api/payments/pay_x', { headers: { origin: ALLOWED_ORIGIN } });

    // Assess
    await expect(opening).rejects.toThrow('Unexpected server response: 404');
  });
});

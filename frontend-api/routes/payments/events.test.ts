import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALLOWED_ORIGIN,
  type FrontEndForTests,
  startFrontEndForTests,
} from '../../testing/embedded-front-end.ts';

type WebSocket = Awaited<ReturnType<FastifyInstance['injectWS']>>;

let env: FrontEndForTests;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  env = await startFrontEndForTests();
});

afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  await env.close();
});

async function newPayment(): Promise<{ paymentId: string; statusToken: string }> {
  const response = await env.app.inject({
    method: 'POST',
    url: '/api/payments',
    headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
    payload: JSON.stringify({ meterId: '9901000000017', amountPence: 2500, paymentToken: 'tok_visa' }),
  });
  return response.json();
}

interface Received {
  readonly socket: WebSocket;
  readonly events: Array<{ seq: number; type: string; at: string; [field: string]: unknown }>;
  /** Resolves once `count` events have arrived. */
  until(count: number): Promise<void>;
}

async function follow(
  app: FastifyInstance,
  paymentId: string,
  token: string,
  after = 0,
  origin = ALLOWED_ORIGIN,
): Promise<Received> {
  const events: Received['events'] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const socket = await app.injectWS(
    `/api/payments/${paymentId}/events?token=${encodeURIComponent(token)}&after=${after}`,
    {
      headers: { origin },
    },
  );
  sockets.push(socket);
  socket.on('message', (data: unknown) => {
    events.push(JSON.parse(String(data)));
    for (const waiter of waiters) if (events.length >= waiter.count) waiter.resolve();
  });
  return {
    socket,
    events,
    until: (count) =>
      events.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve })),
  };
}

describe('WebSocket /api/payments/{paymentId}/events', () => {
  it('sends the history after `after` in order, then live events', async () => {
    // Prepare
    const { paymentId, statusToken } = await newPayment();
    await env.appendEvent(paymentId, 'charged', { amountPence: 2500 });
    await env.appendEvent(paymentId, 'vend_requested', { meterId: '9901000000017', maxAttempts: 5 });

    // Act
    const received = await follow(env.app, paymentId, statusToken, 1);
    await received.until(2);
    await env.appendEvent(paymentId, 'vend_retrying', { attempt: 2, maxAttempts: 5 });
    await env.appendEvent(paymentId, 'vended', { utrn: '12345678901234567890', creditPence: 2500 });
    await received.until(4);

    // Assess
    expect(received.events.map((event) => event.seq)).toEqual([2, 3, 4, 5]);
    expect(received.events.map((event) => event.type)).toEqual([
      'charged',
      'vend_requested',
      'vend_retrying',
      'vended',
    ]);
    expect(received.events[2]).toMatchObject({ attempt: 2, maxAttempts: 5 });
    expect(received.events[3]).toMatchObject({
      utrn: '12345678901234567890',
      at: expect.stringMatching(/Z$/),
    });
  });

  it('resumes after a dropped socket with every missed event once, in order, from another instance', async () => {
    // Prepare
    const { paymentId, statusToken } = await newPayment();
    const first = await follow(env.app, paymentId, statusToken);
    await env.appendEvent(paymentId, 'charged', { amountPence: 2500 });
    await first.until(2);
    first.socket.terminate();
    await env.appendEvent(paymentId, 'vend_requested', { meterId: '9901000000017', maxAttempts: 5 });
    await env.appendEvent(paymentId, 'vend_retrying', { attempt: 2, maxAttempts: 5 });
    const otherInstance = await env.buildAppOnIt();

    // Act
    const lastSeen = first.events.at(-1)!.seq;
    const second = await follow(otherInstance, paymentId, statusToken, lastSeen);
    await second.until(2);
    await env.appendEvent(paymentId, 'vended', { utrn: '09876543210987654321', creditPence: 2500 });
    await second.until(3);

    // Assess
    const seen = [...first.events, ...second.events].map((event) => `${event.seq}:${event.type}`);
    expect(seen).toEqual(['1:accepted', '2:charged', '3:vend_requested', '4:vend_retrying', '5:vended']);
  });

  it('sends each subscriber only its own payment events', async () => {
    // Prepare
    const mine = await newPayment();
    const theirs = await newPayment();
    const received = await follow(env.app, mine.paymentId, mine.statusToken);
    await received.until(1);

    // Act
    await env.appendEvent(theirs.paymentId, 'charged', { amountPence: 2500 });
    await env.appendEvent(mine.paymentId, 'charge_declined', { reason: 'generic_decline' });
    await received.until(2);

    // Assess
    expect(received.events.map((event) => event.type)).toEqual(['accepted', 'charge_declined']);
  });

  it.each([
    ['a wrong token', 'wrong-token'],
    ['a missing token', ''],
  ])('refuses %s exactly as an unknown payment', async (_case, token) => {
    // Prepare
    const { paymentId } = await newPayment();

    // Act
    const wrong = follow(env.app, paymentId, token);
    const unknown = follow(env.app, 'pay_unknown', token);

    // Assess
    await expect(wrong).rejects.toThrow('Unexpected server response: 404');
    await expect(unknown).rejects.toThrow('Unexpected server response: 404');
  });

  it('refuses an Origin outside the allowlist', async () => {
    // Prepare
    const { paymentId, statusToken } = await newPayment();

    // Act
    const attempt = follow(env.app, paymentId, statusToken, 0, 'https://evil.example');

    // Assess
    await expect(attempt).rejects.toThrow('Unexpected server response: 403');
  });
});

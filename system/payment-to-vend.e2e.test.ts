/**
 * The whole system as a customer meets it: HTTP and WebSocket against the front-end, in front of the
 * embedded AWS running the CDK-synthesized PaymentToVend machine, the real task Lambdas, the simulators and
 * the migrated database. Every scenario the contracts promise, end to end.
 *
 * The scenarios run side by side (`describe.concurrent`), as customers do: each is a payment of its own, and a
 * meter whose simulated vendor misbehaves serves one scenario only.
 */
import { randomUUID } from 'node:crypto';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { migratedSnapshot } from '../database/testing/migrated-snapshot.ts';
import { buildApp } from '../frontend-api/app.ts';
import { testMpan } from '../simulators/mpan.ts';
import { synthesizeLocalDefinition } from '../workflow/local-definition.ts';
import { type PaymentSystem, startPaymentSystem } from './payment-system.ts';
import { FollowUpQueues } from './testing/follow-up-queues.ts';

const MAX_VEND_ATTEMPTS = 3;
const ORIGIN = 'http://127.0.0.1';

let system: PaymentSystem;
let app: FastifyInstance;
let baseUrl: string;
let sqs: SQSClient;
let followUps: FollowUpQueues;

beforeAll(async () => {
  system = await startPaymentSystem({
    port: 0,
    databaseSnapshot: await migratedSnapshot(),
    dataDir: null,
    simulatorsPort: 0,
    logLevel: 'SILENT',
    definition: synthesizeLocalDefinition({
      props: {
        maxVendAttempts: MAX_VEND_ATTEMPTS,
        vendRetryIntervalSeconds: 1,
        vendBackoffRate: 1,
        vendMaxDelaySeconds: 1,
        chargeRetryIntervalSeconds: 1,
      },
    }),
  });
  app = await buildApp({
    config: {
      awsEndpointUrl: system.aws.endpoint,
      stateMachineArn: system.stateMachineArn,
      database: system.database,
      allowedOrigins: [ORIGIN],
      rateLimitMax: 10_000,
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  sqs = new SQSClient({
    endpoint: system.aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  followUps = new FollowUpQueues(sqs, system.queueUrls);
}, 90_000);

afterAll(async () => {
  sqs?.destroy();
  await app?.close();
  await system?.close();
});

interface Accepted {
  readonly paymentId: string;
  readonly statusToken: string;
  readonly eventsUrl: string;
}

interface PaymentEvent {
  readonly seq: number;
  readonly type: string;
  readonly [field: string]: unknown;
}

function newKey(): string {
  // A UUID, not a counter and a timestamp: a run of digits that passes the Luhn check is refused as a card.
  return `e2e-${randomUUID()}`;
}

/** `key: null` sends no Idempotency-Key. */
async function post(body: unknown, key: string | null = newKey()) {
  const response = await fetch(`${baseUrl}/api/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === null ? {} : { 'Idempotency-Key': key }) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function topUp(meterId: string, paymentToken = 'tok_visa', amountPence = 2000): Promise<Accepted> {
  const { status, body } = await post({ meterId, amountPence, paymentToken });
  expect(status).toBe(202);
  return body as unknown as Accepted;
}

const FINAL = new Set(['vended', 'vend_failed', 'charge_declined', 'charge_unconfirmed']);

/** Follows a payment's events over the WebSocket until a final one (or `until`), from `after`. */
function follow(
  accepted: Accepted,
  options: { after?: number; until?: (event: PaymentEvent) => boolean } = {},
): Promise<PaymentEvent[]> {
  const until = options.until ?? ((event: PaymentEvent) => FINAL.has(event.type));
  const url = `${baseUrl.replace('http', 'ws')}${accepted.eventsUrl}${options.after === undefined ? '' : `&after=${options.after}`}`;
  return new Promise((resolve, reject) => {
    const events: PaymentEvent[] = [];
    const socket = new WebSocket(url, { origin: ORIGIN });
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no final event; saw ${events.map((event) => event.type).join(', ')}`));
    }, 30_000);
    socket.on('message', (data) => {
      const event = JSON.parse(String(data)) as PaymentEvent;
      events.push(event);
      if (until(event)) {
        clearTimeout(timer);
        socket.close();
        resolve(events);
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function types(events: readonly PaymentEvent[]): string[] {
  return events.map((event) => event.type);
}

/** The payment as GET /api/payments/{paymentId} shows it. */
async function statusOf(accepted: Accepted): Promise<{ status: string; events: PaymentEvent[] }> {
  const response = await fetch(`${baseUrl}/api/payments/${accepted.paymentId}`, {
    headers: { authorization: `Bearer ${accepted.statusToken}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { status: string; events: PaymentEvent[] };
}

/** The on-call alerts about one payment. */
function alertsAbout(accepted: Accepted) {
  return system.aws.sns
    .published(system.onCallTopicArn)
    .filter((alert) => alert.message.includes(accepted.paymentId));
}

describe.concurrent('a customer tops up a meter', () => {
  it('is charged and the meter credited: accepted, charged, vend_requested, vended with a 20-digit UTRN', async () => {
    // Act
    const accepted = await topUp(testMpan('00'));
    const events = await follow(accepted);

    // Assess
    expect(types(events)).toEqual(['accepted', 'charged', 'vend_requested', 'vended']);
    expect(events.map((event) => event.seq)).toEqual([1, 2, 3, 4]);
    expect(events.at(-1)?.utrn).toMatch(/^\d{20}$/);
    expect((await statusOf(accepted)).status).toBe('vended');
  });

  it('is told of a decline, and the PaymentFailure queue gets the reason', async () => {
    // Act
    const accepted = await topUp(testMpan('00', 2), 'tok_insufficientFunds');
    const events = await follow(accepted);

    // Assess
    expect(types(events)).toEqual(['accepted', 'charge_declined']);
    const failures = await followUps.of('PaymentFailure', accepted.paymentId);
    expect(failures).toHaveLength(1);
    expect(JSON.stringify(failures[0])).toContain('insufficient_funds');
  });

  it('is charged once through a gateway outage that recovers', async () => {
    // Act
    const accepted = await topUp(testMpan('00', 3), 'tok_gatewayOutage');
    const events = await follow(accepted);

    // Assess
    expect(types(events)).toEqual(['accepted', 'charged', 'vend_requested', 'vended']);
    expect(system.simulators.gateway.chargeCount(accepted.paymentId)).toBe(1);
  });

  it('is told the payment is unconfirmed (not declined) when the gateway never answers; reconciliation and on-call hear once', async () => {
    // Act
    const accepted = await topUp(testMpan('00', 4), 'tok_gatewayDown');
    const events = await follow(accepted);

    // Assess
    expect(types(events)).toEqual(['accepted', 'charge_unconfirmed']);
    expect((await statusOf(accepted)).status).toBe('charge_unconfirmed');
    const failures = await followUps.of('PaymentFailure', accepted.paymentId);
    expect(failures).toEqual([
      expect.objectContaining({
        reason: 'charge_unconfirmed',
        failure: expect.objectContaining({ Error: 'PaymentGatewayUnavailable' }),
      }),
    ]);
    expect(alertsAbout(accepted)).toHaveLength(1);
    expect(system.simulators.gateway.chargeCount(accepted.paymentId)).toBe(0);
  }, 30_000);

  it('is vended, with nobody paged, when the gateway took the money but every answer was lost', async () => {
    // Act
    const accepted = await topUp(testMpan('00', 6), 'tok_answerLost');
    const events = await follow(accepted);

    // Assess: ConfirmCharge found the charge by the payment's reference
    expect(types(events)).toEqual(['accepted', 'charged', 'vend_requested', 'vended']);
    expect((await statusOf(accepted)).status).toBe('vended');
    expect(system.simulators.gateway.chargeCount(accepted.paymentId)).toBe(1);
    expect(alertsAbout(accepted)).toEqual([]);
    expect(await followUps.of('PaymentFailure', accepted.paymentId)).toEqual([]);
  }, 30_000);

  it.each(['tok_bogus', 'tok_💳'])(
    'is declined, with nobody paged, for a token the gateway does not know (%s)',
    async (paymentToken) => {
      // Act
      const accepted = await topUp(testMpan('00', 5), paymentToken);
      const events = await follow(accepted);

      // Assess
      expect(types(events)).toEqual(['accepted', 'charge_declined']);
      expect(events.at(-1)?.reason).toBe('invalid_payment_token');
      expect(await statusOf(accepted)).toMatchObject({ status: 'charge_declined' });
      expect(alertsAbout(accepted)).toEqual([]);
      expect(await followUps.of('PaymentFailure', accepted.paymentId)).toEqual([
        expect.objectContaining({ reason: 'invalid_payment_token' }),
      ]);
    },
    30_000,
  );

  it('sees both retries when the vendor fails twice, then the credit', async () => {
    // Act
    const accepted = await topUp(testMpan('01'));
    const events = await follow(accepted);

    // Assess
    expect(types(events)).toEqual([
      'accepted',
      'charged',
      'vend_requested',
      'vend_retrying',
      'vend_retrying',
      'vended',
    ]);
    expect(events.filter((event) => event.type === 'vend_retrying').map((event) => event.attempt)).toEqual([
      2, 3,
    ]);
    expect(system.simulators.vendor.vendCount(accepted.paymentId)).toBe(1);
  }, 30_000);

  it('is told when the vendor stays down; VendingFailure and on-call each hear once', async () => {
    // Act
    const accepted = await topUp(testMpan('02'));
    const events = await follow(accepted);

    // Assess
    expect(types(events).at(-1)).toBe('vend_failed');
    expect(types(events).filter((type) => type === 'vend_failed')).toHaveLength(1);
    expect(await followUps.of('VendingFailure', accepted.paymentId)).toHaveLength(1);
    expect(alertsAbout(accepted)).toHaveLength(1);
    expect((await statusOf(accepted)).status).toBe('vend_failed');
  }, 30_000);

  it('is told at once when the meter rejects the UTRN: no retry', async () => {
    // Act
    const accepted = await topUp(testMpan('03'));
    const events = await follow(accepted);

    // Assess
    expect(types(events)).toEqual(['accepted', 'charged', 'vend_requested', 'vend_failed']);
    // The customer's page words each rejection by its code.
    expect(events.at(-1)).toMatchObject({ reason: 'VendRejected', rejectionCode: 'NOT_FOR_THIS_DEVICE' });
    expect((await statusOf(accepted)).status).toBe('vend_failed');
    expect(system.simulators.vendor.attemptCount(accepted.paymentId)).toBe(1);
  });
});

describe.concurrent('idempotency and refusals', () => {
  it('charges and vends once for the same key posted concurrently and again later, answering the same each time', async () => {
    // Prepare
    const key = newKey();
    const body = { meterId: testMpan('00', 4), amountPence: 1500, paymentToken: 'tok_visa' };

    // Act
    const concurrent = await Promise.all([post(body, key), post(body, key), post(body, key)]);
    const first = concurrent.find((answer) => answer.status === 202)!.body as unknown as Accepted;
    await follow(first);
    const later = await post(body, key);

    // Assess
    for (const answer of [...concurrent, later]) {
      expect(answer.status).toBe(202);
      expect(answer.body).toEqual(first);
    }
    expect(system.simulators.gateway.chargeCount(first.paymentId)).toBe(1);
    expect(system.simulators.vendor.vendCount(first.paymentId)).toBe(1);
  });

  it('refuses the same key with another body: 422', async () => {
    // Prepare
    const key = newKey();
    await post({ meterId: testMpan('00', 5), amountPence: 1500, paymentToken: 'tok_visa' }, key);

    // Act
    const changed = await post(
      { meterId: testMpan('00', 5), amountPence: 1600, paymentToken: 'tok_visa' },
      key,
    );

    // Assess
    expect(changed.status).toBe(422);
  });

  it.each([
    [
      'no Idempotency-Key',
      { meterId: testMpan('00', 6), amountPence: 1500, paymentToken: 'tok_visa' },
      undefined,
      'Idempotency-Key',
    ],
    [
      'a bad meter',
      { meterId: '1234567890123', amountPence: 1500, paymentToken: 'tok_visa' },
      'key',
      'meterId',
    ],
    [
      'an amount in pounds',
      { meterId: testMpan('00', 6), amountPence: 15.5, paymentToken: 'tok_visa' },
      'key',
      'amountPence',
    ],
    ['no token', { meterId: testMpan('00', 6), amountPence: 1500 }, 'key', 'paymentToken'],
  ])('answers 400 naming the field for %s', async (_, body, key, field) => {
    // Act
    const answer = await post(body, key === undefined ? null : newKey());

    // Assess
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body)).toContain(field);
  });

  it("refuses another payment's token exactly as an unknown payment", async () => {
    // Prepare
    const mine = await topUp(testMpan('00', 7));
    const theirs = await topUp(testMpan('00', 8));

    // Act
    const withTheirToken = await fetch(`${baseUrl}/api/payments/${mine.paymentId}`, {
      headers: { authorization: `Bearer ${theirs.statusToken}` },
    });
    const unknown = await fetch(`${baseUrl}/api/payments/pay_unknown`, {
      headers: { authorization: `Bearer ${theirs.statusToken}` },
    });

    // Assess
    expect(withTheirToken.status).toBe(unknown.status);
    expect(await withTheirToken.json()).toEqual(await unknown.json());
  });
});

describe.concurrent('a dropped socket', () => {
  it('resumes with after=<last seq>: every missed event once, in order', async () => {
    // Prepare: watch until the charge, then drop the socket
    const accepted = await topUp(testMpan('01', 2));
    const before = await follow(accepted, { until: (event) => event.type === 'charged' });

    // Act
    const after = await follow(accepted, { after: before.at(-1)!.seq });

    // Assess
    const all = [...before, ...after];
    expect(all.map((event) => event.seq)).toEqual(all.map((_, index) => index + 1));
    expect(types(all)).toEqual([
      'accepted',
      'charged',
      'vend_requested',
      'vend_retrying',
      'vend_retrying',
      'vended',
    ]);
  }, 30_000);
});

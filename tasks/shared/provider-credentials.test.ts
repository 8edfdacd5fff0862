/** The providers' API keys: read from the secret as stored, cached by Powertools, and sent as a bearer token. */
import { describe, expect, it } from 'vitest';
import { HttpPaymentGateway } from './payment-gateway/client.ts';
import { apiKeyFromSecret } from './provider-credentials.ts';
import { HttpVendingVendor } from './vending-vendor/client.ts';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-2:555555555555:secret:payment-gateway-AbCdEf';

describe('apiKeyFromSecret', () => {
  it.each([
    ['a plain key', 'sk_live_plain'],
    ['JSON with an apiKey field', '{"apiKey":"sk_live_json","issuedAt":"2026-11-01"}'],
  ])('reads %s', async (_kind, stored) => {
    // Act
    const key = await apiKeyFromSecret(SECRET_ARN, async () => stored)();

    // Assess
    expect(key).toMatch(/^sk_live_/);
  });

  it('sends no key when no secret is configured (local runs)', async () => {
    // Act
    const key = await apiKeyFromSecret(undefined, async () => 'never read')();

    // Assess
    expect(key).toBeUndefined();
  });

  it.each([
    ['an empty secret', ''],
    ['JSON without an apiKey', '{"key":"sk_live_x"}'],
  ])('refuses %s, naming the secret', async (_kind, stored) => {
    // Act
    const failure = await apiKeyFromSecret(SECRET_ARN, async () => stored)().catch((error: Error) => error);

    // Assess
    expect((failure as Error).message).toContain(SECRET_ARN);
  });
});

describe('the provider clients', () => {
  function recordingFetch(answer: unknown) {
    const sent: Headers[] = [];
    const fetchStub = (async (_url: string | URL | Request, init?: RequestInit) => {
      sent.push(new Headers(init?.headers));
      return new Response(JSON.stringify(answer), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    }) as typeof fetch;
    return { sent, fetchStub };
  }

  it('present the key to the payment gateway as a bearer token', async () => {
    // Prepare
    const { sent, fetchStub } = recordingFetch({ id: 'ch_1', status: 'succeeded' });
    const gateway = new HttpPaymentGateway({
      baseUrl: 'https://gateway.example.com',
      timeoutMs: 1000,
      apiKey: async () => 'sk_live_gateway',
      fetch: fetchStub,
    });

    // Act
    await gateway
      .charge({ idempotencyKey: 'pay_1', amountPence: 2000, paymentToken: 'tok_visa', reference: 'pay_1' })
      .catch(() => undefined);

    // Assess
    expect(sent[0]?.get('authorization')).toBe('Bearer sk_live_gateway');
    expect(sent[0]?.get('idempotency-key')).toBe('pay_1');
  });

  it('present the key to the vending vendor as a bearer token', async () => {
    // Prepare
    const { sent, fetchStub } = recordingFetch({});
    const vendor = new HttpVendingVendor({
      baseUrl: 'https://vendor.example.com',
      timeoutMs: 1000,
      apiKey: async () => 'vk_live_vendor',
      fetch: fetchStub,
    });

    // Act
    await vendor
      .vend({ transactionId: 'pay_1', meterId: '2000012345678', amountPence: 2000 })
      .catch(() => undefined);

    // Assess
    expect(sent[0]?.get('authorization')).toBe('Bearer vk_live_vendor');
  });
});

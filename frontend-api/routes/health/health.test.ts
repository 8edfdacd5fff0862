import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../app.ts';

// Nothing here reaches AWS, so the ARNs need not exist.
let app: FastifyInstance;

beforeAll(async () => {
  app = await buildApp({
    config: {
      awsEndpointUrl: 'http://127.0.0.1:9',
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:PaymentToVend',
      database: {
        resourceArn: 'arn:aws:rds:us-east-1:000000000000:cluster:payments',
        secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:payments',
      },
    },
  });
});

afterAll(async () => {
  await app.close();
});

describe('the front-end outside the payments API', () => {
  it('answers GET /health', async () => {
    // Act
    const response = await app.inject({ method: 'GET', url: '/health' });

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('serves the OpenAPI document and its UI at /docs', async () => {
    // Act
    const ui = await app.inject({ method: 'GET', url: '/docs/' });
    const document = await app.inject({ method: 'GET', url: '/docs/json' });

    // Assess
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toContain('text/html');
    const openapi = document.json() as { openapi: string; paths: Record<string, object> };
    expect(openapi.openapi).toMatch(/^3\./);
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/api/payments', '/api/payments/{paymentId}', '/health']),
    );
  });

  it('serves the customer page and its script at /', async () => {
    // Act
    const page = await app.inject({ method: 'GET', url: '/' });
    const script = await app.inject({ method: 'GET', url: '/app.js' });

    // Assess
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<form id="top-up"');
    expect(page.body).toContain('tok_visa');
    expect(script.statusCode).toBe(200);
    expect(script.body).toContain('new WebSocket');
  });

  it('refuses a body above the size limit without echoing it', async () => {
    // Act
    const response = await app.inject({
      method: 'POST',
      url: '/api/payments',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'big' },
      payload: JSON.stringify({ meterId: 'x'.repeat(20_000) }),
    });

    // Assess
    expect(response.statusCode).toBe(413);
    expect(response.body).not.toContain('xxxx');
  });
});

/**
 * The Invoke REST route through the real `@aws-sdk/client-lambda` (and raw HTTP for the exact wire
 * format), on a server made with `createAwsServer`.
 */
import type { AddressInfo } from 'node:net';
import {
  InvalidRequestContentException,
  InvokeCommand,
  LambdaClient,
  RequestTooLargeException,
  ResourceNotFoundException,
} from '@aws-sdk/client-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAwsServer } from '../../aws/server.ts';
import { packagePath } from '../../testing/package-path.ts';
import { lambdaRoutes } from '../invoke-route.ts';
import { LambdaRunner } from '../lambda-runner.ts';

const HANDLERS = packagePath('lambda/fixtures/handlers.ts');

interface Harness {
  readonly endpoint: string;
  readonly client: LambdaClient;
  readonly runner: LambdaRunner;
  close(): Promise<void>;
}

let harness: Harness;

beforeEach(async () => {
  const runner = new LambdaRunner({ region: 'us-east-1', accountId: '000000000000' });
  runner.register({ name: 'echo', handler: `${HANDLERS}#echo` });
  runner.register({ name: 'pay', handler: `${HANDLERS}#fail` });
  const server = createAwsServer({ services: [], routes: lambdaRoutes(runner), accountId: '000000000000' });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new LambdaClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  harness = {
    endpoint,
    client,
    runner,
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await runner.close();
    },
  };
});

afterEach(async () => {
  await harness.close();
});

const json = (bytes: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(bytes)) as unknown;

describe('Invoke (POST /2015-03-31/functions/{FunctionName}/invocations)', () => {
  it('answers a synchronous invocation with the function response and the executed version', async () => {
    // Act
    const output = await harness.client.send(
      new InvokeCommand({
        FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:echo',
        Payload: JSON.stringify({ meter: 'M-1' }),
        ClientContext: Buffer.from(JSON.stringify({ custom: { app: 'web' } })).toString('base64'),
      }),
    );

    // Assess
    expect(output.StatusCode).toBe(200);
    expect(output.ExecutedVersion).toBe('$LATEST');
    expect(output.FunctionError).toBeUndefined();
    expect(json(output.Payload)).toMatchObject({ event: { meter: 'M-1' }, functionName: 'echo' });
  });

  it('passes a function error through as 200 with X-Amz-Function-Error and the error payload', async () => {
    // Act
    const output = await harness.client.send(
      new InvokeCommand({ FunctionName: 'pay', Payload: JSON.stringify({ message: 'no funds' }) }),
    );

    // Assess
    expect(output.StatusCode).toBe(200);
    expect(output.FunctionError).toBe('Unhandled');
    expect(json(output.Payload)).toMatchObject({ errorType: 'PaymentDeclined', errorMessage: 'no funds' });
  });

  it('accepts an Event invocation with 202 and a DryRun with 204, both without a body', async () => {
    // Act
    const event = await harness.client.send(
      new InvokeCommand({ FunctionName: 'echo', InvocationType: 'Event', Payload: '{}' }),
    );
    const dryRun = await harness.client.send(
      new InvokeCommand({ FunctionName: 'echo', InvocationType: 'DryRun' }),
    );
    await harness.runner.idle();

    // Assess
    expect(event.StatusCode).toBe(202);
    expect(event.Payload?.length ?? 0).toBe(0);
    expect(dryRun.StatusCode).toBe(204);
  });

  it('gives the SDK its modelled exceptions for an unknown function, a bad payload and an oversized event', async () => {
    // Act
    const unknown = await harness.client
      .send(new InvokeCommand({ FunctionName: 'nope' }))
      .catch((error: unknown) => error);
    const badJson = await harness.client
      .send(new InvokeCommand({ FunctionName: 'echo', Payload: '{"meter":' }))
      .catch((error: unknown) => error);
    const tooLarge = await harness.client
      .send(
        new InvokeCommand({
          FunctionName: 'echo',
          InvocationType: 'Event',
          Payload: JSON.stringify('x'.repeat(1024 * 1024)),
        }),
      )
      .catch((error: unknown) => error);

    // Assess
    expect(unknown).toBeInstanceOf(ResourceNotFoundException);
    expect((unknown as ResourceNotFoundException).$metadata.httpStatusCode).toBe(404);
    expect((unknown as ResourceNotFoundException).message).toBe(
      'Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope',
    );
    expect((unknown as ResourceNotFoundException).Type).toBe('User');
    expect(badJson).toBeInstanceOf(InvalidRequestContentException);
    expect((badJson as Error).message).toMatch(/^Could not parse request body into json: /);
    expect(tooLarge).toBeInstanceOf(RequestTooLargeException);
    expect((tooLarge as RequestTooLargeException).$metadata.httpStatusCode).toBe(413);
  });

  it('speaks the documented wire format: any JSON value as the event, headers on the answer', async () => {
    // Act
    const response = await fetch(
      `${harness.endpoint}/2015-03-31/functions/${encodeURIComponent('000000000000:function:pay')}/invocations?Qualifier=%24LATEST`,
      { method: 'POST', body: '"just a string"', headers: { 'X-Amz-Invocation-Type': 'RequestResponse' } },
    );
    const badType = await fetch(`${harness.endpoint}/2015-03-31/functions/echo/invocations`, {
      method: 'POST',
      body: '{}',
      headers: { 'X-Amz-Invocation-Type': 'Later' },
    });

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(response.headers.get('x-amz-executed-version')).toBe('$LATEST');
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toMatchObject({
      errorType: 'PaymentDeclined',
      errorMessage: 'card declined',
    });
    expect(badType.status).toBe(400);
    expect(badType.headers.get('x-amzn-errortype')).toBe('ValidationException');
    expect(await badType.json()).toMatchObject({ Type: 'User' });
  });
});

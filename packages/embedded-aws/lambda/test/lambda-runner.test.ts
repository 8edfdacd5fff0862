/**
 * The in-process runner, as a caller of `LambdaRunner.invoke` sees it: the handler's event, context and
 * environment; Lambda's error payloads for thrown errors, timeouts and broken modules; Lambda's API errors
 * for names it cannot resolve.
 */
import { describe, expect, it } from 'vitest';
import { AwsError } from '../../aws/errors.ts';
import { packagePath } from '../../testing/package-path.ts';
import { LambdaRunner } from '../lambda-runner.ts';

const HANDLERS = packagePath('lambda/fixtures/handlers.ts');

function runnerWith(...names: [string, string, Record<string, string>?, number?][]): LambdaRunner {
  const runner = new LambdaRunner({ region: 'eu-west-2', accountId: '123456789012' });
  for (const [name, exportName, environment, timeoutSeconds] of names) {
    runner.register({
      name,
      handler: `${HANDLERS}#${exportName}`,
      ...(environment ? { environment } : {}),
      ...(timeoutSeconds ? { timeoutSeconds } : {}),
      memoryMb: 256,
    });
  }
  return runner;
}

async function apiError(promise: Promise<unknown>): Promise<AwsError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(AwsError);
  return error as AwsError;
}

describe('LambdaRunner.invoke', () => {
  it('gives the handler the event, a Lambda context and its own environment', async () => {
    // Prepare
    const runner = runnerWith(['echo', 'echo', { GREETING: 'hello' }]);

    // Act
    const result = await runner.invoke('echo', { amount: 10 });

    // Assess
    expect(result).toMatchObject({ statusCode: 200, executedVersion: '$LATEST' });
    expect(result.functionError).toBeUndefined();
    const payload = result.payload as Record<string, unknown>;
    expect(payload).toMatchObject({
      event: { amount: 10 },
      functionName: 'echo',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-2:123456789012:function:echo',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/echo',
      callbackWaitsForEmptyEventLoop: true,
      greeting: 'hello',
      seenAtInit: 'hello',
      region: 'eu-west-2',
      lambdaName: 'echo',
    });
    expect(payload.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(payload.remaining).toBeGreaterThan(0);
    expect(payload.remaining).toBeLessThanOrEqual(3000);
    expect(process.env.GREETING).toBeUndefined();
  });

  it('keeps each function to its own variables while their invocations overlap', async () => {
    // Prepare
    const runner = runnerWith(
      ['a', 'slowGreeting', { GREETING: 'from a' }],
      ['b', 'slowGreeting', { GREETING: 'from b' }],
    );

    // Act
    const [a, b] = await Promise.all([
      runner.invoke('a', { delayMs: 30 }),
      runner.invoke('b', { delayMs: 10 }),
    ]);

    // Assess
    expect(a.payload).toEqual({ before: 'from a', after: 'from a' });
    expect(b.payload).toEqual({ before: 'from b', after: 'from b' });
  });

  it('loads a module once per function: later invocations are warm', async () => {
    // Prepare
    const runner = runnerWith(['echo', 'echo']);
    const first = (await runner.invoke('echo', {})).payload as { logStreamName: string };

    // Act
    const second = (await runner.invoke('echo', {})).payload as {
      logStreamName: string;
      initialisations: number;
    };

    // Assess
    expect(second.initialisations).toBe(1);
    expect(second.logStreamName).toBe(first.logStreamName);
  });

  it('accepts the function by name, name:$LATEST, partial ARN and ARN', async () => {
    // Prepare
    const runner = runnerWith(['echo', 'echo']);
    const names = [
      'echo',
      'echo:$LATEST',
      '123456789012:function:echo',
      'arn:aws:lambda:eu-west-2:123456789012:function:echo',
      'arn:aws:lambda:eu-west-2:123456789012:function:echo:$LATEST',
    ];

    // Act
    const results = await Promise.all(names.map((name) => runner.invoke(name, {})));

    // Assess
    expect(
      results.map((result) => (result.payload as { invokedFunctionArn: string }).invokedFunctionArn),
    ).toEqual([
      'arn:aws:lambda:eu-west-2:123456789012:function:echo',
      'arn:aws:lambda:eu-west-2:123456789012:function:echo:$LATEST',
      'arn:aws:lambda:eu-west-2:123456789012:function:echo',
      'arn:aws:lambda:eu-west-2:123456789012:function:echo',
      'arn:aws:lambda:eu-west-2:123456789012:function:echo:$LATEST',
    ]);
  });

  it("turns a thrown error into Lambda's error payload with functionError Unhandled", async () => {
    // Prepare
    const runner = runnerWith(['pay', 'fail']);

    // Act
    const result = await runner.invoke('pay', { message: 'insufficient funds' });

    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.functionError).toBe('Unhandled');
    const payload = result.payload as { errorType: string; errorMessage: string; trace: string[] };
    expect(payload.errorType).toBe('PaymentDeclined');
    expect(payload.errorMessage).toBe('insufficient funds');
    expect(payload.trace[0]).toBe('PaymentDeclined: insufficient funds');
  });

  it('answers a handler still running at its timeout with Sandbox.Timedout, then starts a fresh environment', async () => {
    // Prepare
    const runner = runnerWith(['slow', 'sleepy', undefined, 1]);
    const before = (await runner.invoke('slow', { ms: 0 })).payload as { logStreamName: string };

    // Act
    const result = await runner.invoke('slow', { ms: 1500 });
    const after = (await runner.invoke('slow', { ms: 0 })).payload as { logStreamName: string };

    // Assess
    expect(after.logStreamName).not.toBe(before.logStreamName);
    expect(result.functionError).toBe('Unhandled');
    const payload = result.payload as { errorType: string; errorMessage: string };
    expect(payload.errorType).toBe('Sandbox.Timedout');
    expect(payload.errorMessage).toMatch(
      /^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$/,
    );
  });

  it('reports a missing export, a missing module, undefined and callback results as the Node.js runtime does', async () => {
    // Prepare
    const runner = runnerWith(
      ['not-a-handler', 'notAHandler'],
      ['nothing', 'nothing'],
      ['callback', 'callback'],
    );
    runner.register({ name: 'missing', handler: `${packagePath('lambda/fixtures/nope.ts')}#handler` });

    // Act
    const notAHandler = await runner.invoke('not-a-handler', {});
    const missing = await runner.invoke('missing', {});
    const nothing = await runner.invoke('nothing', {});
    const callback = await runner.invoke('callback', { value: 21 });

    // Assess
    expect(notAHandler.functionError).toBe('Unhandled');
    expect(notAHandler.payload).toMatchObject({
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: packagePath('lambda/fixtures/handlers.ts.notAHandler is undefined or not exported'),
    });
    expect(missing.functionError).toBe('Unhandled');
    expect((missing.payload as { errorType: string }).errorType).toBe('Runtime.ImportModuleError');
    expect(nothing).toMatchObject({ statusCode: 200, payload: null });
    expect(nothing.functionError).toBeUndefined();
    expect(callback.payload).toEqual({ doubled: 42 });
  });

  it("refuses names it cannot resolve with Lambda's API errors", async () => {
    // Prepare
    const runner = runnerWith(['echo', 'echo']);

    // Act
    const unknown = await apiError(runner.invoke('nope', {}));
    const version = await apiError(runner.invoke('echo:7', {}));
    const otherRegion = await apiError(
      runner.invoke('arn:aws:lambda:us-east-1:123456789012:function:echo', {}),
    );
    const malformed = await apiError(runner.invoke('not a name', {}));
    const contradiction = await apiError(runner.invoke('echo:$LATEST', {}, { qualifier: 'live' }));

    // Assess
    expect([unknown.name, unknown.statusCode, unknown.message]).toEqual([
      'ResourceNotFoundException',
      404,
      'Function not found: arn:aws:lambda:eu-west-2:123456789012:function:nope',
    ]);
    expect([version.name, version.message]).toEqual([
      'ResourceNotFoundException',
      'Function not found: arn:aws:lambda:eu-west-2:123456789012:function:echo:7',
    ]);
    expect([otherRegion.name, otherRegion.statusCode]).toEqual(['ResourceNotFoundException', 404]);
    expect([malformed.name, malformed.statusCode]).toEqual(['ValidationException', 400]);
    expect([contradiction.name, contradiction.statusCode]).toEqual(['InvalidParameterValueException', 400]);
  });

  it('refuses a function whose environment sets a variable Lambda reserves', () => {
    // Prepare
    const runner = new LambdaRunner();

    // Act
    const register = () =>
      runner.register({ name: 'f', handler: `${HANDLERS}#echo`, environment: { AWS_REGION: 'x', OK: '1' } });

    // Assess
    expect(register).toThrow(/Reserved keys used in this request: AWS_REGION$/);
  });

  it('runs an Event invocation later and retries a failing one twice, as Lambda does', async () => {
    // Prepare
    const warnings: string[] = [];
    const runner = new LambdaRunner({
      asyncRetryDelaysMs: [5, 5],
      logger: { warn: (message: string) => warnings.push(message), error: () => {} },
    });
    runner.register({ name: 'pay', handler: `${HANDLERS}#fail` });

    // Act
    const accepted = await runner.invoke('pay', { message: 'declined' }, { invocationType: 'Event' });
    await runner.idle();

    // Assess
    expect(accepted).toMatchObject({ statusCode: 202, payload: undefined });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/failed 3 time\(s\) and is discarded/);
  });
});

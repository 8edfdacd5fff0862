/**
 * Conformance of TestState through the real SFNClient (which sends it, like StartSyncExecution, to a
 * `sync-` host unless `disableHostPrefix` is set, as the test support does). Sources: the API reference pages
 * TestState, MockInput, TestStateConfiguration and InspectionData, and the developer guide's "Testing
 * states" pages: the status is SUCCEEDED, FAILED, RETRIABLE or CAUGHT_ERROR; nextState is absent when the
 * state fails or defines no next state.
 */
import { TestStateCommand, type TestStateCommandInput } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedStepFunctions, embeddedStepFunctions } from '../../testing/step-functions.ts';

const CREDIT_METER = {
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  InputPath: '$.order',
  Parameters: { FunctionName: 'vend', 'Payload.$': '$' },
  ResultSelector: { 'credited.$': '$.Payload.credited' },
  ResultPath: '$.vend',
  Next: 'Notify customer',
};
const ORDER = { order: { meter: 'M1', pounds: 10 }, customer: 'c-1' };
const VENDED = { Payload: { credited: 10 }, StatusCode: 200 };
const DOWN = { error: 'Meter.Unreachable', cause: 'the vending service is down' };

let sfn: EmbeddedStepFunctions;

beforeAll(async () => {
  sfn = await embeddedStepFunctions();
});

afterAll(async () => {
  await sfn.close();
});

function testState(input: Omit<TestStateCommandInput, 'definition'> & { definition: object }) {
  return sfn.client.send(new TestStateCommand({ ...input, definition: JSON.stringify(input.definition) }));
}

function withoutMetadata<T extends { $metadata?: unknown }>(response: T): Omit<T, '$metadata'> {
  const { $metadata: _, ...rest } = response;
  return rest;
}

describe('TestState', () => {
  it('runs a Task on a mocked result: SUCCEEDED with the processed output and the next state', async () => {
    // Act
    const result = await testState({
      definition: CREDIT_METER,
      input: JSON.stringify(ORDER),
      mock: { result: JSON.stringify(VENDED) },
    });

    // Assess
    expect(withoutMetadata(result)).toEqual({
      status: 'SUCCEEDED',
      output: JSON.stringify({ ...ORDER, vend: { credited: 10 } }),
      nextState: 'Notify customer',
    });
  });

  it('catches a mocked error with Catch: CAUGHT_ERROR with the catcher next state', async () => {
    // Prepare
    const definition = {
      ...CREDIT_METER,
      Catch: [{ ErrorEquals: ['Meter.Unreachable'], ResultPath: '$.failure', Next: 'Refund' }],
    };

    // Act
    const result = await testState({ definition, input: JSON.stringify(ORDER), mock: { errorOutput: DOWN } });

    // Assess
    expect(withoutMetadata(result)).toEqual({
      status: 'CAUGHT_ERROR',
      error: DOWN.error,
      cause: DOWN.cause,
      output: JSON.stringify({ ...ORDER, failure: { Error: DOWN.error, Cause: DOWN.cause } }),
      nextState: 'Refund',
    });
  });

  it('reports a mocked error a Retry matches as RETRIABLE', async () => {
    // Prepare
    const definition = {
      ...CREDIT_METER,
      Retry: [{ ErrorEquals: ['Meter.Unreachable'], MaxAttempts: 2, IntervalSeconds: 1 }],
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Refund' }],
    };

    // Act
    const result = await testState({ definition, input: JSON.stringify(ORDER), mock: { errorOutput: DOWN } });

    // Assess
    expect(result).toMatchObject({ status: 'RETRIABLE', error: DOWN.error, cause: DOWN.cause });
    expect(result.output).toBeUndefined();
  });

  it('goes to the Catch once retrierRetryCount says the retries are used up', async () => {
    // Prepare
    const definition = {
      ...CREDIT_METER,
      Retry: [{ ErrorEquals: ['Meter.Unreachable'], MaxAttempts: 2, IntervalSeconds: 1 }],
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Refund' }],
    };

    // Act
    const result = await testState({
      definition,
      input: JSON.stringify(ORDER),
      mock: { errorOutput: DOWN },
      stateConfiguration: { retrierRetryCount: 2 },
    });

    // Assess
    expect(result).toMatchObject({ status: 'CAUGHT_ERROR', error: DOWN.error, nextState: 'Refund' });
  });

  it('reports an error nothing handles as FAILED, without output or next state', async () => {
    // Act
    const result = await testState({
      definition: CREDIT_METER,
      input: JSON.stringify(ORDER),
      mock: { errorOutput: DOWN },
    });

    // Assess
    expect(withoutMetadata(result)).toEqual({ status: 'FAILED', error: DOWN.error, cause: DOWN.cause });
  });

  it.each([
    [
      'a Pass with a Next',
      { Type: 'Pass', Result: { fee: 1 }, ResultPath: '$.fees', Next: 'Charge' },
      { status: 'SUCCEEDED', output: JSON.stringify({ amount: 5, fees: { fee: 1 } }), nextState: 'Charge' },
    ],
    [
      'a Pass that ends',
      { Type: 'Pass', Parameters: { 'total.$': '$.amount' }, End: true },
      { status: 'SUCCEEDED', output: JSON.stringify({ total: 5 }) },
    ],
    [
      'a Choice whose first rule matches',
      {
        Type: 'Choice',
        Choices: [
          { Variable: '$.amount', NumericLessThan: 10, Next: 'Small top-up' },
          { Variable: '$.amount', NumericGreaterThanEquals: 10, Next: 'Large top-up' },
        ],
        Default: 'Reject',
      },
      { status: 'SUCCEEDED', output: JSON.stringify({ amount: 5 }), nextState: 'Small top-up' },
    ],
    [
      'a Choice that falls to its Default',
      {
        Type: 'Choice',
        Choices: [{ Variable: '$.amount', NumericGreaterThan: 100, Next: 'Large top-up' }],
        Default: 'Reject',
      },
      { status: 'SUCCEEDED', output: JSON.stringify({ amount: 5 }), nextState: 'Reject' },
    ],
    [
      'a Fail',
      { Type: 'Fail', Error: 'TopUp.Refused', Cause: 'over the limit' },
      { status: 'FAILED', error: 'TopUp.Refused', cause: 'over the limit' },
    ],
  ])('runs %s', async (_, definition, expected) => {
    // Act
    const result = await testState({ definition, input: JSON.stringify({ amount: 5 }) });

    // Assess
    expect(withoutMetadata(result)).toEqual(expected);
  });

  it('tests the state named by stateName in a whole machine definition', async () => {
    // Prepare
    const machine = {
      StartAt: 'First',
      States: {
        First: { Type: 'Pass', Next: 'Second' },
        Second: { Type: 'Pass', Result: 'second', Next: 'Third' },
        Third: { Type: 'Succeed' },
      },
    };

    // Act
    const result = await testState({ definition: machine, stateName: 'Second', input: '{}' });

    // Assess
    expect(withoutMetadata(result)).toEqual({ status: 'SUCCEEDED', output: '"second"', nextState: 'Third' });
  });

  it('shows each data-processing step with inspectionLevel DEBUG', async () => {
    // Act
    const result = await testState({
      definition: CREDIT_METER,
      input: JSON.stringify(ORDER),
      inspectionLevel: 'DEBUG',
      mock: { result: JSON.stringify(VENDED) },
    });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(result.inspectionData).toMatchObject({
      input: JSON.stringify(ORDER),
      afterInputPath: JSON.stringify(ORDER.order),
      afterParameters: JSON.stringify({ FunctionName: 'vend', Payload: ORDER.order }),
      result: JSON.stringify(VENDED),
      afterResultSelector: JSON.stringify({ credited: 10 }),
      afterResultPath: JSON.stringify({ ...ORDER, vend: { credited: 10 } }),
    });
  });

  it('leaves inspectionData out at the default INFO level', async () => {
    // Act
    const result = await testState({
      definition: CREDIT_METER,
      input: JSON.stringify(ORDER),
      mock: { result: JSON.stringify(VENDED) },
    });

    // Assess
    expect(result.inspectionData).toBeUndefined();
  });

  it.each([
    ['a Task without its Resource', { Type: 'Task', End: true }, 'These fields are required: [Resource]'],
    ['an unknown state type', { Type: 'Teleport', End: true }, 'SCHEMA_VALIDATION_FAILED'],
  ])('refuses %s: InvalidDefinition', async (_, definition, problem) => {
    // Act
    const refusal = await testState({ definition, input: '{}' }).then(
      () => undefined,
      (error: Error & { $metadata?: { httpStatusCode?: number } }) => error,
    );

    // Assess
    expect(refusal?.name).toBe('InvalidDefinition');
    expect(refusal?.$metadata?.httpStatusCode).toBe(400);
    expect(refusal?.message).toMatch(/^Invalid State Machine Definition: '/);
    expect(refusal?.message).toContain(problem);
  });

  it('refuses a stateName the machine does not have: InvalidDefinition', async () => {
    // Act
    const refusal = await testState({
      definition: { StartAt: 'A', States: { A: { Type: 'Succeed' } } },
      stateName: 'Missing',
    }).then(
      () => undefined,
      (error: Error) => error,
    );

    // Assess
    expect(refusal?.name).toBe('InvalidDefinition');
  });
});

// The 256 KiB payload quota holds in TestState as in an execution (payload-limit.test.ts).
describe('TestState and the payload quota', () => {
  const big = 'x'.repeat(262_144);

  it('fails a state whose output is over 262,144 bytes with States.DataLimitExceeded', async () => {
    const result = await testState({
      definition: { Type: 'Pass', Parameters: { 'copy.$': '$.text', 'again.$': '$.text' }, End: true },
      input: JSON.stringify({ text: 'y'.repeat(140_000) }),
    });
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(result.output).toBeUndefined();
  });

  it('fails a task whose selected result is over the quota with States.DataLimitExceeded', async () => {
    const result = await testState({
      definition: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: 'f' },
        ResultSelector: { 'copy.$': '$.Payload', 'again.$': '$.Payload' },
        End: true,
      },
      input: '{}',
      mock: { result: JSON.stringify({ Payload: 'y'.repeat(140_000) }) },
    });
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
  });

  it('refuses an input over the quota with ValidationException', async () => {
    await expect(
      testState({ definition: { Type: 'Pass', End: true }, input: JSON.stringify(big) }),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });
});

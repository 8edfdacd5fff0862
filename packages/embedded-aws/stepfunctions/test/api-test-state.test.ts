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

// The 256 KiB payload quota holds in TestState as in an execution (payload-limit.test.ts): a state over it
// fails with States.DataLimitExceeded, which its Retry and Catch see, and an input over it is refused as
// StartExecution's is (the API reference gives TestState's `input` the same 262,144-byte constraint).
describe('TestState and the payload quota', () => {
  const LIMIT = 262_144;
  const inputTooLarge = (state: string) =>
    `The state/task '${state}' has an input with a size exceeding the maximum number of bytes service limit.`;
  const resultTooLarge = (state: string) =>
    `The state/task '${state}' returned a result with a size exceeding the maximum number of bytes service limit.`;
  /**
   * `state` tested as `Report` in a machine (so the cause names it), on an input holding 140,000 bytes of text;
   * the machine has the `Refund` its Next or Catch goes to, if any (a state nothing reaches is refused).
   */
  const testReport = (state: object, extra: Omit<TestStateCommandInput, 'definition'> = {}) =>
    testState({
      definition: {
        StartAt: 'Report',
        States: {
          Report: state,
          ...('Next' in state || 'Catch' in state ? { Refund: { Type: 'Succeed' } } : {}),
        },
      },
      stateName: 'Report',
      input: JSON.stringify({ id: 7, text: 't'.repeat(140_000) }),
      ...extra,
    });
  /** A Task whose Parameters hold the input's text twice: 280,000 bytes. */
  const BIG_PARAMETERS = {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: { FunctionName: 'vend', Payload: { 'copy.$': '$.text', 'again.$': '$.text' } },
    End: true,
  };
  const mock = { result: JSON.stringify({ Payload: 'ok' }) };

  it("fails a Pass whose output is over the quota: FAILED with AWS's cause, no output", async () => {
    // Act
    const result = await testReport({
      Type: 'Pass',
      Parameters: { 'a.$': '$.text', 'b.$': '$.text' },
      End: true,
    });

    // Assess
    expect(withoutMetadata(result)).toEqual({
      status: 'FAILED',
      error: 'States.DataLimitExceeded',
      cause: resultTooLarge('Report'),
    });
  });

  it('fails a Pass whose Parameters are over the quota though its OutputPath keeps little', async () => {
    // Act
    const result = await testReport({
      Type: 'Pass',
      Parameters: { 'a.$': '$.text', 'b.$': '$.text' },
      ResultPath: '$.shaped',
      OutputPath: '$.id',
      Next: 'Refund',
    });

    // Assess
    expect(withoutMetadata(result)).toEqual({
      status: 'FAILED',
      error: 'States.DataLimitExceeded',
      cause: resultTooLarge('Report'),
    });
  });

  it('fails a Task whose Parameters are over the quota: FAILED, the mock never answers', async () => {
    // Act
    const result = await testReport(BIG_PARAMETERS, { mock });

    // Assess
    expect(withoutMetadata(result)).toEqual({
      status: 'FAILED',
      error: 'States.DataLimitExceeded',
      cause: inputTooLarge('Report'),
    });
  });

  it("reports a Catch of that failure as CAUGHT_ERROR with the catcher's output and next state", async () => {
    // Prepare
    const definition = {
      ...BIG_PARAMETERS,
      Catch: [{ ErrorEquals: ['States.DataLimitExceeded'], ResultPath: '$.text', Next: 'Refund' }],
    };

    // Act
    const result = await testReport(definition, { mock });

    // Assess
    const failure = { Error: 'States.DataLimitExceeded', Cause: inputTooLarge('Report') };
    expect(withoutMetadata(result)).toEqual({
      status: 'CAUGHT_ERROR',
      error: failure.Error,
      cause: failure.Cause,
      output: JSON.stringify({ id: 7, text: failure }),
      nextState: 'Refund',
    });
  });

  it('reports a Retry matching that failure as RETRIABLE', async () => {
    // Prepare
    const definition = {
      ...BIG_PARAMETERS,
      Retry: [{ ErrorEquals: ['States.DataLimitExceeded'], MaxAttempts: 1 }],
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Refund' }],
    };

    // Act
    const result = await testReport(definition, { mock });

    // Assess
    expect(withoutMetadata(result)).toEqual({
      status: 'RETRIABLE',
      error: 'States.DataLimitExceeded',
      cause: inputTooLarge('Report'),
    });
  });

  it('fails a Task whose selected result is over the quota, naming the state', async () => {
    // Act
    const result = await testReport(
      {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: 'vend' },
        ResultSelector: { 'copy.$': '$.Payload', 'again.$': '$.Payload' },
        End: true,
      },
      { mock: { result: JSON.stringify({ Payload: 'y'.repeat(140_000) }) } },
    );

    // Assess
    expect(withoutMetadata(result)).toEqual({
      status: 'FAILED',
      error: 'States.DataLimitExceeded',
      cause: resultTooLarge('Report'),
    });
  });

  it("refuses an input over the quota as StartExecution's is, counting UTF-8 bytes", async () => {
    // Prepare: 131,072 two-byte characters and the quotes make 262,146 bytes (131,074 characters).
    const input = JSON.stringify('é'.repeat(131_072));

    // Act
    const refusal = await testState({ definition: { Type: 'Pass', End: true }, input }).then(
      () => undefined,
      (error: Error & { $metadata?: { httpStatusCode?: number } }) => error,
    );

    // Assess
    expect(refusal?.name).toBe('ValidationException');
    expect(refusal?.$metadata?.httpStatusCode).toBe(400);
    expect(refusal?.message).toBe(
      "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have size less than or equal to 262144 bytes in UTF-8 encoding",
    );
  });

  it('accepts an input of exactly 262,144 bytes and passes it on', async () => {
    // Prepare
    const input = JSON.stringify('x'.repeat(LIMIT - 2));
    expect(Buffer.byteLength(input, 'utf8')).toBe(LIMIT);

    // Act
    const result = await testState({ definition: { Type: 'Pass', End: true }, input });

    // Assess
    expect(withoutMetadata(result)).toEqual({ status: 'SUCCEEDED', output: input });
  });
});

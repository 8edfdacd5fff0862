/**
 * Conformance tests for the state types, through whole executions on the embedded AWS and the real
 * `@aws-sdk/client-sfn` client: Pass, Succeed, Fail, Wait, Choice and request-response Task states, with
 * the history events AWS writes for each.
 *
 * Sources: the Step Functions developer guide (state pages "Pass", "Succeed", "Fail", "Wait", "Choice",
 * "Task", "Processing input and output", "ResultPath"), the API reference (HistoryEvent and its
 * `*EventDetails` shapes) and execution histories recorded against AWS that are published with LocalStack's
 * Step Functions tests (tests/aws/services/stepfunctions/v2/**.snapshot.json): there the first state's
 * `*StateEntered` event has `previousEventId: 0`, and a bare Lambda ARN writes `LambdaFunction*` events.
 */
import {
  DescribeExecutionCommand,
  type HistoryEvent,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EmbeddedStepFunctions,
  embeddedStepFunctions,
  eventTypes,
} from '../../testing/step-functions.ts';
import { InProcessIntegrations } from '../integrations.ts';
import { StatesError } from '../language/states-error.ts';

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:PriceQuote';
const FAILING_FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:AlwaysFails';

const integrations = new InProcessIntegrations()
  .handle(LAMBDA_INVOKE, ({ parameters }) => {
    const payload = (parameters as { Payload?: { amount?: number } }).Payload ?? {};
    return {
      ExecutedVersion: '$LATEST',
      StatusCode: 200,
      Payload: { quoted: (payload.amount ?? 0) * 2, currency: 'GBP' },
    };
  })
  .handle(FUNCTION_ARN, ({ parameters }) => ({ echoed: parameters }))
  .handle(FAILING_FUNCTION_ARN, () => {
    throw new StatesError('MeterOffline', 'The meter did not answer');
  });

let sfn: EmbeddedStepFunctions;

beforeAll(async () => {
  sfn = await embeddedStepFunctions({ integrations });
});

afterAll(async () => {
  await sfn.close();
});

// ─── Helpers ─────────────────────────────────────────────────────────────────────────────────────────

function single(history: readonly HistoryEvent[], type: string): HistoryEvent {
  const found = history.filter((event) => event.type === type);
  expect(found, `exactly one ${type} event`).toHaveLength(1);
  return found[0]!;
}

function parsed(text: string | undefined): unknown {
  return JSON.parse(text ?? 'null');
}

function outputOf(history: readonly HistoryEvent[]): unknown {
  return parsed(single(history, 'ExecutionSucceeded').executionSucceededEventDetails?.output);
}

/**
 * On a single-branch run the ids count up from 1 and each event names the one before it, except that
 * AWS gives both ExecutionStarted and the first state's `*StateEntered` event previousEventId 0.
 */
function expectLinearChain(history: readonly HistoryEvent[]): void {
  history.forEach((event, index) => {
    expect(event.id).toBe(index + 1);
    expect({ type: event.type, previousEventId: event.previousEventId }).toEqual({
      type: event.type,
      previousEventId: index <= 1 ? 0 : index,
    });
  });
}

// ─── Pass ────────────────────────────────────────────────────────────────────────────────────────────

describe('Pass', () => {
  it('writes Entered and Exited events whose ids chain back to the start', async () => {
    // Prepare
    const definition = { StartAt: 'Nothing', States: { Nothing: { Type: 'Pass', End: true } } };

    // Act
    const { history, execution } = await sfn.run(definition, { meter: 'M-1' });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
    expectLinearChain(history);
    expect(history[0]!.executionStartedEventDetails).toEqual({
      input: '{"meter":"M-1"}',
      inputDetails: { truncated: false },
      roleArn: 'arn:aws:iam::000000000000:role/test',
    });
    expect(history[1]!.stateEnteredEventDetails).toEqual({
      name: 'Nothing',
      input: '{"meter":"M-1"}',
      inputDetails: { truncated: false },
    });
    expect(history[2]!.stateExitedEventDetails).toEqual({
      name: 'Nothing',
      output: '{"meter":"M-1"}',
      outputDetails: { truncated: false },
    });
    expect(history[3]!.executionSucceededEventDetails).toEqual({
      output: '{"meter":"M-1"}',
      outputDetails: { truncated: false },
    });
    expect(execution.output).toBe('{"meter":"M-1"}');
  });

  it.each([
    { type: 'Pass', state: { Type: 'Pass', End: true } },
    { type: 'Fail', state: { Type: 'Fail', Error: 'E' } },
    { type: 'Task', state: { Type: 'Task', Resource: FUNCTION_ARN, End: true } },
  ])(
    'gives the first $type state entered event previousEventId 0, as AWS histories do',
    async ({ type, state }) => {
      // Prepare
      const definition = { StartAt: 'First', States: { First: state } };

      // Act
      const { history } = await sfn.run(definition, {});

      // Assess
      expect(history.slice(0, 2).map((event) => [event.type, event.id, event.previousEventId])).toEqual([
        ['ExecutionStarted', 1, 0],
        [`${type}StateEntered`, 2, 0],
      ]);
    },
  );

  it.each([
    {
      name: 'Result replaces the input when there is no ResultPath',
      state: { Result: { credit: 10 } },
      input: { meter: 'M-1' },
      output: { credit: 10 },
    },
    {
      name: 'ResultPath "$" replaces the input',
      state: { Result: 'done', ResultPath: '$' },
      input: { meter: 'M-1' },
      output: 'done',
    },
    {
      name: 'ResultPath null discards the result and keeps the input',
      state: { Result: { credit: 10 }, ResultPath: null },
      input: { meter: 'M-1' },
      output: { meter: 'M-1' },
    },
    {
      name: 'a nested ResultPath places the result inside an existing object',
      state: { Result: { status: 'PAID' }, ResultPath: '$.order.payment' },
      input: { order: { id: 7 } },
      output: { order: { id: 7, payment: { status: 'PAID' } } },
    },
    {
      name: 'a ResultPath to a new field adds it beside the input',
      state: { Result: 42, ResultPath: '$.answer' },
      input: { question: 'life' },
      output: { question: 'life', answer: 42 },
    },
    {
      name: 'Parameters build the result from paths and literals',
      state: { Parameters: { 'meter.$': '$.meter', kind: 'topup', 'first.$': '$.lines[0]' } },
      input: { meter: 'M-1', lines: [5, 7] },
      output: { meter: 'M-1', kind: 'topup', first: 5 },
    },
    {
      name: 'InputPath selects what Parameters see; ResultPath writes into the raw input',
      state: { InputPath: '$.order', Parameters: { 'id.$': '$.id' }, ResultPath: '$.picked' },
      input: { order: { id: 7, total: 3 } },
      output: { order: { id: 7, total: 3 }, picked: { id: 7 } },
    },
    {
      name: 'InputPath null gives an empty object as the effective input',
      state: { InputPath: null },
      input: { meter: 'M-1' },
      output: {},
    },
    {
      name: 'OutputPath selects part of the output',
      state: { Result: { credit: 10, fee: 1 }, ResultPath: '$.quote', OutputPath: '$.quote.credit' },
      input: { meter: 'M-1' },
      output: 10,
    },
    {
      name: 'OutputPath null gives an empty object',
      state: { Result: { credit: 10 }, OutputPath: null },
      input: { meter: 'M-1' },
      output: {},
    },
  ])('$name', async ({ state, input, output }) => {
    // Prepare
    const definition = { StartAt: 'Shape', States: { Shape: { Type: 'Pass', ...state, End: true } } };

    // Act
    const { history, execution } = await sfn.run(definition, input);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(parsed(single(history, 'PassStateExited').stateExitedEventDetails?.output)).toEqual(output);
    expect(outputOf(history)).toEqual(output);
  });

  it('passes each state output on as the next state input', async () => {
    // Prepare
    const definition = {
      StartAt: 'First',
      States: {
        First: { Type: 'Pass', Result: { step: 1 }, ResultPath: '$.first', Next: 'Second' },
        Second: { Type: 'Pass', Parameters: { 'was.$': '$.first.step' }, End: true },
      },
    };

    // Act
    const { history } = await sfn.run(definition, { start: true });

    // Assess
    const entered = history.filter((event) => event.type === 'PassStateEntered');
    expect(parsed(entered[1]!.stateEnteredEventDetails?.input)).toEqual({ start: true, first: { step: 1 } });
    expect(outputOf(history)).toEqual({ was: 1 });
    expectLinearChain(history);
  });
});

// ─── Succeed ─────────────────────────────────────────────────────────────────────────────────────────

describe('Succeed', () => {
  it('ends the execution with its input, filtered by InputPath and OutputPath', async () => {
    // Prepare
    const definition = {
      StartAt: 'Done',
      States: { Done: { Type: 'Succeed', InputPath: '$.receipt', OutputPath: '$.number' } },
    };

    // Act
    const { history, execution } = await sfn.run(definition, { receipt: { number: 'R-9', total: 3 } });

    // Assess
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
    expect(single(history, 'SucceedStateExited').stateExitedEventDetails).toEqual({
      name: 'Done',
      output: '"R-9"',
      outputDetails: { truncated: false },
    });
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.output).toBe('"R-9"');
    expectLinearChain(history);
  });
});

// ─── Fail ────────────────────────────────────────────────────────────────────────────────────────────

describe('Fail', () => {
  it('fails the execution with its Error and Cause, without a FailStateExited event', async () => {
    // Prepare
    const definition = {
      StartAt: 'Refuse',
      States: { Refuse: { Type: 'Fail', Error: 'Vend.Refused', Cause: 'The meter is locked' } },
    };

    // Act
    const { history, execution } = await sfn.run(definition, { meter: 'M-1' });

    // Assess
    expect(eventTypes(history)).toEqual(['ExecutionStarted', 'FailStateEntered', 'ExecutionFailed']);
    expectLinearChain(history);
    expect(single(history, 'ExecutionFailed').executionFailedEventDetails).toEqual({
      error: 'Vend.Refused',
      cause: 'The meter is locked',
    });
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('Vend.Refused');
    expect(execution.cause).toBe('The meter is locked');
    expect(execution.output).toBeUndefined();
  });

  it.each([
    {
      name: 'plain paths',
      state: { ErrorPath: '$.code', CausePath: '$.reason' },
      error: 'Card.Declined',
      cause: 'Insufficient funds',
    },
    {
      name: 'intrinsic functions',
      state: {
        ErrorPath: "States.Format('Vend.{}', $.code)",
        CausePath: "States.Format('Order {} failed: {}', $.order, $.reason)",
      },
      error: 'Vend.Card.Declined',
      cause: 'Order 7 failed: Insufficient funds',
    },
    {
      name: 'a context object path',
      state: { Error: 'Vend.Refused', CausePath: '$$.State.Name' },
      error: 'Vend.Refused',
      cause: 'Refuse',
    },
  ])('takes ErrorPath and CausePath from $name', async ({ state, error, cause }) => {
    // Prepare
    const definition = { StartAt: 'Refuse', States: { Refuse: { Type: 'Fail', ...state } } };

    // Act
    const { history, execution } = await sfn.run(definition, {
      code: 'Card.Declined',
      reason: 'Insufficient funds',
      order: 7,
    });

    // Assess
    expect(single(history, 'ExecutionFailed').executionFailedEventDetails).toEqual({ error, cause });
    expect(execution.error).toBe(error);
    expect(execution.cause).toBe(cause);
  });

  it.each([
    { field: 'ErrorPath', state: { ErrorPath: '$.ErrorX', Cause: 'c' }, path: '$.ErrorX' },
    { field: 'CausePath', state: { Error: 'e', CausePath: '$.NoSuchCausePath' }, path: '$.NoSuchCausePath' },
  ])('names the field $field when its path matches nothing', async ({ field, state, path }) => {
    // Prepare: AWS's recorded test_invalid_jsonpath[INVALID_JSONPATH_IN_ERRORPATH / ..._CAUSEPATH].
    const definition = {
      StartAt: 'pass',
      States: {
        pass: { Type: 'Pass', Result: { Error: 'error-value' }, Next: 'fail' },
        fail: { Type: 'Fail', ...state },
      },
    };

    // Act
    const { history, execution } = await sfn.run(definition, { 'int-literal': 0 });

    // Assess
    const cause =
      "An error occurred while executing the state 'fail' (entered at the event id #4). " +
      `The JSONPath '${path}' specified for the field '${field}' could not be found in the input '{"Error":"error-value"}'`;
    expect(execution).toMatchObject({ status: 'FAILED', error: 'States.Runtime', cause });
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'FailStateEntered',
      'ExecutionFailed',
    ]);
    expectLinearChain(history);
  });
});

// ─── Wait ────────────────────────────────────────────────────────────────────────────────────────────

describe('Wait', () => {
  const past = '2020-01-01T00:00:00Z';

  it.each([
    { name: 'Seconds (a real one-second wait)', state: { Seconds: 1 }, input: { meter: 'M-1' } },
    { name: 'SecondsPath', state: { SecondsPath: '$.delay' }, input: { delay: 0 } },
    { name: 'a Timestamp in the past', state: { Timestamp: past }, input: { meter: 'M-1' } },
    { name: 'TimestampPath', state: { TimestampPath: '$.until' }, input: { until: past } },
  ])('waits for $name and passes its input on', async ({ state, input }) => {
    // Prepare
    const definition = { StartAt: 'Pause', States: { Pause: { Type: 'Wait', ...state, End: true } } };

    // Act
    const { history, execution } = await sfn.run(definition, input);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'WaitStateEntered',
      'WaitStateExited',
      'ExecutionSucceeded',
    ]);
    expect(single(history, 'WaitStateExited').stateExitedEventDetails).toEqual({
      name: 'Pause',
      output: JSON.stringify(input),
      outputDetails: { truncated: false },
    });
    expectLinearChain(history);
  });

  it('applies InputPath and OutputPath around the wait', async () => {
    // Prepare
    const definition = {
      StartAt: 'Pause',
      States: { Pause: { Type: 'Wait', Seconds: 0, InputPath: '$.order', OutputPath: '$.id', End: true } },
    };

    // Act
    const { execution } = await sfn.run(definition, { order: { id: 7 } });

    // Assess
    expect(execution.output).toBe('7');
  });

  it('fails with States.Runtime when SecondsPath matches nothing', async () => {
    // Prepare
    const definition = {
      StartAt: 'Pause',
      States: { Pause: { Type: 'Wait', SecondsPath: '$.delay', End: true } },
    };

    // Act
    const { history, execution } = await sfn.run(definition, { meter: 'M-1' });

    // Assess: AWS's wording, from its recorded test_base[wait_seconds_path.json5_ALL_False].
    expect(eventTypes(history)).toEqual(['ExecutionStarted', 'WaitStateEntered', 'ExecutionFailed']);
    expect(execution.error).toBe('States.Runtime');
    expect(execution.cause).toBe(
      "An error occurred while executing the state 'Pause' (entered at the event id #2). " +
        'The SecondsPath parameter does not reference an input value: $.delay',
    );
  });

  // AWS's recorded test_base_wait_seconds_path.
  it.each([
    {
      seconds: -1,
      detail: 'The SecondsPath parameter references a negative value: $.input.waitSeconds == -1',
    },
    {
      seconds: 1.5,
      detail: 'The SecondsPath parameter cannot be parsed as a long value: $.input.waitSeconds == 1.5',
    },
    {
      seconds: -1.5,
      detail: 'The SecondsPath parameter cannot be parsed as a long value: $.input.waitSeconds == -1.5',
    },
  ])('fails when SecondsPath gives $seconds, as AWS does', async ({ seconds, detail }) => {
    // Prepare
    const definition = {
      StartAt: 'WaitState',
      States: { WaitState: { Type: 'Wait', SecondsPath: '$.input.waitSeconds', End: true } },
    };

    // Act
    const { history, execution } = await sfn.run(definition, { input: { waitSeconds: seconds } });

    // Assess
    const cause = `An error occurred while executing the state 'WaitState' (entered at the event id #2). ${detail}`;
    expect(execution).toMatchObject({ status: 'FAILED', error: 'States.Runtime', cause });
    expect(eventTypes(history)).toEqual(['ExecutionStarted', 'WaitStateEntered', 'ExecutionFailed']);
    expectLinearChain(history);
  });

  // AWS's recorded test_wait_timestamppath and test_wait_timestamp_path: a T, and a Z or an offset.
  it.each([
    { case: 'no zone', timestamp: '2016-12-05T21:29:29' },
    { case: 'a fraction and no zone', timestamp: '2016-12-05T21:29:29.000000' },
    { case: 'no T', timestamp: '2016-12-05 21:29:29Z' },
    { case: 'an invalid date', timestamp: '2016-13-05T21:29:29Z' },
    { case: 'an invalid time', timestamp: '2016-12-05T25:29:29Z' },
    { case: 'day first', timestamp: '05-12-2016T21:29:29Z' },
  ])('fails when TimestampPath gives a timestamp with $case', async ({ timestamp }) => {
    // Prepare
    const definition = {
      StartAt: 'WaitUntil',
      States: { WaitUntil: { Type: 'Wait', TimestampPath: '$.TimestampValue', End: true } },
    };

    // Act
    const { history, execution } = await sfn.run(definition, { TimestampValue: timestamp });

    // Assess
    const cause =
      "An error occurred while executing the state 'WaitUntil' (entered at the event id #2). " +
      `The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: $.TimestampValue == ${timestamp}`;
    expect(execution).toMatchObject({ status: 'FAILED', error: 'States.Runtime', cause });
    expect(eventTypes(history)).toEqual(['ExecutionStarted', 'WaitStateEntered', 'ExecutionFailed']);
    expectLinearChain(history);
  });

  it.each(['Z', '.000000Z', '.00Z', '+01:00'])('waits until a TimestampPath ending in %s', async (suffix) => {
    // Prepare
    const definition = {
      StartAt: 'WaitUntil',
      States: { WaitUntil: { Type: 'Wait', TimestampPath: '$.start_at', End: true } },
    };

    // Act
    const { execution } = await sfn.run(definition, { start_at: `2016-12-05T21:29:29${suffix}` });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
  });

  it('fails a wait of 24856 days as too long, and starts one of 24855 days', async () => {
    // Prepare: AWS's recorded test_timestamp_too_far_in_future_boundary.
    const definition = {
      StartAt: 'State_1',
      States: { State_1: { Type: 'Wait', TimestampPath: '$.start_at', End: true } },
    };
    const daysAhead = (days: number) => ({
      start_at: new Date(Date.now() + days * 86_400_000).toISOString().replace(/\.\d+Z$/, '.000Z'),
    });

    // Act
    const { history, execution } = await sfn.run(definition, daysAhead(24856));
    const stateMachineArn = await sfn.createMachine(definition);
    const started = await sfn.client.send(
      new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(daysAhead(24855)) }),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const waiting = await sfn.client.send(
      new DescribeExecutionCommand({ executionArn: started.executionArn }),
    );
    const waitingHistory = await sfn.historyOf(started.executionArn!);
    await sfn.client.send(new StopExecutionCommand({ executionArn: started.executionArn }));

    // Assess
    expect(execution).toMatchObject({
      status: 'FAILED',
      error: 'States.Runtime',
      cause:
        "An error occurred while executing the state 'State_1' (entered at the event id #2). Wait state delay is too long.",
    });
    expect(eventTypes(history)).toEqual(['ExecutionStarted', 'WaitStateEntered', 'ExecutionFailed']);
    expect(waiting.status).toBe('RUNNING');
    expect(eventTypes(waitingHistory)).toEqual(['ExecutionStarted', 'WaitStateEntered']);
  });
});

// ─── Choice ──────────────────────────────────────────────────────────────────────────────────────────

describe('Choice', () => {
  const choose = (rule: object) => ({
    StartAt: 'Route',
    States: {
      Route: { Type: 'Choice', Choices: [{ ...rule, Next: 'Matched' }], Default: 'Otherwise' },
      Matched: { Type: 'Pass', Result: 'matched', End: true },
      Otherwise: { Type: 'Pass', Result: 'default', End: true },
    },
  });

  it.each([
    { rule: { Variable: '$.kind', StringEquals: 'topup' }, input: { kind: 'topup' }, expected: 'matched' },
    { rule: { Variable: '$.kind', StringEquals: 'topup' }, input: { kind: 'refund' }, expected: 'default' },
    { rule: { Variable: '$.amount', NumericGreaterThan: 10 }, input: { amount: 10.5 }, expected: 'matched' },
    { rule: { Variable: '$.amount', NumericGreaterThan: 10 }, input: { amount: 10 }, expected: 'default' },
    {
      rule: { Variable: '$.amount', NumericLessThanEqualsPath: '$.limit' },
      input: { amount: 5, limit: 5 },
      expected: 'matched',
    },
    { rule: { Variable: '$.paid', BooleanEquals: true }, input: { paid: true }, expected: 'matched' },
    { rule: { Variable: '$.meter', StringMatches: 'M-*' }, input: { meter: 'M-42' }, expected: 'matched' },
    { rule: { Variable: '$.meter', IsPresent: true }, input: {}, expected: 'default' },
    { rule: { Variable: '$.meter', IsNull: true }, input: { meter: null }, expected: 'matched' },
    {
      rule: { Variable: '$.at', TimestampLessThan: '2030-01-01T00:00:00Z' },
      input: { at: '2025-06-01T12:00:00Z' },
      expected: 'matched',
    },
    {
      rule: {
        And: [
          { Variable: '$.amount', NumericGreaterThanEquals: 5 },
          { Variable: '$.amount', NumericLessThan: 50 },
        ],
      },
      input: { amount: 20 },
      expected: 'matched',
    },
    {
      rule: {
        Or: [
          { Variable: '$.kind', StringEquals: 'refund' },
          { Variable: '$.kind', StringEquals: 'topup' },
        ],
      },
      input: { kind: 'topup' },
      expected: 'matched',
    },
    {
      rule: { Not: { Variable: '$.kind', StringEquals: 'topup' } },
      input: { kind: 'topup' },
      expected: 'default',
    },
  ])('$rule on $input takes the $expected branch', async ({ rule, input, expected }) => {
    // Act
    const { history, execution } = await sfn.run(choose(rule), input);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.output).toBe(JSON.stringify(expected));
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'ChoiceStateEntered',
      'ChoiceStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
    const entered = single(history, 'PassStateEntered').stateEnteredEventDetails;
    expect(entered?.name).toBe(expected === 'matched' ? 'Matched' : 'Otherwise');
    expectLinearChain(history);
  });

  it('takes the first rule that matches, in order', async () => {
    // Prepare
    const definition = {
      StartAt: 'Route',
      States: {
        Route: {
          Type: 'Choice',
          Choices: [
            { Variable: '$.amount', NumericGreaterThan: 100, Next: 'Large' },
            { Variable: '$.amount', NumericGreaterThan: 10, Next: 'Medium' },
            { Variable: '$.amount', NumericGreaterThan: 1, Next: 'Small' },
          ],
        },
        Large: { Type: 'Succeed' },
        Medium: { Type: 'Succeed' },
        Small: { Type: 'Succeed' },
      },
    };

    // Act
    const { history } = await sfn.run(definition, { amount: 50 });

    // Assess
    expect(single(history, 'SucceedStateEntered').stateEnteredEventDetails?.name).toBe('Medium');
  });

  it('applies InputPath and OutputPath to what it passes on', async () => {
    // Prepare
    const definition = {
      StartAt: 'Route',
      States: {
        Route: {
          Type: 'Choice',
          InputPath: '$.order',
          OutputPath: '$.id',
          Choices: [{ Variable: '$.total', NumericEquals: 3, Next: 'Done' }],
        },
        Done: { Type: 'Succeed' },
      },
    };

    // Act
    const { history } = await sfn.run(definition, { order: { id: 7, total: 3 } });

    // Assess
    expect(single(history, 'ChoiceStateExited').stateExitedEventDetails).toEqual({
      name: 'Route',
      output: '7',
      outputDetails: { truncated: false },
    });
  });

  it('fails the execution with States.NoChoiceMatched when no rule matches and there is no Default', async () => {
    // Prepare
    const definition = {
      StartAt: 'Route',
      States: {
        Route: { Type: 'Choice', Choices: [{ Variable: '$.kind', StringEquals: 'topup', Next: 'Done' }] },
        Done: { Type: 'Succeed' },
      },
    };

    // Act
    const { history, execution } = await sfn.run(definition, { kind: 'refund' });

    // Assess
    expect(eventTypes(history)).toEqual(['ExecutionStarted', 'ChoiceStateEntered', 'ExecutionFailed']);
    const failed = single(history, 'ExecutionFailed');
    expect(failed.previousEventId).toBe(2);
    expect(failed.executionFailedEventDetails?.error).toBe('States.NoChoiceMatched');
    // The developer guide says only that the execution fails because it cannot transition out of the
    // state; the state prefix is the form of every AWS runtime cause. The sentence after it is not
    // documented, so it is not asserted here.
    expect(failed.executionFailedEventDetails?.cause).toMatch(
      /^An error occurred while executing the state 'Route' \(entered at the event id #2\)\. ./,
    );
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.NoChoiceMatched');
  });
});

// ─── Task ────────────────────────────────────────────────────────────────────────────────────────────

describe('Task (request-response)', () => {
  it('records TaskScheduled, TaskStarted and TaskSucceeded with the service, region and parameters', async () => {
    // Prepare
    const definition = {
      StartAt: 'Quote',
      States: {
        Quote: {
          Type: 'Task',
          Resource: LAMBDA_INVOKE,
          Parameters: { FunctionName: 'PriceQuote', Payload: { 'amount.$': '$.amount', currency: 'GBP' } },
          End: true,
        },
      },
    };

    // Act
    const { history, execution } = await sfn.run(definition, { amount: 5 });

    // Assess
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expectLinearChain(history);
    const scheduled = single(history, 'TaskScheduled').taskScheduledEventDetails!;
    expect(scheduled).toEqual({
      resourceType: 'lambda',
      resource: 'invoke',
      region: 'us-east-1',
      parameters: expect.any(String),
    });
    expect(parsed(scheduled.parameters)).toEqual({
      FunctionName: 'PriceQuote',
      Payload: { amount: 5, currency: 'GBP' },
    });
    expect(single(history, 'TaskStarted').taskStartedEventDetails).toEqual({
      resourceType: 'lambda',
      resource: 'invoke',
    });
    const succeeded = single(history, 'TaskSucceeded').taskSucceededEventDetails!;
    expect(succeeded).toEqual({
      resourceType: 'lambda',
      resource: 'invoke',
      output: expect.any(String),
      outputDetails: { truncated: false },
    });
    const result = { ExecutedVersion: '$LATEST', StatusCode: 200, Payload: { quoted: 10, currency: 'GBP' } };
    expect(parsed(succeeded.output)).toEqual(result);
    expect(parsed(execution.output)).toEqual(result);
  });

  it('hands the evaluated Parameters to the integration', async () => {
    // Prepare
    const calls = integrations.calls.length;
    const definition = {
      StartAt: 'Quote',
      States: {
        Quote: {
          Type: 'Task',
          Resource: LAMBDA_INVOKE,
          Parameters: { FunctionName: 'PriceQuote', 'Payload.$': '$.order' },
          End: true,
        },
      },
    };

    // Act
    await sfn.run(definition, { order: { amount: 3 } });

    // Assess
    const call = integrations.calls[calls]!;
    expect(call.parameters).toEqual({ FunctionName: 'PriceQuote', Payload: { amount: 3 } });
    expect(call.stateName).toBe('Quote');
  });

  it('shapes the result with ResultSelector, ResultPath and OutputPath, in that order', async () => {
    // Prepare
    const definition = {
      StartAt: 'Quote',
      States: {
        Quote: {
          Type: 'Task',
          Resource: LAMBDA_INVOKE,
          InputPath: '$.order',
          Parameters: { FunctionName: 'PriceQuote', Payload: { 'amount.$': '$.amount' } },
          ResultSelector: { 'price.$': '$.Payload.quoted', 'status.$': '$.StatusCode' },
          ResultPath: '$.quote',
          OutputPath: '$.quote',
          End: true,
        },
      },
    };

    // Act
    const { history } = await sfn.run(definition, { order: { amount: 4 }, customer: 'C-1' });

    // Assess
    // TaskSucceeded shows the raw result; the state's output is what the data-flow fields made of it.
    expect(parsed(single(history, 'TaskSucceeded').taskSucceededEventDetails?.output)).toMatchObject({
      Payload: { quoted: 8 },
    });
    expect(parsed(single(history, 'TaskStateExited').stateExitedEventDetails?.output)).toEqual({
      price: 8,
      status: 200,
    });
  });

  it('keeps the input when ResultPath is null', async () => {
    // Prepare
    const definition = {
      StartAt: 'Quote',
      States: {
        Quote: {
          Type: 'Task',
          Resource: LAMBDA_INVOKE,
          Parameters: { FunctionName: 'PriceQuote', Payload: {} },
          ResultPath: null,
          End: true,
        },
      },
    };

    // Act
    const { execution } = await sfn.run(definition, { customer: 'C-1' });

    // Assess
    expect(execution.output).toBe('{"customer":"C-1"}');
  });

  it('writes LambdaFunction* events for a bare Lambda function ARN', async () => {
    // Prepare
    const definition = {
      StartAt: 'Echo',
      States: { Echo: { Type: 'Task', Resource: FUNCTION_ARN, End: true } },
    };

    // Act
    const { history, execution } = await sfn.run(definition, { meter: 'M-1' });

    // Assess
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expectLinearChain(history);
    expect(single(history, 'LambdaFunctionScheduled').lambdaFunctionScheduledEventDetails).toEqual({
      resource: FUNCTION_ARN,
      input: '{"meter":"M-1"}',
      inputDetails: { truncated: false },
    });
    const started = single(history, 'LambdaFunctionStarted');
    expect(Object.keys(started).filter((key) => key.endsWith('EventDetails'))).toEqual([]);
    expect(single(history, 'LambdaFunctionSucceeded').lambdaFunctionSucceededEventDetails).toEqual({
      output: '{"echoed":{"meter":"M-1"}}',
      outputDetails: { truncated: false },
    });
    expect(execution.output).toBe('{"echoed":{"meter":"M-1"}}');
  });

  it('writes LambdaFunctionFailed with the function error for a bare Lambda function ARN', async () => {
    // Prepare
    const definition = {
      StartAt: 'Vend',
      States: { Vend: { Type: 'Task', Resource: FAILING_FUNCTION_ARN, End: true } },
    };

    // Act
    const { history, execution } = await sfn.run(definition, {});

    // Assess
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionFailed',
      'ExecutionFailed',
    ]);
    expect(single(history, 'LambdaFunctionFailed').lambdaFunctionFailedEventDetails).toEqual({
      error: 'MeterOffline',
      cause: 'The meter did not answer',
    });
    expect(single(history, 'ExecutionFailed').previousEventId).toBe(5);
    expect(execution.error).toBe('MeterOffline');
    expect(execution.cause).toBe('The meter did not answer');
  });
});

/**
 * Conformance tests for JSONPath data flow through whole executions: the context object, intrinsic
 * functions in Parameters, the failures of paths and of ResultPath, and workflow variables (Assign).
 *
 * Sources: the developer guide pages "Accessing execution data from the Context object", "Intrinsic
 * functions", "Passing data between states with variables", "Handling errors" (States.Runtime), and
 * execution histories recorded against AWS:
 * - LocalStack's published snapshots (tests/aws/services/stepfunctions/v2/context_object and assign): the
 *   context object of a Pass state is `{Execution:{Id,Input,StartTime,Name,RoleArn,RedriveCount},
 *   StateMachine:{Id,Name}, State:{Name,EnteredTime}}` (no RetryCount there); `$` in a Pass state's Assign
 *   is its Result; `assignedVariables` holds each value as JSON text.
 * - A real cause quoted on awsstudygroup.com: "An error occurred while executing the state 'Check Address'
 *   (entered at the event id #7). The JSONPath '$.application.address' specified for the field
 *   'address.$' could not be found in the input '{\"flagged\":false}'".
 * - A real cause quoted in a 2021 blog post (OutputPath on a Task): "An error occurred while executing the
 *   state 'AggregateIdentityResults' (entered at the event id #13). Invalid path '$.Payload' : No results
 *   for path: $['Payload']".
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EmbeddedStepFunctions,
  embeddedStepFunctions,
  eventTypes,
} from '../../testing/step-functions.ts';
import type { Json } from '../definition/types.ts';
import { InProcessIntegrations } from '../integrations.ts';
import { StatesError } from '../language/states-error.ts';

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const FLAKY = 'arn:aws:lambda:us-east-1:000000000000:function:Flaky';
const REFUSES = 'arn:aws:lambda:us-east-1:000000000000:function:Refuses';
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;

/** Fails the first two calls of each execution, recording the RetryCount each call was given. */
const retryCountsSeen = new Map<string, number[]>();
const integrations = new InProcessIntegrations()
  .handle(LAMBDA_INVOKE, ({ parameters }) => ({
    StatusCode: 200,
    Payload: { received: (parameters as { Payload?: Json }).Payload ?? null, price: 12 },
  }))
  .handle(REFUSES, () => {
    throw new StatesError('Meter.Locked', 'The meter is locked');
  })
  .handle(FLAKY, ({ parameters, execution }) => {
    const seen = retryCountsSeen.get(execution.arn) ?? [];
    seen.push((parameters as { retry: number }).retry);
    retryCountsSeen.set(execution.arn, seen);
    if (seen.length < 3) throw new StatesError('Meter.Busy', `attempt ${seen.length}`);
    return { attempts: seen.length };
  });

let sfn: EmbeddedStepFunctions;

beforeAll(async () => {
  sfn = await embeddedStepFunctions({ integrations });
});

afterAll(async () => {
  await sfn.close();
});

function eventsOf(history: readonly HistoryEvent[], type: string): HistoryEvent[] {
  return history.filter((event) => event.type === type);
}

function parsed(text: string | undefined): unknown {
  return JSON.parse(text ?? 'null');
}

function assignedOf(history: readonly HistoryEvent[], name: string): Record<string, string> | undefined {
  const exited = history.find(
    (event) => event.type!.endsWith('StateExited') && event.stateExitedEventDetails?.name === name,
  );
  return exited?.stateExitedEventDetails?.assignedVariables;
}

// ─── The context object ──────────────────────────────────────────────────────────────────────────────

describe('the context object', () => {
  it('gives the execution, state machine and state to $$ paths in Parameters', async () => {
    // Prepare
    const definition = {
      StartAt: 'Read context',
      States: {
        'Read context': {
          Type: 'Pass',
          Parameters: {
            'executionId.$': '$$.Execution.Id',
            'executionName.$': '$$.Execution.Name',
            'executionInput.$': '$$.Execution.Input',
            'startTime.$': '$$.Execution.StartTime',
            'roleArn.$': '$$.Execution.RoleArn',
            'machineId.$': '$$.StateMachine.Id',
            'machineName.$': '$$.StateMachine.Name',
            'stateName.$': '$$.State.Name',
            'enteredTime.$': '$$.State.EnteredTime',
          },
          End: true,
        },
      },
    };

    // Act
    const { execution, executionArn } = await sfn.run(definition, { meter: 'M-1' });

    // Assess
    const output = parsed(execution.output) as Record<string, unknown>;
    const machineArn = execution.stateMachineArn!;
    expect(output).toEqual({
      executionId: executionArn,
      executionName: execution.name,
      executionInput: { meter: 'M-1' },
      startTime: expect.stringMatching(ISO_TIME),
      roleArn: 'arn:aws:iam::000000000000:role/test',
      machineId: machineArn,
      machineName: machineArn.split(':').at(-1),
      stateName: 'Read context',
      enteredTime: expect.stringMatching(ISO_TIME),
    });
    expect(Date.parse(output.startTime as string)).toBe(execution.startDate!.getTime());
  });

  it('shows a Pass state the fields AWS shows it, and no RetryCount', async () => {
    // Prepare
    const definition = {
      StartAt: 'Whole context',
      States: { 'Whole context': { Type: 'Pass', Parameters: { 'context.$': '$$' }, End: true } },
    };

    // Act
    const { execution, executionArn } = await sfn.run(definition, { meter: 'M-1' });

    // Assess
    const { context } = parsed(execution.output) as { context: Record<string, Record<string, unknown>> };
    expect(context).toEqual({
      Execution: {
        Id: executionArn,
        Input: { meter: 'M-1' },
        StartTime: expect.stringMatching(ISO_TIME),
        Name: execution.name,
        RoleArn: 'arn:aws:iam::000000000000:role/test',
        RedriveCount: 0,
      },
      StateMachine: { Id: execution.stateMachineArn, Name: execution.stateMachineArn!.split(':').at(-1) },
      State: { Name: 'Whole context', EnteredTime: expect.stringMatching(ISO_TIME) },
    });
  });

  it('counts retries in $$.State.RetryCount', async () => {
    // Prepare
    const definition = {
      StartAt: 'Vend',
      States: {
        Vend: {
          Type: 'Task',
          Resource: FLAKY,
          Parameters: { 'retry.$': '$$.State.RetryCount' },
          Retry: [{ ErrorEquals: ['Meter.Busy'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 1 }],
          End: true,
        },
      },
    };

    // Act
    const { execution, executionArn, history } = await sfn.run(definition, {});

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(retryCountsSeen.get(executionArn)).toEqual([0, 1, 2]);
    expect(eventsOf(history, 'LambdaFunctionFailed')).toHaveLength(2);
    expect(execution.output).toBe('{"attempts":3}');
  });
});

// ─── Intrinsic functions ─────────────────────────────────────────────────────────────────────────────

describe('intrinsic functions in Parameters', () => {
  it.each([
    {
      expression: "States.Format('Meter {} topped up by £{}', $.meter, $.pounds)",
      value: 'Meter M-1 topped up by £10',
    },
    { expression: 'States.StringToJson($.json)', value: { a: 1 } },
    { expression: 'States.JsonToString($.object)', value: '{"b":[1,2]}' },
    { expression: 'States.Array($.meter, $.pounds, true)', value: ['M-1', 10, true] },
    { expression: 'States.ArrayLength($.list)', value: 3 },
    { expression: 'States.ArrayContains($.list, 2)', value: true },
    { expression: 'States.ArrayGetItem($.list, 1)', value: 2 },
    { expression: 'States.MathAdd($.pounds, -3)', value: 7 },
    { expression: "States.StringSplit('a,b,c', ',')", value: ['a', 'b', 'c'] },
    { expression: 'States.Base64Encode($.meter)', value: 'TS0x' },
    {
      expression: "States.Hash('abc', 'SHA-256')",
      value: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    },
  ])('$expression gives $value', async ({ expression, value }) => {
    // Prepare
    const definition = {
      StartAt: 'Compute',
      States: { Compute: { Type: 'Pass', Parameters: { 'value.$': expression }, End: true } },
    };
    const input = { meter: 'M-1', pounds: 10, json: '{"a":1}', object: { b: [1, 2] }, list: [1, 2, 3] };

    // Act
    const { execution } = await sfn.run(definition, input);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(parsed(execution.output)).toEqual({ value });
  });

  // AWS's recorded test_format_2 and test_string_to_json.
  it.each([
    {
      expression: "States.Format('Formatting arguments fst={} and snd={}.', $.fst, $.snd)",
      input: { fst: { Arg1: 1, Arg2: [] }, snd: null },
      value: 'Formatting arguments fst={Arg1=1, Arg2=[]} and snd=null.',
    },
    { expression: 'States.StringToJson($.text)', input: { text: '' }, value: null },
    { expression: 'States.StringToJson($.text)', input: { text: ' ' }, value: null },
    { expression: 'States.StringToJson($.text)', input: { text: '-0' }, value: 0 },
  ])('$expression on $input gives $value, as AWS does', async ({ expression, input, value }) => {
    // Prepare
    const definition = {
      StartAt: 'Compute',
      States: { Compute: { Type: 'Pass', Parameters: { 'FunctionResult.$': expression }, End: true } },
    };

    // Act
    const { execution } = await sfn.run(definition, input);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(parsed(execution.output)).toEqual({ FunctionResult: value });
  });

  it('makes a UUID with States.UUID()', async () => {
    // Prepare
    const definition = {
      StartAt: 'Compute',
      States: { Compute: { Type: 'Pass', Parameters: { 'id.$': 'States.UUID()' }, End: true } },
    };

    // Act
    const { execution } = await sfn.run(definition, {});

    // Assess
    expect((parsed(execution.output) as { id: string }).id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});

// ─── Path failures ───────────────────────────────────────────────────────────────────────────────────

describe('path failures', () => {
  const prefix = (state: string, eventId: number) =>
    `An error occurred while executing the state '${state}' (entered at the event id #${eventId}). `;

  it('fails with States.Runtime naming the field when a Parameters path matches nothing', async () => {
    // Prepare
    const definition = {
      StartAt: 'Check Address',
      States: {
        'Check Address': { Type: 'Pass', Parameters: { 'address.$': '$.application.address' }, End: true },
      },
    };

    // Act
    const { history, execution } = await sfn.run(definition, { flagged: false });

    // Assess
    expect(eventTypes(history)).toEqual(['ExecutionStarted', 'PassStateEntered', 'ExecutionFailed']);
    expect(eventsOf(history, 'ExecutionFailed')[0]!.executionFailedEventDetails).toEqual({
      error: 'States.Runtime',
      cause:
        prefix('Check Address', 2) +
        `The JSONPath '$.application.address' specified for the field 'address.$' could not be found in the input '{"flagged":false}'`,
    });
    expect(execution.error).toBe('States.Runtime');
  });

  it('names the entering event of a later state', async () => {
    // Prepare
    const definition = {
      StartAt: 'First',
      States: {
        First: { Type: 'Pass', Next: 'Second' },
        Second: { Type: 'Pass', Parameters: { 'x.$': '$.missing' }, End: true },
      },
    };

    // Act
    const { execution } = await sfn.run(definition, {});

    // Assess
    expect(execution.cause?.startsWith(prefix('Second', 4))).toBe(true);
  });

  it.each([
    { field: 'InputPath', state: { Type: 'Pass', InputPath: '$.order', End: true } },
    { field: 'OutputPath', state: { Type: 'Pass', OutputPath: '$.order', End: true } },
  ])('fails with States.Runtime worded as AWS words it when $field matches nothing', async ({ state }) => {
    // Prepare
    const definition = { StartAt: 'Select', States: { Select: state } };

    // Act
    const { history, execution } = await sfn.run(definition, { meter: 'M-1' });

    // Assess
    expect(eventTypes(history)).toEqual(['ExecutionStarted', 'PassStateEntered', 'ExecutionFailed']);
    expect(execution.error).toBe('States.Runtime');
    expect(execution.cause).toBe(
      `${prefix('Select', 2)}Invalid path '$.order' : No results for path: $['order']`,
    );
  });

  // AWS's recorded test_json_path_array_wildcard_or_slice_with_no_input: an indefinite path over a missing
  // property gives [], where a definite one fails.
  it.each([
    '$[*]',
    '$.items[*]',
    '$.items[1:]',
    '$.items[:1]',
    '$.item.items[*]',
    '$.item.items[1:5]',
    '$.items[*].itemValue',
    '$.items[1:].itemValue',
    '$.item.items[1:5].itemValue',
  ])('gives [] for %s on {} instead of failing', async (path) => {
    // Prepare
    const definition = {
      StartAt: 'EntryState',
      States: { EntryState: { Type: 'Pass', Parameters: { 'item.$': path }, End: true } },
    };

    // Act
    const { execution } = await sfn.run(definition, {});

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(parsed(execution.output)).toEqual({ item: [] });
  });

  it('fails a Task after its call when ResultSelector matches nothing, and Catch cannot catch it', async () => {
    // Prepare
    const definition = {
      StartAt: 'Quote',
      States: {
        Quote: {
          Type: 'Task',
          Resource: LAMBDA_INVOKE,
          Parameters: { FunctionName: 'PriceQuote', Payload: {} },
          ResultSelector: { 'total.$': '$.Payload.total' },
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Handled' }],
          End: true,
        },
        Handled: { Type: 'Succeed' },
      },
    };

    // Act
    const { history, execution } = await sfn.run(definition, {});

    // Assess
    // States.Runtime is not retriable or catchable: "States.ALL ... does not catch States.Runtime" (Handling
    // errors in Step Functions workflows).
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'ExecutionFailed',
    ]);
    expect(execution.error).toBe('States.Runtime');
    expect(execution.cause?.startsWith(prefix('Quote', 2))).toBe(true);
    expect(execution.cause).toContain("'$.Payload.total'");
  });

  it('fails with States.ResultPathMatchFailure when ResultPath cannot be applied to the input', async () => {
    // Prepare
    const definition = {
      StartAt: 'Place',
      States: { Place: { Type: 'Pass', Result: 1, ResultPath: '$.meter.credit', End: true } },
    };

    // Act
    const { history, execution } = await sfn.run(definition, { meter: 'M-1' });

    // Assess
    // The ASL specification names the error; AWS's exact sentence is not documented.
    expect(eventTypes(history)).toEqual(['ExecutionStarted', 'PassStateEntered', 'ExecutionFailed']);
    expect(execution.error).toBe('States.ResultPathMatchFailure');
    expect(execution.cause?.startsWith(prefix('Place', 2))).toBe(true);
    expect(execution.cause).toContain('$.meter.credit');
  });

  it('lets Catch handle States.ResultPathMatchFailure on a Task', async () => {
    // Prepare
    const definition = {
      StartAt: 'Quote',
      States: {
        Quote: {
          Type: 'Task',
          Resource: LAMBDA_INVOKE,
          Parameters: { FunctionName: 'PriceQuote', Payload: {} },
          ResultPath: '$.meter.quote',
          Catch: [{ ErrorEquals: ['States.ResultPathMatchFailure'], ResultPath: '$.error', Next: 'Handled' }],
          End: true,
        },
        Handled: { Type: 'Pass', End: true },
      },
    };

    // Act
    const { execution } = await sfn.run(definition, { meter: 'M-1' });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    const output = parsed(execution.output) as { meter: string; error: { Error: string; Cause: string } };
    expect(output.meter).toBe('M-1');
    expect(output.error.Error).toBe('States.ResultPathMatchFailure');
  });
});

// ─── Variables (JSONPath) ────────────────────────────────────────────────────────────────────────────

describe('variables assigned in JSONPath states', () => {
  it('reads $ in a Pass state Assign as its Result, and reports the values in assignedVariables', async () => {
    // Prepare
    const definition = {
      StartAt: 'Set',
      States: {
        Set: {
          Type: 'Pass',
          Result: { answer: 42, label: 'meter' },
          Assign: { 'theAnswer.$': '$.answer', 'label.$': '$.label', fixed: { a: [1, null] }, flag: true },
          ResultPath: '$.r',
          Next: 'Use',
        },
        Use: {
          Type: 'Pass',
          Parameters: { 'answer.$': '$theAnswer', 'label.$': '$label', 'nested.$': '$fixed.a[0]' },
          End: true,
        },
      },
    };

    // Act
    const { history, execution } = await sfn.run(definition, { input: 1 });

    // Assess
    const exited = history.find((event) => event.stateExitedEventDetails?.name === 'Set')!;
    expect(exited.stateExitedEventDetails).toEqual({
      name: 'Set',
      output: '{"input":1,"r":{"answer":42,"label":"meter"}}',
      outputDetails: { truncated: false },
      assignedVariables: { theAnswer: '42', label: '"meter"', fixed: '{"a":[1,null]}', flag: 'true' },
      assignedVariablesDetails: { truncated: false },
    });
    expect(parsed(execution.output)).toEqual({ answer: 42, label: 'meter', nested: 1 });
  });

  it('leaves assignedVariables out of states that assign nothing', async () => {
    // Act
    const { history } = await sfn.run({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }, {});

    // Assess
    const details = eventsOf(history, 'PassStateExited')[0]!.stateExitedEventDetails!;
    expect(Object.keys(details).sort()).toEqual(['name', 'output', 'outputDetails']);
  });

  it.each([
    { language: 'JSONPath', state: { Type: 'Pass', Assign: {}, End: true } },
    { language: 'JSONata', state: { Type: 'Pass', QueryLanguage: 'JSONata', Assign: {}, End: true } },
  ])(
    'leaves assignedVariables out of a $language state with an empty Assign, as AWS does',
    async ({ state }) => {
      // Act
      const { history } = await sfn.run({ StartAt: 'P', States: { P: state } }, {});

      // Assess
      expect(eventsOf(history, 'PassStateExited')[0]!.stateExitedEventDetails).toEqual({
        name: 'P',
        output: '{}',
        outputDetails: { truncated: false },
      });
    },
  );

  it('reports a variable assigned the value it already had', async () => {
    // Prepare
    const definition = {
      StartAt: 'First',
      States: {
        First: { Type: 'Pass', Assign: { count: 1 }, Next: 'Again' },
        Again: { Type: 'Pass', Assign: { count: 1 }, End: true },
      },
    };

    // Act
    const { history } = await sfn.run(definition, {});

    // Assess
    expect(assignedOf(history, 'Again')).toEqual({ count: '1' });
  });

  it('reads $ in a Task state Assign as the result after ResultSelector', async () => {
    // Prepare
    const definition = {
      StartAt: 'Quote',
      States: {
        Quote: {
          Type: 'Task',
          Resource: LAMBDA_INVOKE,
          Parameters: { FunctionName: 'PriceQuote', Payload: { meter: 'M-1' } },
          ResultSelector: { 'price.$': '$.Payload.price' },
          Assign: { 'price.$': '$.price' },
          ResultPath: null,
          End: true,
        },
      },
    };

    // Act
    const { history, execution } = await sfn.run(definition, { keep: true });

    // Assess
    expect(assignedOf(history, 'Quote')).toEqual({ price: '12' });
    expect(execution.output).toBe('{"keep":true}');
  });

  it('reads $ in Choice and Wait state Assign as the state input', async () => {
    // Prepare
    const definition = {
      StartAt: 'Route',
      States: {
        Route: {
          Type: 'Choice',
          Choices: [{ Variable: '$.amount', NumericGreaterThan: 0, Next: 'Pause' }],
          Assign: { 'routed.$': '$.amount' },
        },
        Pause: { Type: 'Wait', Seconds: 0, Assign: { 'waited.$': '$.meter' }, Next: 'Report' },
        Report: { Type: 'Pass', Parameters: { 'routed.$': '$routed', 'waited.$': '$waited' }, End: true },
      },
    };

    // Act
    const { history, execution } = await sfn.run(definition, { amount: 5, meter: 'M-1' });

    // Assess
    expect(assignedOf(history, 'Route')).toEqual({ routed: '5' });
    expect(assignedOf(history, 'Pause')).toEqual({ waited: '"M-1"' });
    expect(parsed(execution.output)).toEqual({ routed: 5, waited: 'M-1' });
  });

  it('evaluates every Assign expression with the values from before the state', async () => {
    // Prepare
    const definition = {
      StartAt: 'Init',
      States: {
        Init: { Type: 'Pass', Assign: { a: 1, b: 2 }, Next: 'Swap' },
        Swap: {
          Type: 'Pass',
          Assign: { 'a.$': '$b', 'b.$': '$a', 'sum.$': 'States.MathAdd($a, $b)' },
          Next: 'Read',
        },
        Read: { Type: 'Pass', Parameters: { 'a.$': '$a', 'b.$': '$b', 'sum.$': '$sum' }, End: true },
      },
    };

    // Act
    const { history, execution } = await sfn.run(definition, {});

    // Assess
    expect(assignedOf(history, 'Swap')).toEqual({ a: '2', b: '1', sum: '3' });
    expect(parsed(execution.output)).toEqual({ a: 2, b: 1, sum: 3 });
  });

  it('evaluates OutputPath with the variables from before the state assigns them', async () => {
    // Prepare
    const definition = {
      StartAt: 'Init',
      States: {
        Init: { Type: 'Pass', Assign: { answer: 42 }, Next: 'Reassign' },
        Reassign: { Type: 'Pass', Assign: { answer: 'later' }, OutputPath: '$answer', End: true },
      },
    };

    // Act
    const { execution } = await sfn.run(definition, {});

    // Assess
    expect(execution.output).toBe('42');
  });

  it('lets Parallel branches read outer variables, and keeps their own assignments inside them', async () => {
    // Prepare
    const definition = {
      StartAt: 'Init',
      States: {
        Init: { Type: 'Pass', Assign: { x: 42 }, Next: 'Fan out' },
        'Fan out': {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'Left',
              States: {
                Left: { Type: 'Pass', Assign: { inner: 'left' }, Next: 'Left report' },
                'Left report': { Type: 'Pass', Parameters: { 'x.$': '$x', 'inner.$': '$inner' }, End: true },
              },
            },
            {
              StartAt: 'Right',
              States: { Right: { Type: 'Pass', Parameters: { 'x.$': '$x' }, End: true } },
            },
          ],
          Next: 'After',
        },
        After: { Type: 'Pass', Parameters: { 'branches.$': '$', 'x.$': '$x' }, End: true },
      },
    };

    // Act
    const { execution } = await sfn.run(definition, {});

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(parsed(execution.output)).toEqual({ branches: [{ x: 42, inner: 'left' }, { x: 42 }], x: 42 });
  });

  it('lets Map iterations read outer variables in ItemSelector and inside each iteration', async () => {
    // Prepare
    const definition = {
      StartAt: 'Init',
      States: {
        Init: { Type: 'Pass', Assign: { rate: 2 }, Next: 'Each' },
        Each: {
          Type: 'Map',
          ItemsPath: '$.items',
          ItemSelector: { 'value.$': '$$.Map.Item.Value', 'rate.$': '$rate' },
          ItemProcessor: {
            StartAt: 'Price',
            States: {
              Price: {
                Type: 'Pass',
                Parameters: { 'value.$': '$.value', 'rate.$': '$rate', 'fromSelector.$': '$.rate' },
                End: true,
              },
            },
          },
          End: true,
        },
      },
    };

    // Act
    const { execution } = await sfn.run(definition, { items: [1, 2] });

    // Assess
    expect(parsed(execution.output)).toEqual([
      { value: 1, rate: 2, fromSelector: 2 },
      { value: 2, rate: 2, fromSelector: 2 },
    ]);
  });

  it('assigns from a Catch with $ as the error output', async () => {
    // Prepare
    const definition = {
      StartAt: 'Vend',
      States: {
        Vend: {
          Type: 'Task',
          Resource: REFUSES,
          Catch: [{ ErrorEquals: ['States.ALL'], Assign: { 'failure.$': '$.Error' }, Next: 'Report' }],
          End: true,
        },
        Report: { Type: 'Pass', Parameters: { 'failure.$': '$failure' }, End: true },
      },
    };

    // Act
    const { history, execution } = await sfn.run(definition, {});

    // Assess
    expect(assignedOf(history, 'Vend')).toEqual({ failure: '"Meter.Locked"' });
    expect(parsed(execution.output)).toEqual({ failure: 'Meter.Locked' });
  });
});

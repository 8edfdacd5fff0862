/**
 * Conformance tests for states written in JSONata, through whole executions: the machine-wide and the
 * per-state QueryLanguage, Arguments/Output/Assign, Choice Condition, Map Items/ItemSelector, Wait and Fail
 * expressions, `$states`, Catch with `$states.errorOutput`, and States.QueryEvaluationError.
 *
 * Sources: the developer guide pages "Transforming data with JSONata in Step Functions" (`$states.input`,
 * `.result`, `.errorOutput`, `.context`; Output defaults to the state input for Pass and to the result for
 * Task), "Passing data between states with variables" (Assign, variable scope), "Choice" (Condition), "Map"
 * (Items, ItemSelector), and the API reference of EvaluationFailedEventDetails (state, error, cause,
 * location: "present in state machines that have QueryLanguage set to JSONata"). A real
 * QueryEvaluationError cause, quoted in umccr's orcabus code: "An error occurred while executing the state
 * 'Run S3 Data Push' (entered at the event id #6). The JSONata expression '$states.input.pushLocation'
 * specified for the field 'Arguments/Input/pushLocation' returned nothing (undefined)."
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
const REFUSES = 'arn:aws:lambda:us-east-1:000000000000:function:Refuses';

const integrations = new InProcessIntegrations()
  .handle(LAMBDA_INVOKE, ({ parameters }) => ({
    StatusCode: 200,
    Payload: { received: (parameters as { Payload?: Json }).Payload ?? null, credited: 10 },
  }))
  .handle(REFUSES, () => {
    throw new StatesError('Meter.Locked', 'The meter is locked');
  });

let sfn: EmbeddedStepFunctions;

beforeAll(async () => {
  sfn = await embeddedStepFunctions({ integrations });
});

afterAll(async () => {
  await sfn.close();
});

function parsed(text: string | undefined): unknown {
  return JSON.parse(text ?? 'null');
}

function exitedOf(history: readonly HistoryEvent[], name: string): HistoryEvent {
  const exited = history.find(
    (event) => event.type!.endsWith('StateExited') && event.stateExitedEventDetails?.name === name,
  );
  expect(exited, `the StateExited event of ${name}`).toBeDefined();
  return exited!;
}

const prefix = (state: string, eventId: number) =>
  `An error occurred while executing the state '${state}' (entered at the event id #${eventId}). `;

/** Every event as `id ← previousEventId Type`, the way to compare links with a recorded AWS history. */
function links(history: readonly HistoryEvent[]): string[] {
  return history.map((event) => `${event.id} ← ${event.previousEventId} ${event.type}`);
}

// ─── Query language selection ────────────────────────────────────────────────────────────────────────

describe('choosing JSONata', () => {
  it('evaluates {% %} expressions in every state of a machine whose QueryLanguage is JSONata', async () => {
    // Prepare
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'Total',
      States: {
        Total: {
          Type: 'Pass',
          Output: { total: '{% $sum($states.input.lines.amount) %}', currency: 'GBP' },
          Next: 'Describe',
        },
        Describe: {
          Type: 'Pass',
          Output: "{% 'Total ' & $states.input.total & ' ' & $states.input.currency %}",
          End: true,
        },
      },
    };

    // Act
    const { history, execution } = await sfn.run(definition, { lines: [{ amount: 5 }, { amount: 7 }] });

    // Assess
    expect(parsed(exitedOf(history, 'Total').stateExitedEventDetails?.output)).toEqual({
      total: 12,
      currency: 'GBP',
    });
    expect(execution.output).toBe('"Total 12 GBP"');
  });

  it('lets one state use JSONata inside a JSONPath machine, and the next read its output with JSONPath', async () => {
    // Prepare
    const definition = {
      StartAt: 'Shape',
      States: {
        Shape: {
          Type: 'Pass',
          QueryLanguage: 'JSONata',
          Output: { meter: '{% $uppercase($states.input.meter) %}' },
          Next: 'Pick',
        },
        Pick: { Type: 'Pass', Parameters: { 'meter.$': '$.meter' }, End: true },
      },
    };

    // Act
    const { execution } = await sfn.run(definition, { meter: 'm-1' });

    // Assess
    expect(execution.output).toBe('{"meter":"M-1"}');
  });

  it('passes the input through a Pass state without Output, and leaves plain strings alone', async () => {
    // Prepare
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'Keep',
      States: {
        Keep: { Type: 'Pass', Next: 'Literal' },
        Literal: { Type: 'Pass', Output: { text: '$states.input', spaced: ' {% 1 %}' }, End: true },
      },
    };

    // Act
    const { history, execution } = await sfn.run(definition, { a: 1 });

    // Assess
    expect(exitedOf(history, 'Keep').stateExitedEventDetails?.output).toBe('{"a":1}');
    expect(parsed(execution.output)).toEqual({ text: '$states.input', spaced: ' {% 1 %}' });
  });
});

// ─── $states and the context ─────────────────────────────────────────────────────────────────────────

describe('$states', () => {
  it('gives the context object in $states.context', async () => {
    // Prepare
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'Context',
      States: {
        Context: {
          Type: 'Pass',
          Output: {
            id: '{% $states.context.Execution.Id %}',
            name: '{% $states.context.Execution.Name %}',
            input: '{% $states.context.Execution.Input %}',
            machine: '{% $states.context.StateMachine.Name %}',
            state: '{% $states.context.State.Name %}',
          },
          End: true,
        },
      },
    };

    // Act
    const { execution, executionArn } = await sfn.run(definition, { meter: 'M-1' });

    // Assess
    expect(parsed(execution.output)).toEqual({
      id: executionArn,
      name: execution.name,
      input: { meter: 'M-1' },
      machine: execution.stateMachineArn!.split(':').at(-1),
      state: 'Context',
    });
  });

  it('gives a Task its input in Arguments and its result in Output and Assign', async () => {
    // Prepare
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'Vend',
      States: {
        Vend: {
          Type: 'Task',
          Resource: LAMBDA_INVOKE,
          Arguments: { FunctionName: 'vend', Payload: { meter: '{% $states.input.meter %}' } },
          Assign: { credited: '{% $states.result.Payload.credited %}', meter: '{% $states.input.meter %}' },
          Output: {
            credited: '{% $states.result.Payload.credited %}',
            echoed: '{% $states.result.Payload.received %}',
          },
          Next: 'Report',
        },
        Report: { Type: 'Pass', Output: "{% $meter & ' +' & $credited %}", End: true },
      },
    };

    // Act
    const { history, execution } = await sfn.run(definition, { meter: 'M-1' });

    // Assess
    const scheduled = history.find((event) => event.type === 'TaskScheduled')!;
    expect(parsed(scheduled.taskScheduledEventDetails?.parameters)).toEqual({
      FunctionName: 'vend',
      Payload: { meter: 'M-1' },
    });
    const exited = exitedOf(history, 'Vend').stateExitedEventDetails!;
    expect(parsed(exited.output)).toEqual({ credited: 10, echoed: { meter: 'M-1' } });
    expect(exited.assignedVariables).toEqual({ credited: '10', meter: '"M-1"' });
    expect(exited.assignedVariablesDetails).toEqual({ truncated: false });
    expect(execution.output).toBe('"M-1 +10"');
  });

  it('makes a Task output its whole result when there is no Output', async () => {
    // Prepare
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'Vend',
      States: {
        Vend: {
          Type: 'Task',
          Resource: LAMBDA_INVOKE,
          Arguments: { FunctionName: 'vend', Payload: 1 },
          End: true,
        },
      },
    };

    // Act
    const { execution } = await sfn.run(definition, {});

    // Assess
    expect(parsed(execution.output)).toEqual({ StatusCode: 200, Payload: { received: 1, credited: 10 } });
  });

  it('evaluates all Assign expressions with the values from before the state', async () => {
    // Prepare
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'Init',
      States: {
        Init: { Type: 'Pass', Assign: { a: 1, b: 2 }, Next: 'Swap' },
        Swap: {
          Type: 'Pass',
          Assign: { a: '{% $b %}', b: '{% $a %}' },
          Output: '{% [$a, $b] %}',
          Next: 'Read',
        },
        Read: { Type: 'Pass', Output: '{% [$a, $b] %}', End: true },
      },
    };

    // Act
    const { history, execution } = await sfn.run(definition, {});

    // Assess
    // Output is evaluated with the variables as they were before the state, like Assign.
    expect(exitedOf(history, 'Swap').stateExitedEventDetails?.output).toBe('[1,2]');
    expect(execution.output).toBe('[2,1]');
  });
});

// ─── Choice, Map, Wait, Fail ─────────────────────────────────────────────────────────────────────────

describe('JSONata fields of the other state types', () => {
  it.each([
    { amount: 50, expected: 'Large' },
    { amount: 5, expected: 'Small' },
    { amount: -1, expected: 'Refund' },
  ])('routes a Choice on Condition: $amount goes to $expected', async ({ amount, expected }) => {
    // Prepare
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'Route',
      States: {
        Route: {
          Type: 'Choice',
          Choices: [
            { Condition: '{% $states.input.amount > 10 %}', Next: 'Large', Assign: { size: 'large' } },
            { Condition: '{% $states.input.amount > 0 %}', Next: 'Small', Output: { small: true } },
          ],
          Default: 'Refund',
        },
        Large: { Type: 'Pass', Output: '{% $size %}', End: true },
        Small: { Type: 'Pass', End: true },
        Refund: { Type: 'Pass', Output: 'refund', End: true },
      },
    };

    // Act
    const { history, execution } = await sfn.run(definition, { amount });

    // Assess
    const entered = history.filter((event) => event.type === 'PassStateEntered');
    expect(entered.map((event) => event.stateEnteredEventDetails?.name)).toEqual([expected]);
    const outputs = { Large: '"large"', Small: '{"small":true}', Refund: '"refund"' };
    expect(execution.output).toBe(outputs[expected as keyof typeof outputs]);
  });

  it('iterates a Map over Items with an ItemSelector that sees the item, its index and variables', async () => {
    // Prepare
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'Init',
      States: {
        Init: { Type: 'Pass', Assign: { rate: 3 }, Next: 'Each' },
        Each: {
          Type: 'Map',
          Items: '{% $states.input.lines %}',
          ItemSelector: {
            index: '{% $states.context.Map.Item.Index %}',
            value: '{% $states.context.Map.Item.Value %}',
            rate: '{% $rate %}',
          },
          ItemProcessor: {
            StartAt: 'Price',
            States: {
              Price: {
                Type: 'Pass',
                Output: '{% $states.input.value * $rate + $states.input.index %}',
                End: true,
              },
            },
          },
          End: true,
        },
      },
    };

    // Act
    const { execution } = await sfn.run(definition, { lines: [10, 20] });

    // Assess
    expect(execution.output).toBe('[30,61]');
  });

  it.each([
    { name: 'Seconds', state: { Seconds: '{% $states.input.delay %}' }, input: { delay: 1 } },
    {
      name: 'Timestamp',
      state: { Timestamp: '{% $states.input.until %}' },
      input: { until: '2020-01-01T00:00:00Z' },
    },
  ])('waits for a $name expression', async ({ state, input }) => {
    // Prepare
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'Pause',
      States: { Pause: { Type: 'Wait', ...state, End: true } },
    };

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
    expect(execution.output).toBe(JSON.stringify(input));
  });

  it('fails with the Error and Cause its expressions give', async () => {
    // Prepare
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'Refuse',
      States: {
        Refuse: {
          Type: 'Fail',
          Error: "{% 'Vend.' & $states.input.code %}",
          Cause: "{% 'Meter ' & $states.input.meter & ' refused' %}",
        },
      },
    };

    // Act
    const { history, execution } = await sfn.run(definition, { code: 'Locked', meter: 'M-1' });

    // Assess
    expect(eventTypes(history)).toEqual(['ExecutionStarted', 'FailStateEntered', 'ExecutionFailed']);
    expect(history[2]!.executionFailedEventDetails).toEqual({
      error: 'Vend.Locked',
      cause: 'Meter M-1 refused',
    });
    expect(execution.error).toBe('Vend.Locked');
  });
});

// ─── Catch and errors ────────────────────────────────────────────────────────────────────────────────

describe('errors in JSONata states', () => {
  it('gives a Catch the error in $states.errorOutput for its Output and Assign', async () => {
    // Prepare
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'Vend',
      States: {
        Vend: {
          Type: 'Task',
          Resource: REFUSES,
          Catch: [
            {
              ErrorEquals: ['States.ALL'],
              Output: { failed: '{% $states.errorOutput.Error %}', input: '{% $states.input %}' },
              Assign: { reason: '{% $states.errorOutput.Cause %}' },
              Next: 'Report',
            },
          ],
          End: true,
        },
        Report: { Type: 'Pass', Output: '{% $merge([$states.input, {"reason": $reason}]) %}', End: true },
      },
    };

    // Act
    const { history, execution } = await sfn.run(definition, { meter: 'M-1' });

    // Assess
    const exited = exitedOf(history, 'Vend').stateExitedEventDetails!;
    expect(parsed(exited.output)).toEqual({ failed: 'Meter.Locked', input: { meter: 'M-1' } });
    expect(exited.assignedVariables).toEqual({ reason: '"The meter is locked"' });
    expect(parsed(execution.output)).toEqual({
      failed: 'Meter.Locked',
      input: { meter: 'M-1' },
      reason: 'The meter is locked',
    });
  });

  it('outputs the error output itself from a Catch without Output', async () => {
    // Prepare
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'Vend',
      States: {
        Vend: {
          Type: 'Task',
          Resource: REFUSES,
          Catch: [{ ErrorEquals: ['Meter.Locked'], Next: 'Done' }],
          End: true,
        },
        Done: { Type: 'Succeed' },
      },
    };

    // Act
    const { execution } = await sfn.run(definition, {});

    // Assess
    expect(parsed(execution.output)).toEqual({ Error: 'Meter.Locked', Cause: 'The meter is locked' });
  });

  it.each([
    {
      name: 'returns nothing',
      output: { v: '{% $states.input.absent %}' },
      cause:
        "The JSONata expression '$states.input.absent' specified for the field 'Output/v' returned nothing (undefined).",
    },
    {
      name: 'throws',
      output: '{% $number("not a number") + 1 %}',
      causeStart:
        "The JSONata expression '$number(\"not a number\") + 1' specified for the field 'Output' threw an error during evaluation.",
    },
  ])(
    'fails the execution with States.QueryEvaluationError when an expression $name',
    async ({ output, cause, causeStart }) => {
      // Prepare
      const definition = {
        QueryLanguage: 'JSONata',
        StartAt: 'Shape',
        States: { Shape: { Type: 'Pass', Output: output, End: true } },
      };

      // Act
      const { history, execution } = await sfn.run(definition, { present: 1 });

      // Assess
      expect(execution.status).toBe('FAILED');
      expect(execution.error).toBe('States.QueryEvaluationError');
      if (cause !== undefined) expect(execution.cause).toBe(prefix('Shape', 2) + cause);
      if (causeStart !== undefined)
        expect(execution.cause?.startsWith(prefix('Shape', 2) + causeStart)).toBe(true);
      const failed = history.at(-1)!;
      expect(failed.type).toBe('ExecutionFailed');
      expect(failed.executionFailedEventDetails).toEqual({ error: execution.error, cause: execution.cause });
    },
  );

  it('names Arguments fields by their place in the template', async () => {
    // Prepare
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'Run S3 Data Push',
      States: {
        'Run S3 Data Push': {
          Type: 'Task',
          Resource: LAMBDA_INVOKE,
          Arguments: { FunctionName: 'push', Input: { pushLocation: '{% $states.input.pushLocation %}' } },
          End: true,
        },
      },
    };

    // Act
    const { history, execution } = await sfn.run(definition, {});

    // Assess
    expect(history.some((event) => event.type === 'TaskScheduled')).toBe(false);
    expect(execution.error).toBe('States.QueryEvaluationError');
    expect(execution.cause).toBe(
      prefix('Run S3 Data Push', 2) +
        "The JSONata expression '$states.input.pushLocation' specified for the field 'Arguments/Input/pushLocation' returned nothing (undefined).",
    );
  });

  it.each([
    { field: 'Output', state: { Type: 'Pass', Output: '{% $doesNotExist %}', End: true } },
    { field: 'Output/result', state: { Type: 'Pass', Output: { result: '{% $doesNotExist %}' }, End: true } },
    { field: 'Assign/result', state: { Type: 'Pass', Assign: { result: '{% $doesNotExist %}' }, End: true } },
    {
      field: 'Arguments/FunctionName',
      state: {
        Type: 'Task',
        Resource: LAMBDA_INVOKE,
        Arguments: { FunctionName: '{% $doesNotExist %}' },
        End: true,
      },
    },
  ])('records an EvaluationFailed event at $field before the execution fails', async ({ field, state }) => {
    // Prepare
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'First',
      States: { First: { Type: 'Pass', Next: 'Shape' }, Shape: state },
    };

    // Act
    const { history, execution } = await sfn.run(definition, {});

    // Assess
    // As in AWS histories (LocalStack's recorded test_undefined_reference snapshots): EvaluationFailed names
    // the same previous event as the state's entry, and ExecutionFailed follows it.
    expect(eventTypes(history).slice(3)).toEqual([
      `${state.Type}StateEntered`,
      'EvaluationFailed',
      'ExecutionFailed',
    ]);
    const cause = `${prefix('Shape', 4)}The JSONata expression '$doesNotExist' specified for the field '${field}' returned nothing (undefined).`;
    expect(history[4]!.evaluationFailedEventDetails).toEqual({
      state: 'Shape',
      location: field,
      error: 'States.QueryEvaluationError',
      cause,
    });
    expect(history[4]!.previousEventId).toBe(3);
    expect(history[5]!.previousEventId).toBe(5);
    expect(history[5]!.executionFailedEventDetails).toEqual({ error: 'States.QueryEvaluationError', cause });
    expect(execution.cause).toBe(cause);
  });

  it('lets a Catch handle States.QueryEvaluationError', async () => {
    // Prepare
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'Vend',
      States: {
        Vend: {
          Type: 'Task',
          Resource: LAMBDA_INVOKE,
          Arguments: { FunctionName: 'vend' },
          Output: '{% $states.result.Payload.missing %}',
          Catch: [
            {
              ErrorEquals: ['States.QueryEvaluationError'],
              Output: '{% $states.errorOutput %}',
              Next: 'Handled',
            },
          ],
          End: true,
        },
        Handled: { Type: 'Pass', End: true },
      },
    };

    // Act
    const { history, execution } = await sfn.run(definition, {});

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(eventTypes(history)).toContain('TaskSucceeded');
    const output = parsed(execution.output) as { Error: string; Cause: string };
    expect(output.Error).toBe('States.QueryEvaluationError');
    expect(output.Cause).toContain("'$states.result.Payload.missing' specified for the field 'Output'");
  });

  it('fails with States.QueryEvaluationError when a Choice Condition is not a boolean', async () => {
    // Prepare
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'Route',
      States: {
        Route: {
          Type: 'Choice',
          Choices: [{ Condition: '{% $states.input.amount %}', Next: 'Done' }],
          Default: 'Done',
        },
        Done: { Type: 'Succeed' },
      },
    };

    // Act
    const { execution } = await sfn.run(definition, { amount: 5 });

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.QueryEvaluationError');
    expect(execution.cause?.startsWith(prefix('Route', 2))).toBe(true);
  });

  it('fails with States.QueryEvaluationError when Map Items is not an array', async () => {
    // Prepare
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          Items: '{% $states.input.lines %}',
          ItemProcessor: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } },
          End: true,
        },
      },
    };

    // Act
    const { execution } = await sfn.run(definition, { lines: 'not a list' });

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.QueryEvaluationError');
    expect(execution.cause?.startsWith(prefix('Each', 2))).toBe(true);
  });

  // AWS's recorded test_map_state_items_eval_jsonata_fail: EvaluationFailed (chained as the Map's entry is),
  // then MapStateFailed on it, then ExecutionFailed.
  it.each([
    {
      items: '{% 1 %}',
      detail:
        "The JSONata expression '1' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'number' for value: 1",
    },
    {
      items: "{% 'string' %}",
      detail:
        "The JSONata expression ''string'' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'string' for value: \"string\"",
    },
    {
      items: "{% {'foo': 'bar'} %}",
      detail:
        "The JSONata expression '{'foo': 'bar'}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'object' for value: {\"foo\":\"bar\"}",
    },
    {
      items: '{% null %}',
      detail:
        "The JSONata expression 'null' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'null' for value: null",
    },
    {
      items: '{% $fn := function($x){$x} %}',
      detail:
        "The JSONata expression '$fn := function($x){$x}' specified for the field 'Items' returned an unsupported result type.",
    },
  ])('fails a Map whose Items gives $items as AWS does, with MapStateFailed', async ({ items, detail }) => {
    // Prepare
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'MapIterateState',
      States: {
        MapIterateState: {
          Type: 'Map',
          MaxConcurrency: 1,
          Items: items,
          ItemProcessor: { StartAt: 'Pass', States: { Pass: { Type: 'Pass', End: true } } },
          End: true,
        },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition, {});

    // Assess
    const cause = `${prefix('MapIterateState', 2)}${detail}`;
    expect(execution).toMatchObject({ status: 'FAILED', error: 'States.QueryEvaluationError', cause });
    expect(links(history)).toEqual([
      '1 ← 0 ExecutionStarted',
      '2 ← 0 MapStateEntered',
      '3 ← 0 EvaluationFailed',
      '4 ← 3 MapStateFailed',
      '5 ← 4 ExecutionFailed',
    ]);
    expect(history[2]!.evaluationFailedEventDetails).toEqual({
      error: 'States.QueryEvaluationError',
      cause,
      location: 'Items',
      state: 'MapIterateState',
    });
  });

  it('fails a Map without Items whose input is no array as AWS does, with MapStateFailed', async () => {
    // Prepare: AWS's recorded test_map_state_items_input_types[number].
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'Start',
      States: {
        Start: { Type: 'Pass', Output: '{% $states.input.items %}', Next: 'MapIterateState' },
        MapIterateState: {
          Type: 'Map',
          MaxConcurrency: 1,
          ItemProcessor: { StartAt: 'Pass', States: { Pass: { Type: 'Pass', End: true } } },
          End: true,
        },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition, { items: 1 });

    // Assess
    const cause = `${prefix('MapIterateState', 4)}Map state input must be an array but was: 1`;
    expect(execution).toMatchObject({ status: 'FAILED', error: 'States.QueryEvaluationError', cause });
    expect(links(history)).toEqual([
      '1 ← 0 ExecutionStarted',
      '2 ← 0 PassStateEntered',
      '3 ← 2 PassStateExited',
      '4 ← 3 MapStateEntered',
      '5 ← 3 EvaluationFailed',
      '6 ← 5 MapStateFailed',
      '7 ← 6 ExecutionFailed',
    ]);
    expect(history[4]!.evaluationFailedEventDetails).toEqual({
      error: 'States.QueryEvaluationError',
      cause,
      state: 'MapIterateState',
    });
  });

  // AWS's recorded test_wait_timestamp_jsonata: unlike other JSONata failures, the EvaluationFailed of a
  // Timestamp that does not parse chains on WaitStateEntered.
  it.each([
    { case: 'no T', timestamp: '2016-12-05 21:29:29Z' },
    { case: 'no Z', timestamp: '2016-12-05T21:29:29' },
    { case: 'an invalid date', timestamp: '2016-13-05T21:29:29Z' },
    { case: 'an invalid time', timestamp: '2016-12-05T25:29:29Z' },
    { case: 'day first', timestamp: '05-12-2016T21:29:29Z' },
  ])('fails a Wait whose Timestamp has $case with EvaluationFailed', async ({ timestamp }) => {
    // Prepare
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'WaitState',
      States: { WaitState: { Type: 'Wait', Timestamp: '{% $states.input.TimestampValue %}', End: true } },
    };

    // Act
    const { execution, history } = await sfn.run(definition, { TimestampValue: timestamp });

    // Assess
    const cause = `${prefix('WaitState', 2)}The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: ${timestamp}`;
    expect(execution).toMatchObject({ status: 'FAILED', error: 'States.QueryEvaluationError', cause });
    expect(links(history)).toEqual([
      '1 ← 0 ExecutionStarted',
      '2 ← 0 WaitStateEntered',
      '3 ← 2 EvaluationFailed',
      '4 ← 3 ExecutionFailed',
    ]);
    expect(history[2]!.evaluationFailedEventDetails).toEqual({
      error: 'States.QueryEvaluationError',
      cause,
      location: 'Timestamp',
      state: 'WaitState',
    });
  });

  it('waits until a Timestamp expression with a Z or an offset', async () => {
    // Prepare
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'WaitState',
      States: { WaitState: { Type: 'Wait', Timestamp: '{% $states.input.until %}', End: true } },
    };

    // Act
    const runs = await Promise.all(
      ['2016-12-05T21:29:29Z', '2016-12-05T21:29:29.000000Z', '2016-12-05T21:29:29+01:00'].map((until) =>
        sfn.run(definition, { until }),
      ),
    );

    // Assess
    for (const { execution } of runs) expect(execution.status).toBe('SUCCEEDED');
  });
});

describe('JSONata literals', () => {
  it('outputs a key ending in .$ as it is written', async () => {
    // Prepare: from AWS's recorded test_base_cases[BASE_LITERALS].
    const definition = {
      StartAt: 'State0',
      States: {
        State0: {
          QueryLanguage: 'JSONata',
          Type: 'Pass',
          Output: { 'constant_jp_input.$': '$', constant_jp_input_path: '$.input_value' },
          End: true,
        },
      },
    };

    // Act
    const { execution } = await sfn.run(definition, { input_value: 1 });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(parsed(execution.output)).toEqual({
      'constant_jp_input.$': '$',
      constant_jp_input_path: '$.input_value',
    });
  });
});

import { describe, expect, it } from 'vitest';
import { formatProblems, validateDefinition, validateStateDefinition } from './validate.ts';

type Obj = Record<string, unknown>;

const LAMBDA = 'arn:aws:lambda:eu-west-1:123456789012:function:charge';
const INVOKE = 'arn:aws:states:::lambda:invoke';

/** A machine with one state `S` under test, and the terminal `Done` when `S` mentions it. */
function machine(state: Obj, top: Obj = {}): string {
  const done = JSON.stringify(state).includes('"Done"') ? { Done: { Type: 'Succeed' } } : {};
  return JSON.stringify({ StartAt: 'S', ...top, States: { S: state, ...done } });
}

function problemsOf(definition: string, type?: 'STANDARD' | 'EXPRESS') {
  const result = validateDefinition(definition, type === undefined ? {} : { type });
  return result.ok ? [] : result.problems;
}

const jsonata = { QueryLanguage: 'JSONata' };

describe('validateDefinition accepts', () => {
  it.each<[string, string]>([
    [
      'a Pass with Result and paths',
      machine({
        Type: 'Pass',
        Result: { a: 1 },
        ResultPath: '$.r',
        InputPath: '$',
        OutputPath: null,
        Next: 'Done',
      }),
    ],
    [
      'a Pass with .$ parameters and an intrinsic',
      machine({
        Type: 'Pass',
        Parameters: {
          'id.$': '$.id',
          'msg.$': "States.Format('x{}', $.id)",
          nested: { 'n.$': '$$.Execution.Id' },
        },
        Next: 'Done',
      }),
    ],
    [
      'a Task with Retry, Catch and timeouts',
      machine({
        Type: 'Task',
        Resource: LAMBDA,
        TimeoutSeconds: 30,
        HeartbeatSeconds: 10,
        Retry: [
          {
            ErrorEquals: ['States.Timeout'],
            IntervalSeconds: 1,
            MaxAttempts: 0,
            BackoffRate: 1.5,
            MaxDelaySeconds: 5,
            JitterStrategy: 'FULL',
          },
          { ErrorEquals: ['States.ALL'] },
        ],
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Done' }],
        ResultSelector: { 'p.$': '$.Payload' },
        Next: 'Done',
      }),
    ],
    [
      'a Task with TimeoutSecondsPath',
      machine({
        Type: 'Task',
        Resource: INVOKE,
        TimeoutSecondsPath: '$.timeout',
        HeartbeatSecondsPath: '$.beat',
        End: true,
      }),
    ],
    [
      'a Choice with nested rules and Default',
      machine({
        Type: 'Choice',
        Choices: [
          {
            And: [
              { Variable: '$.n', NumericGreaterThan: 1 },
              { Not: { Variable: '$.s', StringEquals: 'x' } },
            ],
            Next: 'Done',
          },
          { Variable: '$.t', TimestampLessThanPath: '$.u', Next: 'Done' },
          { Variable: '$.v', IsPresent: true, Next: 'Done' },
        ],
        Default: 'Done',
      }),
    ],
    ['a Wait on Seconds', machine({ Type: 'Wait', Seconds: 5, Next: 'Done' })],
    ['a Wait on a Timestamp', machine({ Type: 'Wait', Timestamp: '2016-03-14T01:59:00Z', Next: 'Done' })],
    ['a Wait on TimestampPath', machine({ Type: 'Wait', TimestampPath: '$.when', Next: 'Done' })],
    [
      'a Fail with ErrorPath and CausePath',
      machine({ Type: 'Fail', ErrorPath: '$.error', CausePath: "States.Format('{}', $.cause)" }),
    ],
    [
      'a Parallel with two branches',
      machine({
        Type: 'Parallel',
        Branches: [
          { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } },
          { StartAt: 'B', States: { B: { Type: 'Succeed' } } },
        ],
        Next: 'Done',
      }),
    ],
    [
      'an inline Map with ItemProcessor',
      machine({
        Type: 'Map',
        ItemsPath: '$.items',
        MaxConcurrency: 2,
        ItemSelector: { 'v.$': '$$.Map.Item.Value' },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'I',
          States: { I: { Type: 'Pass', End: true } },
        },
        Next: 'Done',
      }),
    ],
    [
      'a legacy Map with Iterator and Parameters',
      machine({
        Type: 'Map',
        Parameters: { 'v.$': '$$.Map.Item.Value' },
        Iterator: { StartAt: 'I', States: { I: { Type: 'Pass', End: true } } },
        End: true,
      }),
    ],
    [
      'a distributed Map with tolerated failures',
      machine({
        Type: 'Map',
        ToleratedFailurePercentage: 5,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' },
          StartAt: 'I',
          States: { I: { Type: 'Pass', End: true } },
        },
        End: true,
      }),
    ],
    [
      'JSONPath Assign with variables',
      machine({ Type: 'Pass', Assign: { total: 3, 'id.$': '$.id' }, Next: 'Done' }),
    ],
    [
      'a top-level Comment, Version and TimeoutSeconds',
      machine({ Type: 'Pass', End: true }, { Comment: 'c', Version: '1.0', TimeoutSeconds: 60 }),
    ],
    [
      'a JSONata Pass',
      machine(
        { Type: 'Pass', Output: '{% $states.input.a %}', Assign: { x: '{% 1 + 1 %}' }, Next: 'Done' },
        jsonata,
      ),
    ],
    [
      'a JSONata Task with Arguments and expression timeouts',
      machine(
        {
          Type: 'Task',
          Resource: INVOKE,
          Arguments: { Payload: '{% $states.input %}' },
          TimeoutSeconds: '{% $t %}',
          Catch: [{ ErrorEquals: ['States.ALL'], Output: '{% $states.errorOutput %}', Next: 'Done' }],
          End: true,
        },
        jsonata,
      ),
    ],
    [
      'a JSONata Choice with Condition',
      machine(
        {
          Type: 'Choice',
          Choices: [{ Condition: '{% $states.input.n > 1 %}', Next: 'Done', Assign: { big: true } }],
          Default: 'Done',
        },
        jsonata,
      ),
    ],
    [
      'a JSONata Wait on an expression',
      machine({ Type: 'Wait', Seconds: '{% $states.input.delay %}', Next: 'Done' }, jsonata),
    ],
    [
      'a JSONata Fail with expressions',
      machine({ Type: 'Fail', Error: '{% $states.input.code %}', Cause: 'literal' }, jsonata),
    ],
    [
      'a JSONata Map with Items',
      machine(
        {
          Type: 'Map',
          Items: '{% $states.input.list %}',
          ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', End: true } } },
          End: true,
        },
        jsonata,
      ),
    ],
    [
      'a JSONata state in a JSONPath machine',
      machine({ Type: 'Pass', QueryLanguage: 'JSONata', Output: '{% 1 %}', Next: 'Done' }),
    ],
    // AWS accepts these three (its recorded test_map_state_legacy_config_distributed, test_base_map
    // [TOLERATED_FAILURE_COUNT / _PERCENTAGE] and test_base_cases[BASE_LITERALS] ran them).
    [
      'a ProcessorConfig inside a legacy Iterator',
      machine({
        Type: 'Map',
        Iterator: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'I',
          States: { I: { Type: 'Pass', End: true } },
        },
        End: true,
      }),
    ],
    [
      'ToleratedFailureCount on an inline JSONata Map',
      machine(
        {
          Type: 'Map',
          Items: [1],
          MaxConcurrency: 1,
          ToleratedFailureCount: '{% $variable := 1 %}',
          ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', End: true } } },
          End: true,
        },
        jsonata,
      ),
    ],
    [
      'ToleratedFailurePercentage on an inline JSONata Map',
      machine(
        {
          Type: 'Map',
          Items: [1],
          ToleratedFailurePercentage: 100,
          ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', End: true } } },
          End: true,
        },
        jsonata,
      ),
    ],
    [
      'a .$ key in a JSONata Output literal',
      machine(
        { Type: 'Pass', Output: { 'constant_jp_input.$': '$', constant: 0 }, End: true },
        { QueryLanguage: 'JSONata' },
      ),
    ],
  ])('%s', (_name, definition) => {
    // Act
    const result = validateDefinition(definition);

    // Assess
    expect(result.ok ? [] : result.problems).toEqual([]);
  });
});

describe('validateDefinition refuses', () => {
  it.each<[string, string, string, string]>([
    // [case, definition, code, location]
    [
      'a missing StartAt',
      JSON.stringify({ States: { A: { Type: 'Succeed' } } }),
      'SCHEMA_VALIDATION_FAILED',
      '/',
    ],
    ['an unknown top-level field', machine({ Type: 'Succeed' }, { Foo: 1 }), 'SCHEMA_VALIDATION_FAILED', '/'],
    [
      'a bad top-level QueryLanguage',
      machine({ Type: 'Pass', End: true }, { QueryLanguage: 'XPath' }),
      'SCHEMA_VALIDATION_FAILED',
      '/QueryLanguage',
    ],
    [
      'a StartAt naming no state',
      JSON.stringify({ StartAt: 'X', States: { A: { Type: 'Succeed' } } }),
      'MISSING_TRANSITION_TARGET',
      '/StartAt',
    ],
    ['a state without Type', machine({ End: true }), 'SCHEMA_VALIDATION_FAILED', '/States/S'],
    ['an unknown Type', machine({ Type: 'Sleep', End: true }), 'SCHEMA_VALIDATION_FAILED', '/States/S/Type'],
    [
      'a field the type does not support',
      machine({ Type: 'Pass', TimeoutSeconds: 3, End: true }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S',
    ],
    [
      'Catch on a Pass',
      machine({ Type: 'Pass', Catch: [], End: true }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S',
    ],
    [
      'both Next and End',
      machine({ Type: 'Pass', Next: 'Done', End: true }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S',
    ],
    ['neither Next nor End', machine({ Type: 'Pass' }), 'SCHEMA_VALIDATION_FAILED', '/States/S'],
    [
      'Next on a Succeed',
      machine({ Type: 'Succeed', Next: 'Done' }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S',
    ],
    [
      'a Next naming no state',
      machine({ Type: 'Pass', Next: 'Nowhere' }),
      'MISSING_TRANSITION_TARGET',
      '/States/S/Next',
    ],
    [
      'a Catch Next naming no state',
      machine({
        Type: 'Task',
        Resource: INVOKE,
        Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Gone' }],
        Next: 'Done',
      }),
      'MISSING_TRANSITION_TARGET',
      '/States/S/Catch[0]/Next',
    ],
    [
      'a Default naming no state',
      machine({
        Type: 'Choice',
        Choices: [{ Variable: '$.a', IsNull: true, Next: 'Done' }],
        Default: 'Gone',
      }),
      'MISSING_TRANSITION_TARGET',
      '/States/S/Default',
    ],
    [
      'a state name over 80 characters',
      JSON.stringify({ StartAt: 'x'.repeat(81), States: { ['x'.repeat(81)]: { Type: 'Succeed' } } }),
      'INVALID_STATE_NAME',
      `/States/${'x'.repeat(81)}`,
    ],
    [
      'an invalid InputPath',
      machine({ Type: 'Pass', InputPath: 'items', End: true }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/InputPath',
    ],
    [
      'a ResultPath with a wildcard',
      machine({ Type: 'Pass', ResultPath: '$.a[*]', End: true }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/ResultPath',
    ],
    [
      'an ItemsPath that is no reference path',
      machine({
        Type: 'Map',
        ItemsPath: '$..x',
        ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Succeed' } } },
        End: true,
      }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/ItemsPath',
    ],
    [
      'a .$ value that is no path',
      machine({ Type: 'Pass', Parameters: { deep: { 'id.$': 'id' } }, End: true }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/Parameters/deep/id.$',
    ],
    [
      'a Task without Resource',
      machine({ Type: 'Task', End: true }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S',
    ],
    [
      'an unrecognised Resource',
      machine({ Type: 'Task', Resource: 'charge-card', End: true }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/Resource',
    ],
    [
      'TimeoutSeconds with TimeoutSecondsPath',
      machine({ Type: 'Task', Resource: INVOKE, TimeoutSeconds: 5, TimeoutSecondsPath: '$.t', End: true }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S',
    ],
    [
      'a zero TimeoutSeconds',
      machine({ Type: 'Task', Resource: INVOKE, TimeoutSeconds: 0, End: true }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/TimeoutSeconds',
    ],
    [
      'HeartbeatSeconds not below TimeoutSeconds',
      machine({ Type: 'Task', Resource: INVOKE, TimeoutSeconds: 10, HeartbeatSeconds: 10, End: true }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/HeartbeatSeconds',
    ],
    [
      'a negative MaxAttempts',
      machine({
        Type: 'Task',
        Resource: INVOKE,
        Retry: [{ ErrorEquals: ['E'], MaxAttempts: -1 }],
        End: true,
      }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/Retry[0]/MaxAttempts',
    ],
    [
      'MaxAttempts over its limit',
      machine({
        Type: 'Task',
        Resource: INVOKE,
        Retry: [{ ErrorEquals: ['E'], MaxAttempts: 100000000 }],
        End: true,
      }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/Retry[0]/MaxAttempts',
    ],
    [
      'a BackoffRate below 1',
      machine({
        Type: 'Task',
        Resource: INVOKE,
        Retry: [{ ErrorEquals: ['E'], BackoffRate: 0.5 }],
        End: true,
      }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/Retry[0]/BackoffRate',
    ],
    [
      'an IntervalSeconds of 0',
      machine({
        Type: 'Task',
        Resource: INVOKE,
        Retry: [{ ErrorEquals: ['E'], IntervalSeconds: 0 }],
        End: true,
      }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/Retry[0]/IntervalSeconds',
    ],
    [
      'an unknown JitterStrategy',
      machine({
        Type: 'Task',
        Resource: INVOKE,
        Retry: [{ ErrorEquals: ['E'], JitterStrategy: 'HALF' }],
        End: true,
      }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/Retry[0]/JitterStrategy',
    ],
    [
      'a MaxDelaySeconds of 0',
      machine({
        Type: 'Task',
        Resource: INVOKE,
        Retry: [{ ErrorEquals: ['E'], MaxDelaySeconds: 0 }],
        End: true,
      }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/Retry[0]/MaxDelaySeconds',
    ],
    [
      'States.ALL with other errors',
      machine({ Type: 'Task', Resource: INVOKE, Retry: [{ ErrorEquals: ['States.ALL', 'E'] }], End: true }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/Retry[0]/ErrorEquals',
    ],
    [
      'States.ALL before the last catcher',
      machine({
        Type: 'Task',
        Resource: INVOKE,
        Catch: [
          { ErrorEquals: ['States.ALL'], Next: 'Done' },
          { ErrorEquals: ['E'], Next: 'Done' },
        ],
        End: true,
      }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/Catch[0]/ErrorEquals',
    ],
    [
      'an empty ErrorEquals',
      machine({ Type: 'Task', Resource: INVOKE, Retry: [{ ErrorEquals: [] }], End: true }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/Retry[0]/ErrorEquals',
    ],
    [
      'a catcher without Next',
      machine({ Type: 'Task', Resource: INVOKE, Catch: [{ ErrorEquals: ['E'] }], End: true }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/Catch[0]',
    ],
    [
      'a Choice without Choices',
      machine({ Type: 'Choice', Default: 'Done' }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S',
    ],
    [
      'a Choice rule without Next',
      machine({ Type: 'Choice', Choices: [{ Variable: '$.a', IsNull: true }], Default: 'Done' }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/Choices[0]',
    ],
    [
      'a nested rule with Next',
      machine({
        Type: 'Choice',
        Choices: [{ Not: { Variable: '$.a', IsNull: true, Next: 'Done' }, Next: 'Done' }],
      }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/Choices[0]/Not',
    ],
    [
      'two operators in one rule',
      machine({
        Type: 'Choice',
        Choices: [{ Variable: '$.a', StringEquals: 'x', IsNull: true, Next: 'Done' }],
      }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/Choices[0]',
    ],
    [
      'a rule with no operator',
      machine({ Type: 'Choice', Choices: [{ Variable: '$.a', Next: 'Done' }] }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/Choices[0]',
    ],
    [
      'a numeric operator with a string operand',
      machine({ Type: 'Choice', Choices: [{ Variable: '$.a', NumericEquals: '1', Next: 'Done' }] }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/Choices[0]/NumericEquals',
    ],
    [
      'a ...Path operand that is no path',
      machine({ Type: 'Choice', Choices: [{ Variable: '$.a', StringEqualsPath: 'b', Next: 'Done' }] }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/Choices[0]/StringEqualsPath',
    ],
    [
      'an empty And',
      machine({ Type: 'Choice', Choices: [{ And: [], Next: 'Done' }] }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/Choices[0]/And',
    ],
    [
      'a Wait with Seconds and Timestamp',
      machine({ Type: 'Wait', Seconds: 1, Timestamp: '2016-03-14T01:59:00Z', Next: 'Done' }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S',
    ],
    [
      'a Wait with no duration',
      machine({ Type: 'Wait', Next: 'Done' }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S',
    ],
    [
      'a Wait on a malformed Timestamp',
      machine({ Type: 'Wait', Timestamp: '2016-03-14 01:59:00', Next: 'Done' }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/Timestamp',
    ],
    [
      'a Fail with Error and ErrorPath',
      machine({ Type: 'Fail', Error: 'E', ErrorPath: '$.e' }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S',
    ],
    [
      'a non-string ErrorPath',
      machine({ Type: 'Fail', ErrorPath: 3 }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/ErrorPath',
    ],
    [
      'a Parallel without Branches',
      machine({ Type: 'Parallel', End: true }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S',
    ],
    [
      'a branch transitioning out of itself',
      machine({
        Type: 'Parallel',
        Branches: [{ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Done' } } }],
        Next: 'Done',
      }),
      'MISSING_TRANSITION_TARGET',
      '/States/S/Branches[0]/States/A/Next',
    ],
    [
      'an unreachable state in a branch',
      machine({
        Type: 'Parallel',
        Branches: [{ StartAt: 'A', States: { A: { Type: 'Succeed' }, Ghost: { Type: 'Succeed' } } }],
        Next: 'Done',
      }),
      'MISSING_TRANSITION_TARGET',
      '/States/S/Branches[0]/States/Ghost',
    ],
    [
      'QueryLanguage on an ItemProcessor',
      machine({
        Type: 'Map',
        ItemProcessor: { QueryLanguage: 'JSONPath', StartAt: 'I', States: { I: { Type: 'Succeed' } } },
        End: true,
      }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/ItemProcessor',
    ],
    [
      'a Map with neither ItemProcessor nor Iterator',
      machine({ Type: 'Map', End: true }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S',
    ],
    [
      'an unknown ProcessorConfig Mode',
      machine({
        Type: 'Map',
        ItemProcessor: {
          ProcessorConfig: { Mode: 'REMOTE' },
          StartAt: 'I',
          States: { I: { Type: 'Succeed' } },
        },
        End: true,
      }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/ItemProcessor/ProcessorConfig/Mode',
    ],
    [
      'a DISTRIBUTED Map without ExecutionType',
      machine({
        Type: 'Map',
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED' },
          StartAt: 'I',
          States: { I: { Type: 'Succeed' } },
        },
        End: true,
      }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/ItemProcessor/ProcessorConfig',
    ],
    [
      'ToleratedFailureCount on an inline Map',
      machine({
        Type: 'Map',
        ToleratedFailureCount: 1,
        ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Succeed' } } },
        End: true,
      }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S',
    ],
    [
      'MaxConcurrency with MaxConcurrencyPath',
      machine({
        Type: 'Map',
        MaxConcurrency: 1,
        MaxConcurrencyPath: '$.m',
        ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Succeed' } } },
        End: true,
      }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S',
    ],
    [
      'a negative MaxConcurrency',
      machine({
        Type: 'Map',
        MaxConcurrency: -1,
        ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Succeed' } } },
        End: true,
      }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/MaxConcurrency',
    ],
    [
      'a state name repeated in a branch',
      JSON.stringify({
        StartAt: 'P',
        States: {
          P: {
            Type: 'Parallel',
            Branches: [{ StartAt: 'P', States: { P: { Type: 'Succeed' } } }],
            End: true,
          },
        },
      }),
      'DUPLICATE_STATE_NAME',
      '/States/P/Branches[0]/States/P',
    ],
    [
      'a state name repeated in one States object',
      '{"StartAt":"A","States":{"A":{"Type":"Pass","End":true},"A":{"Type":"Succeed"}}}',
      'DUPLICATE_STATE_NAME',
      '/States/A',
    ],
    [
      'the reserved variable states',
      machine({ Type: 'Pass', Assign: { states: 1 }, End: true }),
      'RESERVED_VARIABLE_NAME',
      '/States/S/Assign',
    ],
    [
      'a variable name with a hyphen',
      machine({ Type: 'Pass', Assign: { 'order-id': 1 }, End: true }),
      'INVALID_VARIABLE_NAME',
      '/States/S/Assign',
    ],
    [
      'a JSONPath field in a JSONata state',
      machine({ Type: 'Pass', InputPath: '$.a', End: true }, jsonata),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S',
    ],
    [
      'a JSONata field in a JSONPath state',
      machine({ Type: 'Pass', Output: {}, End: true }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S',
    ],
    [
      'a JSONPath state in a JSONata machine',
      machine({ Type: 'Pass', QueryLanguage: 'JSONPath', End: true }, jsonata),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S',
    ],
    [
      'a Variable in a JSONata Choice',
      machine({ Type: 'Choice', Choices: [{ Variable: '$.a', IsNull: true, Next: 'Done' }] }, jsonata),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/Choices[0]',
    ],
    [
      'a Condition in a JSONPath Choice',
      machine({ Type: 'Choice', Choices: [{ Condition: true, Next: 'Done' }] }),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S/Choices[0]',
    ],
    [
      'SecondsPath in a JSONata Wait',
      machine({ Type: 'Wait', SecondsPath: '$.s', Next: 'Done' }, jsonata),
      'SCHEMA_VALIDATION_FAILED',
      '/States/S',
    ],
  ])('%s', (_name, definition, code, location) => {
    // Act
    const problems = problemsOf(definition);

    // Assess
    expect(problems).toContainEqual(expect.objectContaining({ code, location }));
  });

  it('lists every problem, in the order AWS reports a dangling Next and an unreachable state', () => {
    // Prepare: the definition of localstack issue #11978, with the message real AWS gave for it.
    const definition = JSON.stringify({
      StartAt: 'pass1',
      States: { pass1: { Type: 'Pass', Next: 'pass3' }, pass2: { Type: 'Pass', End: true } },
    });

    // Act
    const result = validateDefinition(definition);

    // Assess
    expect(result.ok).toBe(false);
    expect(formatProblems(result.ok ? [] : result.problems)).toBe(
      `Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next, MISSING_TRANSITION_TARGET: State "pass2" is not reachable. at /States/pass2'`,
    );
  });

  it('names an unsupported field at its state, as AWS did for ResultPath on a Wait', () => {
    // Prepare
    const definition = JSON.stringify({
      StartAt: 'Wait',
      States: { Wait: { Type: 'Wait', Seconds: 10, ResultPath: null, End: true } },
    });

    // Act
    const problems = problemsOf(definition);

    // Assess
    expect(formatProblems(problems)).toBe(
      "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Field 'ResultPath' is not supported at /States/Wait'",
    );
  });

  it('reports a workflow with no terminal state without a location, and not its reachability', () => {
    // Prepare
    const definition = JSON.stringify({
      StartAt: 'A',
      States: { A: { Type: 'Pass', Next: 'B' }, B: { Type: 'Pass', Next: 'A' } },
    });

    // Act
    const problems = problemsOf(definition);

    // Assess
    expect(formatProblems(problems)).toBe(
      "Invalid State Machine Definition: 'MISSING_END_STATE: Workflow has no terminal state at null'",
    );
  });

  it.each<[string, string]>([
    ['.waitForTaskToken', 'arn:aws:states:::sqs:sendMessage.waitForTaskToken'],
    ['.sync', 'arn:aws:states:::states:startExecution.sync:2'],
  ])('refuses %s in an EXPRESS machine, with AWS trailing space', (suffix, resource) => {
    // Prepare
    const definition = JSON.stringify({
      StartAt: 'SendMessageWithWait',
      States: { SendMessageWithWait: { Type: 'Task', Resource: resource, End: true } },
    });

    // Act
    const express = problemsOf(definition, 'EXPRESS');
    const standard = problemsOf(definition, 'STANDARD');

    // Assess
    expect(express).toEqual([
      {
        code: 'SCHEMA_VALIDATION_FAILED',
        message: `Express state machine does not support '${suffix}' service integration `,
        location: '/States/SendMessageWithWait/Resource',
      },
    ]);
    expect(standard).toEqual([]);
  });

  it('refuses STANDARD children of a distributed Map in an EXPRESS machine', () => {
    // Prepare
    const definition = machine({
      Type: 'Map',
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: 'I',
        States: { I: { Type: 'Succeed' } },
      },
      End: true,
    });

    // Act
    const problems = problemsOf(definition, 'EXPRESS');

    // Assess
    expect(problems.map((problem) => problem.location)).toEqual([
      '/States/S/ItemProcessor/ProcessorConfig/ExecutionType',
    ]);
  });

  it('reports both missing top-level fields, States first, at the root', () => {
    // Act
    const problems = problemsOf('{}');

    // Assess
    expect(problems).toEqual([
      {
        code: 'SCHEMA_VALIDATION_FAILED',
        message: 'These fields are required: [States, StartAt]',
        location: '/',
      },
    ]);
  });

  it('reports the downgrade alone, as AWS does, not the fields it makes foreign', () => {
    // Prepare
    const definition = machine(
      { Type: 'Pass', QueryLanguage: 'JSONPath', Output: '{% 1 %}', End: true },
      jsonata,
    );

    // Act
    const problems = problemsOf(definition);

    // Assess
    expect(problems.map((problem) => problem.message)).toEqual([
      "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
    ]);
  });

  it.each<[string, string, string]>([
    ['not a definition', "Unrecognized token 'not'", 'line: 1, column: 4]'],
    ['{"StartAt": }', "Unexpected character ('}' (code 125)): expected a value", 'line: 1, column: 14]'],
    ['{"StartAt": "A"', 'Unexpected end-of-input: expected close marker for Object', 'line: 1, column: 16]'],
  ])('reports malformed JSON %j as INVALID_JSON_DESCRIPTION', (text, message, position) => {
    // Act
    const problems = problemsOf(text);

    // Assess
    expect(problems).toHaveLength(1);
    expect(problems[0]?.code).toBe('INVALID_JSON_DESCRIPTION');
    expect(problems[0]?.message).toContain(message);
    expect(problems[0]?.location).toMatch(
      new RegExp(`^\\[Source: \\(String\\)".*; ${position.replace(/[\]]/g, '\\]')}$`),
    );
  });

  it('quotes the source and position for a bare word, as AWS does', () => {
    // Act
    const problems = problemsOf('not a definition');

    // Assess
    expect(problems).toEqual([
      {
        code: 'INVALID_JSON_DESCRIPTION',
        message:
          "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: (String)\"not a definition\"; line: 1, column: 4]",
        location: '[Source: (String)"not a definition"; line: 1, column: 4]',
      },
    ]);
  });

  it.each(['', '[]', '"text"', '42'])('refuses %j, which is not an object', (text) => {
    // Act
    const problems = problemsOf(text);

    // Assess
    expect(problems.map((problem) => problem.code)).toEqual([
      text === '' ? 'INVALID_JSON_DESCRIPTION' : 'SCHEMA_VALIDATION_FAILED',
    ]);
  });

  it('returns the parsed definition when valid', () => {
    // Act
    const result = validateDefinition(machine({ Type: 'Pass', Next: 'Done' }));

    // Assess
    expect(result.ok && result.definition.States.S?.Type).toBe('Pass');
  });

  it('refuses a malformed JSONata expression with the parser message', () => {
    // Act
    const problems = problemsOf(machine({ Type: 'Pass', Output: { v: '{% 1 + %}' }, End: true }, jsonata));

    // Assess
    expect(problems).toContainEqual(
      expect.objectContaining({ code: 'INVALID_JSONATA_EXPRESSION', location: '/States/S/Output/v' }),
    );
  });

  it('refuses a malformed intrinsic call in a .$ field', () => {
    // Act
    const problems = problemsOf(
      machine({ Type: 'Pass', Parameters: { 'x.$': 'States.Format(' }, End: true }),
    );

    // Assess
    expect(problems).toContainEqual(
      expect.objectContaining({ code: 'SCHEMA_VALIDATION_FAILED', location: '/States/S/Parameters/x.$' }),
    );
  });
});

describe('validateStateDefinition', () => {
  it.each<[string, Obj]>([
    ['a Task without Next or End', { Type: 'Task', Resource: INVOKE }],
    ['a Pass whose Next names no state', { Type: 'Pass', Next: 'Elsewhere' }],
    [
      'a Choice whose rules name other states',
      { Type: 'Choice', Choices: [{ Variable: '$.a', IsNull: true, Next: 'X' }] },
    ],
    ['a JSONata Pass', { Type: 'Pass', QueryLanguage: 'JSONata', Output: '{% $states.input %}', End: true }],
  ])('accepts %s', (_name, state) => {
    // Act
    const result = validateStateDefinition(JSON.stringify(state));

    // Assess
    expect(result.ok ? [] : result.problems).toEqual([]);
  });

  it('wraps the state in a one-state machine for the engine', () => {
    // Act
    const result = validateStateDefinition('{"Type":"Pass","End":true}', { stateName: 'Probe' });

    // Assess
    expect(result.ok && result.definition).toEqual({
      StartAt: 'Probe',
      States: { Probe: { Type: 'Pass', End: true } },
    });
  });

  it.each<[string, Obj, string]>([
    ['an unknown field', { Type: 'Pass', Foo: 1, End: true }, '/'],
    [
      'a bad retrier',
      { Type: 'Task', Resource: INVOKE, Retry: [{ ErrorEquals: ['E'], BackoffRate: 0 }], End: true },
      '/Retry[0]/BackoffRate',
    ],
    ['both Next and End', { Type: 'Pass', Next: 'A', End: true }, '/'],
  ])('refuses %s, located from the state root', (_name, state, location) => {
    // Act
    const result = validateStateDefinition(JSON.stringify(state));

    // Assess
    expect(result.ok ? [] : result.problems).toContainEqual(expect.objectContaining({ location }));
  });
});

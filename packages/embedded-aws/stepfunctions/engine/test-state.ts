/**
 * TestState: runs one state once, as the console's "Test state" does, without creating a state machine.
 *
 * The state runs inside a throwaway in-memory engine. Its transitions are pointed at stand-in terminal
 * states so we can tell which state would come next; its Retry and Catch are taken out, so that every failure
 * ends the run with its error and cause, even one no history event records (Parameters over the payload
 * quota fail the state before anything is scheduled), and TestState then applies them itself (TestState never
 * waits to retry: it reports RETRIABLE instead). A mock, when given, answers the task instead of the service.
 */
import type { Json, JsonObject, State, StateMachineDefinition } from '../definition/types.ts';
import type { ServiceIntegrations } from '../integrations.ts';
import { StatesError } from '../language/states-error.ts';
import { completeState, effectiveInput, parametersFor, type StateScope } from './data-flow.ts';
import { StepFunctionsEngine } from './engine.ts';
import { type HistoryEvent, payloadText } from './history.ts';
import { dataLimitExceeded, exceedsPayloadLimit } from './payload-limit.ts';
import { findCatcher, findRetrier, isCatchable, maxAttemptsOf } from './retry-policy.ts';

export interface TestStateRequest {
  readonly state: State;
  readonly stateName: string;
  readonly input: Json;
  readonly variables: Record<string, Json>;
  readonly inspectionLevel: 'INFO' | 'DEBUG' | 'TRACE';
  /** A mocked task result or error; without one, the task calls the real integration. */
  readonly mock?: { readonly result: Json } | { readonly error: string; readonly cause: string };
  /** How many retries the state is assumed to have made already (stateConfiguration.retrierRetryCount). */
  readonly retrierRetryCount: number;
  readonly queryLanguage: 'JSONPath' | 'JSONata';
}

export interface TestStateResult {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'RETRIABLE' | 'CAUGHT_ERROR';
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly nextState?: string;
  readonly inspectionData?: Record<string, unknown>;
}

const NEXT_PREFIX = '\u0000next:';
const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:TestState';

export async function runTestState(
  request: TestStateRequest,
  integrations: ServiceIntegrations,
  region: string,
): Promise<TestStateResult> {
  const { definition, targets } = isolate(request);
  const mockedIntegrations: ServiceIntegrations = request.mock
    ? { invoke: async () => mockOutcome(request.mock!) }
    : integrations;
  const engine = await StepFunctionsEngine.open({ dataDir: null, integrations: mockedIntegrations, region });
  try {
    const machine = {
      arn: STATE_MACHINE_ARN,
      name: 'TestState',
      type: 'STANDARD' as const,
      definition: JSON.stringify(definition),
      roleArn: 'arn:aws:iam::000000000000:role/TestState',
      creationDate: Date.now(),
      revisionId: 'test',
    };
    const execution = engine.start(machine, {
      arn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:test`,
      name: 'test',
      input: JSON.stringify(request.input),
      durable: false,
      variables: request.variables,
    });
    const finished = await engine.finished(execution.arn);
    const history = engine.history(finished.arn);
    const inspectionData =
      request.inspectionLevel === 'INFO' ? undefined : await inspect(request, history, finished.output);

    if (finished.status !== 'SUCCEEDED') {
      return withInspection(
        await afterFailure(request, finished.error ?? '', finished.cause ?? ''),
        inspectionData,
      );
    }
    const nextEntered = history.find(
      (event) => event.type.endsWith('StateEntered') && stateNameOf(event).startsWith(NEXT_PREFIX),
    );
    return withInspection(
      {
        status: 'SUCCEEDED',
        output: finished.output,
        ...(nextEntered !== undefined ? { nextState: targets.get(stateNameOf(nextEntered)) } : {}),
      },
      inspectionData,
    );
  } finally {
    await engine.close();
  }
}

/**
 * The answer for the state's failure, handled as an execution handles it (`retry-catch.ts`): a Retrier with
 * attempts left makes it RETRIABLE, else a Catcher makes it CAUGHT_ERROR with the Catcher's output and Next,
 * else it is FAILED.
 */
async function afterFailure(
  request: TestStateRequest,
  error: string,
  cause: string,
): Promise<TestStateResult> {
  if (!isCatchable(error)) return { status: 'FAILED', error, cause };
  const retriers = 'Retry' in request.state ? request.state.Retry : undefined;
  const retrier = retriers?.[findRetrier(retriers, error)];
  if (retrier !== undefined && request.retrierRetryCount < maxAttemptsOf(retrier)) {
    return { status: 'RETRIABLE', error, cause };
  }
  const catcher = findCatcher('Catch' in request.state ? request.state.Catch : undefined, error);
  if (catcher === undefined) return { status: 'FAILED', error, cause };
  const errorOutput = { Error: error, Cause: cause };
  try {
    const { output } = await completeState(
      { ResultPath: catcher.ResultPath, Output: catcher.Output, Assign: catcher.Assign },
      { rawInput: request.input, result: errorOutput, errorOutput },
      scopeOf(request),
    );
    // The Catcher's output is the state's output, so the quota holds for it too.
    if (exceedsPayloadLimit(output)) throw dataLimitExceeded(request.stateName);
    return { status: 'CAUGHT_ERROR', error, cause, output: JSON.stringify(output), nextState: catcher.Next };
  } catch (failure) {
    if (!(failure instanceof StatesError)) throw failure;
    return { status: 'FAILED', error: failure.error, cause: failure.cause };
  }
}

function scopeOf(request: TestStateRequest): StateScope {
  return {
    queryLanguage: request.state.QueryLanguage ?? request.queryLanguage,
    variables: request.variables,
    context: {},
  };
}

function mockOutcome(mock: NonNullable<TestStateRequest['mock']>): Json {
  if ('result' in mock) return mock.result;
  throw new StatesError(mock.error, mock.cause);
}

/** The state alone, its transitions redirected to named stand-ins, its Retry and Catch removed. */
function isolate(request: TestStateRequest): {
  definition: StateMachineDefinition;
  targets: Map<string, string>;
} {
  const targets = new Map<string, string>();
  const redirect = (name: string): string => {
    const standIn = `${NEXT_PREFIX}${name}`;
    targets.set(standIn, name);
    return standIn;
  };
  const state = JSON.parse(JSON.stringify(request.state)) as Record<string, unknown>;
  delete state.Retry;
  delete state.Catch;
  if (typeof state.Next === 'string') state.Next = redirect(state.Next);
  if (typeof state.Default === 'string') state.Default = redirect(state.Default);
  for (const rule of (state.Choices as JsonObject[] | undefined) ?? []) {
    if (typeof rule.Next === 'string') rule.Next = redirect(rule.Next);
  }
  // TestState reports a Wait's outcome without waiting.
  if (state.Type === 'Wait') {
    for (const field of ['Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath']) delete state[field];
    state.Seconds = 0;
  }
  const states: Record<string, State> = { [request.stateName]: state as unknown as State };
  for (const standIn of targets.keys()) states[standIn] = { Type: 'Succeed' } as State;
  return {
    definition: { StartAt: request.stateName, States: states, QueryLanguage: request.queryLanguage },
    targets,
  };
}

function stateNameOf(event: HistoryEvent): string {
  const details = event.stateEnteredEventDetails as { name?: string } | undefined;
  return details?.name ?? '';
}

function withInspection(
  result: TestStateResult,
  inspectionData: Record<string, unknown> | undefined,
): TestStateResult {
  return inspectionData === undefined ? result : { ...result, inspectionData };
}

/** DEBUG and TRACE show the data at each step of the state's input/output processing. */
async function inspect(
  request: TestStateRequest,
  history: readonly HistoryEvent[],
  output: string | undefined,
): Promise<Record<string, unknown>> {
  const data: Record<string, unknown> = { input: JSON.stringify(request.input) };
  const scope = scopeOf(request);
  data.variables = JSON.stringify(request.variables);
  try {
    if (scope.queryLanguage === 'JSONPath') {
      const afterInputPath = effectiveInput(request.state, request.input, scope);
      data.afterInputPath = JSON.stringify(afterInputPath);
      const template = 'Parameters' in request.state ? request.state.Parameters : undefined;
      if (
        request.state.Type === 'Task' ||
        request.state.Type === 'Pass' ||
        request.state.Type === 'Parallel'
      ) {
        data.afterParameters = JSON.stringify(
          await parametersFor(template, afterInputPath, request.input, scope),
        );
      }
      const succeeded = history.find(
        (event) => event.type === 'TaskSucceeded' || event.type === 'LambdaFunctionSucceeded',
      );
      if (succeeded !== undefined) {
        const details = Object.values(succeeded).find(
          (value) => value !== null && typeof value === 'object',
        ) as { output: unknown };
        const resultText = payloadText(details.output) ?? 'null';
        data.result = resultText;
        const result = JSON.parse(resultText) as Json;
        const selected =
          'ResultSelector' in request.state && request.state.ResultSelector !== undefined
            ? (
                await completeState(
                  { ResultSelector: request.state.ResultSelector, ResultPath: '$' },
                  { rawInput: request.input, result },
                  scope,
                )
              ).output
            : result;
        data.afterResultSelector = JSON.stringify(selected);
        const resultPath = 'ResultPath' in request.state ? request.state.ResultPath : undefined;
        data.afterResultPath = JSON.stringify(
          (
            await completeState(
              { ResultPath: resultPath },
              { rawInput: request.input, result: selected },
              scope,
            )
          ).output,
        );
      }
    } else if (output !== undefined) {
      const succeeded = history.find((event) => event.type === 'TaskSucceeded');
      if (succeeded)
        data.result = payloadText((succeeded.taskSucceededEventDetails as { output: unknown }).output);
    }
  } catch {
    // The run itself reports the error; inspection shows what it could compute before it.
  }
  return data;
}

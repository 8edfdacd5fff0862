/** Wait: until a number of seconds after the state was entered, or until a timestamp. */
import type { Json, WaitState } from '../../definition/types.ts';
import { timestampSeconds } from '../../language/choice-rules.ts';
import { type JsonPathScope, queryPath } from '../../language/json-path.ts';
import { evaluateJsonataTemplate } from '../../language/jsonata.ts';
import { StatesError } from '../../language/states-error.ts';
import { sleepUntil } from '../abortable.ts';
import { stateScope } from '../context-object.ts';
import {
  completeState,
  effectiveInput,
  evaluateNumberField,
  jsonataScope,
  jsonPathScope,
} from '../data-flow.ts';
import { type BranchRun, type Interpreter, nextStep, type StepResult } from '../interpreter.ts';
import { DataFlowError } from '../state-failures.ts';
import { recordEvaluationFailed, stateCause } from './data-flow-failure.ts';

/** The longest delay AWS lets a Wait state ask for, in seconds (24855 days pass, 24856 do not). */
const MAX_WAIT_SECONDS = 2 ** 31 - 1;

export async function waitStep(
  interpreter: Interpreter,
  run: BranchRun,
  state: WaitState,
): Promise<StepResult> {
  const raw = run.checkpoint.input;
  const scope = stateScope(interpreter, run, state);
  const input = effectiveInput(state, raw, scope);
  let step = run.checkpoint.step;
  // The due time is worked out once and kept, so a resumed Wait ends when it would have.
  if (step?.kind !== 'wait') {
    const enteredAt = run.checkpoint.entered!.time;
    let dueAt: number;
    if (state.SecondsPath !== undefined && scope.queryLanguage === 'JSONPath') {
      dueAt = enteredAt + secondsAt(state.SecondsPath, jsonPathScope(input, scope)) * 1000;
    } else if (state.TimestampPath !== undefined && scope.queryLanguage === 'JSONPath') {
      dueAt = timestampAt(state.TimestampPath, jsonPathScope(input, scope));
    } else if (state.Timestamp !== undefined) {
      const timestamp =
        scope.queryLanguage === 'JSONata'
          ? await evaluateJsonataTemplate(state.Timestamp, jsonataScope(scope, { input: raw }), 'Timestamp')
          : state.Timestamp;
      dueAt = timestampField(interpreter, run, timestamp);
    } else {
      dueAt = enteredAt + ((await evaluateNumberField(state, 'Seconds', input, raw, scope)) ?? 0) * 1000;
    }
    // AWS refuses a delay past 2^31 - 1 seconds (about 68 years), whatever gave it.
    if (dueAt - enteredAt > MAX_WAIT_SECONDS * 1000) {
      throw new StatesError('States.Runtime', 'Wait state delay is too long.');
    }
    step = { kind: 'wait', dueAt };
    interpreter.save(run, { step });
  }
  await sleepUntil(step.dueAt, () => interpreter.host.now(), run.signal);
  const outcome = await completeState(state, { rawInput: raw, result: input }, scope, 'input');
  return nextStep(run, state, outcome);
}

/**
 * The Timestamp field's value as a due time, to the second (AWS drops the fraction). One that does not
 * parse (only a JSONata expression can give one: the validator checks a literal) fails as AWS fails it:
 * States.QueryEvaluationError, with an EvaluationFailed event chained on WaitStateEntered (not, as for
 * other JSONata failures, on the event before it).
 */
function timestampField(interpreter: Interpreter, run: BranchRun, timestamp: Json): number {
  const seconds = timestampSeconds(timestamp);
  if (seconds !== undefined) return seconds * 1000;
  const wording = `The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: ${textOf(timestamp)}`;
  const cause = stateCause(run, wording);
  const error = 'States.QueryEvaluationError';
  const id = recordEvaluationFailed(interpreter, run, error, cause, {
    location: 'Timestamp',
    previousEventId: run.checkpoint.entered?.eventId,
  });
  throw new DataFlowError(error, cause, id);
}

/**
 * SecondsPath: a whole number of seconds, at least 0, or the execution fails with AWS's wording for each case
 * (`The SecondsPath parameter references a negative value: $.x == -1`).
 */
function secondsAt(path: string, scope: JsonPathScope): number {
  const value = referencedValue('SecondsPath', path, scope);
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new StatesError(
      'States.Runtime',
      `The SecondsPath parameter cannot be parsed as a long value: ${path} == ${textOf(value)}`,
    );
  }
  if (value < 0) {
    throw new StatesError(
      'States.Runtime',
      `The SecondsPath parameter references a negative value: ${path} == ${textOf(value)}`,
    );
  }
  return value;
}

/**
 * TimestampPath: an ISO-8601 date-time with an uppercase `T` and a `Z` or a numeric offset, as AWS requires,
 * to the second (AWS drops the fraction).
 */
function timestampAt(path: string, scope: JsonPathScope): number {
  const value = referencedValue('TimestampPath', path, scope);
  const seconds = timestampSeconds(value);
  if (seconds === undefined) {
    throw new StatesError(
      'States.Runtime',
      `The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: ${path} == ${textOf(value)}`,
    );
  }
  return seconds * 1000;
}

/** The value a SecondsPath or TimestampPath names, in AWS's wording when it names none. */
function referencedValue(field: 'SecondsPath' | 'TimestampPath', path: string, scope: JsonPathScope): Json {
  const found = queryPath(path, scope);
  // AWS's wording for a missing SecondsPath, assumed to hold for TimestampPath too.
  if (!found.found) {
    throw new StatesError(
      'States.Runtime',
      `The ${field} parameter does not reference an input value: ${path}`,
    );
  }
  return found.value;
}

/** A value as AWS quotes it in a cause: strings as they are, anything else as JSON text. */
function textOf(value: Json): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Pass: its input, or its Result, or its Parameters, on to the next state. */
import type { Json, PassState } from '../../definition/types.ts';
import { stateScope } from '../context-object.ts';
import { completeState, effectiveInput, parametersFor, type StateScope } from '../data-flow.ts';
import { type BranchRun, type Interpreter, nextStep, type StepResult } from '../interpreter.ts';
import { dataLimitExceeded, exceedsPayloadLimit } from '../payload-limit.ts';

export async function passStep(
  interpreter: Interpreter,
  run: BranchRun,
  state: PassState,
): Promise<StepResult> {
  const raw = run.checkpoint.input;
  const scope = stateScope(interpreter, run, state);
  if (scope.queryLanguage === 'JSONata') {
    const outcome = await completeState(state, { rawInput: raw, result: raw }, scope, 'input');
    return nextStep(run, state, outcome);
  }
  const input = effectiveInput(state, raw, scope);
  const result =
    state.Result !== undefined ? state.Result : await passParameters(state, input, raw, scope, run);
  const outcome = await completeState(state, { rawInput: raw, result }, scope);
  return nextStep(run, state, outcome);
}

/**
 * The Pass's Parameters, held to the payload quota before ResultPath or OutputPath could shrink them: the
 * developer guide's States.DataLimitExceeded covers "the input of a state" after Parameters. A Pass returns
 * what its Parameters make, so the cause is the one AWS records for a Pass's oversized result ("The state/task
 * '<state>' returned a result …"); no recorded history shows a Pass's Parameters over the quota.
 */
async function passParameters(
  state: PassState,
  input: Json,
  raw: Json,
  scope: StateScope,
  run: BranchRun,
): Promise<Json> {
  const parameters = await parametersFor(state.Parameters, input, raw, scope);
  if (state.Parameters !== undefined && exceedsPayloadLimit(parameters)) {
    throw dataLimitExceeded(run.checkpoint.state);
  }
  return parameters;
}

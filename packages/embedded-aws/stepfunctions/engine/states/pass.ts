/** Pass: its input, or its Result, or its Parameters, on to the next state. */
import type { PassState } from '../../definition/types.ts';
import { stateScope } from '../context-object.ts';
import { completeState, effectiveInput, parametersFor } from '../data-flow.ts';
import { type BranchRun, type Interpreter, nextStep, type StepResult } from '../interpreter.ts';

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
    state.Result !== undefined ? state.Result : await parametersFor(state.Parameters, input, raw, scope);
  const outcome = await completeState(state, { rawInput: raw, result }, scope);
  return nextStep(run, state, outcome);
}

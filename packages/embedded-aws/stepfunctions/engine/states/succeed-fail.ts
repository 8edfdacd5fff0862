/** The states that end their branch: Succeed with its output, Fail with its Error and Cause. */
import type { FailState, SucceedState } from '../../definition/types.ts';
import { stateScope } from '../context-object.ts';
import { assignVariables, completeState, effectiveInput, evaluateStringField } from '../data-flow.ts';
import type { BranchRun, Interpreter, StepResult } from '../interpreter.ts';
import { FailStateError } from '../state-failures.ts';
import { withDataFlowCause } from './data-flow-failure.ts';

export async function succeedStep(
  interpreter: Interpreter,
  run: BranchRun,
  state: SucceedState,
): Promise<StepResult> {
  const raw = run.checkpoint.input;
  const scope = stateScope(interpreter, run, state);
  const input = effectiveInput(state, raw, scope);
  const outcome = await completeState(state, { rawInput: raw, result: input }, scope, 'input');
  return {
    end: true,
    output: outcome.output,
    variables: assignVariables(run.checkpoint.variables, outcome.assigned),
    assigned: outcome.assigned,
  };
}

export async function failStep(interpreter: Interpreter, run: BranchRun, state: FailState): Promise<never> {
  const raw = run.checkpoint.input;
  const scope = stateScope(interpreter, run, state);
  const [error, cause] = await withDataFlowCause(interpreter, run, async () => {
    const input = effectiveInput(state, raw, scope);
    return [
      await evaluateStringField(state, 'Error', input, raw, scope),
      await evaluateStringField(state, 'Cause', input, raw, scope),
    ];
  });
  throw new FailStateError(error ?? '', cause ?? '');
}

/** Which module runs each state type, and what they all share around it. */
import type { ChoiceState, PassState, State, SucceedState, WaitState } from '../../definition/types.ts';
import type { BranchRun, Interpreter, StepResult } from '../interpreter.ts';
import { choiceStep } from './choice.ts';
import { dataFlowFailure } from './data-flow-failure.ts';
import { mapStep } from './map.ts';
import { parallelStep } from './parallel.ts';
import { passStep } from './pass.ts';
import { withRetries } from './retry-catch.ts';
import { failStep, succeedStep } from './succeed-fail.ts';
import { taskStep } from './task.ts';
import { waitStep } from './wait.ts';

/** Runs the state a branch is in, once: the branch loop records what it gives. */
export function runState(interpreter: Interpreter, run: BranchRun, state: State): Promise<StepResult> {
  switch (state.Type) {
    // Retry and Catch must see a failure moving data as the state's own: withRetries names it itself.
    case 'Task':
      return withRetries(interpreter, run, state, () => taskStep(interpreter, run, state));
    case 'Parallel':
      return withRetries(interpreter, run, state, () => parallelStep(interpreter, run, state));
    case 'Map':
      return withRetries(interpreter, run, state, () => mapStep(interpreter, run, state));
    // Its own Error and Cause must reach the history as they are; only reading them moves data.
    case 'Fail':
      return failStep(interpreter, run, state);
    default:
      return movingData(interpreter, run, state).catch((error: unknown) => {
        throw dataFlowFailure(interpreter, run, error);
      });
  }
}

/** The states whose every failure is one of moving data, so it names the state (see dataFlowFailure). */
function movingData(
  interpreter: Interpreter,
  run: BranchRun,
  state: PassState | ChoiceState | WaitState | SucceedState,
): Promise<StepResult> {
  switch (state.Type) {
    case 'Pass':
      return passStep(interpreter, run, state);
    case 'Choice':
      return choiceStep(interpreter, run, state);
    case 'Wait':
      return waitStep(interpreter, run, state);
    case 'Succeed':
      return succeedStep(interpreter, run, state);
  }
}

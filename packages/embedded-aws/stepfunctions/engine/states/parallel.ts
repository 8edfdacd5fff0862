/** Parallel: every branch on the same input; the output is their outputs in order, or the first failure. */
import type { Json, ParallelState } from '../../definition/types.ts';
import { stateScope } from '../context-object.ts';
import { effectiveInput, parametersFor } from '../data-flow.ts';
import type { BranchRun, Interpreter } from '../interpreter.ts';
import { exceedsPayloadLimit, inputLimitExceeded } from '../payload-limit.ts';
import { endFanOut, fanOut, startFanOut } from './fan-out.ts';

export async function parallelStep(
  interpreter: Interpreter,
  run: BranchRun,
  state: ParallelState,
): Promise<{ rawResult: Json }> {
  let step = run.checkpoint.step?.kind === 'fan-out' ? run.checkpoint.step : undefined;
  if (step === undefined) {
    const raw = run.checkpoint.input;
    const scope = stateScope(interpreter, run, state);
    const input = effectiveInput(state, raw, scope);
    const branchInput = await parametersFor(state.Parameters ?? state.Arguments, input, raw, scope);
    // Each branch's input is held to the quota as a Task's Parameters are.
    if (exceedsPayloadLimit(branchInput)) throw inputLimitExceeded(run.checkpoint.state);
    step = startFanOut(
      interpreter,
      run,
      'ParallelStateStarted',
      undefined,
      state.Branches.map(() => branchInput),
    );
  }
  const outcome = await fanOut(interpreter, run, step, {
    branchFor: (index) => state.Branches[index]!,
    concurrency: state.Branches.length,
    silent: false,
    onIteration: false,
  });
  endFanOut(interpreter, run, state, step, outcome);
  return {
    rawResult: outcome.results.map((result) =>
      result !== undefined && 'output' in result ? result.output : null,
    ),
  };
}

/**
 * Retry and Catch, for the states that have them (Task, Parallel, Map). A retry is counted in the branch's
 * checkpoint with its backoff's due time before the wait starts, so a crash during the backoff neither
 * retries early nor gives the retrier an attempt back.
 */
import type {
  Catcher,
  Json,
  JsonObject,
  MapState,
  ParallelState,
  Retrier,
  TaskState,
} from '../../definition/types.ts';
import { StatesError } from '../../language/states-error.ts';
import { sleepUntil } from '../abortable.ts';
import { stateScope } from '../context-object.ts';
import { assignVariables, completeState, type StateOutcome } from '../data-flow.ts';
import { type BranchRun, type Interpreter, nextStep, type StepResult } from '../interpreter.ts';
import { dataLimitExceeded, exceedsPayloadLimit } from '../payload-limit.ts';
import { findCatcher, findRetrier, isCatchable, maxAttemptsOf, retryDelayMs } from '../retry-policy.ts';
import { TaskError } from '../state-failures.ts';
import { dataFlowFailure, withDataFlowCause } from './data-flow-failure.ts';

type RetryingState = TaskState | ParallelState | MapState;

/** Runs the state's work until it succeeds, a catcher takes its failure, or its failure ends the branch. */
export async function withRetries(
  interpreter: Interpreter,
  run: BranchRun,
  state: RetryingState,
  work: () => Promise<{ rawResult: Json }>,
): Promise<StepResult> {
  for (;;) {
    const step = run.checkpoint.step;
    if (step?.kind === 'backoff') {
      await sleepUntil(step.dueAt, () => interpreter.host.now(), run.signal);
      interpreter.save(run, { step: undefined });
    }
    try {
      let outcome: StateOutcome;
      try {
        const { rawResult } = await work();
        outcome = await completeState(
          state,
          { rawInput: run.checkpoint.input, result: rawResult },
          stateScope(interpreter, run, state),
        );
        // Checked here rather than by the branch loop, so that Catch can still see the failure.
        if (exceedsPayloadLimit(outcome.output)) throw dataLimitExceeded(run.checkpoint.state);
      } catch (error) {
        throw dataFlowFailure(interpreter, run, error);
      }
      return nextStep(run, state, outcome);
    } catch (error) {
      if (!(error instanceof StatesError)) throw error;
      const handled = await handleFailure(interpreter, run, state, error);
      if (handled === 'retry') continue;
      return handled;
    }
  }
}

async function handleFailure(
  interpreter: Interpreter,
  run: BranchRun,
  state: RetryingState,
  error: StatesError,
): Promise<StepResult | 'retry'> {
  if (!isCatchable(error.error)) throw error;
  const names = [error.error, ...(error instanceof TaskError ? error.aliases : [])];
  const index = retrierFor(run, state, names);
  if (index >= 0) {
    const checkpoint = run.checkpoint;
    const retrier = state.Retry![index]!;
    const used = checkpoint.retrierAttempts[index] ?? 0;
    const attempts = [...checkpoint.retrierAttempts];
    attempts[index] = used + 1;
    const dueAt = interpreter.host.now() + retryDelayMs(retrier, used, () => interpreter.host.random());
    interpreter.save(run, {
      retryCount: checkpoint.retryCount + 1,
      retrierAttempts: attempts,
      step: { kind: 'backoff', dueAt },
    });
    return 'retry';
  }
  const catcher: Catcher | undefined = findCatcher(state.Catch, names);
  if (catcher === undefined) throw error;
  const errorOutput: JsonObject = { Error: error.error, Cause: error.cause };
  const scope = stateScope(interpreter, run, state);
  const outcome = await withDataFlowCause(interpreter, run, () =>
    completeState(
      { ResultPath: catcher.ResultPath, Output: catcher.Output, Assign: catcher.Assign },
      { rawInput: run.checkpoint.input, result: errorOutput, errorOutput },
      scope,
    ),
  );
  // Over the quota after the catcher's ResultPath: nothing is left to catch it.
  if (exceedsPayloadLimit(outcome.output)) throw dataLimitExceeded(run.checkpoint.state);
  return {
    next: catcher.Next,
    output: outcome.output,
    variables: assignVariables(run.checkpoint.variables, outcome.assigned),
    assigned: outcome.assigned,
  };
}

/** The retrier that retries this error now (the first that matches, if it has attempts left), or -1. */
export function retrierFor(
  run: BranchRun,
  state: { readonly Retry?: readonly Retrier[] },
  names: readonly string[],
): number {
  if (!names.every(isCatchable)) return -1;
  const index = findRetrier(state.Retry, names);
  if (index < 0) return -1;
  const used = run.checkpoint.retrierAttempts[index] ?? 0;
  return used < maxAttemptsOf(state.Retry![index]!) ? index : -1;
}

/**
 * Parallel and Map fan out alike: each branch (or iteration) runs under a key of its own with its own
 * checkpoint, on a shared pool of workers, and a crash resumes each where it stood.
 */
import type { Branch, Json, MapState, ParallelState } from '../../definition/types.ts';
import { StatesError } from '../../language/states-error.ts';
import { ABORTED, AbortedError, childController } from '../abortable.ts';
import { type BranchRun, type Interpreter, startingCheckpoint } from '../interpreter.ts';
import type { BranchCheckpoint, BranchResult, FanOutStep } from '../model.ts';
import { BranchError } from '../state-failures.ts';
import { retrierFor } from './retry-catch.ts';

/** A fan-out's branches as they ended, and where their events stand. */
export interface FanOutOutcome {
  readonly results: (BranchResult | undefined)[];
  /** Per branch that failed in a Task state: that state, aborted once the fan-out fails. */
  readonly failedInTask: boolean[];
  /** Per branch, the last event on its own chain (a Map iteration's last state event). */
  readonly lastEvents: (number | undefined)[];
  /** The last event any branch wrote (a Map iteration's MapIterationSucceeded), or the Started event. */
  readonly lastEventId: number;
}

export interface FanOutOptions {
  readonly branchFor: (index: number) => Branch;
  readonly concurrency: number;
  /** The branches run as executions of their own (a distributed Map): nothing of them is in this history. */
  readonly silent: boolean;
  /** Each branch is a Map iteration, with its MapIteration* events. */
  readonly onIteration: boolean;
  /** A failing branch cancels the others (the default). */
  readonly stopOnFailure?: boolean;
}

type Failure = { readonly error: string; readonly cause: string };

/** Records the Parallel/MapStateStarted event the branches chain from, with the inputs they get. */
export function startFanOut(
  interpreter: Interpreter,
  run: BranchRun,
  startedType: string,
  details: object | undefined,
  inputs: Json[],
): FanOutStep {
  // Branch keys derive from this event's id, so each retry of the state runs its branches afresh.
  const step: FanOutStep = { kind: 'fan-out', startedEventId: interpreter.nextEventId(run), inputs };
  interpreter.record(run, startedType, details, { step });
  return step;
}

/** Runs the branches (or iterations) of a fan-out step, resuming those a crash interrupted. */
export async function fanOut(
  interpreter: Interpreter,
  run: BranchRun,
  step: FanOutStep,
  options: FanOutOptions,
): Promise<FanOutOutcome> {
  const { host, execution } = interpreter;
  const cancel = childController(run.signal);
  const results: (BranchResult | undefined)[] = new Array(step.inputs.length);
  const failedInTask: boolean[] = new Array(step.inputs.length).fill(false);
  const lastEvents: (number | undefined)[] = new Array(step.inputs.length);
  // AWS chains the abort events of the branches a failing one stops on the event it failed with.
  let abortedFrom: number | undefined;
  let lastEventId = step.startedEventId;
  const stopOnFailure = options.stopOnFailure ?? true;
  let nextIndex = 0;
  let failed = false;
  const mapName = run.checkpoint.state;

  // Each branch keeps its own result in its checkpoint, so the parent's is not rewritten per iteration
  // (that would make a large Map's journal grow with the square of its items).
  //
  // Iteration n's MapIterationStarted chains, as AWS records it, on the last state event iteration n−1 had
  // recorded by then (where n−1 started from, if none), the first one on MapStateStarted; a Parallel's
  // branches all chain on ParallelStateStarted.
  const running: (BranchRun | undefined)[] = new Array(step.inputs.length);
  const chainFor = (index: number): number => {
    if (!options.onIteration || index === 0) return step.startedEventId;
    const before =
      running[index - 1]?.checkpoint ?? host.readCheckpoint(execution, branchKey(run, step, index - 1));
    if (before === undefined) return step.startedEventId;
    const started = before.iterationStarted;
    return started !== undefined && before.previousEventId === started.eventId
      ? started.from
      : before.previousEventId;
  };
  const order = options.onIteration ? iterationOrder(step.inputs.length) : undefined;

  // A redrive runs again only the branches that did not succeed before (see fanOutFailed).
  const kept = run.checkpoint.keptOutputs;
  const runOne = async (index: number): Promise<void> => {
    const key = branchKey(run, step, index);
    const keptOutput = kept?.[index];
    if (keptOutput !== undefined && host.readCheckpoint(execution, key) === undefined) {
      results[index] = { output: keptOutput };
      return;
    }
    const branch = options.branchFor(index);
    const saved = host.readCheckpoint(execution, key);
    // An iteration a sibling's failure aborts records MapIterationAborted right after its state's
    // <Type>StateAborted (or, aborted between states, on its own), as AWS's recorded histories pair them.
    let iterationAborted = false;
    const abortIteration = (): void => {
      if (iterationAborted || !options.onIteration || run.signal.aborted || child.silent) return;
      iterationAborted = true;
      host.appendEvent(execution, {
        type: 'MapIterationAborted',
        previousEventId: child.abortedFrom?.() ?? child.checkpoint.previousEventId,
        details: { name: mapName, index },
      });
    };
    const child: BranchRun = {
      key,
      branch,
      queryLanguage: branch.QueryLanguage ?? run.queryLanguage,
      signal: cancel.signal,
      silent: options.silent || run.silent,
      ...(order ? { beforeWaiting: order.beforeWaiting(index) } : {}),
      abortedFrom: () => abortedFrom ?? run.abortedFrom?.(),
      afterAborted: abortIteration,
      checkpoint:
        saved ??
        startingCheckpoint(branch.StartAt, step.inputs[index]!, run.checkpoint.variables, chainFor(index)),
    };
    running[index] = child;
    if (!child.checkpoint.done && child.checkpoint.failed === undefined) {
      // An iteration's checkpoint is first written with its MapIterationStarted: without one, it never started.
      if (options.onIteration && saved === undefined) {
        const iterationStarted = {
          eventId: interpreter.nextEventId(child),
          from: child.checkpoint.previousEventId,
        };
        interpreter.record(child, 'MapIterationStarted', { name: mapName, index }, { iterationStarted });
      }
      try {
        await interpreter.runBranch(child);
      } catch (error) {
        if (error instanceof AbortedError) {
          abortIteration();
          throw error;
        }
        if (!(error instanceof StatesError)) throw error;
        interpreter.save(child, { failed: { error: error.error, cause: error.cause } });
      }
    }
    if (options.onIteration && !child.checkpoint.ended) {
      const type = child.checkpoint.failed ? 'MapIterationFailed' : 'MapIterationSucceeded';
      // AWS chains MapIterationSucceeded/Failed on the iteration's last state event, and chains what
      // follows the iteration (the next iteration's MapIterationStarted, a MapStateFailed) there too.
      const endedEventId = interpreter.nextEventId(child);
      interpreter.record(
        child,
        type,
        { name: mapName, index },
        { ended: true, endedEventId },
        { next: child.checkpoint.previousEventId },
      );
    }
    const ended = child.checkpoint;
    const result: BranchResult = ended.failed ?? { output: ended.input };
    results[index] = result;
    failedInTask[index] = ended.failed !== undefined && branch.States[ended.state]?.Type === 'Task';
    lastEvents[index] = ended.previousEventId;
    lastEventId = Math.max(lastEventId, ended.endedEventId ?? ended.previousEventId);
    if ('error' in result && stopOnFailure) {
      failed = true;
      abortedFrom ??= ended.previousEventId;
      cancel.abort(ABORTED);
    }
  };

  const worker = async (): Promise<void> => {
    while (!failed && nextIndex < step.inputs.length) {
      const index = nextIndex++;
      try {
        await order?.mayStart(index);
        if (failed || cancel.signal.aborted) return;
        await runOne(index);
      } finally {
        order?.letNextStart(index);
      }
    }
  };
  const workers = Array.from(
    { length: Math.max(1, Math.min(options.concurrency, step.inputs.length)) },
    worker,
  );
  const settled = await Promise.allSettled(workers);
  cancel.abort(ABORTED);
  if (run.signal.aborted) throw new AbortedError('aborted');
  for (const outcome of settled) {
    if (outcome.status === 'rejected' && !(outcome.reason instanceof AbortedError)) throw outcome.reason;
  }
  // Branches cancelled by a failing sibling have no result: the state fails with the sibling's error.
  return { results, failedInTask, lastEvents, lastEventId };
}

/**
 * The order in which a Map's iterations start, as AWS's histories show it: in index order, each once the one
 * before has ended or is about to enter a state that waits on something outside it (a Task, a Wait, a nested
 * Parallel or Map). So an iteration of Pass and Choice states has recorded all its events before the next one
 * starts, while iterations that call tasks all start before any enters its Task; those enter theirs together,
 * in index order, before any of their tasks can end (one turn of the event loop later).
 */
function iterationOrder(count: number) {
  const releases: (() => void)[] = [];
  const gates = Array.from({ length: count }, (_, index) =>
    index === 0 ? Promise.resolve() : new Promise<void>((resolve) => releases.push(resolve)),
  );
  const letNextStart = (index: number): void => releases[index]?.();
  let waitingStates: Promise<void> | undefined;
  return {
    mayStart: (index: number): Promise<void> => gates[index]!,
    letNextStart,
    beforeWaiting: (index: number) => (): Promise<void> => {
      letNextStart(index);
      waitingStates ??= new Promise<void>((resolve) =>
        setImmediate(() => {
          waitingStates = undefined;
          resolve();
        }),
      );
      return waitingStates;
    },
  };
}

/**
 * Ends a fan-out that the first failing branch fails (a Parallel, an inline Map). AWS chains the state's
 * Failed event on the failing branch's last state event, after a TaskStateAborted chained there too when
 * that branch failed in a Task state (its recorded histories show both, for a Parallel and for a Map); and
 * its Succeeded event on the last event of all (the Started event when there were no branches), with the
 * state's Exited event chained there too rather than on Succeeded.
 */
export function endFanOut(
  interpreter: Interpreter,
  run: BranchRun,
  state: ParallelState | MapState,
  step: FanOutStep,
  { results, failedInTask, lastEvents, lastEventId }: FanOutOutcome,
): void {
  const failed = firstFailureIndex(results);
  if (failed !== undefined) {
    const failure = results[failed] as Failure;
    const failedEvent = `${state.Type}StateFailed`;
    if (failedInTask[failed] && !step.failedTaskAborted) {
      // Written with the step marked, so a resumed run does not write it again.
      interpreter.record(
        run,
        'TaskStateAborted',
        undefined,
        { step: { ...step, failedTaskAborted: true } },
        { from: lastEvents[failed]!, next: run.checkpoint.previousEventId },
      );
    }
    fanOutFailed(interpreter, run, state, failedEvent, failure.error, lastEvents[failed]!, step, results);
    throw new BranchError(failure.error, failure.cause);
  }
  const succeeded = `${state.Type}StateSucceeded`;
  interpreter.record(
    run,
    succeeded,
    undefined,
    { step: undefined },
    { from: lastEventId, next: lastEventId },
  );
  forgetBranches(interpreter, run, step);
}

/**
 * A Parallel or Map state failed. AWS records its ParallelStateFailed/MapStateFailed only when no retrier
 * takes the failure: a retried state records nothing, and its next Started event chains where the Failed
 * event would have.
 */
export function fanOutFailed(
  interpreter: Interpreter,
  run: BranchRun,
  state: ParallelState | MapState,
  failedEvent: string,
  error: string,
  previousEventId: number,
  step?: FanOutStep,
  results?: readonly (BranchResult | undefined)[],
): void {
  if (retrierFor(run, state, [error]) >= 0) {
    interpreter.save(run, { step: undefined, previousEventId });
  } else {
    // What a redrive keeps: a distributed Map's Map Run, or the branches that succeeded.
    const kept =
      step?.mapRunArn !== undefined ? { keptMapRun: step } : { keptOutputs: succeededOutputs(results ?? []) };
    interpreter.record(run, failedEvent, undefined, { step: undefined, ...kept }, { from: previousEventId });
  }
  if (step !== undefined) forgetBranches(interpreter, run, step);
}

/** The outputs of the branches that succeeded, by index; undefined when none did. */
function succeededOutputs(results: readonly (BranchResult | undefined)[]): Record<string, Json> | undefined {
  const outputs: Record<string, Json> = {};
  let any = false;
  results.forEach((result, index) => {
    if (result !== undefined && 'output' in result) {
      outputs[index] = result.output;
      any = true;
    }
  });
  return any ? outputs : undefined;
}

/** Once the Parallel/Map state has recorded its outcome, its branches' checkpoints are no longer needed. */
export function forgetBranches(interpreter: Interpreter, run: BranchRun, step: FanOutStep): void {
  const { host, execution } = interpreter;
  for (let index = 0; index < step.inputs.length; index += 1) {
    const key = branchKey(run, step, index);
    if (host.readCheckpoint(execution, key) !== undefined) host.saveCheckpoint(execution, key, null);
  }
}

/** The first branch (in order) that failed, if any. */
function firstFailureIndex(results: readonly (BranchResult | undefined)[]): number | undefined {
  const index = results.findIndex((result) => result !== undefined && 'error' in result);
  return index === -1 ? undefined : index;
}

function branchKey(run: BranchRun, step: FanOutStep, index: number): string {
  return `${run.key}>${step.startedEventId}.${index}`;
}

/**
 * An execution stopped (or timed out) while this branch was in a Parallel or Map state: that state's
 * checkpoint with the outputs of the branches that had already succeeded kept (a distributed Map's Map
 * Run), so that a redrive runs only the others. Unchanged when the branch was not fanning out.
 */
export function keepSucceededBranches(
  key: string,
  checkpoint: BranchCheckpoint,
  read: (key: string) => BranchCheckpoint | undefined,
): BranchCheckpoint {
  const step = checkpoint.step;
  if (step?.kind !== 'fan-out') return checkpoint;
  if (step.mapRunArn !== undefined) return Object.freeze({ ...checkpoint, keptMapRun: step });
  const results = step.inputs.map((_, index): BranchResult | undefined => {
    const branch = read(`${key}>${step.startedEventId}.${index}`);
    return branch?.done && branch.failed === undefined ? { output: branch.input } : undefined;
  });
  const keptOutputs = { ...checkpoint.keptOutputs, ...succeededOutputs(results) };
  return Object.keys(keptOutputs).length === 0 ? checkpoint : Object.freeze({ ...checkpoint, keptOutputs });
}

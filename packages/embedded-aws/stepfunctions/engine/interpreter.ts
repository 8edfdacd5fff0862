/**
 * The contract between the branch loop (`execution-runner.ts`) and the state types (`states/`): the branch a
 * state runs in, what its step gives back, and what a step may ask of the runner. Steps never write the
 * journal themselves: every event goes through `record`, so it is written with the branch's checkpoint.
 */
import type { Branch, Json, QueryLanguage, State } from '../definition/types.ts';
import { assignVariables, type StateOutcome, type Variables } from './data-flow.ts';
import type { RunnerHost } from './execution-runner.ts';
import type { BranchCheckpoint, ExecutionRecord } from './model.ts';
import type { TaskTokenWaiters } from './states/task-invocation.ts';

/** One branch being run: the top level, a Parallel branch or a Map iteration. */
export interface BranchRun {
  /** The branch's checkpoint key: `root`, or its parent's key and its place in the fan-out. */
  readonly key: string;
  readonly branch: Branch;
  readonly queryLanguage: QueryLanguage;
  readonly signal: AbortSignal;
  /** Distributed Map children run as their own executions: their steps are not in this history. */
  readonly silent: boolean;
  /**
   * Awaited before the branch enters a state that waits on something outside it (Task, Wait, a nested
   * Parallel or Map): a Map iteration lets the next iteration start first.
   */
  readonly beforeWaiting?: () => Promise<void>;
  /**
   * Once a sibling branch has failed and this one is being aborted: the event its abort events chain on
   * (the failing branch's last state event, as AWS records it).
   */
  readonly abortedFrom?: () => number | undefined;
  /** Called once the state a sibling's failure aborted has recorded so (a Map iteration then records its end). */
  readonly afterAborted?: () => void;
  /** The last checkpoint recorded; replaced, never changed, as the branch moves on. */
  checkpoint: BranchCheckpoint;
}

/** Where a state sends its branch: on to the next state, or to the branch's end. */
export type StepResult =
  | {
      readonly next: string;
      readonly output: Json;
      readonly variables: Variables;
      readonly assigned?: Variables;
    }
  | {
      readonly end: true;
      readonly output: Json;
      readonly variables: Variables;
      /** What the state's Assign gave, for StateExited's assignedVariables. */
      readonly assigned?: Variables;
    };

/**
 * Where an event chains, when not simply on the branch's last event: `from` is its previousEventId, `next`
 * the event the branch's next one chains on (AWS chains some events aside, e.g. MapStateSucceeded).
 */
export interface EventLink {
  readonly from?: number;
  readonly next?: number;
}

/** What a state's step may ask of the runner executing it. */
export interface Interpreter {
  readonly host: RunnerHost;
  readonly execution: ExecutionRecord;
  readonly tokens: TaskTokenWaiters;
  /** The id the branch's next event will get (a silent branch writes none). */
  nextEventId(run: BranchRun): number;
  /** Writes an event on the branch's chain with its checkpoint moved on by `patch`, in one record. */
  record(
    run: BranchRun,
    type: string,
    details: object | undefined,
    patch?: Partial<BranchCheckpoint>,
    link?: EventLink,
  ): number;
  /** Moves the branch's checkpoint on without an event (a timer set, a retry counted). */
  save(run: BranchRun, patch: Partial<BranchCheckpoint>): void;
  /** Runs (or resumes) a nested branch to its end, giving its output. */
  runBranch(run: BranchRun): Promise<Json>;
}

/** A branch's checkpoint before its first state is entered. */
export function startingCheckpoint(
  state: string,
  input: Json,
  variables: Variables,
  previousEventId: number,
): BranchCheckpoint {
  return Object.freeze({ state, input, variables, previousEventId, retryCount: 0, retrierAttempts: [] });
}

/** The state's outcome sent on to `next`, or to its Next, or to the end of the branch. */
export function nextStep(run: BranchRun, state: State, outcome: StateOutcome, next?: string): StepResult {
  const { output, assigned } = outcome;
  const variables = assignVariables(run.checkpoint.variables, assigned);
  const target = next ?? state.Next;
  if (target === undefined || state.End === true) return { end: true, output, variables, assigned };
  return { next: target, output, variables, assigned };
}

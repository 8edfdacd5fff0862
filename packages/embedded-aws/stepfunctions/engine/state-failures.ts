/**
 * Failures the interpreter raises inside an execution. Each is a StatesError (its `error` is what Retry and
 * Catch match); the subclasses say where it came from, so the cause is not reworded on its way up.
 */
import { StatesError } from '../language/states-error.ts';

/** A failure whose cause is final: nothing between it and the history may reword it. */
export class StateFailure extends StatesError {}
/** A Task's own failure (TaskFailed, TaskTimedOut): already recorded, and its cause is the service's. */
export class TaskError extends StateFailure {
  constructor(
    error: string,
    cause: string,
    /** Further names Retry and Catch may match this failure by. */
    readonly aliases: readonly string[] = [],
  ) {
    super(error, cause);
  }
}
/** A branch or iteration failure surfacing through its Parallel or Map state. */
export class BranchError extends StateFailure {}
/** A Fail state ends its branch; its own Error and Cause go through unchanged. */
export class FailStateError extends StateFailure {}
/** A failure moving data, its cause already naming the state and the event it was entered at. */
export class DataFlowError extends StateFailure {
  constructor(
    error: string,
    cause: string,
    /** The EvaluationFailed event recorded for it (JSONata failures), if one was. */
    readonly evaluationFailedEventId?: number,
  ) {
    super(error, cause);
  }
}

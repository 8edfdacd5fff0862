/**
 * Failures raised while moving data (a path that matches nothing, a JSONata error) name the state and the
 * event it was entered at, as AWS's causes do; JSONata's leave an EvaluationFailed event too.
 */
import { StatesError } from '../../language/states-error.ts';
import type { BranchRun, Interpreter } from '../interpreter.ts';
import { DataFlowError, StateFailure } from '../state-failures.ts';

/** The error as it fails the state: a data-flow failure gets AWS's cause prefix (and EvaluationFailed). */
export function dataFlowFailure(interpreter: Interpreter, run: BranchRun, error: unknown): unknown {
  if (!(error instanceof StatesError) || error instanceof StateFailure) return error;
  const cause = stateCause(run, error.cause);
  if (error.error !== 'States.QueryEvaluationError') return new DataFlowError(error.error, cause);
  return new DataFlowError(error.error, cause, recordEvaluationFailed(interpreter, run, error.error, cause));
}

/** Runs `work`, failing as the state does when it fails moving data. */
export async function withDataFlowCause<T>(
  interpreter: Interpreter,
  run: BranchRun,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw dataFlowFailure(interpreter, run, error);
  }
}

export function stateCause(run: BranchRun, cause: string): string {
  const { state, entered } = run.checkpoint;
  return `An error occurred while executing the state '${state}' (entered at the event id #${entered?.eventId}). ${cause}`;
}

/**
 * Real histories chain EvaluationFailed to the event before the state was entered (not to the entry itself),
 * and name the field as the cause does.
 */
export function recordEvaluationFailed(
  interpreter: Interpreter,
  run: BranchRun,
  error: string,
  cause: string,
  at: { readonly location?: string; readonly previousEventId?: number } = {},
): number | undefined {
  if (run.silent) return undefined;
  const checkpoint = run.checkpoint;
  const location = at.location ?? /specified for the field '([^']*)'/.exec(cause)?.[1];
  return interpreter.host.appendEvent(interpreter.execution, {
    type: 'EvaluationFailed',
    previousEventId: at.previousEventId ?? checkpoint.entered?.previousEventId ?? checkpoint.previousEventId,
    details: { error, cause, ...(location !== undefined ? { location } : {}), state: checkpoint.state },
  });
}

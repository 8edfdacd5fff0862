/**
 * What AWS guarantees of every execution history, as checks a test can run on any history: used by the
 * crash tests, where a history is the only witness that nothing ran twice or went missing.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { expect } from 'vitest';

const TERMINAL = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut']);
const EXECUTION_LEVEL = /^Execution/;
const FORK = new Set(['MapStateStarted', 'ParallelStateStarted']);
/** Events that close a Map or Parallel fan-out: they belong to the branch that holds the Map/Parallel state. */
const JOIN = new Set([
  'MapStateSucceeded',
  'MapStateFailed',
  'MapStateAborted',
  'ParallelStateSucceeded',
  'ParallelStateFailed',
  'ParallelStateAborted',
]);
/** Events of the Map/Parallel state itself that may chain on its Started event without opening a branch. */
const FAN_OUT_OWN = new Set([...JOIN, 'MapRunStarted', 'MapRunSucceeded', 'MapRunFailed', 'MapRunAborted']);
const TASK_OPEN = /^(Task|LambdaFunction|Activity)Scheduled$/;
const TASK_STARTED = /^(Task|LambdaFunction|Activity)Started$/;
const TASK_CLOSE =
  /^(Task|LambdaFunction|Activity)(Succeeded|Failed|TimedOut|StartFailed|ScheduleFailed|SubmitFailed)$/;

/**
 * Asserts what AWS guarantees of every history: ids 1..n in order; one ExecutionStarted (first, previous 0)
 * and — once ended — one terminal event, last; every previousEventId points at an earlier event; and on
 * each branch (the top level, each Parallel branch, each Map iteration) every `<Type>StateEntered` is
 * followed by exactly one matching `<Type>StateExited` before the next state is entered, with task events
 * in order (Scheduled, Started, [Submitted], then one outcome). Returns the branch of every event by id.
 */
export function expectWellFormedHistory(
  history: readonly HistoryEvent[],
  options: { running?: boolean } = {},
): Map<number, string> {
  const { problems, branchOf } = historyProblems(history, options);
  expect(problems, `history problems:\n${history.map(describeEvent).join('\n')}`).toEqual([]);
  return branchOf;
}

/** The rules `expectWellFormedHistory` checks, as a list of what is wrong (empty when all is well). */
export function historyProblems(
  history: readonly HistoryEvent[],
  options: { running?: boolean } = {},
): { problems: string[]; branchOf: Map<number, string> } {
  const problems: string[] = [];
  const byId = new Map<number, HistoryEvent>();
  history.forEach((event, index) => {
    if (event.id !== index + 1) problems.push(`event #${index + 1} has id ${event.id}`);
    byId.set(event.id!, event);
    const previous = event.previousEventId ?? 0;
    if (index === 0) {
      if (event.type !== 'ExecutionStarted' || previous !== 0)
        problems.push(`first event is ${event.type} with previousEventId ${previous}`);
    } else if (!(previous >= 1 && previous < event.id!) && !(index === 1 && previous === 0)) {
      // AWS chains the first state's StateEntered on 0, not on ExecutionStarted (real histories show
      // `"id": 2, "previousEventId": 0`); every other event names an earlier event.
      problems.push(`event ${event.id} (${event.type}) has previousEventId ${previous}`);
    }
    const before = history[index - 1];
    if (before?.timestamp && event.timestamp && event.timestamp < before.timestamp)
      problems.push(`event ${event.id} is older than event ${before.id}`);
  });
  const started = history.filter((event) => event.type === 'ExecutionStarted').length;
  if (started !== 1) problems.push(`${started} ExecutionStarted events`);
  // A redriven execution closes once per run: each terminal event but the last is followed by ExecutionRedriven.
  const terminal = history.filter((event) => TERMINAL.has(event.type!));
  const redrives = history.filter((event) => event.type === 'ExecutionRedriven');
  for (const redriven of redrives) {
    if (!TERMINAL.has(history[redriven.id! - 2]?.type ?? ''))
      problems.push(`ExecutionRedriven ${redriven.id} does not follow a terminal event`);
  }
  const runs = redrives.length + 1;
  if (options.running) {
    if (terminal.length !== runs - 1)
      problems.push(`a running execution has ${terminal.length} terminal events`);
  } else if (terminal.length !== runs || !TERMINAL.has(history.at(-1)?.type ?? '')) {
    problems.push(
      `terminal events: ${terminal.map((event) => `${event.id} ${event.type}`).join(', ') || 'none'}`,
    );
  }

  // Branches: a Map iteration or Parallel branch starts with an event chained on the fan-out's Started event.
  const branchOf = new Map<number, string>();
  const forkOf = new Map<number, number>(); // closing event → its fan-out's Started event
  const branchesOfFork = new Map<number, number>();
  const forkClosedBy = (closing: HistoryEvent): number | undefined => {
    let cursor = byId.get(closing.previousEventId ?? 0);
    while (cursor !== undefined) {
      if (FORK.has(cursor.type!) && ![...forkOf.values()].includes(cursor.id!)) return cursor.id;
      const inner = forkOf.get(cursor.id!);
      cursor = byId.get(
        inner !== undefined ? (byId.get(inner)!.previousEventId ?? 0) : (cursor.previousEventId ?? 0),
      );
    }
    return undefined;
  };
  for (const event of history) {
    const previous = byId.get(event.previousEventId ?? 0);
    if (
      previous === undefined ||
      event.id! <= (event.previousEventId ?? 0) ||
      EXECUTION_LEVEL.test(event.type!)
    ) {
      branchOf.set(event.id!, 'root');
      continue;
    }
    if (JOIN.has(event.type!)) {
      const fork = forkClosedBy(event);
      if (fork === undefined) {
        problems.push(`event ${event.id} (${event.type}) closes no open Map or Parallel state`);
        branchOf.set(event.id!, branchOf.get(previous.id!)!);
      } else {
        forkOf.set(event.id!, fork);
        branchOf.set(event.id!, branchOf.get(fork)!);
      }
    } else if (FORK.has(previous.type!) && !FAN_OUT_OWN.has(event.type!)) {
      const ordinal = branchesOfFork.get(previous.id!) ?? 0;
      branchesOfFork.set(previous.id!, ordinal + 1);
      const index = event.mapIterationStartedEventDetails?.index ?? ordinal;
      branchOf.set(event.id!, `${branchOf.get(previous.id!)}>${previous.id}.${index}`);
    } else {
      branchOf.set(event.id!, branchOf.get(previous.id!)!);
    }
  }

  // A Map iteration's own events stay on that iteration's branch, and each iteration starts and ends once.
  const iterationEnds = new Map<string, number>();
  for (const event of history) {
    if (event.type === 'ExecutionRedriven') iterationEnds.clear(); // a redrive reruns failed iterations
    const details =
      event.mapIterationSucceededEventDetails ??
      event.mapIterationFailedEventDetails ??
      event.mapIterationAbortedEventDetails;
    if (details === undefined) continue;
    const branch = branchOf.get(event.id!)!;
    if (!branch.endsWith(`.${details.index}`))
      problems.push(`${event.type} ${event.id} of iteration ${details.index} is chained on ${branch}`);
    iterationEnds.set(branch, (iterationEnds.get(branch) ?? 0) + 1);
    if (iterationEnds.get(branch) === 2) problems.push(`${branch} ends twice (again at ${event.id})`);
  }

  // Per branch: states entered and exited in pairs, task events in order.
  const open = new Map<string, { type: string; name: string; id: number }>();
  const task = new Map<string, 'scheduled' | 'started'>();
  for (const event of history) {
    const type = event.type!;
    const branch = branchOf.get(event.id!)!;
    if (type === 'ExecutionRedriven') {
      // The redriven run re-enters the state where the last one stopped, on every branch.
      open.clear();
      task.clear();
      continue;
    }
    const entered = /^(\w+)StateEntered$/.exec(type);
    const exited = /^(\w+)StateExited$/.exec(type);
    const current = open.get(branch);
    if (entered) {
      if (current)
        problems.push(`${branch}: ${type} ${event.id} while ${current.name} (entered ${current.id}) is open`);
      open.set(branch, {
        type: entered[1]!,
        name: event.stateEnteredEventDetails?.name ?? '',
        id: event.id!,
      });
    } else if (exited) {
      const name = event.stateExitedEventDetails?.name ?? '';
      if (!current || current.type !== exited[1] || current.name !== name)
        problems.push(
          `${branch}: ${type} ${event.id} (${name}) does not close ${current?.name ?? 'any state'}`,
        );
      open.delete(branch);
      if (task.has(branch))
        problems.push(`${branch}: ${name} exited at ${event.id} with its task ${task.get(branch)}`);
    } else if (TASK_OPEN.test(type)) {
      if (task.has(branch))
        problems.push(`${branch}: ${type} ${event.id} while a task is ${task.get(branch)}`);
      task.set(branch, 'scheduled');
    } else if (TASK_STARTED.test(type)) {
      if (task.get(branch) !== 'scheduled')
        problems.push(`${branch}: ${type} ${event.id} without a scheduled task`);
      task.set(branch, 'started');
    } else if (type === 'TaskSubmitted') {
      if (task.get(branch) !== 'started')
        problems.push(`${branch}: TaskSubmitted ${event.id} before TaskStarted`);
    } else if (TASK_CLOSE.test(type)) {
      if (!task.has(branch)) problems.push(`${branch}: ${type} ${event.id} without a task`);
      task.delete(branch);
    }
  }
  if (!options.running && history.at(-1)?.type === 'ExecutionSucceeded') {
    for (const [branch, state] of open)
      problems.push(`${branch}: ${state.name} (entered ${state.id}) never exited`);
  }
  return { problems, branchOf };
}

export function describeEvent(event: HistoryEvent): string {
  const name = event.stateEnteredEventDetails?.name ?? event.stateExitedEventDetails?.name ?? '';
  const index =
    event.mapIterationStartedEventDetails?.index ?? event.mapIterationSucceededEventDetails?.index;
  return `${event.id} ← ${event.previousEventId} ${event.type} ${name}${index !== undefined ? `[${index}]` : ''}`;
}

/** The history as the wire would carry it: equal text means nothing was lost, added or altered. */
export function historyText(history: readonly HistoryEvent[]): string {
  return JSON.stringify(history);
}

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
const FAN_OUT_EXIT = new Set(['MapStateExited', 'ParallelStateExited']);
const TASK_OPEN = /^(Task|LambdaFunction|Activity)Scheduled$/;
const TASK_STARTED = /^(Task|LambdaFunction|Activity)Started$/;
const TASK_CLOSE =
  /^(Task|LambdaFunction|Activity)(Succeeded|Failed|TimedOut|StartFailed|ScheduleFailed|SubmitFailed)$/;

/**
 * Asserts what AWS guarantees of every history: ids 1..n in order; one ExecutionStarted (first, previous 0)
 * and — once ended — one terminal event, last; every previousEventId points at an earlier event; and on
 * each branch (the top level, each Parallel branch, each Map iteration) every `<Type>StateEntered` is
 * followed by exactly one matching `<Type>StateExited` before the next state is entered, with task events
 * in order (Scheduled, Started, [Submitted], then one outcome); each Map iteration starts and ends once, on
 * its own branch, and each Map or Parallel closes once. Branches are read from the links as AWS writes them
 * (an iteration that waited for a slot chains on the iteration that freed it; a Map's or Parallel's closing
 * events on its last branch or iteration event). Returns the branch of every event by id.
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
    } else if (
      !(previous >= 1 && previous < event.id!) &&
      !(index === 1 && previous === 0) &&
      !(event.type === 'EvaluationFailed' && previous === 0 && history[1]?.previousEventId === 0)
    ) {
      // AWS chains the first state's StateEntered on 0, not on ExecutionStarted (real histories show
      // `"id": 2, "previousEventId": 0`), and an EvaluationFailed where its state's StateEntered chains (so
      // on 0 when the first state fails); every other event names an earlier event.
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

  // Branches, found from the links as AWS writes them. A Parallel branch starts with the event chained on
  // ParallelStateStarted; a Map iteration with its MapIterationStarted (named by its `index`), chained on
  // MapStateStarted or — when it waited for a free slot — on the last event of the iteration that freed it.
  // The Map's or Parallel's own later events (Succeeded, Failed, Aborted, Exited, a retry's next Started)
  // chain either on its own events or on the last event of one of its branches or iterations: then they go
  // back to the branch that holds the state.
  const branchOf = new Map<number, string>();
  const forkOfBranch = new Map<string, number>(); // a branch or iteration → its fan-out's Started event
  const branchesOfFork = new Map<number, number>();
  type FanOut = { kind: string; entered: number; fork?: number; closedBy?: number; exited: boolean };
  const fanOutOf = new Map<number, FanOut>(); // the Map/Parallel state (as entered) of its own events
  const iterationStarts = new Map<string, number>();
  const abandons = new Map<number, number>(); // a Failed/Aborted event or a retry's Started → the fork it ends
  const childBranch = (fork: number, index: number | string): string => {
    const branch = `${branchOf.get(fork)}>${fork}.${index}`;
    forkOfBranch.set(branch, fork);
    return branch;
  };
  for (const event of history) {
    const type = event.type!;
    const id = event.id!;
    const entered = /^(Map|Parallel)StateEntered$/.exec(type);
    if (entered) fanOutOf.set(id, { kind: entered[1]!, entered: id, exited: false });
    const previous = byId.get(event.previousEventId ?? 0);
    if (previous === undefined || id <= (event.previousEventId ?? 0) || EXECUTION_LEVEL.test(type)) {
      branchOf.set(id, 'root');
      if (type === 'ExecutionRedriven') iterationStarts.clear(); // a redrive reruns failed iterations
      continue;
    }
    const previousBranch = branchOf.get(previous.id!)!;
    const enclosingFork = forkOfBranch.get(previousBranch);
    const fanOutKind = /^(Map|Parallel)State(Started|Succeeded|Failed|Aborted|Exited)$/.exec(type)?.[1];
    if (type === 'MapIterationStarted') {
      const fork = previous.type === 'MapStateStarted' ? previous.id! : enclosingFork;
      if (fork === undefined || byId.get(fork)!.type !== 'MapStateStarted') {
        problems.push(`${type} ${id} is chained on ${previous.id} (${previous.type}), in no Map iteration`);
        branchOf.set(id, previousBranch);
        continue;
      }
      const ordinal = branchesOfFork.get(fork) ?? 0;
      branchesOfFork.set(fork, ordinal + 1);
      const branch = childBranch(fork, event.mapIterationStartedEventDetails?.index ?? ordinal);
      iterationStarts.set(branch, (iterationStarts.get(branch) ?? 0) + 1);
      if (iterationStarts.get(branch) === 2) problems.push(`${branch} starts twice (again at ${id})`);
      branchOf.set(id, branch);
    } else if (fanOutKind !== undefined || /^MapRun/.test(type)) {
      // An event of the Map or Parallel state itself: of the state whose own event it follows, unless that
      // state is done with such events; else of the state whose branch it follows.
      let fanOut = fanOutOf.get(previous.id!);
      if (fanOut?.exited || (fanOut?.closedBy !== undefined && JOIN.has(type))) fanOut = undefined;
      let branch = previousBranch;
      if (fanOut === undefined && /Failed$/.test(type)) {
        // A Map or Parallel that fails before it starts (its items are no array): MapStateFailed chains on
        // the EvaluationFailed that follows its StateEntered.
        fanOut = [...fanOutOf.values()]
          .reverse()
          .find(
            (other) =>
              other.fork === undefined &&
              other.closedBy === undefined &&
              !other.exited &&
              branchOf.get(other.entered) === branch,
          );
      }
      if (fanOut === undefined && enclosingFork !== undefined) {
        fanOut = fanOutOf.get(enclosingFork);
        branch = branchOf.get(enclosingFork)!;
      }
      branchOf.set(id, branch);
      if (fanOut === undefined) {
        if (JOIN.has(type)) problems.push(`event ${id} (${type}) closes no open Map or Parallel state`);
        if (FORK.has(type)) problems.push(`event ${id} (${type}) starts no entered Map or Parallel state`);
        continue;
      }
      fanOutOf.set(id, fanOut);
      if (fanOutKind !== undefined && fanOutKind !== fanOut.kind)
        problems.push(`event ${id} (${type}) belongs to a ${fanOut.kind} state`);
      if (FORK.has(type)) {
        if (fanOut.closedBy !== undefined || fanOut.exited)
          problems.push(`event ${id} (${type}) starts a closed ${fanOut.kind} state again`);
        if (fanOut.fork !== undefined) abandons.set(id, fanOut.fork); // a retry: the last try's branches end
        fanOut.fork = id;
      } else if (JOIN.has(type)) {
        if (fanOut.closedBy !== undefined)
          problems.push(`event ${id} (${type}) closes a state already closed by ${fanOut.closedBy}`);
        fanOut.closedBy = id;
        if (fanOut.fork !== undefined && !/Succeeded$/.test(type)) abandons.set(id, fanOut.fork);
      } else if (FAN_OUT_EXIT.has(type)) {
        fanOut.exited = true;
      }
    } else if (
      type === 'MapIterationAborted' &&
      enclosingFork !== undefined &&
      byId.get(enclosingFork)!.type === 'MapStateStarted'
    ) {
      // AWS chains the iterations a failing one aborts on the event it failed with: an aborted iteration's
      // end belongs to the iteration its index names, wherever it is chained.
      const index = event.mapIterationAbortedEventDetails?.index;
      branchOf.set(
        id,
        index === undefined ? previousBranch : `${branchOf.get(enclosingFork)}>${enclosingFork}.${index}`,
      );
    } else if (FORK.has(previous.type!)) {
      // The first event of a Parallel branch (or of a Map iteration written without MapIterationStarted).
      const ordinal = branchesOfFork.get(previous.id!) ?? 0;
      branchesOfFork.set(previous.id!, ordinal + 1);
      branchOf.set(id, childBranch(previous.id!, ordinal));
    } else {
      branchOf.set(id, previousBranch);
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
    // A failed or retried Map or Parallel, and a failed iteration, leave their branches where they stopped.
    const fork = abandons.get(event.id!);
    const abandoned =
      fork !== undefined
        ? `${branchOf.get(fork)}>${fork}.`
        : /^MapIteration(Failed|Aborted)$/.test(type)
          ? branch
          : undefined;
    if (abandoned !== undefined) {
      for (const key of [...open.keys(), ...task.keys()]) {
        if (key === abandoned || key.startsWith(abandoned.endsWith('.') ? abandoned : `${abandoned}>`)) {
          open.delete(key);
          task.delete(key);
        }
      }
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

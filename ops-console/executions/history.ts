/**
 * What an execution's history says, worked out from GetExecutionHistory's events alone (so it reads a real
 * account's histories as well as the embedded AWS's): the events as rows, each named with the state it
 * belongs to; every visit of every state with its attempts, status, data and timing; the path taken; and the
 * failure that really ended the execution.
 *
 * @example
 * const analysis = analyseHistory(events);
 * analysis.states.find((state) => state.name === 'Vend'); // { status: 'succeeded', retries: 2, ... }
 * analysis.failure; // { error: 'VendorUnavailable', cause: '…', stateName: 'Vend', ... }
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { redactJsonText } from './redaction.ts';

/** One history event, flattened: its details without the `<type>EventDetails` wrapper. */
export interface HistoryRow {
  readonly id: number;
  readonly previousEventId: number | null;
  readonly type: string;
  readonly timestamp: string;
  /** The state the event happened in; null for the execution's own events and between states. */
  readonly stateName: string | null;
  readonly details: Record<string, unknown>;
}

/**
 * - succeeded: exited normally (perhaps after retries);
 * - caught: its last attempt failed and a Catch took the execution elsewhere;
 * - failed: the execution ended in it (a failure no Catch took, or a Fail state);
 * - running: entered and not left yet (between retries too);
 * - aborted: the execution was stopped, or timed out, while it was here.
 */
export type StateStatus = 'succeeded' | 'caught' | 'failed' | 'running' | 'aborted';

export interface StateAttempt {
  readonly number: number;
  readonly scheduledAt: string;
  readonly endedAt: string | null;
  readonly outcome: 'succeeded' | 'failed' | 'running';
  /** The event that ended the attempt, such as TaskFailed or TaskTimedOut. */
  readonly endedBy: string | null;
  readonly error: string | null;
  readonly cause: string | null;
}

/** One entry into a state, until it was left. */
export interface StateVisit {
  readonly stateName: string;
  /** From the entered event's type: Task, Pass, Choice, Wait, Succeed, Fail, Parallel or Map. */
  readonly stateType: string;
  readonly enteredEventId: number;
  readonly status: StateStatus;
  readonly enteredAt: string;
  readonly exitedAt: string | null;
  readonly durationMs: number | null;
  readonly input: string | null;
  readonly output: string | null;
  readonly error: string | null;
  readonly cause: string | null;
  /** Attempts after the first (Retry). */
  readonly retries: number;
  readonly attempts: StateAttempt[];
  /** The state whose Catch led here, when one did. */
  readonly caughtFrom: string | null;
}

/** Everything that happened in one state, summed over its visits; status, data and timing are the last visit's. */
export interface StateSummary {
  readonly name: string;
  readonly type: string;
  readonly status: StateStatus;
  /** Retries of the last visit. */
  readonly retries: number;
  /** Retries over every visit (a state entered in a loop or a Map's iterations). */
  readonly totalRetries: number;
  readonly visits: number;
  readonly enteredAt: string;
  readonly exitedAt: string | null;
  readonly durationMs: number | null;
  readonly input: string | null;
  readonly output: string | null;
  readonly error: string | null;
  readonly cause: string | null;
  readonly attempts: StateAttempt[];
}

/** The failure that ended an execution: the failing step's own error, not the Fail state's fixed sentence. */
export interface ExecutionFailure {
  readonly error: string;
  readonly cause: string | null;
  /** The state it happened in, when it happened in one. */
  readonly stateName: string | null;
  readonly eventId: number;
  /** Such as TaskFailed, TaskTimedOut, LambdaFunctionFailed, ExecutionFailed, ExecutionAborted. */
  readonly eventType: string;
}

export type ExecutionStatusInHistory = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** A move from one state to the next, as taken; `(start)` and `(end)` stand for the machine's ends. */
export interface Transition {
  readonly from: string;
  readonly to: string;
  /** Taken by a Catch (the state failed), not by its Next or a Choice rule. */
  readonly caught: boolean;
}

export const START = '(start)';
export const END = '(end)';

export interface HistoryAnalysis {
  readonly rows: HistoryRow[];
  readonly visits: StateVisit[];
  /** One per state entered, in the order each was first entered. */
  readonly states: StateSummary[];
  readonly transitions: Transition[];
  /** As the last execution event has it: a redrive makes a failed execution RUNNING again. */
  readonly status: ExecutionStatusInHistory;
  /** The execution's own error and cause (from its last ExecutionFailed/TimedOut/Aborted), if it ended so. */
  readonly executionError: { readonly error: string; readonly cause: string | null } | null;
  readonly failure: ExecutionFailure | null;
  /** The input of the Fail state the execution ended in, if it ended in one. */
  readonly failStateInput: string | null;
  /**
   * While the execution runs: the failure that led it to where it is now, that is the last step failure a
   * Catch handled (a failure caught while handling another gives the one being handled, as `failure` does),
   * leaving out the failures of the states `options.notReasons` names; null once it has ended, or when no
   * Catch has handled a failure. PaymentToVend waiting in AwaitDecision has here why its payment is open.
   */
  readonly handledFailure: ExecutionFailure | null;
}

export interface AnalyseOptions {
  /**
   * The Error and Cause each Fail state declares (from the definition): a Fail state inside a Map or a
   * Parallel ends only its iteration or branch, whose events do not say why.
   */
  readonly failStates?: ReadonlyMap<string, { readonly error: string | null; readonly cause: string | null }>;
  /**
   * States whose caught failures are not the reason the execution is where it is (`handledFailure`): for
   * PaymentToVend, AwaitDecision's deadline passing and RecordDecision refusing a decision, after which the
   * payment waits again for the same reason as before.
   */
  readonly notReasons?: ReadonlySet<string>;
}

/** Analyses a whole history, in event order (as GetExecutionHistory returns it without reverseOrder). */
export function analyseHistory(
  events: readonly HistoryEvent[],
  options: AnalyseOptions = {},
): HistoryAnalysis {
  const failStates = options.failStates ?? new Map();
  const sorted = [...events].sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
  const byId = new Map<number, HistoryEvent>();
  for (const event of sorted) byId.set(event.id ?? 0, event);

  const visits: OpenVisit[] = [];
  const visitOfEvent = new Map<number, OpenVisit>();
  const rows: HistoryRow[] = [];
  const transitions: Transition[] = [];
  let status: ExecutionStatusInHistory = 'RUNNING';
  let executionError: HistoryAnalysis['executionError'] = null;
  let terminalEvent: HistoryEvent | undefined;

  for (const event of sorted) {
    const id = event.id ?? 0;
    const type = event.type ?? 'Unknown';
    const at = isoOf(event.timestamp);
    const details = detailsOf(event);
    const previous = byId.get(event.previousEventId ?? 0);
    // The visit the event happened inside: a state's events chain to its entry; the first event after a
    // state exits belongs to whatever holds that state (a Parallel, a Map, or the execution itself).
    const context = previous === undefined ? undefined : contextAfter(previous, visitOfEvent);

    if (type.startsWith('Execution')) {
      if (type === 'ExecutionStarted' || type === 'ExecutionRedriven') {
        status = 'RUNNING';
        executionError = null;
        terminalEvent = undefined;
      } else {
        status = EXECUTION_END_STATUS[type] ?? status;
        terminalEvent = event;
        executionError = executionErrorOf(status, details);
        closeOpenVisits(visits, status, executionError, at);
      }
      rows.push(rowOf(event, type, at, null, details));
      continue;
    }

    if (type.endsWith('StateEntered')) {
      const name = stringOr(details.name, '?');
      const cameFrom =
        previous !== undefined && isStateExit(previous) ? visitOfEvent.get(previous.id ?? 0) : undefined;
      const visit: OpenVisit = {
        stateName: name,
        stateType: type.slice(0, -'StateEntered'.length),
        enteredEventId: id,
        parent: cameFrom !== undefined ? cameFrom.parent : context,
        status: undefined,
        enteredAt: at,
        exitedAt: null,
        input: redactedOrNull(details.input),
        output: null,
        error: null,
        cause: null,
        attempts: [],
        caughtFrom: cameFrom?.status === 'caught' ? cameFrom : undefined,
        failedMarker: false,
        childFailure: undefined,
      };
      visits.push(visit);
      visitOfEvent.set(id, visit);
      if (cameFrom !== undefined) {
        transitions.push({ from: cameFrom.stateName, to: name, caught: cameFrom.status === 'caught' });
      }
      // The first state's entry follows no state (previousEventId 0, or ExecutionStarted); after a redrive it
      // follows ExecutionRedriven, and the machine was not started again.
      else if (
        visit.parent === undefined &&
        (previous === undefined || previous.type === 'ExecutionStarted')
      ) {
        transitions.push({ from: START, to: name, caught: false });
      }
      rows.push(rowOf(event, type, at, name, details));
      continue;
    }

    if (type.endsWith('StateExited')) {
      const name = stringOr(details.name, '?');
      const visit = enclosing(context, name);
      if (visit !== undefined) {
        closeInside(visit, visits, { failStates, at });
        visit.exitedAt = at;
        visit.output = redactedOrNull(details.output);
        const lastAttempt = visit.attempts.at(-1);
        visit.status = lastAttempt?.outcome === 'failed' || visit.failedMarker ? 'caught' : 'succeeded';
        visitOfEvent.set(id, visit);
      }
      rows.push(rowOf(event, type, at, name, details));
      continue;
    }

    // A Parallel's or a Map's own events (started, an iteration ending, failed) may follow the last event of a
    // state inside it: they belong to the Parallel or Map, and whatever was still open inside it has ended.
    const containerType = /^(Parallel|Map)(State|Iteration|Run)/.exec(type)?.[1];
    const owner =
      containerType === undefined
        ? context
        : (nearest(context, (visit) => visit.stateType === containerType && visit.exitedAt === null) ??
          context);
    if (owner !== undefined) {
      if (owner !== context && /(Failed|Aborted)$/.test(type)) {
        closeBetween(context, owner, { failStates, at });
      }
      visitOfEvent.set(id, owner);
      recordInVisit(owner, { id, type, at, details });
    }
    rows.push(rowOf(event, type, at, owner?.stateName ?? null, details));
  }

  // The machine's end is reached from a Succeed state, a state with End, or a Fail state.
  const lastVisit = lastTopLevelVisit(visits);
  if (
    lastVisit !== undefined &&
    (status === 'SUCCEEDED' || (status === 'FAILED' && lastVisit.stateType === 'Fail'))
  ) {
    transitions.push({ from: lastVisit.stateName, to: END, caught: false });
  }
  const closed = visits.map((visit) => finished(visit));
  const failure = failureOf(visits, terminalEvent, executionError, status);
  const failVisit = visits.at(-1);
  return {
    rows,
    visits: closed,
    states: summarise(closed),
    transitions,
    status,
    executionError,
    failure,
    failStateInput:
      status === 'FAILED' && failVisit?.stateType === 'Fail' && failVisit.exitedAt === null
        ? failVisit.input
        : null,
    handledFailure: status === 'RUNNING' ? handledFailureOf(visits, options.notReasons ?? new Set()) : null,
  };
}

/**
 * The state a running execution is in, from its newest events (GetExecutionHistory with reverseOrder: newest
 * first): the name of the state entered last and not yet left; null when it is between states or has ended;
 * undefined when these events do not say (no state was entered or left in them: read further).
 */
export function currentStateOf(newestFirst: readonly HistoryEvent[]): string | null | undefined {
  for (const event of newestFirst) {
    const type = event.type ?? '';
    if (type.endsWith('StateEntered')) return stringOrNull(detailsOf(event).name);
    if (type.endsWith('StateExited') || type.startsWith('Execution')) return null;
  }
  return undefined;
}

interface OpenAttempt {
  number: number;
  scheduledAt: string;
  endedAt: string | null;
  outcome: 'succeeded' | 'failed' | 'running';
  endedBy: string | null;
  error: string | null;
  cause: string | null;
  eventId: number;
}

interface OpenVisit {
  readonly stateName: string;
  readonly stateType: string;
  readonly enteredEventId: number;
  readonly parent: OpenVisit | undefined;
  status: StateStatus | undefined;
  readonly enteredAt: string;
  exitedAt: string | null;
  readonly input: string | null;
  output: string | null;
  error: string | null;
  cause: string | null;
  readonly attempts: OpenAttempt[];
  readonly caughtFrom: OpenVisit | undefined;
  /** A Parallel or Map reported failing (their failure events carry no error). */
  failedMarker: boolean;
  /** For a Parallel or Map: the failure of a state inside it that ended its branch or iteration. */
  childFailure: { readonly error: string | null; readonly cause: string | null } | undefined;
}

const EXECUTION_END_STATUS: Record<string, ExecutionStatusInHistory> = {
  ExecutionSucceeded: 'SUCCEEDED',
  ExecutionFailed: 'FAILED',
  ExecutionTimedOut: 'TIMED_OUT',
  ExecutionAborted: 'ABORTED',
};

/** Starts of an attempt: a task scheduled, or a Parallel or Map starting its branches (again, on a retry). */
const ATTEMPT_STARTS = new Set([
  'TaskScheduled',
  'LambdaFunctionScheduled',
  'ActivityScheduled',
  'ParallelStateStarted',
  'MapStateStarted',
]);
const ATTEMPT_SUCCESSES = new Set([
  'TaskSucceeded',
  'LambdaFunctionSucceeded',
  'ActivitySucceeded',
  'ParallelStateSucceeded',
  'MapStateSucceeded',
]);
/** Failures whose details carry no error: the error is only known from where the execution went next. */
const SILENT_FAILURES = new Set(['ParallelStateFailed', 'MapStateFailed']);

function isStateExit(event: HistoryEvent): boolean {
  return (event.type ?? '').endsWith('StateExited');
}

function contextAfter(previous: HistoryEvent, visitOfEvent: Map<number, OpenVisit>): OpenVisit | undefined {
  const visit = visitOfEvent.get(previous.id ?? 0);
  if (visit === undefined) return undefined;
  return isStateExit(previous) ? visit.parent : visit;
}

/** The open visit of `name` at or above `context`: a state's exit comes from inside it or one of its branches. */
function enclosing(context: OpenVisit | undefined, name: string): OpenVisit | undefined {
  for (let visit = context; visit !== undefined; visit = visit.parent) {
    if (visit.stateName === name && visit.exitedAt === null) return visit;
  }
  return undefined;
}

function nearest(from: OpenVisit | undefined, test: (visit: OpenVisit) => boolean): OpenVisit | undefined {
  for (let visit = from; visit !== undefined; visit = visit.parent) if (test(visit)) return visit;
  return undefined;
}

/**
 * Ends the visits still open from `from` up to (not including) `container`: a branch or an iteration ended.
 * The one that failed (a Fail state, or a step whose last attempt failed) is failed and gives the container its
 * error; the others were stopped.
 */
function closeBetween(
  from: OpenVisit | undefined,
  container: OpenVisit,
  { failStates, at }: { failStates: NonNullable<AnalyseOptions['failStates']>; at: string },
) {
  for (let visit = from; visit !== undefined && visit !== container; visit = visit.parent) {
    if (visit.status !== undefined || visit.exitedAt !== null) continue;
    const lastAttempt = visit.attempts.at(-1);
    if (visit.stateType === 'Fail' || lastAttempt?.outcome === 'failed') {
      visit.status = 'failed';
      if (visit.stateType === 'Fail') {
        const declared = failStates.get(visit.stateName);
        visit.error ??= declared?.error ?? null;
        visit.cause ??= declared?.cause ?? null;
      }
      container.childFailure ??= { error: visit.error, cause: visit.cause };
    } else {
      visit.status = 'aborted';
      if (lastAttempt?.outcome === 'running') {
        lastAttempt.outcome = 'failed';
        lastAttempt.endedAt = at;
      }
    }
  }
}

/** Ends whatever is still open inside `container` as it exits (iterations and branches it stopped). */
function closeInside(
  container: OpenVisit,
  visits: readonly OpenVisit[],
  context: { failStates: NonNullable<AnalyseOptions['failStates']>; at: string },
) {
  for (const visit of visits) {
    if (visit === container || visit.status !== undefined || visit.exitedAt !== null) continue;
    if (nearest(visit.parent, (ancestor) => ancestor === container) !== undefined) {
      closeBetween(visit, container, context);
    }
  }
}

function recordInVisit(
  visit: OpenVisit,
  { id, type, at, details }: { id: number; type: string; at: string; details: Record<string, unknown> },
) {
  const current = visit.attempts.at(-1);
  if (ATTEMPT_STARTS.has(type)) {
    visit.attempts.push({
      number: visit.attempts.length + 1,
      scheduledAt: at,
      endedAt: null,
      outcome: 'running',
      endedBy: null,
      error: null,
      cause: null,
      eventId: 0,
    });
    return;
  }
  if (ATTEMPT_SUCCESSES.has(type)) {
    if (current !== undefined && current.outcome === 'running') {
      current.outcome = 'succeeded';
      current.endedAt = at;
      current.endedBy = type;
    }
    return;
  }
  if (SILENT_FAILURES.has(type)) {
    visit.failedMarker = true;
    visit.error ??= visit.childFailure?.error ?? null;
    visit.cause ??= visit.childFailure?.cause ?? null;
    if (current !== undefined && current.outcome === 'running') {
      current.outcome = 'failed';
      current.endedAt = at;
      current.endedBy = type;
      current.error = visit.childFailure?.error ?? null;
      current.cause = visit.childFailure?.cause ?? null;
      current.eventId = id;
    }
    return;
  }
  if (isFailureEvent(type, details)) {
    // A failure before anything was scheduled (a start or schedule failure) is an attempt of its own.
    const attempt =
      current !== undefined && current.outcome === 'running'
        ? current
        : (visit.attempts[visit.attempts.push(newAttempt(visit.attempts.length + 1, at)) - 1] as OpenAttempt);
    attempt.outcome = 'failed';
    attempt.endedAt = at;
    attempt.endedBy = type;
    attempt.error = stringOr(details.error, type);
    attempt.cause = stringOrNull(details.cause);
    attempt.eventId = id;
    visit.error = attempt.error;
    visit.cause = attempt.cause;
  }
}

function newAttempt(number: number, at: string): OpenAttempt {
  return {
    number,
    scheduledAt: at,
    endedAt: null,
    outcome: 'running',
    endedBy: null,
    error: null,
    cause: null,
    eventId: 0,
  };
}

/** TaskFailed, TaskTimedOut, TaskStartFailed, LambdaFunctionFailed, EvaluationFailed, …: any with an error. */
function isFailureEvent(type: string, details: Record<string, unknown>): boolean {
  return /(Failed|TimedOut)$/.test(type) && typeof details.error === 'string';
}

/** A stop names no error unless the caller gave one; an execution timeout's is States.Timeout. */
function executionErrorOf(
  status: ExecutionStatusInHistory,
  details: Record<string, unknown>,
): HistoryAnalysis['executionError'] {
  if (status === 'SUCCEEDED') return null;
  const cause = stringOrNull(details.cause);
  if (typeof details.error === 'string') return { error: details.error, cause };
  if (status === 'TIMED_OUT') return { error: 'States.Timeout', cause };
  if (status === 'ABORTED') return cause === null ? null : { error: 'Stopped', cause };
  return { error: 'States.Runtime', cause };
}

function closeOpenVisits(
  visits: readonly OpenVisit[],
  status: ExecutionStatusInHistory,
  executionError: HistoryAnalysis['executionError'],
  at: string,
) {
  for (const visit of visits) {
    if (visit.status !== undefined || visit.exitedAt !== null) continue;
    if (status === 'SUCCEEDED') {
      visit.status = 'succeeded';
      continue;
    }
    const lastAttempt = visit.attempts.at(-1);
    if (lastAttempt !== undefined && lastAttempt.outcome === 'running') {
      lastAttempt.outcome = 'failed';
      lastAttempt.endedAt = at;
    }
    if (status === 'ABORTED' || status === 'TIMED_OUT') {
      visit.status = 'aborted';
      visit.error ??= executionError?.error ?? null;
      visit.cause ??= executionError?.cause ?? null;
      continue;
    }
    visit.status = 'failed';
    // A Fail state, or a failure with no event of its own (States.Runtime, a Choice that matched nothing).
    if (lastAttempt?.outcome !== 'failed' || visit.error === null) {
      visit.error = executionError?.error ?? null;
      visit.cause = executionError?.cause ?? null;
    }
  }
}

function lastTopLevelVisit(visits: readonly OpenVisit[]): OpenVisit | undefined {
  for (let index = visits.length - 1; index >= 0; index--) {
    const visit = visits[index];
    if (visit !== undefined && visit.parent === undefined) return visit;
  }
  return undefined;
}

/**
 * The failure that ended the execution: the last step failure (a task's error, timeout, ...) before the end;
 * but a failure in a step that a Catch had just led to (RecordVendFailed failing while recording Vend's
 * failure) does not hide the failure being handled, which is the reason. With no step failure at all (a
 * Choice leading to a Fail state, a stop, an execution timeout), the execution's own error.
 */
function failureOf(
  visits: readonly OpenVisit[],
  terminalEvent: HistoryEvent | undefined,
  executionError: HistoryAnalysis['executionError'],
  status: ExecutionStatusInHistory,
): ExecutionFailure | null {
  if (status === 'RUNNING' || status === 'SUCCEEDED' || terminalEvent === undefined) return null;
  if (status === 'FAILED') {
    let failing: OpenVisit | undefined;
    let failingAttempt: OpenAttempt | undefined;
    for (const visit of visits) {
      if (visit.status !== 'caught' && visit.status !== 'failed') continue;
      const attempt = visit.attempts.at(-1);
      if (attempt?.outcome !== 'failed' || attempt.error === null) continue;
      if (failingAttempt === undefined || attempt.eventId >= failingAttempt.eventId) {
        failing = visit;
        failingAttempt = attempt;
      }
    }
    while (failing?.caughtFrom !== undefined) {
      const handled = failing.caughtFrom.attempts.at(-1);
      if (handled?.outcome !== 'failed' || handled.error === null) break;
      failingAttempt = handled;
      failing = failing.caughtFrom;
    }
    if (failing !== undefined && failingAttempt !== undefined) {
      return {
        error: failingAttempt.error ?? '',
        cause: failingAttempt.cause,
        stateName: failing.stateName,
        eventId: failingAttempt.eventId,
        eventType: failingAttempt.endedBy ?? 'TaskFailed',
      };
    }
  }
  if (executionError === null) return null;
  const lastVisit = visits.at(-1);
  return {
    error: executionError.error,
    cause: executionError.cause,
    stateName: lastVisit?.stateName ?? null,
    eventId: terminalEvent.id ?? 0,
    eventType: terminalEvent.type ?? 'ExecutionFailed',
  };
}

/** See HistoryAnalysis.handledFailure. */
function handledFailureOf(
  visits: readonly OpenVisit[],
  notReasons: ReadonlySet<string>,
): ExecutionFailure | null {
  let handled: OpenVisit | undefined;
  let handledAttempt: OpenAttempt | undefined;
  for (const visit of visits) {
    if (visit.status !== 'caught' || notReasons.has(visit.stateName)) continue;
    const attempt = visit.attempts.at(-1);
    if (attempt?.outcome !== 'failed' || attempt.error === null) continue;
    if (handledAttempt === undefined || attempt.eventId >= handledAttempt.eventId) {
      handled = visit;
      handledAttempt = attempt;
    }
  }
  while (handled?.caughtFrom !== undefined && !notReasons.has(handled.caughtFrom.stateName)) {
    const before = handled.caughtFrom.attempts.at(-1);
    if (before?.outcome !== 'failed' || before.error === null) break;
    handledAttempt = before;
    handled = handled.caughtFrom;
  }
  if (handled === undefined || handledAttempt === undefined) return null;
  return {
    error: handledAttempt.error ?? '',
    cause: handledAttempt.cause,
    stateName: handled.stateName,
    eventId: handledAttempt.eventId,
    eventType: handledAttempt.endedBy ?? 'TaskFailed',
  };
}

function finished(visit: OpenVisit): StateVisit {
  const endedAt = visit.exitedAt;
  return {
    stateName: visit.stateName,
    stateType: visit.stateType,
    enteredEventId: visit.enteredEventId,
    status: visit.status ?? 'running',
    enteredAt: visit.enteredAt,
    exitedAt: visit.exitedAt,
    durationMs: endedAt === null ? null : Date.parse(endedAt) - Date.parse(visit.enteredAt),
    input: visit.input,
    output: visit.output,
    error: visit.error,
    cause: visit.cause,
    retries: Math.max(0, visit.attempts.length - 1),
    attempts: visit.attempts.map(({ eventId: _eventId, ...attempt }) => attempt),
    caughtFrom: visit.caughtFrom?.stateName ?? null,
  };
}

function summarise(visits: readonly StateVisit[]): StateSummary[] {
  const byName = new Map<string, StateVisit[]>();
  for (const visit of visits) {
    const list = byName.get(visit.stateName);
    if (list === undefined) byName.set(visit.stateName, [visit]);
    else list.push(visit);
  }
  return [...byName.entries()].map(([name, list]) => {
    const last = list.at(-1)!;
    return {
      name,
      type: last.stateType,
      status: last.status,
      retries: last.retries,
      totalRetries: list.reduce((sum, visit) => sum + visit.retries, 0),
      visits: list.length,
      enteredAt: last.enteredAt,
      exitedAt: last.exitedAt,
      durationMs: last.durationMs,
      input: last.input,
      output: last.output,
      error: last.error,
      cause: last.cause,
      attempts: last.attempts,
    };
  });
}

function rowOf(
  event: HistoryEvent,
  type: string,
  at: string,
  stateName: string | null,
  details: Record<string, unknown>,
): HistoryRow {
  return {
    id: event.id ?? 0,
    previousEventId: event.previousEventId ?? null,
    type,
    timestamp: at,
    stateName,
    details: redactDetails(details),
  };
}

/** The event's one `…EventDetails` object (its key differs per type). */
function detailsOf(event: HistoryEvent): Record<string, unknown> {
  for (const [key, value] of Object.entries(event)) {
    if (key.endsWith('EventDetails') && value !== null && typeof value === 'object') {
      return value as Record<string, unknown>;
    }
  }
  return {};
}

const JSON_TEXT_FIELDS = new Set(['input', 'output', 'parameters']);

function redactDetails(details: Record<string, unknown>): Record<string, unknown> {
  const redacted: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(details)) {
    redacted[field] =
      JSON_TEXT_FIELDS.has(field) && typeof value === 'string' ? redactJsonText(value) : value;
  }
  return redacted;
}

function redactedOrNull(value: unknown): string | null {
  return typeof value === 'string' ? redactJsonText(value) : null;
}

function isoOf(timestamp: Date | string | number | undefined): string {
  if (timestamp === undefined) return new Date(0).toISOString();
  return new Date(timestamp).toISOString();
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

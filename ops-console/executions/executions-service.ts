/**
 * The executions side of the console, over the Step Functions API alone (so it reads the embedded AWS and a
 * real account alike): state machines, executions listed with their real failure reasons and searched by name
 * and start date, one execution in full (description, definition, history, per-state summary, graph), and the
 * operator's stop and redrive.
 *
 * @example
 * const executions = new ExecutionsService({ sfn });
 * const page = await executions.list({ stateMachineArn, status: 'FAILED', limit: 25 });
 */
import {
  DescribeExecutionCommand,
  DescribeStateMachineForExecutionCommand,
  ExecutionDoesNotExist,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  RedriveExecutionCommand,
  type SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { OpsConsoleInvalidCursorError } from '../errors.ts';
import { failStatesOf, parseDefinition } from './definition.ts';
import { type GraphLayout, layoutDefinition } from './graph.ts';
import {
  analyseHistory,
  currentStateOf,
  type ExecutionFailure,
  type HistoryAnalysis,
  type HistoryRow,
  type StateSummary,
  type Transition,
} from './history.ts';
import { HistoryStore } from './history-store.ts';
import {
  declineReasonOf,
  type ExecutionOutcome,
  type ExecutionStatus,
  outcomeOf,
  PAYMENT_TO_VEND_DECISION_STATES,
  reasonOf,
} from './outcomes.ts';
import { redactJsonText } from './redaction.ts';

export interface StateMachineItem {
  readonly stateMachineArn: string;
  readonly name: string;
  readonly type: string;
  readonly creationDate: string | null;
}

/** An execution as the list shows it: what happened, and why when it went wrong. */
export interface ExecutionRow {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  /** The payment id, for PaymentToVend. */
  readonly name: string;
  readonly status: ExecutionStatus;
  readonly startDate: string;
  readonly stopDate: string | null;
  readonly durationMs: number | null;
  readonly redriveCount: number;
  readonly outcome: ExecutionOutcome;
  /**
   * One line: `VendRejected: NOT_FOR_THIS_DEVICE`, the decline code, or null. For one awaiting a decision, the
   * failure that led it there (`VendorUnavailable: …`, the charge's error for an unconfirmed charge).
   */
  readonly reason: string | null;
  /** The step failure that ended it; for one awaiting a decision, the one that led it there. */
  readonly failure: ExecutionFailure | null;
  readonly declineReason: string | null;
}

export interface ExecutionFilters {
  readonly stateMachineArn: string;
  readonly status?: ExecutionStatus | undefined;
  /** The execution's name, exactly or in part (case-insensitive). */
  readonly name?: string | undefined;
  /** Started at or after. */
  readonly from?: Date | undefined;
  /** Started at or before. */
  readonly to?: Date | undefined;
  readonly limit?: number | undefined;
  readonly cursor?: string | undefined;
}

export interface ExecutionPage {
  readonly executions: ExecutionRow[];
  /** Pass back as `cursor` for the next page; null when there is no more. */
  readonly nextCursor: string | null;
  /** Executions looked at to fill this page (a name or date search reads past those that do not match). */
  readonly scanned: number;
  /** The page stopped at the scan budget rather than filling up: more may match after `nextCursor`. */
  readonly scanLimitReached: boolean;
}

export interface ExecutionDetail {
  readonly execution: ExecutionRow & {
    readonly input: string | null;
    readonly output: string | null;
    /** As DescribeExecution says: for a Fail state, its fixed error and cause. */
    readonly error: string | null;
    readonly cause: string | null;
    readonly redriveDate: string | null;
    readonly redriveStatus: string | null;
    readonly redriveStatusReason: string | null;
  };
  readonly stateMachine: {
    readonly stateMachineArn: string;
    readonly name: string;
    readonly definition: string;
    readonly revisionId: string | null;
  };
  readonly states: StateSummary[];
  readonly transitions: Transition[];
  readonly history: HistoryRow[];
}

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;
/** ListExecutions calls one request may make while searching. */
const SCAN_PAGES = 10;
const SCAN_PAGE_SIZE = 100;
/** Histories read at once while listing (each a GetExecutionHistory call on AWS). */
const HISTORY_CONCURRENCY = 6;
/**
 * The newest events read of a running execution to tell whether it waits in AwaitDecision: its entry, and the
 * task's scheduled, started and submitted events, with room for a retried invocation of the follow-up function.
 */
const NEWEST_EVENTS = 10;
/** The decision states' failures are not why a payment is open (AnalyseOptions.notReasons). */
const DECISION_STATE_NAMES: ReadonlySet<string> = new Set(Object.values(PAYMENT_TO_VEND_DECISION_STATES));

export class ExecutionsService {
  readonly #sfn: SFNClient;
  readonly #histories: HistoryStore;

  constructor({ sfn }: { sfn: SFNClient }) {
    this.#sfn = sfn;
    this.#histories = new HistoryStore(sfn);
  }

  async stateMachines(): Promise<StateMachineItem[]> {
    const machines: StateMachineItem[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.#sfn.send(new ListStateMachinesCommand({ maxResults: 1000, nextToken }));
      for (const machine of page.stateMachines ?? []) {
        machines.push({
          stateMachineArn: machine.stateMachineArn ?? '',
          name: machine.name ?? '',
          type: machine.type ?? 'STANDARD',
          creationDate: isoOrNull(machine.creationDate),
        });
      }
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    return machines.sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * A page of executions, newest first. A name that is a whole execution name is looked up directly; any
   * other name or date filter reads pages of ListExecutions (which filters by status alone) until the page
   * fills, the dates are passed, or the scan budget is spent.
   */
  async list(filters: ExecutionFilters): Promise<ExecutionPage> {
    const limit = Math.min(Math.max(filters.limit ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
    const name = filters.name?.trim() ?? '';
    if (name !== '' && filters.cursor === undefined) {
      const exact = await this.#exactly(filters.stateMachineArn, name);
      if (exact !== undefined) {
        const matches = matchesFilters(exact, { ...filters, name: undefined });
        return {
          executions: matches ? await this.#rows([exact]) : [],
          nextCursor: null,
          scanned: 1,
          scanLimitReached: false,
        };
      }
    }

    const searching = name !== '' || filters.from !== undefined || filters.to !== undefined;
    let cursor = decodeCursor(filters.cursor) ?? {
      token: null,
      skip: 0,
      size: searching ? SCAN_PAGE_SIZE : limit,
    };
    const found: ExecutionFacts[] = [];
    let scanned = 0;
    let calls = 0;
    let nextCursor: Cursor | null = null;
    let passedFrom = false;
    while (found.length < limit && calls < SCAN_PAGES && !passedFrom) {
      const page = await this.#sfn.send(
        new ListExecutionsCommand({
          stateMachineArn: filters.stateMachineArn,
          ...(filters.status === undefined ? {} : { statusFilter: filters.status }),
          maxResults: cursor.size,
          ...(cursor.token === null ? {} : { nextToken: cursor.token }),
        }),
      );
      calls++;
      const items = page.executions ?? [];
      let index = cursor.skip;
      for (; index < items.length && found.length < limit; index++) {
        const item = items[index]!;
        scanned++;
        // Newest first: once one started before `from`, every later one did too.
        if (filters.from !== undefined && item.startDate !== undefined && item.startDate < filters.from) {
          passedFrom = true;
          break;
        }
        if (matchesFilters(item, { ...filters, name })) found.push(item);
      }
      if (passedFrom) {
        nextCursor = null;
      } else if (index < items.length) {
        nextCursor = { token: cursor.token, skip: index, size: cursor.size };
      } else if (page.nextToken !== undefined) {
        nextCursor = { token: page.nextToken, skip: 0, size: cursor.size };
      } else {
        nextCursor = null;
      }
      if (nextCursor === null) break;
      cursor = nextCursor;
    }
    return {
      executions: await this.#rows(found),
      nextCursor: nextCursor === null ? null : encodeCursor(nextCursor),
      scanned,
      scanLimitReached: found.length < limit && nextCursor !== null,
    };
  }

  /** One execution in full. Throws the SDK's ExecutionDoesNotExist for an unknown one. */
  async detail(executionArn: string): Promise<ExecutionDetail> {
    const [described, machine] = await Promise.all([
      this.#sfn.send(new DescribeExecutionCommand({ executionArn })),
      this.#definitionOf(executionArn),
    ]);
    const events = await this.#histories.historyOf(executionArn, {
      redriveCount: described.redriveCount ?? 0,
    });
    const analysis = analyseHistory(events, {
      failStates: failStatesIn(machine.definition),
      notReasons: DECISION_STATE_NAMES,
    });
    return {
      execution: {
        ...rowOf(described, analysis),
        input: described.input === undefined ? null : redactJsonText(described.input),
        output: described.output === undefined ? null : redactJsonText(described.output),
        error: described.error ?? null,
        cause: described.cause ?? null,
        redriveDate: isoOrNull(described.redriveDate),
        redriveStatus: described.redriveStatus ?? null,
        redriveStatusReason: described.redriveStatusReason ?? null,
      },
      stateMachine: machine,
      states: analysis.states,
      transitions: analysis.transitions,
      history: analysis.rows,
    };
  }

  /** The graph of the machine the execution ran (its definition as it was then). */
  async graphOf(executionArn: string): Promise<GraphLayout> {
    const machine = await this.#definitionOf(executionArn);
    return layoutDefinition(machine.definition);
  }

  async stop(
    executionArn: string,
    { error, cause }: { error?: string | undefined; cause?: string | undefined } = {},
  ): Promise<{ stopDate: string }> {
    const stopped = await this.#sfn.send(new StopExecutionCommand({ executionArn, error, cause }));
    return { stopDate: isoOrNull(stopped.stopDate) ?? new Date().toISOString() };
  }

  async redrive(executionArn: string): Promise<{ redriveDate: string }> {
    const redriven = await this.#sfn.send(new RedriveExecutionCommand({ executionArn }));
    return { redriveDate: isoOrNull(redriven.redriveDate) ?? new Date().toISOString() };
  }

  readonly #definitions = new Map<string, Promise<ExecutionDetail['stateMachine']>>();

  /** An execution's definition never changes (an update of the machine applies to later executions). */
  #definitionOf(executionArn: string): Promise<ExecutionDetail['stateMachine']> {
    const kept = this.#definitions.get(executionArn);
    if (kept !== undefined) return kept;
    const pending = this.#sfn
      .send(new DescribeStateMachineForExecutionCommand({ executionArn }))
      .then((machine) => ({
        stateMachineArn: machine.stateMachineArn ?? '',
        name: machine.name ?? '',
        definition: machine.definition ?? '{}',
        revisionId: machine.revisionId ?? null,
      }));
    this.#definitions.set(executionArn, pending);
    pending.catch(() => this.#definitions.delete(executionArn));
    if (this.#definitions.size > 500) this.#definitions.delete(this.#definitions.keys().next().value!);
    return pending;
  }

  async #exactly(stateMachineArn: string, name: string): Promise<ExecutionFacts | undefined> {
    const executionArn = executionArnOf(stateMachineArn, name);
    if (executionArn === undefined) return undefined;
    try {
      return await this.#sfn.send(new DescribeExecutionCommand({ executionArn }));
    } catch (error) {
      // Not a whole name (or not a valid one): the caller searches by part instead.
      if (error instanceof ExecutionDoesNotExist || isInvalidArn(error)) return undefined;
      throw error;
    }
  }

  /**
   * Rows for listed executions: the ended-unhappily ones need their history for the real reason; a running one
   * only its newest events, to see whether it waits for a decision, and then its history for why.
   */
  async #rows(items: readonly ExecutionFacts[]): Promise<ExecutionRow[]> {
    return mapConcurrently(items, HISTORY_CONCURRENCY, async (item) => {
      const status = (item.status ?? 'RUNNING') as ExecutionStatus;
      if (status === 'SUCCEEDED') return rowOf(item, undefined);
      const executionArn = item.executionArn ?? '';
      if (status === 'RUNNING') {
        const { events: newest, more } = await this.#histories.newestEvents(executionArn, NEWEST_EVENTS);
        const current = currentStateOf(newest);
        // Undefined: the newest events do not say where it is (a task retried many times), so read it all.
        if (current === null || (current === undefined && !more)) return rowOf(item, undefined);
        if (current !== undefined && current !== PAYMENT_TO_VEND_DECISION_STATES.awaitDecision) {
          return rowOf(item, undefined);
        }
      }
      const events = await this.#histories.historyOf(executionArn, {
        redriveCount: item.redriveCount ?? 0,
      });
      return rowOf(item, analyseHistory(events, { notReasons: DECISION_STATE_NAMES }));
    });
  }
}

/** What ListExecutions' items and DescribeExecution's answer both say (and the error, which only the latter has). */
interface ExecutionFacts {
  readonly executionArn?: string | undefined;
  readonly stateMachineArn?: string | undefined;
  readonly name?: string | undefined;
  readonly status?: string | undefined;
  readonly startDate?: Date | undefined;
  readonly stopDate?: Date | undefined;
  readonly redriveCount?: number | undefined;
  readonly error?: string | undefined;
}

function rowOf(facts: ExecutionFacts, analysis: HistoryAnalysis | undefined): ExecutionRow {
  const status = (facts.status ?? 'RUNNING') as ExecutionStatus;
  const executionError = facts.error ?? analysis?.executionError?.error ?? null;
  const awaitingDecision = status === 'RUNNING' && analysis !== undefined && waitsForDecision(analysis);
  const outcome = outcomeOf(status, executionError, { awaitingDecision });
  const failure = awaitingDecision
    ? analysis.handledFailure
    : status === 'RUNNING' || status === 'SUCCEEDED'
      ? null
      : (analysis?.failure ?? null);
  const declineReason =
    outcome === 'charge_declined' ? declineReasonOf(analysis?.failStateInput ?? null) : null;
  const startDate = facts.startDate ?? new Date(0);
  return {
    executionArn: facts.executionArn ?? '',
    stateMachineArn: facts.stateMachineArn ?? '',
    name: facts.name ?? '',
    status,
    startDate: startDate.toISOString(),
    stopDate: isoOrNull(facts.stopDate),
    durationMs: facts.stopDate === undefined ? null : facts.stopDate.getTime() - startDate.getTime(),
    redriveCount: facts.redriveCount ?? 0,
    outcome,
    reason: reasonOf(outcome, failure, declineReason),
    failure,
    declineReason,
  };
}

/** Whether the execution is in AwaitDecision now: entered, not left (its task token with the operator). */
function waitsForDecision(analysis: HistoryAnalysis): boolean {
  return analysis.visits.some(
    (visit) =>
      visit.stateName === PAYMENT_TO_VEND_DECISION_STATES.awaitDecision &&
      visit.status === 'running' &&
      visit.exitedAt === null,
  );
}

function failStatesIn(definition: string): ReturnType<typeof failStatesOf> | undefined {
  try {
    return failStatesOf(parseDefinition(definition));
  } catch {
    // A definition that does not parse still has a history worth reading.
    return undefined;
  }
}

function matchesFilters(item: ExecutionFacts, filters: ExecutionFilters): boolean {
  if (filters.status !== undefined && item.status !== filters.status) return false;
  const started = item.startDate;
  if (filters.from !== undefined && (started === undefined || started < filters.from)) return false;
  if (filters.to !== undefined && (started === undefined || started > filters.to)) return false;
  const name = filters.name?.trim().toLowerCase();
  if (name) return (item.name ?? '').toLowerCase().includes(name);
  return true;
}

/** `arn:…:stateMachine:Machine` and `pay_1` → `arn:…:execution:Machine:pay_1` (standard workflows). */
export function executionArnOf(stateMachineArn: string, name: string): string | undefined {
  const parts = stateMachineArn.split(':');
  if (parts.length !== 7 || parts[5] !== 'stateMachine') return undefined;
  if (!/^[^\s<>{}[\]?*"#%\\^|~`$&,;:/]{1,80}$/u.test(name)) return undefined;
  return [...parts.slice(0, 5), 'execution', parts[6], name].join(':');
}

function isInvalidArn(error: unknown): boolean {
  return error instanceof Error && error.name === 'InvalidArn';
}

interface Cursor {
  /** ListExecutions' nextToken for the page the next item is on; null for the first page. */
  readonly token: string | null;
  /** Items of that page already given. */
  readonly skip: number;
  /** Its page size: a token is only good with the size it was made for. */
  readonly size: number;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.token, cursor.skip, cursor.size])).toString('base64url');
}

/** Undefined for none; throws for one that is not ours. */
function decodeCursor(text: string | undefined): Cursor | undefined {
  if (text === undefined || text === '') return undefined;
  try {
    const [token, skip, size] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (
      (token === null || typeof token === 'string') &&
      Number.isInteger(skip) &&
      Number.isInteger(size) &&
      (skip as number) >= 0 &&
      (size as number) >= 1 &&
      (size as number) <= 1000
    ) {
      return { token, skip: skip as number, size: size as number };
    }
  } catch {
    // fall through
  }
  throw new OpsConsoleInvalidCursorError();
}

function isoOrNull(date: Date | undefined): string | null {
  return date === undefined ? null : date.toISOString();
}

async function mapConcurrently<T, R>(
  items: readonly T[],
  concurrency: number,
  map: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await map(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

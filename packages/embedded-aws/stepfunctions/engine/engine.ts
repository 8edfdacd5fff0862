/**
 * The embedded Step Functions engine: state machines, executions and their histories, in memory and made
 * durable through a journal. The API layer (`../api/`) translates AWS requests into calls on this class.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { type Journal, openJournal } from '../../durable/journal.ts';
import type { Json, StateMachineDefinition } from '../definition/types.ts';
import type { ServiceIntegrations } from '../integrations.ts';
import { type ExecutionFinish, ExecutionRunner, type RunnerHost } from './execution-runner.ts';
import { detailsKeyFor, type HistoryEvent } from './history.ts';
import type { BranchCheckpoint, ExecutionRecord, StateMachineRecord } from './model.ts';

/** One line of the Step Functions journal. */
export type EngineRecord =
  | { readonly t: 'machine'; readonly machine: StateMachineRecord }
  | { readonly t: 'machine-deleted'; readonly arn: string }
  | { readonly t: 'execution'; readonly execution: ExecutionRecord }
  | {
      readonly t: 'event';
      readonly arn: string;
      readonly event: HistoryEvent;
      readonly key?: string;
      readonly checkpoint?: BranchCheckpoint | null;
      readonly finish?: ExecutionFinish;
    }
  | {
      readonly t: 'checkpoint';
      readonly arn: string;
      readonly key: string;
      readonly checkpoint: BranchCheckpoint | null;
    };

export interface EngineOptions {
  /** Folder for the journal, or null to keep everything in memory (tests). */
  readonly dataDir: string | null;
  readonly integrations: ServiceIntegrations;
  readonly region?: string;
  readonly accountId?: string;
  readonly now?: () => number;
  readonly random?: () => number;
}

interface ExecutionState {
  readonly record: ExecutionRecord;
  readonly events: HistoryEvent[];
  readonly checkpoints: Map<string, BranchCheckpoint>;
  /** Express executions live only in memory, as on AWS they have no stored history. */
  readonly durable: boolean;
  runner?: ExecutionRunner;
  done?: Promise<void>;
}

const ROOT = 'root';
/** Task tokens start as AWS's do; the rest names the execution (see newTaskToken). */
const TASK_TOKEN_PREFIX = 'AQ';

export class StepFunctionsEngine implements RunnerHost {
  readonly region: string;
  readonly accountId: string;
  readonly integrations: ServiceIntegrations;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #machines = new Map<string, StateMachineRecord>();
  readonly #executions = new Map<string, ExecutionState>();
  readonly #tokens = new Map<string, ExecutionRunner>();
  readonly #parsedDefinitions = new Map<string, StateMachineDefinition>();
  #journal: Journal<EngineRecord> | undefined;
  #closed = false;

  private constructor(options: EngineOptions) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.integrations = options.integrations;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  /** Opens (or creates) the engine's journal, rebuilds its state and resumes running executions. */
  static async open(options: EngineOptions): Promise<StepFunctionsEngine> {
    const engine = new StepFunctionsEngine(options);
    engine.#journal = await openJournal<EngineRecord>({
      dir: options.dataDir,
      name: 'stepfunctions',
      replay: (record) => engine.#apply(record),
      snapshot: () => engine.#snapshot(),
    });
    for (const state of engine.#executions.values()) {
      if (state.record.status === 'RUNNING') engine.#launch(state);
    }
    return engine;
  }

  /** Waits for writes to reach the journal; API calls await this before they answer. */
  flushed(): Promise<void> {
    return this.#journal!.flushed();
  }

  async close(): Promise<void> {
    this.#closed = true;
    const running: Promise<void>[] = [];
    for (const state of this.#executions.values()) {
      state.runner?.halt();
      if (state.done) running.push(state.done);
    }
    await Promise.all(running);
    await this.#journal?.close();
  }

  // ─── State machines ────────────────────────────────────────────────────────────────────────────────

  machine(arn: string): StateMachineRecord | undefined {
    return this.#machines.get(arn);
  }

  machines(): StateMachineRecord[] {
    return [...this.#machines.values()];
  }

  putMachine(machine: StateMachineRecord): void {
    this.#write({ t: 'machine', machine });
  }

  deleteMachine(arn: string): void {
    this.#write({ t: 'machine-deleted', arn });
  }

  // ─── Executions ────────────────────────────────────────────────────────────────────────────────────

  execution(arn: string): ExecutionRecord | undefined {
    return this.#executions.get(arn)?.record;
  }

  executionsOf(stateMachineArn: string): ExecutionRecord[] {
    const found: ExecutionRecord[] = [];
    for (const state of this.#executions.values()) {
      if (state.record.stateMachineArn === stateMachineArn && state.durable) found.push(state.record);
    }
    return found;
  }

  history(arn: string): readonly HistoryEvent[] {
    return this.#executions.get(arn)?.events ?? [];
  }

  /** Starts a new execution; `durable: false` for EXPRESS executions. Resolves when it is recorded. */
  start(
    machine: StateMachineRecord,
    execution: {
      arn: string;
      name: string;
      input: string;
      durable: boolean;
      variables?: Record<string, Json>;
    },
  ): ExecutionRecord {
    const record: ExecutionRecord = {
      arn: execution.arn,
      name: execution.name,
      stateMachineArn: machine.arn,
      stateMachineName: machine.name,
      type: machine.type,
      definition: machine.definition,
      ...(machine.revisionId !== undefined ? { revisionId: machine.revisionId } : {}),
      revisionDate: machine.updateDate ?? machine.creationDate,
      roleArn: machine.roleArn,
      input: execution.input,
      startDate: this.#now(),
      status: 'RUNNING',
      redriveCount: 0,
    };
    const state: ExecutionState = { record, events: [], checkpoints: new Map(), durable: execution.durable };
    this.#executions.set(record.arn, state);
    if (state.durable) this.#journal!.append({ t: 'execution', execution: { ...record } });
    const runner = this.#runnerFor(state);
    runner.begin(execution.variables);
    this.#launch(state);
    return record;
  }

  /** Resolves when the execution has ended (for StartSyncExecution and tests). */
  async finished(arn: string): Promise<ExecutionRecord> {
    const state = this.#executions.get(arn);
    if (state === undefined) throw new Error(`no execution ${arn}`);
    await state.done;
    return state.record;
  }

  /** Drops an EXPRESS execution once its caller has its result. */
  forget(arn: string): void {
    const state = this.#executions.get(arn);
    if (state && !state.durable) this.#executions.delete(arn);
  }

  stop(arn: string, error?: string, cause?: string): void {
    this.#executions.get(arn)?.runner?.stop(error, cause);
  }

  /**
   * RedriveExecution: restarts a FAILED, ABORTED or TIMED_OUT execution at the state where it stopped, with
   * the input and variables that state had.
   */
  redrive(arn: string): ExecutionRecord {
    const state = this.#executions.get(arn)!;
    const root = state.checkpoints.get(ROOT);
    if (root === undefined) throw new Error(`execution ${arn} has no checkpoint to redrive from`);
    const record = state.record;
    const redriven: ExecutionRecord = {
      ...record,
      status: 'RUNNING',
      redriveCount: record.redriveCount + 1,
      redriveDate: this.#now(),
      stopDate: undefined,
      output: undefined,
      error: undefined,
      cause: undefined,
    };
    this.#write({ t: 'execution', execution: redriven });
    this.appendEvent(
      state.record,
      {
        type: 'ExecutionRedriven',
        previousEventId: this.lastEventId(state.record),
        details: { redriveCount: redriven.redriveCount },
      },
      {
        key: ROOT,
        value: {
          ...root,
          entered: undefined,
          step: undefined,
          retryCount: 0,
          retrierAttempts: [],
          previousEventId: this.nextEventId(state.record),
        },
      },
    );
    this.#launch(state);
    return state.record;
  }

  /** The runner waiting on a task token, or why there is none. */
  runnerForToken(token: string): ExecutionRunner | undefined {
    return this.#tokens.get(token);
  }

  // ─── RunnerHost ────────────────────────────────────────────────────────────────────────────────────

  now(): number {
    return this.#now();
  }

  random(): number {
    return this.#random();
  }

  /** Task tokens carry their execution, so a token can be answered even across a restart. */
  newTaskToken(execution: ExecutionRecord): string {
    const payload = Buffer.from(JSON.stringify({ e: execution.arn, n: randomBytes(12).toString('hex') }));
    return `${TASK_TOKEN_PREFIX}${payload.toString('base64url')}`;
  }

  nextEventId(execution: ExecutionRecord): number {
    return this.#executions.get(execution.arn)!.events.length + 1;
  }

  lastEventId(execution: ExecutionRecord): number {
    return this.#executions.get(execution.arn)!.events.length;
  }

  appendEvent(
    execution: ExecutionRecord,
    event: { type: string; previousEventId: number; details?: object },
    checkpoint?: { key: string; value: BranchCheckpoint | null },
    finish?: ExecutionFinish,
  ): number {
    const state = this.#executions.get(execution.arn)!;
    const id = state.events.length + 1;
    const historyEvent: Record<string, unknown> = {
      timestamp: this.#now(),
      type: event.type,
      id,
      previousEventId: event.previousEventId,
    };
    const key = detailsKeyFor(event.type);
    if (key !== undefined && event.details !== undefined) historyEvent[key] = event.details;
    const record: EngineRecord = {
      t: 'event',
      arn: execution.arn,
      event: historyEvent as unknown as HistoryEvent,
      ...(checkpoint ? { key: checkpoint.key, checkpoint: checkpoint.value } : {}),
      ...(finish ? { finish: { ...finish } } : {}),
    };
    if (state.durable) this.#write(record);
    else this.#apply(record);
    return id;
  }

  saveCheckpoint(execution: ExecutionRecord, key: string, value: BranchCheckpoint | null): void {
    const state = this.#executions.get(execution.arn)!;
    const record: EngineRecord = { t: 'checkpoint', arn: execution.arn, key, checkpoint: value };
    if (state.durable) this.#write(record);
    else this.#apply(record);
  }

  readCheckpoint(execution: ExecutionRecord, key: string): BranchCheckpoint | undefined {
    return this.#executions.get(execution.arn)?.checkpoints.get(key);
  }

  tokenIssued(token: string, runner: ExecutionRunner): void {
    this.#tokens.set(token, runner);
  }

  tokenReleased(token: string): void {
    this.#tokens.delete(token);
  }

  // ─── Internals ─────────────────────────────────────────────────────────────────────────────────────

  #runnerFor(state: ExecutionState): ExecutionRunner {
    let definition = this.#parsedDefinitions.get(state.record.definition);
    if (definition === undefined) {
      // Executions of one machine share its parsed definition; the runner never mutates it.
      if (this.#parsedDefinitions.size > 1000) this.#parsedDefinitions.clear();
      definition = JSON.parse(state.record.definition) as StateMachineDefinition;
      this.#parsedDefinitions.set(state.record.definition, definition);
    }
    state.runner = new ExecutionRunner(this, state.record, definition);
    return state.runner;
  }

  #launch(state: ExecutionState): void {
    const runner = state.runner ?? this.#runnerFor(state);
    state.done = runner.run().finally(() => {
      state.runner = undefined;
    });
  }

  /** Applies a record to memory and appends it to the journal. */
  #write(record: EngineRecord): void {
    // After close, a halted runner may still unwind; what it would write is redone on reopen.
    if (this.#closed) return;
    this.#apply(record);
    this.#journal!.append(record);
  }

  #apply(record: EngineRecord): void {
    switch (record.t) {
      case 'machine':
        this.#machines.set(record.machine.arn, record.machine);
        return;
      case 'machine-deleted':
        this.#machines.delete(record.arn);
        return;
      case 'execution': {
        const existing = this.#executions.get(record.execution.arn);
        if (existing) {
          // Mutate in place: the runner holds this object. Fields absent from the record are cleared.
          const target = existing.record as unknown as Record<string, unknown>;
          for (const field of ['stopDate', 'output', 'error', 'cause', 'redriveDate']) delete target[field];
          Object.assign(existing.record, record.execution);
        } else {
          this.#executions.set(record.execution.arn, {
            record: { ...record.execution },
            events: [],
            checkpoints: new Map(),
            durable: true,
          });
        }
        return;
      }
      case 'event': {
        const state = this.#executions.get(record.arn);
        if (state === undefined) return;
        state.events.push(record.event);
        if (record.key !== undefined) this.#setCheckpoint(state, record.key, record.checkpoint ?? null);
        if (record.finish) this.#applyFinish(state, record.finish, record.event.timestamp);
        return;
      }
      case 'checkpoint': {
        const state = this.#executions.get(record.arn);
        if (state) this.#setCheckpoint(state, record.key, record.checkpoint);
        return;
      }
    }
  }

  #setCheckpoint(state: ExecutionState, key: string, checkpoint: BranchCheckpoint | null): void {
    if (checkpoint === null) state.checkpoints.delete(key);
    else state.checkpoints.set(key, checkpoint);
  }

  #applyFinish(state: ExecutionState, finish: ExecutionFinish, at: number): void {
    const record = state.record;
    record.status = finish.status;
    record.stopDate = at;
    record.output = finish.output;
    record.error = finish.error;
    record.cause = finish.cause;
    // Only the root checkpoint is worth keeping: a redrive resumes from it.
    for (const key of [...state.checkpoints.keys()]) if (key !== ROOT) state.checkpoints.delete(key);
  }

  /** Everything needed to rebuild the current state: machines, then each execution with its history. */
  *#snapshot(): Iterable<EngineRecord> {
    for (const machine of this.#machines.values()) yield { t: 'machine', machine };
    for (const state of this.#executions.values()) {
      if (!state.durable) continue;
      yield { t: 'execution', execution: { ...state.record } };
      for (const event of state.events) yield { t: 'event', arn: state.record.arn, event };
      for (const [key, checkpoint] of state.checkpoints) {
        yield { t: 'checkpoint', arn: state.record.arn, key, checkpoint };
      }
    }
  }
}

/** The execution a task token names (see StepFunctionsEngine.newTaskToken), or undefined for a forged one. */
export function executionOfTaskToken(token: string): string | undefined {
  if (!token.startsWith(TASK_TOKEN_PREFIX)) return undefined;
  try {
    const payload = JSON.parse(
      Buffer.from(token.slice(TASK_TOKEN_PREFIX.length), 'base64url').toString('utf8'),
    ) as {
      e?: unknown;
    };
    return typeof payload.e === 'string' ? payload.e : undefined;
  } catch {
    return undefined;
  }
}

export function newRevisionId(): string {
  return randomUUID();
}

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
import type { MapRunChildOutcome } from './journal-records.ts';
import {
  STEP_FUNCTIONS_RECORD_VERSION,
  type StepFunctionsRecord,
  upgradeStepFunctionsRecord,
} from './journal-records.ts';
import {
  childExecutionArn,
  isMapRunRecord,
  type MapRunChild,
  type MapRunCounts,
  type MapRunHost,
  MapRuns,
  mapRunMachineName,
  outcomeOf,
} from './map-runs.ts';
import type { BranchCheckpoint, ExecutionRecord, MapRunRecord, StateMachineRecord } from './model.ts';
import { keepSucceededBranches } from './states/fan-out.ts';

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
  readonly #mapRuns = new MapRuns();
  #journal: Journal<StepFunctionsRecord> | undefined;
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
    engine.#journal = await openJournal<StepFunctionsRecord>({
      dir: options.dataDir,
      name: 'stepfunctions',
      replay: (record) => engine.#apply(record),
      snapshot: () => engine.#snapshot(),
      recordVersion: STEP_FUNCTIONS_RECORD_VERSION,
      upgrade: upgradeStepFunctionsRecord,
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
    this.#write({ kind: 'stateMachineSaved', stateMachine: machine });
  }

  deleteMachine(arn: string): void {
    this.#write({ kind: 'stateMachineDeleted', stateMachineArn: arn });
  }

  // ─── Executions ────────────────────────────────────────────────────────────────────────────────────

  /** The Standard children a Map Run started (Express ones keep no record), in the order they started. */
  childExecutionsOf(mapRunArn: string): ExecutionRecord[] {
    const found: ExecutionRecord[] = [];
    for (const arn of this.#mapRuns.childArns(mapRunArn)) {
      const state = this.#executions.get(arn);
      if (state?.durable) found.push(state.record);
    }
    return found;
  }

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
    this.#begin(record, execution.durable, execution.variables);
    return record;
  }

  /** Records a new execution, writes its ExecutionStarted and runs it. */
  #begin(record: ExecutionRecord, durable: boolean, variables?: Record<string, Json>): void {
    const state: ExecutionState = { record, events: [], checkpoints: new Map(), durable };
    this.#executions.set(record.arn, state);
    this.#mapRuns.addChild(record);
    if (state.durable) this.#journal!.append({ kind: 'executionStarted', execution: { ...record } });
    const runner = this.#runnerFor(state);
    runner.begin(variables);
    this.#launch(state);
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
  redrive(arn: string, mapRunAttempt?: number): ExecutionRecord {
    const state = this.#executions.get(arn)!;
    const root = state.checkpoints.get(ROOT);
    if (root === undefined) throw new Error(`execution ${arn} has no checkpoint to redrive from`);
    const redriveCount = state.record.redriveCount + 1;
    this.#write({
      kind: 'executionRedriven',
      executionArn: arn,
      redriveCount,
      redriveDate: this.#now(),
      ...(mapRunAttempt !== undefined ? { mapRunAttempt } : {}),
    });
    this.appendEvent(
      state.record,
      {
        type: 'ExecutionRedriven',
        previousEventId: this.lastEventId(state.record),
        details: { redriveCount },
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

  // ─── Map Runs ──────────────────────────────────────────────────────────────────────────────────────

  mapRun(arn: string): MapRunRecord | undefined {
    return this.#mapRuns.get(arn);
  }

  mapRunsOf(executionArn: string): MapRunRecord[] {
    return this.#mapRuns.of(executionArn);
  }

  mapRunCounts(mapRun: MapRunRecord): { itemCounts: MapRunCounts; executionCounts: MapRunCounts } {
    return this.#mapRuns.counts(mapRun, (arn) => this.#executions.get(arn)?.record);
  }

  /** UpdateMapRun: the running Map Run takes the new settings for the children it has yet to start. */
  updateMapRun(
    arn: string,
    update: { maxConcurrency?: number; toleratedFailureCount?: number; toleratedFailurePercentage?: number },
  ): void {
    this.#write({ kind: 'mapRunUpdated', mapRunArn: arn, ...update });
  }

  /** What a distributed Map step asks of the engine: its Map Run and children, kept here. */
  readonly mapRuns: MapRunHost = {
    mapRun: (arn) => this.#mapRuns.get(arn),
    startMapRun: (mapRun) => this.#write({ kind: 'mapRunSaved', mapRun }),
    child: (mapRunArn, index) => this.#mapRunChild(mapRunArn, index),
    startChild: (mapRun, index, input, definition) => this.#startChild(mapRun, index, input, definition),
    redriveMapRun: (arn) => this.#redriveMapRun(arn),
    redriveChild: (mapRun, arn) => this.redrive(arn, mapRun.redriveCount).arn,
    childExecution: (arn) => this.#executions.get(arn)?.record,
    childEnded: (mapRunArn, index, arn) => this.#childEnded(mapRunArn, index, arn),
    stopChild: (arn) => this.stop(arn),
    endMapRun: (arn, status) =>
      this.#write({ kind: 'mapRunEnded', mapRunArn: arn, status, stopDate: this.#now() }),
    onUpdate: (arn, listener) => this.#mapRuns.onUpdate(arn, listener),
  };

  #mapRunChild(mapRunArn: string, index: number): MapRunChild {
    const recorded = this.#mapRuns.expressOutcome(mapRunArn, index);
    if (recorded !== undefined) return { kind: 'ended', outcome: recorded };
    const arn = this.#mapRuns.childArn(mapRunArn, index);
    const state = arn === undefined ? undefined : this.#executions.get(arn);
    if (state === undefined) return { kind: 'unstarted' };
    const outcome = outcomeOf(state.record);
    if (outcome === undefined) return { kind: 'running', arn: state.record.arn };
    // Failed in an earlier attempt of a Map Run that has since been redriven: redriven with it.
    const attempt = this.#mapRuns.get(mapRunArn)?.redriveCount ?? 0;
    if (outcome.status !== 'SUCCEEDED' && (state.record.mapRunAttempt ?? 0) < attempt) {
      return { kind: 'redrivable', arn: state.record.arn };
    }
    return { kind: 'ended', outcome };
  }

  /**
   * A redrive of the parent reached its failed distributed Map: the Map Run runs again, one redrive more.
   * Already RUNNING: a crash came between this and the MapRunRedriven event, and it is not counted twice.
   */
  #redriveMapRun(arn: string): MapRunRecord {
    const mapRun = this.#mapRuns.get(arn)!;
    if (mapRun.status !== 'RUNNING') {
      this.#write({
        kind: 'mapRunRedriven',
        mapRunArn: arn,
        redriveCount: mapRun.redriveCount + 1,
        redriveDate: this.#now(),
      });
    }
    return mapRun;
  }

  /** A child runs the Map's ItemProcessor as an execution of its own, with the parent's role. */
  #startChild(mapRun: MapRunRecord, index: number, input: string, definition: string): string {
    const parent = this.#executions.get(mapRun.executionArn)!.record;
    const name = randomUUID();
    const record: ExecutionRecord = {
      arn: childExecutionArn(mapRun.arn, name, mapRun.childType, randomUUID()),
      name,
      stateMachineArn: mapRun.stateMachineArn,
      stateMachineName: mapRunMachineName(mapRun.arn),
      type: mapRun.childType,
      definition,
      ...(parent.revisionId !== undefined ? { revisionId: parent.revisionId } : {}),
      revisionDate: parent.revisionDate,
      roleArn: parent.roleArn,
      input,
      startDate: this.#now(),
      status: 'RUNNING',
      redriveCount: 0,
      mapRunArn: mapRun.arn,
      mapRunIndex: index,
      ...(mapRun.redriveCount > 0 ? { mapRunAttempt: mapRun.redriveCount } : {}),
    };
    this.#begin(record, mapRun.childType === 'STANDARD');
    return record.arn;
  }

  /**
   * Waits for a child's end. An Express child's outcome is then recorded in its Map Run (it has no
   * record of its own to keep it) and the child leaves memory. Undefined: the engine shut down first.
   */
  async #childEnded(mapRunArn: string, index: number, arn: string): Promise<MapRunChildOutcome | undefined> {
    const state = this.#executions.get(arn);
    if (state === undefined) return undefined;
    await state.done;
    const outcome = outcomeOf(state.record);
    if (outcome === undefined || state.durable) return outcome;
    this.#write({ kind: 'mapRunChildEnded', mapRunArn, index, outcome });
    this.#executions.delete(arn);
    this.#mapRuns.dropChild(state.record);
    return outcome;
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
    checkpoint?: { key: string; value: BranchCheckpoint },
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
    const record: StepFunctionsRecord = {
      kind: 'eventAppended',
      executionArn: execution.arn,
      event: historyEvent as unknown as HistoryEvent,
      ...(checkpoint ? { branch: checkpoint.key, checkpoint: checkpoint.value } : {}),
      ...(finish ? { executionEnded: { ...finish } } : {}),
    };
    if (state.durable) this.#write(record);
    else this.#apply(record);
    return id;
  }

  saveCheckpoint(execution: ExecutionRecord, key: string, value: BranchCheckpoint | null): void {
    const state = this.#executions.get(execution.arn)!;
    const record: StepFunctionsRecord =
      value === null
        ? { kind: 'checkpointRemoved', executionArn: execution.arn, branch: key }
        : { kind: 'checkpointSaved', executionArn: execution.arn, branch: key, checkpoint: value };
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
  #write(record: StepFunctionsRecord): void {
    // After close, a halted runner may still unwind; what it would write is redone on reopen.
    if (this.#closed) return;
    this.#apply(record);
    this.#journal!.append(record);
  }

  #apply(record: StepFunctionsRecord): void {
    if (isMapRunRecord(record)) {
      this.#mapRuns.apply(record);
      return;
    }
    switch (record.kind) {
      case 'stateMachineSaved':
        this.#machines.set(record.stateMachine.arn, record.stateMachine);
        return;
      case 'stateMachineDeleted':
        this.#machines.delete(record.stateMachineArn);
        return;
      case 'executionStarted':
      case 'executionSaved': {
        const existing = this.#executions.get(record.execution.arn);
        if (existing) {
          // Mutate in place: the runner holds this object. Fields absent from the record are cleared.
          clearFields(existing.record, [...OUTCOME_FIELDS, 'redriveDate']);
          Object.assign(existing.record, record.execution);
        } else {
          this.#executions.set(record.execution.arn, {
            record: { ...record.execution },
            events: [],
            checkpoints: new Map(),
            durable: true,
          });
          this.#mapRuns.addChild(record.execution);
        }
        return;
      }
      case 'executionRedriven': {
        const execution = this.#executions.get(record.executionArn)?.record;
        if (execution === undefined) return;
        clearFields(execution, OUTCOME_FIELDS);
        execution.status = 'RUNNING';
        execution.redriveCount = record.redriveCount;
        execution.redriveDate = record.redriveDate;
        if (record.mapRunAttempt !== undefined) execution.mapRunAttempt = record.mapRunAttempt;
        return;
      }
      case 'eventAppended': {
        const state = this.#executions.get(record.executionArn);
        if (state === undefined) return;
        state.events.push(record.event);
        if (record.branch !== undefined) this.#setCheckpoint(state, record.branch, record.checkpoint ?? null);
        if (record.executionEnded) this.#applyFinish(state, record.executionEnded, record.event.timestamp);
        return;
      }
      case 'checkpointSaved':
      case 'checkpointRemoved': {
        const state = this.#executions.get(record.executionArn);
        const checkpoint = record.kind === 'checkpointSaved' ? record.checkpoint : null;
        if (state) this.#setCheckpoint(state, record.branch, checkpoint);
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
    // Only the root checkpoint is worth keeping: a redrive resumes from it (with what its Parallel or Map
    // state's branches had finished).
    const root = state.checkpoints.get(ROOT);
    if (root !== undefined && finish.status !== 'SUCCEEDED') {
      state.checkpoints.set(
        ROOT,
        keepSucceededBranches(ROOT, root, (key) => state.checkpoints.get(key)),
      );
    }
    for (const key of [...state.checkpoints.keys()]) if (key !== ROOT) state.checkpoints.delete(key);
  }

  /** Everything needed to rebuild the current state: machines, then each execution with its history. */
  *#snapshot(): Iterable<StepFunctionsRecord> {
    for (const stateMachine of this.#machines.values()) yield { kind: 'stateMachineSaved', stateMachine };
    yield* this.#mapRuns.snapshot();
    for (const state of this.#executions.values()) {
      if (!state.durable) continue;
      const executionArn = state.record.arn;
      yield { kind: 'executionSaved', execution: { ...state.record } };
      for (const event of state.events) yield { kind: 'eventAppended', executionArn, event };
      for (const [branch, checkpoint] of state.checkpoints) {
        yield { kind: 'checkpointSaved', executionArn, branch, checkpoint };
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

type OptionalField = 'stopDate' | 'output' | 'error' | 'cause' | 'redriveDate';

/** What only an ended execution has, and a redrive clears. */
const OUTCOME_FIELDS: readonly OptionalField[] = ['stopDate', 'output', 'error', 'cause'];

function clearFields(execution: ExecutionRecord, fields: readonly OptionalField[]): void {
  for (const field of fields) delete execution[field];
}

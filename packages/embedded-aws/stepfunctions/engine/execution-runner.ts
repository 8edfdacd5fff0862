/**
 * Runs one execution of a state machine: the branch loop of the States Language interpreter, and the
 * recording of what it does. What each state type does is in `states/`.
 *
 * Every step is made durable through the host before it takes effect: each history event is written
 * together with the checkpoint of the branch that wrote it, so after a crash the runner resumes each branch
 * from its checkpoint — re-entering nothing it already entered and re-sending a task call only when its
 * outcome was never recorded (at least once, as AWS itself retries calls whose fate it does not know).
 */
import type { Json, State, StateMachineDefinition } from '../definition/types.ts';
import type { ServiceIntegrations } from '../integrations.ts';
import { StatesError } from '../language/states-error.ts';
import { ABORTED, AbortedError } from './abortable.ts';
import type { Variables } from './data-flow.ts';
import { errorDetails, type JsonPayload, jsonPayload, jsonText, NOT_TRUNCATED } from './history.ts';
import {
  type BranchRun,
  type EventLink,
  type Interpreter,
  type StepResult,
  startingCheckpoint,
} from './interpreter.ts';
import type { BranchCheckpoint, ExecutionRecord, ExecutionStatus, TaskOutcome } from './model.ts';
import { dataLimitExceeded, exceedsPayloadLimit } from './payload-limit.ts';
import { runState } from './states/run-state.ts';
import { TaskTokenWaiters } from './states/task-invocation.ts';

/** What the runner needs from the engine around it: durable writes, time, randomness and integrations. */
export interface RunnerHost {
  readonly region: string;
  readonly accountId: string;
  readonly integrations: ServiceIntegrations;
  now(): number;
  random(): number;
  newTaskToken(execution: ExecutionRecord): string;
  /** The id the next event of this execution will get. */
  nextEventId(execution: ExecutionRecord): number;
  /** Durably appends an event, with the checkpoint of the branch that wrote it, in one record. */
  appendEvent(
    execution: ExecutionRecord,
    event: { type: string; previousEventId: number; details?: object },
    checkpoint?: { key: string; value: BranchCheckpoint },
    finish?: ExecutionFinish,
  ): number;
  saveCheckpoint(execution: ExecutionRecord, key: string, value: BranchCheckpoint | null): void;
  readCheckpoint(execution: ExecutionRecord, key: string): BranchCheckpoint | undefined;
  lastEventId(execution: ExecutionRecord): number;
  tokenIssued(token: string, runner: ExecutionRunner): void;
  tokenReleased(token: string): void;
}

export interface ExecutionFinish {
  readonly status: Exclude<ExecutionStatus, 'RUNNING'>;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
}

const ROOT = 'root';
const NO_ATTEMPTS: readonly number[] = Object.freeze([]);
/** The state types with Retry and Catch. */
const RETRYING_TYPES: ReadonlySet<string> = new Set(['Task', 'Parallel', 'Map']);
/** The states that wait on something outside the branch: a Map iteration reaching one lets the next start. */
const WAITING_TYPES: ReadonlySet<string> = new Set(['Task', 'Wait', 'Parallel', 'Map']);

export class ExecutionRunner {
  readonly #host: RunnerHost;
  readonly #execution: ExecutionRecord;
  readonly #definition: StateMachineDefinition;
  readonly #abort = new AbortController();
  #abortedWith: ExecutionFinish | undefined;
  /** Set when the engine shuts down: the execution stays RUNNING and resumes when the engine reopens. */
  #halted = false;
  readonly #tokens: TaskTokenWaiters;
  /** What the state types may ask of this runner; nothing of it is public. */
  readonly #interpreter: Interpreter;

  constructor(host: RunnerHost, execution: ExecutionRecord, definition: StateMachineDefinition) {
    this.#host = host;
    this.#execution = execution;
    this.#definition = definition;
    this.#tokens = new TaskTokenWaiters(host, this);
    this.#interpreter = {
      host,
      execution,
      tokens: this.#tokens,
      nextEventId: (run) => this.#nextEventId(run),
      record: (run, type, details, patch, link) => this.#record(run, type, details, patch, link),
      save: (run, patch) => this.#save(run, patch),
      runBranch: (run) => this.#runBranch(run),
    };
  }

  get execution(): ExecutionRecord {
    return this.#execution;
  }

  /** Writes ExecutionStarted and the root checkpoint. Call once, for a new execution. */
  begin(variables: Variables = {}): void {
    const input = JSON.parse(this.#execution.input) as Json;
    this.#host.appendEvent(
      this.#execution,
      {
        type: 'ExecutionStarted',
        previousEventId: 0,
        details: {
          input: this.#execution.input,
          inputDetails: NOT_TRUNCATED,
          roleArn: this.#execution.roleArn,
        },
      },
      // Real histories show the first state's entry with previousEventId 0, not ExecutionStarted's id.
      { key: ROOT, value: startingCheckpoint(this.#definition.StartAt, input, variables, 0) },
    );
  }

  /** Runs (or resumes) the execution to its end; never rejects. */
  async run(): Promise<void> {
    const timeoutSeconds = this.#definition.TimeoutSeconds;
    let timeout: NodeJS.Timeout | undefined;
    if (timeoutSeconds !== undefined) {
      const dueAt = this.#execution.startDate + timeoutSeconds * 1000;
      timeout = setTimeout(
        () => this.#stop({ status: 'TIMED_OUT', error: 'States.Timeout' }),
        Math.max(0, Math.min(dueAt - this.#host.now(), 2 ** 31 - 1)),
      );
    }
    try {
      const root = this.#host.readCheckpoint(this.#execution, ROOT);
      if (root === undefined) throw new Error(`execution ${this.#execution.arn} has no root checkpoint`);
      const output = await this.#runBranch({
        key: ROOT,
        branch: this.#definition,
        queryLanguage: this.#definition.QueryLanguage ?? 'JSONPath',
        signal: this.#abort.signal,
        silent: false,
        checkpoint: root,
      });
      const text = jsonText(output);
      this.#finish(
        'ExecutionSucceeded',
        { output: text, outputDetails: NOT_TRUNCATED },
        { status: 'SUCCEEDED', output: text },
      );
    } catch (error) {
      if (this.#halted) return;
      if (error instanceof AbortedError && this.#abortedWith) {
        const finish = this.#abortedWith;
        const type = finish.status === 'TIMED_OUT' ? 'ExecutionTimedOut' : 'ExecutionAborted';
        this.#finish(type, errorDetails(finish.error, finish.cause), finish);
      } else if (error instanceof StatesError) {
        this.#finish('ExecutionFailed', errorDetails(error.error, error.cause), {
          status: 'FAILED',
          error: error.error,
          cause: error.cause,
        });
      } else {
        const cause = error instanceof Error ? error.message : String(error);
        this.#finish('ExecutionFailed', errorDetails('States.Runtime', cause), {
          status: 'FAILED',
          error: 'States.Runtime',
          cause,
        });
      }
    } finally {
      clearTimeout(timeout);
      this.#tokens.releaseAll();
    }
  }

  /** StopExecution: the execution ends ABORTED as soon as its current step gives way. */
  stop(error?: string, cause?: string): void {
    this.#stop({ status: 'ABORTED', error, cause });
  }

  /** Engine shutdown: stop working on the execution without recording anything. */
  halt(): void {
    this.#halted = true;
    this.#abort.abort(ABORTED);
  }

  /** SendTaskSuccess / SendTaskFailure. False when no task waits on this token any more. */
  deliver(token: string, outcome: TaskOutcome): boolean {
    const waiter = this.#tokens.waiter(token);
    if (waiter === undefined) return false;
    const step = waiter.branch.checkpoint.step;
    if (step?.kind !== 'task' || step.outcome !== undefined) return false;
    this.#save(waiter.branch, { step: { ...step, outcome } });
    waiter.wake();
    return true;
  }

  /** SendTaskHeartbeat. False when no task waits on this token any more. */
  heartbeat(token: string): boolean {
    const waiter = this.#tokens.waiter(token);
    if (waiter === undefined) return false;
    const step = waiter.branch.checkpoint.step;
    if (step?.kind !== 'task' || step.heartbeatSeconds === undefined) return true;
    this.#save(waiter.branch, {
      step: { ...step, heartbeatDeadline: this.#host.now() + step.heartbeatSeconds * 1000 },
    });
    waiter.wake();
    return true;
  }

  #stop(finish: ExecutionFinish): void {
    if (this.#abortedWith || this.#execution.status !== 'RUNNING') return;
    this.#abortedWith = finish;
    this.#abort.abort(ABORTED);
  }

  #finish(type: string, details: object, finish: ExecutionFinish): void {
    this.#host.appendEvent(
      this.#execution,
      { type, previousEventId: this.#host.lastEventId(this.#execution), details },
      undefined,
      finish,
    );
  }

  // ─── Branches ──────────────────────────────────────────────────────────────────────────────────────

  async #runBranch(run: BranchRun): Promise<Json> {
    for (;;) {
      if (run.checkpoint.done) return run.checkpoint.input;
      if (run.signal.aborted) throw new AbortedError('aborted');
      const state = run.branch.States[run.checkpoint.state];
      if (state === undefined)
        throw new StatesError('States.Runtime', `The state '${run.checkpoint.state}' does not exist`);
      if (run.checkpoint.entered === undefined) {
        if (run.beforeWaiting !== undefined && WAITING_TYPES.has(state.Type)) {
          await run.beforeWaiting();
          if (run.signal.aborted) throw new AbortedError('aborted');
        }
        this.#enter(run, state);
      }
      let result: StepResult;
      try {
        result = await this.#runState(run, state);
      } catch (error) {
        if (error instanceof AbortedError) this.#aborted(run, state);
        throw error;
      }
      // Task, Parallel and Map check their output where Catch can still see the failure (withRetries).
      if (!RETRYING_TYPES.has(state.Type) && exceedsPayloadLimit(result.output)) {
        throw dataLimitExceeded(run.checkpoint.state);
      }
      this.#exit(run, state, result);
    }
  }

  // Async on purpose: each state settles after as many microtask turns as it always has, so the order in
  // which concurrent branches write their events (and so their ids) stays as it was.
  async #runState(run: BranchRun, state: State): Promise<StepResult> {
    return runState(this.#interpreter, run, state);
  }

  /**
   * A state cancelled because a sibling branch failed records `<Type>StateAborted`, chained on the event the
   * sibling failed with, as real histories show. (Stopping or halting the whole execution records nothing
   * per state.)
   */
  #aborted(run: BranchRun, state: State): void {
    if (run.silent || run.key === ROOT || this.#abort.signal.aborted) return;
    const id = this.#host.appendEvent(this.#execution, {
      type: `${state.Type}StateAborted`,
      previousEventId: run.abortedFrom?.() ?? run.checkpoint.previousEventId,
    });
    run.checkpoint = Object.freeze({ ...run.checkpoint, previousEventId: id });
    run.afterAborted?.();
  }

  #enter(run: BranchRun, state: State): void {
    const entered = {
      eventId: this.#nextEventId(run),
      time: this.#host.now(),
      previousEventId: run.checkpoint.previousEventId,
    };
    this.#record(
      run,
      `${state.Type}StateEntered`,
      { name: run.checkpoint.state, input: jsonPayload(run.checkpoint.input), inputDetails: NOT_TRUNCATED },
      { entered },
    );
  }

  #exit(run: BranchRun, state: State, result: StepResult): void {
    const assigned = assignedNames(result.assigned);
    const details: Record<string, unknown> = {
      name: run.checkpoint.state,
      output: jsonPayload(result.output),
      outputDetails: NOT_TRUNCATED,
    };
    if (assigned !== undefined) {
      details.assignedVariables = assigned;
      details.assignedVariablesDetails = NOT_TRUNCATED;
    }
    const type = `${state.Type}StateExited`;
    this.#record(run, type, details, {
      entered: undefined,
      step: undefined,
      keptOutputs: undefined,
      keptMapRun: undefined,
      retryCount: 0,
      retrierAttempts: NO_ATTEMPTS,
      input: result.output,
      variables: result.variables,
      ...('end' in result ? { done: true } : { state: result.next }),
    });
  }

  // ─── Recording ─────────────────────────────────────────────────────────────────────────────────────

  #nextEventId(run: BranchRun): number {
    return run.silent ? run.checkpoint.previousEventId : this.#host.nextEventId(this.#execution);
  }

  /**
   * Writes an event on a branch's chain together with the branch's next checkpoint, in one record. Each
   * record gets a checkpoint of its own, frozen, so what the journal and the engine hold cannot change
   * after it is written.
   */
  #record(
    run: BranchRun,
    type: string,
    details: object | undefined,
    patch?: Partial<BranchCheckpoint>,
    link?: EventLink,
  ): number {
    if (run.signal.aborted) throw new AbortedError('aborted');
    if (run.silent) {
      if (patch) this.#save(run, patch);
      return run.checkpoint.previousEventId;
    }
    const previousEventId = link?.from ?? run.checkpoint.previousEventId;
    const id = this.#host.nextEventId(this.#execution);
    run.checkpoint = Object.freeze({ ...run.checkpoint, ...patch, previousEventId: link?.next ?? id });
    this.#host.appendEvent(
      this.#execution,
      { type, previousEventId, details },
      { key: run.key, value: run.checkpoint },
    );
    return id;
  }

  #save(run: BranchRun, patch: Partial<BranchCheckpoint>): void {
    run.checkpoint = Object.freeze({ ...run.checkpoint, ...patch });
    this.#host.saveCheckpoint(this.#execution, run.key, run.checkpoint);
  }
}

/**
 * The variables a state assigned, with their JSON text, as StateExited reports them; undefined when it
 * assigned none (AWS records no assignedVariables for an empty Assign).
 */
function assignedNames(assigned: Variables | undefined): Record<string, JsonPayload> | undefined {
  if (assigned === undefined) return undefined;
  const names = Object.entries(assigned);
  if (names.length === 0) return undefined;
  return Object.fromEntries(names.map(([name, value]) => [name, jsonPayload(value)]));
}

/**
 * Runs one execution of a state machine: the States Language interpreter.
 *
 * Every step is made durable through the host before it takes effect: each history event is written
 * together with the checkpoint of the branch that wrote it, so after a crash the runner resumes each branch
 * from its checkpoint — re-entering nothing it already entered and re-sending a task call only when its
 * outcome was never recorded (at least once, as AWS itself retries calls whose fate it does not know).
 */
import { randomUUID } from 'node:crypto';
import type {
  Branch,
  Catcher,
  ChoiceState,
  FailState,
  Json,
  JsonObject,
  MapState,
  ParallelState,
  PassState,
  QueryLanguage,
  Retrier,
  State,
  StateMachineDefinition,
  TaskState,
  WaitState,
} from '../definition/types.ts';
import { parseTaskResource, type ServiceIntegrations, type TaskResource } from '../integrations.ts';
import { evaluateChoiceRule, timestampSeconds } from '../language/choice-rules.ts';
import { type JsonPathScope, queryPath } from '../language/json-path.ts';
import { evaluateJsonataTemplate, unexpectedResultType } from '../language/jsonata.ts';
import { applyPayloadTemplate } from '../language/payload-template.ts';
import { StatesError } from '../language/states-error.ts';
import { ABORTED, AbortedError, abortable, childController, sleepUntil } from './abortable.ts';
import {
  assignVariables,
  completeState,
  effectiveInput,
  evaluateMapSetting,
  evaluateNumberField,
  evaluateStringField,
  jsonataScope,
  jsonPathScope,
  parametersFor,
  type StateOutcome,
  type StateScope,
  selectPath,
  type Variables,
} from './data-flow.ts';
import { type JsonPayload, jsonPayload, jsonText, NOT_TRUNCATED } from './history.ts';
import type {
  BranchCheckpoint,
  BranchResult,
  ExecutionRecord,
  ExecutionStatus,
  FanOutStep,
  TaskOutcome,
  TaskStep,
} from './model.ts';
import { dataLimitExceeded, exceedsPayloadLimit } from './payload-limit.ts';
import { findCatcher, findRetrier, isCatchable, maxAttemptsOf, retryDelayMs } from './retry-policy.ts';
import { BranchError, DataFlowError, FailStateError, StateFailure, TaskError } from './state-failures.ts';
import { taskEventNames } from './task-events.ts';

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
    checkpoint?: { key: string; value: BranchCheckpoint | null },
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

interface BranchRun {
  readonly key: string;
  readonly branch: Branch;
  readonly queryLanguage: QueryLanguage;
  readonly signal: AbortSignal;
  /** Distributed Map children run as their own executions: their steps are not in this history. */
  readonly silent: boolean;
  cp: BranchCheckpoint;
}

type StepResult =
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

const ROOT = 'root';
const NO_ATTEMPTS: readonly number[] = Object.freeze([]);
/** The state types with Retry and Catch. */
const RETRYING_TYPES: ReadonlySet<string> = new Set(['Task', 'Parallel', 'Map']);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Where an event chains, when not simply on the branch's last event: `from` is its previousEventId, `next`
 * the event the branch's next one chains on (AWS chains some events aside, e.g. MapStateSucceeded).
 */
interface EventLink {
  readonly from?: number;
  readonly next?: number;
}

/** A fan-out's branches as they ended, and where their events stand. */
interface FanOutOutcome {
  readonly results: (BranchResult | undefined)[];
  /** Per branch, the last event on its own chain (a Map iteration's last state event). */
  readonly lastEvents: (number | undefined)[];
  /** The last event any branch wrote (a Map iteration's MapIterationSucceeded), or the Started event. */
  readonly lastEventId: number;
}
/** AWS runs at most 40 inline Map iterations at once, whatever MaxConcurrency says. */
const INLINE_MAP_CONCURRENCY = 40;
/** The longest delay AWS lets a Wait state ask for, in seconds (24855 days pass, 24856 do not). */
const MAX_WAIT_SECONDS = 2 ** 31 - 1;

export class ExecutionRunner {
  readonly #host: RunnerHost;
  readonly #execution: ExecutionRecord;
  readonly #definition: StateMachineDefinition;
  readonly #abort = new AbortController();
  #abortedWith: ExecutionFinish | undefined;
  /** Set when the engine shuts down: the execution stays RUNNING and resumes when the engine reopens. */
  #halted = false;
  readonly #tokenWaiters = new Map<string, { branch: BranchRun; wake: () => void }>();
  #cachedExecutionContext: JsonObject | undefined;
  readonly #stateMachineContext: JsonObject;

  constructor(host: RunnerHost, execution: ExecutionRecord, definition: StateMachineDefinition) {
    this.#host = host;
    this.#execution = execution;
    this.#definition = definition;
    this.#stateMachineContext = { Id: execution.stateMachineArn, Name: execution.stateMachineName };
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
      { key: ROOT, value: this.#freshCheckpoint(this.#definition.StartAt, input, variables, 0) },
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
        cp: root,
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
      for (const token of this.#tokenWaiters.keys()) this.#host.tokenReleased(token);
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
    const waiter = this.#tokenWaiters.get(token);
    if (waiter === undefined) return false;
    const step = waiter.branch.cp.step;
    if (step?.kind !== 'task' || step.outcome !== undefined) return false;
    this.#save(waiter.branch, { step: { ...step, outcome } });
    waiter.wake();
    return true;
  }

  /** SendTaskHeartbeat. False when no task waits on this token any more. */
  heartbeat(token: string): boolean {
    const waiter = this.#tokenWaiters.get(token);
    if (waiter === undefined) return false;
    const step = waiter.branch.cp.step;
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
      if (run.cp.done) return run.cp.input;
      if (run.signal.aborted) throw new AbortedError('aborted');
      const state = run.branch.States[run.cp.state];
      if (state === undefined)
        throw new StatesError('States.Runtime', `The state '${run.cp.state}' does not exist`);
      if (run.cp.entered === undefined) this.#enter(run, state);
      let result: StepResult;
      try {
        result = await this.#runState(run, state);
      } catch (error) {
        if (error instanceof AbortedError) this.#aborted(run, state);
        throw error;
      }
      // Task, Parallel and Map check their output where Catch can still see the failure (#withRetries).
      if (!RETRYING_TYPES.has(state.Type) && exceedsPayloadLimit(result.output)) {
        throw dataLimitExceeded(run.cp.state);
      }
      this.#exit(run, state, result);
    }
  }

  /**
   * A state cancelled because a sibling branch failed records `<Type>StateAborted`, as real histories show.
   * (Stopping or halting the whole execution records nothing per state.)
   */
  #aborted(run: BranchRun, state: State): void {
    if (run.silent || run.key === ROOT || this.#abort.signal.aborted) return;
    const id = this.#host.appendEvent(this.#execution, {
      type: `${state.Type}StateAborted`,
      previousEventId: run.cp.previousEventId,
    });
    run.cp = { ...run.cp, previousEventId: id };
  }

  #enter(run: BranchRun, state: State): void {
    const entered = {
      eventId: this.#nextEventId(run),
      time: this.#host.now(),
      previousEventId: run.cp.previousEventId,
    };
    this.#record(
      run,
      `${state.Type}StateEntered`,
      { name: run.cp.state, input: jsonPayload(run.cp.input), inputDetails: NOT_TRUNCATED },
      { entered },
    );
  }

  #exit(run: BranchRun, state: State, result: StepResult): void {
    const assigned = assignedNames(result.assigned);
    const details: Record<string, unknown> = {
      name: run.cp.state,
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
      retryCount: 0,
      retrierAttempts: NO_ATTEMPTS,
      input: result.output,
      variables: result.variables,
      ...('end' in result ? { done: true } : { state: result.next }),
    });
  }

  #freshCheckpoint(
    state: string,
    input: Json,
    variables: Variables,
    previousEventId: number,
  ): BranchCheckpoint {
    return { state, input, variables, previousEventId, retryCount: 0, retrierAttempts: [] };
  }

  // ─── Recording ─────────────────────────────────────────────────────────────────────────────────────

  /** The id the branch's next event will get (a silent branch writes none). */
  #nextEventId(run: BranchRun): number {
    return run.silent ? run.cp.previousEventId : this.#host.nextEventId(this.#execution);
  }

  /**
   * Writes an event on a branch's chain together with the branch's updated checkpoint, in one record.
   * The checkpoint is updated in place: the journal serialises a record as it is appended, so later changes
   * cannot reach what was written, and copying it for every event cost more than anything else here.
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
      return run.cp.previousEventId;
    }
    const previousEventId = link?.from ?? run.cp.previousEventId;
    const id = this.#host.nextEventId(this.#execution);
    const cp = run.cp as Mutable<BranchCheckpoint>;
    if (patch) Object.assign(cp, patch);
    cp.previousEventId = link?.next ?? id;
    this.#host.appendEvent(this.#execution, { type, previousEventId, details }, { key: run.key, value: cp });
    return id;
  }

  #save(run: BranchRun, patch: Partial<BranchCheckpoint>): void {
    Object.assign(run.cp as Mutable<BranchCheckpoint>, patch);
    this.#host.saveCheckpoint(this.#execution, run.key, run.cp);
  }

  // ─── States ────────────────────────────────────────────────────────────────────────────────────────

  #scope(run: BranchRun, state: State, extra?: JsonObject): StateScope {
    return new LazyStateScope(this, run, state.QueryLanguage ?? run.queryLanguage, extra);
  }

  /** The context object `$$` for the state a branch is in (see LazyStateScope). */
  contextObject(run: BranchRun, extra?: JsonObject): JsonObject {
    return this.#context(run, extra);
  }

  #context(run: BranchRun, extra?: JsonObject): JsonObject {
    const state: JsonObject = {
      EnteredTime: new Date(run.cp.entered?.time ?? this.#host.now()).toISOString(),
      Name: run.cp.state,
    };
    // Only states that can retry show RetryCount, as real executions' context objects do.
    const type = run.branch.States[run.cp.state]?.Type;
    if (type === 'Task' || type === 'Parallel' || type === 'Map') state.RetryCount = run.cp.retryCount;
    return {
      Execution: this.#executionContext(),
      State: state,
      StateMachine: this.#stateMachineContext,
      ...extra,
    };
  }

  /** `$$.Execution` changes only on redrive; built once per run, not once per state. */
  #executionContext(): JsonObject {
    const execution = this.#execution;
    if (this.#cachedExecutionContext?.RedriveCount === execution.redriveCount)
      return this.#cachedExecutionContext;
    const context: JsonObject = {
      Id: execution.arn,
      Input: JSON.parse(execution.input) as Json,
      Name: execution.name,
      RoleArn: execution.roleArn,
      StartTime: new Date(execution.startDate).toISOString(),
      RedriveCount: execution.redriveCount,
    };
    if (execution.redriveDate !== undefined)
      context.RedriveTime = new Date(execution.redriveDate).toISOString();
    this.#cachedExecutionContext = context;
    return context;
  }

  async #runState(run: BranchRun, state: State): Promise<StepResult> {
    switch (state.Type) {
      case 'Pass':
        return this.#pass(run, state).catch((error: unknown) => this.#rethrowDataFlow(run, error));
      case 'Choice':
        return this.#choice(run, state).catch((error: unknown) => this.#rethrowDataFlow(run, error));
      case 'Wait':
        return this.#wait(run, state).catch((error: unknown) => this.#rethrowDataFlow(run, error));
      case 'Succeed':
        return this.#succeed(run, state).catch((error: unknown) => this.#rethrowDataFlow(run, error));
      case 'Fail':
        return this.#fail(run, state);
      case 'Task':
        return this.#withRetries(run, state);
      case 'Parallel':
        return this.#withRetries(run, state);
      case 'Map':
        return this.#withRetries(run, state);
    }
  }

  /**
   * Errors raised while moving data (a path that matches nothing, a JSONata error) name the state and the
   * event it was entered at, as AWS's causes do.
   */
  async #dataFlow<T>(run: BranchRun, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      return this.#rethrowDataFlow(run, error);
    }
  }

  #rethrowDataFlow(run: BranchRun, error: unknown): never {
    throw this.#dataFlowError(run, error);
  }

  /** The error as it fails the state: a data-flow failure gets AWS's cause prefix (and EvaluationFailed). */
  #dataFlowError(run: BranchRun, error: unknown): unknown {
    if (!(error instanceof StatesError) || error instanceof StateFailure) return error;
    const cause = this.#stateCause(run, error.cause);
    if (error.error !== 'States.QueryEvaluationError') return new DataFlowError(error.error, cause);
    return new DataFlowError(error.error, cause, this.#evaluationFailed(run, error.error, cause));
  }

  #stateCause(run: BranchRun, cause: string): string {
    return `An error occurred while executing the state '${run.cp.state}' (entered at the event id #${run.cp.entered?.eventId}). ${cause}`;
  }

  /**
   * JSONata failures leave an EvaluationFailed event. Real histories chain it to the event before the state
   * was entered (not to the entry itself), and name the field as the cause does.
   */
  #evaluationFailed(
    run: BranchRun,
    error: string,
    cause: string,
    at: { readonly location?: string; readonly previousEventId?: number } = {},
  ): number | undefined {
    if (run.silent) return undefined;
    const location = at.location ?? /specified for the field '([^']*)'/.exec(cause)?.[1];
    return this.#host.appendEvent(this.#execution, {
      type: 'EvaluationFailed',
      previousEventId: at.previousEventId ?? run.cp.entered?.previousEventId ?? run.cp.previousEventId,
      details: { error, cause, ...(location !== undefined ? { location } : {}), state: run.cp.state },
    });
  }

  #next(run: BranchRun, state: State, outcome: StateOutcome, next?: string): StepResult {
    const { output, assigned } = outcome;
    const variables = assignVariables(run.cp.variables, assigned);
    const target = next ?? state.Next;
    if (target === undefined || state.End === true) return { end: true, output, variables, assigned };
    return { next: target, output, variables, assigned };
  }

  async #pass(run: BranchRun, state: PassState): Promise<StepResult> {
    const raw = run.cp.input;
    const scope = this.#scope(run, state);
    if (scope.queryLanguage === 'JSONata') {
      const outcome = await completeState(state, { rawInput: raw, result: raw }, scope, 'input');
      return this.#next(run, state, outcome);
    }
    const input = effectiveInput(state, raw, scope);
    const result =
      state.Result !== undefined ? state.Result : await parametersFor(state.Parameters, input, raw, scope);
    const outcome = await completeState(state, { rawInput: raw, result }, scope);
    return this.#next(run, state, outcome);
  }

  async #succeed(run: BranchRun, state: State): Promise<StepResult> {
    const raw = run.cp.input;
    const scope = this.#scope(run, state);
    const input = effectiveInput(state, raw, scope);
    const outcome = await completeState(state, { rawInput: raw, result: input }, scope, 'input');
    return {
      end: true,
      output: outcome.output,
      variables: assignVariables(run.cp.variables, outcome.assigned),
      assigned: outcome.assigned,
    };
  }

  async #choice(run: BranchRun, state: ChoiceState): Promise<StepResult> {
    const raw = run.cp.input;
    const scope = this.#scope(run, state);
    const input = effectiveInput(state, raw, scope);
    for (const rule of state.Choices) {
      let matched: boolean;
      if (scope.queryLanguage === 'JSONata') {
        const condition = await evaluateJsonataTemplate(
          rule.Condition ?? false,
          jsonataScope(scope, { input: raw }),
          'Condition',
        );
        if (typeof condition !== 'boolean') {
          throw new StatesError(
            'States.QueryEvaluationError',
            `The Condition field of a Choice rule must evaluate to a boolean, but it returned ${JSON.stringify(condition)}`,
          );
        }
        matched = condition;
      } else {
        matched = evaluateChoiceRule(rule, (path) => queryPath(path, jsonPathScope(input, scope)));
      }
      if (!matched) continue;
      const fields = {
        Output: rule.Output ?? state.Output,
        Assign: rule.Assign ?? state.Assign,
        OutputPath: state.OutputPath,
        ResultPath: null,
      };
      const outcome = await completeState(
        fields,
        { rawInput: scope.queryLanguage === 'JSONata' ? raw : input, result: input },
        scope,
        'input',
      );
      return this.#next(run, state, outcome, rule.Next);
    }
    if (state.Default === undefined) {
      throw new StatesError('States.NoChoiceMatched', 'No Matches!');
    }
    const outcome = await completeState(
      { Output: state.Output, Assign: state.Assign, OutputPath: state.OutputPath, ResultPath: null },
      { rawInput: scope.queryLanguage === 'JSONata' ? raw : input, result: input },
      scope,
      'input',
    );
    return this.#next(run, state, outcome, state.Default);
  }

  async #wait(run: BranchRun, state: WaitState): Promise<StepResult> {
    const raw = run.cp.input;
    const scope = this.#scope(run, state);
    const input = effectiveInput(state, raw, scope);
    let step = run.cp.step;
    if (step?.kind !== 'wait') {
      const enteredAt = run.cp.entered!.time;
      let dueAt: number;
      if (state.SecondsPath !== undefined && scope.queryLanguage === 'JSONPath') {
        dueAt = enteredAt + secondsAt(state.SecondsPath, jsonPathScope(input, scope)) * 1000;
      } else if (state.TimestampPath !== undefined && scope.queryLanguage === 'JSONPath') {
        dueAt = timestampAt(state.TimestampPath, jsonPathScope(input, scope));
      } else if (state.Timestamp !== undefined) {
        const timestamp =
          scope.queryLanguage === 'JSONata'
            ? await evaluateJsonataTemplate(state.Timestamp, jsonataScope(scope, { input: raw }), 'Timestamp')
            : state.Timestamp;
        dueAt = this.#timestampField(run, timestamp);
      } else {
        dueAt = enteredAt + ((await evaluateNumberField(state, 'Seconds', input, raw, scope)) ?? 0) * 1000;
      }
      // AWS refuses a delay past 2^31 - 1 seconds (about 68 years), whatever gave it.
      if (dueAt - enteredAt > MAX_WAIT_SECONDS * 1000) {
        throw new StatesError('States.Runtime', 'Wait state delay is too long.');
      }
      step = { kind: 'wait', dueAt };
      this.#save(run, { step });
    }
    await sleepUntil(step.dueAt, () => this.#host.now(), run.signal);
    const outcome = await completeState(state, { rawInput: raw, result: input }, scope, 'input');
    return this.#next(run, state, outcome);
  }

  /**
   * The Timestamp field's value as a due time, to the second (AWS drops the fraction). One that does not
   * parse (only a JSONata expression can give one: the validator checks a literal) fails as AWS fails it:
   * States.QueryEvaluationError, with an EvaluationFailed event chained on WaitStateEntered (not, as for
   * other JSONata failures, on the event before it).
   */
  #timestampField(run: BranchRun, timestamp: Json): number {
    const seconds = timestampSeconds(timestamp);
    if (seconds !== undefined) return seconds * 1000;
    const wording = `The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: ${textOf(timestamp)}`;
    const cause = this.#stateCause(run, wording);
    const error = 'States.QueryEvaluationError';
    const id = this.#evaluationFailed(run, error, cause, {
      location: 'Timestamp',
      previousEventId: run.cp.entered?.eventId,
    });
    throw new DataFlowError(error, cause, id);
  }

  async #fail(run: BranchRun, state: FailState): Promise<StepResult> {
    const raw = run.cp.input;
    const scope = this.#scope(run, state);
    const [error, cause] = await this.#dataFlow(run, async () => {
      const input = effectiveInput(state, raw, scope);
      return [
        await evaluateStringField(state, 'Error', input, raw, scope),
        await evaluateStringField(state, 'Cause', input, raw, scope),
      ];
    });
    throw new FailStateError(error ?? '', cause ?? '');
  }

  // ─── Retry and Catch ───────────────────────────────────────────────────────────────────────────────

  async #withRetries(run: BranchRun, state: TaskState | ParallelState | MapState): Promise<StepResult> {
    for (;;) {
      const step = run.cp.step;
      if (step?.kind === 'backoff') {
        await sleepUntil(step.dueAt, () => this.#host.now(), run.signal);
        this.#save(run, { step: undefined });
      }
      try {
        let outcome: StateOutcome;
        try {
          const { rawResult } =
            state.Type === 'Task'
              ? await this.#task(run, state)
              : state.Type === 'Parallel'
                ? await this.#parallel(run, state)
                : await this.#map(run, state);
          outcome = await completeState(
            state,
            { rawInput: run.cp.input, result: rawResult },
            this.#scope(run, state),
          );
          if (exceedsPayloadLimit(outcome.output)) throw dataLimitExceeded(run.cp.state);
        } catch (error) {
          this.#rethrowDataFlow(run, error);
        }
        return this.#next(run, state, outcome);
      } catch (error) {
        if (!(error instanceof StatesError)) throw error;
        const handled = await this.#handleError(run, state, error);
        if (handled === 'retry') continue;
        return handled;
      }
    }
  }

  async #handleError(
    run: BranchRun,
    state: { readonly Retry?: readonly Retrier[]; readonly Catch?: readonly Catcher[] },
    error: StatesError,
  ): Promise<StepResult | 'retry'> {
    if (!isCatchable(error.error)) throw error;
    const names = [error.error, ...(error instanceof TaskError ? error.aliases : [])];
    const index = this.#retrierFor(run, state, names);
    if (index >= 0) {
      const retrier = state.Retry![index]!;
      const used = run.cp.retrierAttempts[index] ?? 0;
      const attempts = [...run.cp.retrierAttempts];
      attempts[index] = used + 1;
      const dueAt = this.#host.now() + retryDelayMs(retrier, used, () => this.#host.random());
      this.#save(run, {
        retryCount: run.cp.retryCount + 1,
        retrierAttempts: attempts,
        step: { kind: 'backoff', dueAt },
      });
      return 'retry';
    }
    const catcher = findCatcher(state.Catch, names);
    if (catcher === undefined) throw error;
    const errorOutput: JsonObject = { Error: error.error, Cause: error.cause };
    const scope = this.#scope(run, state as State);
    const outcome = await this.#dataFlow(run, () =>
      completeState(
        { ResultPath: catcher.ResultPath, Output: catcher.Output, Assign: catcher.Assign },
        { rawInput: run.cp.input, result: errorOutput, errorOutput },
        scope,
      ),
    );
    // Over the quota after the catcher's ResultPath: nothing is left to catch it.
    if (exceedsPayloadLimit(outcome.output)) throw dataLimitExceeded(run.cp.state);
    return {
      next: catcher.Next,
      output: outcome.output,
      variables: assignVariables(run.cp.variables, outcome.assigned),
      assigned: outcome.assigned,
    };
  }

  /** The retrier that retries this error now (the first that matches, if it has attempts left), or -1. */
  #retrierFor(
    run: BranchRun,
    state: { readonly Retry?: readonly Retrier[] },
    names: readonly string[],
  ): number {
    if (!names.every(isCatchable)) return -1;
    const index = findRetrier(state.Retry, names);
    if (index < 0) return -1;
    const used = run.cp.retrierAttempts[index] ?? 0;
    return used < maxAttemptsOf(state.Retry![index]!) ? index : -1;
  }

  // ─── Task ──────────────────────────────────────────────────────────────────────────────────────────

  async #task(run: BranchRun, state: TaskState): Promise<{ rawResult: Json }> {
    const resource = parseTaskResource(state.Resource);
    if (resource === undefined) {
      throw new StatesError('States.Runtime', `The resource '${state.Resource}' is not supported`);
    }
    const names = taskEventNames(resource);
    let step = run.cp.step?.kind === 'task' ? run.cp.step : undefined;

    if (step === undefined) {
      const raw = run.cp.input;
      const token =
        resource.pattern === 'wait-for-task-token' ? this.#host.newTaskToken(this.#execution) : undefined;
      const scope = this.#scope(run, state, token === undefined ? undefined : { Task: { Token: token } });
      const input = effectiveInput(state, raw, scope);
      const parameters = await parametersFor(state.Parameters ?? state.Arguments, input, raw, scope);
      const timeoutSeconds = await evaluateNumberField(state, 'TimeoutSeconds', input, raw, scope);
      const heartbeatSeconds = await evaluateNumberField(state, 'HeartbeatSeconds', input, raw, scope);
      const scheduled = names.scheduled(
        resource,
        parameters,
        timeoutSeconds,
        heartbeatSeconds,
        this.#host.region,
      );
      const newStep: TaskStep = { kind: 'task', parameters, started: false, ...(token ? { token } : {}) };
      this.#record(run, scheduled.type, scheduled.details, { step: newStep });
      step = newStep;
      const now = this.#host.now();
      const started: TaskStep = {
        ...step,
        started: true,
        ...(timeoutSeconds !== undefined ? { deadline: now + timeoutSeconds * 1000 } : {}),
        ...(heartbeatSeconds !== undefined && token
          ? { heartbeatSeconds, heartbeatDeadline: now + heartbeatSeconds * 1000 }
          : {}),
      };
      this.#record(run, names.started, names.startedDetails(resource), { step: started });
      step = started;
    }

    let outcome = await this.#taskOutcome(run, resource, step);
    // A result over the quota fails the task like a failure of its own, which Catch sees.
    if ('output' in outcome && exceedsPayloadLimit(outcome.output)) {
      const failure = dataLimitExceeded(taskNameInCause(resource, step.parameters));
      outcome = { error: failure.error, cause: failure.cause };
    }
    if ('output' in outcome) {
      this.#record(run, names.succeeded, {
        ...names.identity(resource),
        output: jsonPayload(outcome.output),
        outputDetails: NOT_TRUNCATED,
      });
      return { rawResult: outcome.output };
    }
    // A missed heartbeat is recorded as States.Timeout, as real histories show; Retry and Catch still match
    // it by States.HeartbeatTimeout too, as the documentation says they do.
    const heartbeat = outcome.error === 'States.HeartbeatTimeout';
    const error = heartbeat ? 'States.Timeout' : outcome.error;
    const timedOut = error === 'States.Timeout';
    this.#record(run, timedOut ? names.timedOut : names.failed, {
      ...names.identity(resource),
      ...errorDetails(error, outcome.cause),
    });
    throw new TaskError(error, outcome.cause, heartbeat ? ['States.HeartbeatTimeout'] : []);
  }

  /** Calls the service (again, if a crash left the call's fate unknown) and waits for a token if asked. */
  async #taskOutcome(run: BranchRun, resource: TaskResource, initial: TaskStep): Promise<TaskOutcome> {
    let step = initial;
    // Only a task with a deadline or a token needs a signal of its own; most tasks have neither.
    const deadline =
      step.deadline !== undefined || step.token !== undefined ? childController(run.signal) : undefined;
    const signal = deadline?.signal ?? run.signal;
    const timers: NodeJS.Timeout[] = [];
    let timeoutError: string | undefined;
    const armDeadline = (at: number | undefined, error: string) => {
      if (at === undefined) return;
      timers.push(
        setTimeout(
          () => {
            timeoutError ??= error;
            deadline?.abort(ABORTED);
          },
          Math.max(0, Math.min(at - this.#host.now(), 2 ** 31 - 1)),
        ),
      );
    };
    armDeadline(step.deadline, 'States.Timeout');

    let wake: () => void = () => {};
    if (step.token !== undefined) {
      this.#host.tokenIssued(step.token, this);
      this.#tokenWaiters.set(step.token, { branch: run, wake: () => wake() });
    }
    try {
      if (step.outcome !== undefined) return step.outcome;
      if (!step.submitted) {
        const result = await abortable(this.#invoke(run, resource, step, signal), signal);
        if (step.token === undefined) return { output: result };
        // Record the submission even when a fast consumer already answered: AWS's history always shows it.
        step = { ...(run.cp.step as TaskStep), submitted: true };
        const submitted = step;
        this.#record(
          run,
          'TaskSubmitted',
          {
            resourceType: resource.resourceType,
            resource: resource.resourceName,
            output: jsonPayload(result),
            outputDetails: NOT_TRUNCATED,
          },
          { step: submitted },
        );
      }
      // Wait for SendTaskSuccess/Failure; a heartbeat moves the heartbeat deadline, so re-arm on each wake.
      for (;;) {
        step = run.cp.step as TaskStep;
        if (step.outcome !== undefined) return step.outcome;
        const heartbeat = childController(signal);
        const heartbeatTimer =
          step.heartbeatDeadline === undefined
            ? undefined
            : setTimeout(
                () => {
                  timeoutError ??= 'States.HeartbeatTimeout';
                  heartbeat.abort(ABORTED);
                },
                Math.max(0, step.heartbeatDeadline - this.#host.now()),
              );
        try {
          await abortable(new Promise<void>((resolve) => (wake = resolve)), heartbeat.signal);
        } finally {
          clearTimeout(heartbeatTimer);
          heartbeat.abort(ABORTED);
        }
      }
    } catch (error) {
      if (error instanceof AbortedError && timeoutError !== undefined && !run.signal.aborted) {
        return { error: timeoutError, cause: '' };
      }
      if (error instanceof StatesError) return { error: error.error, cause: error.cause };
      if (error instanceof AbortedError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      return { error: 'States.TaskFailed', cause: message };
    } finally {
      timers.forEach(clearTimeout);
      deadline?.abort(ABORTED);
      if (step.token !== undefined) {
        this.#tokenWaiters.delete(step.token);
        this.#host.tokenReleased(step.token);
      }
    }
  }

  #invoke(run: BranchRun, resource: TaskResource, step: TaskStep, signal: AbortSignal): Promise<Json> {
    return this.#host.integrations.invoke({
      resource,
      parameters: step.parameters,
      ...(step.token !== undefined ? { taskToken: step.token } : {}),
      execution: {
        arn: this.#execution.arn,
        name: this.#execution.name,
        stateMachineArn: this.#execution.stateMachineArn,
      },
      stateName: run.cp.state,
      region: this.#host.region,
      accountId: this.#host.accountId,
      signal,
    });
  }

  // ─── Parallel and Map ──────────────────────────────────────────────────────────────────────────────

  async #parallel(run: BranchRun, state: ParallelState): Promise<{ rawResult: Json }> {
    let step = run.cp.step?.kind === 'fan-out' ? run.cp.step : undefined;
    if (step === undefined) {
      const raw = run.cp.input;
      const scope = this.#scope(run, state);
      const input = effectiveInput(state, raw, scope);
      const branchInput = await parametersFor(state.Parameters ?? state.Arguments, input, raw, scope);
      step = this.#startFanOut(
        run,
        'ParallelStateStarted',
        undefined,
        state.Branches.map(() => branchInput),
      );
    }
    const { results, lastEvents, lastEventId } = await this.#fanOut(run, step, {
      branchFor: (index) => state.Branches[index]!,
      concurrency: state.Branches.length,
      silent: false,
      onIteration: false,
    });
    const failed = firstFailureIndex(results);
    if (failed !== undefined) {
      const failure = results[failed] as Failure;
      // AWS chains ParallelStateFailed on the last event of the branch that failed.
      this.#fanOutFailed(run, state, 'ParallelStateFailed', failure.error, lastEvents[failed]!, step);
      throw new BranchError(failure.error, failure.cause);
    }
    // AWS chains ParallelStateSucceeded on the branches' last event, and ParallelStateExited on that same
    // event rather than on ParallelStateSucceeded.
    this.#record(
      run,
      'ParallelStateSucceeded',
      undefined,
      { step: undefined },
      { from: lastEventId, next: lastEventId },
    );
    this.#forgetBranches(run, step);
    return {
      rawResult: results.map((result) => (result !== undefined && 'output' in result ? result.output : null)),
    };
  }

  async #map(run: BranchRun, state: MapState): Promise<{ rawResult: Json }> {
    const processor = state.ItemProcessor ?? state.Iterator;
    if (processor === undefined)
      throw new StatesError('States.Runtime', 'The Map state has no ItemProcessor');
    const distributed = processor.ProcessorConfig?.Mode === 'DISTRIBUTED';
    const raw = run.cp.input;
    const scope = this.#scope(run, state);
    // Read before the Map starts: AWS fails a MaxConcurrencyPath that is no integer right after
    // MapStateEntered, with neither MapStateStarted nor MapStateFailed.
    const maxConcurrency = (await evaluateMapSetting(state, 'MaxConcurrency', raw, scope)) ?? 0;
    let step = run.cp.step?.kind === 'fan-out' ? run.cp.step : undefined;
    if (step === undefined) {
      const input = effectiveInput(state, raw, scope);
      let items: Json[];
      try {
        items = await this.#mapItems(state, input, raw, scope);
      } catch (error) {
        throw this.#mapItemsFailed(run, state, error);
      }
      const inputs: Json[] = [];
      for (const [index, value] of items.entries()) {
        inputs.push(await this.#selectItem(state, run, index, value, input, raw));
      }
      step = this.#startFanOut(run, 'MapStateStarted', { length: items.length }, inputs);
    }
    // Read once the Map has started: AWS fails a tolerated-failure threshold it cannot use after
    // MapStateStarted, before the Map Run starts, with no MapStateFailed.
    const tolerance = distributed ? await this.#toleratedFailures(state, raw, scope) : undefined;
    if (distributed && step.mapRunArn === undefined) {
      const mapRunArn = this.#mapRunArn(state);
      step = { ...step, mapRunArn };
      this.#record(run, 'MapRunStarted', { mapRunArn }, { step });
    }
    const limit = distributed
      ? maxConcurrency || 1000
      : Math.min(maxConcurrency || INLINE_MAP_CONCURRENCY, INLINE_MAP_CONCURRENCY);
    const { results, lastEvents, lastEventId } = await this.#fanOut(run, step, {
      branchFor: () => processor,
      concurrency: limit,
      silent: distributed,
      onIteration: !distributed,
      stopOnFailure: !distributed,
    });

    if (tolerance !== undefined) {
      if (exceedsToleratedFailures(tolerance, results)) {
        const cause = 'The specified tolerated failure threshold was exceeded';
        this.#record(run, 'MapRunFailed', errorDetails('States.ExceedToleratedFailureThreshold', cause));
        this.#fanOutFailed(
          run,
          state,
          'MapStateFailed',
          'States.ExceedToleratedFailureThreshold',
          run.cp.previousEventId,
          step,
        );
        throw new BranchError('States.ExceedToleratedFailureThreshold', cause);
      }
      // AWS chains MapRunSucceeded on MapRunStarted without moving the chain on, then both MapStateSucceeded
      // and MapStateExited on MapRunSucceeded.
      const runSucceeded = this.#record(run, 'MapRunSucceeded', undefined, undefined, {
        next: run.cp.previousEventId,
      });
      this.#record(
        run,
        'MapStateSucceeded',
        undefined,
        { step: undefined },
        { from: runSucceeded, next: runSucceeded },
      );
    } else {
      const failed = firstFailureIndex(results);
      if (failed !== undefined) {
        const failure = results[failed] as Failure;
        // AWS chains MapStateFailed where the failing iteration's MapIterationFailed chains: on its last
        // state event.
        this.#fanOutFailed(run, state, 'MapStateFailed', failure.error, lastEvents[failed]!, step);
        throw new BranchError(failure.error, failure.cause);
      }
      // AWS chains MapStateSucceeded on the last iteration event (MapStateStarted when there were no items),
      // and MapStateExited on that same event rather than on MapStateSucceeded.
      this.#record(
        run,
        'MapStateSucceeded',
        undefined,
        { step: undefined },
        { from: lastEventId, next: lastEventId },
      );
    }
    this.#forgetBranches(run, step);
    return {
      rawResult: results.map((result) =>
        result === undefined ? null : 'output' in result ? result.output : errorOutputOf(result),
      ),
    };
  }

  /**
   * A Parallel or Map state failed. AWS records its ParallelStateFailed/MapStateFailed only when no retrier
   * takes the failure: a retried state records nothing, and its next Started event chains where the Failed
   * event would have.
   */
  #fanOutFailed(
    run: BranchRun,
    state: ParallelState | MapState,
    failedEvent: string,
    error: string,
    previousEventId: number,
    step?: FanOutStep,
  ): void {
    if (this.#retrierFor(run, state, [error]) >= 0) this.#save(run, { step: undefined, previousEventId });
    else this.#record(run, failedEvent, undefined, { step: undefined }, { from: previousEventId });
    if (step !== undefined) this.#forgetBranches(run, step);
  }

  /**
   * Items that cannot be iterated fail the Map as AWS records it: EvaluationFailed first for JSONata, then
   * MapStateFailed, chained on that EvaluationFailed (or on MapStateEntered).
   */
  #mapItemsFailed(run: BranchRun, state: MapState, error: unknown): unknown {
    const failure = this.#dataFlowError(run, error);
    if (!(failure instanceof StatesError)) return failure;
    const previous =
      failure instanceof DataFlowError && failure.evaluationFailedEventId !== undefined
        ? failure.evaluationFailedEventId
        : run.cp.previousEventId;
    this.#fanOutFailed(run, state, 'MapStateFailed', failure.error, previous);
    return failure;
  }

  /** A distributed Map's thresholds, read and checked as AWS checks them when its Map Run starts. */
  async #toleratedFailures(state: MapState, raw: Json, scope: StateScope): Promise<ToleratedFailures> {
    const count = await evaluateMapSetting(state, 'ToleratedFailureCount', raw, scope);
    const percentage = await evaluateMapSetting(state, 'ToleratedFailurePercentage', raw, scope);
    return {
      ...(count !== undefined ? { count } : {}),
      ...(percentage !== undefined ? { percentage } : {}),
    };
  }

  async #mapItems(state: MapState, input: Json, raw: Json, scope: StateScope): Promise<Json[]> {
    if (scope.queryLanguage === 'JSONata' && state.Items !== undefined) {
      const items = await evaluateJsonataTemplate(state.Items, jsonataScope(scope, { input: raw }), 'Items');
      if (!Array.isArray(items)) throw unexpectedResultType(state.Items, 'Items', 'array', items);
      return items;
    }
    const items =
      scope.queryLanguage === 'JSONata' || state.ItemsPath === undefined
        ? input
        : selectPath(state.ItemsPath, jsonPathScope(input, scope));
    if (!Array.isArray(items)) {
      // AWS's wording, in both query languages; only the error name differs.
      const error = scope.queryLanguage === 'JSONata' ? 'States.QueryEvaluationError' : 'States.Runtime';
      throw new StatesError(error, `Map state input must be an array but was: ${JSON.stringify(items)}`);
    }
    return items;
  }

  async #selectItem(
    state: MapState,
    run: BranchRun,
    index: number,
    value: Json,
    input: Json,
    raw: Json,
  ): Promise<Json> {
    const selector = state.ItemSelector ?? state.Parameters;
    if (selector === undefined) return value;
    const scope = this.#scope(run, state, { Map: { Item: { Index: index, Value: value } } });
    if (scope.queryLanguage === 'JSONata') {
      return evaluateJsonataTemplate(selector, jsonataScope(scope, { input: raw }), 'ItemSelector');
    }
    return applyPayloadTemplate(selector, jsonPathScope(input, scope));
  }

  /**
   * AWS's shape: `…:mapRun:<machine>/<label>:<uuid>`, where the label is the Map's Label or, without one, a
   * UUID too.
   */
  #mapRunArn(state: MapState): string {
    const machine = this.#execution.stateMachineArn.replace(':stateMachine:', ':mapRun:');
    return `${machine}/${state.Label ?? randomUUID()}:${randomUUID()}`;
  }

  #startFanOut(run: BranchRun, startedType: string, details: object | undefined, inputs: Json[]): FanOutStep {
    // Branch keys derive from this event's id, so each retry of the state runs its branches afresh.
    const step: FanOutStep = { kind: 'fan-out', startedEventId: this.#nextEventId(run), inputs };
    this.#record(run, startedType, details, { step });
    return step;
  }

  /** Runs the branches (or iterations) of a fan-out step, resuming those a crash interrupted. */
  async #fanOut(
    run: BranchRun,
    step: FanOutStep,
    options: {
      readonly branchFor: (index: number) => Branch;
      readonly concurrency: number;
      readonly silent: boolean;
      readonly onIteration: boolean;
      readonly stopOnFailure?: boolean;
    },
  ): Promise<FanOutOutcome> {
    const cancel = childController(run.signal);
    const results: (BranchResult | undefined)[] = new Array(step.inputs.length);
    const lastEvents: (number | undefined)[] = new Array(step.inputs.length);
    let lastEventId = step.startedEventId;
    const stopOnFailure = options.stopOnFailure ?? true;
    let nextIndex = 0;
    let failed = false;
    const mapName = run.cp.state;

    // Each branch keeps its own result in its checkpoint, so the parent's is not rewritten per iteration
    // (that would make a large Map's journal grow with the square of its items). Returns the branch's last
    // event on its own chain.
    const runOne = async (index: number, chainOn: number): Promise<number> => {
      const key = branchKey(run, step, index);
      const branch = options.branchFor(index);
      const saved = this.#host.readCheckpoint(this.#execution, key);
      const child: BranchRun = {
        key,
        branch,
        queryLanguage: branch.QueryLanguage ?? run.queryLanguage,
        signal: cancel.signal,
        silent: options.silent || run.silent,
        cp: saved ?? this.#freshCheckpoint(branch.StartAt, step.inputs[index]!, run.cp.variables, chainOn),
      };
      if (!child.cp.done && child.cp.failed === undefined) {
        // An iteration's checkpoint is first written with its MapIterationStarted: without one, it never started.
        if (options.onIteration && saved === undefined) {
          this.#record(child, 'MapIterationStarted', { name: mapName, index });
        }
        try {
          await this.#runBranch(child);
        } catch (error) {
          if (error instanceof AbortedError) {
            if (options.onIteration && !run.signal.aborted && !child.silent) {
              this.#host.appendEvent(this.#execution, {
                type: 'MapIterationAborted',
                previousEventId: child.cp.previousEventId,
                details: { name: mapName, index },
              });
            }
            throw error;
          }
          if (!(error instanceof StatesError)) throw error;
          this.#save(child, { failed: { error: error.error, cause: error.cause } });
        }
      }
      if (options.onIteration && !child.cp.ended) {
        const type = child.cp.failed ? 'MapIterationFailed' : 'MapIterationSucceeded';
        // AWS chains MapIterationSucceeded/Failed on the iteration's last state event, and chains what
        // follows the iteration (the next iteration's MapIterationStarted, a MapStateFailed) there too.
        const endedEventId = this.#nextEventId(child);
        this.#record(
          child,
          type,
          { name: mapName, index },
          { ended: true, endedEventId },
          { next: child.cp.previousEventId },
        );
      }
      const result: BranchResult = child.cp.failed ?? { output: child.cp.input };
      results[index] = result;
      lastEvents[index] = child.cp.previousEventId;
      lastEventId = Math.max(lastEventId, child.cp.endedEventId ?? child.cp.previousEventId);
      if ('error' in result && stopOnFailure) {
        failed = true;
        cancel.abort(ABORTED);
      }
      return child.cp.previousEventId;
    };

    // An iteration that waits for a free slot chains its MapIterationStarted on the last state event of the
    // iteration whose end freed the slot (with MaxConcurrency 1: the previous iteration), as AWS records it;
    // the first ones chain on MapStateStarted.
    const worker = async (): Promise<void> => {
      let chainOn = step.startedEventId;
      while (!failed && nextIndex < step.inputs.length) chainOn = await runOne(nextIndex++, chainOn);
    };
    const workers = Array.from(
      { length: Math.max(1, Math.min(options.concurrency, step.inputs.length)) },
      worker,
    );
    const settled = await Promise.allSettled(workers);
    cancel.abort(ABORTED);
    if (run.signal.aborted) throw new AbortedError('aborted');
    for (const outcome of settled) {
      if (outcome.status === 'rejected' && !(outcome.reason instanceof AbortedError)) throw outcome.reason;
    }
    // Branches cancelled by a failing sibling have no result: the state fails with the sibling's error.
    return { results, lastEvents, lastEventId };
  }

  /** Once the Parallel/Map state has recorded its outcome, its branches' checkpoints are no longer needed. */
  #forgetBranches(run: BranchRun, step: FanOutStep): void {
    for (let index = 0; index < step.inputs.length; index += 1) {
      const key = branchKey(run, step, index);
      if (this.#host.readCheckpoint(this.#execution, key) !== undefined)
        this.#host.saveCheckpoint(this.#execution, key, null);
    }
  }
}

function branchKey(run: BranchRun, step: FanOutStep, index: number): string {
  return `${run.key}>${step.startedEventId}.${index}`;
}

/** Most states never read `$$`: the context object is built only when an expression asks for it. */
class LazyStateScope implements StateScope {
  #context: JsonObject | undefined;

  constructor(
    private readonly runner: ExecutionRunner,
    private readonly run: BranchRun,
    readonly queryLanguage: QueryLanguage,
    private readonly extra: JsonObject | undefined,
  ) {}

  get variables(): Variables {
    return this.run.cp.variables;
  }

  get context(): JsonObject {
    this.#context ??= this.runner.contextObject(this.run, this.extra);
    return this.#context;
  }
}

/**
 * SecondsPath: a whole number of seconds, at least 0, or the execution fails with AWS's wording for each case
 * (`The SecondsPath parameter references a negative value: $.x == -1`).
 */
function secondsAt(path: string, scope: JsonPathScope): number {
  const found = queryPath(path, scope);
  if (!found.found) {
    throw new StatesError(
      'States.Runtime',
      `The SecondsPath parameter does not reference an input value: ${path}`,
    );
  }
  const value = found.value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new StatesError(
      'States.Runtime',
      `The SecondsPath parameter cannot be parsed as a long value: ${path} == ${textOf(value)}`,
    );
  }
  if (value < 0) {
    throw new StatesError(
      'States.Runtime',
      `The SecondsPath parameter references a negative value: ${path} == ${textOf(value)}`,
    );
  }
  return value;
}

/**
 * TimestampPath: an ISO-8601 date-time with an uppercase `T` and a `Z` or a numeric offset, as AWS requires,
 * to the second (AWS drops the fraction).
 */
function timestampAt(path: string, scope: JsonPathScope): number {
  const found = queryPath(path, scope);
  if (!found.found) {
    // AWS's wording for a missing SecondsPath, assumed to hold for TimestampPath too.
    throw new StatesError(
      'States.Runtime',
      `The TimestampPath parameter does not reference an input value: ${path}`,
    );
  }
  const seconds = timestampSeconds(found.value);
  if (seconds === undefined) {
    throw new StatesError(
      'States.Runtime',
      `The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: ${path} == ${textOf(found.value)}`,
    );
  }
  return seconds * 1000;
}

/** A value as AWS quotes it in a cause: strings as they are, anything else as JSON text. */
function textOf(value: Json): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * What a DataLimitExceeded cause names for a Task's result: recorded causes name the Lambda function's ARN
 * (`The state/task 'arn:aws:lambda:…:function:Name' returned …`), so a `lambda:invoke` names its FunctionName;
 * any other task names its Resource. (Which name AWS gives for other integrations is not recorded: a guess.)
 */
function taskNameInCause(resource: TaskResource, parameters: Json): string {
  if (
    resource.service === 'lambda' &&
    resource.action === 'invoke' &&
    typeof parameters === 'object' &&
    parameters !== null &&
    !Array.isArray(parameters)
  ) {
    const name = parameters.FunctionName;
    if (typeof name === 'string') return name;
  }
  return resource.arn;
}

function errorDetails(error: string | undefined, cause: string | undefined): Record<string, string> {
  const details: Record<string, string> = {};
  if (error !== undefined && error !== '') details.error = error;
  if (cause !== undefined && cause !== '') details.cause = cause;
  return details;
}

type Failure = { readonly error: string; readonly cause: string };

/** The first branch (in order) that failed, if any. */
function firstFailureIndex(results: readonly (BranchResult | undefined)[]): number | undefined {
  const index = results.findIndex((result) => result !== undefined && 'error' in result);
  return index === -1 ? undefined : index;
}

interface ToleratedFailures {
  readonly count?: number;
  readonly percentage?: number;
}

/**
 * A Map Run fails once its failures pass either threshold that is set; with neither set, one failure
 * is too many.
 */
function exceedsToleratedFailures(
  tolerance: ToleratedFailures,
  results: readonly (BranchResult | undefined)[],
): boolean {
  const failed = results.filter((result) => result !== undefined && 'error' in result).length;
  if (failed === 0) return false;
  const { count, percentage } = tolerance;
  if (count === undefined && percentage === undefined) return true;
  const overCount = count !== undefined && failed > count;
  const overPercentage = percentage !== undefined && (failed / results.length) * 100 > percentage;
  return overCount || overPercentage;
}

function errorOutputOf(result: BranchResult): Json {
  return 'error' in result ? { Error: result.error, Cause: result.cause } : result.output;
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

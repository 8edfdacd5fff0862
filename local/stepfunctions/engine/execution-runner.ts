/**
 * Runs one execution of a state machine: the States Language interpreter.
 *
 * Every step is made durable through the host before it takes effect: each history event is written
 * together with the checkpoint of the branch that wrote it, so after a crash the runner resumes each branch
 * from its checkpoint — re-entering nothing it already entered and re-sending a task call only when its
 * outcome was never recorded (at least once, as AWS itself retries calls whose fate it does not know).
 */
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
import { evaluateChoiceRule } from '../language/choice-rules.ts';
import { queryPath } from '../language/json-path.ts';
import { evaluateJsonataTemplate } from '../language/jsonata.ts';
import { applyPayloadTemplate } from '../language/payload-template.ts';
import { StatesError } from '../language/states-error.ts';
import { ABORTED, AbortedError, abortable, childController, sleepUntil } from './abortable.ts';
import {
  assignVariables,
  completeState,
  effectiveInput,
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
  | { readonly next: string; readonly output: Json; readonly variables: Variables }
  | {
      readonly end: true;
      readonly output: Json;
      readonly variables: Variables;
    };

const ROOT = 'root';
const NO_ATTEMPTS: readonly number[] = Object.freeze([]);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
/** AWS runs at most 40 inline Map iterations at once, whatever MaxConcurrency says. */
const INLINE_MAP_CONCURRENCY = 40;

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
    const assigned = assignedNames(run.cp.variables, result.variables);
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
  ): number {
    if (run.signal.aborted) throw new AbortedError('aborted');
    if (run.silent) {
      if (patch) this.#save(run, patch);
      return run.cp.previousEventId;
    }
    const previousEventId = run.cp.previousEventId;
    const id = this.#host.nextEventId(this.#execution);
    const cp = run.cp as Mutable<BranchCheckpoint>;
    if (patch) Object.assign(cp, patch);
    cp.previousEventId = id;
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
    if (!(error instanceof StatesError) || error instanceof StateFailure) throw error;
    const cause = `An error occurred while executing the state '${run.cp.state}' (entered at the event id #${run.cp.entered?.eventId}). ${error.cause}`;
    if (error.error === 'States.QueryEvaluationError') this.#evaluationFailed(run, error.error, cause);
    throw new DataFlowError(error.error, cause);
  }

  /**
   * JSONata failures leave an EvaluationFailed event. Real histories chain it to the event before the state
   * was entered (not to the entry itself), and name the field as the cause does.
   */
  #evaluationFailed(run: BranchRun, error: string, cause: string): void {
    if (run.silent) return;
    const location = /specified for the field '([^']*)'/.exec(cause)?.[1];
    this.#host.appendEvent(this.#execution, {
      type: 'EvaluationFailed',
      previousEventId: run.cp.entered?.previousEventId ?? run.cp.previousEventId,
      details: { error, cause, ...(location !== undefined ? { location } : {}), state: run.cp.state },
    });
  }

  #next(state: State, output: Json, variables: Variables, next?: string): StepResult {
    const target = next ?? state.Next;
    if (target === undefined || state.End === true) return { end: true, output, variables };
    return { next: target, output, variables };
  }

  async #pass(run: BranchRun, state: PassState): Promise<StepResult> {
    const raw = run.cp.input;
    const scope = this.#scope(run, state);
    if (scope.queryLanguage === 'JSONata') {
      const outcome = await completeState(state, { rawInput: raw, result: raw }, scope, 'input');
      return this.#next(state, outcome.output, assignVariables(run.cp.variables, outcome.assigned));
    }
    const input = effectiveInput(state, raw, scope);
    const result =
      state.Result !== undefined ? state.Result : await parametersFor(state.Parameters, input, raw, scope);
    const outcome = await completeState(state, { rawInput: raw, result }, scope);
    return this.#next(state, outcome.output, assignVariables(run.cp.variables, outcome.assigned));
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
      return this.#next(
        state,
        outcome.output,
        assignVariables(run.cp.variables, outcome.assigned),
        rule.Next,
      );
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
    return this.#next(
      state,
      outcome.output,
      assignVariables(run.cp.variables, outcome.assigned),
      state.Default,
    );
  }

  async #wait(run: BranchRun, state: WaitState): Promise<StepResult> {
    const raw = run.cp.input;
    const scope = this.#scope(run, state);
    const input = effectiveInput(state, raw, scope);
    let step = run.cp.step;
    if (step?.kind !== 'wait') {
      const seconds = await evaluateNumberField(state, 'Seconds', input, raw, scope);
      let dueAt: number;
      if (seconds !== undefined) dueAt = run.cp.entered!.time + seconds * 1000;
      else {
        const timestamp = await evaluateStringField(state, 'Timestamp', input, raw, scope);
        dueAt = timestamp === undefined ? Number.NaN : Date.parse(timestamp);
        if (Number.isNaN(dueAt)) {
          throw new StatesError(
            'States.Runtime',
            `The Timestamp '${timestamp}' is not a valid ISO-8601 timestamp`,
          );
        }
      }
      step = { kind: 'wait', dueAt };
      this.#save(run, { step });
    }
    await sleepUntil(step.dueAt, () => this.#host.now(), run.signal);
    const outcome = await completeState(state, { rawInput: raw, result: input }, scope, 'input');
    return this.#next(state, outcome.output, assignVariables(run.cp.variables, outcome.assigned));
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
        } catch (error) {
          this.#rethrowDataFlow(run, error);
        }
        return this.#next(state, outcome.output, assignVariables(run.cp.variables, outcome.assigned));
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
    const index = findRetrier(state.Retry, names);
    if (index >= 0) {
      const retrier = state.Retry![index]!;
      const used = run.cp.retrierAttempts[index] ?? 0;
      if (used < maxAttemptsOf(retrier)) {
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
    return {
      next: catcher.Next,
      output: outcome.output,
      variables: assignVariables(run.cp.variables, outcome.assigned),
    };
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

    const outcome = await this.#taskOutcome(run, resource, step);
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
    const results = await this.#fanOut(run, step, {
      branchFor: (index) => state.Branches[index]!,
      concurrency: state.Branches.length,
      silent: false,
      onIteration: false,
    });
    const failure = firstFailure(results);
    if (failure !== undefined) {
      this.#record(run, 'ParallelStateFailed', undefined, { step: undefined });
      this.#forgetBranches(run, step);
      throw new BranchError(failure.error, failure.cause);
    }
    this.#record(run, 'ParallelStateSucceeded', undefined, { step: undefined });
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
    let step = run.cp.step?.kind === 'fan-out' ? run.cp.step : undefined;
    if (step === undefined) {
      const input = effectiveInput(state, raw, scope);
      const items = await this.#mapItems(state, input, raw, scope);
      const inputs: Json[] = [];
      for (const [index, value] of items.entries()) {
        inputs.push(await this.#selectItem(state, run, index, value, input, raw));
      }
      step = this.#startFanOut(run, 'MapStateStarted', { length: items.length }, inputs);
      if (distributed) {
        const mapRunArn = this.#mapRunArn(state, run);
        this.#record(run, 'MapRunStarted', { mapRunArn });
      }
    }
    const maxConcurrency = (await evaluateNumberField(state, 'MaxConcurrency', raw, raw, scope)) ?? 0;
    const limit = distributed
      ? maxConcurrency || 1000
      : Math.min(maxConcurrency || INLINE_MAP_CONCURRENCY, INLINE_MAP_CONCURRENCY);
    const results = await this.#fanOut(run, step, {
      branchFor: () => processor,
      concurrency: limit,
      silent: distributed,
      onIteration: !distributed,
      stopOnFailure: !distributed,
    });

    if (distributed) {
      if (await this.#exceedsToleratedFailures(state, results, raw, scope)) {
        const cause = 'The specified tolerated failure threshold was exceeded';
        this.#record(run, 'MapRunFailed', errorDetails('States.ExceedToleratedFailureThreshold', cause));
        this.#record(run, 'MapStateFailed', undefined, { step: undefined });
        this.#forgetBranches(run, step);
        throw new BranchError('States.ExceedToleratedFailureThreshold', cause);
      }
      this.#record(run, 'MapRunSucceeded', undefined);
    } else {
      const failure = firstFailure(results);
      if (failure !== undefined) {
        this.#record(run, 'MapStateFailed', undefined, { step: undefined });
        this.#forgetBranches(run, step);
        throw new BranchError(failure.error, failure.cause);
      }
    }
    this.#record(run, 'MapStateSucceeded', undefined, { step: undefined });
    this.#forgetBranches(run, step);
    return {
      rawResult: results.map((result) =>
        result === undefined ? null : 'output' in result ? result.output : errorOutputOf(result),
      ),
    };
  }

  /**
   * A Map Run fails once its failures pass either threshold that is set; with neither set, one failure
   * is too many.
   */
  async #exceedsToleratedFailures(
    state: MapState,
    results: readonly (BranchResult | undefined)[],
    raw: Json,
    scope: StateScope,
  ): Promise<boolean> {
    const failed = results.filter((result) => result !== undefined && 'error' in result).length;
    if (failed === 0) return false;
    const count = await evaluateNumberField(state, 'ToleratedFailureCount', raw, raw, scope);
    const percentage = await evaluateNumberField(state, 'ToleratedFailurePercentage', raw, raw, scope);
    if (count === undefined && percentage === undefined) return true;
    const overCount = count !== undefined && failed > count;
    const overPercentage = percentage !== undefined && (failed / results.length) * 100 > percentage;
    return overCount || overPercentage;
  }

  async #mapItems(state: MapState, input: Json, raw: Json, scope: StateScope): Promise<Json[]> {
    let items: Json;
    if (scope.queryLanguage === 'JSONata') {
      items =
        state.Items === undefined
          ? raw
          : await evaluateJsonataTemplate(state.Items, jsonataScope(scope, { input: raw }), 'Items');
    } else {
      items =
        state.ItemsPath === undefined ? input : selectPath(state.ItemsPath, jsonPathScope(input, scope));
    }
    if (!Array.isArray(items)) {
      const error = scope.queryLanguage === 'JSONata' ? 'States.QueryEvaluationError' : 'States.Runtime';
      throw new StatesError(
        error,
        `Map state input must be an array, but the items were ${JSON.stringify(items)}`,
      );
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

  #mapRunArn(state: MapState, run: BranchRun): string {
    const machine = this.#execution.stateMachineArn.replace(':stateMachine:', ':mapRun:');
    const label = state.Label ?? run.cp.state;
    return `${machine}/${label}:${run.cp.entered?.eventId ?? 0}`;
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
  ): Promise<(BranchResult | undefined)[]> {
    const cancel = childController(run.signal);
    const results: (BranchResult | undefined)[] = new Array(step.inputs.length);
    const stopOnFailure = options.stopOnFailure ?? true;
    let nextIndex = 0;
    let failed = false;
    const mapName = run.cp.state;

    // Each branch keeps its own result in its checkpoint, so the parent's is not rewritten per iteration
    // (that would make a large Map's journal grow with the square of its items).
    const runOne = async (index: number): Promise<void> => {
      const key = branchKey(run, step, index);
      const branch = options.branchFor(index);
      const child: BranchRun = {
        key,
        branch,
        queryLanguage: branch.QueryLanguage ?? run.queryLanguage,
        signal: cancel.signal,
        silent: options.silent || run.silent,
        cp:
          this.#host.readCheckpoint(this.#execution, key) ??
          this.#freshCheckpoint(branch.StartAt, step.inputs[index]!, run.cp.variables, step.startedEventId),
      };
      if (!child.cp.done && child.cp.failed === undefined) {
        if (
          options.onIteration &&
          child.cp.entered === undefined &&
          child.cp.previousEventId === step.startedEventId
        ) {
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
        this.#record(child, type, { name: mapName, index }, { ended: true });
      }
      const result: BranchResult = child.cp.failed ?? { output: child.cp.input };
      results[index] = result;
      if ('error' in result && stopOnFailure) {
        failed = true;
        cancel.abort(ABORTED);
      }
    };

    const worker = async (): Promise<void> => {
      while (!failed && nextIndex < step.inputs.length) await runOne(nextIndex++);
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
    return results;
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

function errorDetails(error: string | undefined, cause: string | undefined): Record<string, string> {
  const details: Record<string, string> = {};
  if (error !== undefined && error !== '') details.error = error;
  if (cause !== undefined && cause !== '') details.cause = cause;
  return details;
}

function firstFailure(
  results: readonly (BranchResult | undefined)[],
): { error: string; cause: string } | undefined {
  for (const result of results) if (result !== undefined && 'error' in result) return result;
  return undefined;
}

function errorOutputOf(result: BranchResult): Json {
  return 'error' in result ? { Error: result.error, Cause: result.cause } : result.output;
}

/** The names of the variables a state assigned, with their JSON text, as StateExited reports them. */
function assignedNames(before: Variables, after: Variables): Record<string, JsonPayload> | undefined {
  if (before === after) return undefined;
  const assigned: Record<string, JsonPayload> = {};
  for (const [name, value] of Object.entries(after)) {
    if (before[name] !== value) assigned[name] = jsonPayload(value);
  }
  return assigned;
}

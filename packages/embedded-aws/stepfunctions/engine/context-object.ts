/**
 * `$$`, the context object: the execution, the state machine and the state a branch is in. Most states never
 * read it, so a state's scope builds it only when an expression asks for it.
 */
import type { Json, JsonObject, QueryLanguage, State } from '../definition/types.ts';
import type { StateScope, Variables } from './data-flow.ts';
import type { BranchRun, Interpreter } from './interpreter.ts';
import type { ExecutionRecord } from './model.ts';

/**
 * The scope a state's expressions see. `extra` adds to `$$` what only some states have (`$$.Task.Token`,
 * `$$.Map.Item`).
 */
export function stateScope(
  interpreter: Pick<Interpreter, 'execution' | 'host'>,
  run: BranchRun,
  state: State,
  extra?: JsonObject,
): StateScope {
  return new LazyStateScope(interpreter, run, state.QueryLanguage ?? run.queryLanguage, extra);
}

class LazyStateScope implements StateScope {
  #context: JsonObject | undefined;

  constructor(
    private readonly interpreter: Pick<Interpreter, 'execution' | 'host'>,
    private readonly run: BranchRun,
    readonly queryLanguage: QueryLanguage,
    private readonly extra: JsonObject | undefined,
  ) {}

  get variables(): Variables {
    return this.run.checkpoint.variables;
  }

  get context(): JsonObject {
    this.#context ??= contextObject(this.interpreter, this.run, this.extra);
    return this.#context;
  }
}

function contextObject(
  interpreter: Pick<Interpreter, 'execution' | 'host'>,
  run: BranchRun,
  extra: JsonObject | undefined,
): JsonObject {
  const checkpoint = run.checkpoint;
  const state: JsonObject = {
    EnteredTime: new Date(checkpoint.entered?.time ?? interpreter.host.now()).toISOString(),
    Name: checkpoint.state,
  };
  // Only states that can retry show RetryCount, as real executions' context objects do.
  const type = run.branch.States[checkpoint.state]?.Type;
  if (type === 'Task' || type === 'Parallel' || type === 'Map') state.RetryCount = checkpoint.retryCount;
  const { execution, stateMachine } = executionContext(interpreter.execution);
  return { Execution: execution, State: state, StateMachine: stateMachine, ...extra };
}

interface ExecutionContext {
  readonly execution: JsonObject;
  readonly stateMachine: JsonObject;
}

const executionContexts = new WeakMap<ExecutionRecord, ExecutionContext>();

/** `$$.Execution` and `$$.StateMachine` change only on redrive: built once per run, not once per state. */
function executionContext(record: ExecutionRecord): ExecutionContext {
  const cached = executionContexts.get(record);
  if (cached?.execution.RedriveCount === record.redriveCount) return cached;
  const execution: JsonObject = {
    Id: record.arn,
    Input: JSON.parse(record.input) as Json,
    Name: record.name,
    RoleArn: record.roleArn,
    StartTime: new Date(record.startDate).toISOString(),
    RedriveCount: record.redriveCount,
  };
  if (record.redriveDate !== undefined) execution.RedriveTime = new Date(record.redriveDate).toISOString();
  const context = {
    execution,
    stateMachine: cached?.stateMachine ?? { Id: record.stateMachineArn, Name: record.stateMachineName },
  };
  executionContexts.set(record, context);
  return context;
}

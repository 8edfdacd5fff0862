/**
 * Calling a Task's service and waiting for its outcome: its TimeoutSeconds, and for `.waitForTaskToken`
 * the token SendTaskSuccess/Failure answer and the heartbeats SendTaskHeartbeat sends.
 */
import type { Json } from '../../definition/types.ts';
import type { TaskResource } from '../../integrations.ts';
import { StatesError } from '../../language/states-error.ts';
import { ABORTED, AbortedError, abortable, childController } from '../abortable.ts';
import type { ExecutionRunner, RunnerHost } from '../execution-runner.ts';
import { jsonPayload, NOT_TRUNCATED } from '../history.ts';
import type { BranchRun, Interpreter } from '../interpreter.ts';
import type { TaskOutcome, TaskStep } from '../model.ts';

/** The branches of one execution whose task waits on a token, for SendTask* to reach. */
export class TaskTokenWaiters {
  readonly #waiting = new Map<string, { readonly branch: BranchRun; readonly wake: () => void }>();
  readonly #host: RunnerHost;
  readonly #runner: ExecutionRunner;

  constructor(host: RunnerHost, runner: ExecutionRunner) {
    this.#host = host;
    this.#runner = runner;
  }

  /** The branch waiting on the token and how to wake it, while it waits. */
  waiter(token: string): { readonly branch: BranchRun; readonly wake: () => void } | undefined {
    return this.#waiting.get(token);
  }

  listen(token: string, branch: BranchRun, wake: () => void): void {
    this.#host.tokenIssued(token, this.#runner);
    this.#waiting.set(token, { branch, wake });
  }

  stopListening(token: string): void {
    this.#waiting.delete(token);
    this.#host.tokenReleased(token);
  }

  /** The execution has ended: no token of it may be answered any more. */
  releaseAll(): void {
    for (const token of this.#waiting.keys()) this.#host.tokenReleased(token);
  }
}

/** Calls the service (again, if a crash left the call's fate unknown) and waits for a token if asked. */
export async function taskOutcome(
  interpreter: Interpreter,
  run: BranchRun,
  resource: TaskResource,
  initial: TaskStep,
): Promise<TaskOutcome> {
  const host = interpreter.host;
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
        Math.max(0, Math.min(at - host.now(), 2 ** 31 - 1)),
      ),
    );
  };
  armDeadline(step.deadline, 'States.Timeout');

  let wake: () => void = () => {};
  if (step.token !== undefined) interpreter.tokens.listen(step.token, run, () => wake());
  try {
    if (step.outcome !== undefined) return step.outcome;
    if (!step.submitted) {
      const result = await abortable(invoke(interpreter, run, resource, step, signal), signal);
      if (step.token === undefined) return { output: result };
      // Record the submission even when a fast consumer already answered: AWS's history always shows it.
      step = { ...(run.checkpoint.step as TaskStep), submitted: true };
      const submitted = step;
      interpreter.record(
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
      step = run.checkpoint.step as TaskStep;
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
              Math.max(0, step.heartbeatDeadline - host.now()),
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
    if (step.token !== undefined) interpreter.tokens.stopListening(step.token);
  }
}

function invoke(
  interpreter: Interpreter,
  run: BranchRun,
  resource: TaskResource,
  step: TaskStep,
  signal: AbortSignal,
): Promise<Json> {
  return invokeIntegration(interpreter, run.checkpoint.state, resource, step.parameters, signal, step.token);
}

/** Calls a service integration for the state `stateName` of this execution. */
export function invokeIntegration(
  interpreter: Interpreter,
  stateName: string,
  resource: TaskResource,
  parameters: Json,
  signal: AbortSignal,
  taskToken?: string,
): Promise<Json> {
  const { host, execution } = interpreter;
  return host.integrations.invoke({
    resource,
    parameters,
    ...(taskToken !== undefined ? { taskToken } : {}),
    execution: { arn: execution.arn, name: execution.name, stateMachineArn: execution.stateMachineArn },
    stateName,
    region: host.region,
    accountId: host.accountId,
    signal,
  });
}

/**
 * Task: schedules the call, records its start, and records how it ended. The call itself, its timeouts and
 * its token are `task-invocation.ts`'s; Retry and Catch are `retry-catch.ts`'s.
 */
import type { Json, TaskState } from '../../definition/types.ts';
import { parseTaskResource, type TaskResource } from '../../integrations.ts';
import { StatesError } from '../../language/states-error.ts';
import { stateScope } from '../context-object.ts';
import { effectiveInput, evaluateNumberField, parametersFor } from '../data-flow.ts';
import { errorDetails, jsonPayload, NOT_TRUNCATED } from '../history.ts';
import type { BranchRun, Interpreter } from '../interpreter.ts';
import type { TaskStep } from '../model.ts';
import { dataLimitExceeded, exceedsPayloadLimit, inputLimitExceeded } from '../payload-limit.ts';
import { TaskError } from '../state-failures.ts';
import { taskEventNames } from '../task-events.ts';
import { taskOutcome } from './task-invocation.ts';

export async function taskStep(
  interpreter: Interpreter,
  run: BranchRun,
  state: TaskState,
): Promise<{ rawResult: Json }> {
  const resource = parseTaskResource(state.Resource);
  if (resource === undefined) {
    throw new StatesError('States.Runtime', `The resource '${state.Resource}' is not supported`);
  }
  const names = taskEventNames(resource);
  let step = run.checkpoint.step?.kind === 'task' ? run.checkpoint.step : undefined;

  if (step === undefined) {
    const host = interpreter.host;
    const raw = run.checkpoint.input;
    const token =
      resource.pattern === 'wait-for-task-token' ? host.newTaskToken(interpreter.execution) : undefined;
    const scope = stateScope(
      interpreter,
      run,
      state,
      token === undefined ? undefined : { Task: { Token: token } },
    );
    const input = effectiveInput(state, raw, scope);
    const parameters = await parametersFor(state.Parameters ?? state.Arguments, input, raw, scope);
    if (exceedsPayloadLimit(parameters)) throw inputLimitExceeded(run.checkpoint.state);
    const timeoutSeconds = await evaluateNumberField(state, 'TimeoutSeconds', input, raw, scope);
    const heartbeatSeconds = await evaluateNumberField(state, 'HeartbeatSeconds', input, raw, scope);
    const scheduled = names.scheduled(resource, parameters, timeoutSeconds, heartbeatSeconds, host.region);
    const newStep: TaskStep = { kind: 'task', parameters, started: false, ...(token ? { token } : {}) };
    interpreter.record(run, scheduled.type, scheduled.details, { step: newStep });
    step = newStep;
    const now = host.now();
    const started: TaskStep = {
      ...step,
      started: true,
      ...(timeoutSeconds !== undefined ? { deadline: now + timeoutSeconds * 1000 } : {}),
      ...(heartbeatSeconds !== undefined && token
        ? { heartbeatSeconds, heartbeatDeadline: now + heartbeatSeconds * 1000 }
        : {}),
    };
    interpreter.record(run, names.started, names.startedDetails(resource), { step: started });
    step = started;
  }

  let outcome = await taskOutcome(interpreter, run, resource, step);
  // A result over the quota fails the task like a failure of its own, which Catch sees.
  if ('output' in outcome && exceedsPayloadLimit(outcome.output)) {
    const failure = dataLimitExceeded(taskNameInCause(resource));
    outcome = { error: failure.error, cause: failure.cause };
  }
  if ('output' in outcome) {
    interpreter.record(run, names.succeeded, {
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
  interpreter.record(run, timedOut ? names.timedOut : names.failed, {
    ...names.identity(resource),
    ...errorDetails(error, outcome.cause),
  });
  throw new TaskError(error, outcome.cause, heartbeat ? ['States.HeartbeatTimeout'] : []);
}

/**
 * What a DataLimitExceeded cause names for a Task's result, as recorded on AWS: a bare Lambda function ARN
 * Resource is named itself (`The state/task 'arn:aws:lambda:…:function:Name' returned …`), a `lambda:invoke`
 * integration by its service, `'lambda'`. (Other integrations are not recorded: their resourceType, a guess.)
 */
function taskNameInCause(resource: TaskResource): string {
  return resource.service === 'lambda-function' ? resource.arn : resource.resourceType;
}

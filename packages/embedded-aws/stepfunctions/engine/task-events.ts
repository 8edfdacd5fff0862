/**
 * The history events a Task writes, by resource: a bare Lambda function ARN writes LambdaFunction* events with
 * the function's input; every other resource writes Task* events naming its resourceType and resource.
 */
import type { Json } from '../definition/types.ts';
import type { TaskResource } from '../integrations.ts';
import { jsonPayload, NOT_TRUNCATED } from './history.ts';

export interface TaskEventNames {
  scheduled(
    resource: TaskResource,
    parameters: Json,
    timeoutSeconds: number | undefined,
    heartbeatSeconds: number | undefined,
    region: string,
  ): { type: string; details: object };
  started: string;
  startedDetails(resource: TaskResource): object | undefined;
  succeeded: string;
  failed: string;
  timedOut: string;
  identity(resource: TaskResource): object;
}

export function taskEventNames(resource: TaskResource): TaskEventNames {
  if (resource.service === 'lambda-function') {
    return {
      scheduled: (r, parameters, timeoutSeconds) => ({
        type: 'LambdaFunctionScheduled',
        details: {
          resource: r.arn,
          input: jsonPayload(parameters),
          inputDetails: NOT_TRUNCATED,
          ...(timeoutSeconds !== undefined ? { timeoutInSeconds: timeoutSeconds } : {}),
        },
      }),
      started: 'LambdaFunctionStarted',
      startedDetails: () => undefined,
      succeeded: 'LambdaFunctionSucceeded',
      failed: 'LambdaFunctionFailed',
      timedOut: 'LambdaFunctionTimedOut',
      identity: () => ({}),
    };
  }
  const identity = (r: TaskResource) => ({ resourceType: r.resourceType, resource: r.resourceName });
  return {
    scheduled: (r, parameters, timeoutSeconds, heartbeatSeconds, region) => ({
      type: 'TaskScheduled',
      details: {
        ...identity(r),
        region,
        parameters: jsonPayload(parameters),
        ...(timeoutSeconds !== undefined ? { timeoutInSeconds: timeoutSeconds } : {}),
        ...(heartbeatSeconds !== undefined ? { heartbeatInSeconds: heartbeatSeconds } : {}),
      },
    }),
    started: 'TaskStarted',
    startedDetails: identity,
    succeeded: 'TaskSucceeded',
    failed: 'TaskFailed',
    timedOut: 'TaskTimedOut',
    identity,
  };
}

import type { Json } from './definition/types.ts';
import { StatesError } from './language/states-error.ts';

/**
 * How a Task state reaches a service. The engine parses the Resource, evaluates the parameters, writes the
 * TaskScheduled/TaskStarted events and waits for a token where asked; the integration only performs the call.
 *
 * An integration reports a failure by throwing `StatesError(error, cause)`: the error name is what Retry and
 * Catch match (for Lambda, the function's errorType; for SDK calls, e.g. `SQS.QueueDoesNotExistException`).
 */
export interface ServiceIntegrations {
  invoke(task: TaskInvocation): Promise<Json>;
}

export type IntegrationPattern = 'request-response' | 'wait-for-task-token' | 'sync';

export interface TaskResource {
  /** The Resource as written in the definition. */
  readonly arn: string;
  /**
   * `lambda`, `sqs`, `sns`, `aws-sdk:sqs`, ... for service integrations; `lambda-function` for a bare
   * function ARN (`arn:aws:lambda:…:function:Name`), `activity` for an activity ARN.
   */
  readonly service: string;
  /** The API action without the pattern suffix: `invoke`, `sendMessage`, `publish`; the ARN for functions. */
  readonly action: string;
  readonly pattern: IntegrationPattern;
  /** What AWS shows as `resourceType` / `resource` in TaskScheduled and its sibling events. */
  readonly resourceType: string;
  readonly resourceName: string;
}

export interface TaskInvocation {
  readonly resource: TaskResource;
  readonly parameters: Json;
  /** Present for `.waitForTaskToken`: the token SendTaskSuccess/Failure must quote. */
  readonly taskToken?: string;
  readonly execution: { readonly arn: string; readonly name: string; readonly stateMachineArn: string };
  readonly stateName: string;
  readonly region: string;
  readonly accountId: string;
  /** Aborted when the execution is stopped or the task times out. */
  readonly signal: AbortSignal;
}

const SERVICE_RESOURCE =
  /^arn:aws[\w-]*:states:[\w-]*:\d*:([a-zA-Z0-9-]+(?::[a-zA-Z0-9-]+)?):([a-zA-Z0-9]+)((?:\.sync(?::\d+)?)|\.waitForTaskToken)?$/;
const FUNCTION_RESOURCE = /^arn:aws[\w-]*:lambda:[\w-]+:\d+:function:[\w-]+(:[\w$-]+)?$/;
const ACTIVITY_RESOURCE = /^arn:aws[\w-]*:states:[\w-]+:\d+:activity:[\w-]+$/;

/**
 * Reads a Task's Resource ARN the way Step Functions does.
 *
 * @example
 * parseTaskResource('arn:aws:states:::sqs:sendMessage.waitForTaskToken')
 * // { service: 'sqs', action: 'sendMessage', pattern: 'wait-for-task-token',
 * //   resourceType: 'sqs', resourceName: 'sendMessage.waitForTaskToken', ... }
 */
export function parseTaskResource(arn: string): TaskResource | undefined {
  const service = SERVICE_RESOURCE.exec(arn);
  if (service) {
    const [, serviceName, action, suffix] = service as unknown as [
      string,
      string,
      string,
      string | undefined,
    ];
    const pattern: IntegrationPattern =
      suffix === undefined
        ? 'request-response'
        : suffix === '.waitForTaskToken'
          ? 'wait-for-task-token'
          : 'sync';
    return {
      arn,
      service: serviceName,
      action,
      pattern,
      resourceType: serviceName,
      resourceName: `${action}${suffix ?? ''}`,
    };
  }
  if (FUNCTION_RESOURCE.test(arn)) {
    return {
      arn,
      service: 'lambda-function',
      action: arn,
      pattern: 'request-response',
      resourceType: 'lambda',
      resourceName: arn,
    };
  }
  if (ACTIVITY_RESOURCE.test(arn)) {
    return {
      arn,
      service: 'activity',
      action: arn,
      pattern: 'request-response',
      resourceType: 'activity',
      resourceName: arn,
    };
  }
  return undefined;
}

export type TaskHandler = (task: TaskInvocation) => Json | Promise<Json>;

/**
 * The in-process double for tests and embedding: handlers registered by resource, called in this process.
 * A resource with no handler fails the task as AWS fails a call it cannot make.
 *
 * @example
 * const integrations = new InProcessIntegrations()
 *   .handle('arn:aws:states:::lambda:invoke', ({ parameters }) => ({ Payload: { ok: true } }));
 */
export class InProcessIntegrations implements ServiceIntegrations {
  readonly #handlers = new Map<string, TaskHandler>();
  readonly calls: TaskInvocation[] = [];

  /** `resource` is the definition's Resource, with or without its `.waitForTaskToken`/`.sync` suffix. */
  handle(resource: string, handler: TaskHandler): this {
    this.#handlers.set(resource, handler);
    return this;
  }

  async invoke(task: TaskInvocation): Promise<Json> {
    this.calls.push(task);
    const handler =
      this.#handlers.get(task.resource.arn) ??
      this.#handlers.get(task.resource.arn.replace(/\.(waitForTaskToken|sync(:\d+)?)$/, ''));
    if (handler === undefined) {
      throw new StatesError(
        'States.TaskFailed',
        `No integration handles the resource '${task.resource.arn}'`,
      );
    }
    return handler(task);
  }
}

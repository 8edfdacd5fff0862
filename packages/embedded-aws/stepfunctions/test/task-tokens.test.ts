/**
 * Conformance tests for the callback pattern (`.waitForTaskToken`), through whole executions on the embedded
 * AWS and the real `@aws-sdk/client-sfn` client: SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat and
 * HeartbeatSeconds, the API errors for tokens that are malformed or no longer wanted, and StopExecution while
 * an execution waits (on a token, or in a Wait state).
 *
 * Sources: the developer guide, "Wait for a Callback with Task Token" (the token reaches the worker through
 * `$$.Task.Token` in Parameters; the task waits until SendTaskSuccess/SendTaskFailure, or until it times
 * out), the API reference (SendTaskSuccess/SendTaskFailure/SendTaskHeartbeat: InvalidToken, InvalidOutput,
 * TaskDoesNotExist, TaskTimedOut; "SendTaskHeartbeat does not in itself create an event in the execution
 * history"), and execution histories recorded against AWS and published with LocalStack's tests
 * (`tests/aws/services/stepfunctions/v2/callback/test_callback.snapshot.json`: TaskScheduled, TaskStarted,
 * TaskSubmitted with the service's answer, then TaskSucceeded with the token's output, or TaskFailed with the
 * error and cause sent; `.../timeouts/test_heartbeats.snapshot.json`: a missed heartbeat writes
 * `TaskTimedOut {error: 'States.Timeout'}` and fails the execution with `{error: 'States.Timeout'}`).
 * API error messages follow what AWS answers, e.g. `Task Timed Out: 'Provided task does not exist anymore'`
 * and `Invalid Token: 'Invalid token'`.
 */
import {
  type HistoryEvent,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EmbeddedStepFunctions,
  embeddedStepFunctions,
  eventTypes,
} from '../../testing/step-functions.ts';
import { InProcessIntegrations, type TaskInvocation } from '../integrations.ts';

const QUEUE_WITH_TOKEN = 'arn:aws:states:::sqs:sendMessage.waitForTaskToken';
const PUBLISH_WITH_TOKEN = 'arn:aws:states:::sns:publish.waitForTaskToken';

/** Every `.waitForTaskToken` call the queue integration received, by execution ARN, as they arrive. */
class Inbox {
  readonly #received = new Map<string, TaskInvocation[]>();
  readonly #waiters = new Map<string, Array<(task: TaskInvocation) => void>>();

  deliver(task: TaskInvocation): void {
    const waiting = this.#waiters.get(task.execution.arn)?.shift();
    if (waiting) waiting(task);
    else this.#received.set(task.execution.arn, [...(this.#received.get(task.execution.arn) ?? []), task]);
  }

  /** The next task call of this execution. */
  next(executionArn: string): Promise<TaskInvocation> {
    const queued = this.#received.get(executionArn)?.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => {
      this.#waiters.set(executionArn, [...(this.#waiters.get(executionArn) ?? []), resolve]);
    });
  }
}

const inbox = new Inbox();
let sfn: EmbeddedStepFunctions;

const integrations = new InProcessIntegrations()
  .handle(QUEUE_WITH_TOKEN, (task) => {
    inbox.deliver(task);
    return { MessageId: 'msg-1', MD5OfMessageBody: 'abc' };
  })
  // A fast consumer: the token is answered before the service call has even returned.
  .handle(PUBLISH_WITH_TOKEN, async ({ parameters }) => {
    const message = (parameters as { Message: { token: string; reply: unknown } }).Message;
    await sfn.client.send(
      new SendTaskSuccessCommand({ taskToken: message.token, output: JSON.stringify(message.reply) }),
    );
    return { MessageId: 'published-1' };
  });

beforeAll(async () => {
  sfn = await embeddedStepFunctions({ integrations });
});

afterAll(async () => {
  await sfn.close();
});

// ─── Helpers ─────────────────────────────────────────────────────────────────────────────────────────

/** A machine whose first state sends the token to the queue, then a Pass for the catcher if there is one. */
function awaitingApproval(task: Record<string, unknown> = {}, states: Record<string, object> = {}): object {
  return {
    StartAt: 'Await approval',
    States: {
      'Await approval': {
        Type: 'Task',
        Resource: QUEUE_WITH_TOKEN,
        Parameters: {
          QueueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/approvals',
          MessageBody: { 'TaskToken.$': '$$.Task.Token', 'order.$': '$.order' },
        },
        ...task,
        End: true,
      },
      ...states,
    },
  };
}

async function start(definition: object, input: unknown = { order: 'o-1' }): Promise<string> {
  const stateMachineArn = await sfn.createMachine(definition);
  const started = await sfn.client.send(
    new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }),
  );
  return started.executionArn!;
}

/** Starts the machine and waits until the queue has the task token. */
async function startAndReceive(
  definition: object,
  input?: unknown,
): Promise<{ executionArn: string; token: string; task: TaskInvocation }> {
  const executionArn = await start(definition, input);
  const task = await inbox.next(executionArn);
  const body = (task.parameters as { MessageBody: { TaskToken: string } }).MessageBody;
  return { executionArn, token: body.TaskToken, task };
}

async function apiError(promise: Promise<unknown>): Promise<{ name: string; message: string }> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught as { name: string; message: string },
  );
  expect(error, 'the call should have failed').toBeDefined();
  return { name: error!.name, message: error!.message };
}

function only(history: readonly HistoryEvent[], type: string): HistoryEvent {
  const found = history.filter((event) => event.type === type);
  expect(found, `exactly one ${type}`).toHaveLength(1);
  return found[0]!;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const QUEUE = { resourceType: 'sqs', resource: 'sendMessage.waitForTaskToken' };

// ─── SendTaskSuccess / SendTaskFailure ───────────────────────────────────────────────────────────────

describe('SendTaskSuccess', () => {
  it('hands $$.Task.Token to the service and makes the output sent with it the task result', async () => {
    // Prepare
    const { executionArn, token, task } = await startAndReceive(
      awaitingApproval({ ResultPath: '$.approval' }),
    );

    // Act
    await sfn.client.send(
      new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ approved: true, by: 'ops' }) }),
    );
    const execution = await sfn.waitForEnd(executionArn);
    const history = await sfn.historyOf(executionArn);

    // Assess
    expect(task.taskToken).toBe(token);
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toEqual({ order: 'o-1', approval: { approved: true, by: 'ops' } });
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(history.map((event) => [event.id, event.previousEventId])).toEqual([
      [1, 0],
      [2, 0],
      [3, 2],
      [4, 3],
      [5, 4],
      [6, 5],
      [7, 6],
      [8, 7],
    ]);
    expect(JSON.parse(only(history, 'TaskScheduled').taskScheduledEventDetails!.parameters!)).toEqual({
      QueueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/approvals',
      MessageBody: { TaskToken: token, order: 'o-1' },
    });
    expect(only(history, 'TaskSubmitted').taskSubmittedEventDetails).toEqual({
      ...QUEUE,
      output: JSON.stringify({ MessageId: 'msg-1', MD5OfMessageBody: 'abc' }),
      outputDetails: { truncated: false },
    });
    expect(only(history, 'TaskSucceeded').taskSucceededEventDetails).toEqual({
      ...QUEUE,
      output: JSON.stringify({ approved: true, by: 'ops' }),
      outputDetails: { truncated: false },
    });
  });

  it('records TaskSubmitted before TaskSucceeded when the token is answered before the call returns', async () => {
    // Prepare
    const definition = {
      StartAt: 'Publish',
      States: {
        Publish: {
          Type: 'Task',
          Resource: PUBLISH_WITH_TOKEN,
          Parameters: {
            TopicArn: 'arn:aws:sns:us-east-1:000000000000:t',
            Message: { 'token.$': '$$.Task.Token', reply: 42 },
          },
          End: true,
        },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.output).toBe('42');
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(only(history, 'TaskSubmitted').taskSubmittedEventDetails?.output).toBe(
      '{"MessageId":"published-1"}',
    );
  });

  it('refuses a second answer to the same token: TaskTimedOut', async () => {
    // Prepare
    const { executionArn, token } = await startAndReceive(awaitingApproval());
    await sfn.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '"first"' }));
    await sfn.waitForEnd(executionArn);

    // Act
    const second = await apiError(
      sfn.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '"second"' })),
    );
    const failure = await apiError(
      sfn.client.send(new SendTaskFailureCommand({ taskToken: token, error: 'Late' })),
    );

    // Assess
    const expected = {
      name: 'TaskTimedOut',
      message: "Task Timed Out: 'Provided task does not exist anymore'",
    };
    expect(second).toEqual(expected);
    expect(failure).toEqual(expected);
    const execution = await sfn.waitForEnd(executionArn);
    expect(execution.output).toBe('"first"');
  });

  it.each([{ token: 'not-a-token' }, { token: 'AQ' }, { token: 'AQ%%%%' }])(
    'refuses a malformed token $token: InvalidToken',
    async ({ token }) => {
      // Act
      const error = await apiError(
        sfn.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })),
      );

      // Assess
      expect(error).toEqual({ name: 'InvalidToken', message: "Invalid Token: 'Invalid token'" });
    },
  );

  it('refuses output that is not JSON: InvalidOutput, and the task keeps waiting', async () => {
    // Prepare
    const { executionArn, token } = await startAndReceive(awaitingApproval());

    // Act
    const error = await apiError(
      sfn.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{nope' })),
    );
    await sfn.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"ok":true}' }));
    const execution = await sfn.waitForEnd(executionArn);

    // Assess
    expect(error.name).toBe('InvalidOutput');
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.output).toBe('{"ok":true}');
  });
});

describe('SendTaskFailure', () => {
  it('fails the task with the error and cause sent, and the execution when nothing catches it', async () => {
    // Prepare
    const { executionArn, token } = await startAndReceive(awaitingApproval());

    // Act
    await sfn.client.send(
      new SendTaskFailureCommand({ taskToken: token, error: 'Rejected', cause: 'The meter is not ours' }),
    );
    const execution = await sfn.waitForEnd(executionArn);
    const history = await sfn.historyOf(executionArn);

    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'Rejected', cause: 'The meter is not ours' });
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskFailed',
      'ExecutionFailed',
    ]);
    expect(only(history, 'TaskFailed').taskFailedEventDetails).toEqual({
      ...QUEUE,
      error: 'Rejected',
      cause: 'The meter is not ours',
    });
    expect(only(history, 'ExecutionFailed').executionFailedEventDetails).toEqual({
      error: 'Rejected',
      cause: 'The meter is not ours',
    });
  });

  it('is caught by a Catch on the error sent, with {Error, Cause} as the error output', async () => {
    // Prepare
    const definition = awaitingApproval(
      { Catch: [{ ErrorEquals: ['Rejected'], ResultPath: '$.rejection', Next: 'Refund' }] },
      { Refund: { Type: 'Pass', End: true } },
    );
    const { executionArn, token } = await startAndReceive(definition);

    // Act
    await sfn.client.send(
      new SendTaskFailureCommand({ taskToken: token, error: 'Rejected', cause: 'No credit' }),
    );
    const execution = await sfn.waitForEnd(executionArn);
    const history = await sfn.historyOf(executionArn);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toEqual({
      order: 'o-1',
      rejection: { Error: 'Rejected', Cause: 'No credit' },
    });
    expect(eventTypes(history).slice(4)).toEqual([
      'TaskSubmitted',
      'TaskFailed',
      'TaskStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
  });
});

// ─── Heartbeats and timeouts ─────────────────────────────────────────────────────────────────────────

describe('heartbeats and timeouts', () => {
  it.concurrent('keeps a task alive past HeartbeatSeconds while heartbeats arrive, with no history events for them', async () => {
    // Prepare
    const { executionArn, token } = await startAndReceive(awaitingApproval({ HeartbeatSeconds: 1 }));

    // Act: heartbeats every 400 ms for 1.6 s, more than the 1 s heartbeat window.
    for (let beat = 0; beat < 4; beat += 1) {
      await sleep(400);
      await sfn.client.send(new SendTaskHeartbeatCommand({ taskToken: token }));
    }
    await sfn.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '"done"' }));
    const execution = await sfn.waitForEnd(executionArn);
    const history = await sfn.historyOf(executionArn);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(only(history, 'TaskScheduled').taskScheduledEventDetails).toMatchObject({
      heartbeatInSeconds: 1,
    });
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it.concurrent('times the task out when no heartbeat comes within HeartbeatSeconds: TaskTimedOut, States.Timeout', async () => {
    // Prepare
    const { executionArn, token } = await startAndReceive(
      awaitingApproval({ HeartbeatSeconds: 1, TimeoutSeconds: 60 }),
    );

    // Act
    const execution = await sfn.waitForEnd(executionArn);
    const history = await sfn.historyOf(executionArn);
    const late = await apiError(sfn.client.send(new SendTaskHeartbeatCommand({ taskToken: token })));

    // Assess
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskTimedOut',
      'ExecutionFailed',
    ]);
    expect(only(history, 'TaskTimedOut').taskTimedOutEventDetails).toEqual({
      ...QUEUE,
      error: 'States.Timeout',
    });
    expect(execution.status).toBe('FAILED');
    expect(only(history, 'ExecutionFailed').executionFailedEventDetails).toEqual({
      error: 'States.Timeout',
    });
    expect(late.name).toBe('TaskTimedOut');
  });

  async function heartbeatCaughtBy(errorEquals: string[]): Promise<void> {
    // Prepare
    const definition = awaitingApproval(
      { HeartbeatSeconds: 1, Catch: [{ ErrorEquals: errorEquals, ResultPath: null, Next: 'Escalate' }] },
      { Escalate: { Type: 'Pass', End: true } },
    );
    const { executionArn } = await startAndReceive(definition);

    // Act
    const execution = await sfn.waitForEnd(executionArn);
    const history = await sfn.historyOf(executionArn);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(eventTypes(history).slice(4)).toEqual([
      'TaskSubmitted',
      'TaskTimedOut',
      'TaskStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
  }

  // The developer guide: States.HeartbeatTimeout is "available inside the Catch and Retry fields".
  it.concurrent('lets a catcher on States.HeartbeatTimeout catch a missed heartbeat', async () => {
    await heartbeatCaughtBy(['States.HeartbeatTimeout']);
  });

  it.concurrent('lets a catcher on States.Timeout catch a missed heartbeat too', async () => {
    await heartbeatCaughtBy(['States.Timeout']);
  });

  it.concurrent('times a waiting task out after TimeoutSeconds, however many heartbeats arrive', async () => {
    // Prepare
    const { executionArn, token } = await startAndReceive(awaitingApproval({ TimeoutSeconds: 1 }));

    // Act
    const beats = (async () => {
      for (let beat = 0; beat < 3; beat += 1) {
        await sleep(300);
        await sfn.client.send(new SendTaskHeartbeatCommand({ taskToken: token })).catch(() => undefined);
      }
    })();
    const execution = await sfn.waitForEnd(executionArn);
    await beats;
    const history = await sfn.historyOf(executionArn);
    const late = await apiError(
      sfn.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })),
    );

    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
    expect(only(history, 'TaskTimedOut').taskTimedOutEventDetails).toEqual({
      ...QUEUE,
      error: 'States.Timeout',
    });
    expect(late).toEqual({
      name: 'TaskTimedOut',
      message: "Task Timed Out: 'Provided task does not exist anymore'",
    });
  });
});

// ─── StopExecution while waiting ─────────────────────────────────────────────────────────────────────

describe('StopExecution while waiting', () => {
  it('aborts an execution waiting on a token with the error and cause given; the token then answers TaskTimedOut', async () => {
    // Prepare
    const { executionArn, token, task } = await startAndReceive(awaitingApproval());

    // Act
    await sfn.client.send(
      new StopExecutionCommand({ executionArn, error: 'Cancelled', cause: 'Customer cancelled' }),
    );
    const execution = await sfn.waitForEnd(executionArn);
    const history = await sfn.historyOf(executionArn);
    const late = await apiError(
      sfn.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })),
    );

    // Assess
    expect(execution).toMatchObject({ status: 'ABORTED', error: 'Cancelled', cause: 'Customer cancelled' });
    expect(task.signal.aborted).toBe(true);
    // What AWS writes for the interrupted Task state itself is not asserted; the execution ends with
    // ExecutionAborted and the task never succeeds, fails or exits.
    const types = eventTypes(history);
    expect(types.at(-1)).toBe('ExecutionAborted');
    expect(types).not.toContain('TaskSucceeded');
    expect(types).not.toContain('TaskFailed');
    expect(types).not.toContain('TaskStateExited');
    expect(only(history, 'ExecutionAborted').executionAbortedEventDetails).toEqual({
      error: 'Cancelled',
      cause: 'Customer cancelled',
    });
    expect(late).toEqual({
      name: 'TaskTimedOut',
      message: "Task Timed Out: 'Provided task does not exist anymore'",
    });
  });

  it('aborts an execution sleeping in a Wait state at once', async () => {
    // Prepare
    const definition = {
      StartAt: 'Cool off',
      States: { 'Cool off': { Type: 'Wait', Seconds: 600, Next: 'Vend' }, Vend: { Type: 'Pass', End: true } },
    };
    const executionArn = await start(definition);
    await sleep(50);

    // Act
    await sfn.client.send(
      new StopExecutionCommand({ executionArn, error: 'Cancelled', cause: 'Changed my mind' }),
    );
    const execution = await sfn.waitForEnd(executionArn);
    const history = await sfn.historyOf(executionArn);

    // Assess
    expect(execution).toMatchObject({ status: 'ABORTED', error: 'Cancelled', cause: 'Changed my mind' });
    const types = eventTypes(history);
    expect(types.slice(0, 2)).toEqual(['ExecutionStarted', 'WaitStateEntered']);
    expect(types.at(-1)).toBe('ExecutionAborted');
    expect(types).not.toContain('WaitStateExited');
    expect(types).not.toContain('PassStateEntered');
    expect(only(history, 'ExecutionAborted').executionAbortedEventDetails).toEqual({
      error: 'Cancelled',
      cause: 'Changed my mind',
    });
  });

  it('aborts without error or cause when none are given', async () => {
    // Prepare
    const { executionArn } = await startAndReceive(awaitingApproval());

    // Act
    await sfn.client.send(new StopExecutionCommand({ executionArn }));
    const execution = await sfn.waitForEnd(executionArn);
    const history = await sfn.historyOf(executionArn);

    // Assess
    expect(execution.status).toBe('ABORTED');
    expect(execution.error).toBeUndefined();
    expect(execution.cause).toBeUndefined();
    expect(only(history, 'ExecutionAborted').executionAbortedEventDetails ?? {}).toEqual({});
  });
});

/**
 * The whole embedded AWS killed with SIGKILL while state machines run through Lambda, an SQS task-token round
 * trip answered by a queue-fed Lambda, and SNS: after restarts, every acknowledged execution finishes, once,
 * with a sound history, and every alert was published — at least once, as SNS itself promises. The queue-fed
 * worker must settle each message on its own: a message it answered just before a kill comes back (SQS delivers
 * at least once) with its task closed, and must not hold back the messages batched with it.
 */
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SendTaskSuccessCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedAws } from './embedded-aws.ts';
import { SnsEngine } from './sns/sns-engine.ts';
import { ChildProcesses } from './testing/child-processes.ts';
import { expectWellFormedHistory } from './testing/history-checks.ts';
import { sfnClient } from './testing/step-functions.ts';

const FIXTURE = 'local/testing/fixtures/full-aws-process.ts';
const HANDLERS = 'local/testing/fixtures/integration-handlers.ts';
const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:on-call';
const VEND_QUEUE_ARN = 'arn:aws:sqs:us-east-1:000000000000:vend-requests';
const processes = new ChildProcesses();

afterEach(() => processes.killAll());
afterAll(() => processes.removeTempDirs());

const PAYMENT_LIKE = (queueUrl: string) => ({
  StartAt: 'Charge',
  States: {
    Charge: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: 'charge', Payload: { 'id.$': '$$.Execution.Name' } },
      ResultSelector: { 'attempt.$': '$.Payload.attempt' },
      ResultPath: '$.charge',
      Next: 'Vend',
    },
    Vend: {
      Type: 'Task',
      Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
      Parameters: {
        QueueUrl: queueUrl,
        MessageBody: { 'taskToken.$': '$$.Task.Token', 'meterId.$': '$$.Execution.Name' },
      },
      TimeoutSeconds: 120,
      ResultPath: '$.vend',
      Next: 'Alert',
    },
    Alert: {
      Type: 'Task',
      Resource: 'arn:aws:states:::sns:publish',
      Parameters: { TopicArn: TOPIC_ARN, Message: { 'paymentId.$': '$$.Execution.Name' } },
      ResultPath: null,
      End: true,
    },
  },
});

async function start(
  dataDir: string,
): Promise<{ client: SFNClient; endpoint: string; kill(): Promise<void> }> {
  const running = await processes.start(FIXTURE, [dataDir]);
  const client = sfnClient(running.value);
  return {
    client,
    endpoint: running.value,
    async kill() {
      client.destroy();
      await running.kill();
    },
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The execution's status once it has left RUNNING, or RUNNING after `timeoutMs`. The default is a minute: a
 * task-token message a killed process had received comes back after its visibility timeout.
 */
async function waitUntilEnded(client: SFNClient, executionArn: string, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status } = await client.send(new DescribeExecutionCommand({ executionArn }));
    if (status !== 'RUNNING' || Date.now() >= deadline) return status!;
    await pause(100);
  }
}

/** The execution's history once it holds an event of `type`. */
async function historyWith(client: SFNClient, executionArn: string, type: string): Promise<HistoryEvent[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { events = [] } = await client.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }),
    );
    if (events.some((event) => event.type === type)) return events;
    if (Date.now() >= deadline) throw new Error(`no ${type} in the history of ${executionArn}`);
    await pause(50);
  }
}

/** Messages still in the queue (visible or in flight) once it is empty, or after `timeoutMs`. */
async function messagesLeft(sqs: SQSClient, queueUrl: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Attributes: counts = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    const left =
      Number(counts.ApproximateNumberOfMessages) + Number(counts.ApproximateNumberOfMessagesNotVisible);
    if (left === 0 || Date.now() >= deadline) return left;
    await pause(100);
  }
}

describe('the whole embedded AWS survives kill -9', () => {
  it('finishes every acknowledged execution through Lambda, SQS task tokens and SNS after repeated crashes', {
    timeout: 90_000,
  }, async () => {
    // Prepare
    const dataDir = processes.tempDir('embedded-aws-crash-');
    let aws = await start(dataDir);
    const { stateMachineArn } = await aws.client.send(
      new CreateStateMachineCommand({
        name: 'payment-like',
        definition: JSON.stringify(PAYMENT_LIKE(`${aws.endpoint}/000000000000/vend-requests`)),
        roleArn: 'arn:aws:iam::000000000000:role/test',
      }),
    );
    const acknowledged: string[] = [];
    const killedAfter: number[] = [];

    // Act: three rounds of starting executions and killing the process at once, mid-flow
    for (let round = 0; round < 3; round += 1) {
      for (let n = 0; n < 8; n += 1) {
        const { executionArn } = await aws.client.send(
          new StartExecutionCommand({ stateMachineArn, name: `pay-${round}-${n}`, input: '{}' }),
        );
        acknowledged.push(executionArn!);
      }
      const delay = 50 + round * 150;
      killedAfter.push(delay);
      await pause(delay);
      await aws.kill();
      aws = await start(dataDir);
    }
    const statuses = [];
    for (const executionArn of acknowledged) statuses.push(await waitUntilEnded(aws.client, executionArn));
    const histories = [];
    for (const executionArn of acknowledged) {
      const { events } = await aws.client.send(
        new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }),
      );
      histories.push(events ?? []);
    }
    await aws.kill();
    const sns = await SnsEngine.open({ dataDir });
    const published = sns
      .published(TOPIC_ARN)
      .map((message) => (JSON.parse(message.message) as { paymentId: string }).paymentId);
    await sns.close();

    // Assess
    const context = `killed after ${killedAfter.join('/')} ms`;
    expect(statuses, context).toEqual(acknowledged.map(() => 'SUCCEEDED'));
    for (const history of histories) expectWellFormedHistory(history);
    const names = acknowledged.map((arn) => arn.split(':').at(-1)!);
    // Every alert went out; a publish in flight at a crash may go out twice, as SNS allows.
    expect(new Set(published), context).toEqual(new Set(names));
  });

  it('answers the rest of a batch redelivered after a crash whose first task the killed worker had answered', {
    timeout: 60_000,
  }, async () => {
    // Prepare: what a kill -9 in the middle of the token worker's batch leaves behind. The worker had answered
    // the first message's token and died before the batch was deleted: both messages come back together, the
    // answered one first, its task closed (SendTaskSuccess now says TaskTimedOut, as on AWS).
    const aws = await startEmbeddedAws({
      port: 0,
      dataDir: null,
      functions: (endpoint) => [
        { name: 'charge', handler: `${HANDLERS}#flaky` },
        {
          name: 'token-worker',
          handler: `${HANDLERS}#tokenWorker`,
          timeoutSeconds: 10,
          environment: { AWS_ENDPOINT_URL: endpoint },
        },
      ],
    });
    const client = sfnClient(aws.endpoint);
    const sqs = new SQSClient({
      endpoint: aws.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    try {
      // Longer than the waits below: a batch the worker failed cannot come back (in another order) in time.
      const { QueueUrl: queueUrl = '' } = await sqs.send(
        new CreateQueueCommand({ QueueName: 'vend-requests', Attributes: { VisibilityTimeout: '30' } }),
      );
      aws.sns.createTopic('on-call');
      const { stateMachineArn } = await client.send(
        new CreateStateMachineCommand({
          name: 'payment-like',
          definition: JSON.stringify(PAYMENT_LIKE(queueUrl)),
          roleArn: 'arn:aws:iam::000000000000:role/test',
        }),
      );
      const executions: string[] = [];
      for (const name of ['answered', 'pending']) {
        const { executionArn } = await client.send(
          new StartExecutionCommand({ stateMachineArn, name, input: '{}' }),
        );
        // One after the other, so the answered one's message is first in the queue.
        await historyWith(client, executionArn!, 'TaskSubmitted');
        executions.push(executionArn!);
      }
      const [answered, pending] = executions as [string, string];
      const scheduled = (await historyWith(client, answered, 'TaskSubmitted')).find(
        (event) => event.type === 'TaskScheduled' && event.taskScheduledEventDetails?.resourceType === 'sqs',
      );
      const { MessageBody } = JSON.parse(scheduled!.taskScheduledEventDetails!.parameters!) as {
        MessageBody: { taskToken: string };
      };
      await client.send(new SendTaskSuccessCommand({ taskToken: MessageBody.taskToken, output: '{}' }));
      expect(await waitUntilEnded(client, answered, 20_000)).toBe('SUCCEEDED');

      // Act: the worker's pollers start, and the first receive takes both messages as one batch
      await aws.eventSourceMappings.create({
        functionName: 'token-worker',
        queueArn: VEND_QUEUE_ARN,
        functionResponseTypes: ['ReportBatchItemFailures'],
      });

      // Assess: the open task is answered, and the closed one's message is deleted rather than handed out
      // again and again, holding back whatever is batched with it
      expect(await waitUntilEnded(client, pending, 20_000)).toBe('SUCCEEDED');
      expect(await messagesLeft(sqs, queueUrl, 20_000)).toBe(0);
    } finally {
      client.destroy();
      sqs.destroy();
      await aws.close();
    }
  });
});

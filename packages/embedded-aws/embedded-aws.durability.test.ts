/**
 * The whole embedded AWS killed with SIGKILL while state machines run through Lambda, an SQS task-token round
 * trip answered by a queue-fed Lambda, and SNS: after restarts, every acknowledged execution finishes, once,
 * with a sound history, and every alert was published — at least once, as SNS itself promises. The queue-fed
 * worker must settle each message on its own: a message it answered just before a kill comes back (SQS delivers
 * at least once) with its task closed, and must not hold back the messages batched with it.
 */
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { startEmbeddedAws } from './embedded-aws.ts';
import { SnsEngine } from './sns/sns-engine.ts';
import { crashTestEach } from './testing/crash-test.ts';
import { historyWith, pause, waitForEnd } from './testing/execution-waits.ts';
import { fixtureBundle } from './testing/fixture-bundles.ts';
import { expectWellFormedHistory } from './testing/history-checks.ts';
import { packagePath } from './testing/package-path.ts';
import { createStateMachine, sfnClient, startExecution } from './testing/step-functions.ts';

const HANDLERS = packagePath('testing/fixtures/integration-handlers.ts');
const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:on-call';
const VEND_QUEUE_ARN = 'arn:aws:sqs:us-east-1:000000000000:vend-requests';
/** A task-token message a killed process had received comes back only after its visibility timeout. */
const AFTER_REDELIVERY = { timeoutMs: 60_000 };
/** Long enough for one execution of a few states to reach the point awaited, on a busy machine. */
const SOON = { timeoutMs: 20_000 };

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
  const test = crashTestEach({
    fixture: packagePath('testing/fixtures/full-aws-process.ts'),
    dataDirPrefix: 'embedded-aws-crash-',
    fixtureArguments: async () => [await fixtureBundle(HANDLERS)],
  });

  test('finishes every acknowledged execution through Lambda, SQS task tokens and SNS after repeated crashes', {
    timeout: 90_000,
  }, async ({ aws }) => {
    // Prepare
    await aws.start();
    const stateMachineArn = await aws.createMachine(
      PAYMENT_LIKE(`${aws.endpoint}/000000000000/vend-requests`),
      { name: 'payment-like' },
    );
    const acknowledged: string[] = [];
    const killedAfter: number[] = [];

    // Act: three rounds of starting executions and killing the process at once, mid-flow
    for (let round = 0; round < 3; round += 1) {
      for (let n = 0; n < 8; n += 1) {
        acknowledged.push(await aws.startExecution(stateMachineArn, {}, { name: `pay-${round}-${n}` }));
      }
      const delay = 50 + round * 150;
      killedAfter.push(delay);
      await pause(delay);
      await aws.crashAndRestart();
    }
    const statuses = [];
    for (const executionArn of acknowledged)
      statuses.push((await aws.waitForEnd(executionArn, AFTER_REDELIVERY)).status);
    const histories = [];
    for (const executionArn of acknowledged) histories.push(await aws.historyOf(executionArn));
    await aws.kill();
    const sns = await SnsEngine.open({ dataDir: aws.dataDir });
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
    const inProcessAws = await startEmbeddedAws({
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
    const client = sfnClient(inProcessAws.endpoint);
    const sqs = new SQSClient({
      endpoint: inProcessAws.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    try {
      // Longer than the waits below: a batch the worker failed cannot come back (in another order) in time.
      const { QueueUrl: queueUrl = '' } = await sqs.send(
        new CreateQueueCommand({ QueueName: 'vend-requests', Attributes: { VisibilityTimeout: '30' } }),
      );
      inProcessAws.sns.createTopic('on-call');
      const stateMachineArn = await createStateMachine(client, PAYMENT_LIKE(queueUrl), {
        name: 'payment-like',
      });
      const executions: string[] = [];
      for (const name of ['answered', 'pending']) {
        const executionArn = await startExecution(client, stateMachineArn, {}, { name });
        // One after the other, so the answered one's message is first in the queue.
        await historyWith(client, executionArn, 'TaskSubmitted', 1, SOON);
        executions.push(executionArn);
      }
      const [answered, pending] = executions as [string, string];
      const scheduled = (await historyWith(client, answered, 'TaskSubmitted', 1, SOON)).find(
        (event) => event.type === 'TaskScheduled' && event.taskScheduledEventDetails?.resourceType === 'sqs',
      );
      const { MessageBody } = JSON.parse(scheduled!.taskScheduledEventDetails!.parameters!) as {
        MessageBody: { taskToken: string };
      };
      await client.send(new SendTaskSuccessCommand({ taskToken: MessageBody.taskToken, output: '{}' }));
      expect((await waitForEnd(client, answered, SOON)).status).toBe('SUCCEEDED');

      // Act: the worker's pollers start, and the first receive takes both messages as one batch
      await inProcessAws.eventSourceMappings.create({
        functionName: 'token-worker',
        queueArn: VEND_QUEUE_ARN,
        functionResponseTypes: ['ReportBatchItemFailures'],
      });

      // Assess: the open task is answered, and the closed one's message is deleted rather than handed out
      // again and again, holding back whatever is batched with it
      expect((await waitForEnd(client, pending, SOON)).status).toBe('SUCCEEDED');
      expect(await messagesLeft(sqs, queueUrl, 20_000)).toBe(0);
    } finally {
      client.destroy();
      sqs.destroy();
      await inProcessAws.close();
    }
  });
});

/**
 * The whole embedded AWS killed with SIGKILL while state machines run through Lambda, an SQS task-token round
 * trip answered by a queue-fed Lambda, and SNS: after restarts, every acknowledged execution finishes, once,
 * with a sound history, and every alert was published — at least once, as SNS itself promises.
 */
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SnsEngine } from './sns/sns-engine.ts';
import { ChildProcesses } from './testing/child-processes.ts';
import { expectWellFormedHistory } from './testing/history-checks.ts';
import { sfnClient } from './testing/step-functions.ts';

const FIXTURE = 'local/testing/fixtures/full-aws-process.ts';
const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:on-call';
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

async function waitUntilEnded(client: SFNClient, executionArn: string): Promise<string> {
  // Up to a minute: a task-token message a killed process had received comes back after its visibility timeout.
  for (let poll = 0; poll < 600; poll += 1) {
    const { status } = await client.send(new DescribeExecutionCommand({ executionArn }));
    if (status !== 'RUNNING') return status!;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return 'RUNNING';
}

describe('the whole embedded AWS survives kill -9', () => {
  // Known flaky under a fully loaded machine (issue #12): about one run in six of the whole suite here ends with one
  // execution still RUNNING after the wait. Until its cause is found, one retry on a fresh data directory keeps CI
  // from failing on it; a failure of both runs is still a failure.
  it('finishes every acknowledged execution through Lambda, SQS task tokens and SNS after repeated crashes', {
    retry: 1,
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
      await new Promise((resolve) => setTimeout(resolve, delay));
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
});

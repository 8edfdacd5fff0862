/**
 * Nothing the embedded AWS resumes after a restart calls a function before it is registered: executions
 * that were calling Lambda when the process stopped resume only once `startEmbeddedAws`'s `functions` are
 * registered and its `beforeResume` has run, and a restored event source mapping leaves its queue alone
 * until its function is registered. (Closing without finishing leaves an in-flight call journaled as a
 * kill -9 does; the crash tests of `system/` kill a real process.)
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { type EmbeddedAws, startEmbeddedAws } from '../../embedded-aws.ts';
import { packagePath } from '../../testing/package-path.ts';
import { sfnClient } from '../../testing/step-functions.ts';
import { received } from '../fixtures/handlers.ts';

const HANDLERS = packagePath('lambda/fixtures/handlers.ts');
const RECORDER = `${packagePath('lambda/fixtures/recorder.ts')}#handler`;
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const dirs: string[] = [];

beforeEach(() => {
  received.length = 0;
});

afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'registration-order-'));
  dirs.push(dir);
  return dir;
}

function sqsClient(endpoint: string): SQSClient {
  return new SQSClient({ endpoint, region: 'us-east-1', credentials: CREDENTIALS });
}

async function until(check: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
}

/**
 * Leaves, in `dataDir`, an execution whose Task was calling the function `work` when the embedded AWS
 * stopped; returns the execution's ARN.
 */
async function stopWithCallInFlight(dataDir: string): Promise<string> {
  const aws = await startEmbeddedAws({
    port: 0,
    dataDir,
    functions: [{ name: 'work', handler: `${HANDLERS}#hang`, timeoutSeconds: 120 }],
  });
  const sfn = sfnClient(aws.endpoint);
  try {
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({
        name: 'calls-work',
        definition: JSON.stringify({
          StartAt: 'Work',
          States: {
            Work: {
              Type: 'Task',
              Resource: 'arn:aws:states:::lambda:invoke',
              Parameters: { FunctionName: 'work', 'Payload.$': '$' },
              End: true,
            },
          },
        }),
        roleArn: 'arn:aws:iam::000000000000:role/test',
      }),
    );
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, input: '{"meterId":"1200000000011"}' }),
    );
    await until(async () => {
      const { events = [] } = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
      return events.some((event) => event.type === 'TaskStarted');
    });
    return executionArn!;
  } finally {
    sfn.destroy();
    await aws.close();
  }
}

async function ended(sfn: SFNClient, executionArn: string) {
  let execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  while (execution.status === 'RUNNING') {
    await new Promise((resolve) => setTimeout(resolve, 20));
    execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  }
  return execution;
}

describe('starting the embedded AWS on a kept data directory', () => {
  it('resumes a Lambda call into the functions given to start, whose environment may name the endpoint', async () => {
    // Prepare
    const dataDir = tempDir();
    const executionArn = await stopWithCallInFlight(dataDir);

    // Act
    const aws = await startEmbeddedAws({
      port: 0,
      dataDir,
      functions: (endpoint) => [
        { name: 'work', handler: `${HANDLERS}#echo`, environment: { GREETING: endpoint } },
      ],
    });
    const sfn = sfnClient(aws.endpoint);
    const execution = await ended(sfn, executionArn).finally(() => sfn.destroy());
    await aws.close();

    // Assess
    expect(execution.status, execution.cause).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output ?? '{}').Payload).toMatchObject({
      event: { meterId: '1200000000011' },
      greeting: aws.endpoint,
    });
  }, 60_000);

  it('runs beforeResume with the functions registered and SQS answering, before any execution resumes', async () => {
    // Prepare
    const dataDir = tempDir();
    const outFile = join(dataDir, 'work-calls.jsonl');
    const executionArn = await stopWithCallInFlight(dataDir);
    let seen: { registered: boolean; calledYet: boolean; queueUrl: string | undefined } | undefined;

    // Act
    const aws = await startEmbeddedAws({
      port: 0,
      dataDir,
      functions: [{ name: 'work', handler: RECORDER, environment: { OUT_FILE: outFile } }],
      beforeResume: async ({ endpoint, lambda }) => {
        const sqs = sqsClient(endpoint);
        const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'made-before-resume' }));
        sqs.destroy();
        seen = {
          registered: lambda.registry.get('work') !== undefined,
          calledYet: existsSync(outFile),
          queueUrl: QueueUrl,
        };
      },
    });
    const sfn = sfnClient(aws.endpoint);
    const execution = await ended(sfn, executionArn).finally(() => sfn.destroy());
    await aws.close();

    // Assess
    expect(seen).toEqual({
      registered: true,
      calledYet: false,
      queueUrl: `${aws.endpoint}/000000000000/made-before-resume`,
    });
    expect(execution.status, execution.cause).toBe('SUCCEEDED');
    expect(readFileSync(outFile, 'utf8').trim().split('\n')).toHaveLength(1);
  }, 60_000);

  it('leaves a restored event source mapping’s queue alone until its function is registered', async () => {
    // Prepare: a mapping, kept in the data directory, for a function the next start does not register
    const dataDir = tempDir();
    const queueArn = 'arn:aws:sqs:us-east-1:000000000000:vend-requests';
    const first = await startEmbeddedAws({
      port: 0,
      dataDir,
      functions: [{ name: 'consumer', handler: `${HANDLERS}#sqsConsumer` }],
    });
    const firstSqs = sqsClient(first.endpoint);
    await firstSqs.send(new CreateQueueCommand({ QueueName: 'vend-requests' }));
    firstSqs.destroy();
    await first.eventSourceMappings.create({ functionName: 'consumer', queueArn });
    await first.close();
    const aws: EmbeddedAws = await startEmbeddedAws({ port: 0, dataDir });
    const sqs = sqsClient(aws.endpoint);

    // Act: a message waits while the function is missing (the pollers look once a second), then it appears
    await sqs.send(
      new SendMessageCommand({ QueueUrl: `${aws.endpoint}/000000000000/vend-requests`, MessageBody: 'm-1' }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    aws.lambda.register({ name: 'consumer', handler: `${HANDLERS}#sqsConsumer` });
    await until(() => received.length > 0);
    sqs.destroy();
    await aws.close();

    // Assess: received once, by the function: a receive while it was missing would have counted too
    expect(received.flatMap((event) => event.Records)).toEqual([
      expect.objectContaining({
        body: 'm-1',
        attributes: expect.objectContaining({ ApproximateReceiveCount: '1' }),
      }),
    ]);
  }, 60_000);
});

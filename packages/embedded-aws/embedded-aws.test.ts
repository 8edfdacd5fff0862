/**
 * The embedded AWS as a whole: state machines that reach Lambda, SQS (task tokens answered by a queue-fed
 * Lambda), SNS and the Data API, all through the real SDK v3 clients, as the payments system will.
 */
import {
  BeginTransactionCommand,
  ExecuteStatementCommand,
  RDSDataClient,
  RollbackTransactionCommand,
} from '@aws-sdk/client-rds-data';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedAws, startEmbeddedAws } from './embedded-aws.ts';
import { packagePath } from './testing/package-path.ts';
import { eventTypes, sfnClient } from './testing/step-functions.ts';

const HANDLERS = packagePath('testing/fixtures/integration-handlers.ts');
const ACCOUNT = '000000000000';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

let aws: EmbeddedAws;
let sfn: SFNClient;
let sqs: SQSClient;
let machines = 0;

beforeAll(async () => {
  aws = await startEmbeddedAws({
    port: 0,
    dataDir: null,
    functions: [
      { name: 'flaky', handler: `${HANDLERS}#flaky` },
      { name: 'token-worker', handler: `${HANDLERS}#tokenWorker`, timeoutSeconds: 10 },
      { name: 'always-fails', handler: `${HANDLERS}#alwaysFails`, timeoutSeconds: 1 },
    ],
  });
  // The queue-fed worker answers task tokens through the SDK, pointed at the embedded AWS.
  process.env.AWS_ENDPOINT_URL = aws.endpoint;
  sfn = sfnClient(aws.endpoint);
  sqs = new SQSClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials: CREDENTIALS });
});

afterAll(async () => {
  sfn.destroy();
  sqs.destroy();
  await aws.close();
  delete process.env.AWS_ENDPOINT_URL;
});

async function run(definition: object, input: unknown = {}) {
  machines += 1;
  const { stateMachineArn } = await sfn.send(
    new CreateStateMachineCommand({
      name: `integration-${machines}`,
      definition: JSON.stringify(definition),
      roleArn: `arn:aws:iam::${ACCOUNT}:role/test`,
    }),
  );
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }),
  );
  await aws.stepFunctions.finished(executionArn!);
  const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  return { execution, history: events ?? [], output: JSON.parse(execution.output ?? 'null') as unknown };
}

function detailsOf(history: HistoryEvent[], type: string): Record<string, unknown>[] {
  return history
    .filter((event) => event.type === type)
    .map(
      (event) =>
        Object.values(event).find(
          (value) => value !== null && typeof value === 'object' && !(value instanceof Date),
        ) as Record<string, unknown>,
    );
}

describe('Lambda tasks', () => {
  it('retries a function error by its errorType, then succeeds, with the Lambda error payload as the cause', async () => {
    // Prepare
    const definition = {
      StartAt: 'Call',
      States: {
        Call: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'flaky', Payload: { id: 'retry-1', failTimes: 2 } },
          OutputPath: '$.Payload',
          Retry: [
            {
              ErrorEquals: ['DownstreamUnavailableError'],
              IntervalSeconds: 1,
              BackoffRate: 1,
              MaxAttempts: 3,
            },
          ],
          End: true,
        },
      },
    };

    // Act
    const { execution, history, output } = await run(definition);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(output).toEqual({ id: 'retry-1', attempt: 3 });
    const failures = detailsOf(history, 'TaskFailed');
    expect(failures.map((failure) => failure.error)).toEqual([
      'DownstreamUnavailableError',
      'DownstreamUnavailableError',
    ]);
    expect(JSON.parse(failures[0]!.cause as string)).toMatchObject({
      errorType: 'DownstreamUnavailableError',
      errorMessage: 'attempt 1 for retry-1 failed',
    });
    const succeeded = JSON.parse(detailsOf(history, 'TaskSucceeded')[0]!.output as string);
    expect(succeeded).toMatchObject({
      ExecutedVersion: '$LATEST',
      StatusCode: 200,
      Payload: { id: 'retry-1', attempt: 3 },
    });
  });

  it('sends an error no Retry matches straight to the Catch', async () => {
    // Prepare
    const definition = {
      StartAt: 'Call',
      States: {
        Call: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'flaky', Payload: { id: 'reject-1', reject: true } },
          Retry: [{ ErrorEquals: ['DownstreamUnavailableError'], MaxAttempts: 3 }],
          Catch: [{ ErrorEquals: ['RequestRejectedError'], ResultPath: '$.error', Next: 'Rejected' }],
          End: true,
        },
        Rejected: { Type: 'Pass', End: true },
      },
    };

    // Act
    const { execution, history, output } = await run(definition);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(eventTypes(history).filter((type) => type === 'TaskScheduled')).toHaveLength(1);
    expect((output as { error: { Error: string } }).error.Error).toBe('RequestRejectedError');
  });

  it('calls a bare function ARN with the state input and records LambdaFunction events', async () => {
    // Prepare
    const definition = {
      StartAt: 'Call',
      States: {
        Call: { Type: 'Task', Resource: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:flaky`, End: true },
      },
    };

    // Act
    const { execution, history, output } = await run(definition, { id: 'bare-1' });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(output).toEqual({ id: 'bare-1', attempt: 1 });
    expect(eventTypes(history)).toContain('LambdaFunctionSucceeded');
  });

  it('fails a task naming a function that does not exist with Lambda.ResourceNotFoundException', async () => {
    // Prepare
    const definition = {
      StartAt: 'Call',
      States: {
        Call: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'nobody' },
          End: true,
        },
      },
    };

    // Act
    const { execution } = await run(definition);

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('Lambda.ResourceNotFoundException');
  });
});

describe('SQS with task tokens, answered by a queue-fed Lambda', () => {
  let queueUrl: string;

  beforeAll(async () => {
    ({ QueueUrl: queueUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: 'vend-requests' })));
    await aws.eventSourceMappings.create({
      functionName: 'token-worker',
      queueArn: `arn:aws:sqs:us-east-1:${ACCOUNT}:vend-requests`,
      batchSize: 5,
      functionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  const definition = () => ({
    StartAt: 'Vend',
    States: {
      Vend: {
        Type: 'Task',
        Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
        Parameters: {
          QueueUrl: queueUrl,
          MessageBody: { 'taskToken.$': '$$.Task.Token', 'meterId.$': '$.meterId', 'outcome.$': '$.outcome' },
        },
        TimeoutSeconds: 30,
        Catch: [{ ErrorEquals: ['VendRejected'], ResultPath: '$.error', Next: 'Rejected' }],
        End: true,
      },
      Rejected: { Type: 'Pass', End: true },
    },
  });

  it('completes the task with the worker SendTaskSuccess output', async () => {
    // Act
    const { execution, history, output } = await run(definition(), { meterId: 'M-1', outcome: 'vend' });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(output).toEqual({ credited: 'M-1' });
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
    const submitted = JSON.parse(detailsOf(history, 'TaskSubmitted')[0]!.output as string);
    expect(submitted).toMatchObject({ MessageId: expect.any(String), MD5OfMessageBody: expect.any(String) });
  });

  it('catches the worker SendTaskFailure by its error name', async () => {
    // Act
    const { execution, output } = await run(definition(), { meterId: 'M-2', outcome: 'reject' });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect((output as { error: unknown }).error).toEqual({ Error: 'VendRejected', Cause: 'meter M-2' });
  });
});

describe('dead-letter queues', () => {
  it('moves a message its consumer keeps failing to the dead-letter queue after maxReceiveCount', async () => {
    // Prepare
    const { QueueUrl: deadLetterUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'poison-dlq' }));
    await sqs.send(
      new CreateQueueCommand({
        QueueName: 'poison',
        Attributes: {
          VisibilityTimeout: '1',
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: `arn:aws:sqs:us-east-1:${ACCOUNT}:poison-dlq`,
            maxReceiveCount: 2,
          }),
        },
      }),
    );
    await aws.eventSourceMappings.create({
      functionName: 'always-fails',
      queueArn: `arn:aws:sqs:us-east-1:${ACCOUNT}:poison`,
    });
    const { QueueUrl: poisonUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'poison' }));

    // Act
    await sqs.send(new SendMessageCommand({ QueueUrl: poisonUrl, MessageBody: 'cannot be processed' }));
    let dead: string | undefined;
    for (let poll = 0; poll < 10 && dead === undefined; poll += 1) {
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: deadLetterUrl,
          WaitTimeSeconds: 2,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      dead = received.Messages?.[0]?.Body;
    }

    // Assess
    expect(dead).toBe('cannot be processed');
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: poisonUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(attributes.Attributes?.ApproximateNumberOfMessages).toBe('0');
  });
});

describe('SNS and aws-sdk integrations', () => {
  it('publishes to a topic with sns:publish, once', async () => {
    // Prepare
    const { topicArn } = aws.sns.createTopic('on-call');
    const definition = {
      StartAt: 'Alert',
      States: {
        Alert: {
          Type: 'Task',
          Resource: 'arn:aws:states:::sns:publish',
          Parameters: {
            TopicArn: topicArn,
            Subject: 'Vend failed',
            Message: { 'paymentId.$': '$.paymentId' },
          },
          End: true,
        },
      },
    };

    // Act
    const { execution } = await run(definition, { paymentId: 'p-42' });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    const published = aws.sns.published(topicArn);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ subject: 'Vend failed', message: '{"paymentId":"p-42"}' });
  });

  it('sends through aws-sdk:sqs:sendMessage and names SDK errors after the service', async () => {
    // Prepare
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'sdk-integration' }));
    const definition = {
      StartAt: 'Send',
      States: {
        Send: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:sqs:sendMessage',
          Parameters: { 'QueueUrl.$': '$.queueUrl', MessageBody: 'hello' },
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed' }],
          End: true,
        },
        Failed: { Type: 'Pass', End: true },
      },
    };

    // Act
    const sent = await run(definition, { queueUrl: QueueUrl });
    const missing = await run(definition, { queueUrl: `${aws.endpoint}/${ACCOUNT}/no-such-queue` });

    // Assess
    expect(sent.execution.status).toBe('SUCCEEDED');
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
    expect(received.Messages?.map((message) => message.Body)).toEqual(['hello']);
    expect((missing.output as { error: { Error: string } }).error.Error).toBe('Sqs.QueueDoesNotExist');
  });
});

describe('RDS Data API', () => {
  it('rolls a transaction back: its rows are gone', async () => {
    // Prepare
    const rds = new RDSDataClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials: CREDENTIALS });
    const target = {
      resourceArn: `arn:aws:rds:us-east-1:${ACCOUNT}:cluster:payments`,
      secretArn: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:payments`,
    };
    await rds.send(
      new ExecuteStatementCommand({ ...target, sql: 'CREATE TABLE ledger (id text PRIMARY KEY)' }),
    );

    // Act
    const { transactionId } = await rds.send(new BeginTransactionCommand(target));
    await rds.send(
      new ExecuteStatementCommand({
        ...target,
        transactionId,
        sql: 'INSERT INTO ledger (id) VALUES (:id)',
        parameters: [{ name: 'id', value: { stringValue: 'p-1' } }],
      }),
    );
    await rds.send(new RollbackTransactionCommand({ ...target, transactionId }));
    const counted = await rds.send(
      new ExecuteStatementCommand({ ...target, sql: 'SELECT count(*) AS n FROM ledger' }),
    );

    // Assess
    expect(counted.records).toEqual([[{ longValue: 0 }]]);
    rds.destroy();
  }, 30_000);
});

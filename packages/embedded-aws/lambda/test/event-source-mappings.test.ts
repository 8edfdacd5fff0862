/**
 * SQS event source mappings against a small fake SQS through the real `@aws-sdk/client-sqs`: what the
 * function receives, what gets deleted, what comes back, and Lambda's refusals when creating a mapping.
 */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AwsError } from '../../aws/errors.ts';
import { packagePath } from '../../testing/package-path.ts';
import { EventSourceMappings } from '../event-source-mappings.ts';
import { inFlight, received } from '../fixtures/handlers.ts';
import { LambdaRunner } from '../lambda-runner.ts';
import { type FakeSqs, sqsClient, startFakeSqs } from './fake-sqs.ts';

const HANDLERS = packagePath('lambda/fixtures/handlers.ts');
const ARN_PREFIX = 'arn:aws:sqs:us-east-1:000000000000:';

let sqs: FakeSqs;
let client: SQSClient;
let runner: LambdaRunner;
let mappings: EventSourceMappings;
let queueCounter = 0;

beforeEach(async () => {
  sqs = await startFakeSqs();
  client = sqsClient(sqs.endpoint);
  runner = new LambdaRunner({ region: 'us-east-1', accountId: '000000000000' });
  runner.register({ name: 'consumer', handler: `${HANDLERS}#sqsConsumer` });
  mappings = await EventSourceMappings.open({
    dataDir: null,
    runner,
    sqsEndpoint: sqs.endpoint,
    pollersPerMapping: 1,
    logger: { warn: () => {}, error: () => {} },
  });
  received.length = 0;
});

afterEach(async () => {
  await mappings.close();
  client.destroy();
  await sqs.close();
  await runner.close();
});

async function newQueue(
  attributes: Record<string, string> = {},
): Promise<{ url: string; arn: string; name: string }> {
  queueCounter += 1;
  const name = `queue-${queueCounter}`;
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  return { url: QueueUrl!, arn: `${ARN_PREFIX}${name}`, name };
}

async function counts(url: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
  );
  return {
    visible: Number(Attributes?.ApproximateNumberOfMessages),
    inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible),
  };
}

/** Waits (without asserting on time) until `check` passes; the test's own timeout bounds it. */
async function eventually(check: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('SQS event source mappings', () => {
  it('invokes the function with the SQS event Lambda builds, then deletes the batch', async () => {
    // Prepare
    const queue = await newQueue();
    const sent = await client.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: '{"meter":"M-1"}',
        MessageAttributes: { source: { DataType: 'String', StringValue: 'web' } },
      }),
    );

    // Act
    await mappings.create({ functionName: 'consumer', queueArn: queue.arn });
    await eventually(async () => received.length === 1 && (await counts(queue.url)).inFlight === 0);

    // Assess
    const record = received[0]!.Records[0] as unknown as Record<string, unknown>;
    expect(Object.keys(record)).toEqual([
      'messageId',
      'receiptHandle',
      'body',
      'attributes',
      'messageAttributes',
      'md5OfBody',
      'eventSource',
      'eventSourceARN',
      'awsRegion',
    ]);
    expect(record).toMatchObject({
      messageId: sent.MessageId,
      body: '{"meter":"M-1"}',
      attributes: { ApproximateReceiveCount: '1' },
      messageAttributes: {
        source: { stringValue: 'web', stringListValues: [], binaryListValues: [], dataType: 'String' },
      },
      md5OfBody: sent.MD5OfMessageBody,
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: 'us-east-1',
    });
    expect(Object.keys(record.attributes as object).sort()).toEqual([
      'ApproximateFirstReceiveTimestamp',
      'ApproximateReceiveCount',
      'SenderId',
      'SentTimestamp',
    ]);
    expect(await counts(queue.url)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('with ReportBatchItemFailures deletes all but the reported items', async () => {
    // Prepare
    const queue = await newQueue({ VisibilityTimeout: '30' });
    for (const body of ['ok 1', 'fail 2', 'ok 3']) {
      await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }));
    }

    // Act
    await mappings.create({
      functionName: 'consumer',
      queueArn: queue.arn,
      batchSize: 3,
      maximumBatchingWindowSeconds: 1,
      functionResponseTypes: ['ReportBatchItemFailures'],
    });
    await eventually(async () => {
      const { visible, inFlight } = await counts(queue.url);
      return received.length > 0 && visible + inFlight === 1;
    });

    // Assess
    expect(received.flatMap((event) => event.Records.map((record) => record.body)).sort()).toEqual([
      'fail 2',
      'ok 1',
      'ok 3',
    ]);
    expect(await counts(queue.url)).toEqual({ visible: 0, inFlight: 1 });
  });

  it('leaves a failed batch to come back after the visibility timeout, until the redrive policy moves it', async () => {
    // Prepare
    const dlq = await newQueue();
    const queue = await newQueue({
      VisibilityTimeout: '1',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 }),
    });
    await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'throw please' }));
    runner.register({ name: 'consumer', handler: `${HANDLERS}#sqsConsumer`, timeoutSeconds: 1 });

    // Act
    await mappings.create({ functionName: 'consumer', queueArn: queue.arn });
    await eventually(async () => (await counts(dlq.url)).visible === 1);

    // Assess
    expect(received.map((event) => event.Records[0]!.body)).toEqual(['throw please', 'throw please']);
    expect(
      received.map(
        (event) =>
          (event.Records[0] as unknown as { attributes: Record<string, string> }).attributes
            .ApproximateReceiveCount,
      ),
    ).toEqual(['1', '2']);
    expect(await counts(queue.url)).toEqual({ visible: 0, inFlight: 0 });
  });

  it("refuses mappings Lambda refuses, with Lambda's errors", async () => {
    // Prepare
    const queue = await newQueue({ VisibilityTimeout: '5' });
    runner.register({ name: 'slow', handler: `${HANDLERS}#echo`, timeoutSeconds: 10 });
    await mappings.create({ functionName: 'consumer', queueArn: queue.arn, enabled: false });
    const attempt = (request: Parameters<EventSourceMappings['create']>[0]) =>
      mappings.create(request).then(
        () => undefined,
        (error: unknown) => [(error as AwsError).name, (error as AwsError).message] as const,
      );

    // Act
    const results = {
      unknownFunction: await attempt({ functionName: 'nope', queueArn: queue.arn }),
      duplicate: await attempt({ functionName: 'consumer', queueArn: queue.arn }),
      bigBatchNoWindow: await attempt({
        functionName: 'consumer',
        queueArn: `${ARN_PREFIX}other`,
        batchSize: 11,
      }),
      batchTooBig: await attempt({
        functionName: 'consumer',
        queueArn: queue.arn,
        batchSize: 10_001,
        maximumBatchingWindowSeconds: 1,
      }),
      shortVisibility: await attempt({ functionName: 'slow', queueArn: queue.arn }),
      noQueue: await attempt({ functionName: 'consumer', queueArn: `${ARN_PREFIX}missing` }),
      badArn: await attempt({ functionName: 'consumer', queueArn: 'orders' }),
    };

    // Assess
    expect(results.unknownFunction?.[0]).toBe('ResourceNotFoundException');
    expect(results.duplicate?.[0]).toBe('ResourceConflictException');
    expect(results.bigBatchNoWindow).toEqual([
      'InvalidParameterValueException',
      'Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10',
    ]);
    expect(results.batchTooBig?.[0]).toBe('ValidationException');
    expect(results.shortVisibility).toEqual([
      'InvalidParameterValueException',
      'Queue visibility timeout: 5 seconds is less than Function timeout: 10 seconds',
    ]);
    expect(results.noQueue?.[0]).toBe('InvalidParameterValueException');
    expect(results.badArn?.[0]).toBe('ValidationException');
    expect(mappings.list()).toHaveLength(1);
    expect(mappings.list()[0]).toMatchObject({ state: 'Disabled', batchSize: 10, eventSourceArn: queue.arn });
  });

  it('runs at most maximumConcurrency batches at once, and takes new settings from an update', async () => {
    // Prepare
    const queue = await newQueue();
    runner.register({ name: 'slow-consumer', handler: `${HANDLERS}#slowSqsConsumer` });
    inFlight.most = 0;
    const { uuid } = await mappings.create({
      functionName: 'slow-consumer',
      queueArn: queue.arn,
      batchSize: 1,
      maximumConcurrency: 3,
    });

    // Act
    for (let n = 0; n < 12; n += 1) {
      await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: `message ${n}` }));
    }
    await eventually(() => received.length === 12);
    const updated = await mappings.update(uuid, { batchSize: 5, maximumConcurrency: 2 });
    const refused = await mappings.update(uuid, { maximumConcurrency: 1 }).catch((error: unknown) => error);

    // Assess
    expect(inFlight.most).toBeLessThanOrEqual(3);
    expect(received.flatMap((event) => event.Records.map((record) => record.body)).sort()).toHaveLength(12);
    expect(updated).toMatchObject({ batchSize: 5, maximumConcurrency: 2, state: 'Enabled' });
    expect((refused as AwsError).name).toBe('ValidationException');
    expect(mappings.get(uuid)).toMatchObject({ batchSize: 5, maximumConcurrency: 2 });
  });

  it('stops polling on close and on disable, leaving new messages in the queue', async () => {
    // Prepare
    const queue = await newQueue();
    const { uuid } = await mappings.create({ functionName: 'consumer', queueArn: queue.arn });
    await mappings.update(uuid, { enabled: false });

    // Act
    await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'later' }));
    const receivesBefore = sqs.receives();
    await new Promise((resolve) => setTimeout(resolve, 100));

    // Assess
    expect(received).toHaveLength(0);
    expect(sqs.receives()).toBe(receivesBefore);
    expect(await counts(queue.url)).toEqual({ visible: 1, inFlight: 0 });
    expect(mappings.get(uuid).state).toBe('Disabled');
  });
});

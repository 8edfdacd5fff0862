/**
 * Queue actions through the real SQSClient: CreateQueue (idempotent, QueueNameExists), GetQueueUrl,
 * Get/SetQueueAttributes, ListQueues with paging, DeleteQueue, tags, and the errors a client sees.
 */
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListDeadLetterSourceQueuesCommand,
  ListQueuesCommand,
  ListQueueTagsCommand,
  PurgeQueueCommand,
  QueueDoesNotExist,
  QueueNameExists,
  SendMessageCommand,
  SetQueueAttributesCommand,
  TagQueueCommand,
  UntagQueueCommand,
} from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorOf, type RunningSqs, startSqs } from './support.ts';

let sqs: RunningSqs;
beforeEach(async () => {
  sqs = await startSqs();
});
afterEach(async () => {
  await sqs.close();
});

describe('CreateQueue and GetQueueUrl', () => {
  it('returns <endpoint>/<account>/<name> and the same URL from GetQueueUrl', async () => {
    // Act
    const created = await sqs.client.send(new CreateQueueCommand({ QueueName: 'orders' }));
    const found = await sqs.client.send(new GetQueueUrlCommand({ QueueName: 'orders' }));

    // Assess
    expect(created.QueueUrl).toBe(`${sqs.endpoint}/000000000000/orders`);
    expect(found.QueueUrl).toBe(created.QueueUrl);
  });

  it('is idempotent with the same attributes and refuses different ones with QueueNameExists', async () => {
    // Prepare
    await sqs.client.send(
      new CreateQueueCommand({ QueueName: 'q', Attributes: { VisibilityTimeout: '60' } }),
    );

    // Act
    const again = await sqs.client.send(
      new CreateQueueCommand({ QueueName: 'q', Attributes: { VisibilityTimeout: '60' } }),
    );
    const error = await errorOf(
      sqs.client.send(new CreateQueueCommand({ QueueName: 'q', Attributes: { VisibilityTimeout: '61' } })),
    );

    // Assess
    expect(again.QueueUrl).toMatch(/\/q$/);
    expect(error).toBeInstanceOf(QueueNameExists);
    expect(error.name).toBe('QueueNameExists');
    expect((error.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(400);
  });

  it('refuses bad names, unknown attributes and out-of-range values', async () => {
    // Act
    const badName = await errorOf(sqs.client.send(new CreateQueueCommand({ QueueName: 'has space' })));
    const unknown = await errorOf(
      sqs.client.send(new CreateQueueCommand({ QueueName: 'a', Attributes: { Colour: 'red' } as never })),
    );
    const range = await errorOf(
      sqs.client.send(new CreateQueueCommand({ QueueName: 'a', Attributes: { DelaySeconds: '901' } })),
    );
    const long = await errorOf(sqs.client.send(new CreateQueueCommand({ QueueName: 'x'.repeat(81) })));

    // Assess
    expect(badName.name).toBe('InvalidParameterValue');
    expect(badName.message).toBe(
      'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
    );
    expect(unknown.name).toBe('InvalidAttributeName');
    expect(unknown.message).toBe('Unknown Attribute Colour.');
    expect(range.name).toBe('InvalidAttributeValue');
    expect(long.name).toBe('InvalidParameterValue');
  });

  it('answers QueueDoesNotExist with the query code AWS.SimpleQueueService.NonExistentQueue', async () => {
    // Act
    const error = await errorOf(sqs.client.send(new GetQueueUrlCommand({ QueueName: 'nope' })));
    const raw = await fetch(`${sqs.endpoint}/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'AmazonSQS.GetQueueUrl' },
      body: JSON.stringify({ QueueName: 'nope' }),
    });

    // Assess
    expect(error).toBeInstanceOf(QueueDoesNotExist);
    expect(error.message).toBe('The specified queue does not exist.');
    expect(raw.status).toBe(400);
    expect(raw.headers.get('x-amzn-query-error')).toBe('AWS.SimpleQueueService.NonExistentQueue;Sender');
    expect(await raw.json()).toEqual({
      __type: 'com.amazonaws.sqs#QueueDoesNotExist',
      message: 'The specified queue does not exist.',
    });
  });

  it('accepts a QueueUrl under any host as long as account and name match', async () => {
    // Prepare
    await sqs.client.send(new CreateQueueCommand({ QueueName: 'elsewhere' }));

    // Act
    const attributes = await sqs.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/elsewhere',
        AttributeNames: ['QueueArn'],
      }),
    );
    const otherAccount = await errorOf(
      sqs.client.send(
        new SendMessageCommand({ QueueUrl: `${sqs.endpoint}/111111111111/elsewhere`, MessageBody: 'x' }),
      ),
    );

    // Assess
    expect(attributes.Attributes).toEqual({ QueueArn: 'arn:aws:sqs:us-east-1:000000000000:elsewhere' });
    expect(otherAccount.name).toBe('QueueDoesNotExist');
  });
});

describe('queue attributes', () => {
  it('reports All with the defaults, the counts, the ARN and the timestamps', async () => {
    // Prepare
    const { QueueUrl } = await sqs.client.send(new CreateQueueCommand({ QueueName: 'defaults' }));

    // Act
    const { Attributes } = await sqs.client.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }),
    );

    // Assess
    expect(Attributes).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
      ApproximateNumberOfMessagesDelayed: '0',
      DelaySeconds: '0',
      MaximumMessageSize: '1048576',
      MessageRetentionPeriod: '345600',
      ReceiveMessageWaitTimeSeconds: '0',
      VisibilityTimeout: '30',
      SqsManagedSseEnabled: 'true',
      QueueArn: 'arn:aws:sqs:us-east-1:000000000000:defaults',
    });
    expect(Number(Attributes!.CreatedTimestamp)).toBeGreaterThan(1_600_000_000);
    expect(Attributes!.CreatedTimestamp).toMatch(/^\d{10}$/);
  });

  it('sets attributes, reports KMS settings and validates a redrive policy', async () => {
    // Prepare
    const { QueueUrl } = await sqs.client.send(new CreateQueueCommand({ QueueName: 'src' }));
    const dlq = await sqs.client.send(new CreateQueueCommand({ QueueName: 'dlq' }));

    // Act
    await sqs.client.send(
      new SetQueueAttributesCommand({
        QueueUrl,
        Attributes: {
          VisibilityTimeout: '5',
          KmsMasterKeyId: 'alias/aws/sqs',
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:dlq',
            maxReceiveCount: '3',
          }),
        },
      }),
    );
    const { Attributes } = await sqs.client.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ['VisibilityTimeout', 'RedrivePolicy', 'KmsMasterKeyId', 'SqsManagedSseEnabled'],
      }),
    );
    const missingTarget = await errorOf(
      sqs.client.send(
        new SetQueueAttributesCommand({
          QueueUrl,
          Attributes: { RedrivePolicy: '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:gone"}' },
        }),
      ),
    );
    const sources = await sqs.client.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlq.QueueUrl }));

    // Assess
    expect(Attributes).toEqual({
      VisibilityTimeout: '5',
      KmsMasterKeyId: 'alias/aws/sqs',
      SqsManagedSseEnabled: 'false',
      RedrivePolicy: '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":3}',
    });
    expect(missingTarget.name).toBe('InvalidParameterValue');
    expect(missingTarget.message).toContain('Dead-letter target does not exist.');
    expect(sources.queueUrls).toEqual([QueueUrl]);
  });

  it('refuses an unknown attribute name in GetQueueAttributes', async () => {
    // Prepare
    const { QueueUrl } = await sqs.client.send(new CreateQueueCommand({ QueueName: 'q' }));

    // Act
    const error = await errorOf(
      sqs.client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['Nope' as never] })),
    );

    // Assess
    expect(error.name).toBe('InvalidAttributeName');
  });
});

describe('ListQueues, DeleteQueue, tags and PurgeQueue', () => {
  it('lists by prefix and pages with MaxResults and NextToken', async () => {
    // Prepare
    for (const name of ['a-1', 'a-2', 'a-3', 'b-1']) {
      await sqs.client.send(new CreateQueueCommand({ QueueName: name }));
    }

    // Act
    const all = await sqs.client.send(new ListQueuesCommand({}));
    const first = await sqs.client.send(new ListQueuesCommand({ QueueNamePrefix: 'a-', MaxResults: 2 }));
    const second = await sqs.client.send(
      new ListQueuesCommand({ QueueNamePrefix: 'a-', MaxResults: 2, NextToken: first.NextToken }),
    );

    // Assess
    expect(all.QueueUrls).toHaveLength(4);
    expect(all.NextToken).toBeUndefined();
    expect(first.QueueUrls!.map((url) => url.split('/').pop())).toEqual(['a-1', 'a-2']);
    expect(second.QueueUrls!.map((url) => url.split('/').pop())).toEqual(['a-3']);
    expect(second.NextToken).toBeUndefined();
  });

  it('deletes a queue, then refuses to re-create it within 60 seconds', async () => {
    // Prepare
    const { QueueUrl } = await sqs.client.send(new CreateQueueCommand({ QueueName: 'short-lived' }));

    // Act
    await sqs.client.send(new DeleteQueueCommand({ QueueUrl }));
    const send = await errorOf(sqs.client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' })));
    const recreate = await errorOf(sqs.client.send(new CreateQueueCommand({ QueueName: 'short-lived' })));

    // Assess
    expect(send.name).toBe('QueueDoesNotExist');
    expect(recreate.name).toBe('QueueDeletedRecently');
  });

  it('tags and untags a queue', async () => {
    // Prepare
    const { QueueUrl } = await sqs.client.send(
      new CreateQueueCommand({ QueueName: 't', tags: { team: 'pay' } }),
    );

    // Act
    await sqs.client.send(new TagQueueCommand({ QueueUrl, Tags: { env: 'dev' } }));
    await sqs.client.send(new UntagQueueCommand({ QueueUrl, TagKeys: ['team'] }));
    const { Tags } = await sqs.client.send(new ListQueueTagsCommand({ QueueUrl }));

    // Assess
    expect(Tags).toEqual({ env: 'dev' });
  });

  it('purges once, then answers PurgeQueueInProgress within 60 seconds', async () => {
    // Prepare
    const { QueueUrl } = await sqs.client.send(new CreateQueueCommand({ QueueName: 'p' }));
    await sqs.client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' }));

    // Act
    await sqs.client.send(new PurgeQueueCommand({ QueueUrl }));
    const second = await errorOf(sqs.client.send(new PurgeQueueCommand({ QueueUrl })));
    const { Attributes } = await sqs.client.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );

    // Assess
    expect(second.name).toBe('PurgeQueueInProgress');
    expect(Attributes).toEqual({ ApproximateNumberOfMessages: '0' });
  });
});

describe('malformed input', () => {
  it('answers every malformed request with a 4xx and keeps serving', async () => {
    // Prepare
    const { QueueUrl } = await sqs.client.send(new CreateQueueCommand({ QueueName: 'sturdy' }));
    const cases: [string, unknown][] = [
      ['CreateQueue', {}],
      ['CreateQueue', { QueueName: 5 }],
      ['CreateQueue', { QueueName: 'x', Attributes: ['VisibilityTimeout'] }],
      ['SendMessage', { QueueUrl, MessageBody: { nested: true } }],
      ['SendMessage', { QueueUrl, MessageBody: 'x', MessageAttributes: { a: 'not an object' } }],
      [
        'SendMessage',
        { QueueUrl, MessageBody: 'x', MessageAttributes: { a: { DataType: 'Number', StringValue: 'abc' } } },
      ],
      ['SendMessage', { QueueUrl: 'not a url', MessageBody: 'x' }],
      ['SendMessageBatch', { QueueUrl, Entries: 'nope' }],
      ['SendMessageBatch', { QueueUrl, Entries: [null] }],
      ['ReceiveMessage', { QueueUrl, MaxNumberOfMessages: '3' }],
      ['ReceiveMessage', { QueueUrl, MessageAttributeNames: [1] }],
      ['DeleteMessage', { QueueUrl }],
      ['DeleteMessageBatch', { QueueUrl, Entries: [{ Id: 'a', ReceiptHandle: 7 }] }],
      ['ChangeMessageVisibility', { QueueUrl, ReceiptHandle: 'x', VisibilityTimeout: 50_000 }],
      ['ListQueues', { NextToken: '%%%' }],
      ['GetQueueAttributes', { QueueUrl, AttributeNames: 'All' }],
    ];

    // Act
    const statuses: number[] = [];
    for (const [action, body] of cases) {
      const response = await fetch(`${sqs.endpoint}/`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': `AmazonSQS.${action}` },
        body: JSON.stringify(body),
      });
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    const stillServing = await sqs.client.send(new GetQueueUrlCommand({ QueueName: 'sturdy' }));

    // Assess
    // Indexes of the cases not answered with a 4xx.
    expect(
      statuses
        .map((status, index) => (status < 400 || status >= 500 ? index : -1))
        .filter((index) => index >= 0),
    ).toEqual([]);
    expect(stillServing.QueueUrl).toBe(QueueUrl);
  });
});

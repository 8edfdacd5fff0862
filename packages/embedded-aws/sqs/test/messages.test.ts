/**
 * Message actions through the real SQSClient (which checks MD5OfMessageBody on every send and receive):
 * send, receive with attributes, visibility timeouts, receipt handles, batches, long polling, redrive to a
 * dead-letter queue, FIFO queues. Time is a test clock, moved by the test, so nothing waits for real seconds.
 */
import { createHash } from 'node:crypto';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { md5OfAttributes } from '../md5.ts';
import { errorOf, type RunningSqs, startSqs } from './support.ts';

let sqs: RunningSqs;
let clock: number;
beforeEach(async () => {
  clock = 1_700_000_000_000;
  sqs = await startSqs({ now: () => clock });
});
afterEach(async () => {
  await sqs.close();
});

async function queue(name: string, Attributes: Record<string, string> = {}): Promise<string> {
  const { QueueUrl } = await sqs.client.send(new CreateQueueCommand({ QueueName: name, Attributes }));
  return QueueUrl!;
}

async function receive(
  QueueUrl: string,
  extra: Partial<ConstructorParameters<typeof ReceiveMessageCommand>[0]> = {},
) {
  const { Messages } = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl, ...extra }));
  return Messages ?? [];
}

async function counts(QueueUrl: string): Promise<Record<string, string>> {
  const { Attributes } = await sqs.client.send(
    new GetQueueAttributesCommand({
      QueueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return Attributes!;
}

describe('SendMessage and ReceiveMessage', () => {
  it('delivers the body, attributes and system attributes with SQS digests', async () => {
    // Prepare
    const url = await queue('q');
    const attributes = {
      city: { DataType: 'String', StringValue: 'Leeds' },
      amount: { DataType: 'Number', StringValue: '12.50' },
      blob: { DataType: 'Binary', BinaryValue: Uint8Array.of(0, 1, 2, 255) },
      'meta.trace': { DataType: 'String.custom', StringValue: 'abc' },
    };

    // Act
    const sent = await sqs.client.send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: 'héllo 👋', MessageAttributes: attributes }),
    );
    clock += 1000;
    const [message] = await receive(url, {
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    });

    // Assess
    expect(sent.MD5OfMessageBody).toBe(createHash('md5').update('héllo 👋', 'utf8').digest('hex'));
    expect(sent.MD5OfMessageAttributes).toBe(
      md5OfAttributes({
        city: { DataType: 'String', StringValue: 'Leeds' },
        amount: { DataType: 'Number', StringValue: '12.50' },
        blob: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2, 255]).toString('base64') },
        'meta.trace': { DataType: 'String.custom', StringValue: 'abc' },
      }),
    );
    expect(message!.Body).toBe('héllo 👋');
    expect(message!.MessageId).toBe(sent.MessageId);
    expect(message!.MD5OfMessageAttributes).toBe(sent.MD5OfMessageAttributes);
    expect(message!.MessageAttributes!.blob!.BinaryValue).toEqual(Uint8Array.of(0, 1, 2, 255));
    expect(message!.Attributes).toEqual({
      SenderId: '000000000000',
      SentTimestamp: String(clock - 1000),
      ApproximateReceiveCount: '1',
      ApproximateFirstReceiveTimestamp: String(clock),
    });
  });

  it('returns only the message attributes asked for, by name or by prefix', async () => {
    // Prepare
    const url = await queue('q');
    await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: 'x',
        MessageAttributes: {
          'order.id': { DataType: 'String', StringValue: '1' },
          'order.kind': { DataType: 'String', StringValue: 'card' },
          other: { DataType: 'String', StringValue: 'o' },
        },
      }),
    );

    // Act
    const [message] = await receive(url, {
      MessageAttributeNames: ['order.*'],
      MessageSystemAttributeNames: ['SenderId'],
    });

    // Assess
    expect(Object.keys(message!.MessageAttributes!).sort()).toEqual(['order.id', 'order.kind']);
    expect(message!.MD5OfMessageAttributes).toBe(md5OfAttributes(message!.MessageAttributes as never));
    expect(message!.Attributes).toEqual({ SenderId: '000000000000' });
  });

  it('hides a received message for its visibility timeout, then delivers it again with a new handle', async () => {
    // Prepare
    const url = await queue('q', { VisibilityTimeout: '30' });
    await sqs.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'once' }));

    // Act
    const [first] = await receive(url);
    const during = await receive(url);
    const countsDuring = await counts(url);
    clock += 30_000;
    const [second] = await receive(url, { MessageSystemAttributeNames: ['ApproximateReceiveCount'] });

    // Assess
    expect(during).toEqual([]);
    expect(countsDuring).toEqual({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '1',
      ApproximateNumberOfMessagesDelayed: '0',
    });
    expect(second!.MessageId).toBe(first!.MessageId);
    expect(second!.ReceiptHandle).not.toBe(first!.ReceiptHandle);
    expect(second!.Attributes!.ApproximateReceiveCount).toBe('2');
  });

  it('keeps the message when deleted with an older receipt handle, deletes it with the latest', async () => {
    // Prepare
    const url = await queue('q', { VisibilityTimeout: '10' });
    await sqs.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
    const [first] = await receive(url);
    clock += 10_000;
    const [second] = await receive(url);

    // Act
    await sqs.client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: first!.ReceiptHandle }));
    const afterOld = await counts(url);
    await sqs.client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: second!.ReceiptHandle }));
    const afterLatest = await counts(url);
    await sqs.client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: second!.ReceiptHandle }));

    // Assess
    expect(afterOld.ApproximateNumberOfMessagesNotVisible).toBe('1');
    expect(afterLatest.ApproximateNumberOfMessagesNotVisible).toBe('0');
  });

  it('refuses a receipt handle that is not one', async () => {
    // Prepare
    const url = await queue('q');

    // Act
    const error = await errorOf(
      sqs.client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: 'garbage' })),
    );

    // Assess
    expect(error.name).toBe('ReceiptHandleIsInvalid');
    expect(error.message).toBe('The input receipt handle "garbage" is not a valid receipt handle.');
    expect((error.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(404);
  });

  it('changes visibility: 0 makes the message visible at once; an expired one is not in flight', async () => {
    // Prepare
    const url = await queue('q');
    await sqs.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
    const [first] = await receive(url);

    // Act
    await sqs.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: first!.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const [again] = await receive(url, { VisibilityTimeout: 5 });
    clock += 5_000;
    const notInFlight = await errorOf(
      sqs.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: again!.ReceiptHandle,
          VisibilityTimeout: 5,
        }),
      ),
    );
    const stale = await errorOf(
      sqs.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: first!.ReceiptHandle,
          VisibilityTimeout: 5,
        }),
      ),
    );

    // Assess
    expect(again!.MessageId).toBe(first!.MessageId);
    expect(notInFlight.name).toBe('MessageNotInflight');
    expect(stale.name).toBe('InvalidParameterValue');
  });

  it('delays messages by DelaySeconds and counts them as delayed', async () => {
    // Prepare
    const url = await queue('q');

    // Act
    await sqs.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'later', DelaySeconds: 10 }));
    const early = await receive(url);
    const delayed = await counts(url);
    clock += 10_000;
    const [late] = await receive(url);

    // Assess
    expect(early).toEqual([]);
    expect(delayed.ApproximateNumberOfMessagesDelayed).toBe('1');
    expect(late!.Body).toBe('later');
  });

  it('validates MaxNumberOfMessages, WaitTimeSeconds, the body and attributes', async () => {
    // Prepare
    const url = await queue('q', { MaximumMessageSize: '1024' });

    // Act
    const tooMany = await errorOf(
      sqs.client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 11 })),
    );
    const wait = await errorOf(
      sqs.client.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 21 })),
    );
    const big = await errorOf(
      sqs.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x'.repeat(1025) })),
    );
    const control = await errorOf(
      sqs.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'a\u0001' })),
    );
    const noValue = await errorOf(
      sqs.client.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: 'x',
          MessageAttributes: { a: { DataType: 'String' } },
        }),
      ),
    );
    const empty = await errorOf(sqs.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '' })));

    // Assess
    expect(tooMany.name).toBe('InvalidParameterValue');
    expect(tooMany.message).toBe(
      'Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.',
    );
    expect(wait.name).toBe('InvalidParameterValue');
    expect(big.message).toBe(
      'One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.',
    );
    expect(control.name).toBe('InvalidMessageContents');
    expect(noValue.name).toBe('InvalidParameterValue');
    expect(empty.name).toBe('MissingParameter');
  });

  it('receives up to MaxNumberOfMessages at once, oldest first', async () => {
    // Prepare
    const url = await queue('q');
    for (let index = 0; index < 12; index++) {
      await sqs.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: `m${index}` }));
    }

    // Act
    const first = await receive(url, { MaxNumberOfMessages: 10 });
    const rest = await receive(url, { MaxNumberOfMessages: 10 });

    // Assess
    expect(first.map((message) => message.Body)).toEqual(
      Array.from({ length: 10 }, (_, index) => `m${index}`),
    );
    expect(rest.map((message) => message.Body)).toEqual(['m10', 'm11']);
  });
});

describe('batches', () => {
  it('reports per-entry success and failure in SendMessageBatch', async () => {
    // Prepare
    const url = await queue('q');

    // Act
    const result = await sqs.client.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'good', MessageBody: 'one' },
          { Id: 'bad', MessageBody: 'two', DelaySeconds: 901 },
          { Id: 'good-2', MessageBody: 'three' },
        ],
      }),
    );

    // Assess
    expect(result.Successful!.map((entry) => entry.Id)).toEqual(['good', 'good-2']);
    expect(result.Failed).toEqual([
      {
        Id: 'bad',
        SenderFault: true,
        Code: 'InvalidParameterValue',
        Message:
          'Value 901 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.',
      },
    ]);
    expect((await counts(url)).ApproximateNumberOfMessages).toBe('2');
  });

  it('refuses empty, oversized, badly named and repeated batches as a whole', async () => {
    // Prepare
    const url = await queue('q');
    const send = (Entries: { Id: string; MessageBody: string }[]) =>
      errorOf(sqs.client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries })));

    // Act
    const empty = await send([]);
    const eleven = await send(
      Array.from({ length: 11 }, (_, index) => ({ Id: `e${index}`, MessageBody: 'x' })),
    );
    const badId = await send([{ Id: 'no spaces', MessageBody: 'x' }]);
    const repeated = await send([
      { Id: 'a', MessageBody: 'x' },
      { Id: 'a', MessageBody: 'y' },
    ]);
    const tooLong = await send(
      Array.from({ length: 5 }, (_, index) => ({ Id: `e${index}`, MessageBody: 'x'.repeat(300_000) })),
    );

    // Assess
    expect(empty.name).toBe('EmptyBatchRequest');
    expect(eleven.name).toBe('TooManyEntriesInBatchRequest');
    expect(badId.name).toBe('InvalidBatchEntryId');
    expect(repeated.name).toBe('BatchEntryIdsNotDistinct');
    expect(tooLong.name).toBe('BatchRequestTooLong');
  });

  it('deletes and changes visibility in batches, failing only the bad entries', async () => {
    // Prepare
    const url = await queue('q');
    await sqs.client.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: '1', MessageBody: 'a' },
          { Id: '2', MessageBody: 'b' },
        ],
      }),
    );
    const received = await receive(url, { MaxNumberOfMessages: 10 });

    // Act
    const changed = await sqs.client.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'ok', ReceiptHandle: received[0]!.ReceiptHandle, VisibilityTimeout: 100 },
          { Id: 'bad', ReceiptHandle: 'nonsense', VisibilityTimeout: 100 },
        ],
      }),
    );
    const deleted = await sqs.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: received.map((message: Message, index) => ({
          Id: `d${index}`,
          ReceiptHandle: message.ReceiptHandle,
        })),
      }),
    );

    // Assess
    expect(changed.Successful).toEqual([{ Id: 'ok' }]);
    expect(changed.Failed).toMatchObject([{ Id: 'bad', Code: 'ReceiptHandleIsInvalid', SenderFault: true }]);
    expect(deleted.Successful).toHaveLength(2);
    expect(await counts(url)).toEqual({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
      ApproximateNumberOfMessagesDelayed: '0',
    });
  });
});

describe('long polling', () => {
  it('answers a waiting ReceiveMessage as soon as a message is sent', async () => {
    // Prepare
    const url = await queue('q');
    const waiting = receive(url, { WaitTimeSeconds: 20 });

    // Act
    await sqs.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'arrived' }));
    const messages = await waiting;

    // Assess
    expect(messages.map((message) => message.Body)).toEqual(['arrived']);
  });

  it('answers with no messages when the wait is over', async () => {
    // Prepare
    const url = await queue('q');

    // Act
    const messages = await receive(url, { WaitTimeSeconds: 1 });

    // Assess
    expect(messages).toEqual([]);
  });

  it('gives each message to one of several waiting consumers', async () => {
    // Prepare
    const url = await queue('q');
    const consumers = [1, 2, 3].map(() => receive(url, { WaitTimeSeconds: 20 }));

    // Act
    for (const body of ['a', 'b', 'c'])
      await sqs.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
    const results = await Promise.all(consumers);

    // Assess
    expect(results.map((messages) => messages.length)).toEqual([1, 1, 1]);
    expect(
      results
        .flat()
        .map((message) => message.Body)
        .sort(),
    ).toEqual(['a', 'b', 'c']);
  });
});

describe('dead-letter queues', () => {
  it('moves a message to the dead-letter queue when its receive count would exceed maxReceiveCount', async () => {
    // Prepare
    const dlq = await queue('dlq');
    const url = await queue('work', {
      VisibilityTimeout: '1',
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:dlq',
        maxReceiveCount: 2,
      }),
    });
    const sent = await sqs.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'poison' }));

    // Act
    const first = await receive(url);
    clock += 1000;
    const second = await receive(url);
    clock += 1000;
    const third = await receive(url);
    const [dead] = await receive(dlq, { MessageSystemAttributeNames: ['All'] });

    // Assess
    expect(first).toHaveLength(1);
    expect(second).toHaveLength(1);
    expect(third).toEqual([]);
    expect(dead!.MessageId).toBe(sent.MessageId);
    expect(dead!.Body).toBe('poison');
    expect(dead!.Attributes!.DeadLetterQueueSourceArn).toBe('arn:aws:sqs:us-east-1:000000000000:work');
    expect((await counts(url)).ApproximateNumberOfMessagesNotVisible).toBe('0');
  });
});

describe('FIFO queues', () => {
  it('keeps group order, holds a group while a message of it is in flight, and deduplicates', async () => {
    // Prepare
    const url = await queue('orders.fifo', { FifoQueue: 'true', ContentBasedDeduplication: 'true' });
    const send = (body: string, group: string) =>
      sqs.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body, MessageGroupId: group }));
    const a1 = await send('a1', 'A');
    const duplicate = await send('a1', 'A');
    await send('a2', 'A');
    await send('b1', 'B');

    // Act
    const first = await receive(url, { MaxNumberOfMessages: 1 });
    const second = await receive(url, {
      MaxNumberOfMessages: 10,
      MessageSystemAttributeNames: ['MessageGroupId'],
    });

    // Assess
    expect(duplicate.MessageId).toBe(a1.MessageId);
    expect(duplicate.SequenceNumber).toBe(a1.SequenceNumber);
    expect(a1.SequenceNumber).toMatch(/^\d{20}$/);
    expect(first.map((message) => message.Body)).toEqual(['a1']);
    expect(second.map((message) => message.Body)).toEqual(['b1']);
  });

  it('requires a MessageGroupId and a deduplication id', async () => {
    // Prepare
    const url = await queue('strict.fifo', { FifoQueue: 'true' });

    // Act
    const noGroup = await errorOf(
      sqs.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' })),
    );
    const noDedup = await errorOf(
      sqs.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x', MessageGroupId: 'g' })),
    );

    // Assess
    expect(noGroup.name).toBe('MissingParameter');
    expect(noDedup.name).toBe('InvalidParameterValue');
  });
});

/**
 * Looking at the follow-up queues' messages without taking them, and redriving a dead-letter queue, against the
 * embedded SQS through the real client: the dead-letter queues are looked at freely; a queue with a
 * RedrivePolicy only when asked, since every look counts a receive towards its maxReceiveCount.
 */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type EmbeddedAws, startEmbeddedAws } from '@payment-to-vend/embedded-aws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../testing/console-system.ts';
import { QueueMessages } from './queue-messages.ts';
import { QueuesService } from './queues-service.ts';

let aws: EmbeddedAws;
let sqs: SQSClient;
let messages: QueueMessages;
const urls: Record<string, string> = {};

async function createQueue(name: string, attributes: Record<string, string> = {}): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  urls[name] = QueueUrl ?? '';
  return QueueUrl ?? '';
}

async function arnOf(url: string): Promise<string> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  return Attributes?.QueueArn ?? '';
}

async function depth(url: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? -1);
}

beforeAll(async () => {
  aws = await startEmbeddedAws({ port: 0, dataDir: null });
  sqs = new SQSClient({
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  messages = new QueueMessages({ sqs, queues: new QueuesService({ sqs }) });
  for (const name of ['VendingFailure', 'PaymentSuccess']) {
    const dlq = await createQueue(`${name}-dlq`);
    await createQueue(name, {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await arnOf(dlq), maxReceiveCount: 3 }),
    });
  }
  await createQueue('Unrelated');
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: urls.VendingFailure,
      MessageBody: JSON.stringify({ paymentId: 'pay_vf', failure: { Error: 'VendorUnavailable' } }),
    }),
  );
  // Vend messages that could not be handled (received past maxReceiveCount, so dead-lettered as SQS does):
  // they carry a task token, never shown.
  for (const paymentId of ['pay_dl1', 'pay_dl2']) {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: urls.PaymentSuccess,
        MessageBody: JSON.stringify({ paymentId, taskToken: 'secret-token', attempt: 1 }),
      }),
    );
  }
  for (let receive = 0; receive <= 3; receive++) {
    await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: urls.PaymentSuccess,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
      }),
    );
  }
  expect(await depth(urls['PaymentSuccess-dlq'] ?? '')).toBe(2);
});

afterAll(async () => {
  sqs?.destroy();
  await aws?.close();
});

describe('the follow-up queues', () => {
  it('lists PaymentFailure and VendingFailure kin, then the dead-letter queues, looking only at the latter', async () => {
    const queues = await messages.followUpQueues({ peekSourceQueues: false });

    expect(queues.map((queue) => [queue.name, queue.kind, queue.peeked])).toEqual([
      ['VendingFailure', 'follow_up', false],
      ['PaymentSuccess-dlq', 'dead_letter', true],
      ['VendingFailure-dlq', 'dead_letter', false],
    ]);
    const [vendingFailure, deadLetters] = queues;
    expect(vendingFailure).toMatchObject({ visible: 1, maxReceiveCount: 3, messages: [] });
    expect(vendingFailure?.note).toContain('after 3 a message moves to VendingFailure-dlq');
    expect(deadLetters).toMatchObject({
      visible: 2,
      sourceQueues: ['PaymentSuccess'],
      maxReceiveCount: null,
    });
    expect(deadLetters?.messages.map((message) => message.paymentId)).toEqual(['pay_dl1', 'pay_dl2']);
    expect(JSON.stringify(queues)).not.toContain('secret-token');
    // Looked at, not taken.
    expect(await depth(urls['PaymentSuccess-dlq'] ?? '')).toBe(2);
  });

  it('looks at a queue with a RedrivePolicy when asked, one receive a look, leaving the message', async () => {
    const first = await messages.followUpQueues({ peekSourceQueues: true });
    const second = await messages.followUpQueues({ peekSourceQueues: true });

    const seen = (queues: typeof first) => queues.find((queue) => queue.name === 'VendingFailure')?.messages;
    expect(seen(first)).toMatchObject([
      { paymentId: 'pay_vf', receiveCount: 1, queueName: 'VendingFailure' },
    ]);
    expect(seen(second)).toMatchObject([{ paymentId: 'pay_vf', receiveCount: 2 }]);
    expect(await depth(urls.VendingFailure ?? '')).toBe(1);
    const { Messages: still = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: urls.VendingFailure, VisibilityTimeout: 0 }),
    );
    expect(still).toHaveLength(1);
  });

  it('redrives a dead-letter queue back to its source, and refuses a queue that is not one', async () => {
    const started = await messages.redriveToSource('PaymentSuccess-dlq');
    expect(started).toMatchObject({ queueName: 'PaymentSuccess-dlq', taskHandle: expect.any(String) });

    await pollUntil(async () => ((await depth(urls.PaymentSuccess ?? '')) === 2 ? true : undefined), {
      timeoutMs: 10_000,
      what: 'the messages back on PaymentSuccess',
    });
    expect(await depth(urls['PaymentSuccess-dlq'] ?? '')).toBe(0);
    const after = await messages.followUpQueues({ peekSourceQueues: false });
    expect(after.find((queue) => queue.name === 'PaymentSuccess-dlq')?.lastMoveTask).toMatchObject({
      status: 'COMPLETED',
      moved: 2,
    });

    await expect(messages.redriveToSource('Unrelated')).rejects.toMatchObject({
      statusCode: 409,
      code: 'not_a_dead_letter_queue',
    });
    await expect(messages.redriveToSource('Nowhere')).rejects.toMatchObject({ statusCode: 404 });
  });
});

/**
 * The alerts feed against the embedded AWS through the real SNS and SQS clients: it finds the OnCall topic,
 * subscribes a queue of its own (the embedded SNS delivers to SQS subscriptions, in SNS's envelope), and keeps
 * what arrives, newest first, each with the payment it is about; without a topic it says so and stops there.
 */
import { CreateTopicCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type EmbeddedAws, startEmbeddedAws } from '@payment-to-vend/embedded-aws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../testing/console-system.ts';
import { AlertsFeed, alertOf, paymentIdIn } from './alerts-feed.ts';

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

let aws: EmbeddedAws;
let sns: SNSClient;
let sqs: SQSClient;
const feeds: AlertsFeed[] = [];

beforeAll(async () => {
  aws = await startEmbeddedAws({ port: 0, dataDir: null });
  sns = new SNSClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials: CREDENTIALS });
  sqs = new SQSClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials: CREDENTIALS });
});

afterAll(async () => {
  await Promise.all(feeds.map((feed) => feed.close()));
  sns?.destroy();
  sqs?.destroy();
  await aws?.close();
});

function feed(queueName: string, topicArn?: string): AlertsFeed {
  const created = new AlertsFeed({ sns, sqs, queueName, topicArn, waitSeconds: 1, restartMs: 200 });
  feeds.push(created);
  return created;
}

describe('the alerts feed', () => {
  it('says there is no topic when none is named OnCall, and shows nothing', async () => {
    const alerts = feed('ops-console-alerts-none');

    const status = await alerts.start();

    expect(status).toMatchObject({ state: 'no_topic', topicArn: null });
    expect(status.note).toContain('--alerts-topic-arn');
    expect(alerts.recent()).toEqual([]);
  });

  it('follows the OnCall topic through its own queue once it exists, newest first, each alert with its payment', async () => {
    // Prepare: the console starts before the system has made its topic.
    const alerts = feed('ops-console-alerts-test');
    expect(await alerts.start()).toMatchObject({ state: 'no_topic' });
    await sns.send(new CreateTopicCommand({ Name: 'SomethingElse' }));
    const { TopicArn: topicArn } = await sns.send(new CreateTopicCommand({ Name: 'OnCall' }));
    await pollUntil(async () => (alerts.status().state === 'listening' ? true : undefined), {
      timeoutMs: 5_000,
      what: 'the feed to find the topic',
    });
    expect(alerts.status()).toMatchObject({ state: 'listening', topicArn, note: null });

    // Act
    await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: 'PaymentToVend: a paid top-up could not be vended',
        Message:
          'Payment pay_first (2000 pence) was charged but meter 9902000000019 could not be credited: VendorUnavailable. Execution arn:aws:states:us-east-1:000000000000:execution:PaymentToVend:pay_first. Follow up from the VendingFailure queue.',
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    await sns.send(new PublishCommand({ TopicArn: topicArn, Message: 'Payment pay_second is still open.' }));

    // Assess
    const received = await pollUntil(
      async () => (alerts.recent().length === 2 ? alerts.recent() : undefined),
      {
        timeoutMs: 15_000,
        what: 'two alerts',
      },
    );
    expect(received.map((alert) => alert.paymentId)).toEqual(['pay_second', 'pay_first']);
    expect(received[1]).toMatchObject({
      topicArn,
      subject: 'PaymentToVend: a paid top-up could not be vended',
      message: expect.stringContaining('could not be credited'),
      publishedAt: expect.stringMatching(/Z$/),
    });
    expect(received[0]?.subject).toBeNull();
    expect(alerts.recent({ paymentId: 'pay_first' }).map((alert) => alert.paymentId)).toEqual(['pay_first']);
    expect(alerts.recent({ limit: 1 })).toHaveLength(1);
  });

  it('says it is not permitted, and shows nothing, when AWS refuses the subscription', async () => {
    const refusing = {
      send: async () => {
        throw Object.assign(new Error('User is not authorized to perform: SNS:ListTopics'), {
          name: 'AuthorizationError',
        });
      },
    } as unknown as SNSClient;
    const alerts = new AlertsFeed({ sns: refusing, sqs, queueName: 'unused', restartMs: 200 });
    feeds.push(alerts);

    const status = await alerts.start();

    expect(status).toMatchObject({ state: 'not_permitted', topicArn: null });
    expect(status.note).toContain('sns:ListTopics was refused');
    expect(status.note).toContain('sns:Subscribe');
    expect(alerts.recent()).toEqual([]);
  });

  it('keeps an alert delivered twice once, and at most its capacity', () => {
    const alerts = new AlertsFeed({ sns, sqs, queueName: 'unused', capacity: 2 });
    const envelope = (id: string, at: string) =>
      JSON.stringify({
        Type: 'Notification',
        MessageId: id,
        TopicArn: 'arn',
        Message: `m ${id}`,
        Timestamp: at,
      });

    expect(alerts.accept(envelope('a', '2026-01-01T00:00:01.000Z'))).toBe(true);
    expect(alerts.accept(envelope('a', '2026-01-01T00:00:01.000Z'))).toBe(false);
    alerts.accept(envelope('b', '2026-01-01T00:00:02.000Z'));
    alerts.accept(envelope('c', '2026-01-01T00:00:03.000Z'));

    expect(alerts.recent().map((alert) => alert.messageId)).toEqual(['c', 'b']);
  });
});

describe('reading an alert', () => {
  it('takes the payment from the execution it names, else from a payment id in it', () => {
    expect(
      paymentIdIn('… Execution arn:aws:states:eu-west-2:1:execution:payment-to-vend-dev:pay_a1-B2.'),
    ).toBe('pay_a1-B2');
    expect(paymentIdIn('Payment pay_xyz is still open')).toBe('pay_xyz');
    expect(paymentIdIn('the queue is deep')).toBeNull();
  });

  it('reads a raw message (raw message delivery) as the alert itself', () => {
    const alert = alertOf('Payment pay_raw: vend failed', new Date('2026-01-01T00:00:00.000Z'));
    expect(alert).toMatchObject({
      message: 'Payment pay_raw: vend failed',
      subject: null,
      paymentId: 'pay_raw',
      publishedAt: '2026-01-01T00:00:00.000Z',
    });
    expect(alertOf('  ', new Date())).toBeUndefined();
  });
});

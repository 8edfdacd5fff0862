/**
 * The AWS CLI v2 (Debian's, at /usr/bin/aws) against the embedded SNS: the commands an operator types to
 * find the on-call topic, subscribe to it and publish. SNS speaks only the query protocol, so every CLI
 * speaks it; requests are told from SQS's by the `sns` in their signature's credential scope.
 * The CLI runs asynchronously: a synchronous child would block the event loop that has to answer it.
 */
import { CreateQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_CLI_INSTALLED, awsCli, cliTimeout, warnIfCliMissing } from '../../testing/aws-cli.ts';
import { eventually, type RunningAws, startAws } from './support.ts';

warnIfCliMissing('sns/test/aws-cli.test.ts');

describe.skipIf(!AWS_CLI_INSTALLED)('the AWS CLI v2 at /usr/bin/aws against SNS', () => {
  let running: RunningAws;

  beforeAll(async () => {
    running = await startAws();
  });

  afterAll(async () => {
    await running?.close();
  });

  const aws = (...args: string[]) => awsCli(running.aws.endpoint, 'sns', ...args);

  it('creates and lists topics, subscribes a queue, lists its subscriptions and publishes to it', {
    timeout: cliTimeout(5),
  }, async () => {
    // Prepare
    const { QueueUrl } = await running.sqs.send(new CreateQueueCommand({ QueueName: 'cli-alerts' }));
    const queueArn = 'arn:aws:sqs:us-east-1:000000000000:cli-alerts';

    // Act
    const created = await aws('create-topic', '--name', 'on-call', '--attributes', 'DisplayName=On call');
    const topicArn = (JSON.parse(created.stdout) as { TopicArn: string }).TopicArn;
    const listed = await aws('list-topics');
    const subscribed = await aws(
      'subscribe',
      '--topic-arn',
      topicArn,
      '--protocol',
      'sqs',
      '--notification-endpoint',
      queueArn,
      '--attributes',
      'RawMessageDelivery=true',
      '--return-subscription-arn',
    );
    const subscriptionArn = (JSON.parse(subscribed.stdout) as { SubscriptionArn: string }).SubscriptionArn;
    const subscriptions = await aws('list-subscriptions-by-topic', '--topic-arn', topicArn);
    const published = await aws(
      'publish',
      '--topic-arn',
      topicArn,
      '--subject',
      'Vend failed',
      '--message',
      'payment <p-1> & meter 9902000000019',
    );
    const messages = await eventually(
      async () =>
        (await running.sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }))).Messages ?? [],
      (received) => received.length > 0,
    );

    // Assess
    expect(created).toMatchObject({ exitCode: 0 });
    expect(topicArn).toBe('arn:aws:sns:us-east-1:000000000000:on-call');
    expect(JSON.parse(listed.stdout)).toEqual({ Topics: [{ TopicArn: topicArn }] });
    expect(subscriptionArn).toMatch(/^arn:aws:sns:us-east-1:000000000000:on-call:[0-9a-f-]{36}$/);
    expect(JSON.parse(subscriptions.stdout)).toEqual({
      Subscriptions: [
        {
          SubscriptionArn: subscriptionArn,
          Owner: '000000000000',
          Protocol: 'sqs',
          Endpoint: queueArn,
          TopicArn: topicArn,
        },
      ],
    });
    const { MessageId } = JSON.parse(published.stdout) as { MessageId: string };
    expect(MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(messages[0]?.Body).toBe('payment <p-1> & meter 9902000000019');
    expect(running.aws.sns.published(topicArn)).toMatchObject([
      { messageId: MessageId, subject: 'Vend failed' },
    ]);
  });

  it('reports a missing topic as SNS does', { timeout: cliTimeout(1) }, async () => {
    // Act
    const result = await aws(
      'publish',
      '--topic-arn',
      'arn:aws:sns:us-east-1:000000000000:nowhere',
      '--message',
      'lost',
    );

    // Assess
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain(
      'An error occurred (NotFound) when calling the Publish operation: Topic does not exist',
    );
  });
});

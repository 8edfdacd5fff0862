/**
 * Delivery: every Publish (through the API or Step Functions' `sns:publish`) reaches each subscription of
 * its topic: an SQS queue of the embedded SQS (the SNS envelope as the body, or the raw message), an HTTP
 * endpoint (a POST of the envelope with SNS's headers), retried until the endpoint takes it. Listeners hear
 * of every publish. Waits are bounded polls on what arrived, never on time.
 */

import { CreateStateMachineCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import {
  CreateTopicCommand,
  PublishCommand,
  SubscribeCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import { CreateQueueCommand, type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PublishedMessage } from '../sns-engine.ts';
import { eventually, type RunningAws, type Subscriber, startAws, startSubscriber } from './support.ts';

let running: RunningAws;
const subscribers: Subscriber[] = [];
beforeEach(async () => {
  running = await startAws();
});
afterEach(async () => {
  await running.close();
  for (const subscriber of subscribers.splice(0)) await subscriber.stop();
});

async function topic(name: string): Promise<string> {
  return (await running.sns.send(new CreateTopicCommand({ Name: name }))).TopicArn!;
}

async function queue(name: string): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await running.sqs.send(new CreateQueueCommand({ QueueName: name }));
  return { url: QueueUrl!, arn: `arn:aws:sqs:us-east-1:000000000000:${name}` };
}

async function subscriber(options: Parameters<typeof startSubscriber>[0] = {}): Promise<Subscriber> {
  const started = await startSubscriber(options);
  subscribers.push(started);
  return started;
}

async function receiveOne(QueueUrl: string): Promise<Message> {
  const messages = await eventually(
    async () =>
      (
        await running.sqs.send(
          new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
        )
      ).Messages ?? [],
    (received) => received.length > 0,
  );
  return messages[0]!;
}

describe('to an SQS queue', () => {
  it('sends the SNS envelope', async () => {
    // Prepare
    const TopicArn = await topic('alerts');
    const alerts = await queue('alerts');
    const { SubscriptionArn } = await running.sns.send(
      new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: alerts.arn }),
    );

    // Act
    const { MessageId } = await running.sns.send(
      new PublishCommand({
        TopicArn,
        Subject: 'Vend failed',
        Message: 'payment p-1 was charged but not vended',
        MessageAttributes: { severity: { DataType: 'String', StringValue: 'high' } },
      }),
    );
    const message = await receiveOne(alerts.url);

    // Assess
    const envelope = JSON.parse(message.Body!) as Record<string, unknown>;
    expect(Object.keys(envelope)).toEqual([
      'Type',
      'MessageId',
      'TopicArn',
      'Subject',
      'Message',
      'Timestamp',
      'SignatureVersion',
      'Signature',
      'SigningCertURL',
      'UnsubscribeURL',
      'MessageAttributes',
    ]);
    expect(envelope).toMatchObject({
      Type: 'Notification',
      MessageId,
      TopicArn,
      Subject: 'Vend failed',
      Message: 'payment p-1 was charged but not vended',
      SignatureVersion: '1',
      UnsubscribeURL: `${running.aws.endpoint}/?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(SubscriptionArn!)}`,
      MessageAttributes: { severity: { Type: 'String', Value: 'high' } },
    });
    expect(new Date(envelope.Timestamp as string).toISOString()).toBe(envelope.Timestamp);
    expect(message.MessageAttributes).toBeUndefined();
  });

  it('sends the raw message, with its attributes as the SQS message attributes', async () => {
    // Prepare
    const TopicArn = await topic('alerts');
    const alerts = await queue('raw-alerts');
    await running.sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: alerts.arn,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );

    // Act
    await running.sns.send(
      new PublishCommand({
        TopicArn,
        Subject: 'ignored when raw',
        Message: '{"paymentId":"p-1"}',
        MessageAttributes: { severity: { DataType: 'String', StringValue: 'high' } },
      }),
    );
    const message = await receiveOne(alerts.url);

    // Assess
    expect(message.Body).toBe('{"paymentId":"p-1"}');
    expect(message.MessageAttributes).toEqual({ severity: { DataType: 'String', StringValue: 'high' } });
  });

  it('sends the message meant for sqs under MessageStructure json', async () => {
    // Prepare
    const TopicArn = await topic('alerts');
    const alerts = await queue('structured');
    await running.sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: alerts.arn,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );

    // Act
    await running.sns.send(
      new PublishCommand({
        TopicArn,
        MessageStructure: 'json',
        Message: JSON.stringify({ default: 'for everyone', sqs: 'for queues' }),
      }),
    );
    const message = await receiveOne(alerts.url);

    // Assess
    expect(message.Body).toBe('for queues');
  });

  it('delivers to a queue created after the publish, once it exists', async () => {
    // Prepare
    const TopicArn = await topic('alerts');
    await running.sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: 'arn:aws:sqs:us-east-1:000000000000:late',
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
    await running.sns.send(new PublishCommand({ TopicArn, Message: 'waited for its queue' }));
    await eventually(
      () => running.aws.sns.owedDeliveries(),
      (owed) => owed.length === 1 && owed[0]!.failedAttempts > 0,
    );

    // Act
    const late = await queue('late');
    const message = await receiveOne(late.url);

    // Assess
    expect(message.Body).toBe('waited for its queue');
    await eventually(
      () => running.aws.sns.owedDeliveries(),
      (owed) => owed.length === 0,
    );
  });
});

describe('to an HTTP endpoint', () => {
  it('posts the envelope with the SNS headers', async () => {
    // Prepare
    const TopicArn = await topic('alerts');
    const endpoint = await subscriber();
    const { SubscriptionArn } = await running.sns.send(
      new SubscribeCommand({ TopicArn, Protocol: 'http', Endpoint: endpoint.url }),
    );

    // Act
    const { MessageId } = await running.sns.send(
      new PublishCommand({ TopicArn, Subject: 'Vend failed', Message: 'payment p-1 was not vended' }),
    );
    const [post] = await eventually(
      () => endpoint.accepted(),
      (posts) => posts.length > 0,
    );

    // Assess
    expect(post!.path).toBe('/sns');
    expect(post!.headers).toMatchObject({
      'content-type': 'text/plain; charset=UTF-8',
      'x-amz-sns-message-type': 'Notification',
      'x-amz-sns-message-id': MessageId,
      'x-amz-sns-topic-arn': TopicArn,
      'x-amz-sns-subscription-arn': SubscriptionArn,
    });
    expect(JSON.parse(post!.body)).toMatchObject({
      Type: 'Notification',
      MessageId,
      TopicArn,
      Subject: 'Vend failed',
      Message: 'payment p-1 was not vended',
    });
    expect(JSON.parse(post!.body)).not.toHaveProperty('MessageAttributes');
  });

  it('retries an endpoint that fails twice and delivers once it accepts', async () => {
    // Prepare
    const TopicArn = await topic('alerts');
    const endpoint = await subscriber({ failFirst: 2 });
    await running.sns.send(new SubscribeCommand({ TopicArn, Protocol: 'http', Endpoint: endpoint.url }));

    // Act
    const { MessageId } = await running.sns.send(
      new PublishCommand({ TopicArn, Message: 'third time lucky' }),
    );
    await eventually(
      () => running.aws.sns.owedDeliveries(),
      (owed) => owed.length === 0,
    );

    // Assess
    expect(endpoint.posts.map((post) => post.status)).toEqual([500, 500, 200]);
    expect(new Set(endpoint.posts.map((post) => post.headers['x-amz-sns-message-id']))).toEqual(
      new Set([MessageId]),
    );
    expect(endpoint.accepted()).toHaveLength(1);
  });

  it('delivers to an endpoint that was down when the message was published, once it is up', async () => {
    // Prepare
    const TopicArn = await topic('alerts');
    const endpoint = await subscriber({ listening: false });
    await running.sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'http',
        Endpoint: endpoint.url,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
    await running.sns.send(new PublishCommand({ TopicArn, Message: 'sent while you were out' }));
    await eventually(
      () => running.aws.sns.owedDeliveries(),
      (owed) => owed.length === 1 && owed[0]!.failedAttempts > 0,
    );

    // Act
    await endpoint.start();
    const [post] = await eventually(
      () => endpoint.accepted(),
      (posts) => posts.length > 0,
    );

    // Assess
    expect(post!.body).toBe('sent while you were out');
    expect(post!.headers['x-amz-sns-rawdelivery']).toBe('true');
  });

  it('stops delivering to an unsubscribed endpoint', async () => {
    // Prepare
    const TopicArn = await topic('alerts');
    const kept = await subscriber();
    const dropped = await subscriber();
    await running.sns.send(new SubscribeCommand({ TopicArn, Protocol: 'http', Endpoint: kept.url }));
    const { SubscriptionArn } = await running.sns.send(
      new SubscribeCommand({ TopicArn, Protocol: 'http', Endpoint: dropped.url }),
    );

    // Act
    await running.sns.send(new UnsubscribeCommand({ SubscriptionArn }));
    await running.sns.send(new PublishCommand({ TopicArn, Message: 'after unsubscribing' }));
    await eventually(
      () => kept.accepted(),
      (posts) => posts.length > 0,
    );
    await eventually(
      () => running.aws.sns.owedDeliveries(),
      (owed) => owed.length === 0,
    );

    // Assess
    expect(dropped.posts).toEqual([]);
  });
});

describe('from Step Functions', () => {
  it('delivers what an sns:publish task publishes, as an API Publish', async () => {
    // Prepare
    const TopicArn = await topic('on-call');
    const endpoint = await subscriber();
    await running.sns.send(new SubscribeCommand({ TopicArn, Protocol: 'http', Endpoint: endpoint.url }));
    const definition = {
      StartAt: 'Alert',
      States: {
        Alert: {
          Type: 'Task',
          Resource: 'arn:aws:states:::sns:publish',
          Parameters: {
            TopicArn,
            Subject: 'Vend failed',
            'Message.$': "States.Format('payment {}', $.paymentId)",
          },
          End: true,
        },
      },
    };
    const sfn = new SFNClient({
      endpoint: running.aws.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({
        name: 'alerting',
        definition: JSON.stringify(definition),
        roleArn: 'arn:aws:iam::000000000000:role/alerting',
      }),
    );

    // Act
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, input: '{"paymentId":"p-7"}' }),
    );
    sfn.destroy();
    await running.aws.stepFunctions.finished(executionArn!);
    const [post] = await eventually(
      () => endpoint.accepted(),
      (posts) => posts.length > 0,
    );

    // Assess
    expect(JSON.parse(post!.body)).toMatchObject({
      TopicArn,
      Subject: 'Vend failed',
      Message: 'payment p-7',
    });
  });
});

describe('onPublished', () => {
  it('tells a listener of each publish, and of those since a given time first', async () => {
    // Prepare
    const TopicArn = await topic('on-call');
    const before = Date.now();
    await running.sns.send(new PublishCommand({ TopicArn, Message: 'first' }));
    const heard: PublishedMessage[] = [];

    // Act
    const stop = running.aws.sns.onPublished((message) => heard.push(message), { since: before });
    await running.sns.send(new PublishCommand({ TopicArn, Subject: 'Second', Message: 'second' }));
    stop();
    await running.sns.send(new PublishCommand({ TopicArn, Message: 'third' }));

    // Assess
    expect(heard.map((message) => [message.subject, message.message])).toEqual([
      [undefined, 'first'],
      ['Second', 'second'],
    ]);
  });
});

/**
 * The SNS API through the real `@aws-sdk/client-sns` (the query protocol: form bodies, XML answers) against
 * the embedded AWS: topics, subscriptions, Publish, pagination and SNS's errors; and the shared endpoint,
 * where SNS and SQS query requests are told apart.
 */
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  InvalidParameterException,
  ListSubscriptionsByTopicCommand,
  ListSubscriptionsCommand,
  ListTopicsCommand,
  NotFoundException,
  PublishCommand,
  SetSubscriptionAttributesCommand,
  SetTopicAttributesCommand,
  SubscribeCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorOf, type RunningAws, startAws } from './support.ts';

const QUEUE_ARN = 'arn:aws:sqs:us-east-1:000000000000:alerts';

let running: RunningAws;
beforeEach(async () => {
  running = await startAws();
});
afterEach(async () => {
  await running.close();
});

async function topic(name: string, Attributes?: Record<string, string>): Promise<string> {
  const { TopicArn } = await running.sns.send(new CreateTopicCommand({ Name: name, Attributes }));
  return TopicArn!;
}

describe('topics', () => {
  it('creates a topic once by name and answers its attributes', async () => {
    // Act
    const first = await topic('on-call', { DisplayName: 'On call' });
    const again = await topic('on-call');
    const { Attributes } = await running.sns.send(new GetTopicAttributesCommand({ TopicArn: first }));

    // Assess
    expect(first).toBe('arn:aws:sns:us-east-1:000000000000:on-call');
    expect(again).toBe(first);
    expect(Attributes).toMatchObject({
      TopicArn: first,
      DisplayName: 'On call',
      Owner: '000000000000',
      SubscriptionsConfirmed: '0',
      SubscriptionsPending: '0',
      SubscriptionsDeleted: '0',
    });
  });

  it('refuses to create a topic again with other attributes', async () => {
    // Prepare
    await topic('on-call', { DisplayName: 'On call' });

    // Act
    const error = await errorOf(
      running.sns.send(new CreateTopicCommand({ Name: 'on-call', Attributes: { DisplayName: 'Other' } })),
    );

    // Assess
    expect(error).toBeInstanceOf(InvalidParameterException);
    expect(error.message).toBe(
      'Invalid parameter: Attributes Reason: Topic already exists with different attributes',
    );
  });

  it.each([
    ['a name with a space', 'on call'],
    ['an empty name', ''],
    ['a name over 256 characters', 'x'.repeat(257)],
  ])('refuses %s', async (_, Name) => {
    // Act
    const error = await errorOf(running.sns.send(new CreateTopicCommand({ Name })));

    // Assess
    expect(error).toBeInstanceOf(InvalidParameterException);
    expect(error.message).toBe('Invalid parameter: Topic Name');
  });

  it('lists topics 100 at a time with NextToken', async () => {
    // Prepare
    const created = new Set<string>();
    for (let index = 0; index < 205; index++) created.add(await topic(`topic-${index}`));

    // Act
    const pages: string[][] = [];
    let NextToken: string | undefined;
    do {
      const page = await running.sns.send(new ListTopicsCommand({ NextToken }));
      pages.push((page.Topics ?? []).map((t) => t.TopicArn!));
      NextToken = page.NextToken;
    } while (NextToken !== undefined);

    // Assess
    expect(pages.map((page) => page.length)).toEqual([100, 100, 5]);
    expect(new Set(pages.flat())).toEqual(created);
  });

  it('deletes a topic with its subscriptions, and deleting it again is no error', async () => {
    // Prepare
    const TopicArn = await topic('short-lived');
    await running.sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: QUEUE_ARN }));

    // Act
    await running.sns.send(new DeleteTopicCommand({ TopicArn }));
    await running.sns.send(new DeleteTopicCommand({ TopicArn }));
    const { Topics } = await running.sns.send(new ListTopicsCommand({}));
    const { Subscriptions } = await running.sns.send(new ListSubscriptionsCommand({}));
    const error = await errorOf(running.sns.send(new GetTopicAttributesCommand({ TopicArn })));

    // Assess
    expect(Topics ?? []).toEqual([]);
    expect(Subscriptions ?? []).toEqual([]);
    expect(error).toBeInstanceOf(NotFoundException);
    expect(error.message).toBe('Topic does not exist');
  });

  it('sets a topic attribute and refuses one SNS does not have', async () => {
    // Prepare
    const TopicArn = await topic('named');

    // Act
    await running.sns.send(
      new SetTopicAttributesCommand({ TopicArn, AttributeName: 'DisplayName', AttributeValue: 'Named' }),
    );
    const { Attributes } = await running.sns.send(new GetTopicAttributesCommand({ TopicArn }));
    const error = await errorOf(
      running.sns.send(
        new SetTopicAttributesCommand({ TopicArn, AttributeName: 'Colour', AttributeValue: 'red' }),
      ),
    );

    // Assess
    expect(Attributes?.DisplayName).toBe('Named');
    expect(error).toBeInstanceOf(InvalidParameterException);
    expect(error.message).toBe('Invalid parameter: AttributeName');
  });
});

describe('subscriptions', () => {
  it('subscribes a queue and a URL, lists them, and unsubscribes', async () => {
    // Prepare
    const TopicArn = await topic('alerts');

    // Act
    const queue = await running.sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: QUEUE_ARN,
        Attributes: { RawMessageDelivery: 'true' },
        ReturnSubscriptionArn: true,
      }),
    );
    const url = await running.sns.send(
      new SubscribeCommand({ TopicArn, Protocol: 'https', Endpoint: 'https://ops.example/alerts' }),
    );
    const again = await running.sns.send(
      new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: QUEUE_ARN }),
    );
    const byTopic = await running.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
    const { Attributes } = await running.sns.send(
      new GetSubscriptionAttributesCommand({ SubscriptionArn: queue.SubscriptionArn }),
    );
    await running.sns.send(new UnsubscribeCommand({ SubscriptionArn: url.SubscriptionArn }));
    const after = await running.sns.send(new ListSubscriptionsCommand({}));
    const topicAttributes = await running.sns.send(new GetTopicAttributesCommand({ TopicArn }));

    // Assess
    expect(queue.SubscriptionArn).toMatch(/^arn:aws:sns:us-east-1:000000000000:alerts:[0-9a-f-]{36}$/);
    expect(url.SubscriptionArn).toMatch(/^arn:aws:sns:us-east-1:000000000000:alerts:[0-9a-f-]{36}$/);
    expect(again.SubscriptionArn).toBe(queue.SubscriptionArn);
    expect(byTopic.Subscriptions).toHaveLength(2);
    expect(byTopic.Subscriptions).toContainEqual({
      SubscriptionArn: url.SubscriptionArn,
      Owner: '000000000000',
      Protocol: 'https',
      Endpoint: 'https://ops.example/alerts',
      TopicArn,
    });
    expect(Attributes).toMatchObject({
      SubscriptionArn: queue.SubscriptionArn,
      TopicArn,
      Protocol: 'sqs',
      Endpoint: QUEUE_ARN,
      RawMessageDelivery: 'true',
      PendingConfirmation: 'false',
    });
    expect(after.Subscriptions?.map((s) => s.SubscriptionArn)).toEqual([queue.SubscriptionArn]);
    expect(topicAttributes.Attributes?.SubscriptionsConfirmed).toBe('1');
  });

  it('turns raw message delivery on and off', async () => {
    // Prepare
    const TopicArn = await topic('alerts');
    const { SubscriptionArn } = await running.sns.send(
      new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: QUEUE_ARN }),
    );

    // Act
    await running.sns.send(
      new SetSubscriptionAttributesCommand({
        SubscriptionArn,
        AttributeName: 'RawMessageDelivery',
        AttributeValue: 'true',
      }),
    );
    const { Attributes } = await running.sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn }));

    // Assess
    expect(Attributes?.RawMessageDelivery).toBe('true');
  });

  it('lists subscriptions 100 at a time with NextToken', async () => {
    // Prepare
    const TopicArn = await topic('busy');
    for (let index = 0; index < 120; index++) {
      await running.sns.send(
        new SubscribeCommand({ TopicArn, Protocol: 'http', Endpoint: `http://127.0.0.1:9/hook-${index}` }),
      );
    }

    // Act
    const first = await running.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
    const second = await running.sns.send(
      new ListSubscriptionsByTopicCommand({ TopicArn, NextToken: first.NextToken }),
    );

    // Assess
    expect(first.Subscriptions).toHaveLength(100);
    expect(second.Subscriptions).toHaveLength(20);
    expect(second.NextToken).toBeUndefined();
    const endpoints = [...first.Subscriptions!, ...second.Subscriptions!].map((s) => s.Endpoint);
    expect(new Set(endpoints).size).toBe(120);
  });

  it.each([
    [
      'a protocol SNS does not have',
      'carrier-pigeon',
      'x',
      'Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon',
    ],
    [
      'a protocol nothing here delivers to',
      'email',
      'ops@example.com',
      'Invalid parameter: Protocol Reason: the embedded SNS delivers to sqs, http and https subscriptions only, not email',
    ],
    ['a queue that is not an SQS ARN', 'sqs', 'https://sqs.example/q', 'Invalid parameter: SQS endpoint ARN'],
    [
      'an http subscription to an https URL',
      'http',
      'https://ops.example/',
      'Invalid parameter: Endpoint Reason: must be a http:// URL for protocol http',
    ],
  ])('refuses %s', async (_, Protocol, Endpoint, message) => {
    // Prepare
    const TopicArn = await topic('alerts');

    // Act
    const error = await errorOf(running.sns.send(new SubscribeCommand({ TopicArn, Protocol, Endpoint })));

    // Assess
    expect(error).toBeInstanceOf(InvalidParameterException);
    expect(error.message).toBe(message);
  });

  it('refuses a filter policy rather than ignore it', async () => {
    // Prepare
    const TopicArn = await topic('alerts');

    // Act
    const error = await errorOf(
      running.sns.send(
        new SubscribeCommand({
          TopicArn,
          Protocol: 'sqs',
          Endpoint: QUEUE_ARN,
          Attributes: { FilterPolicy: '{"severity":["high"]}' },
        }),
      ),
    );

    // Assess
    expect(error).toBeInstanceOf(InvalidParameterException);
    expect(error.message).toContain('FilterPolicy is not supported by the embedded SNS');
  });

  it('answers NotFound for a missing topic or subscription', async () => {
    // Act
    const subscribe = await errorOf(
      running.sns.send(
        new SubscribeCommand({
          TopicArn: 'arn:aws:sns:us-east-1:000000000000:missing',
          Protocol: 'sqs',
          Endpoint: QUEUE_ARN,
        }),
      ),
    );
    const attributes = await errorOf(
      running.sns.send(
        new GetSubscriptionAttributesCommand({
          SubscriptionArn: 'arn:aws:sns:us-east-1:000000000000:missing:0f0c4c0e-0000-4000-8000-000000000000',
        }),
      ),
    );

    // Assess
    expect(subscribe).toBeInstanceOf(NotFoundException);
    expect(subscribe.message).toBe('Topic does not exist');
    expect(subscribe.$metadata).toMatchObject({ httpStatusCode: 404 });
    expect(attributes).toBeInstanceOf(NotFoundException);
    expect(attributes.message).toBe('Subscription does not exist');
  });
});

describe('Publish', () => {
  it('answers a message id and keeps what was published, subject and attributes included', async () => {
    // Prepare
    const TopicArn = await topic('alerts');

    // Act
    const { MessageId } = await running.sns.send(
      new PublishCommand({
        TopicArn,
        Subject: 'Vend failed',
        Message: 'payment p-1 was charged but not vended',
        MessageAttributes: {
          severity: { DataType: 'String', StringValue: 'high' },
          attempts: { DataType: 'Number', StringValue: '3' },
          trace: { DataType: 'Binary', BinaryValue: Uint8Array.of(1, 2, 255) },
        },
      }),
    );

    // Assess
    expect(MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(running.aws.sns.published(TopicArn)).toEqual([
      {
        messageId: MessageId,
        topicArn: TopicArn,
        subject: 'Vend failed',
        message: 'payment p-1 was charged but not vended',
        messageAttributes: {
          severity: { DataType: 'String', StringValue: 'high' },
          attempts: { DataType: 'Number', StringValue: '3' },
          trace: { DataType: 'Binary', BinaryValue: 'AQL/' },
        },
        publishedAt: expect.any(Number),
      },
    ]);
  });

  it.each([
    [
      'a topic that does not exist',
      { TopicArn: 'arn:aws:sns:us-east-1:000000000000:missing', Message: 'm' },
      NotFoundException,
      'Topic does not exist',
    ],
    ['an empty message', { Message: '' }, InvalidParameterException, 'Invalid parameter: Empty message'],
    [
      'a topic ARN that is not one',
      { TopicArn: 'on-call', Message: 'm' },
      InvalidParameterException,
      'Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1',
    ],
    [
      'a subject on two lines',
      { Subject: 'two\nlines', Message: 'm' },
      InvalidParameterException,
      'Invalid parameter: Subject',
    ],
    [
      'a message over 256 KiB',
      { Message: 'x'.repeat(262_145) },
      InvalidParameterException,
      'Invalid parameter: Message too long',
    ],
    [
      'a JSON message structure without a default',
      { MessageStructure: 'json', Message: '{"sqs":"only"}' },
      InvalidParameterException,
      'Invalid parameter: Message Structure - No default entry in JSON message body',
    ],
    [
      'an attribute without a value',
      { Message: 'm', MessageAttributes: { severity: { DataType: 'String' } } },
      InvalidParameterException,
      "Invalid parameter: MessageAttributes Reason: The message attribute 'severity' must contain a non-empty StringValue for type String",
    ],
  ])('refuses %s', async (_, input, type, message) => {
    // Prepare
    const TopicArn = await topic('alerts');

    // Act
    const error = await errorOf(running.sns.send(new PublishCommand({ TopicArn, ...input })));

    // Assess
    expect(error).toBeInstanceOf(type);
    expect(error.message).toBe(message);
    expect(running.aws.sns.published()).toEqual([]);
  });
});

describe('the shared endpoint', () => {
  async function post(body: string, headers: Record<string, string> = {}) {
    const response = await fetch(running.aws.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
    });
    return { status: response.status, text: await response.text() };
  }

  it('answers an action SNS does not have with InvalidAction, as SNS', async () => {
    // Act
    const answer = await post('Action=ConfirmSubscription&Version=2010-03-31', {
      authorization:
        'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=00',
    });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.text).toMatch(
      /^<\?xml version="1.0"\?><ErrorResponse xmlns="http:\/\/sns.amazonaws.com\/doc\/2010-03-31\/"><Error><Type>Sender<\/Type><Code>InvalidAction<\/Code><Message>The action or operation requested is invalid\. Verify that the action is typed correctly\.<\/Message><\/Error><RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>$/,
    );
  });

  it('tells unsigned SNS and SQS requests apart by their action', async () => {
    // Prepare
    await topic('alerts');

    // Act
    const sns = await post('Version=2010-03-31&Action=ListTopics');
    const sqs = await post('Version=2012-11-05&Action=ListQueues');

    // Assess
    expect(sns.text).toContain('<ListTopicsResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">');
    expect(sns.text).toContain('<TopicArn>arn:aws:sns:us-east-1:000000000000:alerts</TopicArn>');
    expect(sqs.status).toBe(200);
    expect(sqs.text).toContain('<ListQueuesResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">');
  });

  it('unsubscribes on a GET of the UnsubscribeURL', async () => {
    // Prepare
    const TopicArn = await topic('alerts');
    const { SubscriptionArn } = await running.sns.send(
      new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: QUEUE_ARN }),
    );

    // Act
    const response = await fetch(
      `${running.aws.endpoint}/?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(SubscriptionArn!)}`,
    );
    const text = await response.text();

    // Assess
    expect(response.status).toBe(200);
    expect(text).toContain('<UnsubscribeResponse');
    expect(running.aws.sns.subscriptions()).toEqual([]);
  });
});

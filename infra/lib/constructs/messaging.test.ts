import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { bareStack } from '../../testing/bare-stack.ts';
import { Messaging } from './messaging.ts';

describe('Messaging', () => {
  let template: Template;
  let messaging: Messaging;
  beforeAll(() => {
    const { stack, settings } = bareStack('production');
    messaging = new Messaging(stack, 'Messaging', { settings });
    template = Template.fromStack(stack);
  });

  const sourceQueues = () =>
    Object.values(template.findResources('AWS::SQS::Queue')).filter(
      (queue) => queue.Properties.RedrivePolicy !== undefined,
    );

  it('has the three queues, each with its own dead-letter queue', () => {
    template.resourceCountIs('AWS::SQS::Queue', 6);
    expect(sourceQueues()).toHaveLength(3);
    const deadLetterTargets = sourceQueues().map((queue) => JSON.stringify(queue.Properties.RedrivePolicy));
    expect(new Set(deadLetterTargets).size).toBe(3);
  });

  it('keeps dead letters 14 days, longer than any source queue keeps its messages', () => {
    for (const queue of Object.values(template.findResources('AWS::SQS::Queue'))) {
      const retention = queue.Properties.MessageRetentionPeriod as number;
      if (queue.Properties.RedrivePolicy === undefined) expect(retention).toBe(14 * 24 * 3600);
      else expect(retention).toBeLessThan(14 * 24 * 3600);
    }
  });

  it('encrypts every queue with the customer managed key, which rotates', () => {
    for (const queue of Object.values(template.findResources('AWS::SQS::Queue'))) {
      expect(queue.Properties.KmsMasterKeyId).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^MessagingKey/), 'Arn'],
      });
    }
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('refuses requests without TLS on every queue and the topic', () => {
    template.resourceCountIs('AWS::SQS::QueuePolicy', 6);
    for (const policy of Object.values(template.findResources('AWS::SQS::QueuePolicy'))) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('hides a PaymentSuccess message for six times the meter-vending timeout', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 360,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }),
    });
    expect(messaging.queues.paymentSuccess).toBeDefined();
  });

  it('encrypts the on-call topic with the key', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MessagingKey'), 'Arn'] },
    });
  });
});

describe('the on-call topic', () => {
  it.each(['dev', 'production'] as const)('pages the subscribers %s names', (name) => {
    // Prepare
    const { stack, settings } = bareStack(name);

    // Act
    new Messaging(stack, 'Messaging', { settings });

    // Assess
    const subscribed = Object.values(Template.fromStack(stack).findResources('AWS::SNS::Subscription')).map(
      (subscription) => [subscription.Properties.Protocol, subscription.Properties.Endpoint],
    );
    expect(subscribed).toEqual(
      settings.onCall.subscriptions.map((subscriber) =>
        subscriber.protocol === 'email' ? ['email', subscriber.address] : ['https', subscriber.url],
      ),
    );
    expect(subscribed.length).toBeGreaterThan(0);
  });

  it('refuses to synthesize a production that pages nobody', () => {
    // Prepare
    const { app, stack, settings } = bareStack('production');
    new Messaging(stack, 'Messaging', { settings: { ...settings, onCall: { subscriptions: [] } } });

    // Act
    const synthesis = () => app.synth();

    // Assess
    expect(synthesis).toThrow(/Production needs at least one on-call subscription/);
  });

  it('lets another environment synthesize without subscribers', () => {
    // Prepare
    const { app, stack, settings } = bareStack('staging');
    new Messaging(stack, 'Messaging', { settings: { ...settings, onCall: { subscriptions: [] } } });

    // Act
    const synthesis = () => app.synth();

    // Assess
    expect(synthesis).not.toThrow();
  });
});

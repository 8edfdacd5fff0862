/**
 * The queues and the on-call topic of the PaymentToVend workflow.
 *
 * | queue | written by | read by |
 * | --- | --- | --- |
 * | PaymentSuccess | Vend (with a task token) | the meter-vending Lambda |
 * | PaymentFailure | PublishPaymentFailure | operators, for follow-up |
 * | VendingFailure | PublishVendingFailure | operators, for follow-up |
 *
 * The queues' settings are the topology's (system/topology.ts), as locally. Every queue has a dead-letter queue
 * that keeps messages 14 days (the SQS maximum), longer than its source; every queue and the topic are encrypted with one customer
 * managed key (rotation on) and refuse requests without TLS. PaymentSuccess hides a received message for six
 * times the meter-vending Lambda's timeout, as AWS advises for an SQS event source, so a batch still being
 * worked on is not delivered twice.
 *
 * The on-call topic pages the subscribers each environment names (infra/lib/environments.ts); production
 * refuses to synthesize without one.
 *
 * Besides IAM grants, the key lets CloudWatch alarm actions (this account's) and EventBridge targets use it.
 *
 * @example
 * const messaging = new Messaging(this, 'Messaging', { settings });
 * messaging.queues.paymentSuccess; messaging.deadLetterQueues.vendingFailure; messaging.onCallTopic;
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type QueueKey, topologyFor } from '../../../system/topology.ts';
import type { EnvironmentSettings } from '../environments.ts';

export interface MessagingProps {
  readonly settings: EnvironmentSettings;
}

export type QueueName = QueueKey;

export class Messaging extends Construct {
  public readonly queues: Readonly<Record<QueueName, sqs.Queue>>;
  public readonly deadLetterQueues: Readonly<Record<QueueName, sqs.Queue>>;
  /** Pages the on-call operators (subscriptions are managed outside this app). */
  public readonly onCallTopic: sns.Topic;
  /** Encrypts every queue and the topic. */
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: MessagingProps) {
    super(scope, id);
    const { settings } = props;

    this.key = new kms.Key(this, 'Key', {
      description: `${settings.title}: PaymentToVend queues and on-call topic`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Services that send to an encrypted queue or topic on the account's behalf need the key. CloudWatch alarm
    // actions (to the on-call topic) carry the source account, so they are held to this account.
    const { account } = Stack.of(this);
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': account } },
      }),
    );
    // EventBridge rules targeting the topic or a queue: EventBridge's KMS requests carry no source account or
    // ARN, so no such condition can apply; the topic's and queues' own policies decide who may send.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EventBridgeTargets',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );

    const topology = topologyFor(settings);
    const queues = {} as Record<QueueName, sqs.Queue>;
    const deadLetterQueues = {} as Record<QueueName, sqs.Queue>;
    for (const queueName of Object.keys(topology.queues) as QueueName[]) {
      const spec = topology.queues[queueName];
      const deadLetterQueue = new sqs.Queue(this, `${spec.name}DeadLetter`, {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: this.key,
        enforceSSL: true,
        retentionPeriod: Duration.days(spec.deadLetter.retentionDays),
        removalPolicy: RemovalPolicy.RETAIN,
      });
      queues[queueName] = new sqs.Queue(this, spec.name, {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: this.key,
        // Fewer KMS calls: SQS reuses a data key for this long.
        dataKeyReuse: Duration.minutes(5),
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
        retentionPeriod: Duration.days(spec.retentionDays),
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: spec.deadLetter.maxReceiveCount },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      deadLetterQueues[queueName] = deadLetterQueue;
    }
    this.queues = queues;
    this.deadLetterQueues = deadLetterQueues;

    this.onCallTopic = new sns.Topic(this, 'OnCall', {
      displayName: `PaymentToVend on-call (${settings.title})`,
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const subscriber of settings.onCall.subscriptions) {
      this.onCallTopic.addSubscription(
        subscriber.protocol === 'email'
          ? new subscriptions.EmailSubscription(subscriber.address)
          : new subscriptions.UrlSubscription(subscriber.url, { protocol: sns.SubscriptionProtocol.HTTPS }),
      );
    }
    // A production whose alarms and AlertOnCall steps page nobody must not deploy.
    this.node.addValidation({
      validate: () =>
        settings.name === 'production' && settings.onCall.subscriptions.length === 0
          ? [
              'Production needs at least one on-call subscription (infra/lib/environments.ts, onCall.subscriptions)',
            ]
          : [],
    });
  }
}

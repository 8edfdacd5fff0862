/**
 * The account's audit trail: a CloudTrail trail of every region's management events, and the data events
 * (sends and deletes of messages) of the flow's queues, KMS-encrypted, with log file validation, to an
 * encrypted S3 bucket that refuses plain HTTP and logs its own access, and to CloudWatch Logs for search
 * and for EventBridge (see `EventLogging`). PCI DSS 10.
 *
 * The bucket is the record that has to survive (PCI DSS 10.5.1: a year of audit log history, the last three
 * months immediately available). S3 Object Lock in COMPLIANCE mode keeps every log file version for
 * `AUDIT_LOG_RETENTION` from when it was written: nobody, the account root included, can delete or overwrite
 * it or shorten its lock, and the lock cannot be turned off. Its lifecycle moves files to Glacier Flexible
 * Retrieval only after the three months and expires them only after the lock. The CloudWatch Logs copy is for
 * searching, kept for the environment's `retention`.
 *
 * @example
 * new AuditTrail(this, 'AuditTrail', {
 *   trailName: 'payment-to-vend-production',
 *   retention: logs.RetentionDays.ONE_YEAR,
 *   dataEventQueues: [paymentSuccess, paymentFailure, vendingFailure],
 * });
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeInlinePolicy } from '../compliance.ts';
import { logGroupEncryptionKey } from './monitoring.ts';

/**
 * How long each log file in the audit bucket is locked against deletion: PCI DSS 10.5.1 asks for at least 12
 * months of audit log history, and 366 days is 12 months whichever months they are.
 */
export const AUDIT_LOG_RETENTION = Duration.days(366);

/** How long log files stay in S3 Standard, immediately available (PCI DSS 10.5.1: the last three months). */
export const AUDIT_LOG_IMMEDIATELY_AVAILABLE = Duration.days(92);

export interface AuditTrailProps {
  /** The trail's name (unique in the account and region); the key policy names it. */
  readonly trailName: string;
  /**
   * How long the CloudWatch Logs copy is kept; the S3 copy is locked for `AUDIT_LOG_RETENTION`, and kept that
   * long or this long, whichever is longer.
   */
  readonly retention: logs.RetentionDays;
  /** Queues whose data events (SendMessage, DeleteMessage, …; not ReceiveMessage) are recorded. */
  readonly dataEventQueues: readonly IQueue[];
  /** @default RemovalPolicy.RETAIN: audit records outlive the stack. */
  readonly removalPolicy?: RemovalPolicy;
}

export class AuditTrail extends Construct {
  public readonly trail: cloudtrail.Trail;
  /** Encrypts the trail, its bucket and its log group. */
  public readonly encryptionKey: kms.Key;
  public readonly bucket: s3.Bucket;
  public readonly accessLogsBucket: s3.Bucket;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AuditTrailProps) {
    super(scope, id);
    const { region, account, partition } = Stack.of(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const trailArn = `arn:${partition}:cloudtrail:${region}:${account}:trail/${props.trailName}`;

    this.encryptionKey = logGroupEncryptionKey(this, 'Key', `Encrypts the ${props.trailName} audit trail`);
    // CloudTrail encrypts each log file with a data key from this key, for this trail only.
    this.encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudTrailEncryptsThisTrailsLogs',
        principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
        actions: ['kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceArn': trailArn },
          StringLike: {
            'kms:EncryptionContext:aws:cloudtrail:arn': `arn:${partition}:cloudtrail:*:${account}:trail/*`,
          },
        },
      }),
    );
    this.encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudTrailDescribesTheKey',
        principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
        actions: ['kms:DescribeKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceArn': trailArn } },
      }),
    );

    // Kept for the lock, or for the log group's retention when that is longer (a lifecycle rule may not
    // expire anything sooner than the lock allows).
    const keptDays = Math.max(Number(props.retention), AUDIT_LOG_RETENTION.toDays());
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      // S3 server access logging delivers only to a bucket with SSE-S3 default encryption.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // Object ownership is left to CDK: S3 log delivery is granted by ACL or by bucket policy depending on
      // the app's feature flags, and each needs its own setting.
      versioned: true,
      // Who read or tried to change the audit trail is audit history too. S3 cannot lock a bucket that
      // receives server access logs, so a deleted log's version is kept as long instead.
      lifecycleRules: [
        { expiration: Duration.days(keptDays), noncurrentVersionExpiration: Duration.days(keptDays) },
      ],
      removalPolicy,
    });
    acknowledge(this.accessLogsBucket, [
      [
        'PCI.DSS.321-S3DefaultEncryptionKMS',
        'S3 server access logs can only be delivered to a bucket encrypted with SSE-S3, not SSE-KMS.',
      ],
      [
        'PCI.DSS.321-S3BucketReplicationEnabled',
        'Customer and audit data stay in eu-west-2 (UK residency); versioning keeps overwritten or deleted objects.',
      ],
    ]);

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      // Only when the bucket is created: S3 cannot lock the files of an existing bucket retroactively.
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(AUDIT_LOG_RETENTION),
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'audit-trail-bucket/',
      lifecycleRules: [
        {
          // Nothing expires while it is locked (S3 would refuse to delete it anyway); a version made
          // noncurrent (a delete marker over it) is kept as long as a current one.
          expiration: Duration.days(keptDays),
          noncurrentVersionExpiration: Duration.days(keptDays),
          // Older than three months need not be immediately available: Glacier Flexible Retrieval costs about a
          // fifth of Standard and restores in minutes to hours when an investigation needs it. (S3 leaves files
          // under 128 KB in Standard, where the transition would cost more than it saves.)
          transitions: [
            { storageClass: s3.StorageClass.GLACIER, transitionAfter: AUDIT_LOG_IMMEDIATELY_AVAILABLE },
          ],
          noncurrentVersionTransitions: [
            { storageClass: s3.StorageClass.GLACIER, transitionAfter: AUDIT_LOG_IMMEDIATELY_AVAILABLE },
          ],
        },
      ],
      removalPolicy,
    });
    acknowledge(this.bucket, [
      [
        'PCI.DSS.321-S3BucketReplicationEnabled',
        'Audit data stay in eu-west-2 (UK residency); Object Lock (compliance mode), versioning and CloudTrail log file validation protect them against loss and tampering.',
      ],
    ]);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      encryptionKey: this.encryptionKey,
      retention: props.retention,
      removalPolicy,
    });

    this.trail = new cloudtrail.Trail(this, 'Trail', {
      trailName: props.trailName,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      enableFileValidation: true,
      encryptionKey: this.encryptionKey,
      bucket: this.bucket,
      sendToCloudWatchLogs: true,
      cloudWatchLogGroup: this.logGroup,
    });
    const logsRole = this.trail.node.tryFindChild('LogsRole');
    if (logsRole !== undefined) {
      acknowledgeInlinePolicy(
        logsRole,
        'CloudTrail may only create streams in and write to this trail’s log group.',
      );
    }
    // Advanced event selectors: every management event, and the queues' write data events. (Classic
    // selectors cannot name SQS queues.)
    const cfnTrail = this.trail.node.defaultChild as cloudtrail.CfnTrail;
    cfnTrail.addPropertyDeletionOverride('EventSelectors');
    cfnTrail.advancedEventSelectors = [
      {
        name: 'All management events',
        fieldSelectors: [{ field: 'eventCategory', equalTo: ['Management'] }],
      },
      ...(props.dataEventQueues.length > 0
        ? [
            {
              name: 'Message writes on the payment queues',
              fieldSelectors: [
                { field: 'eventCategory', equalTo: ['Data'] },
                { field: 'resources.type', equalTo: ['AWS::SQS::Queue'] },
                { field: 'readOnly', equalTo: ['false'] },
                { field: 'resources.ARN', equalTo: props.dataEventQueues.map((queue) => queue.queueArn) },
              ],
            },
          ]
        : []),
    ];
  }
}

function acknowledge(scope: Construct, findings: readonly (readonly [id: string, reason: string])[]): void {
  const resource = scope.node.defaultChild ?? scope;
  for (const [id, reason] of findings) Validations.of(resource).acknowledge({ id, reason });
}

import { type App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { constructTestApp } from '../../testing/bare-stack.ts';
import { monitoredResources, TEST_ENV } from '../../testing/monitored-resources.ts';
import { unsuppressedFindings } from '../../testing/nag.ts';
import { applyCompliance } from '../compliance.ts';
import { AUDIT_LOG_IMMEDIATELY_AVAILABLE, AUDIT_LOG_RETENTION, AuditTrail } from './audit-trail.ts';

describe('AuditTrail', () => {
  let app: App;
  let template: Template;

  beforeAll(() => {
    app = constructTestApp();
    const stack = new Stack(app, 'Audit', { env: TEST_ENV });
    const { queues, deadLetterQueues } = monitoredResources(stack);
    new AuditTrail(stack, 'AuditTrail', {
      trailName: 'payment-to-vend-test',
      retention: logs.RetentionDays.ONE_YEAR,
      dataEventQueues: [...Object.values(queues), ...Object.values(deadLetterQueues)],
    });
    applyCompliance(app);
    template = Template.fromStack(stack);
  });

  it('records every region, KMS-encrypted, with log file validation, to S3 and CloudWatch Logs', () => {
    template.hasResourceProperties('AWS::CloudTrail::Trail', {
      TrailName: 'payment-to-vend-test',
      IsLogging: true,
      IsMultiRegionTrail: true,
      IncludeGlobalServiceEvents: true,
      EnableLogFileValidation: true,
      KMSKeyId: Match.anyValue(),
      S3BucketName: Match.anyValue(),
      CloudWatchLogsLogGroupArn: Match.anyValue(),
      CloudWatchLogsRoleArn: Match.anyValue(),
    });
  });

  it('records all management events and the message writes on the payment queues', () => {
    const trail = Object.values(template.findResources('AWS::CloudTrail::Trail'))[0] as {
      Properties: {
        AdvancedEventSelectors: { FieldSelectors: { Field: string; Equals: unknown[] }[] }[];
        EventSelectors?: unknown;
      };
    };
    expect(trail.Properties.EventSelectors).toBeUndefined();
    const [management, data] = trail.Properties.AdvancedEventSelectors;
    expect(management?.FieldSelectors).toEqual([{ Field: 'eventCategory', Equals: ['Management'] }]);
    expect(data?.FieldSelectors).toEqual(
      expect.arrayContaining([
        { Field: 'eventCategory', Equals: ['Data'] },
        { Field: 'resources.type', Equals: ['AWS::SQS::Queue'] },
        { Field: 'readOnly', Equals: ['false'] },
      ]),
    );
    const arns = data?.FieldSelectors.find((selector) => selector.Field === 'resources.ARN')?.Equals;
    expect(arns).toHaveLength(6);
  });

  it('keeps the logs in a KMS-encrypted, versioned, private bucket that refuses plain HTTP and logs access', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) }),
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: Match.objectLike({ DestinationBucketName: Match.anyValue() }),
    });
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy'));
    expect(policies).toHaveLength(2);
    for (const policy of policies) {
      expect(JSON.stringify(policy)).toContain('"aws:SecureTransport":"false"');
    }
  });

  it('locks every log file in compliance mode for at least the 12 months PCI DSS 10.5.1 asks', () => {
    // Act
    const lockedDays = AUDIT_LOG_RETENTION.toDays();

    // Assess
    expect(lockedDays).toBeGreaterThanOrEqual(366);
    template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: lockedDays } },
      },
      VersioningConfiguration: { Status: 'Enabled' },
    });
  });

  it.each([
    ['a year, as the CloudWatch Logs copy', logs.RetentionDays.ONE_YEAR, 366],
    ['a month only for the CloudWatch Logs copy', logs.RetentionDays.ONE_MONTH, 366],
    ['two years for the CloudWatch Logs copy', logs.RetentionDays.TWO_YEARS, 731],
  ])(
    'never expires a log file, current or not, while it is locked (%s), and keeps three months immediately available',
    (_, retention, keptDays) => {
      // Prepare
      const stack = new Stack(constructTestApp(), 'Audit', { env: TEST_ENV });

      // Act
      new AuditTrail(stack, 'AuditTrail', {
        trailName: 'payment-to-vend-test',
        retention,
        dataEventQueues: [],
      });

      // Assess
      const buckets = Template.fromStack(stack).findResources('AWS::S3::Bucket');
      const rules = Object.values(buckets).flatMap(
        (bucket) =>
          (bucket.Properties.LifecycleConfiguration?.Rules ?? []) as {
            ExpirationInDays?: number;
            NoncurrentVersionExpiration?: { NoncurrentDays: number };
            Transitions?: { StorageClass: string; TransitionInDays: number }[];
          }[],
      );
      // The audit bucket and its access-log bucket (who read or tried to change the audit trail).
      expect(rules).toHaveLength(2);
      for (const rule of rules) {
        expect(rule.ExpirationInDays).toBe(keptDays);
        expect(rule.NoncurrentVersionExpiration?.NoncurrentDays).toBe(keptDays);
        for (const transition of rule.Transitions ?? []) {
          expect(transition.TransitionInDays).toBeGreaterThanOrEqual(
            AUDIT_LOG_IMMEDIATELY_AVAILABLE.toDays(),
          );
        }
      }
      expect(AUDIT_LOG_IMMEDIATELY_AVAILABLE.toDays()).toBeGreaterThanOrEqual(92);
    },
  );

  it('lets CloudTrail use the key for this trail only', () => {
    const [key] = Object.values(template.findResources('AWS::KMS::Key'));
    const statements = (
      key as { Properties: { KeyPolicy: { Statement: { Sid?: string; Action: unknown }[] } } }
    ).Properties.KeyPolicy.Statement;
    const encrypt = JSON.stringify(
      statements.find((statement) => statement.Sid === 'CloudTrailEncryptsThisTrailsLogs'),
    );
    expect(encrypt).toContain('"cloudtrail.amazonaws.com"');
    expect(encrypt).toContain('"kms:GenerateDataKey*"');
    expect(encrypt).toContain(`:cloudtrail:eu-west-2:${TEST_ENV.account}:trail/payment-to-vend-test`);
    expect(encrypt).toContain('kms:EncryptionContext:aws:cloudtrail:arn');
  });

  it('keeps the CloudWatch Logs copy encrypted for the retention asked', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      RetentionInDays: 365,
      KmsKeyId: Match.anyValue(),
    });
  });

  it('has no unacknowledged AWS Solutions or PCI DSS findings', () => {
    expect(unsuppressedFindings(app)).toEqual([]);
  });
});

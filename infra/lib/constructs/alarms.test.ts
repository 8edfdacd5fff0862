import { type App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PAYMENT_TO_VEND_DEFAULTS } from '../../../workflow/payment-to-vend.ts';
import { constructTestApp } from '../../testing/bare-stack.ts';
import { monitoredResources, onCallTopic, TEST_ENV } from '../../testing/monitored-resources.ts';
import { unsuppressedFindings } from '../../testing/nag.ts';
import { applyCompliance } from '../compliance.ts';
import { DEFAULT_ALARM_THRESHOLDS, OperationalAlarms } from './alarms.ts';

const TOPIC_ARN = `arn:aws:sns:${TEST_ENV.region}:${TEST_ENV.account}:OnCall`;

/** The metrics issue 5 asks alarms on, with the dimension that says which resource is watched. */
const REQUIRED = [
  ['AWS/States', 'ExecutionsTimedOut'],
  ['AWS/States', 'ExecutionsAborted'],
  ['AWS/States', 'ExecutionThrottled'],
  ['AWS/SQS', 'ApproximateNumberOfMessagesVisible'],
  ['AWS/SQS', 'ApproximateAgeOfOldestMessage'],
  ['AWS/Lambda', 'Errors'],
  ['AWS/Lambda', 'Throttles'],
  ['AWS/ApplicationELB', 'HTTPCode_ELB_5XX_Count'],
  ['AWS/ApplicationELB', 'HTTPCode_Target_5XX_Count'],
  ['AWS/ApplicationELB', 'UnHealthyHostCount'],
  ['AWS/ECS', 'CPUUtilization'],
  ['AWS/ECS', 'MemoryUtilization'],
  ['AWS/RDS', 'ACUUtilization'],
  ['AWS/RDS', 'Deadlocks'],
  ['PaymentToVend', 'FrontEndDeploymentsFailed'],
] as const;

interface AlarmProperties {
  readonly AlarmName: string;
  readonly AlarmActions?: unknown[];
  readonly OKActions?: unknown[];
  readonly TreatMissingData?: string;
  readonly Namespace?: string;
  readonly MetricName?: string;
  readonly Dimensions?: { Name: string; Value: unknown }[];
  readonly Metrics?: { Id: string; MetricStat?: { Metric: { Namespace: string; MetricName: string } } }[];
}

describe('OperationalAlarms', () => {
  let template: Template;
  let alarms: AlarmProperties[];
  let app: App;

  beforeAll(() => {
    app = constructTestApp();
    const stack = new Stack(app, 'Alarms', { env: TEST_ENV });
    new OperationalAlarms(stack, 'Alarms', {
      resources: monitoredResources(stack),
      onCallTopic: onCallTopic(stack),
      alarmNamePrefix: 'PaymentToVend-test',
      environmentTitle: 'Test',
      frontEndDeploymentEvents: logs.LogGroup.fromLogGroupName(
        stack,
        'DeploymentEvents',
        '/aws/events/payment-to-vend/ecs-deployments',
      ),
    });
    applyCompliance(app);
    template = Template.fromStack(stack);
    alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (resource) => (resource as { Properties: AlarmProperties }).Properties,
    );
  });

  it('pages the on-call topic on alarm and on recovery, from every alarm', () => {
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions, alarm.AlarmName).toEqual([TOPIC_ARN]);
      expect(alarm.OKActions, alarm.AlarmName).toEqual([TOPIC_ARN]);
    }
  });

  it('chooses what missing data means on every alarm', () => {
    for (const alarm of alarms) {
      expect(['breaching', 'notBreaching', 'ignore', 'missing'], alarm.AlarmName).toContain(
        alarm.TreatMissingData,
      );
    }
  });

  it.each(REQUIRED)('alarms on %s %s', (namespace, metricName) => {
    const watched = alarms.filter(
      (alarm) =>
        (alarm.Namespace === namespace && alarm.MetricName === metricName) ||
        alarm.Metrics?.some(
          (metric) =>
            metric.MetricStat?.Metric.Namespace === namespace &&
            metric.MetricStat.Metric.MetricName === metricName,
        ),
    );
    expect(watched.length).toBeGreaterThan(0);
  });

  it('alarms on the execution failure rate, since a declined card also ends in a Fail state', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'PaymentToVend-test-ExecutionsFailed',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: Match.stringLikeRegexp('100 \\* failed / started') }),
        Match.objectLike({
          Id: 'failed',
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'ExecutionsFailed' }) }),
        }),
      ]),
      TreatMissingData: 'notBreaching',
    });
  });

  it.each(['PaymentSuccess-dlq', 'PaymentFailure-dlq', 'VendingFailure-dlq'])(
    'pages on the first message in the dead-letter queue %s',
    (queueName) => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: queueName }],
        Statistic: 'Maximum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    },
  );

  it.each(['charge', 'notify', 'meter-vending'])(
    'watches errors and throttles of the %s Lambda',
    (functionName) => {
      for (const metricName of ['Errors', 'Throttles']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          MetricName: metricName,
          Namespace: 'AWS/Lambda',
          Dimensions: [{ Name: 'FunctionName', Value: functionName }],
        });
      }
    },
  );

  it('treats a target group that reports no health at all as unhealthy', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'UnHealthyHostCount',
      TreatMissingData: 'breaching',
    });
  });

  it('treats an ECS service that reports no CPU (no task running) as an outage', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'CPUUtilization',
      Namespace: 'AWS/ECS',
      Dimensions: Match.arrayWith([{ Name: 'ServiceName', Value: 'front-end' }]),
      TreatMissingData: 'breaching',
    });
  });

  it('pages on a PaymentSuccess backlog well before it times vends out at the Vend step’s heartbeat', () => {
    // Act
    const threshold = DEFAULT_ALARM_THRESHOLDS.paymentSuccessOldestMessage.toSeconds();

    // Assess
    expect(threshold).toBeLessThanOrEqual(PAYMENT_TO_VEND_DEFAULTS.vendHeartbeatSeconds / 2);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'PaymentToVend-test-PaymentSuccessOldestMessage',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: 'PaymentSuccess' }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: threshold,
      TreatMissingData: 'notBreaching',
    });
  });

  it.each([
    [
      'PaymentFailure',
      'Depth',
      'ApproximateNumberOfMessagesVisible',
      DEFAULT_ALARM_THRESHOLDS.paymentFailureDepth,
    ],
    [
      'PaymentFailure',
      'OldestMessage',
      'ApproximateAgeOfOldestMessage',
      DEFAULT_ALARM_THRESHOLDS.paymentFailureOldestMessage.toSeconds(),
    ],
    [
      'VendingFailure',
      'Depth',
      'ApproximateNumberOfMessagesVisible',
      DEFAULT_ALARM_THRESHOLDS.vendingFailureDepth,
    ],
    [
      'VendingFailure',
      'OldestMessage',
      'ApproximateAgeOfOldestMessage',
      DEFAULT_ALARM_THRESHOLDS.vendingFailureOldestMessage.toSeconds(),
    ],
  ])('pages when follow-ups pile up in %s (%s)', (queueName, what, metricName, threshold) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `PaymentToVend-test-${queueName}${what}`,
      MetricName: metricName,
      Dimensions: [{ Name: 'QueueName', Value: queueName }],
      Threshold: threshold,
      TreatMissingData: 'notBreaching',
    });
  });

  it('keeps paging on a PaymentFailure message with days left before SQS deletes it at 7 days', () => {
    expect(DEFAULT_ALARM_THRESHOLDS.paymentFailureOldestMessage.toDays()).toBeLessThan(7);
  });

  it.each([
    ['DatabaseCapacity', 'ACUUtilization', 'GreaterThanOrEqualToThreshold', 90],
    ['DatabaseDeadlocks', 'Deadlocks', 'GreaterThanThreshold', 0],
  ])('watches the payments database: %s (%s)', (key, metricName, comparison, threshold) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `PaymentToVend-test-${key}`,
      Namespace: 'AWS/RDS',
      MetricName: metricName,
      Dimensions: [{ Name: 'DBClusterIdentifier', Value: 'payments-test' }],
      ComparisonOperator: comparison,
      Threshold: threshold,
      EvaluationPeriods: 3,
      TreatMissingData: 'notBreaching',
    });
  });

  it('pages on a failed front-end deployment, counted from its ECS events', () => {
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: '/aws/events/payment-to-vend/ecs-deployments',
      FilterPattern: Match.stringLikeRegexp('\\$\\.detail\\.eventName\\s*=\\s*"SERVICE_DEPLOYMENT_FAILED"'),
      MetricTransformations: [
        Match.objectLike({
          MetricNamespace: 'PaymentToVend',
          MetricName: 'FrontEndDeploymentsFailed',
          MetricValue: '1',
        }),
      ],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'PaymentToVend-test-FrontEndDeploymentFailed',
      Namespace: 'PaymentToVend',
      MetricName: 'FrontEndDeploymentsFailed',
      Statistic: 'Sum',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('has no unacknowledged AWS Solutions or PCI DSS findings', () => {
    expect(unsuppressedFindings(app)).toEqual([]);
  });
});

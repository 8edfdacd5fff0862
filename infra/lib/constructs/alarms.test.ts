import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { monitoredResources, onCallTopic, TEST_ENV } from '../../testing/monitored-resources.ts';
import { unsuppressedFindings } from '../../testing/nag.ts';
import { applyCompliance } from '../compliance.ts';
import { OperationalAlarms } from './alarms.ts';

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
    app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Alarms', { env: TEST_ENV });
    new OperationalAlarms(stack, 'Alarms', {
      resources: monitoredResources(stack),
      onCallTopic: onCallTopic(stack),
      alarmNamePrefix: 'PaymentToVend-test',
      environmentTitle: 'Test',
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

  it('has no unacknowledged AWS Solutions or PCI DSS findings', () => {
    expect(unsuppressedFindings(app)).toEqual([]);
  });
});

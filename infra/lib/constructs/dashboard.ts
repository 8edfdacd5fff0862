/**
 * A CloudWatch dashboard of the flow, in the order a payment goes through it: executions, the task
 * Lambdas, the queues, then the front-end that customers see.
 *
 * @example
 * new FlowDashboard(this, 'Dashboard', { resources: watched, dashboardName: 'PaymentToVend-production' });
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { HttpCodeElb, HttpCodeTarget } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import type { MonitoredResources } from './monitoring.ts';

export interface FlowDashboardProps {
  readonly resources: MonitoredResources;
  readonly dashboardName: string;
  /** Alarms to show as a status strip at the top. @default none */
  readonly alarms?: readonly cloudwatch.IAlarm[];
}

export class FlowDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: FlowDashboardProps) {
    super(scope, id);
    const { stateMachine, queues, deadLetterQueues, functions, frontEnd } = props.resources;
    const period = Duration.minutes(1);
    const sum = { statistic: 'Sum', period };
    const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
      new cloudwatch.GraphWidget({ title, left, right, width: 12, height: 6, period });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });

    if (props.alarms !== undefined && props.alarms.length > 0) {
      this.dashboard.addWidgets(
        new cloudwatch.AlarmStatusWidget({
          title: 'Alarms',
          alarms: [...props.alarms],
          width: 24,
          height: 4,
        }),
      );
    }

    const functionEntries = Object.entries(functions);
    this.dashboard.addWidgets(
      graph('Executions: started, succeeded, failed', [
        stateMachine.metricStarted({ ...sum, label: 'Started' }),
        stateMachine.metricSucceeded({ ...sum, label: 'Succeeded' }),
        stateMachine.metricFailed({ ...sum, label: 'Failed (declines included)' }),
        stateMachine.metricTimedOut({ ...sum, label: 'Timed out' }),
        stateMachine.metricAborted({ ...sum, label: 'Aborted' }),
      ]),
      graph(
        'Execution time (payment to credit)',
        [stateMachine.metricTime({ statistic: 'p50', period, label: 'p50' })],
        [stateMachine.metricTime({ statistic: 'p99', period, label: 'p99' })],
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Task Lambdas: errors and throttles',
        functionEntries.map(([name, fn]) => fn.metricErrors({ ...sum, label: `${name} errors` })),
        functionEntries.map(([name, fn]) => fn.metricThrottles({ ...sum, label: `${name} throttles` })),
      ),
      graph(
        'Task Lambdas: duration p99 (ms)',
        functionEntries.map(([name, fn]) => fn.metricDuration({ statistic: 'p99', period, label: name })),
      ),
    );
    const queueEntries = [
      ['PaymentSuccess', queues.paymentSuccess],
      ['PaymentFailure', queues.paymentFailure],
      ['VendingFailure', queues.vendingFailure],
    ] as const;
    const deadLetterEntries = [
      ['PaymentSuccess DLQ', deadLetterQueues.paymentSuccess],
      ['PaymentFailure DLQ', deadLetterQueues.paymentFailure],
      ['VendingFailure DLQ', deadLetterQueues.vendingFailure],
    ] as const;
    this.dashboard.addWidgets(
      graph(
        'Queue depth (visible messages)',
        queueEntries.map(([label, queue]) =>
          queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period, label }),
        ),
        deadLetterEntries.map(([label, queue]) =>
          queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period, label }),
        ),
      ),
      graph(
        'Age of oldest message (s)',
        queueEntries.map(([label, queue]) =>
          queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period, label }),
        ),
      ),
    );
    const serviceDimensions = {
      ClusterName: frontEnd.service.cluster.clusterName,
      ServiceName: frontEnd.service.serviceName,
    };
    const ecsMetric = (metricName: string, label: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ECS',
        metricName,
        dimensionsMap: serviceDimensions,
        statistic: 'Average',
        period,
        label,
      });
    this.dashboard.addWidgets(
      graph(
        'Front-end: requests and 5xx',
        [frontEnd.loadBalancer.metrics.requestCount({ ...sum, label: 'Requests' })],
        [
          frontEnd.loadBalancer.metrics.httpCodeElb(HttpCodeElb.ELB_5XX_COUNT, { ...sum, label: 'ALB 5xx' }),
          frontEnd.targetGroup.metrics.httpCodeTarget(HttpCodeTarget.TARGET_5XX_COUNT, {
            ...sum,
            label: 'Target 5xx',
          }),
        ],
      ),
      graph('Front-end: target response time (s)', [
        frontEnd.targetGroup.metrics.targetResponseTime({ statistic: 'p50', period, label: 'p50' }),
        frontEnd.targetGroup.metrics.targetResponseTime({ statistic: 'p99', period, label: 'p99' }),
      ]),
    );
    this.dashboard.addWidgets(
      graph(
        'Front-end: ECS CPU and memory (%)',
        [ecsMetric('CPUUtilization', 'CPU'), ecsMetric('MemoryUtilization', 'Memory')],
        [
          frontEnd.targetGroup.metrics.healthyHostCount({
            statistic: 'Minimum',
            period,
            label: 'Healthy tasks',
          }),
          frontEnd.targetGroup.metrics.unhealthyHostCount({
            statistic: 'Maximum',
            period,
            label: 'Unhealthy tasks',
          }),
        ],
      ),
    );
  }
}

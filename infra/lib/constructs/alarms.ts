/**
 * The CloudWatch alarms that page the on-call operators (alarm and OK) through the on-call SNS topic.
 *
 * Each alarm says on purpose what missing data means, from how its metric behaves when idle:
 * - Step Functions, Lambda, and the ALB's request metrics are published only when something happens
 *   (an execution, an invocation, a request), so a quiet period has no data points and nothing failed:
 *   NOT_BREACHING.
 * - SQS publishes queue metrics only for active queues (a queue is active while it holds messages or is
 *   called); a dead-letter queue with no data points is empty: NOT_BREACHING.
 * - UnHealthyHostCount is published whenever the target group's health checks run, traffic or not, so no
 *   data means the target group is no longer health-checked (detached or deleted): BREACHING.
 * - ECS CPUUtilization is published every minute while the service has running tasks; none means no task
 *   runs, an outage the ALB alarms may miss when nobody is calling: BREACHING. MemoryUtilization goes
 *   missing at the same moment, so it stays NOT_BREACHING: one page per cause.
 * - Aurora publishes ACUUtilization and Deadlocks every minute while an instance runs; none means no instance
 *   is running (a development cluster paused at zero ACUs): not at its ceiling, no deadlocks, NOT_BREACHING.
 *   A database that is down shows in the task Lambdas' errors and the front-end's 5xx.
 * - Failed front-end deployments are counted from their ECS events, a data point only per failure:
 *   NOT_BREACHING.
 *
 * @example
 * const alarms = new OperationalAlarms(this, 'Alarms', {
 *   resources: watched,
 *   onCallTopic,
 *   alarmNamePrefix: 'PaymentToVend-production',
 *   environmentTitle: 'Production',
 *   frontEndDeploymentEvents: eventLogging.logGroups.ecsDeployments,
 * });
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { HttpCodeElb, HttpCodeTarget } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { FlowQueues, MonitoredResources } from './monitoring.ts';

export interface AlarmThresholds {
  /**
   * Failed executions as a percentage of started ones, over 15 minutes. A declined card ends the execution
   * in the ChargeDeclined Fail state, so failures are normal business; a rate well above the usual decline
   * rate means the gateway, a task or the machine is broken. Each VendFailed is paged by the machine
   * itself (AlertOnCall).
   */
  readonly executionFailureRatePercent: number;
  /** Executions started in 15 minutes below which the failure rate is not judged (too few to mean anything). */
  readonly executionFailureRateMinimumStarted: number;
  /** Lambda Errors per function in 5 minutes. The Charge Lambda's PaymentGatewayUnavailable is retried by the machine, so one error alone is not a page. */
  readonly lambdaErrors: number;
  /**
   * Oldest message in PaymentSuccess. The Vend step's heartbeat clock (HeartbeatSeconds, 300 s by default)
   * starts when the message is sent, so a message that waits in a backlog that long times the vend out; page
   * well before, while the meter-vending task can still catch up.
   */
  readonly paymentSuccessOldestMessage: Duration;
  /**
   * Messages waiting in PaymentFailure for follow-up: declines (normal business, about 1,500 a day at a million
   * payments a month) and unconfirmed charges. Far above a few days' worth means nobody is following up, or
   * the gateway is declining far more than usual.
   */
  readonly paymentFailureDepth: number;
  /** Oldest message in PaymentFailure: SQS deletes messages after 7 days, so page while days are left to act. */
  readonly paymentFailureOldestMessage: Duration;
  /** Messages waiting in VendingFailure: each one is a customer charged but not credited. */
  readonly vendingFailureDepth: number;
  /** Oldest message in VendingFailure: the follow-up has not happened within this. */
  readonly vendingFailureOldestMessage: Duration;
  /** ALB-generated or target 5xx responses in 5 minutes. */
  readonly frontEnd5xx: number;
  /** ECS service average CPU / memory (%), for 15 minutes: autoscaling is at its maximum or not keeping up. */
  readonly frontEndCpuPercent: number;
  readonly frontEndMemoryPercent: number;
  /**
   * The database's capacity as a percentage of its maximum ACUs, for 15 minutes: it cannot scale further, and
   * payments slow down or time out. (The cluster's figure is the average of its instances; the one reader
   * scales with the writer.)
   */
  readonly databaseCapacityPercent: number;
}

export const DEFAULT_ALARM_THRESHOLDS: AlarmThresholds = {
  executionFailureRatePercent: 25,
  executionFailureRateMinimumStarted: 20,
  lambdaErrors: 5,
  paymentSuccessOldestMessage: Duration.seconds(120),
  paymentFailureDepth: 5_000,
  paymentFailureOldestMessage: Duration.days(3),
  vendingFailureDepth: 5,
  vendingFailureOldestMessage: Duration.hours(4),
  frontEnd5xx: 10,
  frontEndCpuPercent: 85,
  frontEndMemoryPercent: 85,
  databaseCapacityPercent: 90,
};

export interface OperationalAlarmsProps {
  readonly resources: MonitoredResources;
  /** Pages the on-call operators. If it is KMS-encrypted, its key must let cloudwatch.amazonaws.com use it. */
  readonly onCallTopic: ITopic;
  /** Prefix of every alarm name, e.g. `PaymentToVend-production`: the on-call sees it in the page. */
  readonly alarmNamePrefix: string;
  /** Human name of the environment, in every alarm description. */
  readonly environmentTitle: string;
  /** Where the front-end service's ECS deployment events are logged (`EventLogging`'s `ecsDeployments`). */
  readonly frontEndDeploymentEvents: logs.ILogGroup;
  readonly thresholds?: Partial<AlarmThresholds>;
}

export class OperationalAlarms extends Construct {
  /** Every alarm, by a stable key (e.g. `ExecutionsFailed`, `DeadLetter-paymentSuccess`, `LambdaErrors-charge`). */
  public readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;

  constructor(scope: Construct, id: string, props: OperationalAlarmsProps) {
    super(scope, id);
    const thresholds = { ...DEFAULT_ALARM_THRESHOLDS, ...props.thresholds };
    const { stateMachine, queues, deadLetterQueues, functions, frontEnd, database } = props.resources;
    const alarms: Record<string, cloudwatch.Alarm> = {};
    const action = new SnsAction(props.onCallTopic);

    const alarm = (
      key: string,
      options: Omit<cloudwatch.AlarmProps, 'alarmName' | 'alarmDescription' | 'actionsEnabled'> & {
        readonly treatMissingData: cloudwatch.TreatMissingData;
        readonly description: string;
      },
    ) => {
      const { description, ...alarmProps } = options;
      const created = new cloudwatch.Alarm(this, key, {
        ...alarmProps,
        alarmName: `${props.alarmNamePrefix}-${key}`,
        alarmDescription: `${props.environmentTitle}: ${description}`,
        actionsEnabled: true,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      alarms[key] = created;
      return created;
    };
    const atLeast = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
    const fiveMinutes = Duration.minutes(5);

    // ─── Step Functions ────────────────────────────────────────────────────────────────────────────

    const failureRateWindow = Duration.minutes(15);
    alarm('ExecutionsFailed', {
      metric: new cloudwatch.MathExpression({
        label: 'Failed executions (% of started)',
        expression: `IF(started >= ${thresholds.executionFailureRateMinimumStarted}, 100 * failed / started, 0)`,
        usingMetrics: {
          failed: stateMachine.metricFailed({ statistic: 'Sum', period: failureRateWindow }),
          started: stateMachine.metricStarted({ statistic: 'Sum', period: failureRateWindow }),
        },
        period: failureRateWindow,
      }),
      threshold: thresholds.executionFailureRatePercent,
      comparisonOperator: atLeast,
      evaluationPeriods: 1,
      // No executions, no data points: nothing failed.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      description: `at least ${thresholds.executionFailureRatePercent}% of PaymentToVend executions failed in 15 minutes (declines included; far above the usual decline rate). Look at the failed executions' errors in the console.`,
    });
    const anyExecution = (key: string, metric: cloudwatch.IMetric, description: string) =>
      alarm(key, {
        metric,
        threshold: 1,
        comparisonOperator: atLeast,
        evaluationPeriods: 1,
        // Published only when it happens: no data points means it did not.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        description,
      });
    anyExecution(
      'ExecutionsTimedOut',
      stateMachine.metricTimedOut({ statistic: 'Sum', period: fiveMinutes }),
      'a PaymentToVend execution timed out. A customer may have paid without being credited: check its history and the VendingFailure queue.',
    );
    anyExecution(
      'ExecutionsAborted',
      stateMachine.metricAborted({ statistic: 'Sum', period: fiveMinutes }),
      'a PaymentToVend execution was stopped (StopExecution). Make sure the customer was credited or refunded.',
    );
    anyExecution(
      'ExecutionThrottled',
      stateMachine.metricThrottled({ statistic: 'Sum', period: fiveMinutes }),
      'Step Functions throttled PaymentToVend state transitions: payments are being delayed. Check the account quotas.',
    );

    // ─── Queues ────────────────────────────────────────────────────────────────────────────────────

    for (const [name, deadLetterQueue] of entries(deadLetterQueues)) {
      alarm(`DeadLetter-${name}`, {
        metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          statistic: 'Maximum',
          period: Duration.minutes(1),
        }),
        threshold: 1,
        comparisonOperator: atLeast,
        evaluationPeriods: 1,
        // SQS reports only active queues; a dead-letter queue with no data points holds nothing.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        description: `a message reached the dead-letter queue of ${name}: it could not be processed after its retries. Inspect it, fix the cause and redrive it.`,
      });
    }
    alarm('PaymentSuccessOldestMessage', {
      metric: queues.paymentSuccess.metricApproximateAgeOfOldestMessage({
        statistic: 'Maximum',
        period: Duration.minutes(1),
      }),
      threshold: thresholds.paymentSuccessOldestMessage.toSeconds(),
      comparisonOperator: atLeast,
      evaluationPeriods: 1,
      // Reported only while the queue is active; an idle queue has nothing waiting.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      description: `a vend request has waited in PaymentSuccess for ${thresholds.paymentSuccessOldestMessage.toHumanString()}: the meter-vending Lambda is not keeping up (throttled, failing, or its event source disabled). Vends time out at the Vend step's heartbeat (300 s by default) and are retried; customers wait.`,
    });
    alarm('PaymentFailureDepth', {
      metric: queues.paymentFailure.metricApproximateNumberOfMessagesVisible({
        statistic: 'Maximum',
        period: fiveMinutes,
      }),
      threshold: thresholds.paymentFailureDepth,
      comparisonOperator: atLeast,
      evaluationPeriods: 1,
      // An idle, empty queue stops reporting: nothing is waiting.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      description: `${thresholds.paymentFailureDepth} or more declined or unconfirmed charges are waiting in PaymentFailure: follow-ups are not being made, or the gateway is declining far more than usual.`,
    });
    alarm('PaymentFailureOldestMessage', {
      metric: queues.paymentFailure.metricApproximateAgeOfOldestMessage({
        statistic: 'Maximum',
        period: fiveMinutes,
      }),
      threshold: thresholds.paymentFailureOldestMessage.toSeconds(),
      comparisonOperator: atLeast,
      evaluationPeriods: 1,
      // Reported only while the queue holds a message; none means nothing is waiting.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      description: `a declined or unconfirmed charge has waited in PaymentFailure for ${thresholds.paymentFailureOldestMessage.toHumanString()} without follow-up; SQS deletes it after 7 days. Unconfirmed charges must be reconciled with the gateway.`,
    });
    alarm('VendingFailureDepth', {
      metric: queues.vendingFailure.metricApproximateNumberOfMessagesVisible({
        statistic: 'Maximum',
        period: fiveMinutes,
      }),
      threshold: thresholds.vendingFailureDepth,
      comparisonOperator: atLeast,
      evaluationPeriods: 1,
      // An idle, empty queue stops reporting: nothing is waiting.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      description: `${thresholds.vendingFailureDepth} or more paid top-ups are waiting in VendingFailure: customers charged but not credited. Something systematic is failing vends.`,
    });
    alarm('VendingFailureOldestMessage', {
      metric: queues.vendingFailure.metricApproximateAgeOfOldestMessage({
        statistic: 'Maximum',
        period: fiveMinutes,
      }),
      threshold: thresholds.vendingFailureOldestMessage.toSeconds(),
      comparisonOperator: atLeast,
      evaluationPeriods: 1,
      // Reported only while the queue holds a message; none means nothing is waiting.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      description: `a failed vend has waited in VendingFailure for ${thresholds.vendingFailureOldestMessage.toHumanString()} without follow-up: a customer is still without their credit.`,
    });

    // ─── Lambda ────────────────────────────────────────────────────────────────────────────────────

    for (const [name, lambdaFunction] of Object.entries(functions)) {
      alarm(`LambdaErrors-${name}`, {
        metric: lambdaFunction.metricErrors({ statistic: 'Sum', period: fiveMinutes }),
        threshold: thresholds.lambdaErrors,
        comparisonOperator: atLeast,
        evaluationPeriods: 1,
        // Lambda publishes Errors only for invocations; no invocations, no errors.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        description: `the ${name} Lambda failed ${thresholds.lambdaErrors} or more times in 5 minutes. Read its logs.`,
      });
      alarm(`LambdaThrottles-${name}`, {
        metric: lambdaFunction.metricThrottles({ statistic: 'Sum', period: fiveMinutes }),
        threshold: 1,
        comparisonOperator: atLeast,
        evaluationPeriods: 1,
        // Published only when invocations are attempted; none attempted, none throttled.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        description: `the ${name} Lambda was throttled: payments are delayed. Check reserved and account concurrency.`,
      });
    }

    // ─── Front-end: ALB and ECS ────────────────────────────────────────────────────────────────────

    alarm('FrontEndLoadBalancer5xx', {
      metric: frontEnd.loadBalancer.metrics.httpCodeElb(HttpCodeElb.ELB_5XX_COUNT, {
        statistic: 'Sum',
        period: fiveMinutes,
      }),
      threshold: thresholds.frontEnd5xx,
      comparisonOperator: atLeast,
      evaluationPeriods: 1,
      // The ALB reports request metrics only while requests flow (and 5xx counts only when non-zero).
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      description: `the front-end load balancer returned ${thresholds.frontEnd5xx}+ 5xx responses in 5 minutes (no healthy target, timeouts, or TLS problems).`,
    });
    alarm('FrontEndTarget5xx', {
      metric: frontEnd.targetGroup.metrics.httpCodeTarget(HttpCodeTarget.TARGET_5XX_COUNT, {
        statistic: 'Sum',
        period: fiveMinutes,
      }),
      threshold: thresholds.frontEnd5xx,
      comparisonOperator: atLeast,
      evaluationPeriods: 1,
      // Reported only while requests flow and a target answers 5xx.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      description: `the front-end answered ${thresholds.frontEnd5xx}+ 5xx responses in 5 minutes. Read the service logs.`,
    });
    alarm('FrontEndUnhealthyHosts', {
      metric: frontEnd.targetGroup.metrics.unhealthyHostCount({
        statistic: 'Maximum',
        period: Duration.minutes(1),
      }),
      threshold: 1,
      comparisonOperator: atLeast,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      // Published whenever health checks run, with or without traffic: missing means no health checks.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      description:
        'front-end tasks have failed their /health check for 3 minutes (or the target group is no longer health-checked).',
    });
    const serviceDimensions = {
      ClusterName: frontEnd.service.cluster.clusterName,
      ServiceName: frontEnd.service.serviceName,
    };
    alarm('FrontEndCpu', {
      metric: new cloudwatch.Metric({
        namespace: 'AWS/ECS',
        metricName: 'CPUUtilization',
        dimensionsMap: serviceDimensions,
        statistic: 'Average',
        period: fiveMinutes,
      }),
      threshold: thresholds.frontEndCpuPercent,
      comparisonOperator: atLeast,
      evaluationPeriods: 3,
      // Published every minute while a task runs: no data means no task is running at all.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      description: `the front-end service has averaged ${thresholds.frontEndCpuPercent}%+ CPU for 15 minutes (autoscaling at its maximum?), or reports nothing because no task is running.`,
    });
    alarm('FrontEndMemory', {
      metric: new cloudwatch.Metric({
        namespace: 'AWS/ECS',
        metricName: 'MemoryUtilization',
        dimensionsMap: serviceDimensions,
        statistic: 'Average',
        period: fiveMinutes,
      }),
      threshold: thresholds.frontEndMemoryPercent,
      comparisonOperator: atLeast,
      evaluationPeriods: 3,
      // Goes missing together with CPU, whose alarm already pages for "no task running".
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      description: `the front-end service has averaged ${thresholds.frontEndMemoryPercent}%+ memory for 15 minutes: a leak, or too many open sockets per task.`,
    });

    // ─── Front-end deployments ─────────────────────────────────────────────────────────────────────

    // ECS has no metric of failed deployments; it sends an event, which EventLogging keeps. Count them here.
    const failedDeployments = new logs.MetricFilter(this, 'FrontEndDeploymentsFailed', {
      logGroup: props.frontEndDeploymentEvents,
      filterPattern: logs.FilterPattern.stringValue('$.detail.eventName', '=', 'SERVICE_DEPLOYMENT_FAILED'),
      metricNamespace: 'PaymentToVend',
      metricName: 'FrontEndDeploymentsFailed',
      metricValue: '1',
    });
    alarm('FrontEndDeploymentFailed', {
      metric: failedDeployments.metric({ statistic: 'Sum', period: fiveMinutes }),
      threshold: 1,
      comparisonOperator: atLeast,
      evaluationPeriods: 1,
      // A data point only when a deployment fails: none means none failed.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      description:
        'a front-end deployment failed and ECS rolled it back (its tasks did not start or stay healthy, or the deployment alarm saw 5xx). The previous version still serves; the reason is in the ecs-deployments event log.',
    });

    // ─── Database ──────────────────────────────────────────────────────────────────────────────────

    alarm('DatabaseCapacity', {
      metric: database.metric('ACUUtilization', { statistic: 'Maximum', period: fiveMinutes }),
      threshold: thresholds.databaseCapacityPercent,
      comparisonOperator: atLeast,
      evaluationPeriods: 3,
      // Published every minute while an instance runs; none means it is paused at zero ACUs.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      description: `the payments database has run at ${thresholds.databaseCapacityPercent}%+ of its maximum ACUs for 15 minutes and cannot scale further: payments slow down and Data API calls time out. Raise its maximum capacity or find the load.`,
    });
    alarm('DatabaseDeadlocks', {
      metric: database.metricDeadlocks({ statistic: 'Maximum', period: fiveMinutes }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      // Published every minute while an instance runs; none means it is paused, and nothing can deadlock.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      description:
        'the payments database has had deadlocks in each of the last 15 minutes. PostgreSQL aborts one transaction of each, so charges, vends or customer events failed and were retried; most likely two code paths lock the same rows in opposite orders. The postgresql log names the statements.',
    });

    this.alarms = alarms;
  }
}

function entries(queues: FlowQueues): [keyof FlowQueues, IQueue][] {
  return [
    ['paymentSuccess', queues.paymentSuccess],
    ['paymentFailure', queues.paymentFailure],
    ['vendingFailure', queues.vendingFailure],
  ];
}

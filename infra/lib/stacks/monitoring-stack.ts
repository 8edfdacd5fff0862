/**
 * Watching one environment: the audit trail, the alarms that page on-call, the EventBridge event logs, the
 * flow dashboard, and the health probe the pipeline's smoke test invokes. Composes constructs only; what it
 * watches comes in as CDK interfaces, from the stateful and application stacks of the same environment.
 *
 * @example
 * new MonitoringStack(stage, 'Monitoring', {
 *   settings,
 *   toolingAccount: accounts.tooling,
 *   vpc: network.vpc,
 *   probeSubnets: { subnetGroupName: SubnetGroups.application },
 *   logsKey: network.logsKey,
 *   onCallTopic: stateful.messaging.onCallTopic,
 *   resources: {
 *     stateMachine: application.workflow.stateMachine,
 *     queues: stateful.messaging.queues,
 *     deadLetterQueues: stateful.messaging.deadLetterQueues,
 *     functions: { charge, notify, meterVending },
 *     frontEnd: { loadBalancer, targetGroup, service },
 *     database: stateful.database.cluster,
 *   },
 * });
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { type AlarmThresholds, OperationalAlarms } from '../constructs/alarms.ts';
import { AuditTrail } from '../constructs/audit-trail.ts';
import { FlowDashboard } from '../constructs/dashboard.ts';
import { EventLogging } from '../constructs/event-logging.ts';
import { HealthProbe } from '../constructs/health-probe.ts';
import { logGroupEncryptionKey, type MonitoredResources, retentionDays } from '../constructs/monitoring.ts';
import type { EnvironmentSettings } from '../environments.ts';

export interface MonitoringStackProps extends Omit<StackProps, 'env'> {
  readonly settings: EnvironmentSettings;
  /** What is watched. */
  readonly resources: MonitoredResources;
  /** Alarms page on-call here (alarm and OK). Its KMS key must let cloudwatch.amazonaws.com use it. */
  readonly onCallTopic: ITopic;
  /** The environment's VPC, where the health probe runs. */
  readonly vpc: ec2.IVpc;
  /** Private subnets with a route to the ALB (and, for the public one, a NAT gateway). */
  readonly probeSubnets: ec2.SubnetSelection;
  /** The tooling account, whose pipeline invokes the health probe. */
  readonly toolingAccount: string;
  readonly alarmThresholds?: Partial<AlarmThresholds>;
  /** Encrypts the health probe's log group (e.g. the network's logs key). @default a key of its own */
  readonly logsKey?: kms.IKey;
}

export class MonitoringStack extends Stack {
  public readonly auditTrail: AuditTrail;
  public readonly alarms: OperationalAlarms;
  public readonly eventLogging: EventLogging;
  public readonly dashboard: FlowDashboard;
  public readonly healthProbe: HealthProbe;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    const { settings } = props;
    super(scope, id, {
      ...props,
      env: { account: settings.account, region: settings.region },
      description:
        props.description ??
        `PaymentToVend ${settings.title}: audit trail, alarms, event logs, dashboard, health probe`,
    });
    const retention = retentionDays(settings.logRetentionDays);
    const prefix = `PaymentToVend-${settings.name}`;

    this.auditTrail = new AuditTrail(this, 'AuditTrail', {
      trailName: `payment-to-vend-${settings.name}`,
      retention,
      dataEventQueues: [
        ...Object.values(props.resources.queues),
        ...Object.values(props.resources.deadLetterQueues),
      ],
    });
    this.eventLogging = new EventLogging(this, 'EventLogging', {
      stateMachine: props.resources.stateMachine,
      service: props.resources.frontEnd.service,
      logGroupPrefix: '/aws/events/payment-to-vend',
      retention,
    });
    this.alarms = new OperationalAlarms(this, 'Alarms', {
      resources: props.resources,
      onCallTopic: props.onCallTopic,
      alarmNamePrefix: prefix,
      environmentTitle: settings.title,
      frontEndDeploymentEvents: this.eventLogging.logGroups.ecsDeployments,
      ...(props.alarmThresholds !== undefined ? { thresholds: props.alarmThresholds } : {}),
    });
    this.dashboard = new FlowDashboard(this, 'Dashboard', {
      resources: props.resources,
      dashboardName: prefix,
      alarms: Object.values(this.alarms.alarms),
    });
    this.healthProbe = new HealthProbe(this, 'HealthProbe', {
      vpc: props.vpc,
      vpcSubnets: props.probeSubnets,
      domainName: settings.domainName,
      connectTo: {
        loadBalancer: props.resources.frontEnd.loadBalancer,
        internetFacing: settings.publicFrontEnd,
      },
      invokerAccount: props.toolingAccount,
      logsKey:
        props.logsKey ?? logGroupEncryptionKey(this, 'ProbeLogsKey', 'Encrypts the health probe’s logs'),
      retention,
    });
  }
}

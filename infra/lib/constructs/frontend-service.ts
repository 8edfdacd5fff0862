/**
 * The customer-facing front-end (`frontend-api/server.ts`) on ECS Fargate behind an Application Load Balancer.
 *
 * - The image is built from the repository's `Dockerfile` (multi-stage, non-root, HEALTHCHECK on /health)
 *   as a CDK asset: synthesis only fingerprints the files, it needs no Docker.
 * - Tasks run in the application subnets with no public IP; only the ALB talks to them, on the app port.
 * - The ALB is internet-facing only when `settings.publicFrontEnd` (production); everywhere else it is
 *   internal and admits HTTPS from inside the VPC only (testers come in over the VPN or a bastion).
 * - HTTPS with the environment's ACM certificate and a TLS 1.2+ policy; where public, port 80 only
 *   redirects to HTTPS.
 * - Idle timeout 3600 s: customers watch their top-up on a WebSocket that can stay quiet for minutes (vend
 *   retries back off up to a minute each, a vend attempt may take five), and the ALB closes a connection
 *   that carries no data for the idle timeout. An hour covers a whole payment; a client that loses its socket
 *   reconnects with `after=<seq>` anyway.
 * - Access logs to an S3 bucket (SSE-S3: the only encryption ALB log delivery supports), invalid header
 *   fields dropped, a WAF web ACL (AWS managed rules and a per-IP rate rule) with its logs kept.
 * - Scales on CPU between the settings' minimum and maximum task counts.
 * - Reaches the database as its own user (the topology's `frontEnd.databaseUser`): its task role reads that
 *   user's secret and no other, so it can run only the front-end's statements.
 * - A deployment rolls itself back when it fails: the circuit breaker catches tasks that do not start or do
 *   not pass their health checks, and a deployment alarm (5xx from the new tasks, watched by ECS during the
 *   deployment and its bake time) catches tasks that pass /health but fail requests.
 *
 * @example
 * const frontEnd = new FrontendService(this, 'FrontEnd', { settings, vpc, logsKey, stateMachine, database });
 * frontEnd.loadBalancer.loadBalancerDnsName;
 */
import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { topologyFor } from '../../../system/topology.ts';
import { acknowledgeInlinePolicy } from '../compliance.ts';
import type { EnvironmentSettings } from '../environments.ts';
import type { PaymentsDatabase } from './database.ts';
import { SubnetGroups, VPC_CIDR } from './network.ts';
import { REPOSITORY_ROOT } from './task-functions.ts';

/** The port the front-end listens on inside the task. */
export const FRONT_END_PORT = 3000;

/** The ALB's idle timeout: long enough for a quiet customer WebSocket (see above). ALB allows up to 4000 s. */
export const FRONT_END_IDLE_TIMEOUT = Duration.seconds(3600);

/** Requests one client IP may make in 5 minutes before the WAF blocks it. */
export const WAF_RATE_LIMIT_PER_5_MINUTES = 1000;

/** 5xx answers a minute, two minutes running, at which ECS rolls a deployment back. */
export const DEPLOYMENT_ROLLBACK_5XX_PER_MINUTE = 5;

export interface FrontendServiceProps {
  readonly settings: EnvironmentSettings;
  readonly vpc: ec2.IVpc;
  readonly logsKey: kms.IKey;
  /** The front-end starts executions of it (StartExecution, name = paymentId). */
  readonly stateMachine: sfn.IStateMachine;
  readonly database: PaymentsDatabase;
}

export class FrontendService extends Construct {
  public readonly cluster: ecs.Cluster;
  public readonly service: ecs.FargateService;
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly listener: elbv2.ApplicationListener;
  public readonly webAcl: wafv2.CfnWebACL;
  /** ECS rolls a deployment back when this goes to ALARM during it or its bake time. */
  public readonly deploymentAlarm: cloudwatch.Alarm;
  public readonly accessLogsBucket: s3.Bucket;
  /** The container's log group. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: FrontendServiceProps) {
    super(scope, id);
    const { settings, vpc, logsKey, database } = props;
    const isPublic = settings.publicFrontEnd;
    const { databaseUser } = topologyFor(settings).frontEnd;

    // ─── Load balancer ──────────────────────────────────────────────────────────────────────────────

    const albSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc,
      description: isPublic
        ? 'Front-end ALB: HTTPS (and HTTP, redirected) from the internet'
        : 'Front-end ALB: HTTPS from inside the VPC only',
      allowAllOutbound: false,
    });
    if (isPublic) {
      albSecurityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS from customers');
      albSecurityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP, redirected to HTTPS');
      Validations.of(albSecurityGroup).acknowledge({
        id: 'AwsSolutions-EC23',
        reason:
          'The production front-end is the customers’ top-up site: its ALB must accept HTTPS from anyone (HTTP only redirects). The WAF web ACL filters and rate-limits what reaches it.',
      });
    } else {
      albSecurityGroup.addIngressRule(ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(443), 'HTTPS from the VPC');
    }

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc,
      internetFacing: isPublic,
      vpcSubnets: isPublic
        ? { subnetGroupName: SubnetGroups.public }
        : { subnetGroupName: SubnetGroups.application },
      securityGroup: albSecurityGroup,
      idleTimeout: FRONT_END_IDLE_TIMEOUT,
      dropInvalidHeaderFields: true,
      desyncMitigationMode: elbv2.DesyncMitigationMode.STRICTEST,
      // Where the data is protected from deletion (production-shaped environments), so is the way in to it.
      deletionProtection: settings.database.deletionProtection,
    });

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      // ALB access log delivery supports SSE-S3 only.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          expiration: Duration.days(settings.logRetentionDays),
          noncurrentVersionExpiration: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.accessLogsBucket).acknowledge(
      {
        id: 'AwsSolutions-S1',
        reason:
          'This bucket holds the ALB’s access logs; logging access to the log bucket itself would recurse.',
      },
      {
        id: 'PCI.DSS.321-S3BucketLoggingEnabled',
        reason:
          'This bucket holds the ALB’s access logs; logging access to the log bucket itself would recurse.',
      },
      {
        id: 'PCI.DSS.321-S3DefaultEncryptionKMS',
        reason:
          'Elastic Load Balancing delivers access logs only to buckets encrypted with SSE-S3, not SSE-KMS.',
      },
      {
        id: 'PCI.DSS.321-S3BucketReplicationEnabled',
        reason:
          'Access logs are diagnostic; they are versioned and retained for the environment’s log retention in the region. Cross-region replication would copy them out of the UK region.',
      },
    );
    this.loadBalancer.logAccessLogs(this.accessLogsBucket, 'front-end');

    this.listener = this.loadBalancer.addListener('Https', {
      protocol: elbv2.ApplicationProtocol.HTTPS,
      port: 443,
      certificates: [elbv2.ListenerCertificate.fromArn(settings.certificateArn)],
      // TLS 1.3 and 1.2 only.
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      open: false,
    });
    if (isPublic) {
      const redirect = this.loadBalancer.addRedirect({
        sourceProtocol: elbv2.ApplicationProtocol.HTTP,
        sourcePort: 80,
        targetProtocol: elbv2.ApplicationProtocol.HTTPS,
        targetPort: 443,
        open: false,
      });
      Validations.of(redirect).acknowledge({
        id: 'PCI.DSS.321-ELBv2ACMCertificateRequired',
        reason:
          'The port 80 listener only answers with a permanent redirect to HTTPS (customers typing the bare domain); it serves no content and so has no certificate.',
      });
    }

    this.webAcl = this.createWebAcl(settings, logsKey);
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.loadBalancer.loadBalancerArn,
      webAclArn: this.webAcl.attrArn,
    });

    // ─── Service ────────────────────────────────────────────────────────────────────────────────────

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENHANCED,
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: settings.logRetentionDays as logs.RetentionDays,
      encryptionKey: logsKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: 512,
      memoryLimitMiB: 1024,
      runtimePlatform: {
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
      },
    });
    const container = taskDefinition.addContainer('FrontEnd', {
      image: ecs.ContainerImage.fromAsset(REPOSITORY_ROOT, {
        file: 'Dockerfile',
        // x86_64, so the pipeline's standard CodeBuild image builds it without emulation.
        platform: Platform.LINUX_AMD64,
      }),
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'front-end' }),
      portMappings: [{ containerPort: FRONT_END_PORT, protocol: ecs.Protocol.TCP }],
      readonlyRootFilesystem: true,
      user: 'node',
      environment: {
        NODE_ENV: 'production',
        AWS_REGION: settings.region,
        PORT: String(FRONT_END_PORT),
        HOST: '0.0.0.0',
        TRUST_PROXY: 'true',
        ALLOWED_ORIGINS: `https://${settings.domainName}`,
        STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
        DATABASE_CLUSTER_ARN: database.cluster.clusterArn,
        DATABASE_SECRET_ARN: database.serviceSecrets[databaseUser].secretArn,
        DATABASE_NAME: database.databaseName,
        LOG_LEVEL: settings.name === 'production' ? 'info' : 'debug',
      },
      healthCheck: {
        command: [
          'CMD',
          'node',
          '-e',
          `fetch('http://127.0.0.1:${FRONT_END_PORT}/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
        ],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        startPeriod: Duration.seconds(20),
        retries: 3,
      },
      stopTimeout: Duration.seconds(15),
    });
    Validations.of(taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The environment holds configuration only (ARNs, the allowed origin, the port); no secret is passed in it. The database credentials are read by the Data API from Secrets Manager.',
    });

    const serviceSecurityGroup = new ec2.SecurityGroup(this, 'ServiceSecurityGroup', {
      vpc,
      description: 'Front-end tasks: the app port from the ALB only; HTTPS out to AWS APIs',
      allowAllOutbound: false,
    });
    serviceSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS APIs and ECR');

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition,
      desiredCount: settings.frontEnd.minTasks,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      vpcSubnets: { subnetGroupName: SubnetGroups.application },
      securityGroups: [serviceSecurityGroup],
      assignPublicIp: false,
      healthCheckGracePeriod: Duration.seconds(60),
      enableExecuteCommand: false,
    });

    this.targetGroup = this.listener.addTargets('FrontEnd', {
      port: FRONT_END_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [
        this.service.loadBalancerTarget({
          containerName: container.containerName,
          containerPort: FRONT_END_PORT,
        }),
      ],
      healthCheck: {
        path: '/health',
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
      // Open sockets are closed on deregistration; clients reconnect and resume from their last event.
      deregistrationDelay: Duration.seconds(30),
    });

    this.deploymentAlarm = this.createDeploymentAlarm(settings);
    this.service.enableDeploymentAlarms([this.deploymentAlarm.alarmName], {
      behavior: ecs.AlarmBehavior.ROLLBACK_ON_ALARM,
    });

    const scaling = this.service.autoScaleTaskCount({
      minCapacity: settings.frontEnd.minTasks,
      maxCapacity: settings.frontEnd.maxTasks,
    });
    scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: 60,
      scaleInCooldown: Duration.minutes(5),
      scaleOutCooldown: Duration.minutes(1),
    });

    // ─── Grants ─────────────────────────────────────────────────────────────────────────────────────

    props.stateMachine.grantStartExecution(taskDefinition.taskRole);
    database.grantDataApiAccess(taskDefinition.taskRole, databaseUser);
    acknowledgeInlinePolicy(taskDefinition, 'The front-end task may start executions and use the Data API.');
    Validations.of(taskDefinition).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'The execution role’s ecr:GetAuthorizationToken supports no resource-level permissions; image pulls are limited to the asset repository.',
    });
  }

  /**
   * 5xx from the tasks (and from the load balancer, which answers 502 when a task drops a request), two minutes
   * running. Its metrics are the load balancer's, not the service's, so the service can name the alarm without
   * the two depending on each other.
   */
  private createDeploymentAlarm(settings: EnvironmentSettings): cloudwatch.Alarm {
    const perMinute = { statistic: 'Sum', period: Duration.minutes(1) };
    const alarm = new cloudwatch.Alarm(this, 'DeploymentAlarm', {
      alarmName: `PaymentToVend-${settings.name}-FrontEndDeployment5xx`,
      alarmDescription: `${settings.title}: the front-end answered ${DEPLOYMENT_ROLLBACK_5XX_PER_MINUTE}+ 5xx a minute for two minutes. During a deployment or its bake time ECS rolls the deployment back; FrontEndDeploymentFailed then pages.`,
      metric: new cloudwatch.MathExpression({
        label: 'Front-end 5xx (targets and load balancer)',
        expression: 'FILL(target, 0) + FILL(loadBalancer, 0)',
        usingMetrics: {
          target: this.targetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, perMinute),
          loadBalancer: this.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, perMinute),
        },
        period: Duration.minutes(1),
      }),
      threshold: DEPLOYMENT_ROLLBACK_5XX_PER_MINUTE,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      // 5xx counts are published only when there are some: no data, no errors.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    return alarm;
  }

  private createWebAcl(settings: EnvironmentSettings, logsKey: kms.IKey): wafv2.CfnWebACL {
    const visibility = (metricName: string) => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: true,
    });
    const managed = (name: string, priority: number) => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
      visibilityConfig: visibility(name),
    });
    const webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      // WAF descriptions allow no parentheses.
      description: `PaymentToVend front-end, ${settings.title}`,
      visibilityConfig: visibility(`PaymentToVendFrontEnd-${settings.name}`),
      rules: [
        {
          name: 'RatePerClientIp',
          priority: 0,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              limit: WAF_RATE_LIMIT_PER_5_MINUTES,
              evaluationWindowSec: 300,
              aggregateKeyType: 'IP',
            },
          },
          visibilityConfig: visibility('RatePerClientIp'),
        },
        managed('AWSManagedRulesAmazonIpReputationList', 1),
        managed('AWSManagedRulesCommonRuleSet', 2),
        managed('AWSManagedRulesKnownBadInputsRuleSet', 3),
      ],
    });

    // WAF requires its log group's name to start with aws-waf-logs-.
    const wafLogs = new logs.LogGroup(this, 'WebAclLogs', {
      logGroupName: `aws-waf-logs-payment-to-vend-${settings.name}`,
      retention: settings.logRetentionDays as logs.RetentionDays,
      encryptionKey: logsKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    new wafv2.CfnLoggingConfiguration(this, 'WebAclLogging', {
      resourceArn: webAcl.attrArn,
      logDestinationConfigs: [
        Stack.of(this).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: wafLogs.logGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      // Payment status tokens travel in the Authorization header and the socket's query string.
      redactedFields: [{ singleHeader: { Name: 'authorization' } }, { queryString: {} }],
    });
    return webAcl;
  }
}

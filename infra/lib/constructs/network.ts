/**
 * The VPC one environment runs in, and the key its CloudWatch log groups are encrypted with.
 *
 * ```
 * public      (one per AZ)  NAT gateways; the front-end ALB         ── 0.0.0.0/0 → internet gateway
 * application (one per AZ)  ECS tasks, Lambdas, VPC endpoints       ── 0.0.0.0/0 → NAT
 * database    (one per AZ)  Aurora                                  ── no route out
 * ```
 *
 * The Lambdas do need the internet: the charge task calls the payment gateway and the meter-vending task the
 * vending vendor, both public HTTPS APIs, so the application subnets route out through NAT. Everything that
 * talks to AWS goes through VPC endpoints instead (Step Functions, RDS Data API, Secrets Manager, SQS, SNS,
 * CloudWatch Logs, ECR and S3 for image pulls, X-Ray, KMS), so AWS traffic never leaves the VPC and keeps
 * working if NAT fails. Production-shaped environments have one NAT gateway per AZ; dev and staging share
 * one (a NAT outage there only delays tests).
 *
 * Nothing in the public subnets gets a public IP on launch; only the ALB (production) is placed there.
 * Flow logs of all traffic go to an encrypted log group.
 *
 * @example
 * const network = new Network(this, 'Network', { settings });
 * new PaymentsDatabase(this, 'Database', { settings, vpc: network.vpc, logsKey: network.logsKey });
 */
import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeInlinePolicy } from '../compliance.ts';
import type { EnvironmentSettings } from '../environments.ts';

export interface NetworkProps {
  readonly settings: EnvironmentSettings;
}

/** Subnet group names, for `vpc.selectSubnets({ subnetGroupName })`. */
export const SubnetGroups = {
  public: 'public',
  application: 'application',
  database: 'database',
} as const;

/** The VPC's address range; a literal (not the VPC's CidrBlock attribute) so rules on it can be checked at synthesis. */
export const VPC_CIDR = '10.0.0.0/16';

/** The AZs of eu-west-2, given explicitly (and answered to CDK's lookup in bin/app.ts) so synthesis never asks the account. */
export const AVAILABILITY_ZONES: Readonly<Record<string, readonly string[]>> = {
  'eu-west-2': ['eu-west-2a', 'eu-west-2b', 'eu-west-2c'],
};

/** The AWS APIs the tasks and the front-end call, reached through interface endpoints. */
const INTERFACE_ENDPOINTS = {
  StepFunctions: ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
  RdsData: ec2.InterfaceVpcEndpointAwsService.RDS_DATA,
  SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  Sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
  Sns: ec2.InterfaceVpcEndpointAwsService.SNS,
  CloudWatchLogs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
  EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  XRay: ec2.InterfaceVpcEndpointAwsService.XRAY,
  Kms: ec2.InterfaceVpcEndpointAwsService.KMS,
} as const;

export class Network extends Construct {
  public readonly vpc: ec2.Vpc;
  /** Customer managed key for every CloudWatch log group of the environment (rotation on). */
  public readonly logsKey: kms.Key;
  /** The security group of the interface endpoints: HTTPS from inside the VPC only. */
  public readonly endpointSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const { settings } = props;
    const availabilityZones = AVAILABILITY_ZONES[settings.region];
    if (availabilityZones === undefined)
      throw new Error(`Network: no availability zones known for ${settings.region}`);
    const productionShaped = settings.name === 'production' || settings.name === 'nonlive';

    this.logsKey = new kms.Key(this, 'LogsKey', {
      description: `${settings.title}: CloudWatch Logs encryption`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const { account, region } = Stack.of(this);
    this.logsKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsOfThisAccount',
        principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:${region}:${account}:log-group:*` },
        },
      }),
    );

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(VPC_CIDR),
      availabilityZones: [...availabilityZones],
      natGateways: productionShaped ? availabilityZones.length : 1,
      subnetConfiguration: [
        {
          name: SubnetGroups.public,
          subnetType: ec2.SubnetType.PUBLIC,
          cidrMask: 24,
          mapPublicIpOnLaunch: false,
        },
        { name: SubnetGroups.application, subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        { name: SubnetGroups.database, subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      restrictDefaultSecurityGroup: true,
    });
    for (const subnet of this.vpc.publicSubnets) {
      Validations.of(subnet).acknowledge({
        id: 'PCI.DSS.321-VPCNoUnrestrictedRouteToIGW',
        reason:
          'Public subnets hold only the NAT gateways (the Lambdas call the payment gateway and vending vendor on the internet) and, in production, the ALB; their 0.0.0.0/0 route to the internet gateway is what makes them public. Application and database subnets have no route to the internet gateway.',
      });
    }

    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      retention: settings.logRetentionDays as logs.RetentionDays,
      encryptionKey: this.logsKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const flowLog = this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
      trafficType: ec2.FlowLogTrafficType.ALL,
      maxAggregationInterval: ec2.FlowLogMaxAggregationInterval.ONE_MINUTE,
    });
    acknowledgeInlinePolicy(
      flowLog,
      'The flow log role may only write to its own log group: CDK generates that one statement.',
    );

    this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'VPC interface endpoints: HTTPS from inside the VPC',
      allowAllOutbound: false,
    });
    this.endpointSecurityGroup.addIngressRule(
      ec2.Peer.ipv4(VPC_CIDR),
      ec2.Port.tcp(443),
      'HTTPS from the VPC',
    );
    const application = { subnetGroupName: SubnetGroups.application };
    for (const [name, service] of Object.entries(INTERFACE_ENDPOINTS)) {
      this.vpc.addInterfaceEndpoint(name, {
        service,
        subnets: application,
        securityGroups: [this.endpointSecurityGroup],
        // The security group above already admits HTTPS from the VPC's range.
        open: false,
        privateDnsEnabled: true,
      });
    }
    // ECR keeps image layers in S3: the gateway endpoint lets Fargate pull them without NAT.
    this.vpc.addGatewayEndpoint('S3', {
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: [application],
    });
  }
}

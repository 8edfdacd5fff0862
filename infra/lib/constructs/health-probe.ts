/**
 * The pipeline's smoke test, run where the front-end can be reached: a small Lambda inside the
 * environment's VPC that GETs `https://<domainName>/health` and fails unless it answers 200.
 *
 * Outside production the ALB is internal, so a CodeBuild step in the tooling account cannot reach it (its
 * VPC is in another account). Instead the pipeline assumes `SMOKE_TEST_ROLE_NAME` in the target account,
 * which may only invoke this function, and invokes it (see `PipelineStack`). The same probe runs in
 * production, through the NAT gateway to the public ALB, so every environment is checked the same way.
 *
 * The probe can connect to the ALB's own DNS name while still sending and verifying TLS for `domainName`
 * (like `curl --connect-to`), so the check does not depend on a DNS record made out of band.
 *
 * @example
 * new HealthProbe(this, 'HealthProbe', {
 *   vpc, vpcSubnets: { subnetGroupName: 'application' },
 *   domainName: settings.domainName,
 *   connectTo: { loadBalancer, internetFacing: settings.publicFrontEnd },
 *   invokerAccount: toolingAccount,
 *   logsKey, retention: logs.RetentionDays.ONE_YEAR,
 * });
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { IApplicationLoadBalancer } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeInlinePolicy, acknowledgeLambdaManagedPolicies } from '../compliance.ts';

/** Fixed names, so the pipeline in the tooling account can name them in each target account. */
export const HEALTH_PROBE_FUNCTION_NAME = 'payment-to-vend-health-probe';
export const SMOKE_TEST_ROLE_NAME = 'payment-to-vend-smoke-test';

export interface HealthProbeProps {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  /** The name customers use; the path `/health` is appended and TLS is verified for it. */
  readonly domainName: string;
  /**
   * Connect to this load balancer rather than resolve `domainName`. An internal ALB is reached on its private
   * addresses, so the probe is let through its security group; an internet-facing one is reached on its public
   * addresses through the NAT gateway, which no security group reference matches, so the probe may then send
   * HTTPS anywhere. @default resolve domainName, HTTPS anywhere
   */
  readonly connectTo?: { readonly loadBalancer: IApplicationLoadBalancer; readonly internetFacing: boolean };
  /** The tooling account whose pipeline may invoke the probe. */
  readonly invokerAccount: string;
  readonly logsKey: kms.IKey;
  readonly retention: logs.RetentionDays;
}

export class HealthProbe extends Construct {
  public readonly function: lambda.Function;
  /** Assumed by the pipeline in the tooling account; may only invoke the probe. */
  public readonly invokerRole: iam.Role;

  constructor(scope: Construct, id: string, props: HealthProbeProps) {
    super(scope, id);
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Health probe: HTTPS out to the front-end',
      allowAllOutbound: false,
    });
    if (props.connectTo !== undefined && !props.connectTo.internetFacing) {
      securityGroup.connections.allowTo(
        props.connectTo.loadBalancer,
        ec2.Port.tcp(443),
        'Health probe to the front-end ALB',
      );
    } else {
      securityGroup.addEgressRule(
        ec2.Peer.anyIpv4(),
        ec2.Port.tcp(443),
        'Health probe to the front-end over HTTPS',
      );
    }

    const logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: props.logsKey,
      retention: props.retention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.function = new lambda.Function(this, 'Function', {
      functionName: HEALTH_PROBE_FUNCTION_NAME,
      description: `Smoke test: GET https://${props.domainName}/health from inside the VPC`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromInline(PROBE_SOURCE),
      memorySize: 128,
      timeout: Duration.seconds(90),
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [securityGroup],
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        HEALTH_URL: `https://${props.domainName}/health`,
        CONNECT_HOST: props.connectTo?.loadBalancer.loadBalancerDnsName ?? '',
      },
    });
    acknowledgeLambdaManagedPolicies(this.function);

    this.invokerRole = new iam.Role(this, 'InvokerRole', {
      roleName: SMOKE_TEST_ROLE_NAME,
      description:
        'Assumed by the delivery pipeline (tooling account) to run the smoke test after a deployment',
      assumedBy: new iam.AccountPrincipal(props.invokerAccount),
      maxSessionDuration: Duration.hours(1),
    });
    // The function itself only (grantInvoke would add its versions and aliases, `:*`).
    this.invokerRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.function.functionArn] }),
    );
    acknowledgeInlinePolicy(this.invokerRole, 'It may invoke the health probe and nothing else.');
  }
}

/**
 * The probe (CommonJS, inline: no bundle). A deployment may still be settling, so it tries up to six
 * times, 10 s apart; it throws when the front-end is not healthy, so the invocation reports FunctionError.
 */
const PROBE_SOURCE = `
const https = require('node:https');
const TRIES = 6;
function probe(url, connectHost) {
  return new Promise((resolve) => {
    const request = https.get(
      {
        host: connectHost || url.hostname,
        port: url.port || 443,
        path: url.pathname,
        servername: url.hostname,
        headers: { host: url.host, 'user-agent': 'payment-to-vend-health-probe' },
        timeout: 5000,
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => { if (body.length < 2048) body += chunk; });
        response.on('end', () => resolve({ healthy: response.statusCode === 200, statusCode: response.statusCode, body }));
      },
    );
    request.on('timeout', () => request.destroy(new Error('no answer within 5 s')));
    request.on('error', (error) => resolve({ healthy: false, error: error.message }));
  });
}
exports.handler = async () => {
  const url = new URL(process.env.HEALTH_URL);
  let result = { healthy: false };
  for (let attempt = 1; attempt <= TRIES; attempt++) {
    result = { attempt, ...(await probe(url, process.env.CONNECT_HOST)) };
    console.log(JSON.stringify({ url: url.href, connectHost: process.env.CONNECT_HOST || url.hostname, ...result }));
    if (result.healthy) return result;
    if (attempt < TRIES) await new Promise((resolve) => setTimeout(resolve, 10000));
  }
  throw new Error('Front-end unhealthy: ' + JSON.stringify(result));
};
`;

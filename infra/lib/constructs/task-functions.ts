/**
 * The task Lambdas of the PaymentToVend workflow, built from `tasks/<name>/handler.ts`:
 *
 * | function | called by | reaches |
 * | --- | --- | --- |
 * | `charge` | Step Functions (Charge, ConfirmCharge, RecheckCharge, Refund) | payment gateway (internet, via NAT), Data API |
 * | `meterVending` | SQS PaymentSuccess (event source, partial batch responses); Step Functions (RecordVendFailed, RecordUtrnByHand) | vending vendor, Data API, SendTaskSuccess/Failure/Heartbeat |
 * | `notify` | Step Functions (NotifyCustomer…) | Data API |
 * | `followUp` | Step Functions (AwaitDecision, RecordDecision) | Data API |
 * | `reconcile` | EventBridge schedule (reconciliation-schedule.ts) | payment gateway (its charge listing), Data API |
 *
 * Each is an ESM bundle (minified, source maps on), Node.js 24 on arm64, in the application subnets,
 * traced with X-Ray, logging JSON through Powertools to its own encrypted log group. Grants are the least
 * each needs: Data API on the cluster as its own database user (the topology's `databaseUser`: its secret in
 * DATABASE_SECRET_ARN, and reading that secret alone), the provider credentials secret for the one that calls
 * that provider, and task responses on the state machine for meter-vending (granted by
 * `grantTaskResponses` once the state machine exists, by the machine's name-built ARN: the machine in turn
 * invokes meter-vending, and a grant by reference would make the two depend on each other).
 *
 * Reserved concurrency is deliberately not set: the Step Functions-invoked tasks would turn a burst into
 * throttling errors, and reserving capacity fails deployment in accounts with a low concurrency quota.
 * The vendor is protected instead by the event source's maximum concurrency.
 *
 * @example
 * const functions = new TaskFunctions(this, 'Tasks', { settings, vpc, logsKey, database, queues });
 * functions.grantTaskResponses(workflow.stateMachineArnByName);
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type Provider, type TaskFunctionKey, topologyFor } from '../../../system/topology.ts';
import { acknowledgeInlinePolicy, acknowledgeLambdaManagedPolicies } from '../compliance.ts';
import type { EnvironmentSettings } from '../environments.ts';
import type { PaymentsDatabase } from './database.ts';
import { SubnetGroups } from './network.ts';

/** The repository root: entries, the lock file and the migrations are found from it. */
export const REPOSITORY_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface NodeFunctionProps {
  readonly settings: EnvironmentSettings;
  readonly vpc: ec2.IVpc;
  readonly logsKey: kms.IKey;
  /** Path from the repository root, e.g. `tasks/charge/handler.ts`. */
  readonly entry: string;
  /** Powertools' service name (POWERTOOLS_SERVICE_NAME). */
  readonly serviceName: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize?: number;
  readonly environment?: Readonly<Record<string, string>>;
  readonly securityGroups?: readonly ec2.ISecurityGroup[];
  readonly commandHooks?: nodejs.ICommandHooks;
}

/**
 * A Lambda from a TypeScript entry, as every function of this app is built: ESM, minified, source maps,
 * Node.js 24 on arm64, in the application subnets, X-Ray active, JSON logs to its own encrypted log group.
 */
export function nodeFunction(scope: Construct, id: string, props: NodeFunctionProps): nodejs.NodejsFunction {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: props.settings.logRetentionDays as logs.RetentionDays,
    encryptionKey: props.logsKey,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const fn = new nodejs.NodejsFunction(scope, id, {
    entry: join(REPOSITORY_ROOT, props.entry),
    handler: 'handler',
    projectRoot: REPOSITORY_ROOT,
    depsLockFilePath: join(REPOSITORY_ROOT, 'package-lock.json'),
    description: props.description,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memorySize ?? 512,
    timeout: props.timeout,
    tracing: lambda.Tracing.ACTIVE,
    loggingFormat: lambda.LoggingFormat.JSON,
    logGroup,
    vpc: props.vpc,
    vpcSubnets: { subnetGroupName: SubnetGroups.application },
    ...(props.securityGroups !== undefined ? { securityGroups: [...props.securityGroups] } : {}),
    environment: {
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: props.serviceName,
      POWERTOOLS_LOG_LEVEL: props.settings.name === 'production' ? 'INFO' : 'DEBUG',
      LOG_LEVEL: props.settings.name === 'production' ? 'INFO' : 'DEBUG',
      ...props.environment,
    },
    bundling: {
      format: nodejs.OutputFormat.ESM,
      target: 'node24',
      minify: true,
      sourceMap: true,
      sourcesContent: false,
      mainFields: ['module', 'main'],
      // The AWS SDK v3 in the runtime is whatever version Lambda ships; bundle the pinned one.
      externalModules: [],
      // Some dependencies are CommonJS and call require(); an ESM bundle has none unless given one.
      banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      ...(props.commandHooks !== undefined ? { commandHooks: props.commandHooks } : {}),
    },
  });
  acknowledgeLambdaManagedPolicies(fn);
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'X-Ray’s PutTraceSegments and PutTelemetryRecords support no resource-level permissions, so tracing (required) needs Resource *.',
  });
  acknowledgeInlinePolicy(fn, `The grants of the ${props.serviceName} function, and nothing else.`);
  return fn;
}

export interface TaskFunctionsProps {
  readonly settings: EnvironmentSettings;
  readonly vpc: ec2.IVpc;
  readonly logsKey: kms.IKey;
  readonly database: PaymentsDatabase;
  /** The meter-vending task consumes PaymentSuccess. */
  readonly queues: { readonly paymentSuccess: sqs.IQueue };
}

export class TaskFunctions extends Construct {
  public readonly charge: nodejs.NodejsFunction;
  public readonly meterVending: nodejs.NodejsFunction;
  public readonly notify: nodejs.NodejsFunction;
  public readonly followUp: nodejs.NodejsFunction;
  /** Reconciliation: run on a schedule (ReconciliationSchedule), not by the state machine. */
  public readonly reconcile: nodejs.NodejsFunction;
  /** The payment gateway's API credentials (PAYMENT_GATEWAY_CREDENTIALS_SECRET_ARN), set out of band. */
  public readonly paymentGatewayCredentials: secretsmanager.Secret;
  /** The vending vendor's API credentials (VENDING_VENDOR_CREDENTIALS_SECRET_ARN), set out of band. */
  public readonly vendingVendorCredentials: secretsmanager.Secret;
  /** Encrypts the provider credentials secrets (rotation on). */
  public readonly credentialsKey: kms.Key;
  /** The tasks' security group: no inbound; outbound HTTPS only (AWS endpoints, gateway, vendor). */
  public readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: TaskFunctionsProps) {
    super(scope, id);
    const { settings, vpc, logsKey, database } = props;

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'Task Lambdas: no inbound; HTTPS out to AWS endpoints, the payment gateway and the vendor',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'HTTPS to AWS APIs and providers',
    );

    this.credentialsKey = new kms.Key(this, 'CredentialsKey', {
      description: `${settings.title}: payment gateway and vending vendor credentials`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.paymentGatewayCredentials = providerCredentials(
      this,
      'PaymentGatewayCredentials',
      'payment gateway',
      this.credentialsKey,
    );
    this.vendingVendorCredentials = providerCredentials(
      this,
      'VendingVendorCredentials',
      'vending vendor',
      this.credentialsKey,
    );

    const topology = topologyFor(settings);
    const providerEnvironment: Record<Provider, Record<string, string>> = {
      paymentGateway: {
        PAYMENT_GATEWAY_URL: settings.providers.paymentGatewayUrl,
        PAYMENT_GATEWAY_CREDENTIALS_SECRET_ARN: this.paymentGatewayCredentials.secretArn,
      },
      vendingVendor: {
        VENDING_VENDOR_URL: settings.providers.vendingVendorUrl,
        VENDING_VENDOR_CREDENTIALS_SECRET_ARN: this.vendingVendorCredentials.secretArn,
      },
    };
    /** A task function as the topology declares it. */
    const taskFunction = (key: TaskFunctionKey) => {
      const spec = topology.functions[key];
      const fn = nodeFunction(this, spec.constructId, {
        settings,
        vpc,
        logsKey,
        securityGroups: [this.securityGroup],
        entry: spec.entry,
        serviceName: spec.serviceName,
        description: spec.description,
        timeout: Duration.seconds(spec.timeoutSeconds),
        memorySize: spec.memoryMb,
        environment: Object.assign(
          {
            DATABASE_CLUSTER_ARN: database.cluster.clusterArn,
            DATABASE_SECRET_ARN: database.serviceSecrets[spec.databaseUser].secretArn,
            DATABASE_NAME: database.databaseName,
          },
          ...spec.reaches.map((provider) => providerEnvironment[provider]),
        ),
      });
      // rds-data calls on this cluster, and reading its own database user's secret (KMS decrypt included).
      database.grantDataApiAccess(fn, spec.databaseUser);
      return fn;
    };
    this.charge = taskFunction('charge');
    this.meterVending = taskFunction('meterVending');
    this.notify = taskFunction('notify');
    this.followUp = taskFunction('followUp');
    this.reconcile = taskFunction('reconcile');

    this.paymentGatewayCredentials.grantRead(this.charge);
    this.paymentGatewayCredentials.grantRead(this.reconcile);
    this.vendingVendorCredentials.grantRead(this.meterVending);

    const mapping = topology.paymentSuccessMapping;
    this.meterVending.addEventSource(
      new SqsEventSource(props.queues.paymentSuccess, {
        batchSize: mapping.batchSize,
        maxBatchingWindow: Duration.seconds(mapping.maxBatchingWindowSeconds),
        reportBatchItemFailures: true,
        maxConcurrency: mapping.maxConcurrency,
      }),
    );
  }

  /**
   * SendTaskSuccess/Failure/Heartbeat for the meter-vending task on the workflow's state machine, given by an
   * ARN built from its name (not a reference to the machine, which invokes meter-vending: a cycle).
   */
  public grantTaskResponses(stateMachineArn: string): void {
    this.meterVending.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
        resources: [stateMachineArn],
      }),
    );
  }
}

/**
 * A provider's API credentials: created empty (a generated placeholder) and set by an operator with
 * `aws secretsmanager put-secret-value`. The provider issues and rotates these in its own portal, so no
 * rotation Lambda can rotate them.
 */
function providerCredentials(
  scope: Construct,
  id: string,
  provider: string,
  encryptionKey: kms.IKey,
): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, id, {
    description: `API credentials of the ${provider}, set out of band by an operator`,
    encryptionKey,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  Validations.of(secret).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason: `The ${provider} issues these credentials and rotates them in its own portal; an operator then puts the new value. No rotation Lambda can obtain new ones.`,
  });
  return secret;
}

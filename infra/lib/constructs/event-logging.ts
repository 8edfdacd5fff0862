/**
 * EventBridge rules that keep what happens to the flow in CloudWatch Logs, where operators search it:
 * - ECS task state changes of the front-end's cluster (`aws.ecs`, "ECS Task State Change");
 * - deployments of the front-end service (`aws.ecs`, "ECS Deployment State Change"): started, completed, and
 *   failed (SERVICE_DEPLOYMENT_FAILED, with the reason, when the circuit breaker or a deployment alarm rolled
 *   it back), which `OperationalAlarms` pages on;
 * - PaymentToVend execution status changes (`aws.states`, "Step Functions Execution Status Change");
 * - SQS API calls (`aws.sqs`, "AWS API Call via CloudTrail"). SQS sends no events of its own: EventBridge
 *   gets them from CloudTrail, so they need the trail (see `AuditTrail`). Queue changes (create, delete,
 *   purge, attributes, policies) are management events; sends and deletes of messages are data events,
 *   delivered only because the trail logs them. Read-only calls (ReceiveMessage, Get*, List*) are not
 *   delivered unless a rule opts in, and these rules do not.
 *
 * Each goes to its own KMS-encrypted log group under `/aws/events/`, with one CloudWatch Logs resource
 * policy letting EventBridge write to those groups, for these rules only. (The CDK's CloudWatchLogGroup
 * target would add a custom-resource Lambda per rule and one account-wide policy each; an account has at
 * most 10 such policies per region.)
 *
 * @example
 * new EventLogging(this, 'EventLogging', {
 *   stateMachine: workflow.stateMachine,
 *   service: frontEnd.service,
 *   logGroupPrefix: '/aws/events/payment-to-vend',
 *   retention: logs.RetentionDays.ONE_YEAR,
 * });
 */
import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { IBaseService } from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { logGroupEncryptionKey } from './monitoring.ts';

export interface EventLoggingProps {
  readonly stateMachine: IStateMachine;
  /** The front-end service: its deployments, and the task state changes of its cluster. */
  readonly service: IBaseService;
  /** Must start with `/aws/events/` (where EventBridge targets live), e.g. `/aws/events/payment-to-vend`. */
  readonly logGroupPrefix: string;
  readonly retention: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN: the history outlives the stack. */
  readonly removalPolicy?: RemovalPolicy;
}

export class EventLogging extends Construct {
  public readonly encryptionKey: kms.Key;
  public readonly logGroups: {
    readonly ecsTasks: logs.LogGroup;
    readonly ecsDeployments: logs.LogGroup;
    readonly stepFunctionsExecutions: logs.LogGroup;
    readonly sqsApiCalls: logs.LogGroup;
  };
  public readonly rules: {
    readonly ecsTasks: events.Rule;
    readonly ecsDeployments: events.Rule;
    readonly stepFunctionsExecutions: events.Rule;
    readonly sqsApiCalls: events.Rule;
  };

  constructor(scope: Construct, id: string, props: EventLoggingProps) {
    super(scope, id);
    if (!props.logGroupPrefix.startsWith('/aws/events/')) {
      throw new Error(
        `EventLogging: logGroupPrefix must start with /aws/events/, got ${props.logGroupPrefix}`,
      );
    }
    this.encryptionKey = logGroupEncryptionKey(this, 'Key', 'Encrypts the EventBridge event log groups');

    const logGroup = (name: string) =>
      new logs.LogGroup(this, `${name}LogGroup`, {
        logGroupName: `${props.logGroupPrefix}/${name}`,
        encryptionKey: this.encryptionKey,
        retention: props.retention,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
    this.logGroups = {
      ecsTasks: logGroup('ecs-tasks'),
      ecsDeployments: logGroup('ecs-deployments'),
      stepFunctionsExecutions: logGroup('step-functions-executions'),
      sqsApiCalls: logGroup('sqs-api-calls'),
    };

    const rule = (
      name: string,
      description: string,
      eventPattern: events.EventPattern,
      target: logs.LogGroup,
    ) =>
      new events.Rule(this, `${name}Rule`, {
        description,
        eventPattern,
        targets: [new LogGroupTarget(target)],
      });
    this.rules = {
      ecsTasks: rule(
        'EcsTasks',
        'ECS task state changes of the front-end cluster, to CloudWatch Logs',
        {
          source: ['aws.ecs'],
          detailType: ['ECS Task State Change'],
          detail: { clusterArn: [props.service.cluster.clusterArn] },
        },
        this.logGroups.ecsTasks,
      ),
      ecsDeployments: rule(
        'EcsDeployments',
        'Deployments of the front-end service (started, completed, failed), to CloudWatch Logs',
        {
          source: ['aws.ecs'],
          detailType: ['ECS Deployment State Change'],
          // These events name the service only in `resources`; their detail has no cluster.
          resources: [props.service.serviceArn],
        },
        this.logGroups.ecsDeployments,
      ),
      stepFunctionsExecutions: rule(
        'StepFunctionsExecutions',
        'PaymentToVend execution status changes, to CloudWatch Logs',
        {
          source: ['aws.states'],
          detailType: ['Step Functions Execution Status Change'],
          detail: { stateMachineArn: [props.stateMachine.stateMachineArn] },
        },
        this.logGroups.stepFunctionsExecutions,
      ),
      sqsApiCalls: rule(
        'SqsApiCalls',
        'SQS API calls recorded by CloudTrail (queue changes, sends and deletes), to CloudWatch Logs',
        {
          source: ['aws.sqs'],
          detailType: ['AWS API Call via CloudTrail'],
          detail: { eventSource: ['sqs.amazonaws.com'] },
        },
        this.logGroups.sqsApiCalls,
      ),
    };

    // EventBridge writes to CloudWatch Logs under a resource policy, never a role.
    new logs.ResourcePolicy(this, 'EventBridgeWritesEvents', {
      resourcePolicyName: `${Stack.of(this).stackName}-eventbridge-to-logs`.slice(0, 255),
      policyStatements: [
        new iam.PolicyStatement({
          sid: 'EventBridgeWritesTheFlowsEvents',
          principals: [new iam.ServicePrincipal('events.amazonaws.com')],
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: Object.values(this.logGroups).map((group) => group.logGroupArn),
          conditions: {
            ArnEquals: { 'aws:SourceArn': Object.values(this.rules).map((eventRule) => eventRule.ruleArn) },
          },
        }),
      ],
    });
  }
}

/** A rule target that only names the log group; the resource policy above grants the access. */
class LogGroupTarget implements events.IRuleTarget {
  constructor(private readonly logGroup: logs.ILogGroup) {}

  bind(): events.RuleTargetConfig {
    return {
      arn: Stack.of(this.logGroup).formatArn({
        service: 'logs',
        resource: 'log-group',
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        resourceName: this.logGroup.logGroupName,
      }),
    };
  }
}

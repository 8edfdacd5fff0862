/**
 * The PaymentToVend state machine (`workflow/payment-to-vend.ts`, Standard) wired to this environment's task
 * Lambdas, queues and on-call topic: every event logged to an encrypted CloudWatch log group, without the
 * execution data (states' input and output hold meter ids and payment tokens), and X-Ray tracing on.
 *
 * @example
 * const workflow = new PaymentWorkflow(this, 'Workflow', { settings, logsKey, functions, messaging });
 * workflow.stateMachine.stateMachineArn;
 */
import { ArnFormat, type CfnElement, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { topologyFor } from '../../../system/topology.ts';
import { PaymentToVend } from '../../../workflow/payment-to-vend.ts';
import { acknowledgeInlinePolicy } from '../compliance.ts';
import type { EnvironmentSettings } from '../environments.ts';

export interface PaymentWorkflowProps {
  readonly settings: EnvironmentSettings;
  readonly logsKey: kms.IKey;
  readonly functions: {
    readonly charge: lambda.IFunction;
    readonly notify: lambda.IFunction;
    readonly meterVending: lambda.IFunction;
    readonly followUp: lambda.IFunction;
  };
  readonly queues: {
    readonly paymentSuccess: sqs.IQueue;
    readonly paymentFailure: sqs.IQueue;
    readonly vendingFailure: sqs.IQueue;
  };
  readonly onCallTopic: sns.ITopic;
}

export class PaymentWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  /**
   * The state machine's ARN built from its name, for grants to what the machine itself invokes (a reference
   * to the machine there would make the two depend on each other).
   */
  public readonly stateMachineArnByName: string;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PaymentWorkflowProps) {
    super(scope, id);
    const { settings } = props;

    // Step Functions requires a vended-logs name: /aws/vendedlogs/states/…
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/payment-to-vend-${settings.name}`,
      retention: settings.logRetentionDays as logs.RetentionDays,
      encryptionKey: props.logsKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const stateMachineName = `payment-to-vend-${settings.name}`;
    this.stateMachineArnByName = Stack.of(this).formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const workflow = new PaymentToVend(this, 'PaymentToVend', {
      functions: props.functions,
      queues: props.queues,
      topics: { onCall: props.onCallTopic },
      // The same settings the embedded system runs for this environment.
      ...topologyFor(settings).workflow,
      stateMachineName,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
    });
    this.stateMachine = workflow.stateMachine;

    Validations.of(this.stateMachine).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'What CDK grants for execution logging and tracing, none of which supports resource-level permissions: logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies and DescribeLogGroups (log delivery to the machine’s log group), and xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules and GetSamplingTargets.',
      },
      {
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason:
          'Sending to the KMS-encrypted queues needs a data key (GenerateDataKey, the * covers WithoutPlaintext); granted on the messaging key only.',
      },
      ...(['charge', 'notify', 'meterVending', 'followUp'] as const).map((name) => ({
        id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(props.functions[name])}.Arn>:*]`,
        reason: `The state machine invokes any version of the ${name} function (the :* suffix), and only that function.`,
      })),
    );
    acknowledgeInlinePolicy(this.stateMachine, 'The state machine’s task integrations, and nothing else.');
  }
}

/** The logical id cdk-nag shows in a finding on a grant to `fn` (`<LogicalId.Arn>`). */
export function logicalIdOf(fn: lambda.IFunction): string {
  const resource = fn.node.defaultChild as CfnElement | undefined;
  if (resource === undefined) throw new Error(`logicalIdOf: ${fn.node.path} has no CloudFormation resource`);
  return Stack.of(resource).getLogicalId(resource);
}

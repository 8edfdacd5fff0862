/**
 * What the monitoring constructs watch, typed by CDK interfaces so they can be built against the real
 * resources in the stage or against fixtures in a bare test stack.
 *
 * @example
 * const watched: MonitoredResources = {
 *   stateMachine: workflow.stateMachine,
 *   queues: { paymentSuccess, paymentFailure, vendingFailure },
 *   deadLetterQueues: { paymentSuccess: paymentSuccessDlq, paymentFailure: paymentFailureDlq, vendingFailure: vendingFailureDlq },
 *   functions: { charge, notify, meterVending },
 *   frontEnd: { loadBalancer, targetGroup, service },
 *   database: payments.cluster,
 * };
 */
import { Stack } from 'aws-cdk-lib';
import type { IBaseService } from 'aws-cdk-lib/aws-ecs';
import type {
  IApplicationLoadBalancer,
  IApplicationTargetGroup,
} from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { IDatabaseCluster } from 'aws-cdk-lib/aws-rds';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

/** The three work queues of the flow, or their dead-letter queues. */
export interface FlowQueues {
  /** Vend requests with a task token, read by the meter-vending Lambda. */
  readonly paymentSuccess: IQueue;
  /** Declined or failed charges, for follow-up. */
  readonly paymentFailure: IQueue;
  /** Paid top-ups that could not be vended, for follow-up by operators. */
  readonly vendingFailure: IQueue;
}

export interface MonitoredResources {
  /** The PaymentToVend state machine (Standard). */
  readonly stateMachine: IStateMachine;
  readonly queues: FlowQueues;
  /** The dead-letter queue of each work queue: any message in one pages on-call. */
  readonly deadLetterQueues: FlowQueues;
  /**
   * The task Lambdas, keyed by a short camelCase name used in alarm and widget names
   * (e.g. `{ charge, notify, meterVending }`). Each gets an Errors and a Throttles alarm.
   */
  readonly functions: Readonly<Record<string, IFunction>>;
  /** The customer-facing front-end: its ALB, the target group of the ECS service, and the service. */
  readonly frontEnd: {
    readonly loadBalancer: IApplicationLoadBalancer;
    readonly targetGroup: IApplicationTargetGroup;
    readonly service: IBaseService;
  };
  /** The payments database (Aurora Serverless v2). */
  readonly database: IDatabaseCluster;
}

/**
 * A customer-managed key (rotated yearly) that CloudWatch Logs may use for the log groups of this account
 * and region only, as CloudWatch Logs requires for a KMS-encrypted log group.
 */
export function logGroupEncryptionKey(scope: Construct, id: string, description: string): kms.Key {
  const key = new kms.Key(scope, id, { description, enableKeyRotation: true });
  const { region, account, partition } = Stack.of(scope);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchLogsEncryptsThisAccountsLogGroups',
      principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${partition}:logs:${region}:${account}:log-group:*`,
        },
      },
    }),
  );
  return key;
}

/** `settings.logRetentionDays` as the RetentionDays CloudWatch Logs accepts; refuses any other number. */
export function retentionDays(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays).filter(
    (value): value is number => typeof value === 'number',
  );
  if (!allowed.includes(days)) {
    throw new Error(`CloudWatch Logs has no ${days}-day retention; use one of ${allowed.join(', ')}`);
  }
  return days as logs.RetentionDays;
}

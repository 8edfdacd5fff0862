/**
 * Imported stand-ins for everything the monitoring constructs watch, so they can be synthesized and
 * nag-checked in a bare stack on their own: imports add no resources, so every finding is the monitoring's.
 *
 * @example
 * const stack = new Stack(app, 'Test', { env: TEST_ENV });
 * new OperationalAlarms(stack, 'Alarms', { resources: monitoredResources(stack), … });
 */
import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { MonitoredResources } from '../lib/constructs/monitoring.ts';

export const TEST_ENV = { account: '123456789012', region: 'eu-west-2' } as const;

export function monitoredResources(scope: Construct): MonitoredResources {
  const { account, region } = Stack.of(scope);
  const queue = (name: string) =>
    sqs.Queue.fromQueueArn(scope, name, `arn:aws:sqs:${region}:${account}:${name}`);
  const fn = (name: string) =>
    lambda.Function.fromFunctionArn(
      scope,
      `${name}Function`,
      `arn:aws:lambda:${region}:${account}:function:${name}`,
    );
  const loadBalancerArn = `arn:aws:elasticloadbalancing:${region}:${account}:loadbalancer/app/front-end/0123456789abcdef`;
  const cluster = ecs.Cluster.fromClusterAttributes(scope, 'Cluster', {
    vpc: importedVpc(scope),
    clusterName: 'payment-platform',
    clusterArn: `arn:aws:ecs:${region}:${account}:cluster/payment-platform`,
  });
  return {
    stateMachine: sfn.StateMachine.fromStateMachineArn(
      scope,
      'StateMachine',
      `arn:aws:states:${region}:${account}:stateMachine:PaymentToVend`,
    ),
    queues: {
      paymentSuccess: queue('PaymentSuccess'),
      paymentFailure: queue('PaymentFailure'),
      vendingFailure: queue('VendingFailure'),
    },
    deadLetterQueues: {
      paymentSuccess: queue('PaymentSuccess-dlq'),
      paymentFailure: queue('PaymentFailure-dlq'),
      vendingFailure: queue('VendingFailure-dlq'),
    },
    functions: { charge: fn('charge'), notify: fn('notify'), meterVending: fn('meter-vending') },
    frontEnd: {
      loadBalancer: elbv2.ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes(
        scope,
        'LoadBalancer',
        {
          loadBalancerArn,
          loadBalancerDnsName: 'internal-front-end-123456789.eu-west-2.elb.amazonaws.com',
          securityGroupId: 'sg-0123456789abcdef0',
        },
      ),
      targetGroup: elbv2.ApplicationTargetGroup.fromTargetGroupAttributes(scope, 'TargetGroup', {
        targetGroupArn: `arn:aws:elasticloadbalancing:${region}:${account}:targetgroup/front-end/0123456789abcdef`,
        loadBalancerArns: loadBalancerArn,
      }),
      service: ecs.FargateService.fromFargateServiceAttributes(scope, 'Service', {
        cluster,
        serviceName: 'front-end',
      }),
    },
    database: rds.DatabaseCluster.fromDatabaseClusterAttributes(scope, 'Database', {
      clusterIdentifier: 'payments-test',
    }),
  };
}

export function onCallTopic(scope: Construct): sns.ITopic {
  const { account, region } = Stack.of(scope);
  return sns.Topic.fromTopicArn(scope, 'OnCall', `arn:aws:sns:${region}:${account}:OnCall`);
}

/** A VPC with two private subnets, imported (no resources). One per scope. */
export function importedVpc(scope: Construct): ec2.IVpc {
  const existing = scope.node.tryFindChild('Vpc');
  if (existing !== undefined) return existing as unknown as ec2.IVpc;
  return ec2.Vpc.fromVpcAttributes(scope, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    vpcCidrBlock: '10.0.0.0/16',
    availabilityZones: ['eu-west-2a', 'eu-west-2b'],
    privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
  });
}

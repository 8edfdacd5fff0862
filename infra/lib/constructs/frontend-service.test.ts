import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import { bareStack } from '../../testing/bare-stack.ts';
import { PaymentsDatabase } from './database.ts';
import {
  DEPLOYMENT_ROLLBACK_5XX_PER_MINUTE,
  FRONT_END_PORT,
  FrontendService,
  WAF_RATE_LIMIT_PER_5_MINUTES,
} from './frontend-service.ts';
import { Network, VPC_CIDR } from './network.ts';

describe.each(['staging', 'production'] as const)('FrontendService (%s)', (name) => {
  const isProduction = name === 'production';
  let template: Template;
  beforeAll(() => {
    const { stack, settings } = bareStack(name);
    const { vpc, logsKey } = new Network(stack, 'Network', { settings });
    const database = new PaymentsDatabase(stack, 'Database', { settings, vpc, logsKey });
    const stateMachine = new sfn.StateMachine(stack, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Pass')),
    });
    new FrontendService(stack, 'FrontEnd', { settings, vpc, logsKey, stateMachine, database });
    template = Template.fromStack(stack);
  });

  const loadBalancerAttribute = (key: string) => {
    const [loadBalancer] = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'));
    const attributes = loadBalancer?.Properties.LoadBalancerAttributes as { Key: string; Value: string }[];
    return attributes.find((attribute) => attribute.Key === key)?.Value;
  };

  it(`puts the ALB ${isProduction ? 'on the internet' : 'inside the VPC only'}`, () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: isProduction ? 'internet-facing' : 'internal',
    });
  });

  it(`opens ${isProduction ? 'only the ALB' : 'nothing'} to 0.0.0.0/0`, () => {
    const openToWorld = Object.entries(template.findResources('AWS::EC2::SecurityGroup'))
      .filter(([, group]) =>
        (group.Properties.SecurityGroupIngress ?? []).some(
          (rule: { CidrIp?: string }) => rule.CidrIp === '0.0.0.0/0',
        ),
      )
      .map(([logicalId]) => logicalId);
    expect(openToWorld).toEqual(
      isProduction ? [expect.stringMatching(/^FrontEndLoadBalancerSecurityGroup/)] : [],
    );
    if (!isProduction) {
      template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        GroupDescription: Match.stringLikeRegexp('Front-end ALB'),
        SecurityGroupIngress: [Match.objectLike({ CidrIp: VPC_CIDR, FromPort: 443 })],
      });
    }
  });

  it('terminates TLS 1.2+ with the environment’s certificate', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTPS',
      Port: 443,
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      Certificates: [
        { CertificateArn: Match.stringLikeRegexp(`^arn:aws:acm:eu-west-2:\\d{12}:certificate/`) },
      ],
    });
  });

  it(`${isProduction ? 'redirects' : 'does not listen on'} plain HTTP`, () => {
    template.resourcePropertiesCountIs(
      'AWS::ElasticLoadBalancingV2::Listener',
      { Protocol: 'HTTP', Port: 80, DefaultActions: [Match.objectLike({ Type: 'redirect' })] },
      isProduction ? 1 : 0,
    );
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', isProduction ? 2 : 1);
  });

  it('keeps quiet WebSockets open for an hour, drops invalid headers and logs access', () => {
    expect(loadBalancerAttribute('idle_timeout.timeout_seconds')).toBe('3600');
    expect(loadBalancerAttribute('routing.http.drop_invalid_header_fields.enabled')).toBe('true');
    expect(loadBalancerAttribute('access_logs.s3.enabled')).toBe('true');
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
  });

  it('filters requests with a WAF: AWS managed rules and a per-IP rate limit, logged', () => {
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      Rules: Match.arrayWith([
        Match.objectLike({
          Action: { Block: {} },
          Statement: { RateBasedStatement: { Limit: WAF_RATE_LIMIT_PER_5_MINUTES, AggregateKeyType: 'IP' } },
        }),
        Match.objectLike({
          Statement: {
            ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' },
          },
        }),
      ]),
    });
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    template.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
      RedactedFields: Match.arrayWith([{ SingleHeader: { Name: 'authorization' } }]),
    });
  });

  it('runs the image from the repository’s Dockerfile as a non-root user, health-checked on /health', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      ContainerDefinitions: [
        Match.objectLike({
          User: 'node',
          ReadonlyRootFilesystem: true,
          PortMappings: [Match.objectLike({ ContainerPort: FRONT_END_PORT })],
          HealthCheck: Match.objectLike({ Command: Match.arrayWith([Match.stringLikeRegexp('/health')]) }),
          Environment: Match.arrayWith([
            // In the order the construct sets them (arrayWith matches in order).
            { Name: 'HOST', Value: '0.0.0.0' },
            { Name: 'TRUST_PROXY', Value: 'true' },
            {
              Name: 'ALLOWED_ORIGINS',
              Value: `https://${isProduction ? 'topup.example.co.uk' : 'topup.staging.internal.example.co.uk'}`,
            },
          ]),
        }),
      ],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: '/health',
      Port: FRONT_END_PORT,
    });
  });

  it('keeps the tasks in private subnets with no public IP', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      }),
    });
  });

  it('rolls a failed deployment back: tasks that never get healthy (circuit breaker), or that answer 5xx (alarm)', () => {
    // Act
    const [alarmId] = Object.keys(
      template.findResources('AWS::CloudWatch::Alarm', {
        Properties: { AlarmName: `PaymentToVend-${name}-FrontEndDeployment5xx` },
      }),
    );

    // Assess
    template.hasResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        Alarms: { AlarmNames: [{ Ref: alarmId }], Enable: true, Rollback: true },
      }),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `PaymentToVend-${name}-FrontEndDeployment5xx`,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'FILL(target, 0) + FILL(loadBalancer, 0)' }),
        Match.objectLike({
          Id: 'target',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'HTTPCode_Target_5XX_Count' }),
          }),
        }),
        Match.objectLike({
          Id: 'loadBalancer',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'HTTPCode_ELB_5XX_Count' }),
          }),
        }),
      ]),
      Threshold: DEPLOYMENT_ROLLBACK_5XX_PER_MINUTE,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
    });
  });

  it('scales on CPU between the environment’s task counts', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: isProduction ? 2 : 1,
      MaxCapacity: isProduction ? 10 : 2,
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
      }),
    });
  });

  it('may start executions of the state machine and use the Data API', () => {
    const taskRolePolicy = Object.entries(template.findResources('AWS::IAM::Policy')).find(([logicalId]) =>
      logicalId.startsWith('FrontEndTaskTaskRoleDefaultPolicy'),
    );
    if (taskRolePolicy === undefined) throw new Error('no task role policy');
    const statements = taskRolePolicy[1].Properties.PolicyDocument.Statement as {
      Action: string | string[];
    }[];
    const actions = statements.flatMap((statement) => [statement.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['states:StartExecution', 'rds-data:ExecuteStatement']));
    expect(actions).not.toContain('states:SendTaskSuccess');
  });

  it('signs in to the database as the front-end’s own user, whose secret alone its task role can read', () => {
    // Prepare
    const [taskDefinition] = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
    const environment = taskDefinition?.Properties.ContainerDefinitions[0].Environment as {
      Name: string;
      Value: unknown;
    }[];
    const policies = Object.entries(template.findResources('AWS::IAM::Policy'));

    // Act
    const secretArn = environment.find((variable) => variable.Name === 'DATABASE_SECRET_ARN')?.Value;
    const readByTaskRole = policies
      .filter(([logicalId]) => logicalId.startsWith('FrontEndTaskTaskRoleDefaultPolicy'))
      .flatMap(
        ([, policy]) =>
          policy.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[],
      )
      .filter((statement) => JSON.stringify(statement.Action).includes('secretsmanager:GetSecretValue'))
      .map((statement) => statement.Resource);

    // Assess
    expect(secretArn).toEqual({ Ref: expect.stringMatching(/^DatabaseFrontEndSecretAttachment/) });
    expect(readByTaskRole).toEqual([{ Ref: expect.stringMatching(/^DatabaseFrontEndSecretAttachment/) }]);
  });
});

import { type App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { constructTestApp } from '../../testing/bare-stack.ts';
import { monitoredResources, TEST_ENV } from '../../testing/monitored-resources.ts';
import { unsuppressedFindings } from '../../testing/nag.ts';
import { testApp } from '../../testing/test-app.ts';
import { applyCompliance } from '../compliance.ts';
import { EventLogging } from './event-logging.ts';

describe('EventLogging', () => {
  let app: App;
  let template: Template;

  beforeAll(() => {
    app = constructTestApp();
    const stack = new Stack(app, 'Events', { env: TEST_ENV });
    const resources = monitoredResources(stack);
    new EventLogging(stack, 'EventLogging', {
      stateMachine: resources.stateMachine,
      service: resources.frontEnd.service,
      logGroupPrefix: '/aws/events/payment-to-vend',
      retention: logs.RetentionDays.ONE_YEAR,
    });
    applyCompliance(app);
    template = Template.fromStack(stack);
  });

  it.each([
    [
      'aws.ecs',
      'ECS Task State Change',
      { clusterArn: [Match.stringLikeRegexp('cluster/payment-platform')] },
      'ecs-tasks',
    ],
    [
      'aws.states',
      'Step Functions Execution Status Change',
      { stateMachineArn: [Match.stringLikeRegexp('stateMachine:PaymentToVend')] },
      'step-functions-executions',
    ],
    ['aws.sqs', 'AWS API Call via CloudTrail', { eventSource: ['sqs.amazonaws.com'] }, 'sqs-api-calls'],
  ])('sends %s "%s" events to their own log group', (source, detailType, detail, logGroup) => {
    const [logGroupId] = Object.keys(
      template.findResources('AWS::Logs::LogGroup', {
        Properties: { LogGroupName: `/aws/events/payment-to-vend/${logGroup}` },
      }),
    );
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: [source], 'detail-type': [detailType], detail },
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: {
            'Fn::Join': [
              '',
              Match.arrayWith([`:logs:eu-west-2:${TEST_ENV.account}:log-group:`, { Ref: logGroupId }]),
            ],
          },
        }),
      ],
    });
  });

  it('sends the front-end service’s deployment events, which name it in resources, to their own log group', () => {
    // Act
    const rules = Object.values(
      template.findResources('AWS::Events::Rule', {
        Properties: { EventPattern: { 'detail-type': ['ECS Deployment State Change'] } },
      }),
    );

    // Assess
    expect(rules).toHaveLength(1);
    const pattern = rules[0]?.Properties.EventPattern as { source: string[]; resources: unknown[] };
    expect(pattern.source).toEqual(['aws.ecs']);
    // The service's ARN, as the stage's service (a Ref) or this test's imported one (built from its name) gives it.
    expect(pattern.resources).toHaveLength(1);
    expect(JSON.stringify(pattern.resources)).toMatch(/:ecs:eu-west-2:\d{12}:service\/[^"]*front-end/);
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/events/payment-to-vend/ecs-deployments',
    });
  });

  it('keeps the events in KMS-encrypted log groups for the environment retention', () => {
    const groups = template.findResources('AWS::Logs::LogGroup');
    expect(Object.keys(groups)).toHaveLength(4);
    for (const group of Object.values(groups)) {
      expect(group).toMatchObject({
        Properties: { RetentionInDays: 365, KmsKeyId: expect.anything() },
        DeletionPolicy: 'Retain',
      });
    }
  });

  it('lets EventBridge write to those log groups, for these rules only', () => {
    const policies = template.findResources('AWS::Logs::ResourcePolicy');
    expect(Object.keys(policies)).toHaveLength(1);
    const document = JSON.stringify(Object.values(policies)[0]);
    expect(document).toContain('events.amazonaws.com');
    expect(document).toContain('logs:PutLogEvents');
    expect(document).toContain('aws:SourceArn');
  });

  it('lets CloudWatch Logs use the key, for this account’s log groups only', () => {
    const [key] = Object.values(template.findResources('AWS::KMS::Key'));
    const statement = JSON.stringify(
      (
        key as { Properties: { KeyPolicy: { Statement: { Sid?: string }[] } } }
      ).Properties.KeyPolicy.Statement.find(
        (candidate) => candidate.Sid === 'CloudWatchLogsEncryptsThisAccountsLogGroups',
      ),
    );
    expect(statement).toContain('logs.eu-west-2.amazonaws.com');
    expect(statement).toContain('kms:EncryptionContext:aws:logs:arn');
    expect(statement).toContain(`:logs:eu-west-2:${TEST_ENV.account}:log-group:*`);
  });

  it('adds no custom-resource Lambda', () => {
    template.resourceCountIs('AWS::Lambda::Function', 0);
  });

  it('refuses a log group prefix EventBridge cannot target', () => {
    const stack = new Stack(testApp(), 'Refused', { env: TEST_ENV });
    const resources = monitoredResources(stack);
    expect(
      () =>
        new EventLogging(stack, 'EventLogging', {
          stateMachine: resources.stateMachine,
          service: resources.frontEnd.service,
          logGroupPrefix: '/payment-to-vend',
          retention: logs.RetentionDays.ONE_MONTH,
        }),
    ).toThrow(/\/aws\/events\//);
  });

  it('has no unacknowledged AWS Solutions or PCI DSS findings', () => {
    expect(unsuppressedFindings(app)).toEqual([]);
  });
});

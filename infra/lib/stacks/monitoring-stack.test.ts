import { type App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { constructTestApp } from '../../testing/bare-stack.ts';
import { importedVpc, monitoredResources, onCallTopic } from '../../testing/monitored-resources.ts';
import { unsuppressedFindings } from '../../testing/nag.ts';
import { testApp } from '../../testing/test-app.ts';
import { applyCompliance } from '../compliance.ts';
import { environments, PLACEHOLDER_ACCOUNTS } from '../environments.ts';
import { MonitoringStack } from './monitoring-stack.ts';

const production = environments().find((settings) => settings.name === 'production')!;

describe('MonitoringStack (production)', () => {
  let app: App;
  let stack: MonitoringStack;
  let template: Template;

  beforeAll(() => {
    app = constructTestApp();
    // What is watched lives in the other stacks of the environment; imported here, so it adds no resources.
    const watched = new Stack(app, 'Watched', {
      env: { account: production.account, region: production.region },
    });
    Validations.of(watched).acknowledge({
      id: 'CloudFormation-Validate::F0001',
      reason: 'A test fixture of imported resources only: it is never deployed.',
    });
    stack = new MonitoringStack(app, 'Monitoring', {
      settings: production,
      resources: monitoredResources(watched),
      onCallTopic: onCallTopic(watched),
      vpc: importedVpc(watched),
      probeSubnets: { subnets: importedVpc(watched).privateSubnets },
      toolingAccount: PLACEHOLDER_ACCOUNTS.tooling,
    });
    applyCompliance(app);
    template = Template.fromStack(stack);
  });

  it('deploys to the environment’s own account and region', () => {
    expect(stack.account).toBe(production.account);
    expect(stack.region).toBe('eu-west-2');
  });

  it('has one multi-region, validated trail named for the environment', () => {
    template.resourceCountIs('AWS::CloudTrail::Trail', 1);
    template.hasResourceProperties('AWS::CloudTrail::Trail', {
      TrailName: 'payment-to-vend-production',
      IsMultiRegionTrail: true,
      EnableLogFileValidation: true,
    });
  });

  it('keeps every log group encrypted for the environment’s retention (a year in production)', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThanOrEqual(5);
    for (const group of groups) {
      expect(group).toMatchObject({ Properties: { RetentionInDays: 365, KmsKeyId: expect.anything() } });
    }
  });

  it('pages on-call from every alarm, with the environment in its name', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThanOrEqual(20);
    for (const alarm of alarms) {
      expect(alarm).toMatchObject({
        Properties: {
          AlarmName: expect.stringMatching(/^PaymentToVend-production-/),
          AlarmActions: [expect.stringContaining(':OnCall')],
          OKActions: [expect.stringContaining(':OnCall')],
          TreatMissingData: expect.any(String),
        },
      });
    }
  });

  it('has a dashboard of the flow and the four event rules', () => {
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', {
      DashboardName: 'PaymentToVend-production',
    });
    template.resourceCountIs('AWS::Events::Rule', 4);
  });

  it('probes the production domain from inside the VPC, for the tooling account’s pipeline', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ HEALTH_URL: 'https://topup.example.co.uk/health' }) },
      VpcConfig: Match.anyValue(),
    });
  });

  it('lets the probe reach the public ALB through the NAT gateway (HTTPS only)', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: [
        Match.objectLike({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
      ],
    });
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });

  it('has no unacknowledged AWS Solutions or PCI DSS findings', () => {
    expect(unsuppressedFindings(app)).toEqual([]);
  });
});

describe('MonitoringStack settings', () => {
  it('refuses a log retention CloudWatch Logs does not offer', () => {
    const app = testApp();
    const watched = new Stack(app, 'Watched', {
      env: { account: production.account, region: production.region },
    });
    expect(
      () =>
        new MonitoringStack(app, 'Monitoring', {
          settings: { ...production, logRetentionDays: 42 },
          resources: monitoredResources(watched),
          onCallTopic: onCallTopic(watched),
          vpc: importedVpc(watched),
          probeSubnets: { subnets: importedVpc(watched).privateSubnets },
          toolingAccount: PLACEHOLDER_ACCOUNTS.tooling,
        }),
    ).toThrow(/42-day/);
  });
});

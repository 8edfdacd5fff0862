import { type App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { constructTestApp } from '../../testing/bare-stack.ts';
import { importedVpc, monitoredResources, TEST_ENV } from '../../testing/monitored-resources.ts';
import { unsuppressedFindings } from '../../testing/nag.ts';
import { applyCompliance } from '../compliance.ts';
import { HEALTH_PROBE_FUNCTION_NAME, HealthProbe, SMOKE_TEST_ROLE_NAME } from './health-probe.ts';

const TOOLING_ACCOUNT = '111111111111';

describe('HealthProbe', () => {
  let app: App;
  let template: Template;

  beforeAll(() => {
    app = constructTestApp();
    const stack = new Stack(app, 'Probe', { env: TEST_ENV });
    const { frontEnd } = monitoredResources(stack);
    new HealthProbe(stack, 'HealthProbe', {
      vpc: importedVpc(stack),
      vpcSubnets: { subnets: importedVpc(stack).privateSubnets },
      domainName: 'topup.test.internal.example.co.uk',
      connectTo: { loadBalancer: frontEnd.loadBalancer, internetFacing: false },
      invokerAccount: TOOLING_ACCOUNT,
      logsKey: new kms.Key(stack, 'LogsKey', { enableKeyRotation: true }),
      retention: logs.RetentionDays.ONE_MONTH,
    });
    applyCompliance(app);
    template = Template.fromStack(stack);
  });

  it('runs inside the VPC and checks https://<domainName>/health', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: HEALTH_PROBE_FUNCTION_NAME,
      VpcConfig: Match.objectLike({ SubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'] }),
      Environment: {
        Variables: Match.objectLike({ HEALTH_URL: 'https://topup.test.internal.example.co.uk/health' }),
      },
    });
  });

  it('may reach the front-end ALB on 443 and nothing else', () => {
    template.resourceCountIs('AWS::EC2::SecurityGroupEgress', 1);
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      DestinationSecurityGroupId: 'sg-0123456789abcdef0',
    });
    expect(JSON.stringify(template.findResources('AWS::EC2::SecurityGroup'))).not.toContain('0.0.0.0/0');
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: 'sg-0123456789abcdef0',
      FromPort: 443,
    });
  });

  it('lets only the tooling account assume the invoker role, which may only invoke the probe', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: SMOKE_TEST_ROLE_NAME,
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: 'sts:AssumeRole',
            Principal: {
              AWS: Match.objectLike({
                'Fn::Join': Match.arrayWith([Match.arrayWith([`:iam::${TOOLING_ACCOUNT}:root`])]),
              }),
            },
          }),
        ],
      },
    });
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).map((policy) =>
      JSON.stringify(policy),
    );
    const invoker = policies.find((policy) => policy.includes('InvokerRole'));
    expect(invoker).toContain('lambda:InvokeFunction');
    expect(invoker).not.toContain('"Resource":"*"');
  });

  it('has no unacknowledged AWS Solutions or PCI DSS findings', () => {
    expect(unsuppressedFindings(app)).toEqual([]);
  });
});

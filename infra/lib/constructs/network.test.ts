import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { bareStack } from '../../testing/bare-stack.ts';
import { Network, VPC_CIDR } from './network.ts';

describe.each(['dev', 'production'] as const)('Network (%s)', (name) => {
  let template: Template;
  beforeAll(() => {
    const { stack, settings } = bareStack(name);
    new Network(stack, 'Network', { settings });
    template = Template.fromStack(stack);
  });

  it('spreads public, application and database subnets over the three London AZs', () => {
    template.resourceCountIs('AWS::EC2::Subnet', 9);
    for (const az of ['eu-west-2a', 'eu-west-2b', 'eu-west-2c']) {
      template.resourcePropertiesCountIs('AWS::EC2::Subnet', { AvailabilityZone: az }, 3);
    }
  });

  it('gives nothing a public IP on launch', () => {
    for (const subnet of Object.values(template.findResources('AWS::EC2::Subnet'))) {
      expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
    }
  });

  it(`has ${name === 'production' ? 'a NAT gateway per AZ' : 'one NAT gateway'} for the calls to the gateway and vendor`, () => {
    template.resourceCountIs('AWS::EC2::NatGateway', name === 'production' ? 3 : 1);
  });

  it('reaches every AWS API the tasks call through a VPC endpoint', () => {
    for (const service of [
      'states',
      'rds-data',
      'secretsmanager',
      'sqs',
      'sns',
      'logs',
      'ecr.api',
      'ecr.dkr',
      'xray',
      'kms',
    ]) {
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        ServiceName: `com.amazonaws.eu-west-2.${service}`,
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
      });
    }
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ServiceName: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['.s3'])]) }),
      VpcEndpointType: 'Gateway',
    });
  });

  it('admits only HTTPS from inside the VPC to the endpoints', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('VPC interface endpoints'),
      SecurityGroupIngress: [Match.objectLike({ CidrIp: VPC_CIDR, FromPort: 443, ToPort: 443 })],
    });
  });

  it('logs all traffic to an encrypted log group with the environment’s retention', () => {
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      KmsKeyId: Match.anyValue(),
      RetentionInDays: name === 'production' ? 365 : 30,
    });
  });

  it('rotates the logs key', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });
});

import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildStages } from '../bin/app.ts';
import { NO_BUNDLING } from '../testing/bare-stack.ts';
import { type NagFinding, unsuppressedFindings } from '../testing/nag.ts';
import { environments } from './environments.ts';
import type { PaymentPlatformStage } from './stage.ts';

// The whole app, every environment, synthesized once (with CDK's CloudFormation checks and the nag packs).
let stages: PaymentPlatformStage[];
let findings: NagFinding[];
beforeAll(() => {
  const app = new App({ context: { ...NO_BUNDLING } });
  stages = buildStages(app, environments());
  findings = unsuppressedFindings(app);
});

const stageNamed = (name: string) => {
  const stage = stages.find((candidate) => candidate.stageName === name);
  if (stage === undefined) throw new Error(`no stage ${name}`);
  return stage;
};
const stacksOf = (stage: PaymentPlatformStage): Stack[] => [
  stage.networkStack,
  stage.statefulStack,
  stage.applicationStack,
  stage.monitoringStack,
];

describe('the CDK app', () => {
  it('has one stage per environment, in pipeline order', () => {
    expect(stages.map((stage) => stage.stageName)).toEqual(['dev', 'staging', 'nonlive', 'production']);
  });

  it('passes the AWS Solutions and PCI DSS 3.2.1 packs with nothing unacknowledged, in every stack of every environment', () => {
    expect(findings).toEqual([]);
  });
});

describe.each(environments().map((settings) => [settings.name, settings] as const))(
  'the %s stage',
  (name, settings) => {
    const isProduction = name === 'production';
    let templates: { network: Template; stateful: Template; application: Template; monitoring: Template };
    beforeAll(() => {
      const stage = stageNamed(name);
      templates = {
        network: Template.fromStack(stage.networkStack),
        stateful: Template.fromStack(stage.statefulStack),
        application: Template.fromStack(stage.applicationStack),
        monitoring: Template.fromStack(stage.monitoringStack),
      };
    });

    it('deploys every stack to the environment’s own account in London', () => {
      for (const stack of stacksOf(stageNamed(name))) {
        expect({ account: stack.account, region: stack.region }).toEqual({
          account: settings.account,
          region: 'eu-west-2',
        });
      }
    });

    it(`has ${isProduction ? 'an internet-facing' : 'only an internal'} front-end load balancer`, () => {
      templates.application.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
      templates.application.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
        Scheme: isProduction ? 'internet-facing' : 'internal',
      });
    });

    it(`opens ${isProduction ? 'only the front-end ALB' : 'no security group'} to the internet`, () => {
      const openToWorld: string[] = [];
      for (const [stackName, template] of Object.entries(templates)) {
        for (const [logicalId, group] of Object.entries(template.findResources('AWS::EC2::SecurityGroup'))) {
          const rules = (group.Properties.SecurityGroupIngress ?? []) as {
            CidrIp?: string;
            CidrIpv6?: string;
          }[];
          if (rules.some((rule) => rule.CidrIp === '0.0.0.0/0' || rule.CidrIpv6 === '::/0')) {
            openToWorld.push(`${stackName}/${logicalId}`);
          }
        }
        for (const [logicalId, rule] of Object.entries(
          template.findResources('AWS::EC2::SecurityGroupIngress'),
        )) {
          if (rule.Properties.CidrIp === '0.0.0.0/0' || rule.Properties.CidrIpv6 === '::/0') {
            openToWorld.push(`${stackName}/${logicalId}`);
          }
        }
      }
      expect(openToWorld).toEqual(
        isProduction ? [expect.stringMatching(/^application\/FrontEndLoadBalancerSecurityGroup/)] : [],
      );
    });

    it('encrypts every queue and gives every non-dead-letter queue a dead-letter queue', () => {
      const queues = Object.values(templates.stateful.findResources('AWS::SQS::Queue'));
      expect(queues).toHaveLength(6);
      for (const queue of queues) expect(queue.Properties.KmsMasterKeyId).toBeDefined();
      expect(queues.filter((queue) => queue.Properties.RedrivePolicy !== undefined)).toHaveLength(3);
    });

    it(`keeps the data in Aurora with the Data API on, ${settings.database.deletionProtection ? 'protected' : 'unprotected'} from deletion`, () => {
      templates.stateful.hasResourceProperties('AWS::RDS::DBCluster', {
        EnableHttpEndpoint: true,
        StorageEncrypted: true,
        DeletionProtection: settings.database.deletionProtection,
      });
      if (isProduction) expect(settings.database.deletionProtection).toBe(true);
    });

    it(`${isProduction ? 'protects' : 'does not protect'} the stateful stack from termination`, () => {
      expect(stageNamed(name).statefulStack.terminationProtection).toBe(isProduction);
    });

    it('keeps stateful resources out of the application stack', () => {
      for (const type of ['AWS::RDS::DBCluster', 'AWS::SQS::Queue', 'AWS::SNS::Topic']) {
        templates.application.resourceCountIs(type, 0);
      }
    });
  },
);

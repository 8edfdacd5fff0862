import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { UNTIMED_TASK_ATTEMPT_SECONDS } from '../../workflow/payment-to-vend.ts';
import { buildStages } from '../bin/app.ts';
import { constructTestApp } from '../testing/bare-stack.ts';
import {
  type NagAcknowledgement,
  type NagFinding,
  unsuppressedFindings,
  unusedAcknowledgements,
} from '../testing/nag.ts';
import { environments } from './environments.ts';
import type { PaymentPlatformStage } from './stage.ts';

// Every environment, synthesized once, with the nag packs (CDK's own CloudFormation checks run once, on the
// whole app, in bin/app.test.ts).
let stages: PaymentPlatformStage[];
let findings: NagFinding[];
let unusedAcknowledgementsOfApp: NagAcknowledgement[];
beforeAll(() => {
  const app = constructTestApp();
  stages = buildStages(app, environments());
  findings = unsuppressedFindings(app);
  unusedAcknowledgementsOfApp = unusedAcknowledgements(app);
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

  it('acknowledges only findings the packs make: each acknowledgement names what it covers', () => {
    expect(unusedAcknowledgementsOfApp).toEqual([]);
  });
});

/** A state machine's definition as deployed, with CloudFormation's references left as placeholders. */
function deployedDefinition(definitionString: unknown): {
  TimeoutSeconds?: number;
  States: Record<string, { TimeoutSeconds?: number; Retry?: { MaxAttempts?: number }[] }>;
} {
  if (typeof definitionString === 'string') return JSON.parse(definitionString);
  const [, parts] = (definitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  // Every reference sits inside a JSON string (an ARN, a queue URL), so a placeholder keeps the JSON whole.
  return JSON.parse(parts.map((part) => (typeof part === 'string' ? part : 'REFERENCE')).join(''));
}

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

    it('ends a stuck execution: the state machine has a timeout longer than every vend attempt', () => {
      // Prepare
      const [machine] = Object.values(
        templates.application.findResources('AWS::StepFunctions::StateMachine'),
      );

      // Act
      const definition = deployedDefinition(machine?.Properties.DefinitionString);

      // Assess
      const vend = definition.States.Vend;
      const vendAttempts =
        1 + (vend?.Retry ?? []).reduce((sum, retrier) => sum + (retrier.MaxAttempts ?? 3), 0);
      expect(vendAttempts).toBe(settings.workflow.maxVendAttempts);
      expect(definition.TimeoutSeconds).toBeGreaterThan(vendAttempts * (vend?.TimeoutSeconds ?? Number.NaN));
    });

    it(`keeps every task Lambda within the ${UNTIMED_TASK_ATTEMPT_SECONDS} s a task attempt is budgeted in the execution timeout`, () => {
      // Prepare
      const { charge, notify, meterVending } = stageNamed(name).applicationStack.taskFunctions;

      // Act
      const timeouts = [charge, notify, meterVending].map((fn) => fn.timeout?.toSeconds());

      // Assess
      for (const timeout of timeouts) expect(timeout).toBeLessThanOrEqual(UNTIMED_TASK_ATTEMPT_SECONDS);
    });

    it('keeps stateful resources out of the application stack', () => {
      for (const type of ['AWS::RDS::DBCluster', 'AWS::SQS::Queue', 'AWS::SNS::Topic']) {
        templates.application.resourceCountIs(type, 0);
      }
    });
  },
);

/**
 * Everything one environment runs, as one CDK Stage: the network, the stateful resources, the application
 * and its monitoring, each its own stack in the environment's account and region, all held to the
 * compliance packs.
 *
 * @example
 * for (const settings of environments()) new PaymentPlatformStage(app, settings.name, { settings, toolingAccount });
 */
import { Stage, type StageProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { applyCompliance } from './compliance.ts';
import { SubnetGroups } from './constructs/network.ts';
import type { EnvironmentSettings } from './environments.ts';
import { ApplicationStack } from './stacks/application-stack.ts';
import { MonitoringStack } from './stacks/monitoring-stack.ts';
import { NetworkStack } from './stacks/network-stack.ts';
import { StatefulStack } from './stacks/stateful-stack.ts';

export interface PaymentPlatformStageProps extends StageProps {
  readonly settings: EnvironmentSettings;
  /** The account whose pipeline deploys this stage and runs its smoke test. */
  readonly toolingAccount: string;
}

export class PaymentPlatformStage extends Stage {
  public readonly settings: EnvironmentSettings;
  public readonly networkStack: NetworkStack;
  public readonly statefulStack: StatefulStack;
  public readonly applicationStack: ApplicationStack;
  public readonly monitoringStack: MonitoringStack;

  constructor(scope: Construct, id: string, props: PaymentPlatformStageProps) {
    const { settings } = props;
    super(scope, id, { ...props, env: { account: settings.account, region: settings.region } });
    this.settings = settings;
    const env = { account: settings.account, region: settings.region };
    const tags = { Application: 'payment-to-vend', Environment: settings.name };

    this.networkStack = new NetworkStack(this, 'Network', {
      env,
      tags,
      settings,
      description: `PaymentToVend ${settings.title}: VPC, endpoints, flow logs`,
    });
    const { vpc, logsKey } = this.networkStack.network;
    this.statefulStack = new StatefulStack(this, 'Stateful', {
      env,
      tags,
      settings,
      vpc,
      logsKey,
      description: `PaymentToVend ${settings.title}: Aurora, migrations, queues, on-call topic`,
    });
    this.applicationStack = new ApplicationStack(this, 'Application', {
      env,
      tags,
      settings,
      vpc,
      logsKey,
      database: this.statefulStack.database,
      messaging: this.statefulStack.messaging,
      description: `PaymentToVend ${settings.title}: task Lambdas, state machine, front-end service`,
    });

    const { taskFunctions, workflow, frontEnd } = this.applicationStack;
    const { messaging } = this.statefulStack;
    this.monitoringStack = new MonitoringStack(this, 'Monitoring', {
      tags,
      settings,
      toolingAccount: props.toolingAccount,
      vpc,
      probeSubnets: { subnetGroupName: SubnetGroups.application },
      logsKey,
      onCallTopic: messaging.onCallTopic,
      resources: {
        stateMachine: workflow.stateMachine,
        queues: messaging.queues,
        deadLetterQueues: messaging.deadLetterQueues,
        functions: {
          charge: taskFunctions.charge,
          notify: taskFunctions.notify,
          meterVending: taskFunctions.meterVending,
          followUp: taskFunctions.followUp,
          reconcile: taskFunctions.reconcile,
        },
        frontEnd: {
          loadBalancer: frontEnd.loadBalancer,
          targetGroup: frontEnd.targetGroup,
          service: frontEnd.service,
        },
        database: this.statefulStack.database.cluster,
      },
      description: `PaymentToVend ${settings.title}: audit trail, alarms, event logs, dashboard, health probe`,
    });

    applyCompliance(this);
  }
}

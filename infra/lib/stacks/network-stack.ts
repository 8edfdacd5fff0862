/**
 * One environment's network: the VPC, its endpoints and flow logs, and the key its log groups use.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Network } from '../constructs/network.ts';
import type { EnvironmentSettings } from '../environments.ts';

export interface NetworkStackProps extends StackProps {
  readonly settings: EnvironmentSettings;
}

export class NetworkStack extends Stack {
  public readonly network: Network;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    this.network = new Network(this, 'Network', { settings: props.settings });
  }
}

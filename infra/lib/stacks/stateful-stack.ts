/**
 * One environment's state: the payments database and its migrations, the queues and the on-call topic.
 * Kept apart from the application so redeploying or replacing compute never touches data; protected from
 * stack deletion in production.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { DatabaseMigrations, PaymentsDatabase } from '../constructs/database.ts';
import { Messaging } from '../constructs/messaging.ts';
import type { EnvironmentSettings } from '../environments.ts';

export interface StatefulStackProps extends StackProps {
  readonly settings: EnvironmentSettings;
  readonly vpc: ec2.IVpc;
  readonly logsKey: kms.IKey;
}

export class StatefulStack extends Stack {
  public readonly database: PaymentsDatabase;
  public readonly migrations: DatabaseMigrations;
  public readonly messaging: Messaging;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, { ...props, terminationProtection: props.settings.name === 'production' });
    const { settings, vpc, logsKey } = props;
    this.database = new PaymentsDatabase(this, 'Database', { settings, vpc, logsKey });
    this.migrations = new DatabaseMigrations(this, 'Migrations', {
      settings,
      vpc,
      logsKey,
      database: this.database,
    });
    this.messaging = new Messaging(this, 'Messaging', {
      settings,
    });
  }
}

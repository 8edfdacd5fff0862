import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { bareStack } from '../../testing/bare-stack.ts';
import { DatabaseMigrations, PaymentsDatabase } from './database.ts';
import { Network } from './network.ts';

describe.each(['dev', 'production'] as const)('PaymentsDatabase and DatabaseMigrations (%s)', (name) => {
  let template: Template;
  let database: PaymentsDatabase;
  beforeAll(() => {
    const { stack, settings } = bareStack(name);
    const { vpc, logsKey } = new Network(stack, 'Network', { settings });
    database = new PaymentsDatabase(stack, 'Database', { settings, vpc, logsKey });
    new DatabaseMigrations(stack, 'Migrations', { settings, vpc, logsKey, database });
    database.grantDataApiAccess(new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() }));
    template = Template.fromStack(stack);
  });

  it('is Aurora PostgreSQL Serverless v2 with the Data API on', () => {
    template.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql',
      EnableHttpEndpoint: true,
      DatabaseName: 'payments',
      ServerlessV2ScalingConfiguration: {
        MinCapacity: name === 'dev' ? 0 : 0.5,
        MaxCapacity: name === 'dev' ? 2 : 16,
      },
    });
    template.hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.serverless' });
    expect(database.databaseName).toBe('payments');
  });

  it('is encrypted with its own rotating key, and so is its credentials secret', () => {
    template.hasResourceProperties('AWS::RDS::DBCluster', {
      StorageEncrypted: true,
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseKey'), 'Arn'] },
    });
  });

  it('rotates the credentials every 30 days', () => {
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
    });
  });

  it(`keeps backups and ${name === 'production' ? 'is' : 'is not'} protected from deletion`, () => {
    template.hasResourceProperties('AWS::RDS::DBCluster', {
      BackupRetentionPeriod: name === 'production' ? 35 : 1,
      DeletionProtection: name === 'production',
    });
    template.hasResource('AWS::RDS::DBCluster', {
      DeletionPolicy: name === 'production' ? 'Snapshot' : 'Delete',
    });
  });

  it('exports PostgreSQL and IAM authentication logs to encrypted log groups', () => {
    template.hasResourceProperties('AWS::RDS::DBCluster', {
      EnableCloudwatchLogsExports: ['postgresql', 'iam-db-auth-error'],
      EnableIAMDatabaseAuthentication: true,
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: `/aws/rds/cluster/payments-${name}/postgresql`,
      KmsKeyId: Match.anyValue(),
    });
  });

  it('sits in the isolated database subnets, reachable only from the rotation function', () => {
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).filter((rule) =>
      JSON.stringify(rule.Properties.GroupId).includes('DatabaseSecurityGroup'),
    );
    expect(ingress).toHaveLength(1);
    expect(JSON.stringify(ingress[0]?.Properties.SourceSecurityGroupId)).toMatch(/RotationSingleUser/);
  });

  it('applies the migrations through a custom resource that runs again when a migration file changes', () => {
    template.hasResourceProperties('Custom::PaymentsDatabaseMigrations', {
      Database: 'payments',
      MigrationsChecksum: Match.stringLikeRegexp('^[0-9a-f]{64}$'),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('migrations'),
      Environment: { Variables: Match.objectLike({ DATABASE_NAME: 'payments' }) },
      VpcConfig: Match.anyValue(),
    });
  });

  it('grants a Data API caller the rds-data calls on this cluster and the secret, nothing wider', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Caller') }],
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: Match.arrayWith(['rds-data:BeginTransaction', 'rds-data:ExecuteStatement']),
            Resource: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
          }),
          Match.objectLike({
            Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
            Resource: { Ref: Match.stringLikeRegexp('^DatabaseClusterSecretAttachment') },
          }),
          Match.objectLike({
            Action: 'kms:Decrypt',
            Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-2.amazonaws.com' } },
          }),
        ],
      },
    });
  });
});

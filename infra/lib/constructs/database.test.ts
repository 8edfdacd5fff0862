import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_ROLE_NAMES } from '../../../database/service-roles.ts';
import { bareStack } from '../../testing/bare-stack.ts';
import { DatabaseMigrations, PaymentsDatabase, SERVICE_PASSWORD_EXCLUDED_CHARACTERS } from './database.ts';
import { Network } from './network.ts';

describe.each(['dev', 'production'] as const)('PaymentsDatabase and DatabaseMigrations (%s)', (name) => {
  let template: Template;
  let database: PaymentsDatabase;
  beforeAll(() => {
    const { stack, settings } = bareStack(name);
    const { vpc, logsKey } = new Network(stack, 'Network', { settings });
    database = new PaymentsDatabase(stack, 'Database', { settings, vpc, logsKey });
    new DatabaseMigrations(stack, 'Migrations', { settings, vpc, logsKey, database });
    database.grantDataApiAccess(
      new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() }),
      'payments_charge',
    );
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

  it('sits in the isolated database subnets, reachable only from the rotation functions', () => {
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).filter((rule) =>
      JSON.stringify(rule.Properties.GroupId).includes('DatabaseSecurityGroup'),
    );
    const sources = ingress.map((rule) => JSON.stringify(rule.Properties.SourceSecurityGroupId));
    expect(sources).toHaveLength(1 + SERVICE_ROLE_NAMES.length);
    for (const source of sources) expect(source).toMatch(/DatabaseCluster\w*Rotation\w*SecurityGroup/);
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

  it('grants a service the rds-data calls on this cluster and its own secret, nothing wider', () => {
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
            Resource: { Ref: Match.stringLikeRegexp('^DatabaseChargeSecretAttachment') },
          }),
          Match.objectLike({
            Action: 'kms:Decrypt',
            Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-2.amazonaws.com' } },
          }),
        ],
      },
    });
  });

  it('gives each service its own database user: a generated password of letters and digits, encrypted with the database key', () => {
    const secrets = Object.values(template.findResources('AWS::SecretsManager::Secret'));
    for (const role of SERVICE_ROLE_NAMES) {
      const secret = secrets.find((candidate) =>
        JSON.stringify(candidate.Properties.GenerateSecretString?.SecretStringTemplate).includes(
          `\\"username\\":\\"${role}\\"`,
        ),
      );
      expect(secret, role).toBeDefined();
      expect(secret?.Properties.KmsKeyId).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^DatabaseKey/), 'Arn'],
      });
      expect(secret?.Properties.GenerateSecretString).toMatchObject({
        GenerateStringKey: 'password',
        ExcludeCharacters: SERVICE_PASSWORD_EXCLUDED_CHARACTERS,
      });
      // The multi-user rotation signs in as the master to change the password.
      expect(JSON.stringify(secret?.Properties.GenerateSecretString?.SecretStringTemplate)).toMatch(
        /masterarn.*DatabaseClusterSecretAttachment/,
      );
    }
    for (let code = 0x21; code < 0x7f; code += 1) {
      const character = String.fromCharCode(code);
      if (!/[A-Za-z0-9]/.test(character)) expect(SERVICE_PASSWORD_EXCLUDED_CHARACTERS).toContain(character);
    }
  });

  it('rotates each service user every 30 days, with the other user of the pair, once the migrations have run', () => {
    const schedules = Object.entries(template.findResources('AWS::SecretsManager::RotationSchedule')).filter(
      ([logicalId]) => !logicalId.startsWith('DatabaseClusterSecretAttachment'),
    );
    const migrations = Object.keys(template.findResources('Custom::PaymentsDatabaseMigrations'));
    expect(schedules).toHaveLength(SERVICE_ROLE_NAMES.length);
    for (const [, schedule] of schedules) {
      expect(schedule.Properties.RotationRules).toEqual({ ScheduleExpression: 'rate(30 days)' });
      expect(schedule.DependsOn).toEqual(expect.arrayContaining(migrations));
    }
    template.resourcePropertiesCountIs(
      'AWS::Serverless::Application',
      { Parameters: Match.objectLike({ masterSecretArn: Match.anyValue() }) },
      SERVICE_ROLE_NAMES.length,
    );
  });

  it('lets the migrations read the master secret and every service secret, to let each user sign in', () => {
    const [migrationsPolicy] = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([logicalId]) => logicalId.startsWith('MigrationsFunctionServiceRole'))
      .map(([, policy]) => policy.Properties.PolicyDocument.Statement);
    const secretsRead = (migrationsPolicy as { Action: unknown; Resource: unknown }[]).find((statement) =>
      JSON.stringify(statement.Action).includes('secretsmanager:GetSecretValue'),
    )?.Resource as { Ref: string }[];
    expect(
      secretsRead.map((resource) => resource.Ref.replace(/Attachment\w+$/, 'Attachment')).sort(),
    ).toEqual([
      'DatabaseChargeSecretAttachment',
      'DatabaseClusterSecretAttachment',
      'DatabaseConsoleSecretAttachment',
      'DatabaseFollowUpSecretAttachment',
      'DatabaseFrontEndSecretAttachment',
      'DatabaseMeterVendingSecretAttachment',
      'DatabaseNotifySecretAttachment',
      'DatabaseReconcileSecretAttachment',
    ]);
    template.hasResourceProperties('Custom::PaymentsDatabaseMigrations', {
      SecretArn: { Ref: Match.stringLikeRegexp('^DatabaseClusterSecretAttachment') },
      ServiceSecrets: Object.fromEntries(
        SERVICE_ROLE_NAMES.map((role) => [role, { Ref: Match.stringLikeRegexp('SecretAttachment') }]),
      ),
    });
  });

  it('lets a service read its own secret and not the master’s or another service’s', () => {
    const callerPolicy = Object.entries(template.findResources('AWS::IAM::Policy')).find(([logicalId]) =>
      logicalId.startsWith('Caller'),
    )?.[1];
    const text = JSON.stringify(callerPolicy);
    expect(text).toMatch(/DatabaseChargeSecretAttachment/);
    expect(text).not.toMatch(
      /DatabaseClusterSecretAttachment|FrontEndSecret|NotifySecret|MeterVendingSecret/,
    );
  });
});

import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { bareStack } from '../../testing/bare-stack.ts';
import { PaymentsDatabase } from './database.ts';
import { Messaging } from './messaging.ts';
import { Network } from './network.ts';
import { TaskFunctions } from './task-functions.ts';
import { PaymentWorkflow } from './workflow.ts';

describe('TaskFunctions', () => {
  let template: Template;
  let functions: TaskFunctions;
  beforeAll(() => {
    const { stack, settings } = bareStack('staging');
    const { vpc, logsKey } = new Network(stack, 'Network', { settings });
    const database = new PaymentsDatabase(stack, 'Database', { settings, vpc, logsKey });
    const messaging = new Messaging(stack, 'Messaging', {
      settings,
    });
    functions = new TaskFunctions(stack, 'Tasks', {
      settings,
      vpc,
      logsKey,
      database,
      queues: { paymentSuccess: messaging.queues.paymentSuccess },
    });
    const workflow = new PaymentWorkflow(stack, 'Workflow', {
      settings,
      logsKey,
      functions,
      queues: messaging.queues,
      onCallTopic: messaging.onCallTopic,
    });
    functions.grantTaskResponses(workflow.stateMachineArnByName);
    template = Template.fromStack(stack);
  });

  const taskFunction = (id: string) => {
    const entry = Object.entries(template.findResources('AWS::Lambda::Function')).find(([logicalId]) =>
      logicalId.startsWith(`Tasks${id}`),
    );
    if (entry === undefined) throw new Error(`no function Tasks${id}`);
    return entry[1].Properties;
  };
  /** The statements of a function's role's inline policy. */
  const statementsOf = (id: string): { Action: string | string[]; Resource: unknown }[] => {
    const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([logicalId]) =>
      logicalId.startsWith(`Tasks${id}ServiceRoleDefaultPolicy`),
    );
    return policies.flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement);
  };
  const actionsOf = (id: string) => statementsOf(id).flatMap((statement) => [statement.Action].flat());

  it.each(['Charge', 'MeterVending', 'Notify'])(
    '%s is a current Node.js on arm64, traced, in the VPC',
    (id) => {
      const properties = taskFunction(id);
      expect(properties.Runtime).toBe('nodejs24.x');
      expect(properties.Architectures).toEqual(['arm64']);
      expect(properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(properties.VpcConfig.SubnetIds.length).toBeGreaterThan(0);
      expect(properties.LoggingConfig).toMatchObject({ LogFormat: 'JSON' });
      expect(properties.Environment.Variables).toMatchObject({
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: expect.any(String),
        LOG_LEVEL: 'DEBUG',
        DATABASE_NAME: 'payments',
      });
    },
  );

  it('logs each function to its own encrypted log group with the environment’s retention', () => {
    for (const id of ['Charge', 'MeterVending', 'Notify']) {
      expect(taskFunction(id).LoggingConfig.LogGroup).toEqual({
        Ref: expect.stringMatching(`^Tasks${id}Logs`),
      });
    }
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      RetentionInDays: 30,
      KmsKeyId: Match.anyValue(),
    });
  });

  it('gives each task its provider and its credentials secret, and only that one', () => {
    expect(taskFunction('Charge').Environment.Variables).toMatchObject({
      PAYMENT_GATEWAY_URL: 'https://sandbox.gateway.example.com',
      PAYMENT_GATEWAY_CREDENTIALS_SECRET_ARN: {
        Ref: expect.stringMatching(/^TasksPaymentGatewayCredentials/),
      },
    });
    expect(taskFunction('MeterVending').Environment.Variables).toMatchObject({
      VENDING_VENDOR_URL: 'https://sandbox.vendor.example.com',
      VENDING_VENDOR_CREDENTIALS_SECRET_ARN: { Ref: expect.stringMatching(/^TasksVendingVendorCredentials/) },
    });
    const secretsReadBy = (id: string) =>
      statementsOf(id)
        .filter((statement) => [statement.Action].flat().includes('secretsmanager:GetSecretValue'))
        .map((statement) => JSON.stringify(statement.Resource));
    expect(secretsReadBy('Charge').join()).toMatch(/PaymentGatewayCredentials/);
    expect(secretsReadBy('Charge').join()).not.toMatch(/VendingVendorCredentials/);
    expect(secretsReadBy('MeterVending').join()).toMatch(/VendingVendorCredentials/);
    expect(secretsReadBy('Notify').join()).not.toMatch(/Credentials/);
  });

  it.each([
    ['Charge', 'Charge'],
    ['MeterVending', 'MeterVending'],
    ['Notify', 'Notify'],
  ])('signs %s in to the database as its own user, whose secret alone it can read', (id, secretId) => {
    // Prepare
    const databaseSecrets = /Database(Cluster|FrontEnd|Charge|Notify|MeterVending)Secret/g;

    // Act
    const variables = taskFunction(id).Environment.Variables;
    const read = statementsOf(id)
      .filter((statement) => [statement.Action].flat().includes('secretsmanager:GetSecretValue'))
      .flatMap((statement) => JSON.stringify(statement.Resource).match(databaseSecrets) ?? []);

    // Assess
    expect(variables.DATABASE_SECRET_ARN).toEqual({
      Ref: expect.stringMatching(new RegExp(`^Database${secretId}SecretAttachment`)),
    });
    expect(read).toEqual([`Database${secretId}Secret`]);
  });

  it('lets every task use the Data API on the cluster, and only meter-vending answer task tokens', () => {
    for (const id of ['Charge', 'MeterVending', 'Notify']) {
      expect(actionsOf(id)).toEqual(
        expect.arrayContaining(['rds-data:ExecuteStatement', 'rds-data:BeginTransaction']),
      );
    }
    expect(actionsOf('MeterVending')).toEqual(
      expect.arrayContaining([
        'states:SendTaskSuccess',
        'states:SendTaskFailure',
        'states:SendTaskHeartbeat',
      ]),
    );
    expect(actionsOf('Charge')).not.toContain('states:SendTaskSuccess');
    expect(actionsOf('Notify')).not.toContain('states:SendTaskSuccess');
  });

  it('feeds meter-vending from PaymentSuccess with partial batch responses', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: Match.stringLikeRegexp('^TasksMeterVending') },
      EventSourceArn: {
        'Fn::GetAtt': [Match.stringLikeRegexp('^MessagingPaymentSuccess(?!DeadLetter)'), 'Arn'],
      },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
    });
  });

  it('keeps meter-vending’s timeout a sixth of PaymentSuccess’s visibility timeout', () => {
    expect(taskFunction('MeterVending').Timeout).toBe(60);
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 6 * 60,
    });
  });

  it('lets the tasks out on HTTPS only, and in on nothing', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^Task Lambdas'),
      SecurityGroupEgress: [
        { CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443, IpProtocol: 'tcp', Description: Match.anyValue() },
      ],
      SecurityGroupIngress: Match.absent(),
    });
  });

  it('encrypts the provider credentials with a rotating customer managed key', () => {
    template.resourcePropertiesCountIs(
      'AWS::SecretsManager::Secret',
      { KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TasksCredentialsKey'), 'Arn'] } },
      2,
    );
    expect(functions.paymentGatewayCredentials).toBeDefined();
  });
});

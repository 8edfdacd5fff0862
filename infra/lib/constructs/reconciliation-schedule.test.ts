import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { topologyFor } from '../../../system/topology.ts';
import { bareStack } from '../../testing/bare-stack.ts';
import { PaymentsDatabase } from './database.ts';
import { Messaging } from './messaging.ts';
import { Network } from './network.ts';
import { ReconciliationSchedule } from './reconciliation-schedule.ts';
import { TaskFunctions } from './task-functions.ts';

describe('ReconciliationSchedule and the reconcile function', () => {
  let template: Template;
  beforeAll(() => {
    const { stack, settings } = bareStack('staging');
    const { vpc, logsKey } = new Network(stack, 'Network', { settings });
    const database = new PaymentsDatabase(stack, 'Database', { settings, vpc, logsKey });
    const messaging = new Messaging(stack, 'Messaging', { settings });
    const functions = new TaskFunctions(stack, 'Tasks', {
      settings,
      vpc,
      logsKey,
      database,
      queues: { paymentSuccess: messaging.queues.paymentSuccess },
    });
    new ReconciliationSchedule(stack, 'Reconciliation', { settings, reconcile: functions.reconcile });
    template = Template.fromStack(stack);
  });

  const reconcileFunction = () => {
    const entry = Object.entries(template.findResources('AWS::Lambda::Function')).find(([logicalId]) =>
      logicalId.startsWith('TasksReconcile'),
    );
    if (entry === undefined) throw new Error('no function TasksReconcile');
    return { logicalId: entry[0], properties: entry[1].Properties };
  };
  const statementsOfReconcile = (): { Action: string | string[]; Resource: unknown }[] =>
    Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([logicalId]) => logicalId.startsWith('TasksReconcileServiceRoleDefaultPolicy'))
      .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement);

  it('runs the reconcile function every 15 minutes, dropping a run not delivered before the next is due', () => {
    // Prepare
    const { logicalId } = reconcileFunction();

    // Act
    const rules = template.findResources('AWS::Events::Rule');

    // Assess
    expect(topologyFor(bareStack('staging').settings).reconciliation.everyMinutes).toBe(15);
    expect(Object.values(rules)).toEqual([
      {
        Type: 'AWS::Events::Rule',
        Properties: {
          Description: expect.stringMatching(/reconciles the payment gateway's charges/),
          ScheduleExpression: 'rate(15 minutes)',
          State: 'ENABLED',
          Targets: [
            {
              Arn: { 'Fn::GetAtt': [logicalId, 'Arn'] },
              Id: expect.any(String),
              RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 900 },
            },
          ],
        },
      },
    ]);
  });

  it('lets EventBridge invoke the reconcile function from that rule alone', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [reconcileFunction().logicalId, 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReconciliationRule'), 'Arn'] },
    });
  });

  it('builds the reconcile function from the topology: the gateway, its credentials, its own database user', () => {
    // Act
    const { properties } = reconcileFunction();

    // Assess
    expect(properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 300,
      MemorySize: 512,
      TracingConfig: { Mode: 'Active' },
    });
    expect(properties.Environment.Variables).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'reconcile',
      PAYMENT_GATEWAY_URL: 'https://sandbox.gateway.example.com',
      PAYMENT_GATEWAY_CREDENTIALS_SECRET_ARN: {
        Ref: expect.stringMatching(/^TasksPaymentGatewayCredentials/),
      },
      DATABASE_SECRET_ARN: { Ref: expect.stringMatching(/^DatabaseReconcileSecretAttachment/) },
      DATABASE_NAME: 'payments',
    });
    expect(properties.Environment.Variables.VENDING_VENDOR_URL).toBeUndefined();
  });

  it('lets the reconcile function read the gateway credentials and its own database secret, and answer no task token', () => {
    // Prepare
    const statements = statementsOfReconcile();

    // Act
    const secretsRead = statements
      .filter((statement) => [statement.Action].flat().includes('secretsmanager:GetSecretValue'))
      .map((statement) => JSON.stringify(statement.Resource));
    const actions = statements.flatMap((statement) => [statement.Action].flat());

    // Assess
    expect(secretsRead.join()).toMatch(/PaymentGatewayCredentials/);
    expect(secretsRead.join()).not.toMatch(/VendingVendorCredentials/);
    expect(
      secretsRead.flatMap((resource) => resource.match(/Database(Cluster|[A-Z][A-Za-z]*?)Secret/g) ?? []),
    ).toEqual(['DatabaseReconcileSecret']);
    expect(actions).toEqual(expect.arrayContaining(['rds-data:ExecuteStatement']));
    expect(actions.filter((action) => action.startsWith('states:'))).toEqual([]);
  });
});

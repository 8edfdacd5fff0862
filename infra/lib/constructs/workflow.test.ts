import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { bareStack } from '../../testing/bare-stack.ts';
import { PaymentsDatabase } from './database.ts';
import { Messaging } from './messaging.ts';
import { Network } from './network.ts';
import { TaskFunctions } from './task-functions.ts';
import { PaymentWorkflow } from './workflow.ts';

describe('PaymentWorkflow', () => {
  let template: Template;
  beforeAll(() => {
    const { stack, settings } = bareStack('production');
    const { vpc, logsKey } = new Network(stack, 'Network', { settings });
    const database = new PaymentsDatabase(stack, 'Database', { settings, vpc, logsKey });
    const messaging = new Messaging(stack, 'Messaging', {
      settings,
    });
    const functions = new TaskFunctions(stack, 'Tasks', {
      settings,
      vpc,
      logsKey,
      database,
      queues: { paymentSuccess: messaging.queues.paymentSuccess },
    });
    new PaymentWorkflow(stack, 'Workflow', {
      settings,
      logsKey,
      functions,
      queues: messaging.queues,
      onCallTopic: messaging.onCallTopic,
    });
    template = Template.fromStack(stack);
  });

  it('is a Standard state machine, traced', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      StateMachineName: 'payment-to-vend-production',
      TracingConfiguration: { Enabled: true },
    });
  });

  it('logs every event without execution data to an encrypted log group', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [
          {
            CloudWatchLogsLogGroup: {
              LogGroupArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkflowLogs'), 'Arn'] },
            },
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/vendedlogs/states/payment-to-vend-production',
      RetentionInDays: 365,
      KmsKeyId: Match.anyValue(),
    });
  });

  it('calls this environment’s task functions and queues, with its vend attempts', () => {
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    const definition = JSON.stringify(machine?.Properties.DefinitionString);
    expect(definition).toMatch(/TasksCharge/);
    expect(definition).toMatch(/TasksNotify/);
    expect(definition).toMatch(/MessagingPaymentSuccess/);
    expect(definition).toMatch(/MessagingVendingFailure/);
    expect(definition).toMatch(/MessagingOnCall/);
    expect(definition).toMatch(/\\"MaxAttempts\\":4/); // maxVendAttempts 5 = the first attempt and 4 retries
  });
});

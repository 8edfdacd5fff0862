/**
 * One environment's compute: the task Lambdas, the PaymentToVend state machine wired to them, the schedule that
 * runs reconciliation, and the front-end service. Stateless: it can be destroyed and redeployed without losing a
 * payment.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { PaymentsDatabase } from '../constructs/database.ts';
import { FrontendService } from '../constructs/frontend-service.ts';
import type { Messaging } from '../constructs/messaging.ts';
import { ReconciliationSchedule } from '../constructs/reconciliation-schedule.ts';
import { TaskFunctions } from '../constructs/task-functions.ts';
import { PaymentWorkflow } from '../constructs/workflow.ts';
import type { EnvironmentSettings } from '../environments.ts';

export interface ApplicationStackProps extends StackProps {
  readonly settings: EnvironmentSettings;
  readonly vpc: ec2.IVpc;
  readonly logsKey: kms.IKey;
  readonly database: PaymentsDatabase;
  readonly messaging: Messaging;
}

export class ApplicationStack extends Stack {
  public readonly taskFunctions: TaskFunctions;
  public readonly workflow: PaymentWorkflow;
  public readonly reconciliation: ReconciliationSchedule;
  public readonly frontEnd: FrontendService;

  constructor(scope: Construct, id: string, props: ApplicationStackProps) {
    super(scope, id, props);
    const { settings, vpc, logsKey, database, messaging } = props;

    this.taskFunctions = new TaskFunctions(this, 'Tasks', {
      settings,
      vpc,
      logsKey,
      database,
      queues: { paymentSuccess: messaging.queues.paymentSuccess },
    });
    this.workflow = new PaymentWorkflow(this, 'Workflow', {
      settings,
      logsKey,
      functions: {
        charge: this.taskFunctions.charge,
        notify: this.taskFunctions.notify,
        meterVending: this.taskFunctions.meterVending,
        followUp: this.taskFunctions.followUp,
      },
      queues: messaging.queues,
      onCallTopic: messaging.onCallTopic,
    });
    this.taskFunctions.grantTaskResponses(this.workflow.stateMachineArnByName);
    this.reconciliation = new ReconciliationSchedule(this, 'Reconciliation', {
      settings,
      reconcile: this.taskFunctions.reconcile,
    });
    this.frontEnd = new FrontendService(this, 'FrontEnd', {
      settings,
      vpc,
      logsKey,
      stateMachine: this.workflow.stateMachine,
      database,
    });
  }
}

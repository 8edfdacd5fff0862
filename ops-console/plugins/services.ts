/**
 * The console's services over the AWS clients, one per side of the console, decorated for the routes:
 * executions (Step Functions), queues and their messages (SQS), the on-call alerts (an SNS subscription of the
 * console's own queue, started here and stopped when the app closes), payments (the payments database as
 * the console's read-only role, and decisions handed to the waiting executions) and the reconciliation task's
 * open findings (the same database and role).
 */
import { userInfo } from 'node:os';
import fp from 'fastify-plugin';
import { DataApi } from '../../database/data-api.ts';
import { OperatorViews } from '../../database/operator-views.ts';
import { AlertsFeed } from '../alerts/alerts-feed.ts';
import { ExecutionsService } from '../executions/executions-service.ts';
import { PaymentsService } from '../payments/payments-service.ts';
import { QueueMessages } from '../queues/queue-messages.ts';
import { QueuesService } from '../queues/queues-service.ts';
import { ReconciliationFindings } from '../reconciliation/reconciliation-findings.ts';

declare module 'fastify' {
  interface FastifyInstance {
    executions: ExecutionsService;
    queues: QueuesService;
    queueMessages: QueueMessages;
    alerts: AlertsFeed;
    /** Named apart from the front-end's `payments` (both apps share FastifyInstance's type). */
    opsPayments: PaymentsService;
    opsReconciliation: ReconciliationFindings;
  }
}

/**
 * How long the start waits for the alerts subscription before going on without it (it carries on in the
 * background): a slow or unreachable AWS must not keep the console from starting.
 */
const ALERTS_START_WAIT_MS = 5_000;

export const opsServicesPlugin = fp(
  async (fastify) => {
    const { sfn, sqs, sns, rdsData } = fastify.opsAws;
    const config = fastify.opsConfig;
    const executions = new ExecutionsService({ sfn });
    const queues = new QueuesService({ sqs });
    const queueMessages = new QueueMessages({ sqs, queues });
    const alerts = new AlertsFeed({
      sns,
      sqs,
      topicArn: config.alertsTopicArn,
      queueName: config.alertsQueueName,
      log: fastify.log,
    });
    const db = config.database === undefined ? undefined : new DataApi(rdsData, config.database);
    const views = db === undefined ? undefined : new OperatorViews(db);
    fastify.decorate('executions', executions);
    fastify.decorate('queues', queues);
    fastify.decorate('queueMessages', queueMessages);
    fastify.decorate('alerts', alerts);
    fastify.decorate('opsReconciliation', new ReconciliationFindings({ db }));
    fastify.decorate(
      'opsPayments',
      new PaymentsService({
        views,
        sfn,
        executions,
        queueMessages,
        alerts,
        operator: config.operator ?? osUserName(),
      }),
    );

    const started = alerts.start();
    let waited: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      started,
      new Promise((resolve) => {
        waited = setTimeout(resolve, ALERTS_START_WAIT_MS);
      }),
    ]);
    clearTimeout(waited);
    // onClose hooks run in reverse order of registration: this stops polling before the clients are destroyed.
    fastify.addHook('onClose', async () => {
      await alerts.close();
      await started;
    });
  },
  { name: 'ops-services', dependencies: ['ops-aws-clients'], fastify: '5.x' },
);

/** Who is deciding when --operator does not say: the OS user running the console. */
function osUserName(): string {
  try {
    const { username } = userInfo();
    if (username.trim() !== '') return username;
  } catch {
    // No user entry (some containers): fall through.
  }
  return process.env.USER ?? process.env.USERNAME ?? 'unknown operator';
}

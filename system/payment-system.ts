/**
 * The whole payments system on one machine: the embedded AWS with the task Lambdas registered (charge,
 * notify, meter-vending), the queues (each with a dead-letter queue), the OnCall topic, the PaymentSuccess
 * → meter-vending event source mapping, the migrated database, the gateway and vendor SIMULATORS, and the
 * PaymentToVend state machine from the checked-in ASL (or a definition synthesized with other tuning).
 * Idempotent over a kept data directory: a second start finds everything in place.
 *
 * @example
 * const system = await startPaymentSystem({ port: 0, dataDir: null, simulatorsPort: 0 });
 * await sfn.send(new StartExecutionCommand({ stateMachineArn: system.stateMachineArn, name: paymentId, input }));
 * await system.close();
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import {
  CreateStateMachineCommand,
  SFNClient,
  StateMachineAlreadyExists,
  UpdateStateMachineCommand,
} from '@aws-sdk/client-sfn';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { migrate } from '../database/migrate.ts';
import { type EmbeddedAws, startEmbeddedAws } from '../local/embedded-aws.ts';
import {
  type RunningSimulators,
  type SimulatorsOptions,
  startSimulators,
} from '../local/simulators/start-simulators.ts';
import { LOCAL_RESOURCE_NAMES } from '../workflow/local-definition.ts';

export interface PaymentSystemOptions {
  /** Embedded AWS port; default 4566, 0 for a free one. */
  readonly port?: number;
  /** Folder for all state, or null to keep it in memory. */
  readonly dataDir: string | null;
  /** Simulators' port; default 4100, 0 for a free one. */
  readonly simulatorsPort?: number;
  readonly simulators?: Omit<SimulatorsOptions, 'port'>;
  /** The state machine's ASL; default the checked-in `workflow/payment-to-vend.asl.json`. */
  readonly definition?: Record<string, unknown>;
  /** Powertools log level of the task Lambdas; default INFO (tests pass SILENT). */
  readonly logLevel?: string;
}

export interface PaymentSystem {
  readonly aws: EmbeddedAws;
  readonly simulators: RunningSimulators;
  readonly stateMachineArn: string;
  /** What the Data API calls name (the embedded Data API accepts any cluster and secret). */
  readonly database: { readonly resourceArn: string; readonly secretArn: string; readonly database: string };
  /** Queue URLs by name (PaymentSuccess, PaymentFailure, VendingFailure and their `-dlq`s). */
  readonly queueUrls: Readonly<Record<string, string>>;
  readonly onCallTopicArn: string;
  close(): Promise<void>;
}

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const DATABASE = {
  resourceArn: `arn:aws:rds:${REGION}:${ACCOUNT}:cluster:payments`,
  secretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:payments-db-AbCdEf`,
  database: 'payments',
} as const;
const STATE_MACHINE_NAME = 'PaymentToVend';
const METER_VENDING_TIMEOUT_SECONDS = 60;

const handlerPath = (relative: string) => fileURLToPath(new URL(`../tasks/${relative}`, import.meta.url));

export async function startPaymentSystem(options: PaymentSystemOptions): Promise<PaymentSystem> {
  const simulators = await startSimulators({ ...options.simulators, port: options.simulatorsPort ?? 4100 });
  const aws = await startEmbeddedAws({
    port: options.port ?? 4566,
    dataDir: options.dataDir,
    region: REGION,
  });
  const clients = {
    rds: new RDSDataClient({ endpoint: aws.endpoint, region: REGION, credentials: CREDENTIALS }),
    sqs: new SQSClient({ endpoint: aws.endpoint, region: REGION, credentials: CREDENTIALS }),
    sfn: new SFNClient({ endpoint: aws.endpoint, region: REGION, credentials: CREDENTIALS }),
  };
  try {
    const environment = {
      AWS_ENDPOINT_URL: aws.endpoint,
      DATABASE_CLUSTER_ARN: DATABASE.resourceArn,
      DATABASE_SECRET_ARN: DATABASE.secretArn,
      DATABASE_NAME: DATABASE.database,
      PAYMENT_GATEWAY_URL: simulators.gatewayUrl,
      VENDING_VENDOR_URL: simulators.vendorUrl,
      POWERTOOLS_LOG_LEVEL: options.logLevel ?? 'INFO',
    };
    const { functions, queues, topics } = LOCAL_RESOURCE_NAMES;
    aws.lambda.register({
      name: functions.charge,
      handler: `${handlerPath('charge/handler.ts')}#handler`,
      environment: { ...environment, POWERTOOLS_SERVICE_NAME: 'charge' },
      timeoutSeconds: 30,
    });
    aws.lambda.register({
      name: functions.notify,
      handler: `${handlerPath('notify/handler.ts')}#handler`,
      environment: { ...environment, POWERTOOLS_SERVICE_NAME: 'notify' },
      timeoutSeconds: 30,
    });
    aws.lambda.register({
      name: 'meter-vending',
      handler: `${handlerPath('meter-vending/handler.ts')}#handler`,
      environment: { ...environment, POWERTOOLS_SERVICE_NAME: 'meter-vending' },
      timeoutSeconds: METER_VENDING_TIMEOUT_SECONDS,
    });

    await migrate({ client: clients.rds, ...DATABASE });

    const queueUrls: Record<string, string> = {};
    for (const name of Object.values(queues)) {
      const deadLetter = `${name}-dlq`;
      const created = await clients.sqs.send(
        new CreateQueueCommand({ QueueName: deadLetter, Attributes: { MessageRetentionPeriod: '1209600' } }),
      );
      queueUrls[deadLetter] = created.QueueUrl ?? '';
      const queue = await clients.sqs.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: {
            // Lambda's guidance: at least six times the function timeout for a queue it polls.
            VisibilityTimeout: String(6 * METER_VENDING_TIMEOUT_SECONDS),
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${deadLetter}`,
              maxReceiveCount: 5,
            }),
          },
        }),
      );
      queueUrls[name] = queue.QueueUrl ?? '';
    }
    const { topicArn: onCallTopicArn } = aws.sns.createTopic(topics.onCall);

    const paymentSuccessArn = `arn:aws:sqs:${REGION}:${ACCOUNT}:${queues.paymentSuccess}`;
    const mapped = aws.eventSourceMappings
      .list()
      .some(
        (mapping) =>
          mapping.eventSourceArn === paymentSuccessArn && mapping.functionArn.endsWith(':meter-vending'),
      );
    if (!mapped) {
      await aws.eventSourceMappings.create({
        functionName: 'meter-vending',
        queueArn: paymentSuccessArn,
        batchSize: 10,
        functionResponseTypes: ['ReportBatchItemFailures'],
      });
    }

    const definition = JSON.stringify(options.definition ?? (await checkedInDefinition()));
    const roleArn = `arn:aws:iam::${ACCOUNT}:role/PaymentToVend`;
    let stateMachineArn: string;
    try {
      const created = await clients.sfn.send(
        new CreateStateMachineCommand({ name: STATE_MACHINE_NAME, definition, roleArn }),
      );
      stateMachineArn = created.stateMachineArn ?? '';
    } catch (error) {
      if (!(error instanceof StateMachineAlreadyExists)) throw error;
      // Kept from an earlier run with another definition: this run's definition wins.
      stateMachineArn = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${STATE_MACHINE_NAME}`;
      await clients.sfn.send(new UpdateStateMachineCommand({ stateMachineArn, definition }));
    }

    return {
      aws,
      simulators,
      stateMachineArn,
      database: DATABASE,
      queueUrls,
      onCallTopicArn,
      async close() {
        destroy(clients);
        await aws.close();
        await simulators.close();
      },
    };
  } catch (error) {
    destroy(clients);
    await aws.close();
    await simulators.close();
    throw error;
  }
}

async function checkedInDefinition(): Promise<Record<string, unknown>> {
  const file = new URL('../workflow/payment-to-vend.asl.json', import.meta.url);
  return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
}

function destroy(clients: Record<string, { destroy(): void }>): void {
  for (const client of Object.values(clients)) client.destroy();
}

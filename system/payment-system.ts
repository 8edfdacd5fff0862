/**
 * The whole payments system on one machine: the embedded AWS with the task Lambdas registered (charge,
 * notify, meter-vending), the queues (each with a dead-letter queue), the OnCall topic, the PaymentSuccess
 * → meter-vending event source mapping, the migrated database, the gateway and vendor SIMULATORS (or the
 * providers at given URLs), and the PaymentToVend state machine from the checked-in ASL (or a definition
 * synthesized with other tuning).
 *
 * Nothing resumes before what it reaches is there: the task Lambdas are registered, the database migrated
 * and the queues and topic created before the embedded Step Functions resumes the executions that an earlier
 * run left running (a kill -9 included). A resumed Charge that found no `charge` function would fail with
 * Lambda.ResourceNotFoundException and end unconfirmed: against a real gateway, a customer charged and
 * never credited.
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
import type { FunctionDefinition } from '../local/lambda/function-registry.ts';
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
  /**
   * The payment gateway and vending vendor to reach, instead of starting the simulators here. Crash tests
   * keep the simulators in their own process, so that what they remember survives the system's kill -9.
   */
  readonly providers?: ProviderUrls;
}

/** Base URLs of the payment gateway and the vending vendor, as the task Lambdas reach them. */
export interface ProviderUrls {
  /** Such as http://127.0.0.1:4100/gateway */
  readonly gatewayUrl: string;
  /** Such as http://127.0.0.1:4100/vendor */
  readonly vendorUrl: string;
}

/** The system, reaching the providers it was given. */
export interface PaymentSystemWithProviders {
  readonly aws: EmbeddedAws;
  readonly providers: ProviderUrls;
  readonly stateMachineArn: string;
  /** What the Data API calls name (the embedded Data API accepts any cluster and secret). */
  readonly database: { readonly resourceArn: string; readonly secretArn: string; readonly database: string };
  /** Queue URLs by name (PaymentSuccess, PaymentFailure, VendingFailure and their `-dlq`s). */
  readonly queueUrls: Readonly<Record<string, string>>;
  readonly onCallTopicArn: string;
  close(): Promise<void>;
}

/** The system with the simulators it started (their URLs are its `providers`). */
export interface PaymentSystem extends PaymentSystemWithProviders {
  readonly simulators: RunningSimulators;
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

export function startPaymentSystem(
  options: PaymentSystemOptions & { readonly providers: ProviderUrls },
): Promise<PaymentSystemWithProviders>;
export function startPaymentSystem(
  options: PaymentSystemOptions & { readonly providers?: undefined },
): Promise<PaymentSystem>;
export async function startPaymentSystem(
  options: PaymentSystemOptions,
): Promise<PaymentSystemWithProviders | PaymentSystem> {
  const simulators =
    options.providers === undefined
      ? await startSimulators({ ...options.simulators, port: options.simulatorsPort ?? 4100 })
      : undefined;
  const providers: ProviderUrls = options.providers ?? {
    gatewayUrl: simulators!.gatewayUrl,
    vendorUrl: simulators!.vendorUrl,
  };
  const { queues, topics } = LOCAL_RESOURCE_NAMES;
  const queueUrls: Record<string, string> = {};
  let onCallTopicArn = '';
  let aws: EmbeddedAws;
  try {
    aws = await startEmbeddedAws({
      port: options.port ?? 4566,
      dataDir: options.dataDir,
      region: REGION,
      functions: (endpoint) => taskFunctions(endpoint, providers, options.logLevel ?? 'INFO'),
      // What a resumed execution reaches: the database its tasks write, the queues, the topic.
      beforeResume: async ({ endpoint, sns }) => {
        const rds = new RDSDataClient({ endpoint, region: REGION, credentials: CREDENTIALS });
        const sqs = new SQSClient({ endpoint, region: REGION, credentials: CREDENTIALS });
        try {
          await migrate({ client: rds, ...DATABASE });
          Object.assign(queueUrls, await createQueues(sqs));
        } finally {
          rds.destroy();
          sqs.destroy();
        }
        onCallTopicArn = sns.createTopic(topics.onCall).topicArn;
      },
    });
  } catch (error) {
    await simulators?.close();
    throw error;
  }

  const sfn = new SFNClient({ endpoint: aws.endpoint, region: REGION, credentials: CREDENTIALS });
  try {
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
      const created = await sfn.send(
        new CreateStateMachineCommand({ name: STATE_MACHINE_NAME, definition, roleArn }),
      );
      stateMachineArn = created.stateMachineArn ?? '';
    } catch (error) {
      if (!(error instanceof StateMachineAlreadyExists)) throw error;
      // Kept from an earlier run with another definition: this run's definition wins.
      stateMachineArn = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${STATE_MACHINE_NAME}`;
      await sfn.send(new UpdateStateMachineCommand({ stateMachineArn, definition }));
    }

    const system: PaymentSystemWithProviders = {
      aws,
      providers,
      stateMachineArn,
      database: DATABASE,
      queueUrls,
      onCallTopicArn,
      async close() {
        await aws.close();
        await simulators?.close();
      },
    };
    return simulators === undefined ? system : { ...system, simulators };
  } catch (error) {
    await aws.close();
    await simulators?.close();
    throw error;
  } finally {
    sfn.destroy();
  }
}

/** The task Lambdas, reaching the embedded AWS at `endpoint` and the providers at theirs. */
function taskFunctions(endpoint: string, providers: ProviderUrls, logLevel: string): FunctionDefinition[] {
  const environment = {
    AWS_ENDPOINT_URL: endpoint,
    DATABASE_CLUSTER_ARN: DATABASE.resourceArn,
    DATABASE_SECRET_ARN: DATABASE.secretArn,
    DATABASE_NAME: DATABASE.database,
    PAYMENT_GATEWAY_URL: providers.gatewayUrl,
    VENDING_VENDOR_URL: providers.vendorUrl,
    POWERTOOLS_LOG_LEVEL: logLevel,
  };
  const { functions } = LOCAL_RESOURCE_NAMES;
  return [
    {
      name: functions.charge,
      handler: `${handlerPath('charge/handler.ts')}#handler`,
      environment: { ...environment, POWERTOOLS_SERVICE_NAME: 'charge' },
      timeoutSeconds: 30,
    },
    {
      name: functions.notify,
      handler: `${handlerPath('notify/handler.ts')}#handler`,
      environment: { ...environment, POWERTOOLS_SERVICE_NAME: 'notify' },
      timeoutSeconds: 30,
    },
    {
      name: 'meter-vending',
      handler: `${handlerPath('meter-vending/handler.ts')}#handler`,
      environment: { ...environment, POWERTOOLS_SERVICE_NAME: 'meter-vending' },
      timeoutSeconds: METER_VENDING_TIMEOUT_SECONDS,
    },
  ];
}

/** Each queue with its dead-letter queue; CreateQueue answers an existing queue's URL when the attributes match. */
async function createQueues(sqs: SQSClient): Promise<Record<string, string>> {
  const queueUrls: Record<string, string> = {};
  for (const name of Object.values(LOCAL_RESOURCE_NAMES.queues)) {
    const deadLetter = `${name}-dlq`;
    const created = await sqs.send(
      new CreateQueueCommand({ QueueName: deadLetter, Attributes: { MessageRetentionPeriod: '1209600' } }),
    );
    queueUrls[deadLetter] = created.QueueUrl ?? '';
    const queue = await sqs.send(
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
  return queueUrls;
}

async function checkedInDefinition(): Promise<Record<string, unknown>> {
  const file = new URL('../workflow/payment-to-vend.asl.json', import.meta.url);
  return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
}

/**
 * The whole payments system on one machine: the embedded AWS with the task Lambdas registered (charge,
 * notify, meter-vending), the queues (each with a dead-letter queue), the OnCall topic, the PaymentSuccess
 * → meter-vending event source mapping, the migrated database, the gateway and vendor SIMULATORS (or the
 * providers at given URLs), and the PaymentToVend state machine. Every resource and setting is the topology's
 * (system/topology.ts) for one environment, as the CDK app deploys it there, and the state machine is what the
 * construct synthesizes for that environment (or a definition a test passes).
 *
 * Each task function and the front-end reach the database with a secret of their own, which the embedded Data
 * API runs as their database role (the topology's `databaseUser`), so a statement a role was not granted fails
 * here as on Aurora; the migrations use the master secret. `system.database` is the front-end's.
 *
 * Nothing resumes before what it reaches is there: the task Lambdas are registered, the database migrated
 * and the queues and topic created before the embedded Step Functions resumes the executions that an earlier
 * run left running (a kill -9 included). A resumed Charge that found no `charge` function would fail with
 * Lambda.ResourceNotFoundException and end unconfirmed: against a real gateway, a customer charged and
 * never credited.
 * Idempotent over a kept data directory: a second start finds everything in place.
 *
 * The task Lambdas, the event source mapping's SQS poller and the set-up here run in the embedded AWS's process,
 * so their SDK clients reach it in-process (`aws.requestHandler`: the same protocols and SigV4 signing, no
 * socket); the task Lambdas get it through tasks/shared/aws-client-config.ts. `inProcessAws: false` or
 * LOCAL_AWS_IN_PROCESS=0 makes them call the endpoint over HTTP instead, to measure the difference. The front-end
 * (in-process, its customers' first events came later: BENCHMARKS.md) and anything in another process (the AWS
 * CLI, `npm run console`, child-process tests) reach the endpoint over HTTP either way.
 *
 * @example
 * const system = await startPaymentSystem({ port: 0, dataDir: null, simulatorsPort: 0 });
 * await sfn.send(new StartExecutionCommand({ stateMachineArn: system.stateMachineArn, name: paymentId, input }));
 * await system.close();
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import {
  CreateStateMachineCommand,
  SFNClient,
  StateMachineAlreadyExists,
  UpdateStateMachineCommand,
} from '@aws-sdk/client-sfn';
import {
  CreateQueueCommand,
  GetQueueUrlCommand,
  QueueNameExists,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { FunctionDefinition, InProcessRequestHandler } from '@payment-to-vend/embedded-aws';
import { type EmbeddedAws, startEmbeddedAws } from '@payment-to-vend/embedded-aws';
import { migrate } from '../database/migrate.ts';
import type { ServiceRole } from '../database/service-roles.ts';
import { type EnvironmentName, environmentNamed } from '../infra/lib/environments.ts';
import {
  type RunningSimulators,
  type SimulatorsOptions,
  startSimulators,
} from '../simulators/start-simulators.ts';
import { registerLocalRequestHandler } from '../tasks/shared/aws-client-config.ts';
import { cachedLocalDefinition } from '../workflow/definition-cache.ts';
import { type QueueSpec, type Topology, topologyFor } from './topology.ts';

export interface PaymentSystemOptions {
  /** Embedded AWS port; default 4566, 0 for a free one. */
  readonly port?: number;
  /** Folder for all state, or null to keep it in memory. */
  readonly dataDir: string | null;
  /** Simulators' port; default 4100, 0 for a free one. */
  readonly simulatorsPort?: number;
  readonly simulators?: Omit<SimulatorsOptions, 'port'>;
  /** Whose settings to run (system/topology.ts, infra/lib/environments.ts); default `dev`. */
  readonly environment?: EnvironmentName;
  /**
   * The state machine's ASL; default what the construct synthesizes for the environment
   * (workflow/definition-cache.ts).
   */
  readonly definition?: Record<string, unknown>;
  /** Powertools log level of the task Lambdas; default INFO (tests pass SILENT). */
  readonly logLevel?: string;
  /**
   * The payment gateway and vending vendor to reach, instead of starting the simulators here. Crash tests
   * keep the simulators in their own process, so that what they remember survives the system's kill -9.
   */
  readonly providers?: ProviderUrls;
  /**
   * Whether this process's SDK clients (the task Lambdas', the SQS poller's, the front-end's) reach the embedded
   * AWS in-process rather than over HTTP; default true unless LOCAL_AWS_IN_PROCESS=0.
   */
  readonly inProcessAws?: boolean;
  /**
   * What a new database starts from, for tests: a snapshot of one already migrated
   * (database/testing/migrated-snapshot.ts), so that starting does not run every migration again. The
   * migrations still run, and find the ledger up to date.
   */
  readonly databaseSnapshot?: Blob;
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
  /**
   * The request handler for SDK clients in this process, `aws.requestHandler`; undefined when they call the
   * endpoint over HTTP (`inProcessAws: false`, LOCAL_AWS_IN_PROCESS=0).
   */
  readonly awsRequestHandler: InProcessRequestHandler | undefined;
  readonly providers: ProviderUrls;
  readonly stateMachineArn: string;
  /** The front-end's Data API target: its own secret, run as its database role. */
  readonly database: DatabaseTarget;
  /** The operator console's: read-only (payments, vends, events, follow-ups, decisions). */
  readonly consoleDatabase: DatabaseTarget;
  /**
   * The master user's, as the migrations use it: for tests and operators that look at everything (the
   * services' roles may each read only what their statements do).
   */
  readonly masterDatabase: DatabaseTarget;
  /** Queue URLs by name (PaymentSuccess, PaymentFailure, VendingFailure and their `-dlq`s). */
  readonly queueUrls: Readonly<Record<string, string>>;
  readonly onCallTopicArn: string;
  /** The resources and settings it runs. */
  readonly topology: Topology;
  close(): Promise<void>;
}

/** What a Data API call names: the cluster, the secret (and so the database user) and the database. */
export interface DatabaseTarget {
  readonly resourceArn: string;
  readonly secretArn: string;
  readonly database: string;
}

/** The system with the simulators it started (their URLs are its `providers`). */
export interface PaymentSystem extends PaymentSystemWithProviders {
  readonly simulators: RunningSimulators;
}

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
/** The master user's secret: the migrations'. */
const DATABASE = {
  resourceArn: `arn:aws:rds:${REGION}:${ACCOUNT}:cluster:payments`,
  secretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:payments-db-AbCdEf`,
  database: 'payments',
} as const;

/** A service's own secret (its username is its role on AWS; locally the Data API maps it to the role). */
function databaseTargetOf(user: ServiceRole): DatabaseTarget {
  return { ...DATABASE, secretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${user}-AbCdEf` };
}

const STATE_MACHINE_NAME = 'PaymentToVend';

/**
 * A task function's handler module. Where the system runs from its bundle (system/bundle/system-bundle.ts),
 * each handler is bundled beside it, as CDK's NodejsFunction bundles it for AWS; elsewhere (the tests, through
 * tsx) it is the TypeScript file.
 */
function entryPath(entry: string): string {
  const bundle = process.env.PAYMENT_TO_VEND_RUNNING_BUNDLE;
  return bundle === undefined
    ? fileURLToPath(new URL(`../${entry}`, import.meta.url))
    : join(bundle, entry.replace(/\.ts$/, '.js'));
}

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
  const topology = topologyFor(environmentNamed(options.environment ?? 'dev'));
  const queueUrls: Record<string, string> = {};
  let onCallTopicArn = '';
  const inProcess = options.inProcessAws ?? process.env.LOCAL_AWS_IN_PROCESS !== '0';
  let unregisterHandler = () => {};
  let aws: EmbeddedAws;
  try {
    aws = await startEmbeddedAws({
      port: options.port ?? 4566,
      dataDir: options.dataDir,
      ...(options.databaseSnapshot === undefined ? {} : { databaseSnapshot: options.databaseSnapshot }),
      region: REGION,
      dataApiRoles: Object.fromEntries(
        [topology.frontEnd, topology.operatorConsole, ...Object.values(topology.functions)].map(
          ({ databaseUser }) => [databaseTargetOf(databaseUser).secretArn, databaseUser],
        ),
      ),
      functions: (endpoint) => taskFunctions(topology, endpoint, providers, options.logLevel ?? 'INFO'),
      inProcessPollers: inProcess,
      // What a resumed execution reaches: the database its tasks write, the queues, the topic.
      beforeResume: async ({ endpoint, requestHandler, sns }) => {
        // Before any task Lambda can start (the first ones are resumed executions'): their clients are built
        // at their cold start.
        if (inProcess) unregisterHandler = registerLocalRequestHandler(endpoint, requestHandler);
        const client = clientConfig(endpoint, inProcess ? requestHandler : undefined);
        const rds = new RDSDataClient(client);
        const sqs = new SQSClient(client);
        try {
          await migrate({ client: rds, ...DATABASE });
          Object.assign(queueUrls, await createQueues(sqs, topology));
        } finally {
          rds.destroy();
          sqs.destroy();
        }
        onCallTopicArn = sns.createTopic(topology.topics.onCall.name).topicArn;
      },
    });
  } catch (error) {
    unregisterHandler();
    await simulators?.close();
    throw error;
  }

  const awsRequestHandler = inProcess ? aws.requestHandler : undefined;
  const sfn = new SFNClient(clientConfig(aws.endpoint, awsRequestHandler));
  try {
    await mapPaymentSuccess(aws, topology);

    const definition = JSON.stringify(
      options.definition ?? (await cachedLocalDefinition({ props: topology.workflow })),
    );
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
      awsRequestHandler,
      providers,
      stateMachineArn,
      database: databaseTargetOf(topology.frontEnd.databaseUser),
      consoleDatabase: databaseTargetOf(topology.operatorConsole.databaseUser),
      masterDatabase: DATABASE,
      queueUrls,
      onCallTopicArn,
      topology,
      async close() {
        await aws.close();
        unregisterHandler();
        await simulators?.close();
      },
    };
    return simulators === undefined ? system : { ...system, simulators };
  } catch (error) {
    await aws.close();
    unregisterHandler();
    await simulators?.close();
    throw error;
  } finally {
    sfn.destroy();
  }
}

/** This wiring's own SDK clients' configuration: the embedded AWS at `endpoint`, in-process when given. */
function clientConfig(endpoint: string, requestHandler: InProcessRequestHandler | undefined) {
  return {
    endpoint,
    region: REGION,
    credentials: CREDENTIALS,
    ...(requestHandler === undefined ? {} : { requestHandler }),
  };
}

/** The task Lambdas, reaching the embedded AWS at `endpoint` and the providers at theirs. */
function taskFunctions(
  topology: Topology,
  endpoint: string,
  providers: ProviderUrls,
  logLevel: string,
): FunctionDefinition[] {
  const providerEnvironment = {
    paymentGateway: { PAYMENT_GATEWAY_URL: providers.gatewayUrl },
    vendingVendor: { VENDING_VENDOR_URL: providers.vendorUrl },
  };
  return Object.values(topology.functions).map((spec) => ({
    name: spec.name,
    handler: `${entryPath(spec.entry)}#handler`,
    timeoutSeconds: spec.timeoutSeconds,
    memoryMb: spec.memoryMb,
    environment: Object.assign(
      {
        AWS_ENDPOINT_URL: endpoint,
        DATABASE_CLUSTER_ARN: DATABASE.resourceArn,
        DATABASE_SECRET_ARN: databaseTargetOf(spec.databaseUser).secretArn,
        DATABASE_NAME: DATABASE.database,
        POWERTOOLS_LOG_LEVEL: logLevel,
        POWERTOOLS_SERVICE_NAME: spec.serviceName,
      },
      ...spec.reaches.map((provider) => providerEnvironment[provider]),
    ),
  }));
}

/**
 * Each queue with its dead-letter queue, as the topology has them. A queue kept from a run with other settings
 * (another environment) takes this run's.
 */
async function createQueues(sqs: SQSClient, topology: Topology): Promise<Record<string, string>> {
  const queueUrls: Record<string, string> = {};
  const upsert = async (name: string, attributes: Record<string, string>) => {
    try {
      const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
      return created.QueueUrl ?? '';
    } catch (error) {
      if (!(error instanceof QueueNameExists)) throw error;
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
      await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: attributes }));
      return QueueUrl ?? '';
    }
  };
  for (const spec of Object.values(topology.queues)) {
    const { deadLetter } = spec;
    queueUrls[deadLetter.name] = await upsert(deadLetter.name, {
      MessageRetentionPeriod: String(deadLetter.retentionDays * 86_400),
    });
    queueUrls[spec.name] = await upsert(spec.name, queueAttributes(spec));
  }
  return queueUrls;
}

function queueAttributes(spec: QueueSpec): Record<string, string> {
  return {
    VisibilityTimeout: String(spec.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(spec.retentionDays * 86_400),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${spec.deadLetter.name}`,
      maxReceiveCount: spec.deadLetter.maxReceiveCount,
    }),
  };
}

/** The PaymentSuccess → meter-vending mapping with the topology's settings, created or brought up to them. */
async function mapPaymentSuccess(aws: EmbeddedAws, topology: Topology): Promise<void> {
  const spec = topology.paymentSuccessMapping;
  const functionName = topology.functions[spec.function].name;
  const queueArn = `arn:aws:sqs:${REGION}:${ACCOUNT}:${topology.queues[spec.queue].name}`;
  const settings = {
    batchSize: spec.batchSize,
    maximumBatchingWindowSeconds: spec.maxBatchingWindowSeconds,
    maximumConcurrency: spec.maxConcurrency,
  };
  const existing = aws.eventSourceMappings
    .list()
    .find(
      (mapping) => mapping.eventSourceArn === queueArn && mapping.functionArn.endsWith(`:${functionName}`),
    );
  if (existing === undefined) {
    await aws.eventSourceMappings.create({
      functionName,
      queueArn,
      functionResponseTypes: ['ReportBatchItemFailures'],
      ...settings,
    });
  } else if (
    existing.batchSize !== settings.batchSize ||
    existing.maximumBatchingWindowSeconds !== settings.maximumBatchingWindowSeconds ||
    existing.maximumConcurrency !== settings.maximumConcurrency
  ) {
    await aws.eventSourceMappings.update(existing.uuid, settings);
  }
}

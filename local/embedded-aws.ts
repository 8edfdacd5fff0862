/**
 * The embedded AWS in one call: Step Functions, SQS, Lambda (with SQS event source mappings), the RDS Data
 * API over PGlite and an SNS sink behind one HTTP endpoint, with all their state in one data directory.
 * `npm start` uses it with a data directory; tests use it in memory on a free port.
 *
 * @example
 * const aws = await startEmbeddedAws({ port: 0, dataDir: null, functions: [{ name: 'charge', handler: 'tasks/charge/handler.ts#handler' }] });
 * const sfn = new SFNClient({ endpoint: aws.endpoint, ... });
 * await aws.close();
 */
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { UnknownOperationException } from './aws/errors.ts';
import { createAwsServer, type JsonProtocolService } from './aws/server.ts';
import { EventSourceMappings } from './lambda/event-source-mappings.ts';
import type { FunctionDefinition } from './lambda/function-registry.ts';
import { lambdaRoutes } from './lambda/invoke-route.ts';
import { LambdaRunner } from './lambda/lambda-runner.ts';
import { dataApiRoutes } from './rds-data/data-api-routes.ts';
import { DataApiDatabase } from './rds-data/database.ts';
import { SnsSink } from './sns/sns-sink.ts';
import { attachSqsQueryProtocol } from './sqs/query-protocol.ts';
import { SqsEngine } from './sqs/sqs-engine.ts';
import { createSqsService, SQS_ACTIONS } from './sqs/sqs-service.ts';
import { createStepFunctionsService } from './stepfunctions/api/service.ts';
import { AwsServiceIntegrations } from './stepfunctions/aws-integrations.ts';
import { StepFunctionsEngine } from './stepfunctions/engine/engine.ts';
import type { ServiceIntegrations } from './stepfunctions/integrations.ts';

export interface EmbeddedAwsOptions {
  readonly port?: number;
  readonly host?: string;
  /** Folder for all state, or null to keep it in memory. */
  readonly dataDir: string | null;
  readonly region?: string;
  readonly accountId?: string;
  /** Lambda functions to register (the project's handlers). */
  readonly functions?: readonly FunctionDefinition[];
  /**
   * How Task states reach services. Default: the embedded Lambda, SQS and SNS, as on AWS. Tests of the
   * interpreter pass an InProcessIntegrations double instead.
   */
  readonly integrations?: ServiceIntegrations;
  /** Refuse to re-create a deleted queue's name for 60 s, as SQS does (default true). */
  readonly enforceDeletedQueueCooldown?: boolean;
}

export interface EmbeddedAws {
  readonly endpoint: string;
  readonly port: number;
  readonly stepFunctions: StepFunctionsEngine;
  readonly sqs: SqsEngine;
  readonly lambda: LambdaRunner;
  readonly eventSourceMappings: EventSourceMappings;
  readonly sns: SnsSink;
  /** The database behind the Data API; opened on first use (PGlite takes seconds to start). */
  dataApi(): Promise<DataApiDatabase>;
  close(): Promise<void>;
}

/** SQS messages may be 1 MiB, and a request carries a little more than its message. */
const MAX_REQUEST_BYTES = 8 * 1024 * 1024;

export async function startEmbeddedAws(options: EmbeddedAwsOptions): Promise<EmbeddedAws> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const host = options.host ?? '127.0.0.1';
  const dataDir = options.dataDir;

  // The services start after the server listens (queue URLs need its port), so requests that arrive
  // in between wait for them rather than fail.
  let servicesReady!: (services: { stepFunctions: JsonProtocolService; sqs: JsonProtocolService }) => void;
  const services = new Promise<{ stepFunctions: JsonProtocolService; sqs: JsonProtocolService }>(
    (resolve) => {
      servicesReady = resolve;
    },
  );

  const lambda = await LambdaRunner.open({ dataDir, region, accountId });
  for (const fn of options.functions ?? []) lambda.register(fn);

  let database: Promise<DataApiDatabase> | undefined;
  const dataApi = (): Promise<DataApiDatabase> => {
    database ??= DataApiDatabase.open({ dataDir: dataDir === null ? null : join(dataDir, 'postgres') });
    return database;
  };
  // Opened on first use: PGlite's start blocks this thread for seconds, which the many runs that never
  // touch the Data API (the interpreter's tests, crash tests) should not pay. `npm start` warms it up.

  const server = createAwsServer({
    services: [
      deferred(
        'AWSStepFunctions',
        undefined,
        services.then((started) => started.stepFunctions),
      ),
      deferred(
        'AmazonSQS',
        SQS_ACTIONS,
        services.then((started) => started.sqs),
      ),
    ],
    routes: [...lambdaRoutes(lambda), ...dataApiRoutes(dataApi)],
    region,
    accountId,
    maxBodyBytes: MAX_REQUEST_BYTES,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4566, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://${host}:${port}`;

  const sqs = await SqsEngine.open({
    dataDir,
    region,
    accountId,
    endpoint,
    ...(options.enforceDeletedQueueCooldown !== undefined
      ? { enforceDeletedQueueCooldown: options.enforceDeletedQueueCooldown }
      : {}),
  });
  attachSqsQueryProtocol(server, sqs);
  const sqsService = createSqsService(sqs);
  const sns = await SnsSink.open({ dataDir, region, accountId });
  const integrations =
    options.integrations ??
    new AwsServiceIntegrations({
      region,
      accountId,
      lambda,
      sns,
      services: { sqs: { ...sqsService, flushed: () => sqs.flushed() } },
    });
  // Step Functions opens last: executions it resumes may call the services above at once.
  const stepFunctions = await StepFunctionsEngine.open({ dataDir, integrations, region, accountId });
  servicesReady({ stepFunctions: createStepFunctionsService(stepFunctions), sqs: sqsService });
  const eventSourceMappings = await EventSourceMappings.open({
    dataDir,
    runner: lambda,
    sqsEndpoint: endpoint,
    region,
  });

  return {
    endpoint,
    port,
    stepFunctions,
    sqs,
    lambda,
    eventSourceMappings,
    sns,
    dataApi,
    async close() {
      // Pollers first, so a batch in flight can still delete its messages; then stop taking requests.
      await eventSourceMappings.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await stepFunctions.close();
      await sqs.close();
      await sns.close();
      await lambda.close();
      if (database !== undefined) await (await database).close();
    },
  };
}

/** A JSON protocol service whose engine opens later; its requests wait until then. */
function deferred(
  targetPrefix: string,
  actions: readonly string[] | undefined,
  service: Promise<JsonProtocolService>,
): JsonProtocolService {
  return {
    targetPrefix,
    ...(actions ? { actions } : {}),
    async handle(action, input, context) {
      const started = await service;
      if (started.actions !== undefined && !started.actions.includes(action)) {
        throw new UnknownOperationException(`${targetPrefix}.${action}`);
      }
      return started.handle(action, input, context);
    },
  };
}

/**
 * The embedded AWS in one call: Step Functions, SQS, Lambda (with SQS event source mappings), the RDS Data
 * API over PGlite, SNS (delivering to SQS queues and HTTP/S endpoints) and S3 (path-style) behind one HTTP
 * endpoint, with all their state in one data directory.
 * `npm start` uses it with a data directory; tests use it in memory on a free port.
 *
 * @example
 * const aws = await startEmbeddedAws({ port: 0, dataDir: null, functions: [{ name: 'charge', handler: 'tasks/charge/handler.ts#handler' }] });
 * const sfn = new SFNClient({ endpoint: aws.endpoint, ... });
 * // In this same process, without a socket: the same client, the same protocol, the same signature.
 * const inProcess = new SFNClient({ endpoint: aws.endpoint, requestHandler: aws.requestHandler, ... });
 * await aws.close();
 */
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { UnknownOperationException } from './aws/errors.ts';
import { InProcessRequestHandler } from './aws/in-process-handler.ts';
import { createAwsServer, type JsonProtocolService } from './aws/server.ts';
import { EventSourceMappings } from './lambda/event-source-mappings.ts';
import type { FunctionDefinition } from './lambda/function-registry.ts';
import { lambdaRoutes } from './lambda/invoke-route.ts';
import { LambdaRunner } from './lambda/lambda-runner.ts';
import { dataApiRoutes } from './rds-data/data-api-routes.ts';
import { DataApiDatabase } from './rds-data/database.ts';
import { createS3Service } from './s3/rest-protocol.ts';
import { S3Engine } from './s3/s3-engine.ts';
import { postNotification, queueDelivery } from './sns/notifications.ts';
import { attachSnsQueryProtocol } from './sns/query-protocol.ts';
import { SnsEngine } from './sns/sns-engine.ts';
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
  /**
   * Lambda functions to register (the project's handlers). They are registered before anything can call
   * them: before the endpoint answers its first request, before Step Functions resumes the executions
   * journaled in `dataDir` and before event source mappings poll. Give a function of the endpoint when
   * their environment must name it (`AWS_ENDPOINT_URL`): with `port: 0` it is known only once the server
   * listens. A function registered later with `aws.lambda.register` may be too late for a resumed
   * execution, which then fails with `Lambda.ResourceNotFoundException`, as it would on AWS.
   */
  readonly functions?: readonly FunctionDefinition[] | ((endpoint: string) => readonly FunctionDefinition[]);
  /**
   * Runs once Lambda (with `functions`), SQS, SNS and the Data API answer, and before Step Functions opens
   * and resumes journaled executions: create here what a resumed execution reaches (a database migration,
   * queues, topics). Step Functions requests wait until it has opened, so this must not await one.
   */
  readonly beforeResume?: (aws: StartingEmbeddedAws) => Promise<void>;
  /**
   * How Task states reach services. Default: the embedded Lambda, SQS and SNS, as on AWS. Tests of the
   * interpreter pass an InProcessIntegrations double instead.
   */
  readonly integrations?: ServiceIntegrations;
  /**
   * The database role each secret's Data API calls run as (secret ARN → role), as each secret signs in as its
   * own user on Aurora; any other secret is the master user. See packages/embedded-aws/rds-data/database.ts.
   */
  readonly dataApiRoles?: Readonly<Record<string, string>>;
  /**
   * What the Data API's database starts from when `dataDir` holds none yet: `database.snapshot()` of another
   * embedded AWS, as an Aurora cluster restored from a snapshot. Tests restore a migrated one instead of
   * migrating every new database.
   */
  readonly databaseSnapshot?: Blob;
  /** Refuse to re-create a deleted queue's name for 60 s, as SQS does (default true). */
  readonly enforceDeletedQueueCooldown?: boolean;
  /**
   * Whether the event source mappings' SQS pollers reach SQS through `requestHandler` (default true) or over
   * HTTP at the endpoint, as pollers in another process would; false only to measure what the socket costs.
   */
  readonly inProcessPollers?: boolean;
}

/** What `beforeResume` can use: everything but Step Functions and the event source mappings. */
export type StartingEmbeddedAws = Pick<
  EmbeddedAws,
  'endpoint' | 'port' | 'requestHandler' | 'sqs' | 'lambda' | 'sns' | 's3' | 'dataApi'
>;

export interface EmbeddedAws {
  readonly endpoint: string;
  readonly port: number;
  /**
   * For AWS SDK clients in this process (`requestHandler` in their configuration, with `endpoint` as usual):
   * their requests reach this endpoint's server without a socket, through the same protocols and signing.
   */
  readonly requestHandler: InProcessRequestHandler;
  readonly stepFunctions: StepFunctionsEngine;
  readonly sqs: SqsEngine;
  readonly lambda: LambdaRunner;
  readonly eventSourceMappings: EventSourceMappings;
  readonly sns: SnsEngine;
  /**
   * S3, path-style: clients set `forcePathStyle: true`. Other embedded services call it in-process
   * (`getObject`, `putObject`, `listObjects`).
   */
  readonly s3: S3Engine;
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

  // The engines open after the server listens (queue URLs need its port), so requests that arrive in
  // between wait for them rather than fail. SQS answers before Step Functions, for `beforeResume`.
  const sqsReady = later<JsonProtocolService>();
  const snsReady = later<SnsEngine>();
  const stepFunctionsReady = later<JsonProtocolService>();
  /** What is open so far, closed in reverse order if starting fails. */
  const opened: (() => Promise<void>)[] = [];

  const lambda = await LambdaRunner.open({ dataDir, region, accountId });
  opened.push(() => lambda.close());
  // S3 needs nothing else, so it is open before the server answers its first request.
  const s3 = await S3Engine.open({ dataDir, region, accountId }).catch(async (error: unknown) => {
    await lambda.close().catch(() => {});
    throw error;
  });
  opened.push(() => s3.close());

  let database: Promise<DataApiDatabase> | undefined;
  const dataApi = (): Promise<DataApiDatabase> => {
    database ??= DataApiDatabase.open({
      dataDir: dataDir === null ? null : join(dataDir, 'postgres'),
      ...(options.dataApiRoles === undefined ? {} : { roles: options.dataApiRoles }),
      ...(options.databaseSnapshot === undefined ? {} : { snapshot: options.databaseSnapshot }),
    });
    return database;
  };
  // Opened on first use: PGlite's start blocks this thread for seconds, which the many runs that never
  // touch the Data API (the interpreter's tests, crash tests) should not pay. `npm start` warms it up.
  opened.push(async () => {
    if (database !== undefined) await (await database).close();
  });

  const server = createAwsServer({
    services: [
      deferred('AWSStepFunctions', undefined, stepFunctionsReady.promise),
      deferred('AmazonSQS', SQS_ACTIONS, sqsReady.promise),
    ],
    routes: [...lambdaRoutes(lambda), ...dataApiRoutes(dataApi)],
    signedServices: [createS3Service(s3)],
    region,
    accountId,
    maxBodyBytes: MAX_REQUEST_BYTES,
  });
  const requestHandler = new InProcessRequestHandler(server);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 4566, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    opened.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const port = (server.address() as AddressInfo).port;
    const endpoint = `http://${host}:${port}`;
    // No await since the server started listening: no request has been read yet, so an Invoke finds them.
    const functions =
      typeof options.functions === 'function' ? options.functions(endpoint) : (options.functions ?? []);
    for (const fn of functions) lambda.register(fn);

    const sqs = await SqsEngine.open({
      dataDir,
      region,
      accountId,
      endpoint,
      ...(options.enforceDeletedQueueCooldown !== undefined
        ? { enforceDeletedQueueCooldown: options.enforceDeletedQueueCooldown }
        : {}),
    });
    opened.push(() => sqs.close());
    attachSqsQueryProtocol(server, sqs);
    // After SQS's: both speak the query protocol, and SNS's passes on what is not its own.
    attachSnsQueryProtocol(server, snsReady.promise);
    const sqsService = createSqsService(sqs);
    sqsReady.resolve(sqsService);
    // Deliveries a killed process still owed start as it opens: SQS is there to take them.
    const sns = await SnsEngine.open({
      dataDir,
      region,
      accountId,
      endpoint,
      transport: {
        toQueue: queueDelivery({ sqs: sqsService, endpoint, region, accountId }),
        toUrl: postNotification,
      },
    });
    opened.push(() => sns.close());
    snsReady.resolve(sns);

    await options.beforeResume?.({ endpoint, port, requestHandler, sqs, lambda, sns, s3, dataApi });

    const integrations =
      options.integrations ??
      new AwsServiceIntegrations({
        region,
        accountId,
        lambda,
        sns,
        s3,
        services: { sqs: { ...sqsService, flushed: () => sqs.flushed() } },
      });
    // Step Functions opens last but for the pollers: executions it resumes may call everything above at once.
    const stepFunctions = await StepFunctionsEngine.open({ dataDir, integrations, region, accountId });
    opened.push(() => stepFunctions.close());
    stepFunctionsReady.resolve(createStepFunctionsService(stepFunctions));
    // Restored mappings poll only for registered functions (see sqs-poller.ts), so their order matters less.
    const eventSourceMappings = await EventSourceMappings.open({
      dataDir,
      runner: lambda,
      sqsEndpoint: endpoint,
      region,
      ...(options.inProcessPollers === false ? {} : { requestHandler }),
    });

    return {
      endpoint,
      port,
      requestHandler,
      stepFunctions,
      sqs,
      lambda,
      eventSourceMappings,
      sns,
      s3,
      dataApi,
      async close() {
        // Pollers first, so a batch in flight can still delete its messages; then stop taking requests.
        await eventSourceMappings.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await stepFunctions.close();
        // SNS before SQS: a delivery under way may still be sending to a queue.
        await sns.close();
        await sqs.close();
        await s3.close();
        await lambda.close();
        if (database !== undefined) await (await database).close();
      },
    };
  } catch (error) {
    const failed = new Error('the embedded AWS did not start', { cause: error });
    sqsReady.reject(failed);
    snsReady.reject(failed);
    stepFunctionsReady.reject(failed);
    for (const close of opened.reverse()) await close().catch(() => {});
    throw error;
  }
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

/** A promise and its resolvers (Promise.withResolvers needs Node 22). */
function later<T>(): { promise: Promise<T>; resolve(value: T): void; reject(reason: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((resolvePromise, rejectPromise) => {
    resolve = resolvePromise;
    reject = rejectPromise;
  });
  // Only requests that arrived during a failed start await it; nobody else may.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

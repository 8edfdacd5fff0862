/**
 * Task states reaching the embedded Lambda, SQS and SNS, as Step Functions reaches the real ones.
 *
 * Optimised integrations (`arn:aws:states:::lambda:invoke`, `sqs:sendMessage`, `sns:publish`, with
 * `.waitForTaskToken` where the service allows it), bare function ARNs, and the `aws-sdk:` forms
 * (`arn:aws:states:::aws-sdk:sqs:sendMessage`). Calls go straight to each service's own action handlers, in
 * process: the same validation and errors a client would get, without an HTTP round trip.
 *
 * Failures are named as Step Functions names them, so Retry and Catch written for AWS match here:
 * a Lambda function's own error by its errorType (cause: the error payload as JSON), Lambda's service errors as
 * `Lambda.<Exception>`, optimised SQS/SNS errors as `SQS.<Code>` / `SNS.<Code>`, and `aws-sdk:` errors as
 * `<Service>.<Exception>` (e.g. `Sqs.QueueDoesNotExist`).
 */
import { randomUUID } from 'node:crypto';
import { AwsError } from '../aws/errors.ts';
import type { JsonProtocolService, RequestContext } from '../aws/server.ts';
import type { Json, JsonObject } from './definition/types.ts';
import type { ServiceIntegrations, TaskInvocation } from './integrations.ts';
import { StatesError } from './language/states-error.ts';

/** What the integration needs of the Lambda runner. */
export interface LambdaInvoker {
  invoke(
    functionName: string,
    payload: unknown,
    options?: { invocationType?: 'RequestResponse' | 'Event' },
  ): Promise<{ statusCode: number; payload: unknown; functionError?: string; executedVersion: string }>;
}

/**
 * What the integration needs of the embedded SNS: `publish` checks, keeps and owes the message to the topic's
 * subscribers (delivered as an API Publish is); the task completes once that is durable.
 */
export interface SnsPublisher {
  publish(input: Record<string, unknown>): { MessageId: string };
  flushed(): Promise<void>;
}

/**
 * What the distributed Map's ItemReader and ResultWriter need of the embedded S3 (`../s3/s3-engine.ts`):
 * `arn:aws:states:::s3:getObject`, `s3:listObjectsV2` and `s3:putObject`.
 */
export interface S3Objects {
  getObject(bucket: string, key: string): { readonly body: Buffer };
  putObject(input: { bucket: string; key: string; body: string; contentType?: string }): Promise<unknown>;
  listObjects(input: { bucket: string; prefix?: string; continuationToken?: string }): {
    readonly contents: readonly {
      readonly key: string;
      readonly size: number;
      readonly etag: string;
      readonly lastModified: Date;
    }[];
    readonly nextContinuationToken?: string;
  };
}

export interface AwsIntegrationsOptions {
  readonly region: string;
  readonly accountId: string;
  readonly lambda?: LambdaInvoker;
  /** AWS JSON protocol services by the service name used in resources: `sqs` → the SQS service. */
  readonly services?: Readonly<Record<string, JsonProtocolService & { flushed?: () => Promise<void> }>>;
  readonly sns?: SnsPublisher;
  readonly s3?: S3Objects;
}

export class AwsServiceIntegrations implements ServiceIntegrations {
  readonly #options: AwsIntegrationsOptions;

  constructor(options: AwsIntegrationsOptions) {
    this.#options = options;
  }

  async invoke(task: TaskInvocation): Promise<Json> {
    const { service, action } = task.resource;
    if (service === 'lambda-function') return this.#invokeFunction(action, task.parameters);
    if (service === 'lambda' && action === 'invoke') return this.#lambdaInvoke(task.parameters);
    if (service === 'sqs' && action === 'sendMessage') return this.#sqsSendMessage(task);
    if (service === 'sns' && action === 'publish') return this.#snsPublish(task.parameters, 'SNS');
    if (service === 's3') return this.#s3(action, task);
    if (service.startsWith('aws-sdk:')) return this.#sdkCall(service.slice('aws-sdk:'.length), action, task);
    throw new StatesError(
      'States.Runtime',
      `The resource '${task.resource.arn}' is not supported by the embedded AWS`,
    );
  }

  // ─── S3 (a distributed Map's ItemReader and ResultWriter) ──────────────────────────────────────────

  async #s3(action: string, task: TaskInvocation): Promise<Json> {
    const s3 = this.#options.s3;
    if (s3 === undefined || !['getObject', 'listObjectsV2', 'putObject'].includes(action)) {
      throw new StatesError(
        'States.Runtime',
        `The resource '${task.resource.arn}' is not supported by the embedded AWS`,
      );
    }
    const input = asObject(task.parameters, `s3:${action}`);
    const text = (field: string): string | undefined =>
      typeof input[field] === 'string' ? (input[field] as string) : undefined;
    const bucket = text('Bucket');
    if (bucket === undefined)
      throw new StatesError('States.Runtime', `The field 'Bucket' is required by s3:${action}`);
    try {
      if (action === 'listObjectsV2') {
        const page = s3.listObjects({
          bucket,
          ...(text('Prefix') !== undefined ? { prefix: text('Prefix') } : {}),
          ...(text('ContinuationToken') !== undefined
            ? { continuationToken: text('ContinuationToken') }
            : {}),
        });
        return {
          Contents: page.contents.map((object) => ({
            Etag: object.etag,
            LastModified: object.lastModified.toISOString(),
            Key: object.key,
            Size: object.size,
            StorageClass: 'STANDARD',
          })),
          ...(page.nextContinuationToken !== undefined
            ? { NextContinuationToken: page.nextContinuationToken }
            : {}),
        };
      }
      const key = text('Key');
      if (key === undefined)
        throw new StatesError('States.Runtime', `The field 'Key' is required by s3:${action}`);
      if (action === 'getObject') return { Body: s3.getObject(bucket, key).body.toString('utf8') };
      await s3.putObject({ bucket, key, body: text('Body') ?? '', contentType: 'application/json' });
      return {};
    } catch (error) {
      // As Step Functions names an S3 error: `S3.NoSuchKey`, `S3.NoSuchBucket`.
      if (error instanceof AwsError) throw new StatesError(`S3.${error.name}`, error.message);
      throw error;
    }
  }

  // ─── Lambda ────────────────────────────────────────────────────────────────────────────────────────

  async #invokeFunction(functionArn: string, payload: Json): Promise<Json> {
    const result = await this.#callLambda(functionArn, payload);
    return result.payload as Json;
  }

  async #lambdaInvoke(parameters: Json): Promise<Json> {
    const input = asObject(parameters, 'lambda:invoke');
    const functionName = input.FunctionName;
    if (typeof functionName !== 'string') {
      throw new StatesError('States.Runtime', "The field 'FunctionName' is required by lambda:invoke");
    }
    const qualified =
      typeof input.Qualifier === 'string' ? `${functionName}:${input.Qualifier}` : functionName;
    const invocationType = input.InvocationType === 'Event' ? 'Event' : 'RequestResponse';
    const result = await this.#callLambda(qualified, input.Payload ?? {}, invocationType);
    return {
      ExecutedVersion: result.executedVersion,
      Payload: (result.payload ?? null) as Json,
      SdkHttpMetadata: httpMetadata(result.statusCode),
      SdkResponseMetadata: { RequestId: randomUUID() },
      StatusCode: result.statusCode,
    };
  }

  async #callLambda(
    functionName: string,
    payload: unknown,
    invocationType: 'RequestResponse' | 'Event' = 'RequestResponse',
  ) {
    const lambda = this.#options.lambda;
    if (lambda === undefined)
      throw new StatesError('Lambda.ServiceException', 'No Lambda runner is configured');
    let result: Awaited<ReturnType<LambdaInvoker['invoke']>>;
    try {
      result = await lambda.invoke(functionName, payload, { invocationType });
    } catch (error) {
      throw new StatesError(`Lambda.${errorName(error)}`, errorMessage(error));
    }
    if (result.functionError !== undefined) {
      // The function's own error: Retry/Catch match its errorType; the cause is the error payload.
      const errorPayload = (result.payload ?? {}) as { errorType?: unknown };
      const errorType =
        typeof errorPayload.errorType === 'string' ? errorPayload.errorType : 'Lambda.Unknown';
      throw new StatesError(errorType, JSON.stringify(result.payload ?? null));
    }
    return result;
  }

  // ─── SQS ───────────────────────────────────────────────────────────────────────────────────────────

  async #sqsSendMessage(task: TaskInvocation): Promise<Json> {
    const input = { ...asObject(task.parameters, 'sqs:sendMessage') };
    // The optimised integration sends an object MessageBody as its JSON text.
    if (input.MessageBody !== undefined && typeof input.MessageBody !== 'string') {
      input.MessageBody = JSON.stringify(input.MessageBody);
    }
    const output = await this.#callJsonService('sqs', 'SendMessage', input, 'SQS');
    return {
      ...output,
      SdkHttpMetadata: httpMetadata(200),
      SdkResponseMetadata: { RequestId: randomUUID() },
    };
  }

  async #callJsonService(
    service: string,
    action: string,
    input: JsonObject,
    errorPrefix: string,
  ): Promise<JsonObject> {
    const target = this.#options.services?.[service];
    if (target === undefined) {
      throw new StatesError('States.Runtime', `The embedded AWS has no '${service}' service`);
    }
    const context: RequestContext = {
      requestId: randomUUID(),
      region: this.#options.region,
      accountId: this.#options.accountId,
    };
    try {
      const output = (await target.handle(action, input, context)) as JsonObject;
      // What the service acknowledged must be durable before the execution records it as done.
      await target.flushed?.();
      return JSON.parse(JSON.stringify(output ?? {})) as JsonObject;
    } catch (error) {
      throw new StatesError(`${errorPrefix}.${errorName(error)}`, errorMessage(error));
    }
  }

  // ─── SNS ───────────────────────────────────────────────────────────────────────────────────────────

  async #snsPublish(parameters: Json, errorPrefix: string): Promise<Json> {
    const sns = this.#options.sns;
    if (sns === undefined) throw new StatesError('States.Runtime', 'The embedded AWS has no SNS');
    const input = { ...asObject(parameters, 'sns:publish') };
    if (input.Message !== undefined && typeof input.Message !== 'string')
      input.Message = JSON.stringify(input.Message);
    let output: { MessageId: string };
    try {
      output = sns.publish(input);
    } catch (error) {
      throw new StatesError(`${errorPrefix}.${errorName(error)}`, errorMessage(error));
    }
    await sns.flushed();
    return {
      ...output,
      SdkHttpMetadata: httpMetadata(200),
      SdkResponseMetadata: { RequestId: randomUUID() },
    };
  }

  // ─── aws-sdk: ──────────────────────────────────────────────────────────────────────────────────────

  async #sdkCall(service: string, action: string, task: TaskInvocation): Promise<Json> {
    const prefix = service.charAt(0).toUpperCase() + service.slice(1);
    const apiAction = action.charAt(0).toUpperCase() + action.slice(1);
    if (service === 'sns' && action === 'publish') return this.#snsPublish(task.parameters, prefix);
    if (service === 'lambda' && action === 'invoke') return this.#lambdaInvoke(task.parameters);
    return this.#callJsonService(
      service,
      apiAction,
      asObject(task.parameters, `aws-sdk:${service}:${action}`),
      prefix,
    );
  }
}

function asObject(parameters: Json, resource: string): JsonObject {
  if (parameters === null || typeof parameters !== 'object' || Array.isArray(parameters)) {
    throw new StatesError('States.Runtime', `The parameters of ${resource} must be a JSON object`);
  }
  return parameters;
}

function httpMetadata(statusCode: number): JsonObject {
  return { AllHttpHeaders: {}, HttpHeaders: {}, HttpStatusCode: statusCode };
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Unknown';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

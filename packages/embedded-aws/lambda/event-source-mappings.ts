/**
 * SQS event source mappings: durable records of "poll this queue for that function", each with its
 * pollers running while it is enabled (see `sqs-poller.ts`). The pollers reach SQS through the real
 * `@aws-sdk/client-sqs` at `sqsEndpoint`, exactly as Lambda's pollers are SQS clients: over HTTP, or, when
 * the SQS they poll is in this process, through `requestHandler` without a socket.
 *
 * Durability: a mapping is journaled before `create` returns, so it survives kill -9 and polling resumes
 * when the mappings are opened again. Messages in flight at a crash are not lost either: they were never
 * deleted, so SQS hands them out again after their visibility timeout (at-least-once, as in Lambda).
 */
import { randomUUID } from 'node:crypto';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { AwsError } from '../aws/errors.ts';
import type { InProcessRequestHandler } from '../aws/in-process-handler.ts';
import { type Journal, openJournal } from '../durable/journal.ts';
import { invalidParameterValue, resourceConflict, resourceNotFound, validationError } from './errors.ts';
import type { LambdaRunner } from './lambda-runner.ts';
import { type PolledMapping, pollQueue } from './sqs-poller.ts';

export interface CreateEventSourceMapping {
  /** Name, ARN or partial ARN of a registered function. */
  readonly functionName: string;
  readonly queueArn: string;
  /** 1–10000 (1–10 for FIFO queues); default 10. */
  readonly batchSize?: number;
  /** 0–300; default 0. Required (≥ 1) when batchSize is over 10; not allowed for FIFO queues. */
  readonly maximumBatchingWindowSeconds?: number;
  readonly functionResponseTypes?: readonly 'ReportBatchItemFailures'[];
  /** Default true. */
  readonly enabled?: boolean;
  /** ScalingConfig.MaximumConcurrency: 2–1000 concurrent invocations at most; default none (5 pollers here). */
  readonly maximumConcurrency?: number;
}

/** What UpdateEventSourceMapping may change; what is not given stays. */
export interface EventSourceMappingChanges {
  readonly enabled?: boolean;
  readonly batchSize?: number;
  readonly maximumBatchingWindowSeconds?: number;
  readonly maximumConcurrency?: number;
}

/** A mapping as Lambda describes it (GetEventSourceMapping's main members). */
export interface EventSourceMapping {
  readonly uuid: string;
  readonly functionArn: string;
  readonly eventSourceArn: string;
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly functionResponseTypes: readonly 'ReportBatchItemFailures'[];
  readonly state: 'Enabled' | 'Disabled';
  readonly lastModified: Date;
  /** ScalingConfig.MaximumConcurrency, when set. */
  readonly maximumConcurrency?: number;
}

interface MappingRecordState {
  readonly uuid: string;
  readonly functionName: string;
  readonly functionArn: string;
  readonly queueArn: string;
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly functionResponseTypes: readonly 'ReportBatchItemFailures'[];
  readonly enabled: boolean;
  readonly lastModified: number;
  readonly maximumConcurrency?: number;
}

/**
 * One line of the mappings' journal. Version 2 names the change in `kind`; version 1 named it in `t`
 * (`'mapping'`, `'mapping-deleted'`) and is upgraded when a data directory written by that code is opened.
 */
type MappingRecord =
  /** Created or updated. */
  | { readonly kind: 'mappingSaved'; readonly mapping: MappingRecordState }
  | { readonly kind: 'mappingDeleted'; readonly uuid: string };

const MAPPING_RECORD_VERSION = 2;

type MappingRecordVersion1 =
  | { readonly t: 'mapping'; readonly mapping: MappingRecordState }
  | { readonly t: 'mapping-deleted'; readonly uuid: string };

function upgradeMappingRecord(record: unknown, fromVersion: number): MappingRecord {
  if (fromVersion !== 1) throw new Error(`No upgrade of mapping records from version ${fromVersion}`);
  const old = record as MappingRecordVersion1;
  switch (old.t) {
    case 'mapping':
      return { kind: 'mappingSaved', mapping: old.mapping };
    case 'mapping-deleted':
      return { kind: 'mappingDeleted', uuid: old.uuid };
    default:
      throw new Error(`Unknown mapping record of version 1: ${JSON.stringify(old)}`);
  }
}

export interface EventSourceMappingsOptions {
  /** Folder for the journal, or null to keep the mappings in memory (tests). */
  readonly dataDir: string | null;
  readonly runner: LambdaRunner;
  /** Where the pollers find SQS, e.g. the embedded AWS's own endpoint. */
  readonly sqsEndpoint: string;
  /**
   * The SQS client's request handler; default the SDK's, over HTTP. The embedded AWS gives its
   * `InProcessRequestHandler`, so its pollers do not call their own server through a socket.
   */
  readonly requestHandler?: InProcessRequestHandler;
  /** The SQS client's region; default the runner's. */
  readonly region?: string;
  /** Concurrent pollers per mapping; default 5, the number Lambda starts an SQS mapping with. */
  readonly pollersPerMapping?: number;
  readonly logger?: Pick<Console, 'warn' | 'error'>;
}

const QUEUE_ARN =
  /^arn:aws[a-zA-Z-]*:sqs:([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):(\d{12}):([a-zA-Z0-9_-]{1,80})$/;

/**
 * @example
 * const mappings = await EventSourceMappings.open({ dataDir: '.data', runner, sqsEndpoint: aws.endpoint });
 * const { uuid } = await mappings.create({ functionName: 'settle', queueArn, functionResponseTypes: ['ReportBatchItemFailures'] });
 * await mappings.close();
 */
export class EventSourceMappings {
  readonly #mappings = new Map<string, MappingRecordState>();
  readonly #pollers = new Map<string, { stop: AbortController; done: Promise<void> }>();
  /** Pollers told to stop whose batch in hand is not finished yet; close() waits for them too. */
  readonly #stopping = new Set<Promise<void>>();
  readonly #runner: LambdaRunner;
  readonly #sqs: SQSClient;
  readonly #pollersPerMapping: number;
  readonly #logger: Pick<Console, 'warn' | 'error'>;
  #journal: Journal<MappingRecord> | undefined;
  #closed = false;

  private constructor(options: EventSourceMappingsOptions) {
    this.#runner = options.runner;
    this.#pollersPerMapping = options.pollersPerMapping ?? 5;
    this.#logger = options.logger ?? console;
    this.#sqs = new SQSClient({
      endpoint: options.sqsEndpoint,
      region: options.region ?? options.runner.registry.region,
      // The embedded SQS accepts any credentials; the host's are not needed or wanted here.
      credentials: { accessKeyId: 'embedded-lambda', secretAccessKey: 'embedded-lambda' },
      ...(options.requestHandler === undefined ? {} : { requestHandler: options.requestHandler }),
    });
  }

  /** Opens (or creates) the mappings' journal and starts polling for every enabled mapping. */
  static async open(options: EventSourceMappingsOptions): Promise<EventSourceMappings> {
    const mappings = new EventSourceMappings(options);
    mappings.#journal = await openJournal<MappingRecord>({
      dir: options.dataDir,
      name: 'lambda-event-source-mappings',
      recordVersion: MAPPING_RECORD_VERSION,
      upgrade: upgradeMappingRecord,
      replay: (record) => mappings.#apply(record),
      snapshot: () =>
        [...mappings.#mappings.values()].map((mapping) => ({ kind: 'mappingSaved', mapping }) as const),
    });
    for (const mapping of mappings.#mappings.values()) mappings.#reconcile(mapping.uuid);
    return mappings;
  }

  /**
   * Creates a mapping and starts polling (unless `enabled: false`). Throws Lambda's errors: ValidationException
   * for values outside the model's ranges, InvalidParameterValueException for combinations Lambda refuses
   * (or a queue whose visibility timeout is shorter than the function's timeout), ResourceNotFoundException
   * for an unknown function, ResourceConflictException for a second mapping of the same queue and function.
   */
  async create(request: CreateEventSourceMapping): Promise<{ uuid: string }> {
    this.#assertOpen();
    const fn = this.#runner.registry.resolve(request.functionName);
    const queue = QUEUE_ARN.exec(request.queueArn);
    if (queue === null) {
      throw validationError(
        `1 validation error detected: Value '${request.queueArn}' at 'eventSourceArn' failed to satisfy constraint: ` +
          'Member must satisfy regular expression pattern: arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)',
      );
    }
    const fifo = request.queueArn.endsWith('.fifo');
    const batchSize = request.batchSize ?? 10;
    const window = request.maximumBatchingWindowSeconds ?? 0;
    checkBatching({
      fifo,
      batchSize,
      window,
      windowGiven: request.maximumBatchingWindowSeconds !== undefined,
      maximumConcurrency: request.maximumConcurrency,
    });
    for (const type of request.functionResponseTypes ?? []) {
      if (type !== 'ReportBatchItemFailures') {
        throw validationError(
          `1 validation error detected: Value '[${String(type)}]' at 'functionResponseTypes' failed to satisfy constraint: ` +
            'Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]',
        );
      }
    }
    const existing = [...this.#mappings.values()].find(
      (mapping) => mapping.queueArn === request.queueArn && mapping.functionName === fn.name,
    );
    if (existing !== undefined) {
      throw resourceConflict(
        `An event source mapping with SQS arn (" ${request.queueArn} ") and function (" ${fn.name} ") already exists. ` +
          `Please update or delete the existing mapping with UUID ${existing.uuid}`,
      );
    }
    await this.#checkQueue(request.queueArn, queue[2] ?? '', queue[3] ?? '', fn.timeoutSeconds);
    const mapping: MappingRecordState = {
      uuid: randomUUID(),
      functionName: fn.name,
      functionArn: fn.arn,
      queueArn: request.queueArn,
      batchSize,
      maximumBatchingWindowSeconds: window,
      functionResponseTypes: request.functionResponseTypes?.includes('ReportBatchItemFailures')
        ? ['ReportBatchItemFailures']
        : [],
      enabled: request.enabled ?? true,
      lastModified: Date.now(),
      ...(request.maximumConcurrency === undefined ? {} : { maximumConcurrency: request.maximumConcurrency }),
    };
    this.#write({ kind: 'mappingSaved', mapping });
    await this.#journal!.flushed();
    this.#reconcile(mapping.uuid);
    return { uuid: mapping.uuid };
  }

  /**
   * Changes a mapping, as UpdateEventSourceMapping does: enables or disables it, or sets its batching and
   * concurrency (the same ranges and rules as create); its pollers restart with the new settings.
   * ResourceNotFoundException for an unknown UUID.
   */
  async update(uuid: string, changes: EventSourceMappingChanges): Promise<EventSourceMapping> {
    this.#assertOpen();
    const mapping = this.#mappingOf(uuid);
    const updated: MappingRecordState = {
      ...mapping,
      enabled: changes.enabled ?? mapping.enabled,
      batchSize: changes.batchSize ?? mapping.batchSize,
      maximumBatchingWindowSeconds:
        changes.maximumBatchingWindowSeconds ?? mapping.maximumBatchingWindowSeconds,
      lastModified: Date.now(),
      ...(changes.maximumConcurrency === undefined ? {} : { maximumConcurrency: changes.maximumConcurrency }),
    };
    checkBatching({
      fifo: mapping.queueArn.endsWith('.fifo'),
      batchSize: updated.batchSize,
      window: updated.maximumBatchingWindowSeconds,
      windowGiven: changes.maximumBatchingWindowSeconds !== undefined,
      maximumConcurrency: changes.maximumConcurrency,
    });
    this.#write({ kind: 'mappingSaved', mapping: updated });
    await this.#journal!.flushed();
    // Pollers read their settings when they start: restart them on the new ones.
    await this.#stopPolling(uuid);
    this.#reconcile(uuid);
    return describeMapping(this.#mappingOf(uuid));
  }

  /** Deletes a mapping; its pollers finish the batch in hand and stop. */
  async delete(uuid: string): Promise<void> {
    this.#assertOpen();
    this.#mappingOf(uuid);
    this.#write({ kind: 'mappingDeleted', uuid });
    await this.#journal!.flushed();
    await this.#stopPolling(uuid);
  }

  get(uuid: string): EventSourceMapping {
    return describeMapping(this.#mappingOf(uuid));
  }

  list(): EventSourceMapping[] {
    return [...this.#mappings.values()].map(describeMapping);
  }

  /** Stops every poller (in-flight receives are aborted; a batch being processed is finished) and closes the journal. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#pollers.keys()].map((uuid) => this.#stopPolling(uuid)));
    await Promise.all([...this.#stopping]);
    this.#sqs.destroy();
    await this.#journal?.close();
  }

  // ─── Internals ─────────────────────────────────────────────────────────────────────────────────────

  #apply(record: MappingRecord): void {
    if (record.kind === 'mappingSaved') this.#mappings.set(record.mapping.uuid, record.mapping);
    else this.#mappings.delete(record.uuid);
  }

  #write(record: MappingRecord): void {
    this.#apply(record);
    this.#journal!.append(record);
  }

  #mappingOf(uuid: string): MappingRecordState {
    const mapping = this.#mappings.get(uuid);
    if (mapping === undefined) {
      throw resourceNotFound(
        `The resource you requested does not exist. (Service: Lambda, Status Code: 404)`,
      );
    }
    return mapping;
  }

  /** Starts or stops the pollers to match the mapping's state. */
  #reconcile(uuid: string): void {
    const mapping = this.#mappings.get(uuid);
    const polling = this.#pollers.has(uuid);
    if (mapping?.enabled === true && !polling && !this.#closed) {
      const stop = new AbortController();
      const polled: PolledMapping = {
        uuid,
        functionName: mapping.functionName,
        queueArn: mapping.queueArn,
        batchSize: mapping.batchSize,
        maximumBatchingWindowSeconds: mapping.maximumBatchingWindowSeconds,
        reportBatchItemFailures: mapping.functionResponseTypes.includes('ReportBatchItemFailures'),
      };
      // Each poller runs one batch at a time, so their number caps the concurrent invocations.
      const loops = Array.from({ length: mapping.maximumConcurrency ?? this.#pollersPerMapping }, () =>
        pollQueue({
          mapping: polled,
          sqs: this.#sqs,
          runner: this.#runner,
          signal: stop.signal,
          logger: this.#logger,
        }),
      );
      this.#pollers.set(uuid, { stop, done: Promise.all(loops).then(() => {}) });
    } else if (mapping?.enabled !== true && polling) {
      void this.#stopPolling(uuid);
    }
  }

  async #stopPolling(uuid: string): Promise<void> {
    const poller = this.#pollers.get(uuid);
    if (poller === undefined) return;
    // Forgotten at once, so that enabling the mapping again starts new pollers without waiting for these.
    this.#pollers.delete(uuid);
    poller.stop.abort();
    this.#stopping.add(poller.done);
    await poller.done;
    this.#stopping.delete(poller.done);
  }

  /**
   * Lambda reads the queue when the mapping is created: it must exist, and its visibility timeout must be
   * at least the function's timeout (or a batch could reappear while the function still works on it).
   */
  async #checkQueue(
    queueArn: string,
    accountId: string,
    queueName: string,
    functionTimeout: number,
  ): Promise<void> {
    let visibilityTimeout: number;
    try {
      const { QueueUrl } = await this.#sqs.send(
        new GetQueueUrlCommand({ QueueName: queueName, QueueOwnerAWSAccountId: accountId }),
      );
      const { Attributes } = await this.#sqs.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['VisibilityTimeout'] }),
      );
      visibilityTimeout = Number(Attributes?.VisibilityTimeout ?? 30);
    } catch (error) {
      const name = (error as { name?: string }).name ?? '';
      if (name === 'QueueDoesNotExist' || name.includes('NonExistentQueue')) {
        // Guess at the wording.
        throw invalidParameterValue(
          `Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist. (${queueArn})`,
        );
      }
      throw error;
    }
    if (visibilityTimeout < functionTimeout) {
      throw invalidParameterValue(
        `Queue visibility timeout: ${visibilityTimeout} seconds is less than Function timeout: ${functionTimeout} seconds`,
      );
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('EventSourceMappings is closed');
  }
}

function checkRange(member: string, value: number, min: number, max: number): void {
  let problem: string | undefined;
  if (!Number.isInteger(value)) problem = 'Member must be an integer';
  else if (value < min) problem = `Member must have value greater than or equal to ${min}`;
  else if (value > max) problem = `Member must have value less than or equal to ${max}`;
  if (problem !== undefined) {
    const error: AwsError = validationError(
      `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${problem}`,
    );
    throw error;
  }
}

function describeMapping(mapping: MappingRecordState): EventSourceMapping {
  return {
    uuid: mapping.uuid,
    functionArn: mapping.functionArn,
    eventSourceArn: mapping.queueArn,
    batchSize: mapping.batchSize,
    maximumBatchingWindowSeconds: mapping.maximumBatchingWindowSeconds,
    functionResponseTypes: mapping.functionResponseTypes,
    state: mapping.enabled ? 'Enabled' : 'Disabled',
    lastModified: new Date(mapping.lastModified),
    ...(mapping.maximumConcurrency === undefined ? {} : { maximumConcurrency: mapping.maximumConcurrency }),
  };
}

/** The batching and scaling rules of Create/UpdateEventSourceMapping for an SQS queue. */
function checkBatching(settings: {
  fifo: boolean;
  batchSize: number;
  window: number;
  windowGiven: boolean;
  maximumConcurrency: number | undefined;
}): void {
  const { fifo, batchSize, window } = settings;
  checkRange('batchSize', batchSize, 1, 10_000);
  checkRange('maximumBatchingWindowSeconds', window, 0, 300);
  if (settings.maximumConcurrency !== undefined) {
    checkRange('scalingConfig.maximumConcurrency', settings.maximumConcurrency, 2, 1000);
  }
  // Wording of the next three is a guess; the rules are Lambda's (CreateEventSourceMapping reference).
  if (fifo && batchSize > 10) {
    throw invalidParameterValue('Batch size must be between 1 and 10 for FIFO queues.');
  }
  if (fifo && settings.windowGiven) {
    throw invalidParameterValue('Batching window is not supported for FIFO queues.');
  }
  if (batchSize > 10 && window < 1) {
    throw invalidParameterValue(
      'Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10',
    );
  }
}

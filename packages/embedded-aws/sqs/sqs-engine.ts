/**
 * The embedded SQS: queues and their messages in memory, every change journaled (`../durable/journal.ts`) so
 * queues, messages, in-flight messages with their visibility deadlines and receive counts survive kill -9.
 *
 * Per queue, messages live in three states:
 * - ready: visible, waiting to be received. Standard queues keep them in an insertion-ordered Map, so a
 *   receive takes from its head without scanning; FIFO queues keep each message group's messages in order.
 * - in flight (received, inside its visibility timeout) and delayed (DelaySeconds not yet over): both sit in a
 *   min-heap by the moment they become visible; each operation first moves the due ones to ready.
 * Deadlines are absolute wall-clock times, so after a restart an unacknowledged message comes back exactly when
 * its visibility timeout ends, and never earlier: no message goes to two consumers inside its timeout.
 *
 * Every change is one journal record (`journal-records.ts`), applied to memory by `#apply` both live and on
 * replay, so a replayed journal rebuilds exactly the acknowledged state. Callers await `flushed()` before
 * answering a client.
 *
 * Message move tasks (StartMessageMoveTask, dead-letter queue redrive) run in the background: each message
 * moved is one record (out of the dead-letter queue and into the destination as a new message, together), and
 * a task's start and end are records too, so a task running at a kill -9 carries on from where it was on the
 * next start, and no message is moved twice or lost.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type Journal, openJournal } from '../durable/journal.ts';
import { sqsErrors } from './errors.ts';
import {
  type MessageMoveTaskStatus,
  type MessageState,
  type MoveTaskBody,
  type QueueRecordBody,
  SQS_RECORD_VERSION,
  type SqsRecord,
  type StoredMessage,
  upgradeSqsRecord,
} from './journal-records.ts';
import type { MessageAttributeValue } from './md5.ts';
import { MinHeap } from './min-heap.ts';
import {
  checkQueueAttributes,
  integerAttribute,
  READABLE_ATTRIBUTES,
  redrivePolicyOf,
  reportedSettableAttributes,
} from './queue-attributes.ts';

export interface SqsEngineOptions {
  /** Folder for the journal, or null to keep everything in memory (tests). */
  readonly dataDir: string | null;
  readonly region?: string;
  readonly accountId?: string;
  /** Base of QueueUrls, e.g. http://127.0.0.1:4566 (the embedded AWS's endpoint). */
  readonly endpoint: string;
  /** Wall clock in epoch milliseconds; tests may move it. */
  readonly now?: () => number;
  /**
   * SQS refuses to re-create a queue within 60 s of deleting it (QueueDeletedRecently). Default true, as AWS;
   * test suites that delete and re-create the same name may turn it off.
   */
  readonly enforceDeletedQueueCooldown?: boolean;
}

interface HiddenEntry {
  readonly at: number;
  readonly message: StoredMessage;
  readonly version: number;
}

interface Waiter {
  readonly request: ReceiveRequest;
  readonly resolve: (messages: ReceivedMessage[]) => void;
  readonly timer: NodeJS.Timeout;
}

/** A FIFO deduplication id seen, and the message it stands for while its 5-minute window lasts. */
interface DedupEntry {
  readonly deduplicationId: string;
  /** Only when the id is per message group (DeduplicationScope messageGroup). */
  readonly groupId: string | undefined;
  readonly messageId: string;
  readonly sequenceNumber: string | undefined;
  readonly sentAt: number;
}

interface QueueState {
  readonly name: string;
  readonly arn: string;
  readonly fifo: boolean;
  attributes: Map<string, string>;
  createdAt: number;
  lastModifiedAt: number;
  tags: Record<string, string>;
  lastPurgeAt: number | undefined;
  nextSeq: bigint;
  readonly messages: Map<string, StoredMessage>;
  /** Standard queues: visible messages, oldest first. */
  readonly ready: Map<string, StoredMessage>;
  /** FIFO queues: each group's messages in sequence order, whatever their state. */
  readonly groups: Map<string, StoredMessage[]>;
  readonly inflightByGroup: Map<string, number>;
  readonly hidden: MinHeap<HiddenEntry>;
  /** Bumped per message whenever its heap entry is superseded, so stale entries are skipped. */
  readonly versions: WeakMap<StoredMessage, number>;
  inflight: number;
  delayed: number;
  readonly dedup: Map<string, DedupEntry>;
  readonly waiters: Set<Waiter>;
  wakeTimer: NodeJS.Timeout | undefined;
}

export type { MessageMoveTaskStatus };

interface MoveTaskState {
  readonly id: string;
  readonly sourceArn: string;
  readonly destinationArn: string | undefined;
  readonly rate: number | undefined;
  readonly startedAt: number;
  readonly toMove: number;
  moved: number;
  status: MessageMoveTaskStatus;
  failureReason: string | undefined;
  /** Ids of the source queue's messages still to move, in the order they arrived there. */
  readonly pending: Set<string>;
}

/** What a SendMessage entry asks for, already checked for shape by the API layer. */
export interface NewMessage {
  readonly body: string;
  readonly md5: string;
  readonly attributes?: Record<string, MessageAttributeValue>;
  readonly systemAttributes?: Record<string, MessageAttributeValue>;
  readonly md5OfSystemAttributes?: string;
  /** Bytes counted against MaximumMessageSize: body plus attribute names, types and values. */
  readonly size: number;
  readonly delaySeconds?: number;
  readonly groupId?: string;
  readonly deduplicationId?: string;
}

export interface SentMessage {
  readonly messageId: string;
  readonly sequenceNumber?: string;
}

export interface ReceiveRequest {
  readonly maxMessages: number;
  readonly visibilityTimeout?: number;
  readonly waitSeconds?: number;
}

export interface StartMoveTaskRequest {
  readonly sourceArn: string;
  /** Default: each message back to the queue it was dead-lettered from. */
  readonly destinationArn?: string;
  /** Default: as fast as the engine goes. */
  readonly maxNumberOfMessagesPerSecond?: number;
}

/** A message move task as ListMessageMoveTasks shows it. */
export interface MessageMoveTask {
  readonly taskHandle: string;
  readonly status: MessageMoveTaskStatus;
  readonly sourceArn: string;
  /** Only when the task was started with one. */
  readonly destinationArn?: string;
  /** Only when the task was started with one. */
  readonly maxNumberOfMessagesPerSecond?: number;
  readonly approximateNumberOfMessagesMoved: number;
  readonly approximateNumberOfMessagesToMove: number;
  /** Only when the task FAILED. */
  readonly failureReason?: string;
  /** Epoch milliseconds. */
  readonly startedTimestamp: number;
}

/** A received message with everything the API layer may show; it filters the attributes asked for. */
export interface ReceivedMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly messageAttributes: Readonly<Record<string, MessageAttributeValue>>;
  readonly systemAttributes: Readonly<Record<string, string>>;
}

const DEDUP_WINDOW_MS = 5 * 60 * 1000;
const DELETE_COOLDOWN_MS = 60 * 1000;
const PURGE_COOLDOWN_MS = 60 * 1000;
const MAX_VISIBILITY_SECONDS = 43_200;
const MAX_TIMER_MS = 2 ** 31 - 1;
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const FIFO_QUEUE_NAME = /^[A-Za-z0-9_-]{1,75}\.fifo$/;
/** ListMessageMoveTasks shows at most the 10 most recent tasks of a queue; older ended ones are forgotten. */
const MAX_MOVE_TASKS_KEPT = 10;
/** Messages a move task without a rate moves per step; a step yields the event loop to API calls. */
const UNPACED_MOVE_BATCH = 100;
/** How long a move task waits when every message left to move is in flight or delayed. */
const IDLE_MOVE_STEP_MS = 250;
const QUEUE_ARN = /^arn:aws:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,80}$/;

/**
 * The SQS state behind `createSqsService`.
 *
 * @example
 * const sqs = await SqsEngine.open({ dataDir: null, endpoint: 'http://127.0.0.1:4566' });
 * const url = sqs.createQueue('orders', {}, {});
 * await sqs.flushed();
 * await sqs.close();
 */
export class SqsEngine {
  readonly region: string;
  readonly accountId: string;
  readonly endpoint: string;
  readonly #now: () => number;
  readonly #enforceCooldown: boolean;
  readonly #queues = new Map<string, QueueState>();
  readonly #deletedAt = new Map<string, number>();
  /** Every move task still listed, oldest first. */
  readonly #moveTasks = new Map<string, MoveTaskState>();
  readonly #moveTimers = new Map<string, NodeJS.Timeout>();
  #journal: Journal<SqsRecord> | undefined;
  #closed = false;

  private constructor(options: SqsEngineOptions) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.endpoint = options.endpoint.replace(/\/+$/, '');
    this.#now = options.now ?? Date.now;
    this.#enforceCooldown = options.enforceDeletedQueueCooldown ?? true;
  }

  /** Opens (or creates) the journal `sqs` in `dataDir` and rebuilds every queue from it. */
  static async open(options: SqsEngineOptions): Promise<SqsEngine> {
    const engine = new SqsEngine(options);
    engine.#journal = await openJournal<SqsRecord>({
      dir: options.dataDir,
      name: 'sqs',
      recordVersion: SQS_RECORD_VERSION,
      upgrade: upgradeSqsRecord,
      replay: (record) => engine.#apply(record),
      snapshot: () => engine.#snapshot(),
    });
    // Tasks that were running when the process stopped carry on.
    for (const task of engine.#moveTasks.values()) engine.#scheduleMove(task);
    return engine;
  }

  /** Resolves once every change made so far is in the journal; answer a client only after it. */
  flushed(): Promise<void> {
    return this.#journal!.flushed();
  }

  /** Ends every long poll (with no messages) and closes the journal. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const queue of this.#queues.values()) this.#endWaiters(queue);
    for (const timer of this.#moveTimers.values()) clearTimeout(timer);
    this.#moveTimers.clear();
    await this.#journal?.close();
  }

  // ─── Queues ──────────────────────────────────────────────────────────────────────────────────────────

  queueUrl(name: string): string {
    return `${this.endpoint}/${this.accountId}/${name}`;
  }

  queueArn(name: string): string {
    return `arn:aws:sqs:${this.region}:${this.accountId}:${name}`;
  }

  /**
   * The queue name a QueueUrl names. Any scheme and host are accepted (clients may reach us under another
   * name); the path must be /<our account>/<name>.
   */
  queueNameOf(queueUrl: string): string {
    const match = /^(?:https?:\/\/[^/]+)?\/([^/]+)\/([^/?#]+)\/?$/.exec(queueUrl);
    if (!match) throw sqsErrors.invalidAddress(queueUrl);
    const [, account, name] = match;
    if (account !== this.accountId || !this.#queues.has(name!)) throw sqsErrors.queueDoesNotExist();
    return name!;
  }

  /** Creates a queue, or returns the existing one's URL when the given attributes match it. */
  createQueue(
    name: string,
    attributes: Readonly<Record<string, string>>,
    tags: Readonly<Record<string, string>>,
  ): string {
    const fifo = name.endsWith('.fifo');
    if (!(fifo ? FIFO_QUEUE_NAME : QUEUE_NAME).test(name)) {
      if (attributes.FifoQueue?.toLowerCase() === 'true' || fifo) {
        throw sqsErrors.invalidParameterValue(
          'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.',
        );
      }
      throw sqsErrors.invalidParameterValue(
        'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
      );
    }
    if (fifo && attributes.FifoQueue?.toLowerCase() !== 'true') {
      // AWS requires the attribute for a .fifo name; without it the name is checked as a standard one.
      throw sqsErrors.invalidParameterValue(
        'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
      );
    }
    const checked = checkQueueAttributes(attributes, {
      creating: true,
      fifo,
      queueByArn: (arn) => this.#queueByArn(arn),
    });
    checked.delete('FifoQueue');
    const existing = this.#queues.get(name);
    if (existing) {
      const reported = reportedSettableAttributes(existing.attributes, existing.fifo);
      for (const [key, value] of checked) {
        if ((reported.get(key) ?? '') !== value) {
          throw sqsErrors.queueNameExists(
            `A queue already exists with the same name and a different value for attribute ${key}`,
          );
        }
      }
      return this.queueUrl(name);
    }
    const deletedAt = this.#deletedAt.get(name);
    if (this.#enforceCooldown && deletedAt !== undefined && this.#now() - deletedAt < DELETE_COOLDOWN_MS) {
      throw sqsErrors.queueDeletedRecently(
        'You must wait 60 seconds after deleting a queue before you can create another with the same name.',
      );
    }
    const now = this.#now();
    this.#write({
      kind: 'queueSaved',
      queue: {
        name,
        fifo,
        attributes: [...checked].filter(([, value]) => value !== ''),
        createdAt: now,
        lastModifiedAt: now,
        tags: { ...tags },
      },
    });
    return this.queueUrl(name);
  }

  getQueueUrl(name: string): string {
    if (!this.#queues.has(name)) throw sqsErrors.queueDoesNotExist();
    return this.queueUrl(name);
  }

  deleteQueue(name: string): void {
    this.#queue(name);
    this.#write({ kind: 'queueDeleted', queue: name, deletedAt: this.#now() });
  }

  /** Queue names, sorted, optionally only those starting with `prefix`. */
  listQueues(prefix = ''): string[] {
    return [...this.#queues.keys()].filter((name) => name.startsWith(prefix)).sort();
  }

  /** Source queues whose RedrivePolicy names this queue as their dead-letter queue. */
  deadLetterSourceQueues(name: string): string[] {
    const arn = this.#queue(name).arn;
    return [...this.#queues.values()]
      .filter((queue) => redrivePolicyOf(queue.attributes)?.deadLetterTargetArn === arn)
      .map((queue) => queue.name)
      .sort();
  }

  /** GetQueueAttributes: `names` may hold `All`; unknown names are refused. */
  queueAttributes(name: string, names: readonly string[]): Record<string, string> {
    const queue = this.#queue(name);
    for (const wanted of names) {
      if (wanted !== 'All' && !READABLE_ATTRIBUTES.has(wanted)) {
        throw sqsErrors.invalidAttributeName(`Unknown Attribute ${wanted}.`);
      }
    }
    this.#promote(queue, this.#now());
    const all: Map<string, string> = new Map([
      ['ApproximateNumberOfMessages', String(queue.messages.size - queue.inflight - queue.delayed)],
      ['ApproximateNumberOfMessagesNotVisible', String(queue.inflight)],
      ['ApproximateNumberOfMessagesDelayed', String(queue.delayed)],
      ['CreatedTimestamp', String(Math.floor(queue.createdAt / 1000))],
      ['LastModifiedTimestamp', String(Math.floor(queue.lastModifiedAt / 1000))],
      ['QueueArn', queue.arn],
      ...reportedSettableAttributes(queue.attributes, queue.fifo),
    ]);
    const out: Record<string, string> = {};
    for (const [key, value] of all) {
      if (names.includes('All') || names.includes(key)) out[key] = value;
    }
    return out;
  }

  setQueueAttributes(name: string, attributes: Readonly<Record<string, string>>): void {
    const queue = this.#queue(name);
    const checked = checkQueueAttributes(attributes, {
      creating: false,
      fifo: queue.fifo,
      queueByArn: (arn) => this.#queueByArn(arn),
    });
    const merged = new Map(queue.attributes);
    for (const [key, value] of checked) {
      if (value === '') merged.delete(key);
      else merged.set(key, value);
    }
    this.#write({
      kind: 'queueSaved',
      queue: { ...this.#queueBody(queue), attributes: [...merged], lastModifiedAt: this.#now() },
    });
    // A shorter delay or visibility setting does not change messages already placed; nothing to wake.
  }

  tags(name: string): Record<string, string> {
    return { ...this.#queue(name).tags };
  }

  setTags(name: string, add: Readonly<Record<string, string>>, remove: readonly string[]): void {
    const queue = this.#queue(name);
    const tags = { ...queue.tags, ...add };
    for (const key of remove) delete tags[key];
    this.#write({ kind: 'queueSaved', queue: { ...this.#queueBody(queue), tags } });
  }

  purgeQueue(name: string): void {
    const queue = this.#queue(name);
    const now = this.#now();
    if (queue.lastPurgeAt !== undefined && now - queue.lastPurgeAt < PURGE_COOLDOWN_MS) {
      throw sqsErrors.purgeQueueInProgress(
        `Only one PurgeQueue operation on ${name} is allowed every 60 seconds.`,
      );
    }
    this.#write({ kind: 'queuePurged', queue: name, purgedAt: now });
  }

  /** MaximumMessageSize and whether the queue is FIFO, for checks made before sending. */
  queueLimits(name: string): { readonly maximumMessageSize: number; readonly fifo: boolean } {
    const queue = this.#queue(name);
    return { maximumMessageSize: integerAttribute(queue.attributes, 'MaximumMessageSize'), fifo: queue.fifo };
  }

  // ─── Messages ────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Stores one message (FIFO: unless its deduplication id was seen in the last 5 minutes, in which case the
   * first message's id is returned and nothing is stored). Throws InvalidParameterValue/MissingParameter.
   */
  sendMessage(name: string, message: NewMessage): SentMessage {
    const queue = this.#queue(name);
    const now = this.#now();
    if (message.size > integerAttribute(queue.attributes, 'MaximumMessageSize')) {
      throw sqsErrors.invalidParameterValue(
        `One or more parameters are invalid. Reason: Message must be shorter than ${integerAttribute(queue.attributes, 'MaximumMessageSize')} bytes.`,
      );
    }
    let deduplicationId = message.deduplicationId;
    if (queue.fifo) {
      if (message.groupId === undefined) throw sqsErrors.missingParameter('MessageGroupId');
      if (message.delaySeconds !== undefined && message.delaySeconds !== 0) {
        throw sqsErrors.invalidParameter(
          'DelaySeconds',
          message.delaySeconds,
          'The request include parameter that is not valid for this queue type.',
        );
      }
      if (deduplicationId === undefined) {
        if (queue.attributes.get('ContentBasedDeduplication') !== 'true') {
          throw sqsErrors.invalidParameterValue(
            'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
          );
        }
        deduplicationId = sha256Hex(message.body);
      }
      const seen = queue.dedup.get(
        deduplicationKey({ deduplicationId, groupId: deduplicationGroup(queue, message.groupId) }),
      );
      if (seen !== undefined && now - seen.sentAt < DEDUP_WINDOW_MS) {
        return {
          messageId: seen.messageId,
          ...(seen.sequenceNumber === undefined ? {} : { sequenceNumber: seen.sequenceNumber }),
        };
      }
    } else if (deduplicationId !== undefined) {
      throw sqsErrors.invalidParameter(
        'MessageDeduplicationId',
        deduplicationId,
        'The request include parameter that is not valid for this queue type.',
      );
    }
    const delay = message.delaySeconds ?? integerAttribute(queue.attributes, 'DelaySeconds');
    const id = randomUUID();
    const seq = queue.fifo ? sequenceNumber(queue.nextSeq) : undefined;
    const stored: StoredMessage = {
      id,
      body: message.body,
      md5OfBody: message.md5,
      ...(message.attributes && Object.keys(message.attributes).length > 0
        ? { messageAttributes: message.attributes }
        : {}),
      ...(message.systemAttributes && Object.keys(message.systemAttributes).length > 0
        ? {
            systemAttributes: message.systemAttributes,
            md5OfSystemAttributes: message.md5OfSystemAttributes!,
          }
        : {}),
      sentAt: now,
      senderId: this.accountId,
      ...(message.groupId === undefined ? {} : { groupId: message.groupId }),
      ...(queue.fifo ? { deduplicationId: deduplicationId!, sequenceNumber: seq! } : {}),
      receiveCount: 0,
      state: delay > 0 ? 'delayed' : 'ready',
      visibleAt: now + delay * 1000,
    };
    this.#write({ kind: 'messageStored', queue: name, message: stored });
    this.#wake(queue);
    return { messageId: id, ...(seq === undefined ? {} : { sequenceNumber: seq }) };
  }

  /**
   * Receives up to `maxMessages` visible messages; with `waitSeconds` > 0 waits (long polling) until at least
   * one arrives or the time is up. The receive is journaled; await `flushed()` before answering.
   */
  receive(name: string, request: ReceiveRequest): Promise<ReceivedMessage[]> {
    const queue = this.#queue(name);
    const taken = this.#take(queue, request);
    const wait = request.waitSeconds ?? integerAttribute(queue.attributes, 'ReceiveMessageWaitTimeSeconds');
    if (taken.length > 0 || wait <= 0 || this.#closed) return Promise.resolve(taken);
    return new Promise<ReceivedMessage[]>((resolve) => {
      const waiter: Waiter = {
        request,
        resolve,
        timer: setTimeout(() => {
          queue.waiters.delete(waiter);
          this.#armWakeTimer(queue);
          resolve([]);
        }, wait * 1000),
      };
      queue.waiters.add(waiter);
      this.#armWakeTimer(queue);
    });
  }

  /**
   * Deletes the message a receipt handle names. An older handle of a message received again since succeeds
   * without deleting it, as the API reference says ("the request will succeed, but the message might not be
   * deleted"); a handle of a message already gone succeeds too.
   */
  deleteMessage(name: string, receiptHandle: string): void {
    const queue = this.#queue(name);
    const handle = parseReceiptHandle(receiptHandle, name);
    const message = queue.messages.get(handle.id);
    if (message === undefined || message.receiptNonce !== handle.nonce) return;
    this.#write({ kind: 'messagesDeleted', queue: name, messageIds: [message.id] });
  }

  /** Sets a received message's remaining visibility timeout, counted from now. */
  changeVisibility(name: string, receiptHandle: string, seconds: number): void {
    const queue = this.#queue(name);
    const handle = parseReceiptHandle(receiptHandle, name);
    const now = this.#now();
    this.#promote(queue, now);
    const message = queue.messages.get(handle.id);
    if (message === undefined || message.receiptNonce !== handle.nonce) {
      throw sqsErrors.invalidParameter(
        'ReceiptHandle',
        receiptHandle,
        'Message does not exist or is not available for visibility timeout change.',
      );
    }
    if (message.state !== 'inflight') throw sqsErrors.messageNotInflight();
    if (now + seconds * 1000 - (message.receivedAt ?? now) > MAX_VISIBILITY_SECONDS * 1000) {
      throw sqsErrors.invalidParameter(
        'VisibilityTimeout',
        seconds,
        `Total VisibilityTimeout for the message is beyond the limit [${MAX_VISIBILITY_SECONDS} seconds]`,
      );
    }
    this.#write({
      kind: 'visibilityChanged',
      queue: name,
      messageId: message.id,
      visibleAgainAt: now + seconds * 1000,
    });
    if (seconds === 0) this.#wake(queue);
  }

  // ─── Message move tasks (dead-letter queue redrive) ─────────────────────────────────────────────────

  /**
   * StartMessageMoveTask: moves the messages a dead-letter queue holds now, oldest first, to `destinationArn`
   * or else each back to the queue it was dead-lettered from, in the background. Each moved message is a new
   * message (new id, receive count 0, retention counted afresh) with the same body and attributes. Messages in
   * flight wait until they are visible again; messages deleted meanwhile are skipped. Returns the task handle.
   */
  startMessageMoveTask(request: StartMoveTaskRequest): string {
    const source = this.#queueForArn(request.sourceArn, 'SourceArn');
    const sources = this.deadLetterSourceQueues(source.name);
    if (sources.length === 0) {
      throw sqsErrors.resourceNotFound(
        `The source queue ${source.arn} is not a dead-letter queue: no queue's RedrivePolicy names it.`,
      );
    }
    if (request.destinationArn !== undefined) {
      const destination = this.#queueForArn(request.destinationArn, 'DestinationArn');
      if (destination === source) {
        throw sqsErrors.invalidParameter(
          'DestinationArn',
          request.destinationArn,
          'The destination queue must not be the source queue.',
        );
      }
      if (destination.fifo !== source.fifo) {
        throw sqsErrors.invalidParameter(
          'DestinationArn',
          request.destinationArn,
          'The source and destination queues must be of the same type (both standard or both FIFO).',
        );
      }
    }
    for (const task of this.#moveTasks.values()) {
      if (task.sourceArn === source.arn && task.status === 'RUNNING') {
        throw sqsErrors.unsupportedOperation(
          `A message move task is already running for ${source.arn}; only one may run per queue at a time.`,
        );
      }
    }
    this.#promote(source, this.#now());
    const pending = [...source.messages.keys()];
    const id = randomUUID();
    this.#write({
      kind: 'moveTaskSaved',
      task: {
        id,
        sourceArn: source.arn,
        ...(request.destinationArn === undefined ? {} : { destinationArn: request.destinationArn }),
        ...(request.maxNumberOfMessagesPerSecond === undefined
          ? {}
          : { maxMessagesPerSecond: request.maxNumberOfMessagesPerSecond }),
        startedAt: this.#now(),
        messagesToMove: pending.length,
        messagesMoved: 0,
        status: 'RUNNING',
        pendingMessageIds: pending,
      },
    });
    this.#scheduleMove(this.#moveTasks.get(id)!);
    return taskHandleOf(id, source.arn);
  }

  /** ListMessageMoveTasks: a queue's most recent move tasks, newest first. */
  listMessageMoveTasks(sourceArn: string, maxResults: number): MessageMoveTask[] {
    const source = this.#queueForArn(sourceArn, 'SourceArn');
    return [...this.#moveTasks.values()]
      .filter((task) => task.sourceArn === source.arn)
      .reverse()
      .slice(0, maxResults)
      .map((task) => ({
        taskHandle: taskHandleOf(task.id, task.sourceArn),
        status: task.status,
        sourceArn: task.sourceArn,
        ...(task.destinationArn === undefined ? {} : { destinationArn: task.destinationArn }),
        ...(task.rate === undefined ? {} : { maxNumberOfMessagesPerSecond: task.rate }),
        approximateNumberOfMessagesMoved: task.moved,
        approximateNumberOfMessagesToMove: task.toMove,
        ...(task.failureReason === undefined ? {} : { failureReason: task.failureReason }),
        startedTimestamp: task.startedAt,
      }));
  }

  /**
   * CancelMessageMoveTask: stops a RUNNING task at once (it goes straight to CANCELLED; the messages already
   * moved stay moved). Returns how many it moved.
   */
  cancelMessageMoveTask(taskHandle: string): number {
    const id = parseTaskHandle(taskHandle);
    const task = this.#moveTasks.get(id);
    if (task === undefined) throw sqsErrors.resourceNotFound('The message move task does not exist.');
    if (task.status !== 'RUNNING') {
      throw sqsErrors.unsupportedOperation(
        `Only a RUNNING message move task can be cancelled; this one is ${task.status}.`,
      );
    }
    this.#endMove(task, 'CANCELLED');
    return task.moved;
  }

  /** The queue an ARN names: InvalidParameterValue when it is not a queue ARN, ResourceNotFound when absent. */
  #queueForArn(arn: string, parameter: string): QueueState {
    if (!QUEUE_ARN.test(arn)) throw sqsErrors.invalidParameter(parameter, arn, 'It is not a queue ARN.');
    const queue = this.#queueByArn(arn);
    if (queue === undefined) throw sqsErrors.resourceNotFound(`The queue ${arn} does not exist.`);
    return queue;
  }

  /**
   * The next step of a running task: after 1/rate seconds when it has a rate, else straight away; after a
   * while when the last step found only messages in flight, which cannot move before they are visible again.
   */
  #scheduleMove(task: MoveTaskState, idle = false): void {
    if (this.#closed || task.status !== 'RUNNING' || this.#moveTimers.has(task.id)) return;
    const paced = task.rate === undefined ? 0 : 1000 / task.rate;
    const timer = setTimeout(
      () => {
        this.#moveTimers.delete(task.id);
        this.#advanceMove(task.id);
      },
      idle ? Math.max(paced, IDLE_MOVE_STEP_MS) : paced,
    );
    timer.unref();
    this.#moveTimers.set(task.id, timer);
  }

  /** Moves the next visible messages of a task (one when it has a rate), then schedules the next step. */
  #advanceMove(taskId: string): void {
    const task = this.#moveTasks.get(taskId);
    if (task === undefined || task.status !== 'RUNNING' || this.#closed) return;
    const source = this.#queueByArn(task.sourceArn);
    if (source === undefined) {
      this.#endMove(task, 'FAILED', `The source queue ${task.sourceArn} no longer exists.`);
      return;
    }
    const now = this.#now();
    this.#promote(source, now);
    const retentionMs = integerAttribute(source.attributes, 'MessageRetentionPeriod') * 1000;
    const batch = task.rate === undefined ? UNPACED_MOVE_BATCH : 1;
    let budget = batch;
    const destinations = new Set<QueueState>();
    for (const id of task.pending) {
      if (budget === 0) break;
      const message = source.messages.get(id);
      if (message === undefined || now - message.sentAt >= retentionMs) {
        // Deleted, purged or expired since the task started: nothing left to move. Not journaled: a replayed
        // task finds it gone again.
        task.pending.delete(id);
        continue;
      }
      if (message.state !== 'ready') continue;
      const destinationArn = task.destinationArn ?? message.deadLetterSourceArn;
      const destination = destinationArn === undefined ? undefined : this.#queueByArn(destinationArn);
      if (destination === undefined) {
        this.#endMove(
          task,
          'FAILED',
          destinationArn === undefined
            ? `Message ${id} was not dead-lettered from a source queue, so it has no queue to go back to; start a task with a DestinationArn.`
            : `The destination queue ${destinationArn} does not exist.`,
        );
        for (const queue of destinations) this.#wake(queue);
        return;
      }
      this.#write({
        kind: 'messageMoved',
        taskId: task.id,
        fromQueue: source.name,
        messageId: id,
        toQueue: destination.name,
        newMessageId: randomUUID(),
        movedAt: now,
      });
      destinations.add(destination);
      budget--;
    }
    for (const queue of destinations) this.#wake(queue);
    if (task.pending.size === 0) this.#endMove(task, 'COMPLETED');
    else this.#scheduleMove(task, budget === batch);
  }

  #endMove(task: MoveTaskState, status: MessageMoveTaskStatus, failureReason?: string): void {
    const timer = this.#moveTimers.get(task.id);
    if (timer !== undefined) clearTimeout(timer);
    this.#moveTimers.delete(task.id);
    this.#write({
      kind: 'moveTaskSaved',
      task: {
        ...this.#moveTaskBody(task),
        status,
        ...(failureReason === undefined ? {} : { failureReason }),
        pendingMessageIds: [],
      },
    });
  }

  #moveTaskBody(task: MoveTaskState): MoveTaskBody {
    return {
      id: task.id,
      sourceArn: task.sourceArn,
      ...(task.destinationArn === undefined ? {} : { destinationArn: task.destinationArn }),
      ...(task.rate === undefined ? {} : { maxMessagesPerSecond: task.rate }),
      startedAt: task.startedAt,
      messagesToMove: task.toMove,
      messagesMoved: task.moved,
      status: task.status,
      ...(task.failureReason === undefined ? {} : { failureReason: task.failureReason }),
      pendingMessageIds: [...task.pending],
    };
  }

  // ─── Receiving ───────────────────────────────────────────────────────────────────────────────────────

  #take(queue: QueueState, request: ReceiveRequest): ReceivedMessage[] {
    const now = this.#now();
    this.#promote(queue, now);
    const retentionMs = integerAttribute(queue.attributes, 'MessageRetentionPeriod') * 1000;
    const redrive = redrivePolicyOf(queue.attributes);
    const deadLetterQueue = redrive ? this.#queueByArn(redrive.deadLetterTargetArn) : undefined;
    const chosen: StoredMessage[] = [];
    const expired: string[] = [];
    let moved = false;
    /** Delivers a message unless it outlived the retention period or goes to the dead-letter queue. */
    const consider = (message: StoredMessage): void => {
      if (now - message.sentAt >= retentionMs) {
        expired.push(message.id);
      } else if (redrive && deadLetterQueue && message.receiveCount >= redrive.maxReceiveCount) {
        // The receive that would make ApproximateReceiveCount exceed maxReceiveCount moves it instead.
        this.#write({
          kind: 'messageDeadLettered',
          queue: queue.name,
          deadLetterQueue: deadLetterQueue.name,
          messageId: message.id,
          deadLetteredAt: now,
        });
        moved = true;
      } else {
        chosen.push(message);
      }
    };
    if (queue.fifo) {
      for (const [group, messages] of queue.groups) {
        if (chosen.length >= request.maxMessages) break;
        if ((queue.inflightByGroup.get(group) ?? 0) > 0) continue;
        for (const message of [...messages]) {
          if (chosen.length >= request.maxMessages || message.state !== 'ready') break;
          consider(message);
        }
      }
    } else {
      for (const message of queue.ready.values()) {
        if (chosen.length >= request.maxMessages) break;
        consider(message);
      }
    }
    if (expired.length > 0) this.#write({ kind: 'messagesDeleted', queue: queue.name, messageIds: expired });
    if (moved && deadLetterQueue && deadLetterQueue !== queue) this.#wake(deadLetterQueue);
    if (chosen.length === 0) return [];
    const visibility = request.visibilityTimeout ?? integerAttribute(queue.attributes, 'VisibilityTimeout');
    const receipts = chosen.map((message) => ({
      messageId: message.id,
      receiptNonce: randomBytes(12).toString('hex'),
      visibleAgainAt: now + visibility * 1000,
    }));
    this.#write({ kind: 'messagesReceived', queue: queue.name, receivedAt: now, receipts });
    return chosen.map((message) => this.#received(queue, message));
  }

  #received(queue: QueueState, message: StoredMessage): ReceivedMessage {
    const system: Record<string, string> = {
      SenderId: message.senderId,
      SentTimestamp: String(message.sentAt),
      ApproximateReceiveCount: String(message.receiveCount),
      ApproximateFirstReceiveTimestamp: String(
        message.firstReceivedAt ?? message.receivedAt ?? message.sentAt,
      ),
    };
    if (message.sequenceNumber !== undefined) system.SequenceNumber = message.sequenceNumber;
    if (message.deduplicationId !== undefined) system.MessageDeduplicationId = message.deduplicationId;
    if (message.groupId !== undefined) system.MessageGroupId = message.groupId;
    const trace = message.systemAttributes?.AWSTraceHeader?.StringValue;
    if (trace !== undefined) system.AWSTraceHeader = trace;
    if (message.deadLetterSourceArn !== undefined) {
      system.DeadLetterQueueSourceArn = message.deadLetterSourceArn;
    }
    return {
      messageId: message.id,
      receiptHandle: receiptHandleOf(queue.name, message.id, message.receiptNonce!),
      body: message.body,
      md5OfBody: message.md5OfBody,
      messageAttributes: message.messageAttributes ?? {},
      systemAttributes: system,
    };
  }

  /** Moves delayed and in-flight messages whose time has come to ready. */
  #promote(queue: QueueState, now: number): void {
    for (let top = queue.hidden.peek(); top !== undefined && top.at <= now; top = queue.hidden.peek()) {
      queue.hidden.pop();
      if (queue.versions.get(top.message) !== top.version || top.message.state === 'gone') continue;
      this.#place(queue, top.message, 'ready', top.at);
    }
  }

  /** Hands messages to long-polling receivers, oldest waiter first, while there are messages. */
  #wake(queue: QueueState): void {
    if (queue.waiters.size === 0 || this.#closed) return;
    for (const waiter of queue.waiters) {
      const taken = this.#take(queue, waiter.request);
      if (taken.length === 0) break;
      queue.waiters.delete(waiter);
      clearTimeout(waiter.timer);
      waiter.resolve(taken);
    }
    this.#armWakeTimer(queue);
  }

  /** While someone long-polls, wake up when the next delayed or in-flight message becomes visible. */
  #armWakeTimer(queue: QueueState): void {
    if (queue.wakeTimer !== undefined) clearTimeout(queue.wakeTimer);
    queue.wakeTimer = undefined;
    const next = queue.hidden.peek();
    if (queue.waiters.size === 0 || next === undefined || this.#closed) return;
    const delay = Math.min(Math.max(0, next.at - this.#now()), MAX_TIMER_MS);
    queue.wakeTimer = setTimeout(() => {
      queue.wakeTimer = undefined;
      if (this.#queues.get(queue.name) !== queue) return;
      this.#promote(queue, this.#now());
      this.#wake(queue);
    }, delay);
    queue.wakeTimer.unref();
  }

  #endWaiters(queue: QueueState): void {
    if (queue.wakeTimer !== undefined) clearTimeout(queue.wakeTimer);
    queue.wakeTimer = undefined;
    for (const waiter of queue.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve([]);
    }
    queue.waiters.clear();
  }

  // ─── State changes ───────────────────────────────────────────────────────────────────────────────────

  /** Applies a record to memory and appends it to the journal. */
  #write(record: SqsRecord): void {
    if (this.#closed) throw sqsErrors.unsupportedOperation('The queue service is shutting down.');
    this.#apply(record);
    this.#journal!.append(record);
  }

  #apply(record: SqsRecord): void {
    switch (record.kind) {
      case 'queueSaved': {
        const body = record.queue;
        const existing = this.#queues.get(body.name);
        if (existing) {
          existing.attributes = new Map(body.attributes);
          existing.lastModifiedAt = body.lastModifiedAt;
          existing.tags = { ...body.tags };
          existing.lastPurgeAt = body.lastPurgeAt;
          if (body.nextSequenceCounter !== undefined) existing.nextSeq = BigInt(body.nextSequenceCounter);
          return;
        }
        this.#deletedAt.delete(body.name);
        this.#queues.set(body.name, {
          name: body.name,
          arn: this.queueArn(body.name),
          fifo: body.fifo,
          attributes: new Map(body.attributes),
          createdAt: body.createdAt,
          lastModifiedAt: body.lastModifiedAt,
          tags: { ...body.tags },
          lastPurgeAt: body.lastPurgeAt,
          nextSeq: BigInt(body.nextSequenceCounter ?? 0),
          messages: new Map(),
          ready: new Map(),
          groups: new Map(),
          inflightByGroup: new Map(),
          hidden: new MinHeap<HiddenEntry>((a, b) => a.at - b.at),
          versions: new WeakMap(),
          inflight: 0,
          delayed: 0,
          dedup: new Map(),
          waiters: new Set(),
          wakeTimer: undefined,
        });
        return;
      }
      case 'queueDeleted': {
        const queue = this.#queues.get(record.queue);
        if (queue) this.#endWaiters(queue);
        this.#queues.delete(record.queue);
        this.#deletedAt.set(record.queue, record.deletedAt);
        // A queue's move tasks go with it (a queue made again under the name starts with none).
        const arn = this.queueArn(record.queue);
        for (const task of [...this.#moveTasks.values()]) {
          if (task.sourceArn !== arn) continue;
          const timer = this.#moveTimers.get(task.id);
          if (timer !== undefined) clearTimeout(timer);
          this.#moveTimers.delete(task.id);
          this.#moveTasks.delete(task.id);
        }
        return;
      }
      case 'messageStored': {
        const queue = this.#queues.get(record.queue);
        if (!queue) return;
        const message: StoredMessage = { ...record.message };
        const state = message.state;
        message.state = 'gone';
        queue.messages.set(message.id, message);
        if (queue.fifo) {
          const group = message.groupId ?? '';
          const list = queue.groups.get(group);
          if (list) list.push(message);
          else queue.groups.set(group, [message]);
          if (message.sequenceNumber !== undefined)
            queue.nextSeq = maxBigInt(queue.nextSeq, counterOf(message.sequenceNumber) + 1n);
          if (message.deduplicationId !== undefined) {
            const entry: DedupEntry = {
              deduplicationId: message.deduplicationId,
              groupId: deduplicationGroup(queue, group),
              messageId: message.id,
              sequenceNumber: message.sequenceNumber,
              sentAt: message.sentAt,
            };
            const key = deduplicationKey(entry);
            if (!queue.dedup.has(key)) queue.dedup.set(key, entry);
          }
        }
        this.#place(queue, message, state === 'gone' ? 'ready' : state, message.visibleAt);
        return;
      }
      case 'messagesReceived': {
        const queue = this.#queues.get(record.queue);
        if (!queue) return;
        for (const receipt of record.receipts) {
          const message = queue.messages.get(receipt.messageId);
          if (!message) continue;
          message.receiveCount += 1;
          message.firstReceivedAt ??= record.receivedAt;
          message.receivedAt = record.receivedAt;
          message.receiptNonce = receipt.receiptNonce;
          this.#place(queue, message, 'inflight', receipt.visibleAgainAt);
        }
        return;
      }
      case 'messagesDeleted': {
        const queue = this.#queues.get(record.queue);
        if (!queue) return;
        for (const id of record.messageIds) this.#remove(queue, id);
        return;
      }
      case 'visibilityChanged': {
        const queue = this.#queues.get(record.queue);
        const message = queue?.messages.get(record.messageId);
        if (!queue || !message) return;
        this.#place(queue, message, 'inflight', record.visibleAgainAt);
        return;
      }
      case 'queuePurged': {
        const queue = this.#queues.get(record.queue);
        if (!queue) return;
        for (const message of queue.messages.values()) message.state = 'gone';
        queue.messages.clear();
        queue.ready.clear();
        queue.groups.clear();
        queue.inflightByGroup.clear();
        queue.hidden.clear();
        queue.inflight = 0;
        queue.delayed = 0;
        queue.lastPurgeAt = record.purgedAt;
        return;
      }
      case 'messageDeadLettered': {
        const source = this.#queues.get(record.queue);
        const target = this.#queues.get(record.deadLetterQueue);
        const message = source?.messages.get(record.messageId);
        if (!source || !message) return;
        this.#remove(source, record.messageId);
        if (!target) return;
        const moved: StoredMessage = {
          id: message.id,
          ...contentOf(message),
          sentAt: message.sentAt,
          senderId: message.senderId,
          ...(message.groupId === undefined ? {} : { groupId: message.groupId }),
          ...(target.fifo && message.deduplicationId !== undefined
            ? { deduplicationId: message.deduplicationId, sequenceNumber: sequenceNumber(target.nextSeq) }
            : {}),
          receiveCount: 0,
          state: 'ready',
          visibleAt: record.deadLetteredAt,
          deadLetterSourceArn: source.arn,
        };
        this.#apply({ kind: 'messageStored', queue: target.name, message: moved });
        return;
      }
      case 'deduplicationIdSeen': {
        this.#queues.get(record.queue)?.dedup.set(deduplicationKey(record), {
          deduplicationId: record.deduplicationId,
          groupId: record.groupId,
          messageId: record.messageId,
          sequenceNumber: record.sequenceNumber,
          sentAt: record.sentAt,
        });
        return;
      }
      case 'moveTaskSaved': {
        this.#applyMoveTask(record.task);
        return;
      }
      case 'messageMoved': {
        const source = this.#queues.get(record.fromQueue);
        const target = this.#queues.get(record.toQueue);
        const message = source?.messages.get(record.messageId);
        const task = this.#moveTasks.get(record.taskId);
        task?.pending.delete(record.messageId);
        if (!source || !message) return;
        this.#remove(source, record.messageId);
        if (!target) return;
        if (task) task.moved += 1;
        // A new message, as SQS redrives: new id, receive count 0, retention from now; no DLQ source any more.
        const moved: StoredMessage = {
          id: record.newMessageId,
          ...contentOf(message),
          sentAt: record.movedAt,
          senderId: message.senderId,
          ...(target.fifo ? { groupId: message.groupId ?? '' } : {}),
          ...(target.fifo
            ? {
                deduplicationId: message.deduplicationId ?? record.newMessageId,
                sequenceNumber: sequenceNumber(target.nextSeq),
              }
            : {}),
          receiveCount: 0,
          state: 'ready',
          visibleAt: record.movedAt,
        };
        this.#apply({ kind: 'messageStored', queue: target.name, message: moved });
        return;
      }
    }
  }

  /** Creates or updates a move task from its journaled body; keeps at most the newest few ended ones per queue. */
  #applyMoveTask(body: MoveTaskBody): void {
    const existing = this.#moveTasks.get(body.id);
    if (existing) {
      existing.moved = body.messagesMoved;
      existing.status = body.status;
      existing.failureReason = body.failureReason;
      existing.pending.clear();
      for (const id of body.pendingMessageIds) existing.pending.add(id);
      return;
    }
    this.#moveTasks.set(body.id, {
      id: body.id,
      sourceArn: body.sourceArn,
      destinationArn: body.destinationArn,
      rate: body.maxMessagesPerSecond,
      startedAt: body.startedAt,
      toMove: body.messagesToMove,
      moved: body.messagesMoved,
      status: body.status,
      failureReason: body.failureReason,
      pending: new Set(body.pendingMessageIds),
    });
    const ofQueue = [...this.#moveTasks.values()].filter((task) => task.sourceArn === body.sourceArn);
    for (const old of ofQueue.slice(0, Math.max(0, ofQueue.length - MAX_MOVE_TASKS_KEPT))) {
      if (old.status !== 'RUNNING') this.#moveTasks.delete(old.id);
    }
  }

  /** Moves a message to a state, keeping the counters, the ready map, the groups and the heap in step. */
  #place(queue: QueueState, message: StoredMessage, state: MessageState, visibleAt: number): void {
    this.#leave(queue, message);
    message.state = state;
    message.visibleAt = visibleAt;
    if (state === 'ready') {
      if (!queue.fifo) queue.ready.set(message.id, message);
      return;
    }
    if (state === 'gone') return;
    if (state === 'inflight') {
      queue.inflight++;
      if (queue.fifo) {
        const group = message.groupId ?? '';
        queue.inflightByGroup.set(group, (queue.inflightByGroup.get(group) ?? 0) + 1);
      }
    } else {
      queue.delayed++;
    }
    queue.hidden.push({ at: visibleAt, message, version: queue.versions.get(message)! });
  }

  /** Takes a message out of its current state's structures (its heap entry goes stale). */
  #leave(queue: QueueState, message: StoredMessage): void {
    queue.versions.set(message, (queue.versions.get(message) ?? 0) + 1);
    if (message.state === 'inflight') {
      queue.inflight--;
      if (queue.fifo) {
        const group = message.groupId ?? '';
        const count = (queue.inflightByGroup.get(group) ?? 1) - 1;
        if (count > 0) queue.inflightByGroup.set(group, count);
        else queue.inflightByGroup.delete(group);
      }
    } else if (message.state === 'delayed') {
      queue.delayed--;
    } else if (message.state === 'ready' && !queue.fifo) {
      queue.ready.delete(message.id);
    }
    message.state = 'gone';
  }

  #remove(queue: QueueState, id: string): void {
    const message = queue.messages.get(id);
    if (!message) return;
    this.#leave(queue, message);
    queue.messages.delete(id);
    if (queue.fifo) {
      const group = message.groupId ?? '';
      const list = queue.groups.get(group);
      if (list) {
        const index = list.indexOf(message);
        if (index !== -1) list.splice(index, 1);
        if (list.length === 0) queue.groups.delete(group);
      }
    }
  }

  /** Records that rebuild the current state: queues first (dead-letter targets), then their messages. */
  *#snapshot(): Iterable<SqsRecord> {
    const now = this.#now();
    for (const [name, at] of this.#deletedAt) {
      if (now - at < DELETE_COOLDOWN_MS) yield { kind: 'queueDeleted', queue: name, deletedAt: at };
    }
    for (const queue of this.#queues.values()) yield { kind: 'queueSaved', queue: this.#queueBody(queue) };
    for (const queue of this.#queues.values()) {
      for (const message of queue.messages.values()) {
        yield { kind: 'messageStored', queue: queue.name, message };
      }
      // A deleted message's deduplication id still counts until its window ends; its message cannot bring it back.
      for (const entry of queue.dedup.values()) {
        if (now - entry.sentAt >= DEDUP_WINDOW_MS) continue;
        yield {
          kind: 'deduplicationIdSeen',
          queue: queue.name,
          deduplicationId: entry.deduplicationId,
          ...(entry.groupId === undefined ? {} : { groupId: entry.groupId }),
          messageId: entry.messageId,
          ...(entry.sequenceNumber === undefined ? {} : { sequenceNumber: entry.sequenceNumber }),
          sentAt: entry.sentAt,
        };
      }
    }
    for (const task of this.#moveTasks.values()) {
      yield { kind: 'moveTaskSaved', task: this.#moveTaskBody(task) };
    }
  }

  #queueBody(queue: QueueState): QueueRecordBody {
    return {
      name: queue.name,
      fifo: queue.fifo,
      attributes: [...queue.attributes],
      createdAt: queue.createdAt,
      lastModifiedAt: queue.lastModifiedAt,
      tags: queue.tags,
      ...(queue.lastPurgeAt === undefined ? {} : { lastPurgeAt: queue.lastPurgeAt }),
      nextSequenceCounter: queue.nextSeq.toString(),
    };
  }

  #queue(name: string): QueueState {
    const queue = this.#queues.get(name);
    if (!queue) throw sqsErrors.queueDoesNotExist();
    return queue;
  }

  #queueByArn(arn: string): QueueState | undefined {
    const prefix = `arn:aws:sqs:${this.region}:${this.accountId}:`;
    return arn.startsWith(prefix) ? this.#queues.get(arn.slice(prefix.length)) : undefined;
  }
}

/** What a message takes with it to another queue: its body and attributes, with their checksums. */
function contentOf(
  message: StoredMessage,
): Pick<
  StoredMessage,
  'body' | 'md5OfBody' | 'messageAttributes' | 'systemAttributes' | 'md5OfSystemAttributes'
> {
  return {
    body: message.body,
    md5OfBody: message.md5OfBody,
    ...(message.messageAttributes ? { messageAttributes: message.messageAttributes } : {}),
    ...(message.systemAttributes
      ? { systemAttributes: message.systemAttributes, md5OfSystemAttributes: message.md5OfSystemAttributes! }
      : {}),
  };
}

// ─── FIFO deduplication ──────────────────────────────────────────────────────────────────────────────

/** A deduplication id is per queue, or per message group under DeduplicationScope messageGroup. */
function deduplicationGroup(queue: QueueState, groupId: string): string | undefined {
  return queue.attributes.get('DeduplicationScope') === 'messageGroup' ? groupId : undefined;
}

/** The key of a queue's `dedup` map. Group ids are printable characters, so NUL cannot be part of one. */
function deduplicationKey(seen: {
  readonly deduplicationId: string;
  readonly groupId?: string | undefined;
}): string {
  return seen.groupId === undefined ? seen.deduplicationId : `${seen.groupId}\u0000${seen.deduplicationId}`;
}

// ─── Task handles ──────────────────────────────────────────────────────────────────────────────────────

/** A task handle is opaque to clients; ours is base64 of `<task id>\n<source queue ARN>`. */
function taskHandleOf(id: string, sourceArn: string): string {
  return Buffer.from(`${id}\n${sourceArn}`, 'utf8').toString('base64');
}

function parseTaskHandle(handle: string): string {
  const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(handle) ? Buffer.from(handle, 'base64').toString('utf8') : '';
  const [id, sourceArn, ...rest] = decoded.split('\n');
  if (rest.length > 0 || !/^[0-9a-f-]{36}$/.test(id ?? '') || !QUEUE_ARN.test(sourceArn ?? '')) {
    throw sqsErrors.invalidParameter('TaskHandle', handle, 'It is not a message move task handle.');
  }
  return id!;
}

// ─── Receipt handles ───────────────────────────────────────────────────────────────────────────────────

/**
 * A receipt handle is opaque to clients; ours is base64 of `<queue>\n<message id>\n<nonce>`, with a fresh
 * nonce per receive, so an older handle of the same message is told apart from the current one.
 */
function receiptHandleOf(queue: string, id: string, nonce: string): string {
  return Buffer.from(`${queue}\n${id}\n${nonce}`, 'utf8').toString('base64');
}

function parseReceiptHandle(handle: string, queue: string): { id: string; nonce: string } {
  const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(handle) ? Buffer.from(handle, 'base64').toString('utf8') : '';
  const parts = decoded.split('\n');
  if (
    parts.length !== 3 ||
    parts[0] !== queue ||
    !/^[0-9a-f-]{36}$/.test(parts[1]!) ||
    !/^[0-9a-f]{24}$/.test(parts[2]!)
  ) {
    throw sqsErrors.receiptHandleIsInvalid(handle);
  }
  return { id: parts[1]!, nonce: parts[2]! };
}

/** FIFO sequence numbers: 20 digits, increasing per queue, as AWS's look. */
function sequenceNumber(counter: bigint): string {
  return (10n ** 19n + counter).toString();
}

function maxBigInt(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** The per-queue counter a sequence number was made from. */
function counterOf(seq: string): bigint {
  return BigInt(seq) - 10n ** 19n;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The messages on the queues follow-ups arrive on, as the follow-up list and a payment's page show them, and
 * the redrive of a dead-letter queue back to the queue its messages came from (SQS StartMessageMoveTask).
 *
 * SQS cannot list a queue: the console looks at messages by receiving them with a visibility timeout of 0, so
 * they stay on the queue, visible to anyone else at once. Every receive still counts towards a message's
 * ApproximateReceiveCount, and on a queue with a RedrivePolicy the receive that would take it past
 * maxReceiveCount moves it to the dead-letter queue instead: looking at PaymentFailure or VendingFailure five
 * times would move their messages to the dead-letter queues. So the console looks at a queue with a
 * RedrivePolicy only when the operator asks (`peekSourceQueues`), showing each message's receive count against
 * the maximum, and looks at queues without one (the dead-letter queues) freely. A look sees at most
 * PEEK_LIMIT messages; the depth says how many there are.
 *
 * @example
 * const messages = new QueueMessages({ sqs, queues: new QueuesService({ sqs }) });
 * const queues = await messages.followUpQueues({ peekSourceQueues: false });
 * // [{ name: 'PaymentFailure', kind: 'follow_up', peeked: false, ... }, { name: 'VendingFailure-dlq', kind: 'dead_letter', peeked: true, messages: [...] }]
 * await messages.redriveToSource('VendingFailure-dlq'); // { taskHandle }
 */
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { OpsConsoleError } from '../errors.ts';
import { REDACTED, redactJsonText } from '../executions/redaction.ts';
import type { QueueDepth, QueuesService } from './queues-service.ts';

/** The queues an operator follows up from, by what their names contain (CDK adds a prefix and suffix on AWS). */
export const FOLLOW_UP_QUEUE_NAMES = ['PaymentFailure', 'VendingFailure'] as const;

/** The most messages one look at a queue shows. */
export const PEEK_LIMIT = 50;
/** Receives per look: each gives at most 10 messages, and with a visibility timeout of 0 often the same ones. */
const PEEK_RECEIVES = 6;

export interface PeekedMessage {
  readonly messageId: string;
  readonly queueName: string;
  /** When it was first sent to a queue (SentTimestamp), ISO 8601. */
  readonly sentAt: string | null;
  /** ApproximateReceiveCount, this look included. */
  readonly receiveCount: number;
  /** The body, task tokens and payment tokens redacted. */
  readonly body: string;
  /** The body's `paymentId`, when it is JSON with one. */
  readonly paymentId: string | null;
}

export interface MoveTask {
  readonly status: string;
  readonly startedAt: string | null;
  readonly moved: number;
  readonly toMove: number | null;
  readonly failureReason: string | null;
}

export interface FollowUpQueue extends QueueDepth {
  /** `follow_up`: PaymentFailure or VendingFailure; `dead_letter`: a dead-letter queue. */
  readonly kind: 'follow_up' | 'dead_letter';
  /** The receives after which its messages move to its dead-letter queue; null without a RedrivePolicy. */
  readonly maxReceiveCount: number | null;
  /** For a dead-letter queue: the queues whose messages it takes. */
  readonly sourceQueues: string[];
  /** Whether the console looked at its messages (see `note` when not). */
  readonly peeked: boolean;
  /** Oldest first. */
  readonly messages: PeekedMessage[];
  readonly note: string | null;
  /** The latest redrive of a dead-letter queue, if any. */
  readonly lastMoveTask: MoveTask | null;
}

/** A redrive asked of a queue that is not a dead-letter queue, or while one is already running. */
export class OpsConsoleRedriveRefusedError extends OpsConsoleError {
  constructor(code: 'not_a_dead_letter_queue' | 'redrive_running', message: string) {
    super(409, code, message);
    this.name = 'OpsConsoleRedriveRefusedError';
  }
}

export class QueueMessages {
  readonly #sqs: SQSClient;
  readonly #queues: QueuesService;

  constructor({ sqs, queues }: { sqs: SQSClient; queues: QueuesService }) {
    this.#sqs = sqs;
    this.#queues = queues;
  }

  /**
   * PaymentFailure and VendingFailure, then every dead-letter queue, each with its depth and the messages looked
   * at: the dead-letter queues' always, the others' only with `peekSourceQueues` (their RedrivePolicy counts
   * every look; see above).
   */
  async followUpQueues({ peekSourceQueues }: { peekSourceQueues: boolean }): Promise<FollowUpQueue[]> {
    const depths = await this.#queues.depths();
    const deadLetterNames = new Set(
      depths.flatMap((queue) => (queue.deadLetterTarget === null ? [] : [queue.deadLetterTarget])),
    );
    for (const queue of depths) if (/-dlq$/i.test(queue.name)) deadLetterNames.add(queue.name);
    const followUp = depths.filter(
      (queue) =>
        !deadLetterNames.has(queue.name) && FOLLOW_UP_QUEUE_NAMES.some((name) => queue.name.includes(name)),
    );
    const deadLetter = depths.filter((queue) => deadLetterNames.has(queue.name));
    const sourcesOf = (name: string) =>
      depths.filter((queue) => queue.deadLetterTarget === name).map((queue) => queue.name);

    return Promise.all([
      ...followUp.map((queue) => this.#withMessages(queue, 'follow_up', [], peekSourceQueues)),
      ...deadLetter.map((queue) => this.#withMessages(queue, 'dead_letter', sourcesOf(queue.name), true)),
    ]);
  }

  /**
   * Moves a dead-letter queue's messages back to the queue each came from (StartMessageMoveTask without a
   * destination), oldest first.
   */
  async redriveToSource(queueName: string): Promise<{ taskHandle: string; queueName: string }> {
    const depths = await this.#queues.depths();
    const queue = depths.find((each) => each.name === queueName);
    if (queue === undefined) {
      throw new OpsConsoleError(404, 'queue_not_found', `There is no queue named ${queueName}`);
    }
    if (!depths.some((each) => each.deadLetterTarget === queueName)) {
      throw new OpsConsoleRedriveRefusedError(
        'not_a_dead_letter_queue',
        `${queueName} is not a dead-letter queue: no queue's RedrivePolicy names it`,
      );
    }
    const sourceArn = await this.#arnOf(queue.queueUrl);
    try {
      const { TaskHandle } = await this.#sqs.send(new StartMessageMoveTaskCommand({ SourceArn: sourceArn }));
      return { taskHandle: TaskHandle ?? '', queueName };
    } catch (error) {
      if (error instanceof Error && /already running/i.test(error.message)) {
        throw new OpsConsoleRedriveRefusedError(
          'redrive_running',
          `A redrive of ${queueName} is already running: wait for it to finish`,
        );
      }
      throw error;
    }
  }

  /**
   * Up to PEEK_LIMIT messages of a queue, oldest first, left on it (visibility timeout 0). `receives` bounds the
   * ReceiveMessage calls: give 1 for a queue with a RedrivePolicy, so that a look counts one receive a message.
   */
  async peek(
    queueUrl: string,
    { receives = PEEK_RECEIVES }: { receives?: number } = {},
  ): Promise<PeekedMessage[]> {
    const queueName = queueUrl.split('/').at(-1) ?? queueUrl;
    const seen = new Map<string, PeekedMessage>();
    for (let receive = 0; receive < receives && seen.size < PEEK_LIMIT; receive++) {
      const { Messages: messages = [] } = await this.#sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 0,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
        }),
      );
      let fresh = 0;
      for (const message of messages) {
        const messageId = message.MessageId ?? '';
        if (seen.has(messageId)) continue;
        fresh += 1;
        const sent = Number(message.Attributes?.SentTimestamp);
        seen.set(messageId, {
          messageId,
          queueName,
          sentAt: Number.isFinite(sent) && sent > 0 ? new Date(sent).toISOString() : null,
          receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
          body: redactBody(message.Body ?? ''),
          paymentId: paymentIdOf(message.Body ?? ''),
        });
      }
      // Fewer than a full batch: that was all there is (and another receive would only count again).
      if (fresh === 0 || messages.length < 10) break;
    }
    return [...seen.values()].slice(0, PEEK_LIMIT).sort(byOldest);
  }

  async #withMessages(
    queue: QueueDepth,
    kind: FollowUpQueue['kind'],
    sourceQueues: string[],
    peekAllowed: boolean,
  ): Promise<FollowUpQueue> {
    const maxReceiveCount =
      queue.deadLetterTarget === null ? null : await this.#maxReceiveCountOf(queue.queueUrl);
    const protectedByRedrive = maxReceiveCount !== null;
    const empty = queue.visible === 0;
    const peek = !empty && (!protectedByRedrive || peekAllowed);
    const [messages, lastMoveTask] = await Promise.all([
      peek
        ? this.peek(queue.queueUrl, { receives: protectedByRedrive ? 1 : PEEK_RECEIVES })
        : Promise.resolve([]),
      kind === 'dead_letter' ? this.#lastMoveTask(queue.queueUrl) : Promise.resolve(null),
    ]);
    let note: string | null = null;
    if (!peek && !empty) {
      note = `Not looked at: each look counts one receive, and after ${maxReceiveCount} a message moves to ${queue.deadLetterTarget}.`;
    } else if (peek && queue.visible > messages.length) {
      note = `Showing ${messages.length} of about ${queue.visible}: SQS cannot list a queue, only hand out some of its messages.`;
    } else if (peek && protectedByRedrive) {
      note = `This look counted one receive of each message; after ${maxReceiveCount} a message moves to ${queue.deadLetterTarget}.`;
    }
    return { ...queue, kind, maxReceiveCount, sourceQueues, peeked: peek, messages, note, lastMoveTask };
  }

  async #maxReceiveCountOf(queueUrl: string): Promise<number | null> {
    const { Attributes: attributes = {} } = await this.#sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }),
    );
    try {
      const { maxReceiveCount } = JSON.parse(attributes.RedrivePolicy ?? '{}') as {
        maxReceiveCount?: unknown;
      };
      const count = Number(maxReceiveCount);
      return Number.isInteger(count) && count > 0 ? count : null;
    } catch {
      return null;
    }
  }

  async #arnOf(queueUrl: string): Promise<string> {
    const { Attributes: attributes = {} } = await this.#sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    if (attributes.QueueArn === undefined) throw new Error(`SQS gave no QueueArn for ${queueUrl}`);
    return attributes.QueueArn;
  }

  /** The latest redrive of a dead-letter queue; null when none, or when ListMessageMoveTasks is not allowed. */
  async #lastMoveTask(queueUrl: string): Promise<MoveTask | null> {
    try {
      const sourceArn = await this.#arnOf(queueUrl);
      const { Results: results = [] } = await this.#sqs.send(
        new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 1 }),
      );
      const [latest] = results;
      if (latest === undefined) return null;
      return {
        status: latest.Status ?? 'UNKNOWN',
        startedAt:
          latest.StartedTimestamp === undefined ? null : new Date(latest.StartedTimestamp).toISOString(),
        moved: latest.ApproximateNumberOfMessagesMoved ?? 0,
        toMove: latest.ApproximateNumberOfMessagesToMove ?? null,
        failureReason: latest.FailureReason ?? null,
      };
    } catch {
      return null;
    }
  }

  /** Resolves a queue's URL by name (for routes that take a name). */
  async urlOf(queueName: string): Promise<string> {
    const { QueueUrl } = await this.#sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
    if (QueueUrl === undefined) throw new Error(`SQS gave no URL for ${queueName}`);
    return QueueUrl;
  }
}

/** Keys whose values a queue message may carry but the console never shows: whoever holds a token can use it. */
const TOKEN_KEYS = ['taskToken'];

function redactBody(body: string): string {
  let text = redactJsonText(body);
  if (!TOKEN_KEYS.some((key) => text.includes(key))) return text;
  try {
    const value = JSON.parse(text) as unknown;
    return JSON.stringify(redactTokens(value));
  } catch {
    for (const key of TOKEN_KEYS) {
      text = text.replace(new RegExp(`("${key}"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"?`, 'g'), `$1"${REDACTED}"`);
    }
    return text;
  }
}

function redactTokens(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactTokens);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, nested]) => [
      key,
      TOKEN_KEYS.includes(key) && nested !== null ? REDACTED : redactTokens(nested),
    ]),
  );
}

function paymentIdOf(body: string): string | null {
  try {
    const value = JSON.parse(body) as { paymentId?: unknown };
    return typeof value === 'object' && value !== null && typeof value.paymentId === 'string'
      ? value.paymentId
      : null;
  } catch {
    return null;
  }
}

function byOldest(a: PeekedMessage, b: PeekedMessage): number {
  return (a.sentAt ?? '').localeCompare(b.sentAt ?? '') || a.messageId.localeCompare(b.messageId);
}

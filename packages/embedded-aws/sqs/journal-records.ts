/**
 * The records of the SQS journal (`sqs.*.jsonl` in the data directory), one JSON object a line, and the
 * upgrade of records an older version of this code wrote. The names are meant to be read by someone opening a
 * data directory to see what happened to a queue, so they say what changed in SQS's own terms.
 *
 * Version 2 (current): `kind` names the change. Version 1 used one-letter keys and tuples
 * (`{ t: 'recv', q, at, ms: [[id, nonce, at]] }`); `upgradeSqsRecord` turns those into version 2 when a data
 * directory written by that code is opened, and the compaction that follows rewrites them.
 */
import type { MessageAttributeValue } from './md5.ts';

/** The version of the records below; bump it, and extend `upgradeSqsRecord`, when one changes shape. */
export const SQS_RECORD_VERSION = 2;

/** A message's state; 'gone' only while a new message is being placed or after it is removed. */
export type MessageState = 'ready' | 'inflight' | 'delayed' | 'gone';

/** A stored message, exactly as journaled (and kept in memory). */
export interface StoredMessage {
  id: string;
  body: string;
  md5OfBody: string;
  messageAttributes?: Record<string, MessageAttributeValue>;
  /** Message system attributes (AWSTraceHeader). */
  systemAttributes?: Record<string, MessageAttributeValue>;
  md5OfSystemAttributes?: string;
  /** Sent time (ms); retention counts from it, also after a move to a dead-letter queue. */
  sentAt: number;
  senderId: string;
  groupId?: string;
  deduplicationId?: string;
  sequenceNumber?: string;
  receiveCount: number;
  firstReceivedAt?: number;
  receivedAt?: number;
  /** The nonce of the latest receipt handle: only that handle may delete the message. */
  receiptNonce?: string;
  state: MessageState;
  /** When a delayed or in-flight message becomes visible (ms). */
  visibleAt: number;
  /** A dead-lettered message's source queue: where a move task returns it by default. */
  deadLetterSourceArn?: string;
}

/** A queue's settings: written when it is created and whenever its attributes or tags change. */
export interface QueueRecordBody {
  readonly name: string;
  readonly fifo: boolean;
  readonly attributes: readonly (readonly [string, string])[];
  readonly createdAt: number;
  readonly lastModifiedAt: number;
  readonly tags: Record<string, string>;
  readonly lastPurgeAt?: number;
  /** FIFO: the counter the next sequence number is made from (a bigint, as a string). */
  readonly nextSequenceCounter?: string;
}

/** Status names as ListMessageMoveTasks reports them. */
export type MessageMoveTaskStatus = 'RUNNING' | 'COMPLETED' | 'CANCELLING' | 'CANCELLED' | 'FAILED';

/** A message move task, exactly as journaled. */
export interface MoveTaskBody {
  readonly id: string;
  readonly sourceArn: string;
  readonly destinationArn?: string;
  readonly maxMessagesPerSecond?: number;
  readonly startedAt: number;
  readonly messagesToMove: number;
  readonly messagesMoved: number;
  readonly status: MessageMoveTaskStatus;
  readonly failureReason?: string;
  /** The messages still to move, oldest first; empty once the task has ended. */
  readonly pendingMessageIds: readonly string[];
}

/** One message handed out by a receive. */
export interface Receipt {
  readonly messageId: string;
  readonly receiptNonce: string;
  readonly visibleAgainAt: number;
}

/** One line of the SQS journal. `queue` is a queue's name. */
export type SqsRecord =
  | { readonly kind: 'queueSaved'; readonly queue: QueueRecordBody }
  | { readonly kind: 'queueDeleted'; readonly queue: string; readonly deletedAt: number }
  /** Sent, or (in a snapshot) held by the queue, in the state the message has. */
  | { readonly kind: 'messageStored'; readonly queue: string; readonly message: StoredMessage }
  | {
      readonly kind: 'messagesReceived';
      readonly queue: string;
      readonly receivedAt: number;
      readonly receipts: readonly Receipt[];
    }
  /** Deleted by a consumer, or expired (past the retention period). */
  | { readonly kind: 'messagesDeleted'; readonly queue: string; readonly messageIds: readonly string[] }
  | {
      readonly kind: 'visibilityChanged';
      readonly queue: string;
      readonly messageId: string;
      readonly visibleAgainAt: number;
    }
  | { readonly kind: 'queuePurged'; readonly queue: string; readonly purgedAt: number }
  /** Moved to the queue's dead-letter queue by the receive that would have passed maxReceiveCount. */
  | {
      readonly kind: 'messageDeadLettered';
      readonly queue: string;
      readonly deadLetterQueue: string;
      readonly messageId: string;
      readonly deadLetteredAt: number;
    }
  /**
   * Snapshots only: a FIFO deduplication id still inside its 5-minute window whose message may be gone.
   * `groupId` is there when the queue's DeduplicationScope is messageGroup, which makes the id per group.
   */
  | {
      readonly kind: 'deduplicationIdSeen';
      readonly queue: string;
      readonly deduplicationId: string;
      readonly groupId?: string;
      readonly messageId: string;
      readonly sequenceNumber?: string;
      readonly sentAt: number;
    }
  | { readonly kind: 'moveTaskSaved'; readonly task: MoveTaskBody }
  /** One message of a move task: out of `fromQueue`, into `toQueue` as the new message `newMessageId`. */
  | {
      readonly kind: 'messageMoved';
      readonly taskId: string;
      readonly fromQueue: string;
      readonly messageId: string;
      readonly toQueue: string;
      readonly newMessageId: string;
      readonly movedAt: number;
    };

/**
 * Turns a record of an older version into the current shape (`JournalOptions.upgrade`).
 *
 * @example
 * upgradeSqsRecord({ t: 'del', q: 'orders', ids: ['m-1'] }, 1);
 * // { kind: 'messagesDeleted', queue: 'orders', messageIds: ['m-1'] }
 */
export function upgradeSqsRecord(record: unknown, fromVersion: number): SqsRecord {
  if (fromVersion !== 1) throw new Error(`No upgrade of SQS journal records from version ${fromVersion}`);
  return fromVersion1(record as SqsRecordVersion1);
}

// ─── Version 1 ─────────────────────────────────────────────────────────────────────────────────────────

/** A message as version 1 journaled it. */
interface StoredMessageVersion1 {
  readonly id: string;
  readonly body: string;
  readonly md5: string;
  readonly attrs?: Record<string, MessageAttributeValue>;
  readonly sys?: Record<string, MessageAttributeValue>;
  readonly md5Sys?: string;
  readonly sentAt: number;
  readonly sender: string;
  readonly group?: string;
  readonly dedup?: string;
  readonly seq?: string;
  readonly receiveCount: number;
  readonly firstReceiveAt?: number;
  readonly receivedAt?: number;
  readonly handle?: string;
  readonly state: MessageState;
  readonly visibleAt: number;
  readonly dlqSource?: string;
}

interface MoveTaskBodyVersion1 {
  readonly id: string;
  readonly sourceArn: string;
  readonly destinationArn?: string;
  readonly rate?: number;
  readonly startedAt: number;
  readonly toMove: number;
  readonly moved: number;
  readonly status: MessageMoveTaskStatus;
  readonly failureReason?: string;
  readonly pending: readonly string[];
}

type SqsRecordVersion1 =
  | {
      readonly t: 'queue';
      readonly queue: Omit<QueueRecordBody, 'nextSequenceCounter'> & { readonly nextSeq?: string };
    }
  | { readonly t: 'queue-deleted'; readonly name: string; readonly at: number }
  | { readonly t: 'msg'; readonly q: string; readonly m: StoredMessageVersion1 }
  | {
      readonly t: 'recv';
      readonly q: string;
      readonly at: number;
      /** [message id, receipt nonce, visible again at] */
      readonly ms: readonly (readonly [string, string, number])[];
    }
  | { readonly t: 'del'; readonly q: string; readonly ids: readonly string[] }
  | { readonly t: 'vis'; readonly q: string; readonly id: string; readonly at: number }
  | { readonly t: 'purge'; readonly q: string; readonly at: number }
  | {
      readonly t: 'redrive';
      readonly q: string;
      readonly to: string;
      readonly id: string;
      readonly at: number;
    }
  | {
      readonly t: 'dedup';
      readonly q: string;
      /** The deduplication id, after `<group id>\u0000` under DeduplicationScope messageGroup. */
      readonly k: string;
      readonly id: string;
      readonly seq?: string;
      readonly at: number;
    }
  | { readonly t: 'task'; readonly task: MoveTaskBodyVersion1 }
  | {
      readonly t: 'moved';
      readonly task: string;
      readonly q: string;
      readonly id: string;
      readonly to: string;
      readonly newId: string;
      readonly at: number;
    };

function fromVersion1(record: SqsRecordVersion1): SqsRecord {
  switch (record.t) {
    case 'queue': {
      const { nextSeq, ...queue } = record.queue;
      return {
        kind: 'queueSaved',
        queue: definedOnly({ ...queue, nextSequenceCounter: nextSeq }),
      };
    }
    case 'queue-deleted':
      return { kind: 'queueDeleted', queue: record.name, deletedAt: record.at };
    case 'msg':
      return { kind: 'messageStored', queue: record.q, message: messageFromVersion1(record.m) };
    case 'recv':
      return {
        kind: 'messagesReceived',
        queue: record.q,
        receivedAt: record.at,
        receipts: record.ms.map(([messageId, receiptNonce, visibleAgainAt]) => ({
          messageId,
          receiptNonce,
          visibleAgainAt,
        })),
      };
    case 'del':
      return { kind: 'messagesDeleted', queue: record.q, messageIds: record.ids };
    case 'vis':
      return { kind: 'visibilityChanged', queue: record.q, messageId: record.id, visibleAgainAt: record.at };
    case 'purge':
      return { kind: 'queuePurged', queue: record.q, purgedAt: record.at };
    case 'redrive':
      return {
        kind: 'messageDeadLettered',
        queue: record.q,
        deadLetterQueue: record.to,
        messageId: record.id,
        deadLetteredAt: record.at,
      };
    case 'dedup': {
      // Group and deduplication ids are printable characters only, so the first NUL is the separator.
      const separator = record.k.indexOf('\u0000');
      return definedOnly({
        kind: 'deduplicationIdSeen',
        queue: record.q,
        deduplicationId: separator === -1 ? record.k : record.k.slice(separator + 1),
        groupId: separator === -1 ? undefined : record.k.slice(0, separator),
        messageId: record.id,
        sequenceNumber: record.seq,
        sentAt: record.at,
      });
    }
    case 'task': {
      const { rate, toMove, moved, pending, ...task } = record.task;
      return {
        kind: 'moveTaskSaved',
        task: definedOnly({
          ...task,
          maxMessagesPerSecond: rate,
          messagesToMove: toMove,
          messagesMoved: moved,
          pendingMessageIds: pending,
        }),
      };
    }
    case 'moved':
      return {
        kind: 'messageMoved',
        taskId: record.task,
        fromQueue: record.q,
        messageId: record.id,
        toQueue: record.to,
        newMessageId: record.newId,
        movedAt: record.at,
      };
    default:
      throw new Error(`Unknown SQS journal record of version 1: ${JSON.stringify(record)}`);
  }
}

function messageFromVersion1(message: StoredMessageVersion1): StoredMessage {
  return definedOnly({
    id: message.id,
    body: message.body,
    md5OfBody: message.md5,
    messageAttributes: message.attrs,
    systemAttributes: message.sys,
    md5OfSystemAttributes: message.md5Sys,
    sentAt: message.sentAt,
    senderId: message.sender,
    groupId: message.group,
    deduplicationId: message.dedup,
    sequenceNumber: message.seq,
    receiveCount: message.receiveCount,
    firstReceivedAt: message.firstReceiveAt,
    receivedAt: message.receivedAt,
    receiptNonce: message.handle,
    state: message.state,
    visibleAt: message.visibleAt,
    deadLetterSourceArn: message.dlqSource,
  });
}

/** Leaves out the members an older record did not have, as the current code leaves them out when it writes. */
function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as T;
}

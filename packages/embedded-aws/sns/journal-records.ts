/**
 * The records of the SNS journal (`sns.*.jsonl` in the data directory), one JSON object a line, and the
 * upgrade of records an older version of this code wrote.
 *
 * Version 2 (current): `kind` names the change. Version 1 named it in `t` with other words
 * (`{ t: 'published', message, owed }`); `upgradeSnsRecord` turns those into version 2 when a data directory
 * written by that code is opened, and the compaction that follows rewrites them.
 */
import type { PublishedMessage, Subscription, Topic } from './sns-engine.ts';

/** The version of the records below; bump it, and extend `upgradeSnsRecord`, when one changes shape. */
export const SNS_RECORD_VERSION = 2;

/** One line of the SNS journal. */
export type SnsRecord =
  /** Created, or its attributes set. */
  | { readonly kind: 'topicSaved'; readonly topic: Topic }
  | { readonly kind: 'topicDeleted'; readonly topicArn: string }
  /** Subscribed, or its attributes set. */
  | { readonly kind: 'subscriptionSaved'; readonly subscription: Subscription }
  | { readonly kind: 'unsubscribed'; readonly subscriptionArn: string }
  /** `owedTo`: the subscriptions the message is still to be delivered to (absent when none). */
  | {
      readonly kind: 'messagePublished';
      readonly message: PublishedMessage;
      readonly owedTo?: readonly string[];
    }
  | { readonly kind: 'messageDelivered'; readonly messageId: string; readonly subscriptionArn: string };

/**
 * Turns a record of an older version into the current shape (`JournalOptions.upgrade`).
 *
 * @example
 * upgradeSnsRecord({ t: 'topic-deleted', topicArn }, 1); // { kind: 'topicDeleted', topicArn }
 */
export function upgradeSnsRecord(record: unknown, fromVersion: number): SnsRecord {
  if (fromVersion !== 1) throw new Error(`No upgrade of SNS journal records from version ${fromVersion}`);
  return fromVersion1(record as SnsRecordVersion1);
}

type SnsRecordVersion1 =
  | { readonly t: 'topic'; readonly topic: Topic }
  | { readonly t: 'topic-deleted'; readonly topicArn: string }
  | { readonly t: 'subscription'; readonly subscription: Subscription }
  | { readonly t: 'unsubscribed'; readonly subscriptionArn: string }
  | { readonly t: 'published'; readonly message: PublishedMessage; readonly owed?: readonly string[] }
  | { readonly t: 'delivered'; readonly messageId: string; readonly subscriptionArn: string };

function fromVersion1(record: SnsRecordVersion1): SnsRecord {
  switch (record.t) {
    case 'topic':
      return { kind: 'topicSaved', topic: record.topic };
    case 'topic-deleted':
      return { kind: 'topicDeleted', topicArn: record.topicArn };
    case 'subscription':
      return { kind: 'subscriptionSaved', subscription: record.subscription };
    case 'unsubscribed':
      return { kind: 'unsubscribed', subscriptionArn: record.subscriptionArn };
    case 'published':
      return {
        kind: 'messagePublished',
        message: record.message,
        ...(record.owed === undefined ? {} : { owedTo: record.owed }),
      };
    case 'delivered':
      return {
        kind: 'messageDelivered',
        messageId: record.messageId,
        subscriptionArn: record.subscriptionArn,
      };
    default:
      throw new Error(`Unknown SNS journal record of version 1: ${JSON.stringify(record)}`);
  }
}

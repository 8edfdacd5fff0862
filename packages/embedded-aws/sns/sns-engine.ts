/**
 * The embedded SNS: topics, subscriptions and what is published to them, kept in a journal in the data
 * directory, and the delivery of every published message to each subscription of its topic (SQS queues of the
 * embedded SQS, HTTP/S endpoints).
 *
 * Publish records the message together with the deliveries it owes, in one journal record
 * (`journal-records.ts`), before it is acknowledged; each delivery is recorded as done once the subscriber
 * has it. So delivery is at least once and survives kill -9: deliveries still owed when the process died are
 * attempted again when it starts, and a delivery whose subscriber had it just before the crash may be made
 * twice. Failed attempts are retried (see `retryDelayMs`) until they succeed, the subscription goes or its
 * topic is deleted.
 *
 * HTTP/S subscriptions are confirmed at once: locally nobody sends a SubscriptionConfirmation to confirm.
 *
 * Every publish is also kept, in order, for `published()` and `onPublished` listeners (the on-call alerts
 * `npm start` prints). Publishing to a topic that does not exist fails as SNS fails it (NotFound), so a
 * misspelt topic ARN is caught locally too.
 */
import { randomUUID } from 'node:crypto';
import { type Journal, openJournal } from '../durable/journal.ts';
import {
  type CheckedPublish,
  checkPublish,
  checkSnsArn,
  checkSubscriptionAttribute,
  checkSubscriptionTarget,
  checkTopicAttribute,
  checkTopicName,
  type DeliveredProtocol,
} from './checks.ts';
import { snsErrors } from './errors.ts';
import { SNS_RECORD_VERSION, type SnsRecord, upgradeSnsRecord } from './journal-records.ts';
import {
  type MessageAttributeValue,
  type Notification,
  type NotificationTransport,
  notificationEnvelope,
  retryDelayMs,
} from './notifications.ts';

export interface Topic {
  readonly topicArn: string;
  readonly name: string;
  readonly createdAt: number;
  /** As given to CreateTopic and SetTopicAttributes (absent in journals written before attributes were kept). */
  readonly attributes?: Readonly<Record<string, string>>;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface Subscription {
  readonly subscriptionArn: string;
  readonly topicArn: string;
  readonly protocol: DeliveredProtocol;
  readonly endpoint: string;
  /** `RawMessageDelivery` when set. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly createdAt: number;
}

export interface PublishedMessage {
  readonly messageId: string;
  readonly topicArn: string;
  readonly message: string;
  readonly subject?: string;
  readonly messageAttributes?: Readonly<Record<string, MessageAttributeValue>>;
  /** `json`: `message` is a JSON object of a message per protocol, with a `default`. */
  readonly messageStructure?: 'json';
  readonly publishedAt: number;
}

export interface OwedDelivery {
  readonly messageId: string;
  readonly subscriptionArn: string;
  /** Since this process started. */
  readonly failedAttempts: number;
}

/** Told of every message published, as it is published. */
export type PublishedListener = (message: PublishedMessage) => void;

export interface SnsEngineOptions {
  /** Folder for the journal, or null to keep everything in memory. */
  readonly dataDir: string | null;
  readonly region?: string;
  readonly accountId?: string;
  /** The endpoint subscribers are given in notifications (UnsubscribeURL); default http://127.0.0.1:4566. */
  readonly endpoint?: string;
  /**
   * How notifications leave the process. Without it nothing is delivered and owed deliveries stay owed in
   * the journal: for reading another process's data directory.
   */
  readonly transport?: NotificationTransport;
  readonly logger?: SnsLogger;
}

export interface SnsLogger {
  warn(message: string): void;
  error(message: string, cause?: unknown): void;
}

/** One delivery being attempted: a message to a subscription. */
interface Attempts {
  failures: number;
  timer?: NodeJS.Timeout;
}

/**
 * @example
 * const sns = await SnsEngine.open({ dataDir: null, transport: { toQueue, toUrl: postNotification } });
 * const { topicArn } = sns.createTopic('on-call');
 * sns.subscribe(topicArn, 'sqs', 'arn:aws:sqs:us-east-1:000000000000:alerts');
 * sns.publish({ TopicArn: topicArn, Message: 'vend failed for p-1' });
 * sns.published(topicArn); // [{ message: 'vend failed for p-1', ... }]
 */
export class SnsEngine {
  readonly region: string;
  readonly accountId: string;
  readonly #endpoint: string;
  readonly #transport: NotificationTransport | undefined;
  readonly #logger: SnsLogger;
  readonly #topics = new Map<string, Topic>();
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #published: PublishedMessage[] = [];
  readonly #messages = new Map<string, PublishedMessage>();
  /** Deliveries owed: message id → subscription ARNs. */
  readonly #owed = new Map<string, Set<string>>();
  readonly #attempts = new Map<string, Attempts>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #listeners = new Set<PublishedListener>();
  readonly #closing = new AbortController();
  #journal: Journal<SnsRecord> | undefined;

  private constructor(options: SnsEngineOptions) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.#endpoint = options.endpoint ?? 'http://127.0.0.1:4566';
    this.#transport = options.transport;
    this.#logger = options.logger ?? console;
  }

  static async open(options: SnsEngineOptions): Promise<SnsEngine> {
    const engine = new SnsEngine(options);
    engine.#journal = await openJournal<SnsRecord>({
      dir: options.dataDir,
      name: 'sns',
      recordVersion: SNS_RECORD_VERSION,
      upgrade: upgradeSnsRecord,
      replay: (record) => engine.#apply(record),
      snapshot: () => engine.#snapshot(),
    });
    // What a killed process still owed goes out now.
    for (const [messageId, subscriptionArns] of engine.#owed) {
      for (const subscriptionArn of subscriptionArns) engine.#schedule(messageId, subscriptionArn, 0);
    }
    return engine;
  }

  // ─── Topics ────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * CreateTopic is idempotent by name, as on SNS: the same name gives the same topic, unless the attributes
   * asked for differ from the topic's.
   */
  createTopic(
    name: string,
    attributes: Readonly<Record<string, string>> = {},
    tags: Readonly<Record<string, string>> = {},
  ): Topic {
    checkTopicName(name);
    for (const [attribute, value] of Object.entries(attributes)) {
      checkTopicAttribute(attribute, value, 'Attributes');
    }
    const topicArn = `arn:aws:sns:${this.region}:${this.accountId}:${name}`;
    const existing = this.#topics.get(topicArn);
    if (existing) {
      const kept = existing.attributes ?? {};
      if (Object.entries(attributes).some(([attribute, value]) => (kept[attribute] ?? '') !== value)) {
        throw snsErrors.invalidParameter('Attributes', 'Topic already exists with different attributes');
      }
      return existing;
    }
    const topic: Topic = {
      topicArn,
      name,
      createdAt: Date.now(),
      attributes: { ...attributes },
      tags: { ...tags },
    };
    this.#write({ kind: 'topicSaved', topic });
    return topic;
  }

  /** Deleting a topic that does not exist is not an error, as on SNS; its subscriptions go with it. */
  deleteTopic(topicArn: string): void {
    checkSnsArn(topicArn, 'TopicArn');
    if (this.#topics.has(topicArn)) this.#write({ kind: 'topicDeleted', topicArn });
  }

  topics(): Topic[] {
    return [...this.#topics.values()];
  }

  topic(topicArn: string): Topic {
    const topic = this.#topics.get(checkSnsArn(topicArn, 'TopicArn'));
    if (topic === undefined) throw snsErrors.topicNotFound();
    return topic;
  }

  /** GetTopicAttributes: the counts and owner SNS reports, and what was set. */
  topicAttributes(topicArn: string): Record<string, string> {
    const topic = this.topic(topicArn);
    const confirmed = this.subscriptions(topicArn).length;
    return {
      TopicArn: topic.topicArn,
      Owner: this.accountId,
      DisplayName: '',
      ...topic.attributes,
      SubscriptionsConfirmed: String(confirmed),
      SubscriptionsPending: '0',
      SubscriptionsDeleted: '0',
    };
  }

  setTopicAttribute(topicArn: string, name: string, value: string): void {
    const topic = this.topic(topicArn);
    checkTopicAttribute(name, value);
    this.#write({
      kind: 'topicSaved',
      topic: { ...topic, attributes: { ...topic.attributes, [name]: value } },
    });
  }

  // ─── Subscriptions ─────────────────────────────────────────────────────────────────────────────────────

  /**
   * Subscribes an SQS queue (by ARN) or an HTTP/S URL. Confirmed at once (see the file comment). Subscribing
   * the same endpoint again returns the subscription it has, as SNS does.
   */
  subscribe(
    topicArn: string,
    protocol: string,
    endpoint: string,
    attributes: Readonly<Record<string, string>> = {},
  ): Subscription {
    const topic = this.topic(topicArn);
    const target = checkSubscriptionTarget(protocol, endpoint);
    const kept: Record<string, string> = {};
    for (const [name, value] of Object.entries(attributes)) {
      kept[name] = checkSubscriptionAttribute(name, value, 'Attributes');
    }
    const existing = this.subscriptions(topic.topicArn).find(
      (s) => s.protocol === target.protocol && s.endpoint === target.endpoint,
    );
    if (existing) {
      if (Object.entries(kept).some(([name, value]) => (existing.attributes[name] ?? 'false') !== value)) {
        throw snsErrors.invalidParameter(
          'Attributes',
          'Subscription already exists with different attributes',
        );
      }
      return existing;
    }
    const subscription: Subscription = {
      subscriptionArn: `${topic.topicArn}:${randomUUID()}`,
      topicArn: topic.topicArn,
      ...target,
      attributes: kept,
      createdAt: Date.now(),
    };
    this.#write({ kind: 'subscriptionSaved', subscription });
    return subscription;
  }

  /** Unsubscribing twice is not an error; deliveries it still owes are dropped. */
  unsubscribe(subscriptionArn: string): void {
    checkSnsArn(subscriptionArn, 'SubscriptionArn');
    if (this.#subscriptions.has(subscriptionArn)) this.#write({ kind: 'unsubscribed', subscriptionArn });
  }

  /** Every subscription, or a topic's, oldest first. */
  subscriptions(topicArn?: string): Subscription[] {
    const all = [...this.#subscriptions.values()];
    return topicArn === undefined ? all : all.filter((s) => s.topicArn === topicArn);
  }

  subscription(subscriptionArn: string): Subscription {
    const subscription = this.#subscriptions.get(checkSnsArn(subscriptionArn, 'SubscriptionArn'));
    if (subscription === undefined) throw snsErrors.subscriptionNotFound();
    return subscription;
  }

  subscriptionAttributes(subscriptionArn: string): Record<string, string> {
    const subscription = this.subscription(subscriptionArn);
    return {
      SubscriptionArn: subscription.subscriptionArn,
      TopicArn: subscription.topicArn,
      Owner: this.accountId,
      Protocol: subscription.protocol,
      Endpoint: subscription.endpoint,
      PendingConfirmation: 'false',
      ConfirmationWasAuthenticated: 'true',
      RawMessageDelivery: 'false',
      ...subscription.attributes,
    };
  }

  setSubscriptionAttribute(subscriptionArn: string, name: string, value: string): void {
    const subscription = this.subscription(subscriptionArn);
    const kept = checkSubscriptionAttribute(name, value);
    this.#write({
      kind: 'subscriptionSaved',
      subscription: { ...subscription, attributes: { ...subscription.attributes, [name]: kept } },
    });
  }

  // ─── Publishing ────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Publish to a topic: kept, owed to every subscription of the topic, and told to the listeners. Takes the
   * SDK's input shape (from the API or from Step Functions' `sns:publish`) and checks it as SNS does.
   * Durable once `flushed()` resolves; callers acknowledge only then.
   */
  publish(input: Readonly<Record<string, unknown>>): { MessageId: string } {
    const checked: CheckedPublish = checkPublish(input);
    if (!this.#topics.has(checked.topicArn)) throw snsErrors.topicNotFound();
    const message: PublishedMessage = {
      messageId: randomUUID(),
      topicArn: checked.topicArn,
      message: checked.message,
      ...(checked.subject !== undefined ? { subject: checked.subject } : {}),
      ...(checked.messageAttributes !== undefined ? { messageAttributes: checked.messageAttributes } : {}),
      ...(checked.messageStructure !== undefined ? { messageStructure: checked.messageStructure } : {}),
      publishedAt: Date.now(),
    };
    const owed = this.subscriptions(checked.topicArn).map((s) => s.subscriptionArn);
    this.#write({ kind: 'messagePublished', message, ...(owed.length > 0 ? { owedTo: owed } : {}) });
    for (const subscriptionArn of owed) this.#schedule(message.messageId, subscriptionArn, 0);
    for (const listener of this.#listeners) this.#tell(listener, message);
    return { MessageId: message.messageId };
  }

  /** Everything published, oldest first; to one topic when given. */
  published(topicArn?: string): PublishedMessage[] {
    return topicArn === undefined
      ? [...this.#published]
      : this.#published.filter((m) => m.topicArn === topicArn);
  }

  /**
   * Calls `listener` with every message published from now on; with `since` (epoch ms), first with those
   * already published at or after it (say, since the process started: a Step Functions execution resumed
   * during the start may have published before the caller could listen). Returns the way to stop.
   *
   * @example
   * const startedAt = Date.now();
   * // ... start everything ...
   * sns.onPublished((m) => console.log(m.subject, m.message), { since: startedAt });
   */
  onPublished(listener: PublishedListener, options: { readonly since?: number } = {}): () => void {
    if (options.since !== undefined) {
      for (const message of this.#published) {
        if (message.publishedAt >= options.since) this.#tell(listener, message);
      }
    }
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** The deliveries still owed, oldest message first, with how many attempts at each have failed so far. */
  owedDeliveries(): OwedDelivery[] {
    const owed: OwedDelivery[] = [];
    for (const [messageId, subscriptionArns] of this.#owed) {
      for (const subscriptionArn of subscriptionArns) {
        const failedAttempts = this.#attempts.get(`${messageId} ${subscriptionArn}`)?.failures ?? 0;
        owed.push({ messageId, subscriptionArn, failedAttempts });
      }
    }
    return owed;
  }

  flushed(): Promise<void> {
    return this.#journal!.flushed();
  }

  /** Stops delivering (attempts under way are cut short and owed again next start), then closes the journal. */
  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort();
    for (const attempts of this.#attempts.values()) clearTimeout(attempts.timer);
    this.#attempts.clear();
    await Promise.allSettled([...this.#inFlight]);
    this.#listeners.clear();
    await this.#journal?.close();
  }

  // ─── Delivery ──────────────────────────────────────────────────────────────────────────────────────────

  #schedule(messageId: string, subscriptionArn: string, delayMs: number): void {
    if (this.#transport === undefined || this.#closing.signal.aborted) return;
    const key = `${messageId} ${subscriptionArn}`;
    let attempts = this.#attempts.get(key);
    if (attempts === undefined) {
      attempts = { failures: 0 };
      this.#attempts.set(key, attempts);
    }
    const scheduled = attempts;
    scheduled.timer = setTimeout(() => {
      scheduled.timer = undefined;
      const attempt = this.#attempt(key, messageId, subscriptionArn, scheduled).catch((error: unknown) => {
        this.#logger.error(`SNS delivery of message ${messageId} to ${subscriptionArn} failed`, error);
      });
      this.#inFlight.add(attempt);
      void attempt.then(() => this.#inFlight.delete(attempt));
    }, delayMs);
    // Owed deliveries are in the journal: a process with nothing else to do may end without them.
    scheduled.timer.unref();
  }

  async #attempt(key: string, messageId: string, subscriptionArn: string, attempts: Attempts): Promise<void> {
    const message = this.#messages.get(messageId);
    const subscription = this.#subscriptions.get(subscriptionArn);
    if (message === undefined || subscription === undefined || !this.#owes(messageId, subscriptionArn)) {
      // Unsubscribed, or its topic deleted, since it was scheduled.
      this.#attempts.delete(key);
      return;
    }
    const notification = notificationFor(message, subscription);
    const envelope = notificationEnvelope(notification, this.#endpoint);
    const transport = this.#transport!;
    const signal = this.#closing.signal;
    let outcome: Awaited<ReturnType<NotificationTransport['toUrl']>>;
    try {
      outcome =
        subscription.protocol === 'sqs'
          ? await transport.toQueue(subscription.endpoint, notification, envelope, signal)
          : await transport.toUrl(subscription.endpoint, notification, envelope, signal);
    } catch (error) {
      if (signal.aborted) return;
      attempts.failures++;
      if (attempts.failures === 1) {
        this.#logger.warn(
          `SNS could not deliver message ${messageId} to ${subscription.endpoint} (${errorMessage(error)}); retrying until it can`,
        );
      }
      this.#schedule(messageId, subscriptionArn, retryDelayMs(attempts.failures));
      return;
    }
    this.#attempts.delete(key);
    if ('refused' in outcome) {
      this.#logger.warn(
        `SNS gave up on message ${messageId} to ${subscription.endpoint}: ${outcome.refused}`,
      );
    } else if (attempts.failures > 0) {
      this.#logger.warn(
        `SNS delivered message ${messageId} to ${subscription.endpoint} after ${attempts.failures + 1} attempts`,
      );
    }
    if (this.#owes(messageId, subscriptionArn)) {
      this.#write({ kind: 'messageDelivered', messageId, subscriptionArn });
    }
  }

  #owes(messageId: string, subscriptionArn: string): boolean {
    return this.#owed.get(messageId)?.has(subscriptionArn) ?? false;
  }

  #tell(listener: PublishedListener, message: PublishedMessage): void {
    try {
      listener(message);
    } catch (error) {
      this.#logger.error('An SNS onPublished listener failed', error);
    }
  }

  // ─── Journal ───────────────────────────────────────────────────────────────────────────────────────────

  #write(record: SnsRecord): void {
    this.#apply(record);
    this.#journal!.append(record);
  }

  #apply(record: SnsRecord): void {
    switch (record.kind) {
      case 'topicSaved':
        this.#topics.set(record.topic.topicArn, record.topic);
        return;
      case 'topicDeleted':
        this.#topics.delete(record.topicArn);
        for (const subscription of this.subscriptions(record.topicArn))
          this.#unsubscribed(subscription.subscriptionArn);
        return;
      case 'subscriptionSaved':
        this.#subscriptions.set(record.subscription.subscriptionArn, record.subscription);
        return;
      case 'unsubscribed':
        this.#unsubscribed(record.subscriptionArn);
        return;
      case 'messagePublished':
        this.#published.push(record.message);
        this.#messages.set(record.message.messageId, record.message);
        if (record.owedTo !== undefined && record.owedTo.length > 0) {
          this.#owed.set(record.message.messageId, new Set(record.owedTo));
        }
        return;
      case 'messageDelivered': {
        const owed = this.#owed.get(record.messageId);
        owed?.delete(record.subscriptionArn);
        if (owed?.size === 0) this.#owed.delete(record.messageId);
        return;
      }
    }
  }

  #unsubscribed(subscriptionArn: string): void {
    this.#subscriptions.delete(subscriptionArn);
    for (const [messageId, owed] of this.#owed) {
      owed.delete(subscriptionArn);
      if (owed.size === 0) this.#owed.delete(messageId);
    }
  }

  *#snapshot(): Iterable<SnsRecord> {
    for (const topic of this.#topics.values()) yield { kind: 'topicSaved', topic };
    for (const subscription of this.#subscriptions.values())
      yield { kind: 'subscriptionSaved', subscription };
    for (const message of this.#published) {
      const owed = this.#owed.get(message.messageId);
      yield { kind: 'messagePublished', message, ...(owed !== undefined ? { owedTo: [...owed] } : {}) };
    }
  }
}

/** The message as this subscription gets it: per protocol under MessageStructure json, raw or not. */
function notificationFor(message: PublishedMessage, subscription: Subscription): Notification {
  let text = message.message;
  if (message.messageStructure === 'json') {
    const perProtocol = JSON.parse(message.message) as Record<string, unknown>;
    const chosen = perProtocol[subscription.protocol];
    text = typeof chosen === 'string' ? chosen : String(perProtocol.default);
  }
  return {
    messageId: message.messageId,
    topicArn: message.topicArn,
    subscriptionArn: subscription.subscriptionArn,
    ...(message.subject !== undefined ? { subject: message.subject } : {}),
    message: text,
    ...(message.messageAttributes !== undefined ? { messageAttributes: message.messageAttributes } : {}),
    publishedAt: message.publishedAt,
    raw: subscription.attributes.RawMessageDelivery === 'true',
  };
}

/** fetch says only "fetch failed"; its cause says why (ECONNREFUSED, a timeout). */
function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause =
    error.cause instanceof Error
      ? `: ${(error.cause as NodeJS.ErrnoException).code ?? error.cause.message}`
      : '';
  return `${error.message}${cause}`;
}

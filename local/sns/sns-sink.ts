/**
 * The embedded SNS: a durable sink for what the system publishes (the on-call alert, for one).
 *
 * Locally nobody is paged: every Publish is kept, in order, in the data directory, so tests and developers
 * can see exactly what would have gone out — once each, even across a crash. Publishing to a topic that
 * was never created fails as SNS fails it (NotFound), so a misspelt topic ARN is caught locally too.
 */
import { randomUUID } from 'node:crypto';
import { type Journal, openJournal } from '../durable/journal.ts';

export interface Topic {
  readonly topicArn: string;
  readonly name: string;
  readonly createdAt: number;
}

export interface PublishedMessage {
  readonly messageId: string;
  readonly topicArn: string;
  readonly message: string;
  readonly subject?: string;
  readonly messageAttributes?: Readonly<Record<string, unknown>>;
  readonly publishedAt: number;
}

export interface PublishInput {
  readonly TopicArn?: string;
  readonly TargetArn?: string;
  readonly Message?: string;
  readonly Subject?: string;
  readonly MessageAttributes?: Readonly<Record<string, unknown>>;
}

type SnsRecord =
  | { readonly t: 'topic'; readonly topic: Topic }
  | { readonly t: 'published'; readonly message: PublishedMessage };

/** An SNS error, named as SNS names it (the Step Functions integration prefixes it with `SNS.`). */
export class SnsError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * @example
 * const sns = await SnsSink.open({ dataDir: null });
 * const { topicArn } = sns.createTopic('on-call');
 * sns.publish({ TopicArn: topicArn, Message: 'vend failed for p-1' });
 * sns.published(topicArn); // [{ message: 'vend failed for p-1', ... }]
 */
export class SnsSink {
  readonly #topics = new Map<string, Topic>();
  readonly #published: PublishedMessage[] = [];
  readonly #region: string;
  readonly #accountId: string;
  #journal: Journal<SnsRecord> | undefined;

  private constructor(region: string, accountId: string) {
    this.#region = region;
    this.#accountId = accountId;
  }

  static async open(options: {
    dataDir: string | null;
    region?: string;
    accountId?: string;
  }): Promise<SnsSink> {
    const sink = new SnsSink(options.region ?? 'us-east-1', options.accountId ?? '000000000000');
    sink.#journal = await openJournal<SnsRecord>({
      dir: options.dataDir,
      name: 'sns',
      replay: (record) => sink.#apply(record),
      snapshot: () => sink.#snapshot(),
    });
    return sink;
  }

  /** CreateTopic is idempotent by name, as on SNS. */
  createTopic(name: string): Topic {
    if (!/^[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(name)) {
      throw new SnsError('InvalidParameter', 'Invalid parameter: Topic Name');
    }
    const topicArn = `arn:aws:sns:${this.#region}:${this.#accountId}:${name}`;
    const existing = this.#topics.get(topicArn);
    if (existing) return existing;
    const topic: Topic = { topicArn, name, createdAt: Date.now() };
    this.#write({ t: 'topic', topic });
    return topic;
  }

  topics(): Topic[] {
    return [...this.#topics.values()];
  }

  publish(input: PublishInput): { MessageId: string } {
    const topicArn = input.TopicArn ?? input.TargetArn;
    if (topicArn === undefined) {
      throw new SnsError(
        'InvalidParameter',
        'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter',
      );
    }
    if (typeof input.Message !== 'string' || input.Message.length === 0) {
      throw new SnsError('InvalidParameter', 'Invalid parameter: Empty message');
    }
    if (!this.#topics.has(topicArn)) throw new SnsError('NotFound', 'Topic does not exist');
    const message: PublishedMessage = {
      messageId: randomUUID(),
      topicArn,
      message: input.Message,
      ...(input.Subject !== undefined ? { subject: input.Subject } : {}),
      ...(input.MessageAttributes !== undefined ? { messageAttributes: input.MessageAttributes } : {}),
      publishedAt: Date.now(),
    };
    this.#write({ t: 'published', message });
    return { MessageId: message.messageId };
  }

  /** Everything published, oldest first; to one topic when given. */
  published(topicArn?: string): PublishedMessage[] {
    return topicArn === undefined
      ? [...this.#published]
      : this.#published.filter((m) => m.topicArn === topicArn);
  }

  flushed(): Promise<void> {
    return this.#journal!.flushed();
  }

  async close(): Promise<void> {
    await this.#journal?.close();
  }

  #write(record: SnsRecord): void {
    this.#apply(record);
    this.#journal!.append(record);
  }

  #apply(record: SnsRecord): void {
    if (record.t === 'topic') this.#topics.set(record.topic.topicArn, record.topic);
    else this.#published.push(record.message);
  }

  *#snapshot(): Iterable<SnsRecord> {
    for (const topic of this.#topics.values()) yield { t: 'topic', topic };
    for (const message of this.#published) yield { t: 'published', message };
  }
}

/**
 * The on-call alerts as they arrive, through an SNS subscription of the console's own: at start the console finds
 * the on-call topic (the one given, else the one named `OnCall`, else one whose name holds `OnCall`, as CDK
 * names it), creates its own queue (allowing only that topic to send to it), subscribes the queue to the topic
 * and polls it, keeping the most recent alerts in memory, newest first. Each alert is deleted from the queue
 * once kept: the queue is the console's alone (two consoles sharing a queue would share its alerts out between
 * them, so give each its own `alertsQueueName`).
 *
 * Nothing here stops the console: without a topic, or without permission to subscribe (on AWS it needs
 * sns:ListTopics, sns:Subscribe, sqs:CreateQueue, sqs:SetQueueAttributes, sqs:GetQueueAttributes,
 * sqs:ReceiveMessage and sqs:DeleteMessage), `status()` says why there are no alerts and the rest works.
 *
 * @example
 * const alerts = new AlertsFeed({ sns, sqs, queueName: 'ops-console-alerts' });
 * await alerts.start();
 * alerts.recent({ paymentId: 'pay_1' }); // [{ subject: 'PaymentToVend: a paid top-up could not be vended', ... }]
 * await alerts.close();
 */
import { createHash } from 'node:crypto';
import { ListTopicsCommand, type SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export interface Alert {
  /** The SNS message id: an alert delivered twice is kept once. */
  readonly messageId: string;
  readonly topicArn: string;
  readonly subject: string | null;
  readonly message: string;
  /** When SNS took it (its envelope's Timestamp), ISO 8601. */
  readonly publishedAt: string;
  readonly receivedAt: string;
  /** The payment it is about: the execution named in it (PaymentToVend names executions by payment id). */
  readonly paymentId: string | null;
}

export type AlertsState =
  /** Setting up the subscription. */
  | 'starting'
  | 'listening'
  /** No topic was given and none named OnCall was found. */
  | 'no_topic'
  /** AWS refused a call the subscription needs (on AWS, the operator's permissions). */
  | 'not_permitted'
  | 'failed'
  | 'stopped';

export interface AlertsStatus {
  readonly state: AlertsState;
  readonly topicArn: string | null;
  readonly queueName: string;
  /** In words, what the state means for the operator (why there are no alerts). */
  readonly note: string | null;
}

export interface AlertsFeedOptions {
  readonly sns: SNSClient;
  readonly sqs: SQSClient;
  /** The topic to follow; default: found by name. */
  readonly topicArn?: string | undefined;
  readonly queueName: string;
  /** Alerts kept in memory. @default 200 */
  readonly capacity?: number;
  /** Long-poll wait per receive. @default 10 */
  readonly waitSeconds?: number;
  /** Wait before trying again after a failed start, or when there was no topic yet. @default 30000 */
  readonly restartMs?: number;
  readonly log?: { warn(object: object, message: string): void; info(object: object, message: string): void };
}

/** The name the topology gives the on-call topic (system/topology.ts). */
export const ON_CALL_TOPIC_NAME = 'OnCall';
const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'AuthorizationError',
  'AuthorizationErrorException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredTokenException',
]);
const MAX_BACKOFF_MS = 30_000;
/** How long after a failed start (or no topic yet) the feed tries again: the topic may come later. */
const RESTART_MS = 30_000;

export class AlertsFeed {
  readonly #sns: SNSClient;
  readonly #sqs: SQSClient;
  readonly #configuredTopicArn: string | undefined;
  readonly #queueName: string;
  readonly #capacity: number;
  readonly #waitSeconds: number;
  readonly #restartMs: number;
  readonly #log: NonNullable<AlertsFeedOptions['log']> | undefined;
  readonly #stopping = new AbortController();
  /** Newest first. */
  #alerts: Alert[] = [];
  #status: AlertsStatus;
  #polling: Promise<void> | undefined;
  #restart: ReturnType<typeof setTimeout> | undefined;

  constructor(options: AlertsFeedOptions) {
    this.#sns = options.sns;
    this.#sqs = options.sqs;
    this.#configuredTopicArn = options.topicArn;
    this.#queueName = options.queueName;
    this.#capacity = options.capacity ?? 200;
    this.#waitSeconds = options.waitSeconds ?? 10;
    this.#restartMs = options.restartMs ?? RESTART_MS;
    this.#log = options.log;
    this.#status = { state: 'starting', topicArn: null, queueName: options.queueName, note: null };
  }

  /**
   * Finds the topic, subscribes the console's queue and starts polling it. Never throws: what went wrong is in
   * `status()`. Without a topic yet, or after a failure other than a refusal, it tries again every 30 s.
   */
  async start(): Promise<AlertsStatus> {
    await this.#start();
    const { state } = this.#status;
    if ((state === 'no_topic' || state === 'failed') && !this.#stopping.signal.aborted) {
      this.#restart = setTimeout(() => void this.start(), this.#restartMs);
      this.#restart.unref();
    }
    return this.#status;
  }

  async #start(): Promise<void> {
    let step = 'sns:ListTopics';
    try {
      const topicArn = this.#configuredTopicArn ?? (await this.#findTopic());
      if (topicArn === undefined) {
        this.#setStatus(
          'no_topic',
          null,
          `No SNS topic named ${ON_CALL_TOPIC_NAME} here (looking again every ${this.#restartMs / 1000} s): pass --alerts-topic-arn to follow another.`,
        );
        return;
      }
      step = 'sqs:CreateQueue';
      const { QueueUrl: queueUrl } = await this.#sqs.send(
        new CreateQueueCommand({ QueueName: this.#queueName }),
        { abortSignal: this.#stopping.signal },
      );
      if (queueUrl === undefined) throw new Error('CreateQueue gave no QueueUrl');
      step = 'sqs:GetQueueAttributes';
      const { Attributes: attributes = {} } = await this.#sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
        { abortSignal: this.#stopping.signal },
      );
      const queueArn = attributes.QueueArn;
      if (queueArn === undefined) throw new Error('GetQueueAttributes gave no QueueArn');
      step = 'sqs:SetQueueAttributes';
      await this.#sqs.send(
        new SetQueueAttributesCommand({
          QueueUrl: queueUrl,
          Attributes: { Policy: JSON.stringify(queuePolicy(queueArn, topicArn)) },
        }),
        { abortSignal: this.#stopping.signal },
      );
      step = 'sns:Subscribe';
      await this.#sns.send(
        new SubscribeCommand({
          TopicArn: topicArn,
          Protocol: 'sqs',
          Endpoint: queueArn,
          ReturnSubscriptionArn: true,
        }),
        { abortSignal: this.#stopping.signal },
      );
      if (this.#stopping.signal.aborted) return;
      this.#setStatus('listening', topicArn, null);
      this.#polling = this.#poll(queueUrl, topicArn);
    } catch (error) {
      if (this.#stopping.signal.aborted) {
        this.#setStatus('stopped', this.#status.topicArn, null);
      } else if (isAccessDenied(error)) {
        this.#setStatus(
          'not_permitted',
          this.#status.topicArn,
          `Not permitted to follow the on-call alerts (${step} was refused): the console needs sns:ListTopics, sns:Subscribe and sqs:CreateQueue, SetQueueAttributes, GetQueueAttributes, ReceiveMessage and DeleteMessage on its own queue.`,
        );
      } else {
        this.#setStatus(
          'failed',
          this.#status.topicArn,
          `Could not follow the on-call alerts: ${step} failed (${describe(error)}); trying again every ${this.#restartMs / 1000} s.`,
        );
        this.#log?.warn({ err: error, step }, 'alerts: could not subscribe');
      }
    }
  }

  status(): AlertsStatus {
    return this.#status;
  }

  /** The alerts kept, newest first; only those about a payment when one is given. */
  recent({ paymentId, limit }: { paymentId?: string | undefined; limit?: number | undefined } = {}): Alert[] {
    const about =
      paymentId === undefined
        ? this.#alerts
        : this.#alerts.filter((alert) => alert.paymentId === paymentId || alert.message.includes(paymentId));
    return about.slice(0, limit ?? this.#capacity);
  }

  /** Takes in one SQS message's body (the SNS envelope); exposed for tests. Answers whether it was new. */
  accept(body: string, receivedAt = new Date()): boolean {
    const alert = alertOf(body, receivedAt);
    if (alert === undefined || this.#alerts.some((each) => each.messageId === alert.messageId)) return false;
    this.#alerts = [alert, ...this.#alerts]
      .sort((a, b) => b.publishedAt.localeCompare(a.publishedAt))
      .slice(0, this.#capacity);
    return true;
  }

  async close(): Promise<void> {
    this.#stopping.abort();
    clearTimeout(this.#restart);
    await this.#polling?.catch(() => undefined);
    this.#setStatus('stopped', this.#status.topicArn, null);
  }

  async #findTopic(): Promise<string | undefined> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.#sns.send(new ListTopicsCommand({ NextToken: nextToken }), {
        abortSignal: this.#stopping.signal,
      });
      arns.push(
        ...(page.Topics ?? []).flatMap((topic) => (topic.TopicArn === undefined ? [] : [topic.TopicArn])),
      );
      nextToken = page.NextToken;
    } while (nextToken !== undefined && arns.length < 10_000);
    const nameOf = (arn: string) => arn.split(':').at(-1) ?? '';
    return (
      arns.find((arn) => nameOf(arn) === ON_CALL_TOPIC_NAME) ??
      arns.find((arn) => nameOf(arn).includes(ON_CALL_TOPIC_NAME))
    );
  }

  async #poll(queueUrl: string, topicArn: string): Promise<void> {
    let failures = 0;
    while (!this.#stopping.signal.aborted) {
      try {
        const { Messages: messages = [] } = await this.#sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: this.#waitSeconds,
            VisibilityTimeout: 30,
          }),
          { abortSignal: this.#stopping.signal },
        );
        const now = new Date();
        for (const message of messages) this.accept(message.Body ?? '', now);
        if (messages.length > 0) {
          await this.#sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: messages.map((message, index) => ({
                Id: String(index),
                ReceiptHandle: message.ReceiptHandle ?? '',
              })),
            }),
            { abortSignal: this.#stopping.signal },
          );
        }
        if (failures > 0) this.#setStatus('listening', topicArn, null);
        failures = 0;
      } catch (error) {
        if (this.#stopping.signal.aborted) return;
        failures += 1;
        const denied = isAccessDenied(error);
        this.#setStatus(
          denied ? 'not_permitted' : 'listening',
          topicArn,
          denied
            ? `Not permitted to read the console's alerts queue (${describe(error)}): it needs sqs:ReceiveMessage and sqs:DeleteMessage.`
            : `Reading the alerts queue failed (${describe(error)}); trying again.`,
        );
        if (failures === 1) this.#log?.warn({ err: error }, 'alerts: reading the queue failed');
        await sleep(Math.min(1000 * 2 ** (failures - 1), MAX_BACKOFF_MS), this.#stopping.signal);
      }
    }
  }

  #setStatus(state: AlertsState, topicArn: string | null, note: string | null): void {
    this.#status = { state, topicArn, queueName: this.#queueName, note };
  }
}

/** Only the topic may send to the console's queue. */
function queuePolicy(queueArn: string, topicArn: string): object {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'OnCallAlertsToTheOpsConsole',
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
      },
    ],
  };
}

/**
 * An alert from an SQS message's body: the SNS envelope (`{ Type: 'Notification', MessageId, TopicArn, Subject,
 * Message, Timestamp }`), or, with raw message delivery, the message itself. Undefined for anything else.
 */
export function alertOf(body: string, receivedAt: Date): Alert | undefined {
  let envelope: Record<string, unknown>;
  try {
    envelope = JSON.parse(body) as Record<string, unknown>;
  } catch {
    envelope = {};
  }
  const isNotification =
    typeof envelope === 'object' &&
    envelope !== null &&
    envelope.Type === 'Notification' &&
    typeof envelope.Message === 'string';
  if (!isNotification && body.trim() === '') return undefined;
  const message = isNotification ? (envelope.Message as string) : body;
  const timestamp =
    isNotification && typeof envelope.Timestamp === 'string' ? Date.parse(envelope.Timestamp) : NaN;
  return {
    messageId:
      isNotification && typeof envelope.MessageId === 'string' ? envelope.MessageId : `raw-${hashOf(body)}`,
    topicArn: isNotification && typeof envelope.TopicArn === 'string' ? envelope.TopicArn : '',
    subject: isNotification && typeof envelope.Subject === 'string' ? envelope.Subject : null,
    message,
    publishedAt: new Date(Number.isFinite(timestamp) ? timestamp : receivedAt.getTime()).toISOString(),
    receivedAt: receivedAt.toISOString(),
    paymentId: paymentIdIn(message),
  };
}

/**
 * The payment an alert is about: the name of the PaymentToVend execution it names (`…:execution:<machine>:<name>`),
 * else the first payment id in it.
 */
export function paymentIdIn(message: string): string | null {
  const execution = /:execution:[^:\s]+:([A-Za-z0-9_-]{1,80})/.exec(message);
  if (execution?.[1] !== undefined) return execution[1];
  return /\b(pay_[A-Za-z0-9_-]{1,76})/.exec(message)?.[1] ?? null;
}

function hashOf(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 32);
}

function isAccessDenied(error: unknown): boolean {
  return error instanceof Error && ACCESS_DENIED.has(error.name);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

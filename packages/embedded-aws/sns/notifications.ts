/**
 * What the embedded SNS sends to a subscriber, and how: the notification envelope (the JSON document SNS
 * posts to HTTP/S endpoints and puts in SQS messages), the HTTP POST with SNS's headers, the SendMessage to
 * an embedded SQS queue, and the retry schedule.
 *
 * The envelope is not signed: the local endpoint has no signing certificate. `Signature` is a placeholder
 * and `SigningCertURL` names a certificate that does not exist, so code that verifies signatures must skip
 * that check locally. `UnsubscribeURL` works: a GET of it unsubscribes, as on AWS.
 */
import { randomUUID } from 'node:crypto';
import { AwsError } from '../aws/errors.ts';
import type { JsonProtocolService } from '../aws/server.ts';

/** An SNS message attribute as Publish takes it; BinaryValue is base64. */
export interface MessageAttributeValue {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: string;
}

/** What a subscriber is sent for one published message. */
export interface Notification {
  readonly messageId: string;
  readonly topicArn: string;
  readonly subscriptionArn: string;
  readonly subject?: string;
  /** The message for this subscription's protocol (MessageStructure json picks it per protocol). */
  readonly message: string;
  readonly messageAttributes?: Readonly<Record<string, MessageAttributeValue>>;
  readonly publishedAt: number;
  readonly raw: boolean;
}

/** How one attempt ended: sent, refused for good (not retried), or thrown to be retried. */
export type DeliveryOutcome = { readonly delivered: true } | { readonly refused: string };

/** Sends notifications out of the process; each call is one attempt and rejects when it should be retried. */
export interface NotificationTransport {
  toQueue(
    queueArn: string,
    notification: Notification,
    envelope: string,
    signal: AbortSignal,
  ): Promise<DeliveryOutcome>;
  toUrl(
    url: string,
    notification: Notification,
    envelope: string,
    signal: AbortSignal,
  ): Promise<DeliveryOutcome>;
}

/** The placeholder in `Signature`: nothing here can sign. */
export const UNSIGNED = 'EMBEDDED-SNS-UNSIGNED';

/**
 * The JSON document SNS sends for a notification, with its members in SNS's order; `Subject` and
 * `MessageAttributes` only when there are any, as on AWS.
 *
 * @example
 * notificationEnvelope(notification, 'http://127.0.0.1:4566');
 * // {"Type":"Notification","MessageId":"…","TopicArn":"…","Message":"…","Timestamp":"…",…}
 */
export function notificationEnvelope(notification: Notification, endpoint: string): string {
  const attributes = Object.entries(notification.messageAttributes ?? {});
  const envelope = {
    Type: 'Notification',
    MessageId: notification.messageId,
    TopicArn: notification.topicArn,
    ...(notification.subject !== undefined ? { Subject: notification.subject } : {}),
    Message: notification.message,
    Timestamp: new Date(notification.publishedAt).toISOString(),
    SignatureVersion: '1',
    Signature: UNSIGNED,
    SigningCertURL: `${endpoint}/SimpleNotificationService-embedded-unsigned.pem`,
    UnsubscribeURL: `${endpoint}/?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(notification.subscriptionArn)}`,
    ...(attributes.length > 0
      ? {
          MessageAttributes: Object.fromEntries(
            attributes.map(([name, value]) => [
              name,
              { Type: value.DataType, Value: value.StringValue ?? value.BinaryValue ?? '' },
            ]),
          ),
        }
      : {}),
  };
  return JSON.stringify(envelope, null, 2);
}

/**
 * How long to wait after the `failures`-th failed attempt. AWS's schedule for the endpoints it manages (SQS,
 * Lambda): 3 retries at once, 2 a second apart, 10 backing off from 1 s to 20 s, then one every 20 s. AWS
 * gives up after 100,015 attempts (23 days), and on an HTTP/S endpoint by default after 3 retries 20 s apart;
 * locally every protocol follows the first schedule and never gives up, so a subscriber started late (or after
 * a restart) still gets everything.
 */
export function retryDelayMs(failures: number): number {
  if (failures <= 3) return 0;
  if (failures <= 5) return 1000;
  const step = failures - 5;
  if (step <= 10) return Math.round(1000 * 20 ** ((step - 1) / 9));
  return 20_000;
}

/** SNS waits this long for an HTTP/S endpoint to answer before it counts the attempt as failed. */
const HTTP_TIMEOUT_MS = 15_000;

/**
 * POSTs a notification as SNS does: the envelope (or, for raw delivery, the message) as `text/plain`, with
 * the `x-amz-sns-*` headers. SNS counts any status from 200 to 499 as the endpoint's answer and retries only
 * 5xx, timeouts and connection failures; a 3xx or 4xx is therefore final (reported as refused).
 *
 * @example
 * await postNotification('http://127.0.0.1:8080/alerts', notification, envelope, AbortSignal.timeout(1000));
 */
export async function postNotification(
  url: string,
  notification: Notification,
  envelope: string,
  signal?: AbortSignal,
): Promise<DeliveryOutcome> {
  const timeout = AbortSignal.timeout(HTTP_TIMEOUT_MS);
  const response = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
    headers: {
      'Content-Type': 'text/plain; charset=UTF-8',
      'User-Agent': 'Amazon Simple Notification Service Agent',
      'x-amz-sns-message-type': 'Notification',
      'x-amz-sns-message-id': notification.messageId,
      'x-amz-sns-topic-arn': notification.topicArn,
      'x-amz-sns-subscription-arn': notification.subscriptionArn,
      ...(notification.raw ? { 'x-amz-sns-rawdelivery': 'true' } : {}),
    },
    body: notification.raw ? notification.message : envelope,
  });
  // Read to the end, so the connection goes back to the pool.
  await response.arrayBuffer().catch(() => undefined);
  if (response.status >= 500) throw new Error(`${url} answered ${response.status}`);
  if (response.status >= 300) return { refused: `${url} answered ${response.status}` };
  return { delivered: true };
}

/**
 * Delivery to queues of the embedded SQS, through its own SendMessage (its checks, its journal: the message
 * is durable in SQS before the delivery counts as done). With raw delivery the message attributes become the
 * SQS message's attributes, as on AWS; otherwise they travel in the envelope. A missing queue is retried (it
 * may be created later); a message SQS refuses (too large, an attribute it cannot carry) is refused for good.
 *
 * @example
 * const toQueue = queueDelivery({ sqs: createSqsService(engine), endpoint, region, accountId });
 */
export function queueDelivery(options: {
  readonly sqs: JsonProtocolService;
  readonly endpoint: string;
  readonly region: string;
  readonly accountId: string;
}): NotificationTransport['toQueue'] {
  return async (queueArn, notification, envelope) => {
    const [, , , , account, name] = queueArn.split(':');
    const input = {
      QueueUrl: `${options.endpoint}/${account}/${name}`,
      MessageBody: notification.raw ? notification.message : envelope,
      ...(notification.raw && notification.messageAttributes !== undefined
        ? { MessageAttributes: notification.messageAttributes }
        : {}),
    };
    try {
      await options.sqs.handle('SendMessage', input, {
        requestId: randomUUID(),
        region: options.region,
        accountId: options.accountId,
      });
    } catch (error) {
      if (error instanceof AwsError && error.statusCode < 500 && error.name !== 'QueueDoesNotExist') {
        return { refused: `${queueArn} refused the message: ${error.name}: ${error.message}` };
      }
      throw error;
    }
    return { delivered: true };
  };
}

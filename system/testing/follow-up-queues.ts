/**
 * Test support: the follow-up queues (PaymentFailure, VendingFailure) read as an operator would, every message
 * taken off the queue and kept by payment, for tests that run their scenarios side by side. Each scenario's
 * look at a queue would otherwise hide the other scenarios' messages behind its visibility timeout.
 *
 * The machine sends a follow-up message before it tells the customer the final event, or waits for a decision,
 * so once a test has seen that, reading the queue to its end finds every message the payment will have had.
 *
 * @example
 * const followUps = new FollowUpQueues(sqs, system.queueUrls);
 * expect(await followUps.of('VendingFailure', paymentId)).toHaveLength(1);
 */
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

export type FollowUpQueue = 'PaymentFailure' | 'VendingFailure';

export class FollowUpQueues {
  readonly #sqs: SQSClient;
  readonly #queueUrls: Readonly<Record<string, string>>;
  /** The messages read so far, by queue and payment. */
  readonly #kept = new Map<string, unknown[]>();
  /** One read at a time: two reads side by side would each take messages the other is waiting for. */
  #reading: Promise<void> = Promise.resolve();

  constructor(sqs: SQSClient, queueUrls: Readonly<Record<string, string>>) {
    this.#sqs = sqs;
    this.#queueUrls = queueUrls;
  }

  /** Every message `queue` has had about `paymentId`, its body parsed. */
  async of(queue: FollowUpQueue, paymentId: string): Promise<unknown[]> {
    const read = this.#reading.then(() => this.#readToTheEnd(queue));
    this.#reading = read.catch(() => undefined); // a failed read fails its own test, not every one after it
    await read;
    return this.#kept.get(`${queue}/${paymentId}`) ?? [];
  }

  async #readToTheEnd(queue: FollowUpQueue): Promise<void> {
    const QueueUrl = this.#queueUrls[queue];
    for (;;) {
      const { Messages = [] } = await this.#sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }),
      );
      if (Messages.length === 0) return;
      for (const message of Messages) {
        const body = JSON.parse(message.Body ?? '{}') as { paymentId?: string };
        const key = `${queue}/${body.paymentId}`;
        this.#kept.set(key, [...(this.#kept.get(key) ?? []), body]);
        await this.#sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
      }
    }
  }
}

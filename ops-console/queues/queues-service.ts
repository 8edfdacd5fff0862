/**
 * The queues follow-ups arrive on (PaymentFailure, VendingFailure, their dead-letter queues, ...), with how many
 * messages each holds, over the SQS API. Read-only: taking messages off them is the follow-up's job.
 *
 * @example
 * const queues = await new QueuesService({ sqs }).depths();
 * // [{ name: 'VendingFailure', visible: 2, inFlight: 0, delayed: 0, deadLetterTarget: 'VendingFailure-dlq' }, ...]
 */
import { GetQueueAttributesCommand, ListQueuesCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface QueueDepth {
  readonly name: string;
  readonly queueUrl: string;
  /** Waiting to be received (ApproximateNumberOfMessages). */
  readonly visible: number;
  /** Received and not yet deleted. */
  readonly inFlight: number;
  readonly delayed: number;
  /** The dead-letter queue its failed messages move to, by name. */
  readonly deadLetterTarget: string | null;
}

/** A real account may hold many queues; the console shows the first this many, by name. */
const MAX_QUEUES = 200;

export class QueuesService {
  readonly #sqs: SQSClient;

  constructor({ sqs }: { sqs: SQSClient }) {
    this.#sqs = sqs;
  }

  async depths({ namePrefix }: { namePrefix?: string | undefined } = {}): Promise<QueueDepth[]> {
    const urls: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.#sqs.send(
        new ListQueuesCommand({ QueueNamePrefix: namePrefix, MaxResults: 1000, NextToken: nextToken }),
      );
      urls.push(...(page.QueueUrls ?? []));
      nextToken = page.NextToken;
    } while (nextToken !== undefined && urls.length < MAX_QUEUES);
    const depths = await Promise.all(urls.slice(0, MAX_QUEUES).map((queueUrl) => this.#depthOf(queueUrl)));
    return depths.sort((a, b) => a.name.localeCompare(b.name));
  }

  async #depthOf(queueUrl: string): Promise<QueueDepth> {
    const { Attributes: attributes = {} } = await this.#sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
          'RedrivePolicy',
        ],
      }),
    );
    return {
      name: queueUrl.split('/').at(-1) ?? queueUrl,
      queueUrl,
      visible: Number(attributes.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0),
      deadLetterTarget: deadLetterTargetOf(attributes.RedrivePolicy),
    };
  }
}

function deadLetterTargetOf(redrivePolicy: string | undefined): string | null {
  if (redrivePolicy === undefined) return null;
  try {
    const { deadLetterTargetArn } = JSON.parse(redrivePolicy) as { deadLetterTargetArn?: unknown };
    return typeof deadLetterTargetArn === 'string' ? (deadLetterTargetArn.split(':').at(-1) ?? null) : null;
  } catch {
    return null;
  }
}

/**
 * Dead-letter queue redrive through the real SQSClient: StartMessageMoveTask (back to each message's source
 * queue, or to a destination), ListMessageMoveTasks, CancelMessageMoveTask, their errors, the query protocol's
 * form of them, and ListDeadLetterSourceQueues. Tasks run in the background on real timers, so tests wait for a
 * task's status rather than for a time.
 */
import {
  CancelMessageMoveTaskCommand,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ListDeadLetterSourceQueuesCommand,
  ListMessageMoveTasksCommand,
  type ListMessageMoveTasksResultEntry,
  type Message,
  ReceiveMessageCommand,
  ResourceNotFoundException,
  SendMessageBatchCommand,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
  UnsupportedOperation,
} from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { attachSqsQueryProtocol } from '../query-protocol.ts';
import { errorOf, type RunningSqs, startSqs } from './support.ts';

const ARN_PREFIX = 'arn:aws:sqs:us-east-1:000000000000';

let sqs: RunningSqs;
beforeEach(async () => {
  sqs = await startSqs();
});
afterEach(async () => {
  await sqs.close();
});

interface Queue {
  readonly url: string;
  readonly arn: string;
}

async function queue(name: string, Attributes: Record<string, string> = {}): Promise<Queue> {
  const { QueueUrl } = await sqs.client.send(new CreateQueueCommand({ QueueName: name, Attributes }));
  return { url: QueueUrl!, arn: `${ARN_PREFIX}:${name}` };
}

/** A queue that dead-letters a message on its second receive, visible again at once after the first. */
async function sourceQueue(name: string, dlq: Queue): Promise<Queue> {
  return queue(name, {
    VisibilityTimeout: '0',
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 1 }),
  });
}

async function receiveAll(url: string, extra: { VisibilityTimeout?: number } = {}): Promise<Message[]> {
  const { Messages } = await sqs.client.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
      ...extra,
    }),
  );
  return Messages ?? [];
}

/** Sends `bodies` to `source` and receives them twice, which moves them to its dead-letter queue. */
async function deadLetter(source: Queue, bodies: readonly string[]): Promise<string[]> {
  const { Successful } = await sqs.client.send(
    new SendMessageBatchCommand({
      QueueUrl: source.url,
      Entries: bodies.map((body, index) => ({
        Id: `m${index}`,
        MessageBody: body,
        MessageAttributes: { meterId: { DataType: 'String', StringValue: `meter-${body}` } },
      })),
    }),
  );
  await receiveAll(source.url);
  expect(await receiveAll(source.url)).toEqual([]);
  return Successful!.map((entry) => entry.MessageId!);
}

async function tasksOf(source: Queue, MaxResults?: number): Promise<ListMessageMoveTasksResultEntry[]> {
  const { Results } = await sqs.client.send(
    new ListMessageMoveTasksCommand({ SourceArn: source.arn, ...(MaxResults ? { MaxResults } : {}) }),
  );
  return Results ?? [];
}

/** Waits until the queue's latest task has ended, and returns it. */
async function ended(source: Queue): Promise<ListMessageMoveTasksResultEntry> {
  return vi.waitFor(
    async () => {
      const [latest] = await tasksOf(source);
      expect(latest?.Status).not.toBe('RUNNING');
      return latest!;
    },
    { timeout: 10_000, interval: 20 },
  );
}

async function messageCount(target: Queue): Promise<number> {
  const { Attributes } = await sqs.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: target.url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes!.ApproximateNumberOfMessages) +
    Number(Attributes!.ApproximateNumberOfMessagesNotVisible)
  );
}

describe('StartMessageMoveTask', () => {
  it('moves a dead-lettered message back to its source queue, where it is received again as a new message', async () => {
    // Prepare
    const dlq = await queue('payments-dlq');
    const source = await sourceQueue('payments', dlq);
    const [originalId] = await deadLetter(source, ['top-up-1']);

    // Act
    const { TaskHandle } = await sqs.client.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn }));
    const task = await ended(dlq);
    const [redriven] = await receiveAll(source.url, { VisibilityTimeout: 60 });

    // Assess
    expect(TaskHandle).toEqual(expect.any(String));
    expect(task).toEqual({
      Status: 'COMPLETED',
      SourceArn: dlq.arn,
      ApproximateNumberOfMessagesMoved: 1,
      ApproximateNumberOfMessagesToMove: 1,
      StartedTimestamp: expect.any(Number),
    });
    expect(redriven!.Body).toBe('top-up-1');
    expect(redriven!.MessageAttributes).toEqual({
      meterId: { DataType: 'String', StringValue: 'meter-top-up-1' },
    });
    expect(redriven!.MessageId).not.toBe(originalId);
    expect(redriven!.Attributes!.ApproximateReceiveCount).toBe('1');
    expect(redriven!.Attributes!.DeadLetterQueueSourceArn).toBeUndefined();
    expect(await messageCount(dlq)).toBe(0);
  });

  it('returns each message to the queue it was dead-lettered from when one DLQ serves two queues', async () => {
    // Prepare
    const dlq = await queue('shared-dlq');
    const payments = await sourceQueue('payments', dlq);
    const vends = await sourceQueue('vends', dlq);
    await deadLetter(payments, ['p1', 'p2']);
    await deadLetter(vends, ['v1']);

    // Act
    await sqs.client.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn }));
    const task = await ended(dlq);
    const backInPayments = await receiveAll(payments.url, { VisibilityTimeout: 60 });
    const backInVends = await receiveAll(vends.url, { VisibilityTimeout: 60 });

    // Assess
    expect(task).toMatchObject({ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 3 });
    expect(backInPayments.map((message) => message.Body).sort()).toEqual(['p1', 'p2']);
    expect(backInVends.map((message) => message.Body)).toEqual(['v1']);
  });

  it('moves the messages to an explicit destination at the rate asked for', async () => {
    // Prepare
    const dlq = await queue('work-dlq');
    const source = await sourceQueue('work', dlq);
    const replay = await queue('replay');
    await deadLetter(source, ['a', 'b', 'c']);

    // Act
    await sqs.client.send(
      new StartMessageMoveTaskCommand({
        SourceArn: dlq.arn,
        DestinationArn: replay.arn,
        MaxNumberOfMessagesPerSecond: 100,
      }),
    );
    const task = await ended(dlq);
    const moved = await receiveAll(replay.url, { VisibilityTimeout: 60 });

    // Assess
    expect(task).toMatchObject({
      Status: 'COMPLETED',
      DestinationArn: replay.arn,
      MaxNumberOfMessagesPerSecond: 100,
      ApproximateNumberOfMessagesMoved: 3,
      ApproximateNumberOfMessagesToMove: 3,
    });
    expect(moved.map((message) => message.Body).sort()).toEqual(['a', 'b', 'c']);
    expect(await messageCount(source)).toBe(0);
  });

  it('moves FIFO messages back to their FIFO source queue, in their message group', async () => {
    // Prepare
    const dlq = await queue('orders-dlq.fifo', { FifoQueue: 'true' });
    const source = await queue('orders.fifo', {
      FifoQueue: 'true',
      ContentBasedDeduplication: 'true',
      VisibilityTimeout: '0',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 1 }),
    });
    for (const body of ['o1', 'o2']) {
      await sqs.client.send(
        new SendMessageCommand({ QueueUrl: source.url, MessageBody: body, MessageGroupId: 'meter-1' }),
      );
    }
    await receiveAll(source.url);
    await receiveAll(source.url);

    // Act
    await sqs.client.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn }));
    const task = await ended(dlq);
    const redriven = await receiveAll(source.url, { VisibilityTimeout: 60 });

    // Assess
    expect(task).toMatchObject({ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 2 });
    expect(redriven.map((message) => message.Body)).toEqual(['o1', 'o2']);
    expect(redriven.map((message) => message.Attributes!.MessageGroupId)).toEqual(['meter-1', 'meter-1']);
  });

  it('moves a message that was in flight once it is visible again', async () => {
    // Prepare
    const dlq = await queue('slow-dlq');
    const source = await sourceQueue('slow', dlq);
    await deadLetter(source, ['inspected']);
    await receiveAll(dlq.url, { VisibilityTimeout: 1 });

    // Act
    await sqs.client.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn }));
    const task = await ended(dlq);

    // Assess
    expect(task).toMatchObject({ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 1 });
    expect((await receiveAll(source.url)).map((message) => message.Body)).toEqual(['inspected']);
  });

  it('fails, leaving the message where it is, when a message has no source queue to go back to', async () => {
    // Prepare: sent straight to the dead-letter queue, never dead-lettered
    const dlq = await queue('orphans-dlq');
    await sourceQueue('orphans', dlq);
    await sqs.client.send(new SendMessageCommand({ QueueUrl: dlq.url, MessageBody: 'orphan' }));

    // Act
    await sqs.client.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn }));
    const task = await ended(dlq);

    // Assess
    expect(task.Status).toBe('FAILED');
    expect(task.FailureReason).toContain('DestinationArn');
    expect(task.TaskHandle).toBeUndefined();
    expect(await messageCount(dlq)).toBe(1);
  });
});

describe('CancelMessageMoveTask and ListMessageMoveTasks', () => {
  it('cancels a running task: what moved stays moved, the rest stays in the dead-letter queue', async () => {
    // Prepare: one message a second, so the task is still running when cancelled
    const dlq = await queue('cancel-dlq');
    const source = await sourceQueue('cancel', dlq);
    await deadLetter(source, ['1', '2', '3', '4']);
    const { TaskHandle } = await sqs.client.send(
      new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, MaxNumberOfMessagesPerSecond: 1 }),
    );
    const [running] = await tasksOf(dlq);

    // Act
    const cancelled = await sqs.client.send(new CancelMessageMoveTaskCommand({ TaskHandle }));
    const [task] = await tasksOf(dlq);
    const again = await errorOf(sqs.client.send(new CancelMessageMoveTaskCommand({ TaskHandle })));

    // Assess
    expect(running).toMatchObject({ Status: 'RUNNING', TaskHandle, ApproximateNumberOfMessagesToMove: 4 });
    const moved = cancelled.ApproximateNumberOfMessagesMoved!;
    expect(task).toMatchObject({ Status: 'CANCELLED', ApproximateNumberOfMessagesMoved: moved });
    expect(task!.TaskHandle).toBeUndefined();
    expect(await messageCount(source)).toBe(moved);
    expect(await messageCount(dlq)).toBe(4 - moved);
    expect(again).toBeInstanceOf(UnsupportedOperation);
  });

  it('lists the most recent tasks first: one by default, up to MaxResults', async () => {
    // Prepare
    const dlq = await queue('listed-dlq');
    const source = await sourceQueue('listed', dlq);
    const replay = await queue('listed-replay');
    await deadLetter(source, ['first']);
    await sqs.client.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn }));
    await ended(dlq);
    await deadLetter(source, ['second']);
    await sqs.client.send(
      new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, DestinationArn: replay.arn }),
    );
    await ended(dlq);

    // Act
    const latest = await tasksOf(dlq);
    const all = await tasksOf(dlq, 10);

    // Assess
    expect(latest).toHaveLength(1);
    expect(latest[0]!.DestinationArn).toBe(replay.arn);
    expect(all.map((task) => task.DestinationArn)).toEqual([replay.arn, undefined]);
    expect(all.every((task) => task.Status === 'COMPLETED')).toBe(true);
  });

  it('lists no tasks for a queue that never had one', async () => {
    // Prepare
    const plain = await queue('plain');

    // Act
    const tasks = await tasksOf(plain, 10);

    // Assess
    expect(tasks).toEqual([]);
  });
});

describe('errors', () => {
  it('refuses a source that is not a dead-letter queue, or that does not exist, with ResourceNotFoundException', async () => {
    // Prepare
    const plain = await queue('not-a-dlq');

    // Act
    const notDlq = await errorOf(sqs.client.send(new StartMessageMoveTaskCommand({ SourceArn: plain.arn })));
    const missing = await errorOf(
      sqs.client.send(new StartMessageMoveTaskCommand({ SourceArn: `${ARN_PREFIX}:nowhere` })),
    );
    const listMissing = await errorOf(
      sqs.client.send(new ListMessageMoveTasksCommand({ SourceArn: `${ARN_PREFIX}:nowhere` })),
    );

    // Assess
    for (const error of [notDlq, missing, listMissing]) {
      expect(error).toBeInstanceOf(ResourceNotFoundException);
      expect(error.name).toBe('ResourceNotFoundException');
      expect((error.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(404);
    }
  });

  it('refuses a missing destination with ResourceNotFoundException, and one of another type or the source itself with InvalidParameterValue', async () => {
    // Prepare
    const dlq = await queue('errors-dlq');
    await sourceQueue('errors', dlq);
    const fifo = await queue('other.fifo', { FifoQueue: 'true' });
    const start = (DestinationArn: string) =>
      errorOf(sqs.client.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, DestinationArn })));

    // Act
    const missing = await start(`${ARN_PREFIX}:nowhere`);
    const otherType = await start(fifo.arn);
    const itself = await start(dlq.arn);

    // Assess
    expect(missing.name).toBe('ResourceNotFoundException');
    expect(otherType.name).toBe('InvalidParameterValue');
    expect(itself.name).toBe('InvalidParameterValue');
  });

  it.each([
    [{ SourceArn: 'payments-dlq' }, 'InvalidParameterValue'],
    [{ SourceArn: `${ARN_PREFIX}:errors-dlq`, MaxNumberOfMessagesPerSecond: 501 }, 'InvalidParameterValue'],
    [{ SourceArn: `${ARN_PREFIX}:errors-dlq`, MaxNumberOfMessagesPerSecond: 0 }, 'InvalidParameterValue'],
    [{}, 'MissingParameter'],
  ])('refuses StartMessageMoveTask %j with %s', async (input, name) => {
    // Prepare
    const dlq = await queue('errors-dlq');
    await sourceQueue('errors', dlq);

    // Act
    const error = await errorOf(sqs.client.send(new StartMessageMoveTaskCommand(input as never)));

    // Assess
    expect(error.name).toBe(name);
  });

  it('refuses a second task while one runs for the queue with UnsupportedOperation', async () => {
    // Prepare
    const dlq = await queue('busy-dlq');
    const source = await sourceQueue('busy', dlq);
    await deadLetter(source, ['1', '2', '3']);
    await sqs.client.send(
      new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, MaxNumberOfMessagesPerSecond: 1 }),
    );

    // Act
    const error = await errorOf(sqs.client.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn })));

    // Assess
    expect(error).toBeInstanceOf(UnsupportedOperation);
    expect((error.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(400);
  });

  it('refuses to cancel an unknown task (ResourceNotFoundException) or a handle that is not one (InvalidParameterValue)', async () => {
    // Prepare
    const unknownHandle = Buffer.from(`${crypto.randomUUID()}\n${ARN_PREFIX}:q`).toString('base64');

    // Act
    const unknown = await errorOf(
      sqs.client.send(new CancelMessageMoveTaskCommand({ TaskHandle: unknownHandle })),
    );
    const malformed = await errorOf(
      sqs.client.send(new CancelMessageMoveTaskCommand({ TaskHandle: 'nope' })),
    );

    // Assess
    expect(unknown.name).toBe('ResourceNotFoundException');
    expect(malformed.name).toBe('InvalidParameterValue');
  });

  it('refuses ListMessageMoveTasks with MaxResults over 10', async () => {
    // Prepare
    const dlq = await queue('max-dlq');

    // Act
    const error = await errorOf(
      sqs.client.send(new ListMessageMoveTasksCommand({ SourceArn: dlq.arn, MaxResults: 11 })),
    );

    // Assess
    expect(error.name).toBe('InvalidParameterValue');
  });
});

describe('ListDeadLetterSourceQueues', () => {
  it('lists the queues whose RedrivePolicy names the queue, a page at a time', async () => {
    // Prepare
    const dlq = await queue('pages-dlq');
    const first = await sourceQueue('pages-a', dlq);
    const second = await sourceQueue('pages-b', dlq);
    await queue('pages-unrelated');

    // Act
    const page1 = await sqs.client.send(
      new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlq.url, MaxResults: 1 }),
    );
    const page2 = await sqs.client.send(
      new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlq.url, MaxResults: 1, NextToken: page1.NextToken }),
    );
    const none = await sqs.client.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: first.url }));

    // Assess
    expect(page1.queueUrls).toEqual([first.url]);
    expect(page1.NextToken).toEqual(expect.any(String));
    expect(page2.queueUrls).toEqual([second.url]);
    expect(page2.NextToken).toBeUndefined();
    expect(none.queueUrls).toEqual([]);
  });
});

describe('the query protocol', () => {
  /** What query-protocol clients of 2023 (boto3 1.28.x) send: a form body, answered in XML. */
  async function query(params: Record<string, string>): Promise<{ status: number; xml: string }> {
    const response = await fetch(`${sqs.endpoint}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: new URLSearchParams({ Version: '2012-11-05', ...params }).toString(),
    });
    return { status: response.status, xml: await response.text() };
  }

  it('starts, lists and cancels a move task', async () => {
    // Prepare
    attachSqsQueryProtocol(sqs.server, sqs.engine);
    const dlq = await queue('query-dlq');
    const source = await sourceQueue('query', dlq);
    await deadLetter(source, ['1', '2']);

    // Act
    const started = await query({
      Action: 'StartMessageMoveTask',
      SourceArn: dlq.arn,
      MaxNumberOfMessagesPerSecond: '1',
    });
    const taskHandle = /<TaskHandle>([^<]+)<\/TaskHandle>/.exec(started.xml)?.[1] ?? '';
    const listed = await query({ Action: 'ListMessageMoveTasks', SourceArn: dlq.arn, MaxResults: '10' });
    const cancelled = await query({ Action: 'CancelMessageMoveTask', TaskHandle: taskHandle });
    const refused = await query({ Action: 'StartMessageMoveTask', SourceArn: source.arn });

    // Assess
    expect(started.status).toBe(200);
    expect(started.xml).toContain('<StartMessageMoveTaskResult><TaskHandle>');
    expect(listed.xml).toMatch(
      /<ListMessageMoveTasksResult><ListMessageMoveTasksResultEntry><TaskHandle>[^<]+<\/TaskHandle><Status>RUNNING<\/Status><SourceArn>arn:aws:sqs:us-east-1:000000000000:query-dlq<\/SourceArn><MaxNumberOfMessagesPerSecond>1<\/MaxNumberOfMessagesPerSecond>/,
    );
    expect(listed.xml).toContain('<ApproximateNumberOfMessagesToMove>2</ApproximateNumberOfMessagesToMove>');
    expect(cancelled.status).toBe(200);
    expect(cancelled.xml).toMatch(
      /<CancelMessageMoveTaskResult><ApproximateNumberOfMessagesMoved>\d<\/ApproximateNumberOfMessagesMoved>/,
    );
    expect(refused.status).toBe(404);
    expect(refused.xml).toContain('<Code>ResourceNotFoundException</Code>');
  });
});

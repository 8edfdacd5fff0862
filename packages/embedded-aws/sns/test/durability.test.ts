/**
 * Crash and restart: the embedded AWS runs in a child process on a data directory and is killed with SIGKILL.
 * A publish SNS acknowledged before the kill, to a topic whose HTTP subscriber was down, reaches the
 * subscriber once the process is started again and the subscriber comes up.
 */
import {
  CreateTopicCommand,
  ListSubscriptionsByTopicCommand,
  PublishCommand,
  type SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ChildProcesses } from '../../testing/child-processes.ts';
import { packagePath } from '../../testing/package-path.ts';
import { eventually, type Subscriber, snsClient, startSubscriber } from './support.ts';

const FIXTURE = packagePath('testing/embedded-aws-process.ts');

const processes = new ChildProcesses();
const subscribers: Subscriber[] = [];

afterEach(async () => {
  processes.killAll();
  for (const subscriber of subscribers.splice(0)) await subscriber.stop();
});

afterAll(() => processes.removeTempDirs());

async function startAws(dataDir: string): Promise<{ client: SNSClient; kill(): Promise<void> }> {
  const running = await processes.start(FIXTURE, [dataDir]);
  const client = snsClient(running.value);
  return {
    client,
    async kill() {
      client.destroy();
      await running.kill();
    },
  };
}

describe('SNS survives kill -9', () => {
  it('delivers what it acknowledged before the kill to a subscriber that comes up after the restart', async () => {
    // Prepare
    const dataDir = processes.tempDir('sns-durability-');
    const subscriber = await startSubscriber({ listening: false });
    subscribers.push(subscriber);
    let aws = await startAws(dataDir);
    const { TopicArn } = await aws.client.send(new CreateTopicCommand({ Name: 'on-call' }));
    const { SubscriptionArn } = await aws.client.send(
      new SubscribeCommand({ TopicArn, Protocol: 'http', Endpoint: subscriber.url }),
    );
    const messageIds: string[] = [];
    for (const paymentId of ['p-1', 'p-2', 'p-3']) {
      const { MessageId } = await aws.client.send(
        new PublishCommand({
          TopicArn,
          Subject: 'Vend failed',
          Message: `payment ${paymentId} was not vended`,
        }),
      );
      messageIds.push(MessageId!);
    }

    // Act
    await aws.kill();
    aws = await startAws(dataDir);
    await subscriber.start();
    const accepted = await eventually(
      () => subscriber.accepted(),
      (posts) =>
        new Set(posts.map((post) => post.headers['x-amz-sns-message-id'])).size === messageIds.length,
      45_000,
    );
    const { Subscriptions } = await aws.client.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
    await aws.kill();

    // Assess
    expect(Subscriptions?.map((s) => s.SubscriptionArn)).toEqual([SubscriptionArn]);
    const byId = new Map(accepted.map((post) => [post.headers['x-amz-sns-message-id'], post]));
    expect([...byId.keys()].sort()).toEqual([...messageIds].sort());
    expect(
      messageIds.map((id) => {
        const envelope = JSON.parse(byId.get(id)!.body) as Record<string, unknown>;
        return [envelope.MessageId, envelope.TopicArn, envelope.Subject, envelope.Message];
      }),
    ).toEqual([
      [messageIds[0], TopicArn, 'Vend failed', 'payment p-1 was not vended'],
      [messageIds[1], TopicArn, 'Vend failed', 'payment p-2 was not vended'],
      [messageIds[2], TopicArn, 'Vend failed', 'payment p-3 was not vended'],
    ]);
    expect(byId.get(messageIds[0]!)!.headers['x-amz-sns-subscription-arn']).toBe(SubscriptionArn);
  }, 60_000);
});

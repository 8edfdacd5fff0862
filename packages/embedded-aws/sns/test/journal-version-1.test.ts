/**
 * A data directory written by the SNS of before the readable journal records (record version 1) still opens,
 * with everything a user would notice as it was. `fixtures/data-v1/` was written by that code (commit
 * b32516b), with a transport that delivered to SQS queues and failed every HTTP post, in two lives so that
 * both files hold records:
 * - first life, now the snapshot: topics `on-call` (DisplayName "On call", tag team=payments) and
 *   `old-topic`; `on-call` subscribed by a queue and by an HTTP URL with RawMessageDelivery, `old-topic` by
 *   a queue; message p-1 published to `on-call` (delivered to the queue, owed to the URL).
 * - second life, now the log: p-2 published (delivered to the queue, owed to the URL); DisplayName set to
 *   "On-call alerts"; `old-topic` deleted; a third subscription made and unsubscribed.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { NotificationTransport } from '../notifications.ts';
import { SnsEngine } from '../sns-engine.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/data-v1', import.meta.url));
const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:on-call';
const QUEUE_SUBSCRIPTION_ARN = `${TOPIC_ARN}:3acca935-91c9-4e3b-8e5b-562cb93d35f9`;
const URL_SUBSCRIPTION_ARN = `${TOPIC_ARN}:2dcfc14c-a019-485f-a677-87de0d045c29`;
const MESSAGE_IDS = ['8b607603-338b-40fa-b3a5-29d909d53ad9', '7c0cb7ec-8e0d-4ce1-a393-e3fdbd949bee'];

const quiet = { warn: () => {}, error: () => {} };
const engines: SnsEngine[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function copyOfFixture(): string {
  const dataDir = mkdtempSync(join(tmpdir(), 'sns-data-v1-'));
  dirs.push(dataDir);
  cpSync(FIXTURE, dataDir, { recursive: true });
  return dataDir;
}

async function open(dataDir: string, transport?: NotificationTransport): Promise<SnsEngine> {
  const engine = await SnsEngine.open({ dataDir, logger: quiet, ...(transport ? { transport } : {}) });
  engines.push(engine);
  return engine;
}

describe('SNS on a data directory written with record version 1', () => {
  it('keeps the topics, subscriptions, published messages and the deliveries still owed', async () => {
    // Prepare
    const dataDir = copyOfFixture();

    // Act
    const sns = await open(dataDir);

    // Assess
    expect(sns.topics()).toMatchObject([
      { topicArn: TOPIC_ARN, attributes: { DisplayName: 'On-call alerts' }, tags: { team: 'payments' } },
    ]);
    expect(sns.subscriptions()).toMatchObject([
      {
        subscriptionArn: QUEUE_SUBSCRIPTION_ARN,
        protocol: 'sqs',
        endpoint: 'arn:aws:sqs:us-east-1:000000000000:alerts',
      },
      { subscriptionArn: URL_SUBSCRIPTION_ARN, protocol: 'http', attributes: { RawMessageDelivery: 'true' } },
    ]);
    expect(sns.published()).toMatchObject([
      { messageId: MESSAGE_IDS[0], subject: 'Vend failed', message: 'payment p-1 was not vended' },
      {
        messageId: MESSAGE_IDS[1],
        message: 'payment p-2 was not vended',
        messageAttributes: { paymentId: { DataType: 'String', StringValue: 'p-2' } },
      },
    ]);
    expect(sns.owedDeliveries()).toEqual([
      { messageId: MESSAGE_IDS[0], subscriptionArn: URL_SUBSCRIPTION_ARN, failedAttempts: 0 },
      { messageId: MESSAGE_IDS[1], subscriptionArn: URL_SUBSCRIPTION_ARN, failedAttempts: 0 },
    ]);
  });

  it('delivers what was owed once the subscriber answers, and keeps it delivered in the rewritten directory', async () => {
    // Prepare
    const dataDir = copyOfFixture();
    const posted: string[] = [];
    let allPosted: () => void = () => {};
    const bothPosted = new Promise<void>((resolve) => {
      allPosted = resolve;
    });
    const transport: NotificationTransport = {
      toQueue: async () => ({ delivered: true }),
      toUrl: async (_url, notification) => {
        posted.push(notification.messageId);
        if (posted.length === 2) allPosted();
        return { delivered: true };
      },
    };

    // Act
    const delivering = await open(dataDir, transport);
    await bothPosted;
    await delivering.flushed();
    await delivering.close();
    const journal = readdirSync(dataDir)
      .map((name) => readFileSync(join(dataDir, name), 'utf8'))
      .join('');
    const reopened = await open(dataDir);

    // Assess
    expect(posted.sort()).toEqual([...MESSAGE_IDS].sort());
    expect(reopened.owedDeliveries()).toEqual([]);
    expect(reopened.published().map((message) => message.messageId)).toEqual(MESSAGE_IDS);
    expect(journal).toContain('"recordVersion":2');
    expect(journal).not.toMatch(/"t":/);
  });
});

/**
 * The AWS CLI v2 (Debian's, at /usr/bin/aws) against the embedded SQS: the commands an operator would type.
 * That CLI (2.9.19) predates SQS's JSON protocol and speaks the query protocol (form bodies, XML answers),
 * so the server here has `attachSqsQueryProtocol` in front, as the embedded AWS will.
 * The CLI runs asynchronously: a synchronous child would block the event loop that has to answer it.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsServer } from '../../aws/server.ts';
import { AWS_CLI_INSTALLED, awsCli, cliTimeout, warnIfCliMissing } from '../../testing/aws-cli.ts';
import { attachSqsQueryProtocol } from '../query-protocol.ts';
import { SqsEngine } from '../sqs-engine.ts';
import { createSqsService, SQS_ACTIONS } from '../sqs-service.ts';

warnIfCliMissing('sqs/test/aws-cli.test.ts');

describe.skipIf(!AWS_CLI_INSTALLED)('the AWS CLI v2 at /usr/bin/aws against SQS', () => {
  let endpoint = '';
  let engine: SqsEngine | undefined;
  let close: () => Promise<void> = async () => {};

  beforeAll(async () => {
    const server = createAwsServer({
      services: [
        {
          targetPrefix: 'AmazonSQS',
          actions: SQS_ACTIONS,
          handle: (action, input, context) => createSqsService(engine!).handle(action, input, context),
        },
      ],
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    engine = await SqsEngine.open({ dataDir: null, endpoint });
    attachSqsQueryProtocol(server, engine);
    close = async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await engine!.close();
    };
  });

  afterAll(async () => {
    await close();
  });

  const aws = (...args: string[]) => awsCli(endpoint, 'sqs', ...args);

  it('creates a queue, sends, receives and deletes a message', { timeout: cliTimeout(5) }, async () => {
    // Act
    const created = await aws(
      'create-queue',
      '--queue-name',
      'cli-queue',
      '--attributes',
      'VisibilityTimeout=45',
    );
    const queueUrl = (JSON.parse(created.stdout) as { QueueUrl: string }).QueueUrl;
    const sent = await aws(
      'send-message',
      '--queue-url',
      queueUrl,
      '--message-body',
      'top up <£10> & vend',
      '--message-attributes',
      '{"meter":{"DataType":"String","StringValue":"M-1"}}',
    );
    const received = await aws(
      'receive-message',
      '--queue-url',
      queueUrl,
      '--attribute-names',
      'All',
      '--message-attribute-names',
      'All',
      '--wait-time-seconds',
      '1',
    );
    const message = (JSON.parse(received.stdout) as { Messages: Record<string, unknown>[] }).Messages[0]!;
    const deleted = await aws(
      'delete-message',
      '--queue-url',
      queueUrl,
      '--receipt-handle',
      String(message.ReceiptHandle),
    );
    const attributes = await aws('get-queue-attributes', '--queue-url', queueUrl, '--attribute-names', 'All');

    // Assess
    expect(created.exitCode).toBe(0);
    expect(queueUrl).toBe(`${endpoint}/000000000000/cli-queue`);
    expect(sent.exitCode).toBe(0);
    expect(JSON.parse(sent.stdout)).toMatchObject({
      MessageId: expect.any(String),
      MD5OfMessageBody: expect.any(String),
    });
    expect(message.Body).toBe('top up <£10> & vend');
    expect(message.MessageAttributes).toEqual({ meter: { DataType: 'String', StringValue: 'M-1' } });
    expect((message.Attributes as Record<string, string>).ApproximateReceiveCount).toBe('1');
    expect(deleted.exitCode).toBe(0);
    expect(JSON.parse(attributes.stdout).Attributes).toMatchObject({
      VisibilityTimeout: '45',
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });

  it('sends a batch and lists queues', { timeout: cliTimeout(3) }, async () => {
    // Prepare
    const queueUrl = (
      JSON.parse((await aws('create-queue', '--queue-name', 'cli-batch')).stdout) as { QueueUrl: string }
    ).QueueUrl;

    // Act
    const batch = await aws(
      'send-message-batch',
      '--queue-url',
      queueUrl,
      '--entries',
      'Id=a,MessageBody=one',
      'Id=b,MessageBody=two,DelaySeconds=901',
    );
    const listed = await aws('list-queues', '--queue-name-prefix', 'cli-');

    // Assess
    const result = JSON.parse(batch.stdout) as {
      Successful: { Id: string }[];
      Failed: { Id: string; Code: string }[];
    };
    expect(result.Successful.map((entry) => entry.Id)).toEqual(['a']);
    expect(result.Failed).toMatchObject([{ Id: 'b', Code: 'InvalidParameterValue', SenderFault: true }]);
    expect(JSON.parse(listed.stdout).QueueUrls).toEqual([
      `${endpoint}/000000000000/cli-batch`,
      `${endpoint}/000000000000/cli-queue`,
    ]);
  });

  it('reports a missing queue as AWS.SimpleQueueService.NonExistentQueue', {
    timeout: cliTimeout(1),
  }, async () => {
    // Act
    const result = await aws('get-queue-url', '--queue-name', 'no-such-queue');

    // Assess
    expect(result.exitCode).toBe(254);
    expect(result.stderr).toContain('AWS.SimpleQueueService.NonExistentQueue');
    expect(result.stderr).toContain('The specified queue does not exist.');
  });
});

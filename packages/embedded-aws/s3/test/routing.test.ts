/**
 * S3 on the shared endpoint: requests signed for `s3` reach S3 (by their Authorization header, or a presigned
 * URL's X-Amz-Credential), while requests signed for the other services still reach theirs.
 */
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunningAws, rawS3Request, startAws } from './support.ts';

const CLIENT_OPTIONS = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  maxAttempts: 1,
};

let running: RunningAws;
beforeEach(async () => {
  running = await startAws();
  await running.s3.send(new CreateBucketCommand({ Bucket: 'shared' }));
});
afterEach(async () => {
  await running.close();
});

describe('the shared endpoint', () => {
  it('serves a presigned-style URL, whose credential scope is in its query, with response overrides', async () => {
    // Prepare
    await running.s3.send(new PutObjectCommand({ Bucket: 'shared', Key: 'report.csv', Body: 'a,b\n1,2\n' }));
    const query = new URLSearchParams({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'test/20260101/us-east-1/s3/aws4_request',
      'X-Amz-Date': '20260101T000000Z',
      'X-Amz-Expires': '900',
      'X-Amz-SignedHeaders': 'host',
      'X-Amz-Signature': '0'.repeat(64),
      'response-content-type': 'text/csv',
    });

    // Act
    const response = await fetch(`${running.aws.endpoint}/shared/report.csv?${query}`);

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv');
    expect(await response.text()).toBe('a,b\n1,2\n');
  });

  it('leaves requests signed for SQS and SNS to them', async () => {
    // Prepare
    const sqs = new SQSClient({ endpoint: running.aws.endpoint, ...CLIENT_OPTIONS });
    const sns = new SNSClient({ endpoint: running.aws.endpoint, ...CLIENT_OPTIONS });

    // Act
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'shared' }));
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'shared' }));
    const listed = await rawS3Request(running.aws.endpoint, '/');
    sqs.destroy();
    sns.destroy();

    // Assess
    expect(QueueUrl).toMatch(/\/000000000000\/shared$/);
    expect(TopicArn).toBe('arn:aws:sns:us-east-1:000000000000:shared');
    expect(await listed.text()).toContain('<Name>shared</Name>');
  });

  it('answers a method S3 does not have with MethodNotAllowed (405)', async () => {
    // Act
    const response = await rawS3Request(running.aws.endpoint, '/shared/a.json', { method: 'PATCH' });
    const xml = await response.text();

    // Assess
    expect(response.status).toBe(405);
    expect(xml).toContain('<Code>MethodNotAllowed</Code>');
  });
});

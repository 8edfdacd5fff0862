/**
 * The S3 engine as other embedded services use it, in-process (the Step Functions distributed Map's
 * ItemReader reads and lists objects, its ResultWriter writes them): what it writes, the SDK reads, and the
 * other way round; its errors are S3's codes; an object over its size limit is refused, in-process and over
 * HTTP.
 */
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAwsServer } from '../../aws/server.ts';
import { S3Error } from '../errors.ts';
import { createS3Service } from '../rest-protocol.ts';
import { S3Engine } from '../s3-engine.ts';
import { errorOf, type RunningAws, s3Client, startAws } from './support.ts';

let running: RunningAws;
beforeEach(async () => {
  running = await startAws();
});
afterEach(async () => {
  await running.close();
});

describe('the S3 engine in-process', () => {
  it('reads what the SDK wrote, and the SDK reads what it wrote', async () => {
    // Prepare
    const s3 = running.aws.s3;
    await running.s3.send(new CreateBucketCommand({ Bucket: 'map-runs' }));
    await running.s3.send(
      new PutObjectCommand({
        Bucket: 'map-runs',
        Key: 'input/items.json',
        Body: '[{"id":1},{"id":2}]',
        ContentType: 'application/json',
      }),
    );

    // Act
    const items = s3.getObject('map-runs', 'input/items.json');
    const written = await s3.putObject({
      bucket: 'map-runs',
      key: 'output/run-1/SUCCEEDED_0.json',
      body: JSON.stringify([{ id: 1, ok: true }]),
      contentType: 'application/json',
      metadata: { 'Map-Run': 'run-1' },
    });
    const got = await running.s3.send(
      new GetObjectCommand({ Bucket: 'map-runs', Key: 'output/run-1/SUCCEEDED_0.json' }),
    );

    // Assess
    expect(items.body.toString('utf8')).toBe('[{"id":1},{"id":2}]');
    expect(items.contentType).toBe('application/json');
    expect(items.size).toBe(19);
    expect(await got.Body!.transformToString()).toBe('[{"id":1,"ok":true}]');
    expect(got.ETag).toBe(written.etag);
    expect(got.Metadata).toEqual({ 'map-run': 'run-1' });
  });

  it('lists objects a page at a time with common prefixes', async () => {
    // Prepare
    const s3 = running.aws.s3;
    await s3.createBucket('map-runs');
    for (const key of ['csv/a.csv', 'csv/b.csv', 'csv/c.csv', 'csv/nested/d.csv', 'json/e.json']) {
      await s3.putObject({ bucket: 'map-runs', key, body: key });
    }

    // Act
    const first = s3.listObjects({ bucket: 'map-runs', prefix: 'csv/', delimiter: '/', maxKeys: 2 });
    const second = s3.listObjects({
      bucket: 'map-runs',
      prefix: 'csv/',
      delimiter: '/',
      maxKeys: 2,
      continuationToken: first.nextContinuationToken!,
    });

    // Assess
    expect(first.contents.map((object) => object.key)).toEqual(['csv/a.csv', 'csv/b.csv']);
    expect(first.isTruncated).toBe(true);
    expect(second.contents.map((object) => object.key)).toEqual(['csv/c.csv']);
    expect(second.commonPrefixes).toEqual(['csv/nested/']);
    expect(second.isTruncated).toBe(false);
    expect(second.nextContinuationToken).toBeUndefined();
  });

  it("throws S3's errors, named by their codes", async () => {
    // Prepare
    const s3 = running.aws.s3;
    await s3.createBucket('map-runs');

    // Act
    const noKey = await errorOf(Promise.resolve().then(() => s3.getObject('map-runs', 'missing.json')));
    const noBucket = await errorOf(Promise.resolve().then(() => s3.listObjects({ bucket: 'missing' })));
    const badName = await errorOf(s3.createBucket('Not Valid'));

    // Assess
    expect(noKey).toBeInstanceOf(S3Error);
    expect([noKey.name, noKey.statusCode]).toEqual(['NoSuchKey', 404]);
    expect([noBucket.name, noBucket.statusCode]).toEqual(['NoSuchBucket', 404]);
    expect([badName.name, badName.statusCode]).toEqual(['InvalidBucketName', 400]);
  });
});

describe('the largest object', () => {
  it('refuses an object over the limit with EntityTooLarge (400), in-process and through the SDK', async () => {
    // Prepare
    const engine = await S3Engine.open({ dataDir: null, maxObjectBytes: 1024 });
    await engine.createBucket('small');
    const server = createAwsServer({ services: [], signedServices: [createS3Service(engine)] });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const client = s3Client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);

    // Act
    const inProcess = await errorOf(
      engine.putObject({ bucket: 'small', key: 'big', body: 'x'.repeat(1025) }),
    );
    const overHttp = await errorOf(
      client.send(new PutObjectCommand({ Bucket: 'small', Key: 'big', Body: 'x'.repeat(200_000) })),
    );
    const fits = await client.send(
      new PutObjectCommand({ Bucket: 'small', Key: 'fits', Body: 'x'.repeat(1024) }),
    );
    client.destroy();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await engine.close();

    // Assess
    expect([inProcess.name, inProcess.statusCode]).toEqual(['EntityTooLarge', 400]);
    expect(overHttp.name).toBe('EntityTooLarge');
    expect(overHttp.$metadata?.httpStatusCode).toBe(400);
    expect(fits.$metadata.httpStatusCode).toBe(200);
  });
});

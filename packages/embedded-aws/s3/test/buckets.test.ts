/**
 * Buckets through the real `@aws-sdk/client-s3` (path-style) against the embedded AWS: CreateBucket,
 * HeadBucket, ListBuckets, GetBucketLocation and DeleteBucket, and the errors S3 answers them with.
 */
import {
  BucketAlreadyOwnedByYou,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetBucketLocationCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  NoSuchBucket,
  NotFound,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorOf, type RunningAws, s3Client, startAws } from './support.ts';

let running: RunningAws;
beforeEach(async () => {
  running = await startAws();
});
afterEach(async () => {
  await running.close();
});

describe('CreateBucket and HeadBucket', () => {
  it('creates a bucket that HeadBucket then finds, in the region of the request', async () => {
    // Act
    const created = await running.s3.send(new CreateBucketCommand({ Bucket: 'distributed-map-items' }));
    const head = await running.s3.send(new HeadBucketCommand({ Bucket: 'distributed-map-items' }));

    // Assess
    expect(created.$metadata.httpStatusCode).toBe(200);
    expect(created.Location).toBe('/distributed-map-items');
    expect(head.$metadata.httpStatusCode).toBe(200);
    expect(head.BucketRegion).toBe('us-east-1');
  });

  it('creates a bucket in another region from that region with its LocationConstraint', async () => {
    // Prepare
    const regional = s3Client(running.aws.endpoint, { region: 'eu-west-1' });

    // Act
    await regional.send(
      new CreateBucketCommand({
        Bucket: 'results-eu',
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
      }),
    );
    const head = await regional.send(new HeadBucketCommand({ Bucket: 'results-eu' }));
    const location = await running.s3.send(new GetBucketLocationCommand({ Bucket: 'results-eu' }));
    regional.destroy();

    // Assess
    expect(head.BucketRegion).toBe('eu-west-1');
    expect(location.LocationConstraint).toBe('eu-west-1');
  });

  it('refuses a LocationConstraint other than the region of a regional request', async () => {
    // Prepare
    const regional = s3Client(running.aws.endpoint, { region: 'eu-west-1' });

    // Act
    const error = await errorOf(
      regional.send(
        new CreateBucketCommand({
          Bucket: 'results-eu',
          CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' },
        }),
      ),
    );
    regional.destroy();

    // Assess
    expect(error.name).toBe('IllegalLocationConstraintException');
    expect(error.$metadata?.httpStatusCode).toBe(400);
  });

  it('answers a us-east-1 bucket location as no constraint', async () => {
    // Prepare
    await running.s3.send(new CreateBucketCommand({ Bucket: 'items' }));

    // Act
    const location = await running.s3.send(new GetBucketLocationCommand({ Bucket: 'items' }));

    // Assess
    expect(location.LocationConstraint).toBeUndefined();
  });

  it('refuses to create a bucket that exists with BucketAlreadyOwnedByYou (409)', async () => {
    // Prepare
    await running.s3.send(new CreateBucketCommand({ Bucket: 'items' }));

    // Act
    const error = await errorOf(running.s3.send(new CreateBucketCommand({ Bucket: 'items' })));

    // Assess
    expect(error).toBeInstanceOf(BucketAlreadyOwnedByYou);
    expect(error.name).toBe('BucketAlreadyOwnedByYou');
    expect(error.$metadata?.httpStatusCode).toBe(409);
    expect(error.message).toBe(
      'Your previous request to create the named bucket succeeded and you already own it.',
    );
  });

  it.each([
    ['too short', 'ab'],
    ['too long', 'a'.repeat(64)],
    ['uppercase', 'Items'],
    ['an underscore', 'my_items'],
    ['a leading hyphen', '-items'],
    ['a trailing period', 'items.'],
    ['two adjacent periods', 'my..items'],
    ['the shape of an IP address', '192.168.5.4'],
    ['the reserved prefix xn--', 'xn--items'],
    ['the reserved prefix sthree-', 'sthree-items'],
    ['the reserved suffix -s3alias', 'items-s3alias'],
    ['the reserved suffix --ol-s3', 'items--ol-s3'],
  ])('refuses a bucket name with %s with InvalidBucketName (400)', async (_, Bucket) => {
    // Act
    const error = await errorOf(running.s3.send(new CreateBucketCommand({ Bucket })));

    // Assess
    expect(error.name).toBe('InvalidBucketName');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(error.message).toBe('The specified bucket is not valid.');
  });

  it.each(['abc', 'a'.repeat(63), 'payments.results-2026', '3rd-party-items', '1.2.3'])(
    'accepts the valid bucket name %s',
    async (Bucket) => {
      // Act
      const created = await running.s3.send(new CreateBucketCommand({ Bucket }));

      // Assess
      expect(created.$metadata.httpStatusCode).toBe(200);
    },
  );

  it('answers HeadBucket for a missing bucket with a bare 404, which the SDK names NotFound', async () => {
    // Act
    const error = await errorOf(running.s3.send(new HeadBucketCommand({ Bucket: 'missing' })));

    // Assess
    expect(error).toBeInstanceOf(NotFound);
    expect(error.$metadata?.httpStatusCode).toBe(404);
  });
});

describe('ListBuckets', () => {
  it('lists every bucket by name with its creation date and region', async () => {
    // Prepare
    for (const Bucket of ['results', 'items', 'manifests']) {
      await running.s3.send(new CreateBucketCommand({ Bucket }));
    }

    // Act
    const { Buckets, Owner } = await running.s3.send(new ListBucketsCommand({}));

    // Assess
    expect(Buckets?.map((bucket) => bucket.Name)).toEqual(['items', 'manifests', 'results']);
    expect(Buckets?.every((bucket) => bucket.CreationDate instanceof Date)).toBe(true);
    expect(Buckets?.map((bucket) => bucket.BucketRegion)).toEqual(['us-east-1', 'us-east-1', 'us-east-1']);
    expect(Owner?.ID).toMatch(/^[0-9a-f]{64}$/);
  });

  it('lists buckets a page at a time, and only those with a prefix', async () => {
    // Prepare
    for (const Bucket of ['run-1', 'run-2', 'run-3', 'other']) {
      await running.s3.send(new CreateBucketCommand({ Bucket }));
    }

    // Act
    const first = await running.s3.send(new ListBucketsCommand({ Prefix: 'run-', MaxBuckets: 2 }));
    const second = await running.s3.send(
      new ListBucketsCommand({ Prefix: 'run-', MaxBuckets: 2, ContinuationToken: first.ContinuationToken }),
    );

    // Assess
    expect(first.Buckets?.map((bucket) => bucket.Name)).toEqual(['run-1', 'run-2']);
    expect(first.ContinuationToken).toBeDefined();
    expect(second.Buckets?.map((bucket) => bucket.Name)).toEqual(['run-3']);
    expect(second.ContinuationToken).toBeUndefined();
    expect(second.Prefix).toBe('run-');
  });

  it('lists no buckets when there are none', async () => {
    // Act
    const { Buckets } = await running.s3.send(new ListBucketsCommand({}));

    // Assess
    expect(Buckets ?? []).toEqual([]);
  });
});

describe('DeleteBucket', () => {
  it('deletes an empty bucket, after which it is gone and its name free again', async () => {
    // Prepare
    await running.s3.send(new CreateBucketCommand({ Bucket: 'items' }));

    // Act
    const deleted = await running.s3.send(new DeleteBucketCommand({ Bucket: 'items' }));
    const error = await errorOf(running.s3.send(new HeadBucketCommand({ Bucket: 'items' })));
    const { Buckets } = await running.s3.send(new ListBucketsCommand({}));
    await running.s3.send(new CreateBucketCommand({ Bucket: 'items' }));

    // Assess
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect(error.$metadata?.httpStatusCode).toBe(404);
    expect(Buckets ?? []).toEqual([]);
  });

  it('refuses to delete a bucket that holds objects with BucketNotEmpty (409), until they are deleted', async () => {
    // Prepare
    await running.s3.send(new CreateBucketCommand({ Bucket: 'items' }));
    await running.s3.send(new PutObjectCommand({ Bucket: 'items', Key: 'a.json', Body: '[]' }));

    // Act
    const error = await errorOf(running.s3.send(new DeleteBucketCommand({ Bucket: 'items' })));
    await running.s3.send(new DeleteObjectCommand({ Bucket: 'items', Key: 'a.json' }));
    const deleted = await running.s3.send(new DeleteBucketCommand({ Bucket: 'items' }));

    // Assess
    expect(error.name).toBe('BucketNotEmpty');
    expect(error.$metadata?.httpStatusCode).toBe(409);
    expect(error.message).toBe('The bucket you tried to delete is not empty');
    expect(deleted.$metadata.httpStatusCode).toBe(204);
  });

  it('answers NoSuchBucket (404) for a bucket that does not exist, whatever the operation', async () => {
    // Act
    const errors = await Promise.all([
      errorOf(running.s3.send(new DeleteBucketCommand({ Bucket: 'missing' }))),
      errorOf(running.s3.send(new ListObjectsV2Command({ Bucket: 'missing' }))),
      errorOf(running.s3.send(new PutObjectCommand({ Bucket: 'missing', Key: 'a', Body: 'x' }))),
      errorOf(running.s3.send(new DeleteObjectCommand({ Bucket: 'missing', Key: 'a' }))),
      errorOf(running.s3.send(new GetBucketLocationCommand({ Bucket: 'missing' }))),
    ]);

    // Assess
    for (const error of errors) {
      expect(error).toBeInstanceOf(NoSuchBucket);
      expect(error.$metadata?.httpStatusCode).toBe(404);
      expect(error.message).toBe('The specified bucket does not exist');
    }
  });
});

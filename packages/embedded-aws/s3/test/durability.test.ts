/**
 * S3 on a data directory: buckets and objects that were acknowledged are there after a restart, with their
 * bodies, metadata and checksums, and what was deleted stays deleted; both after a clean close and after the
 * process is killed with SIGKILL (kill -9) right after the acknowledgements.
 */
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ChildProcesses } from '../../testing/child-processes.ts';
import { packagePath } from '../../testing/package-path.ts';
import { s3Client, startAws } from './support.ts';

const FIXTURE = packagePath('testing/embedded-aws-process.ts');

const processes = new ChildProcesses();
afterEach(() => processes.killAll());
afterAll(() => processes.removeTempDirs());

/** Buckets and objects in several states: kept, replaced, deleted, in a deleted bucket. */
async function writeState(s3: S3Client): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: 'map-runs' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'scratch' }));
  await s3.send(
    new PutObjectCommand({
      Bucket: 'map-runs',
      Key: 'input/items.json',
      Body: '[{"id":1},{"id":2}]',
      ContentType: 'application/json',
      Metadata: { run: 'r-1' },
      ChecksumAlgorithm: 'SHA256',
    }),
  );
  await s3.send(
    new PutObjectCommand({ Bucket: 'map-runs', Key: 'binary.bin', Body: new Uint8Array([0, 1, 254, 255]) }),
  );
  await s3.send(new PutObjectCommand({ Bucket: 'map-runs', Key: 'state.json', Body: '{"v":1}' }));
  await s3.send(new PutObjectCommand({ Bucket: 'map-runs', Key: 'state.json', Body: '{"v":2}' }));
  await s3.send(new PutObjectCommand({ Bucket: 'map-runs', Key: 'gone.json', Body: '{}' }));
  await s3.send(new DeleteObjectCommand({ Bucket: 'map-runs', Key: 'gone.json' }));
  await s3.send(new DeleteBucketCommand({ Bucket: 'scratch' }));
}

/** What a client sees of that state. */
async function readState(s3: S3Client) {
  const { Buckets } = await s3.send(new ListBucketsCommand({}));
  const { Contents } = await s3.send(new ListObjectsV2Command({ Bucket: 'map-runs' }));
  const items = await s3.send(
    new GetObjectCommand({ Bucket: 'map-runs', Key: 'input/items.json', ChecksumMode: 'ENABLED' }),
  );
  const binary = await s3.send(new GetObjectCommand({ Bucket: 'map-runs', Key: 'binary.bin' }));
  const state = await s3.send(new GetObjectCommand({ Bucket: 'map-runs', Key: 'state.json' }));
  const gone = await s3.send(new HeadObjectCommand({ Bucket: 'map-runs', Key: 'gone.json' })).then(
    () => 'found',
    (error: Error) => error.name,
  );
  return {
    buckets: Buckets?.map((bucket) => bucket.Name),
    keys: Contents?.map((object) => object.Key),
    items: {
      body: await items.Body!.transformToString(),
      contentType: items.ContentType,
      metadata: items.Metadata,
      checksum: items.ChecksumSHA256,
    },
    binary: [...(await binary.Body!.transformToByteArray())],
    state: await state.Body!.transformToString(),
    gone,
  };
}

const EXPECTED = {
  buckets: ['map-runs'],
  keys: ['binary.bin', 'input/items.json', 'state.json'],
  items: {
    body: '[{"id":1},{"id":2}]',
    contentType: 'application/json',
    metadata: { run: 'r-1' },
    checksum: createHash('sha256').update('[{"id":1},{"id":2}]').digest('base64'),
  },
  binary: [0, 1, 254, 255],
  state: '{"v":2}',
  gone: 'NotFound',
};

describe('S3 on a data directory', () => {
  it('keeps what it acknowledged across restarts of the embedded AWS', async () => {
    // Prepare
    const dataDir = processes.tempDir('s3-restart-');
    const first = await startAws(dataDir);
    await writeState(first.s3);
    const before = await readState(first.s3);
    await first.close();

    // Act: the second start replays the log; the third, the snapshot the second one compacted it into.
    const second = await startAws(dataDir);
    const afterRestart = await readState(second.s3);
    await second.close();
    const third = await startAws(dataDir);
    const afterCompaction = await readState(third.s3);
    await third.close();

    // Assess
    expect(before).toEqual(EXPECTED);
    expect(afterRestart).toEqual(EXPECTED);
    expect(afterCompaction).toEqual(EXPECTED);
  });

  it('keeps what it acknowledged when the process is killed with SIGKILL', async () => {
    // Prepare
    const dataDir = processes.tempDir('s3-kill-');
    const firstRun = await processes.start(FIXTURE, [dataDir]);
    const firstClient = s3Client(firstRun.value);
    await writeState(firstClient);
    firstClient.destroy();

    // Act
    await firstRun.kill();
    const secondRun = await processes.start(FIXTURE, [dataDir]);
    const secondClient = s3Client(secondRun.value);
    const after = await readState(secondClient);
    secondClient.destroy();
    await secondRun.kill();

    // Assess
    expect(after).toEqual(EXPECTED);
  }, 60_000);
});

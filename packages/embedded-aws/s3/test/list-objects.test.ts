/**
 * ListObjectsV2 through the real `@aws-sdk/client-s3` against the embedded AWS: key order, Prefix, Delimiter
 * with CommonPrefixes, paging with MaxKeys and ContinuationToken (also with the SDK's paginator), StartAfter,
 * EncodingType url, and the errors for a bad request.
 */
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorOf, type RunningAws, rawS3Request, startAws } from './support.ts';

const BUCKET = 'listing';

let running: RunningAws;
beforeEach(async () => {
  running = await startAws();
  await running.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterEach(async () => {
  await running.close();
});

async function putAll(keys: readonly string[]): Promise<void> {
  for (const Key of keys) {
    await running.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: `body of ${Key}` }));
  }
}

function list(
  input: Omit<ListObjectsV2Command['input'], 'Bucket'> = {},
): Promise<ListObjectsV2CommandOutput> {
  return running.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ...input }));
}

const keysOf = (output: ListObjectsV2CommandOutput) => (output.Contents ?? []).map((object) => object.Key);
const prefixesOf = (output: ListObjectsV2CommandOutput) =>
  (output.CommonPrefixes ?? []).map((prefix) => prefix.Prefix);

describe('ListObjectsV2', () => {
  it('lists every object in key order with its size, ETag, last modified time and storage class', async () => {
    // Prepare
    await putAll(['b.json', 'a/2.json', 'a/10.json', 'c']);

    // Act
    const output = await list();

    // Assess
    expect(output).toMatchObject({
      Name: BUCKET,
      Prefix: '',
      MaxKeys: 1000,
      KeyCount: 4,
      IsTruncated: false,
    });
    expect(keysOf(output)).toEqual(['a/10.json', 'a/2.json', 'b.json', 'c']);
    const first = output.Contents![0]!;
    expect(first.Size).toBe('body of a/10.json'.length);
    expect(first.ETag).toBe(`"${createHash('md5').update('body of a/10.json').digest('hex')}"`);
    expect(first.LastModified).toBeInstanceOf(Date);
    expect(first.StorageClass).toBe('STANDARD');
    expect(output.NextContinuationToken).toBeUndefined();
  });

  it('orders keys by their UTF-8 bytes, as S3 does', async () => {
    // Prepare: U+FF5E sorts before U+1F600 in UTF-8, after it in UTF-16 code units.
    await putAll(['😀', '～', 'Z', 'a', 'é']);

    // Act
    const output = await list();

    // Assess
    expect(keysOf(output)).toEqual(['Z', 'a', 'é', '～', '😀']);
  });

  it('lists only the keys under a prefix', async () => {
    // Prepare
    await putAll([
      'results/run-1/a.json',
      'results/run-1/b.json',
      'results/run-10/a.json',
      'resultsX',
      'other',
    ]);

    // Act
    const output = await list({ Prefix: 'results/run-1/' });

    // Assess
    expect(keysOf(output)).toEqual(['results/run-1/a.json', 'results/run-1/b.json']);
    expect(output.Prefix).toBe('results/run-1/');
    expect(output.KeyCount).toBe(2);
  });

  it('rolls keys up into CommonPrefixes at the delimiter after the prefix', async () => {
    // Prepare
    await putAll([
      'manifest.json',
      'results/run-1/SUCCEEDED_0.json',
      'results/run-1/FAILED_0.json',
      'results/run-2/SUCCEEDED_0.json',
      'results/summary.json',
      'zzz/deep/key',
    ]);

    // Act
    const top = await list({ Delimiter: '/' });
    const results = await list({ Prefix: 'results/', Delimiter: '/' });

    // Assess
    expect(keysOf(top)).toEqual(['manifest.json']);
    expect(prefixesOf(top)).toEqual(['results/', 'zzz/']);
    expect(top.KeyCount).toBe(3);
    expect(top.Delimiter).toBe('/');
    expect(keysOf(results)).toEqual(['results/summary.json']);
    expect(prefixesOf(results)).toEqual(['results/run-1/', 'results/run-2/']);
  });

  it('takes a delimiter of several characters', async () => {
    // Prepare
    await putAll(['2026--01--a', '2026--01--b', '2026--02--a', '2026-03']);

    // Act
    const output = await list({ Delimiter: '--' });

    // Assess
    expect(prefixesOf(output)).toEqual(['2026--']);
    expect(keysOf(output)).toEqual(['2026-03']);
  });

  it('pages through the objects MaxKeys at a time with ContinuationToken', async () => {
    // Prepare
    const keys = Array.from({ length: 7 }, (_, index) => `item-${index}`);
    await putAll(keys);

    // Act
    const first = await list({ MaxKeys: 3 });
    const second = await list({ MaxKeys: 3, ContinuationToken: first.NextContinuationToken });
    const third = await list({ MaxKeys: 3, ContinuationToken: second.NextContinuationToken });

    // Assess
    expect([keysOf(first), keysOf(second), keysOf(third)]).toEqual([
      ['item-0', 'item-1', 'item-2'],
      ['item-3', 'item-4', 'item-5'],
      ['item-6'],
    ]);
    expect([first.IsTruncated, second.IsTruncated, third.IsTruncated]).toEqual([true, true, false]);
    expect([first.KeyCount, second.KeyCount, third.KeyCount]).toEqual([3, 3, 1]);
    expect(first.NextContinuationToken).toBeDefined();
    expect(second.ContinuationToken).toBe(first.NextContinuationToken);
    expect(third.NextContinuationToken).toBeUndefined();
  });

  it('answers at most 1,000 keys a page, and the SDK paginator reads them all', async () => {
    // Prepare
    const keys = Array.from({ length: 1205 }, (_, index) => `k/${String(index).padStart(5, '0')}`);
    await Promise.all(keys.map((Key) => running.aws.s3.putObject({ bucket: BUCKET, key: Key, body: Key })));

    // Act
    const capped = await list({ MaxKeys: 5000 });
    const pages: ListObjectsV2CommandOutput[] = [];
    for await (const page of paginateListObjectsV2(
      { client: running.s3, pageSize: 500 },
      { Bucket: BUCKET },
    )) {
      pages.push(page);
    }

    // Assess
    expect(capped.KeyCount).toBe(1000);
    expect(capped.MaxKeys).toBe(1000);
    expect(capped.IsTruncated).toBe(true);
    expect(pages.map((page) => page.KeyCount)).toEqual([500, 500, 205]);
    expect(pages.flatMap(keysOf)).toEqual(keys);
  });

  it('counts a common prefix as one key when paging, and does not repeat it on the next page', async () => {
    // Prepare
    await putAll(['a.json', 'dir/1', 'dir/2', 'dir/3', 'e.json', 'f/1', 'g.json']);

    // Act
    const pages: ListObjectsV2CommandOutput[] = [];
    let token: string | undefined;
    do {
      const page = await list({ Delimiter: '/', MaxKeys: 2, ContinuationToken: token });
      pages.push(page);
      token = page.NextContinuationToken;
    } while (token !== undefined);

    // Assess
    expect(pages.map((page) => [keysOf(page), prefixesOf(page)])).toEqual([
      [['a.json'], ['dir/']],
      [['e.json'], ['f/']],
      [['g.json'], []],
    ]);
  });

  it('starts after StartAfter, and echoes it', async () => {
    // Prepare
    await putAll(['a', 'b', 'c', 'd']);

    // Act
    const output = await list({ StartAfter: 'b' });
    const between = await list({ StartAfter: 'bb' });

    // Assess
    expect(keysOf(output)).toEqual(['c', 'd']);
    expect(output.StartAfter).toBe('b');
    expect(keysOf(between)).toEqual(['c', 'd']);
  });

  it('lists nothing for MaxKeys 0, and nothing for an empty bucket, without saying more follows', async () => {
    // Prepare
    await running.s3.send(new CreateBucketCommand({ Bucket: 'empty-bucket' }));
    await putAll(['a']);

    // Act
    const none = await list({ MaxKeys: 0 });
    const empty = await running.s3.send(new ListObjectsV2Command({ Bucket: 'empty-bucket' }));

    // Assess
    expect(none.KeyCount).toBe(0);
    expect(none.IsTruncated).toBe(false);
    expect(none.Contents).toBeUndefined();
    expect(empty.KeyCount).toBe(0);
    expect(empty.IsTruncated).toBe(false);
    expect(empty.Contents).toBeUndefined();
  });

  it('URL-encodes the keys and prefixes it answers with EncodingType url', async () => {
    // Prepare
    await putAll(['dir one/a+b.txt', 'dir one/ü.txt', 'top level.txt']);

    // Act
    const top = await list({ Delimiter: '/', EncodingType: 'url' });
    const inner = await list({ Prefix: 'dir one/', EncodingType: 'url' });

    // Assess
    expect(top.EncodingType).toBe('url');
    expect(prefixesOf(top)).toEqual(['dir+one/']);
    expect(keysOf(top)).toEqual(['top+level.txt']);
    expect(keysOf(inner)).toEqual(['dir+one/a%2Bb.txt', 'dir+one/%C3%BC.txt']);
  });

  it('refuses a continuation token it did not issue with InvalidArgument (400)', async () => {
    // Act
    const error = await errorOf(list({ ContinuationToken: 'not-a-token' }));

    // Assess
    expect(error.name).toBe('InvalidArgument');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(error.message).toBe('The continuation token provided is incorrect');
  });

  it('refuses a max-keys that is not a number with InvalidArgument (400)', async () => {
    // Act
    const response = await rawS3Request(running.aws.endpoint, `/${BUCKET}?list-type=2&max-keys=lots`);
    const xml = await response.text();

    // Assess
    expect(response.status).toBe(400);
    expect(xml).toContain('<Code>InvalidArgument</Code>');
    expect(xml).toContain('<ArgumentName>max-keys</ArgumentName>');
  });

  it('answers the list as S3 writes it: a ListBucketResult in the S3 namespace', async () => {
    // Prepare
    await putAll(['a/1', 'b']);

    // Act
    const response = await rawS3Request(running.aws.endpoint, `/${BUCKET}?list-type=2&delimiter=%2F`);
    const xml = await response.text();

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/xml');
    expect(xml).toMatch(/<ListBucketResult xmlns="http:\/\/s3\.amazonaws\.com\/doc\/2006-03-01\/">/);
    expect(xml).toContain('<Name>listing</Name><Prefix></Prefix><Delimiter>/</Delimiter>');
    expect(xml).toContain('<KeyCount>2</KeyCount><IsTruncated>false</IsTruncated>');
    expect(xml).toMatch(/<Contents><Key>b<\/Key><LastModified>[^<]+\.000Z<\/LastModified><ETag>&quot;/);
    expect(xml).toContain('<CommonPrefixes><Prefix>a/</Prefix></CommonPrefixes>');
  });
});

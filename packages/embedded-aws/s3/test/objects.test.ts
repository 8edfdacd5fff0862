/**
 * Objects through the real `@aws-sdk/client-s3` (path-style) against the embedded AWS: PutObject, GetObject
 * (whole and by range), HeadObject, CopyObject and DeleteObject, what S3 keeps with an object (ETag, content
 * type, user metadata, headers, checksums), and the errors S3 answers them with, down to its XML error document.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorOf, type RunningAws, rawS3Request, s3Client, startAws } from './support.ts';

const BUCKET = 'items';

let running: RunningAws;
beforeEach(async () => {
  running = await startAws();
  await running.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterEach(async () => {
  await running.close();
});

function md5Etag(body: string | Uint8Array): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}

async function put(Key: string, Body: string | Uint8Array, extra: Partial<PutObjectCommand['input']> = {}) {
  return running.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body, ...extra }));
}

async function text(Key: string, Bucket = BUCKET): Promise<string> {
  const { Body } = await running.s3.send(new GetObjectCommand({ Bucket, Key }));
  return Body!.transformToString();
}

describe('PutObject and GetObject', () => {
  it('stores an object and gives it back with its ETag, content type, metadata and last modified time', async () => {
    // Prepare
    const body = JSON.stringify([{ paymentId: 'p-1' }, { paymentId: 'p-2' }]);

    // Act
    const stored = await put('batches/2026-01-01.json', body, {
      ContentType: 'application/json',
      Metadata: { 'Batch-Id': 'b-17', source: 'reconcile' },
    });
    const got = await running.s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: 'batches/2026-01-01.json' }),
    );
    const read = await got.Body!.transformToString();

    // Assess
    expect(stored.ETag).toBe(md5Etag(body));
    expect(read).toBe(body);
    expect(got.ETag).toBe(md5Etag(body));
    expect(got.ContentType).toBe('application/json');
    expect(got.ContentLength).toBe(Buffer.byteLength(body));
    expect(got.Metadata).toEqual({ 'batch-id': 'b-17', source: 'reconcile' });
    expect(got.LastModified).toBeInstanceOf(Date);
    expect(Math.abs(got.LastModified!.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('keeps every byte of a binary object, and an empty one', async () => {
    // Prepare
    const bytes = new Uint8Array(randomBytes(4096));
    bytes.set([0, 255, 13, 10], 0);

    // Act
    await put('blob.bin', bytes, { ContentType: 'application/octet-stream' });
    await put('empty', '');
    const blob = await running.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'blob.bin' }));
    const empty = await running.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'empty' }));

    // Assess
    expect(Buffer.from(await blob.Body!.transformToByteArray()).equals(Buffer.from(bytes))).toBe(true);
    expect(blob.ETag).toBe(md5Etag(bytes));
    expect(await empty.Body!.transformToString()).toBe('');
    expect(empty.ContentLength).toBe(0);
    expect(empty.ETag).toBe('"d41d8cd98f00b204e9800998ecf8427e"');
  });

  it('takes an object of several megabytes', async () => {
    // Prepare
    const bytes = new Uint8Array(randomBytes(3 * 1024 * 1024 + 17));

    // Act
    const stored = await put('large.bin', bytes);
    const got = await running.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'large.bin' }));

    // Assess
    expect(stored.ETag).toBe(md5Etag(bytes));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.from(bytes))).toBe(true);
  });

  it('keeps the headers given with an object and answers them', async () => {
    // Act
    await put('report.csv.gz', 'not really gzip', {
      ContentType: 'text/csv',
      CacheControl: 'max-age=60',
      ContentDisposition: 'attachment; filename="report.csv"',
      ContentEncoding: 'gzip',
      ContentLanguage: 'en-GB',
    });
    const head = await running.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'report.csv.gz' }));

    // Assess
    expect(head).toMatchObject({
      ContentType: 'text/csv',
      CacheControl: 'max-age=60',
      ContentDisposition: 'attachment; filename="report.csv"',
      ContentEncoding: 'gzip',
      ContentLanguage: 'en-GB',
    });
  });

  it('replaces an object put again under the same key', async () => {
    // Prepare
    await put('state.json', '{"version":1}', { Metadata: { old: 'yes' } });

    // Act
    const second = await put('state.json', '{"version":2}');
    const got = await running.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'state.json' }));

    // Assess
    expect(await got.Body!.transformToString()).toBe('{"version":2}');
    expect(got.ETag).toBe(second.ETag);
    expect(got.Metadata).toEqual({});
  });

  it.each([
    ['spaces and a plus', 'reports/daily report+final.json'],
    ['non-ASCII characters', 'résultats/übersicht-✓.json'],
    ['a character outside the BMP', 'emoji/😀.txt'],
    ['consecutive and trailing slashes', 'a//b/'],
    ['characters URLs reserve', 'q?x=1&y=#2;%41'],
  ])('stores and finds a key with %s', async (_, Key) => {
    // Act
    await put(Key, `body of ${Key}`);
    const read = await text(Key);
    const { Contents } = await running.s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));

    // Assess
    expect(read).toBe(`body of ${Key}`);
    expect(Contents?.map((object) => object.Key)).toEqual([Key]);
  });

  it('reads a body streamed in aws-chunked encoding with its checksum in the trailer', async () => {
    // Prepare
    const chunks = ['id,amount\n', 'p-1,10.00\n', 'p-2,25.50\n'];

    // Act
    const stored = await running.s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'items.csv',
        Body: Readable.from(chunks.map((chunk) => Buffer.from(chunk))),
        ContentLength: chunks.join('').length,
        ContentType: 'text/csv',
      }),
    );
    const got = await running.s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: 'items.csv', ChecksumMode: 'ENABLED' }),
    );

    // Assess
    expect(await got.Body!.transformToString()).toBe(chunks.join(''));
    expect(stored.ETag).toBe(md5Etag(chunks.join('')));
    expect(got.ContentEncoding).toBeUndefined();
    expect(got.ChecksumCRC32).toBe(stored.ChecksumCRC32);
  });

  it('answers the checksum an object was uploaded with when asked for it', async () => {
    // Act
    const stored = await put('checked.json', '{"ok":true}', { ChecksumAlgorithm: 'SHA256' });
    const asked = await running.s3.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: 'checked.json', ChecksumMode: 'ENABLED' }),
    );
    const notAsked = await running.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'checked.json' }));

    // Assess
    expect(stored.ChecksumSHA256).toBe(createHash('sha256').update('{"ok":true}').digest('base64'));
    expect(asked.ChecksumSHA256).toBe(stored.ChecksumSHA256);
    expect(asked.ChecksumType).toBe('FULL_OBJECT');
    expect(notAsked.ChecksumSHA256).toBeUndefined();
  });

  it.each(['CRC32', 'CRC32C', 'SHA1', 'SHA256'] as const)(
    'verifies and keeps a %s checksum the SDK computed',
    async (ChecksumAlgorithm) => {
      // Act
      const stored = await put('checked.bin', new Uint8Array(randomBytes(1000)), { ChecksumAlgorithm });
      const got = await running.s3.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: 'checked.bin', ChecksumMode: 'ENABLED' }),
      );
      await got.Body!.transformToByteArray();

      // Assess
      expect(stored[`Checksum${ChecksumAlgorithm}`]).toBeDefined();
      expect(got[`Checksum${ChecksumAlgorithm}`]).toBe(stored[`Checksum${ChecksumAlgorithm}`]);
    },
  );

  it.each([
    [
      'a CRC32',
      { ChecksumCRC32: 'AAAAAA==' },
      'The crc32 you specified did not match the calculated checksum.',
    ],
    [
      'a SHA256',
      { ChecksumSHA256: createHash('sha256').update('other').digest('base64') },
      'The sha256 you specified did not match the calculated checksum.',
    ],
    [
      'a Content-MD5',
      { ContentMD5: createHash('md5').update('other').digest('base64') },
      'The Content-MD5 you specified did not match what we received.',
    ],
  ])(
    'refuses a body that does not match %s with BadDigest (400) and stores nothing',
    async (_, digest, message) => {
      // Act
      const error = await errorOf(put('tampered.json', '{"amount":10}', digest));
      const missing = await errorOf(
        running.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'tampered.json' })),
      );

      // Assess
      expect(error.name).toBe('BadDigest');
      expect(error.$metadata?.httpStatusCode).toBe(400);
      expect(error.message).toBe(message);
      expect(missing.$metadata?.httpStatusCode).toBe(404);
    },
  );

  it('accepts a matching Content-MD5 and refuses one that is not an MD5 with InvalidDigest (400)', async () => {
    // Act
    const stored = await put('signed.json', '{}', {
      ContentMD5: createHash('md5').update('{}').digest('base64'),
    });
    const error = await errorOf(put('signed.json', '{}', { ContentMD5: 'bm90IGFuIG1kNQ==' }));

    // Assess
    expect(stored.ETag).toBe(md5Etag('{}'));
    expect(error.name).toBe('InvalidDigest');
    expect(error.$metadata?.httpStatusCode).toBe(400);
  });

  it('refuses a key longer than 1,024 bytes with KeyTooLongError (400)', async () => {
    // Act
    const error = await errorOf(put('é'.repeat(513), 'x'));
    const longest = await put('k'.repeat(1024), 'x');

    // Assess
    expect(error.name).toBe('KeyTooLongError');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(longest.$metadata.httpStatusCode).toBe(200);
  });

  it('answers GetObject for a missing key with NoSuchKey (404)', async () => {
    // Act
    const error = await errorOf(
      running.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'missing.json' })),
    );

    // Assess
    expect(error).toBeInstanceOf(NoSuchKey);
    expect(error.$metadata?.httpStatusCode).toBe(404);
    expect(error.message).toBe('The specified key does not exist.');
  });

  it('writes its errors as S3 does: an XML <Error> document with the code, message and request id', async () => {
    // Act
    const response = await rawS3Request(running.aws.endpoint, `/${BUCKET}/missing.json`);
    const xml = await response.text();

    // Assess
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/xml');
    const requestId = response.headers.get('x-amz-request-id');
    expect(requestId).toBeTruthy();
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error>/);
    expect(xml).toContain('<Code>NoSuchKey</Code>');
    expect(xml).toContain('<Message>The specified key does not exist.</Message>');
    expect(xml).toContain('<Key>missing.json</Key>');
    expect(xml).toContain(`<RequestId>${requestId}</RequestId>`);
  });
});

describe('GetObject with a Range', () => {
  beforeEach(async () => {
    await put('digits.txt', '0123456789');
  });

  it.each([
    ['bytes=0-3', '0123', 'bytes 0-3/10'],
    ['bytes=7-', '789', 'bytes 7-9/10'],
    ['bytes=-2', '89', 'bytes 8-9/10'],
    ['bytes=8-100', '89', 'bytes 8-9/10'],
  ])('answers %s with those bytes and 206', async (Range, expected, contentRange) => {
    // Act
    const got = await running.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'digits.txt', Range }));

    // Assess
    expect(got.$metadata.httpStatusCode).toBe(206);
    expect(await got.Body!.transformToString()).toBe(expected);
    expect(got.ContentRange).toBe(contentRange);
    expect(got.ContentLength).toBe(expected.length);
  });

  it('refuses a range that starts past the end with InvalidRange (416)', async () => {
    // Act
    const error = await errorOf(
      running.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'digits.txt', Range: 'bytes=10-20' })),
    );

    // Assess
    expect(error.name).toBe('InvalidRange');
    expect(error.$metadata?.httpStatusCode).toBe(416);
  });
});

describe('HeadObject', () => {
  it("answers an object's metadata without its body", async () => {
    // Prepare
    const stored = await put('a.json', '{"a":1}', {
      ContentType: 'application/json',
      Metadata: { run: '7' },
    });

    // Act
    const head = await running.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'a.json' }));

    // Assess
    expect(head).toMatchObject({
      ContentLength: 7,
      ContentType: 'application/json',
      ETag: stored.ETag,
      Metadata: { run: '7' },
    });
    expect(head.LastModified).toBeInstanceOf(Date);
  });

  it('answers a missing key with a bare 404, which the SDK names NotFound', async () => {
    // Act
    const error = await errorOf(running.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'missing' })));

    // Assess
    expect(error).toBeInstanceOf(NotFound);
    expect(error.$metadata?.httpStatusCode).toBe(404);
  });
});

describe('DeleteObject', () => {
  it('deletes an object, and succeeds for a key that is not there', async () => {
    // Prepare
    await put('a.json', '{}');

    // Act
    const deleted = await running.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'a.json' }));
    const again = await running.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'a.json' }));
    const error = await errorOf(running.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'a.json' })));

    // Assess
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect(again.$metadata.httpStatusCode).toBe(204);
    expect(error).toBeInstanceOf(NoSuchKey);
  });
});

describe('CopyObject', () => {
  it('copies an object with its content type and metadata, to another key or bucket', async () => {
    // Prepare
    await running.s3.send(new CreateBucketCommand({ Bucket: 'archive' }));
    const source = await put('in/a b.json', '{"a":1}', {
      ContentType: 'application/json',
      Metadata: { run: '7' },
    });

    // Act
    const copied = await running.s3.send(
      new CopyObjectCommand({ Bucket: 'archive', Key: 'out/a.json', CopySource: `${BUCKET}/in/a%20b.json` }),
    );
    const got = await running.s3.send(new GetObjectCommand({ Bucket: 'archive', Key: 'out/a.json' }));

    // Assess
    expect(copied.CopyObjectResult?.ETag).toBe(source.ETag);
    expect(copied.CopyObjectResult?.LastModified).toBeInstanceOf(Date);
    expect(await got.Body!.transformToString()).toBe('{"a":1}');
    expect(got.ContentType).toBe('application/json');
    expect(got.Metadata).toEqual({ run: '7' });
  });

  it('replaces the metadata with MetadataDirective REPLACE, also onto the object itself', async () => {
    // Prepare
    await put('a.json', '{"a":1}', { ContentType: 'application/json', Metadata: { run: '7' } });

    // Act
    await running.s3.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'a.json',
        CopySource: `${BUCKET}/a.json`,
        MetadataDirective: 'REPLACE',
        ContentType: 'text/plain',
        Metadata: { run: '8' },
      }),
    );
    const head = await running.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'a.json' }));

    // Assess
    expect(head.ContentType).toBe('text/plain');
    expect(head.Metadata).toEqual({ run: '8' });
  });

  it('refuses to copy an object onto itself unchanged with InvalidRequest (400), and a missing source with NoSuchKey', async () => {
    // Prepare
    await put('a.json', '{}');

    // Act
    const itself = await errorOf(
      running.s3.send(
        new CopyObjectCommand({ Bucket: BUCKET, Key: 'a.json', CopySource: `${BUCKET}/a.json` }),
      ),
    );
    const missing = await errorOf(
      running.s3.send(
        new CopyObjectCommand({ Bucket: BUCKET, Key: 'b.json', CopySource: `${BUCKET}/nope.json` }),
      ),
    );

    // Assess
    expect(itself.name).toBe('InvalidRequest');
    expect(itself.$metadata?.httpStatusCode).toBe(400);
    expect(missing).toBeInstanceOf(NoSuchKey);
  });
});

describe('the endpoint', () => {
  it('answers operations it does not implement with NotImplemented (501) rather than another operation', async () => {
    // Prepare
    await put('a.json', '{}');

    // Act
    const error = await errorOf(
      running.s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: 'a.json' })),
    );

    // Assess
    expect(error.name).toBe('NotImplemented');
    expect(error.$metadata?.httpStatusCode).toBe(501);
  });

  it('serves S3 clients in the same process through the in-process request handler', async () => {
    // Prepare
    const inProcess = s3Client(running.aws.endpoint, { requestHandler: running.aws.requestHandler });

    // Act
    await inProcess.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'local.json', Body: '{"local":true}' }));
    const head = await inProcess.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'local.json' }));
    const got = await inProcess.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'local.json' }));
    const missing = await errorOf(inProcess.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'nope' })));
    const body = await got.Body!.transformToString();
    inProcess.destroy();

    // Assess
    expect(head.ContentLength).toBe(14);
    expect(body).toBe('{"local":true}');
    expect(missing).toBeInstanceOf(NotFound);
  });
});

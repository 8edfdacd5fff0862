/**
 * The embedded S3: buckets and their objects in memory, every change journaled (`../durable/journal.ts`,
 * records in `journal-records.ts`) so that what was acknowledged survives kill -9 and a restart on the same
 * data directory. The HTTP side (`rest-protocol.ts`) speaks S3's REST-XML protocol to the real
 * `@aws-sdk/client-s3` (path-style); other embedded services (the Step Functions distributed Map's ItemReader
 * and ResultWriter) call the same methods in-process.
 *
 * Writes (`createBucket`, `putObject`, `copyObject`, `deleteObject`, `deleteBucket`) resolve once their record
 * is written, so whatever awaits them may acknowledge them. Reads (`getObject`, `headObject`, `listObjects`,
 * `headBucket`, `listBuckets`) answer from memory at once. Errors are `S3Error`s named by S3's codes
 * (`NoSuchBucket`, `NoSuchKey`, ...).
 *
 * Each bucket keeps its keys sorted (in UTF-8 byte order, as S3 lists them), so a listing page starts with a
 * binary search and reads only what it returns. There is one version of each key (no versioning), one account,
 * and bucket names are global across regions, as in one S3 partition.
 */
import { createHash } from 'node:crypto';
import { type Journal, openJournal } from '../durable/journal.ts';
import type { ObjectChecksum } from './checksums.ts';
import { s3Errors } from './errors.ts';
import type { BucketRecord, ObjectHeaders, ObjectRecord, S3Record } from './journal-records.ts';
import { S3_RECORD_VERSION } from './journal-records.ts';
import { checkBucketName, checkKey, compareKeys } from './names.ts';

export type { ObjectChecksum } from './checksums.ts';
export type { ObjectHeaders } from './journal-records.ts';

export interface S3EngineOptions {
  /** Folder for the journal, or null to keep everything in memory (tests). */
  readonly dataDir: string | null;
  /** The region buckets are created in unless a request says otherwise; default us-east-1. */
  readonly region?: string;
  readonly accountId?: string;
  /** The largest object accepted (EntityTooLarge above it); default 64 MiB. */
  readonly maxObjectBytes?: number;
}

/** A bucket as ListBuckets and HeadBucket describe it. */
export interface S3Bucket {
  readonly name: string;
  readonly region: string;
  readonly createdAt: Date;
}

/** An object as a listing describes it. */
export interface S3ObjectSummary {
  readonly key: string;
  readonly size: number;
  /** Quoted MD5 hex of the body: `"5d41402abc4b2a76b9719d911017c592"`. */
  readonly etag: string;
  readonly lastModified: Date;
  /** The algorithm of the additional checksum the object was uploaded with, if any. */
  readonly checksumAlgorithm?: string;
}

/** An object's metadata, as HeadObject answers it. */
export interface S3ObjectHead extends S3ObjectSummary {
  readonly contentType: string;
  /** User metadata (`x-amz-meta-*`): names in lowercase, without the prefix. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly headers: ObjectHeaders;
  readonly checksum?: ObjectChecksum;
}

/** An object with its body, as GetObject answers it. */
export interface S3Object extends S3ObjectHead {
  readonly body: Buffer;
}

export interface PutObjectInput {
  readonly bucket: string;
  readonly key: string;
  /** A string is stored as its UTF-8 bytes. */
  readonly body: Buffer | Uint8Array | string;
  /** Default `binary/octet-stream`, as S3's. */
  readonly contentType?: string;
  /** User metadata; names are kept in lowercase, as S3 keeps them. */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly headers?: ObjectHeaders;
  /** An additional checksum the caller has verified (the REST side does). */
  readonly checksum?: ObjectChecksum;
}

export interface CopyObjectInput {
  readonly sourceBucket: string;
  readonly sourceKey: string;
  readonly bucket: string;
  readonly key: string;
  /** COPY (default) keeps the source's content type, metadata and headers; REPLACE takes those given here. */
  readonly metadataDirective?: 'COPY' | 'REPLACE';
  readonly contentType?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly headers?: ObjectHeaders;
}

export interface ListObjectsInput {
  readonly bucket: string;
  readonly prefix?: string;
  readonly delimiter?: string;
  /** 0 to 1,000 (more is read as 1,000, as S3 does); default 1,000. */
  readonly maxKeys?: number;
  /** `nextContinuationToken` of the previous page. */
  readonly continuationToken?: string;
  /** List keys after this one (ignored when a continuation token is given). */
  readonly startAfter?: string;
}

export interface ListObjectsResult {
  readonly bucket: string;
  readonly prefix: string;
  readonly delimiter?: string;
  readonly maxKeys: number;
  /** Objects and common prefixes on this page. */
  readonly keyCount: number;
  readonly isTruncated: boolean;
  readonly contents: readonly S3ObjectSummary[];
  /** With a delimiter: each distinct part of the keys up to and including the delimiter after the prefix. */
  readonly commonPrefixes: readonly string[];
  readonly continuationToken?: string;
  readonly startAfter?: string;
  /** Present when `isTruncated`: give it as `continuationToken` for the next page. */
  readonly nextContinuationToken?: string;
}

export interface ListBucketsInput {
  readonly prefix?: string;
  /** 1 to 10,000; default: all. */
  readonly maxBuckets?: number;
  readonly continuationToken?: string;
}

export interface ListBucketsResult {
  readonly buckets: readonly S3Bucket[];
  readonly prefix?: string;
  readonly continuationToken?: string;
}

interface StoredObject {
  readonly key: string;
  readonly body: Buffer;
  readonly etag: string;
  readonly lastModified: number;
  readonly contentType: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly headers: ObjectHeaders;
  readonly checksum: ObjectChecksum | undefined;
}

interface BucketState {
  readonly info: BucketRecord;
  readonly objects: Map<string, StoredObject>;
  /** The keys of `objects`, in S3's listing order. */
  readonly keys: string[];
}

const DEFAULT_MAX_OBJECT_BYTES = 64 * 1024 * 1024;
const MAX_LIST_KEYS = 1000;
const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';

/**
 * @example
 * const s3 = await S3Engine.open({ dataDir: null });
 * await s3.createBucket('distributed-map');
 * await s3.putObject({ bucket: 'distributed-map', key: 'items.json', body: '[1,2,3]', contentType: 'application/json' });
 * s3.getObject('distributed-map', 'items.json').body.toString(); // '[1,2,3]'
 * s3.listObjects({ bucket: 'distributed-map', prefix: 'results/', delimiter: '/' });
 */
export class S3Engine {
  readonly region: string;
  readonly accountId: string;
  readonly maxObjectBytes: number;
  readonly #buckets = new Map<string, BucketState>();
  #journal: Journal<S3Record> | undefined;

  private constructor(options: S3EngineOptions) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.maxObjectBytes = options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
  }

  static async open(options: S3EngineOptions): Promise<S3Engine> {
    const engine = new S3Engine(options);
    engine.#journal = await openJournal<S3Record>({
      dir: options.dataDir,
      name: 's3',
      recordVersion: S3_RECORD_VERSION,
      replay: (record) => engine.#apply(record),
      snapshot: () => engine.#snapshot(),
    });
    return engine;
  }

  // ─── Buckets ───────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Creates a bucket; InvalidBucketName for a name S3 refuses, BucketAlreadyOwnedByYou when it exists (the
   * embedded S3 has one account, so every existing bucket is the caller's).
   */
  async createBucket(name: string, options: { readonly region?: string } = {}): Promise<S3Bucket> {
    checkBucketName(name);
    if (this.#buckets.has(name)) throw s3Errors.bucketAlreadyOwnedByYou(name);
    const bucket: BucketRecord = {
      name,
      region: options.region ?? this.region,
      createdAt: wholeSeconds(Date.now()),
    };
    await this.#write({ kind: 'bucketCreated', bucket });
    return bucketOf(bucket);
  }

  /** The bucket, or NoSuchBucket. */
  headBucket(name: string): S3Bucket {
    return bucketOf(this.#bucket(name).info);
  }

  /** All buckets, by name; or a page of those whose names start with `prefix`. */
  listBuckets(input: ListBucketsInput = {}): ListBucketsResult {
    const prefix = input.prefix ?? '';
    const after = input.continuationToken === undefined ? undefined : readToken(input.continuationToken);
    const names = [...this.#buckets.keys()]
      .filter((name) => name.startsWith(prefix) && (after === undefined || compareKeys(name, after) > 0))
      .sort(compareKeys);
    const max = input.maxBuckets ?? names.length;
    const page = names.slice(0, max);
    const last = page.at(-1);
    return {
      buckets: page.map((name) => bucketOf(this.#buckets.get(name)!.info)),
      ...(input.prefix === undefined ? {} : { prefix }),
      ...(names.length > page.length && last !== undefined ? { continuationToken: writeToken(last) } : {}),
    };
  }

  /** Deletes an empty bucket; NoSuchBucket, or BucketNotEmpty while it holds objects. */
  async deleteBucket(name: string): Promise<void> {
    const bucket = this.#bucket(name);
    if (bucket.objects.size > 0) throw s3Errors.bucketNotEmpty(name);
    await this.#write({ kind: 'bucketDeleted', name });
  }

  // ─── Objects ───────────────────────────────────────────────────────────────────────────────────────────

  /** Stores (or replaces) an object; resolves once it is durable, with what a listing would show of it. */
  async putObject(input: PutObjectInput): Promise<S3ObjectHead> {
    this.#bucket(input.bucket);
    checkKey(input.key);
    // A copy: the caller may reuse its buffer once this returns.
    const body = typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : Buffer.from(input.body);
    if (body.length > this.maxObjectBytes) throw s3Errors.entityTooLarge(body.length, this.maxObjectBytes);
    const object = storedObject(input.key, body, {
      contentType: input.contentType,
      metadata: input.metadata,
      headers: input.headers,
      checksum: input.checksum,
    });
    await this.#write({ kind: 'objectPut', bucket: input.bucket, object: recordOf(object) });
    return headOf(object);
  }

  /** The object with its body; NoSuchBucket or NoSuchKey. */
  getObject(bucket: string, key: string): S3Object {
    const object = this.#object(bucket, key);
    return { ...headOf(object), body: Buffer.from(object.body) };
  }

  /** The object's metadata without its body; NoSuchBucket or NoSuchKey. */
  headObject(bucket: string, key: string): S3ObjectHead {
    return headOf(this.#object(bucket, key));
  }

  /**
   * Copies an object (within a bucket or between buckets). Copying an object onto itself is refused, as S3
   * refuses it, unless the metadata is replaced.
   */
  async copyObject(input: CopyObjectInput): Promise<S3ObjectHead> {
    const source = this.#object(input.sourceBucket, input.sourceKey);
    this.#bucket(input.bucket);
    checkKey(input.key);
    const replace = input.metadataDirective === 'REPLACE';
    if (!replace && input.sourceBucket === input.bucket && input.sourceKey === input.key) {
      throw s3Errors.invalidRequest(
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      );
    }
    const object = storedObject(input.key, source.body, {
      contentType: replace ? input.contentType : source.contentType,
      metadata: replace ? input.metadata : source.metadata,
      headers: replace ? input.headers : source.headers,
      checksum: source.checksum,
    });
    await this.#write({ kind: 'objectPut', bucket: input.bucket, object: recordOf(object) });
    return headOf(object);
  }

  /** Deletes an object; deleting a key that is not there succeeds, as on S3. NoSuchBucket. */
  async deleteObject(bucket: string, key: string): Promise<void> {
    const state = this.#bucket(bucket);
    if (!state.objects.has(key)) return;
    await this.#write({ kind: 'objectDeleted', bucket, key });
  }

  /**
   * A page of a bucket's objects in key order (ListObjectsV2): those under `prefix`, after `startAfter` or
   * the continuation token, with the keys that go on past `delimiter` rolled up into common prefixes; each
   * object and each common prefix counts towards `maxKeys`.
   */
  listObjects(input: ListObjectsInput): ListObjectsResult {
    const state = this.#bucket(input.bucket);
    const prefix = input.prefix ?? '';
    const delimiter = input.delimiter === '' ? undefined : input.delimiter;
    const requestedMax = input.maxKeys ?? MAX_LIST_KEYS;
    if (!Number.isInteger(requestedMax) || requestedMax < 0) {
      throw s3Errors.invalidArgument(
        'Provided max-keys not an integer or within integer range',
        'max-keys',
        String(requestedMax),
      );
    }
    const maxKeys = Math.min(requestedMax, MAX_LIST_KEYS);
    const after =
      input.continuationToken !== undefined ? readToken(input.continuationToken) : input.startAfter;
    const keys = state.keys;
    let index = Math.max(
      lowerBound(keys, prefix),
      after === undefined || after === '' ? 0 : upperBound(keys, after),
    );

    const contents: S3ObjectSummary[] = [];
    const commonPrefixes: string[] = [];
    let lastTaken: string | undefined;
    let isTruncated = false;
    for (; index < keys.length; index++) {
      const key = keys[index]!;
      if (!key.startsWith(prefix)) break;
      if (contents.length + commonPrefixes.length >= maxKeys) {
        // With MaxKeys 0 nothing is listed and nothing is said to follow, so a paging loop ends.
        isTruncated = maxKeys > 0;
        break;
      }
      const cut = delimiter === undefined ? -1 : key.indexOf(delimiter, prefix.length);
      if (cut === -1) {
        contents.push(summaryOf(state.objects.get(key)!));
        lastTaken = key;
        continue;
      }
      // Every key under this common prefix sorts right after it: take them all as one entry.
      const common = key.slice(0, cut + delimiter!.length);
      commonPrefixes.push(common);
      while (index + 1 < keys.length && keys[index + 1]!.startsWith(common)) index++;
      lastTaken = keys[index]!;
    }

    return {
      bucket: input.bucket,
      prefix,
      ...(delimiter === undefined ? {} : { delimiter }),
      maxKeys,
      keyCount: contents.length + commonPrefixes.length,
      isTruncated,
      contents,
      commonPrefixes,
      ...(input.continuationToken === undefined ? {} : { continuationToken: input.continuationToken }),
      ...(input.startAfter === undefined ? {} : { startAfter: input.startAfter }),
      ...(isTruncated && lastTaken !== undefined ? { nextContinuationToken: writeToken(lastTaken) } : {}),
    };
  }

  // ─── Lifecycle ─────────────────────────────────────────────────────────────────────────────────────────

  /** Resolves once every change made so far is written. */
  flushed(): Promise<void> {
    return this.#journal!.flushed();
  }

  async close(): Promise<void> {
    await this.#journal?.close();
  }

  // ─── State ─────────────────────────────────────────────────────────────────────────────────────────────

  #bucket(name: string): BucketState {
    const bucket = this.#buckets.get(name);
    if (bucket === undefined) throw s3Errors.noSuchBucket(name);
    return bucket;
  }

  #object(bucket: string, key: string): StoredObject {
    const object = this.#bucket(bucket).objects.get(key);
    if (object === undefined) throw s3Errors.noSuchKey(key);
    return object;
  }

  /** Applies a change, journals it, and resolves once it is written. */
  async #write(record: S3Record): Promise<void> {
    const journal = this.#journal!;
    journal.append(record);
    this.#apply(record);
    await journal.flushed();
  }

  #apply(record: S3Record): void {
    switch (record.kind) {
      case 'bucketCreated':
        this.#buckets.set(record.bucket.name, { info: record.bucket, objects: new Map(), keys: [] });
        return;
      case 'bucketDeleted':
        this.#buckets.delete(record.name);
        return;
      case 'objectPut': {
        const bucket = this.#bucket(record.bucket);
        const object = fromRecord(record.object);
        if (!bucket.objects.has(object.key))
          bucket.keys.splice(lowerBound(bucket.keys, object.key), 0, object.key);
        bucket.objects.set(object.key, object);
        return;
      }
      case 'objectDeleted': {
        const bucket = this.#bucket(record.bucket);
        if (!bucket.objects.delete(record.key)) return;
        bucket.keys.splice(lowerBound(bucket.keys, record.key), 1);
        return;
      }
      default:
        throw new Error(`Unknown S3 journal record: ${JSON.stringify(record)}`);
    }
  }

  *#snapshot(): Iterable<S3Record> {
    for (const bucket of this.#buckets.values()) {
      yield { kind: 'bucketCreated', bucket: bucket.info };
      for (const key of bucket.keys) {
        yield { kind: 'objectPut', bucket: bucket.info.name, object: recordOf(bucket.objects.get(key)!) };
      }
    }
  }
}

// ─── Helpers ─────────────────────────────────────────────────────────────────────────────────────────────

function storedObject(
  key: string,
  body: Buffer,
  described: {
    readonly contentType: string | undefined;
    readonly metadata: Readonly<Record<string, string>> | undefined;
    readonly headers: ObjectHeaders | undefined;
    readonly checksum: ObjectChecksum | undefined;
  },
): StoredObject {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(described.metadata ?? {})) metadata[name.toLowerCase()] = value;
  return {
    key,
    body,
    etag: `"${createHash('md5').update(body).digest('hex')}"`,
    lastModified: wholeSeconds(Date.now()),
    contentType: described.contentType ?? DEFAULT_CONTENT_TYPE,
    metadata,
    headers: { ...described.headers },
    checksum: described.checksum,
  };
}

function recordOf(object: StoredObject): ObjectRecord {
  return {
    key: object.key,
    body: object.body.toString('base64'),
    etag: object.etag,
    lastModified: object.lastModified,
    contentType: object.contentType,
    metadata: object.metadata,
    ...(Object.keys(object.headers).length === 0 ? {} : { headers: object.headers }),
    ...(object.checksum === undefined ? {} : { checksum: object.checksum }),
  };
}

function fromRecord(record: ObjectRecord): StoredObject {
  return {
    key: record.key,
    body: Buffer.from(record.body, 'base64'),
    etag: record.etag,
    lastModified: record.lastModified,
    contentType: record.contentType,
    metadata: record.metadata,
    headers: record.headers ?? {},
    checksum: record.checksum,
  };
}

function summaryOf(object: StoredObject): S3ObjectSummary {
  return {
    key: object.key,
    size: object.body.length,
    etag: object.etag,
    lastModified: new Date(object.lastModified),
    ...(object.checksum === undefined ? {} : { checksumAlgorithm: object.checksum.algorithm }),
  };
}

function headOf(object: StoredObject): S3ObjectHead {
  return {
    ...summaryOf(object),
    contentType: object.contentType,
    metadata: { ...object.metadata },
    headers: { ...object.headers },
    ...(object.checksum === undefined ? {} : { checksum: object.checksum }),
  };
}

function bucketOf(record: BucketRecord): S3Bucket {
  return { name: record.name, region: record.region, createdAt: new Date(record.createdAt) };
}

function wholeSeconds(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

/** The first index whose key is not below `key`. */
function lowerBound(keys: readonly string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareKeys(keys[middle]!, key) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The first index whose key is above `key`. */
function upperBound(keys: readonly string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareKeys(keys[middle]!, key) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Continuation tokens are opaque to clients, as S3's are: the last key (or bucket name) a page took, in
 * base64 behind a marker, so a token that was not made here is refused rather than misread.
 */
const TOKEN_MARKER = 'embedded-s3:';

function writeToken(after: string): string {
  return Buffer.from(`${TOKEN_MARKER}${after}`, 'utf8').toString('base64');
}

function readToken(token: string): string {
  const text = /^[A-Za-z0-9+/]*={0,2}$/.test(token) ? Buffer.from(token, 'base64').toString('utf8') : '';
  if (!text.startsWith(TOKEN_MARKER)) {
    throw s3Errors.invalidArgument(
      'The continuation token provided is incorrect',
      'continuation-token',
      token,
    );
  }
  return text.slice(TOKEN_MARKER.length);
}

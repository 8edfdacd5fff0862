/**
 * The records of the S3 journal (`s3.*.jsonl` in the data directory), one JSON object a line. Object bodies
 * are written in base64 inside their record: objects here are small (the inputs and results of a state
 * machine's distributed Map), and one record per change keeps an upload and its metadata atomic.
 *
 * Version 1 (current). When a record changes shape, bump `S3_RECORD_VERSION` and give `openJournal` an
 * `upgrade` for the records of version 1.
 */
import type { ObjectChecksum } from './checksums.ts';

/** The version of the records below. */
export const S3_RECORD_VERSION = 1;

/** A bucket as journaled. */
export interface BucketRecord {
  readonly name: string;
  /** The region it was created in (the request's signing region, or its LocationConstraint). */
  readonly region: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
}

/** Headers S3 keeps with an object and answers on GetObject and HeadObject, when they were given. */
export interface ObjectHeaders {
  readonly cacheControl?: string;
  readonly contentDisposition?: string;
  readonly contentEncoding?: string;
  readonly contentLanguage?: string;
  readonly expires?: string;
}

/** An object as journaled: its body in base64. */
export interface ObjectRecord {
  readonly key: string;
  readonly body: string;
  /** Quoted MD5 hex of the body, as S3 answers it: `"5d41402abc4b2a76b9719d911017c592"`. */
  readonly etag: string;
  /** Epoch milliseconds, whole seconds (S3 keeps LastModified to the second). */
  readonly lastModified: number;
  readonly contentType: string;
  /** User metadata (`x-amz-meta-*`), names in lowercase without the prefix. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly headers?: ObjectHeaders;
  readonly checksum?: ObjectChecksum;
}

/** One line of the S3 journal. */
export type S3Record =
  | { readonly kind: 'bucketCreated'; readonly bucket: BucketRecord }
  | { readonly kind: 'bucketDeleted'; readonly name: string }
  /** Created, or replaced: S3 keeps one version of each key (no versioning here). */
  | { readonly kind: 'objectPut'; readonly bucket: string; readonly object: ObjectRecord }
  | { readonly kind: 'objectDeleted'; readonly bucket: string; readonly key: string };

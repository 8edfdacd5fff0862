/**
 * Object integrity as S3 checks it on upload: the `Content-MD5` header, and the additional checksums
 * (`x-amz-checksum-<algorithm>`, base64 of the digest) that SDK v3 clients send with every PutObject by
 * default (CRC32), in a header or, for streamed bodies, in the aws-chunked trailer.
 *
 * The algorithms Node can compute here are verified (a mismatch is S3's BadDigest); the others (CRC64NVME,
 * the XXHASH family) are kept as the client computed them. A kept checksum is answered on GetObject and
 * HeadObject when the client asks for it (`x-amz-checksum-mode: ENABLED`), and the SDK then checks the body it
 * reads against it.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { s3Errors } from './errors.ts';

/** An object's additional checksum: `algorithm` as S3 spells it (`CRC32`), `value` in base64. */
export interface ObjectChecksum {
  readonly algorithm: string;
  readonly value: string;
}

/** The algorithms S3 knows, by the suffix of their header (`x-amz-checksum-crc32` → CRC32). */
const ALGORITHMS: Readonly<Record<string, string>> = {
  crc32: 'CRC32',
  crc32c: 'CRC32C',
  crc64nvme: 'CRC64NVME',
  sha1: 'SHA1',
  sha256: 'SHA256',
  sha512: 'SHA512',
  md5: 'MD5',
  xxhash64: 'XXHASH64',
  xxhash3: 'XXHASH3',
  xxhash128: 'XXHASH128',
};

const HEADER_PREFIX = 'x-amz-checksum-';

/** The header S3 answers a checksum in: `x-amz-checksum-crc32`. */
export function checksumHeader(checksum: ObjectChecksum): string {
  return `${HEADER_PREFIX}${checksum.algorithm.toLowerCase()}`;
}

/**
 * The checksum among request headers (or an aws-chunked trailer's), if one is given; throws InvalidRequest
 * when more than one is.
 */
export function checksumOf(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): ObjectChecksum | undefined {
  const found: ObjectChecksum[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!lower.startsWith(HEADER_PREFIX) || value === undefined) continue;
    const algorithm = ALGORITHMS[lower.slice(HEADER_PREFIX.length)];
    if (algorithm === undefined) continue;
    found.push({ algorithm, value: Array.isArray(value) ? (value[0] ?? '') : value });
  }
  if (found.length > 1) throw s3Errors.invalidRequest('Expecting a single x-amz-checksum- header');
  return found[0];
}

/** Throws BadDigest when the body's checksum differs from the one given (for the algorithms computed here). */
export function verifyChecksum(body: Buffer, checksum: ObjectChecksum): void {
  const computed = computeChecksum(body, checksum.algorithm);
  if (computed === undefined) {
    // Kept unverified, but it must at least be base64, as S3 requires.
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(checksum.value))
      throw s3Errors.invalidChecksum(checksumHeader(checksum));
    return;
  }
  if (computed !== checksum.value) throw s3Errors.badChecksum(checksum.algorithm.toLowerCase());
}

/** Throws InvalidDigest for a Content-MD5 that is not a base64 MD5, BadDigest for one of other bytes. */
export function verifyContentMd5(body: Buffer, contentMd5: string): void {
  if (Buffer.from(contentMd5, 'base64').length !== 16) throw s3Errors.invalidDigest(contentMd5);
  if (createHash('md5').update(body).digest('base64') !== contentMd5) throw s3Errors.badDigest();
}

/** The checksum in base64, or undefined for an algorithm not computed here. */
export function computeChecksum(body: Buffer, algorithm: string): string | undefined {
  switch (algorithm) {
    case 'CRC32':
      return uint32Base64(crc32(body));
    case 'CRC32C':
      return uint32Base64(crc32c(body));
    case 'SHA1':
    case 'SHA256':
    case 'SHA512':
    case 'MD5':
      return createHash(algorithm.toLowerCase()).update(body).digest('base64');
    default:
      return undefined;
  }
}

function uint32Base64(value: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString('base64');
}

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven. */
let crc32cTable: Uint32Array | undefined;

function crc32c(data: Buffer): number {
  crc32cTable ??= buildCrc32cTable();
  const table = crc32cTable;
  let crc = 0xffffffff;
  for (const byte of data) crc = (table[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function buildCrc32cTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

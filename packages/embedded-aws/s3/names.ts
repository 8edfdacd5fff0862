/**
 * What S3 accepts as a bucket name and an object key, and the order it lists keys in.
 *
 * Bucket names follow the naming rules of general purpose buckets (Amazon S3 User Guide, "General purpose
 * bucket naming rules"): 3 to 63 characters of lowercase letters, digits, periods and hyphens, starting and
 * ending with a letter or digit, no two periods in a row, not shaped like an IPv4 address, and none of the
 * prefixes and suffixes S3 reserves for its other kinds of names. Keys are up to 1,024 bytes of UTF-8.
 */
import { s3Errors } from './errors.ts';

const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];
const MAX_KEY_BYTES = 1024;

/**
 * Whether S3 would let a general purpose bucket be created with this name.
 *
 * @example
 * isValidBucketName('payment-results'); // true
 * isValidBucketName('Payment_Results'); // false: uppercase and underscore
 * isValidBucketName('192.168.5.4'); // false: shaped like an IP address
 */
export function isValidBucketName(name: string): boolean {
  if (name.length < 3 || name.length > 63) return false;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return false;
  if (name.includes('..')) return false;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return false;
  if (RESERVED_PREFIXES.some((prefix) => name.startsWith(prefix))) return false;
  return !RESERVED_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

/** Throws InvalidBucketName unless S3 would accept the name for a new bucket. */
export function checkBucketName(name: string): void {
  if (!isValidBucketName(name)) throw s3Errors.invalidBucketName(name);
}

/** Throws KeyTooLongError for a key over 1,024 bytes, InvalidArgument for an empty one. */
export function checkKey(key: string): void {
  if (key === '') throw s3Errors.invalidArgument('An object key must not be empty', 'key', '');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw s3Errors.keyTooLong(key);
}

/**
 * Orders keys as S3 lists them: by their UTF-8 bytes, which is the order of their code points. JavaScript
 * compares UTF-16 code units instead, which puts characters above U+FFFF (surrogate pairs) before those from
 * U+E000 to U+FFFF; this moves the surrogates above them so the two orders agree.
 *
 * @example
 * ['b', 'a/', 'a'].sort(compareKeys); // ['a', 'a/', 'b']
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    const left = a.charCodeAt(index);
    const right = b.charCodeAt(index);
    if (left !== right) return inCodePointOrder(left) - inCodePointOrder(right);
  }
  return a.length - b.length;
}

function inCodePointOrder(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

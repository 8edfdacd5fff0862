/**
 * Status tokens: the bearer secret a customer gets with a payment, to read its status and events. Only its
 * SHA-256 is stored; comparison is constant-time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new token: 32 random bytes, base64url. */
export function newStatusToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What payments.status_token_hash holds for `token`: SHA-256, hex. */
export function hashStatusToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Whether `token` is the one whose hash is `expectedHash`, compared in constant time. */
export function statusTokenMatches(token: string, expectedHash: string): boolean {
  const actual = Buffer.from(hashStatusToken(token), 'hex');
  const expected = Buffer.from(expectedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * What POST /api/payments keeps to replay its 202, without keeping the status token: the token is sealed
 * (AES-256-GCM) under a key derived from the request's own Idempotency-Key and body hash (HKDF-SHA256). Only a
 * request with the same key and the same body, which is owed the replay, can open it; the database holds
 * neither the token nor the key that opens it (the repository stores the Idempotency-Key hashed).
 *
 * @example
 * const stored = sealAccepted(accepted, { idempotencyKey, requestHash });
 * openAccepted(stored, { idempotencyKey, requestHash }); // the same { paymentId, statusToken, eventsUrl }
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { z } from 'zod';

/** The 202 body of POST /api/payments. */
export interface AcceptedPayment {
  readonly paymentId: string;
  readonly statusToken: string;
  readonly eventsUrl: string;
}

/** Whose request this is: the Idempotency-Key as sent, and the hash of its body. */
export interface ReplayOwner {
  readonly idempotencyKey: string;
  readonly requestHash: string;
}

export const SealedAcceptedSchema = z.object({
  paymentId: z.string().min(1),
  /** base64url of IV (12 bytes) ‖ ciphertext ‖ GCM tag (16 bytes). */
  sealedStatusToken: z.string().min(1),
});
export type SealedAccepted = z.infer<typeof SealedAcceptedSchema>;

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The events socket's path for a payment, with its token. */
export function eventsUrlOf(paymentId: string, statusToken: string): string {
  return `/api/payments/${paymentId}/events?token=${encodeURIComponent(statusToken)}`;
}

export function sealAccepted(accepted: AcceptedPayment, owner: ReplayOwner): SealedAccepted {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, keyFor(owner, accepted.paymentId), iv);
  const sealed = Buffer.concat([
    iv,
    cipher.update(accepted.statusToken, 'utf8'),
    cipher.final(),
    cipher.getAuthTag(),
  ]);
  return { paymentId: accepted.paymentId, sealedStatusToken: sealed.toString('base64url') };
}

/**
 * Kept before the token was sealed (migration 0004): such a record expires within a day of the upgrade.
 */
const LegacyAcceptedSchema = z.object({
  paymentId: z.string().min(1),
  statusToken: z.string().min(1),
  eventsUrl: z.string().min(1),
});

/** The 202 to replay; throws when `owner` is not the request that sealed it (the GCM tag does not match). */
export function openAccepted(stored: unknown, owner: ReplayOwner): AcceptedPayment {
  const legacy = LegacyAcceptedSchema.safeParse(stored);
  if (legacy.success) return legacy.data;
  const { paymentId, sealedStatusToken } = SealedAcceptedSchema.parse(stored);
  const sealed = Buffer.from(sealedStatusToken, 'base64url');
  const decipher = createDecipheriv(ALGORITHM, keyFor(owner, paymentId), sealed.subarray(0, IV_BYTES));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  const statusToken = Buffer.concat([
    decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
    decipher.final(),
  ]).toString('utf8');
  return { paymentId, statusToken, eventsUrl: eventsUrlOf(paymentId, statusToken) };
}

function keyFor(owner: ReplayOwner, paymentId: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', owner.idempotencyKey, owner.requestHash, `payment-to-vend replay ${paymentId}`, 32),
  );
}

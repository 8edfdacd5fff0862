/**
 * UTRNs (Unique Transaction Reference Numbers): the 20-digit codes a vend produces. The meter receives one
 * over the air, or the customer keys it in by hand. A real UTRN is an encrypted, meter-specific command;
 * the simulator only needs one that is 20 digits, unique per vend and stable for a transaction id.
 */
import { createHmac } from 'node:crypto';

/** Only the simulator uses this: it makes UTRNs reproducible across restarts, not secret. */
const SIMULATOR_UTRN_KEY = 'vending-vendor-simulator';
const TWENTY_DIGITS = 10n ** 20n;

/**
 * The UTRN the simulator issues for a vend: derived from the transaction id and the meter, so asking
 * again (even after a restart) gives the same code, and different transactions get different codes.
 *
 * @example
 * utrnFor('pay_123', '1200000000011'); // a 20-digit string, the same on every call
 */
export function utrnFor(transactionId: string, meterId: string): string {
  const digest = createHmac('sha256', SIMULATOR_UTRN_KEY).update(`${transactionId}\n${meterId}`).digest();
  // 72 bits cover 10^20 about 47 times over, so the reduction is close to uniform.
  const value = BigInt(`0x${digest.subarray(0, 9).toString('hex')}`) % TWENTY_DIGITS;
  return value.toString().padStart(20, '0');
}

/**
 * Whether `value` looks like a UTRN: exactly 20 digits.
 *
 * @example
 * isUtrn('12345678901234567890'); // true
 */
export function isUtrn(value: string): boolean {
  return /^\d{20}$/.test(value);
}

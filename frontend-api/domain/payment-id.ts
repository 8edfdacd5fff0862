import { randomUUID } from 'node:crypto';

/** A new payment id: also the Step Functions execution name, so it keeps to `[A-Za-z0-9_-]{1,80}`. */
export function newPaymentId(): string {
  return `pay_${randomUUID().replaceAll('-', '')}`;
}

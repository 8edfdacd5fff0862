/** How the payments pages write amounts, statuses, reasons and links to payments. */
import type { PaymentStatus } from '../../database/schema.ts';
import type { DecisionAction } from '../../workflow/contracts.ts';
import { html, type Markup } from './html.ts';

/** `£20.00`. */
export function poundsOf(pence: number): string {
  return `£${(pence / 100).toFixed(2)}`;
}

export function paymentPath(paymentId: string, query: Record<string, string | undefined> = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query))
    if (value !== undefined && value !== '') search.set(key, value);
  const text = search.toString();
  return `/payments/${encodeURIComponent(paymentId)}${text === '' ? '' : `?${text}`}`;
}

const STATUS_WORDS: Record<PaymentStatus, string> = {
  accepted: 'Accepted',
  charged: 'Charged',
  charge_declined: 'Declined',
  charge_unconfirmed: 'Charge unconfirmed',
  vended: 'Vended',
  vend_failed: 'Vend failed',
  refunded: 'Refunded',
};

export function paymentStatusWord(status: string): string {
  return STATUS_WORDS[status as PaymentStatus] ?? status;
}

/** The payment's status as a badge; the words carry the meaning, colour helps. */
export function paymentStatusBadge(status: string): Markup {
  return html`<span class="badge-payment" data-status="${status}">${paymentStatusWord(status)}</span>`;
}

/** Why a payment is open for a decision, in words. */
export function openReasonWord(reason: string): string {
  if (reason === 'vend_failed') return 'Vend failed: charged, not credited';
  if (reason === 'charge_unconfirmed') return 'Charge unconfirmed: may have been taken';
  return reason;
}

export const ACTION_WORDS: Record<DecisionAction, { readonly label: string; readonly help: string }> = {
  revend: {
    label: 'Re-vend',
    help: 'Ask the vendor again under the same transaction id: it never vends one transaction twice, so a vend it already made comes back with the same UTRN.',
  },
  record_utrn: {
    label: 'Record a UTRN',
    help: 'The vendor gave a UTRN out of band (by phone, from its portal): record it as the vend. The customer is told it, to key into the meter if it does not arrive.',
  },
  refund: {
    label: 'Refund',
    help: 'Give the whole charge back through the gateway (its own idempotency key). The vendor is asked first: if it did vend after all (its answer was lost), nothing is refunded, the payment ends vended and on-call is told. The customer is told.',
  },
  recheck_charge: {
    label: 'Recheck the charge',
    help: 'Ask the gateway again whether the charge was taken: charged goes on to vend; declined, or no charge at the gateway at all, ends it as declined; a gateway that still cannot answer leaves it waiting.',
  },
};

export function actionWord(action: string): string {
  return ACTION_WORDS[action as DecisionAction]?.label ?? action;
}

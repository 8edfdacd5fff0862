/**
 * What the payment gateway simulator accepts in a request body or query, and its refusals: Stripe's shape of
 * error (`invalid_request_error` with the parameter named), so a client meets here what it meets at a gateway.
 */
import { z } from 'zod';
import type { GatewayCharge } from './payment-gateway.ts';
import { jsonResponse, type SimulatorResponse } from './server.ts';

/** Why a charge is refunded; `vend_failed`: the customer paid but the meter could not be credited. */
export const REFUND_REASONS = ['requested_by_customer', 'duplicate', 'fraudulent', 'vend_failed'] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];

/** Smallest and largest amounts a UK card gateway takes in one charge (Stripe: £0.30 and 8 digits). */
const MIN_AMOUNT_PENCE = 30;
const MAX_AMOUNT_PENCE = 99_999_999;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** Field names that only card data would use: refused, whatever their value. */
const CARD_DATA_FIELDS =
  /^(pan|cvv2?|cvc2?|cardnumber|card_number|securitycode|security_code|expiry|exp_?month|exp_?year)$/i;
/** 12–19 digits, optionally grouped by spaces or hyphens, as a card number is printed. */
const PAN_LIKE = /(?:\d[ -]?){11,18}\d/;

const ChargeRequestSchema = z.strictObject({
  amountPence: z.number().int(),
  currency: z.string(),
  paymentToken: z.string().min(1).max(255),
  reference: z.string().min(1).max(255),
});

/** What `GET /v1/charges` takes; any other query parameter is refused, as Stripe refuses one. */
export const LIST_CHARGES_PARAMETERS = new Set([
  'reference',
  'created_after',
  'created_before',
  'limit',
  'starting_after',
]);
/** A page of charges: Stripe's default and largest page sizes. */
export const DEFAULT_LIST_LIMIT = 10;
export const MAX_LIST_LIMIT = 100;
/** A time as Unix seconds, or as ISO 8601 with its offset (`Z` or `+01:00`): a time without a zone is ambiguous. */
const UNIX_SECONDS = /^\d{1,12}$/;
const ISO_8601_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

const RefundRequestSchema = z.strictObject({
  charge: z.string().min(1).max(255),
  amountPence: z.number().int().positive().optional(),
  reason: z.enum(REFUND_REASONS).optional(),
});

export type ChargeRequest = z.infer<typeof ChargeRequestSchema>;
export type RefundRequest = z.infer<typeof RefundRequestSchema>;

/** The 400 for the first thing a schema found wrong in a body, naming the parameter. */
function schemaRefusal(issue: z.core.$ZodIssue, body: Record<string, unknown>): SimulatorResponse {
  if (issue.code === 'unrecognized_keys') {
    const param = issue.keys[0] ?? '';
    return invalidRequest(400, 'parameter_unknown', `Received unknown parameter: ${param}`, param);
  }
  const param = String(issue.path[0] ?? '');
  return body[param] === undefined
    ? invalidRequest(400, 'parameter_missing', `Missing required param: ${param}.`, param)
    : invalidRequest(400, 'parameter_invalid', `Invalid ${param}: ${issue.message}`, param);
}

export function parseRefundRequest(
  body: unknown,
): { refund: RefundRequest } | { refusal: SimulatorResponse } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { refusal: invalidRequest(400, 'body_not_json', 'The request body must be a JSON object.') };
  const result = RefundRequestSchema.safeParse(body);
  if (!result.success)
    return { refusal: schemaRefusal(result.error.issues[0]!, body as Record<string, unknown>) };
  return { refund: result.data };
}

/** Why a charge cannot be refunded this amount now, or undefined when it can. */
export function refundRefusal(
  charge: GatewayCharge,
  amountPence: number | undefined,
): SimulatorResponse | undefined {
  if (charge.status !== 'succeeded')
    return invalidRequest(
      400,
      'charge_not_refundable',
      `Charge ${charge.id} was not paid (it failed), so there is nothing to refund.`,
      'charge',
    );
  const left = charge.amountPence - charge.amountRefundedPence;
  if (left <= 0)
    return invalidRequest(
      400,
      'charge_already_refunded',
      `Charge ${charge.id} has already been refunded.`,
      'charge',
    );
  if (amountPence !== undefined && amountPence > left)
    return invalidRequest(
      400,
      'amount_too_large',
      `Refund amount (${amountPence} pence) is greater than the unrefunded amount on the charge (${left} pence).`,
      'amountPence',
    );
  return undefined;
}

export function parseChargeRequest(
  body: unknown,
): { charge: ChargeRequest } | { refusal: SimulatorResponse } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { refusal: invalidRequest(400, 'body_not_json', 'The request body must be a JSON object.') };
  const result = ChargeRequestSchema.safeParse(body);
  if (!result.success)
    return { refusal: schemaRefusal(result.error.issues[0]!, body as Record<string, unknown>) };
  const charge = result.data;
  if (charge.currency.toUpperCase() !== 'GBP')
    return {
      refusal: invalidRequest(400, 'parameter_invalid', 'This account can only charge in GBP.', 'currency'),
    };
  if (charge.amountPence < MIN_AMOUNT_PENCE)
    return {
      refusal: invalidRequest(
        400,
        'amount_too_small',
        `Amount must be at least ${MIN_AMOUNT_PENCE} pence.`,
        'amountPence',
      ),
    };
  if (charge.amountPence > MAX_AMOUNT_PENCE)
    return {
      refusal: invalidRequest(
        400,
        'amount_too_large',
        `Amount must be no more than ${MAX_AMOUNT_PENCE} pence.`,
        'amountPence',
      ),
    };
  return { charge: { ...charge, currency: 'GBP' } };
}

/** A PAN-looking payment token, or any field only card data would use, anywhere in the body. */
export function carriesCardData(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const token = (body as Record<string, unknown>).paymentToken;
  if (typeof token === 'string' && PAN_LIKE.test(token)) return true;
  return Object.entries(body).some(
    ([field, value]) => CARD_DATA_FIELDS.test(field) || (typeof value === 'object' && carriesCardData(value)),
  );
}

/** A listing's time parameter in milliseconds since the epoch; NaN unless Unix seconds or ISO 8601 with a zone. */
export function timeOf(value: string): number {
  if (UNIX_SECONDS.test(value)) return Number(value) * 1000;
  if (ISO_8601_WITH_ZONE.test(value)) return Date.parse(value);
  return Number.NaN;
}

export function invalidRequest(
  status: number,
  code: string,
  message: string,
  param?: string,
): SimulatorResponse {
  return jsonResponse(
    status,
    { error: { type: 'invalid_request_error', code, message, ...(param === undefined ? {} : { param }) } },
    { 'Should-Retry': 'false' },
  );
}

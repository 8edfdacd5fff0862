/**
 * The payments resource's request and response schemas: the HTTP API contract of DESIGN.md.
 */
import { z } from 'zod';
import { PAYMENT_STATUSES, TOP_UP_LIMITS_PENCE } from '../../../database/schema.ts';
import { isValidMpanCore } from '../../domain/mpan.ts';

export const PAYMENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;

export const CreatePaymentHeadersSchema = z.object({
  'idempotency-key': z
    .string({ error: 'the Idempotency-Key header is required' })
    .min(1, 'the Idempotency-Key header must be 1 to 255 characters')
    .max(255, 'the Idempotency-Key header must be 1 to 255 characters'),
});

export const CreatePaymentBodySchema = z.strictObject(
  {
    meterId: z
      .string({ error: 'meterId must be a string' })
      .refine(isValidMpanCore, 'meterId must be a 13-digit MPAN core with a valid check digit')
      .describe('The electricity meter: a 13-digit MPAN core'),
    amountPence: z
      .number({ error: 'amountPence must be a number' })
      .int('amountPence must be a whole number of pence')
      .min(TOP_UP_LIMITS_PENCE.min, `amountPence must be at least ${TOP_UP_LIMITS_PENCE.min}`)
      .max(TOP_UP_LIMITS_PENCE.max, `amountPence must be at most ${TOP_UP_LIMITS_PENCE.max}`)
      .describe('The top-up in pence (£10 to £175)'),
    paymentToken: z
      .string({ error: 'paymentToken must be a string' })
      .min(1, 'paymentToken must not be empty')
      .max(255, 'paymentToken must be at most 255 characters')
      .describe('The payment gateway token for the card (never the card number), e.g. tok_visa'),
  },
  // Zod's own message quotes the unknown field's name, which is the client's text: never echo it.
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? 'the body may hold only meterId, amountPence and paymentToken'
        : undefined,
  },
);
export type CreatePaymentBody = z.infer<typeof CreatePaymentBodySchema>;

export const PaymentAcceptedSchema = z.object({
  paymentId: z.string(),
  statusToken: z.string().describe('Bearer token for GET /api/payments/{paymentId} and the events socket'),
  eventsUrl: z.string().describe('The WebSocket path of the payment events'),
});
export type PaymentAccepted = z.infer<typeof PaymentAcceptedSchema>;

export const ErrorSchema = z.object({
  statusCode: z.number().int(),
  error: z.string(),
  code: z.string().optional(),
  message: z.string(),
  field: z.string().optional(),
});

export const PaymentParamsSchema = z.object({ paymentId: z.string() });

export const PaymentEventSchema = z
  .object({ seq: z.number().int(), type: z.string(), at: z.string() })
  .catchall(z.unknown());

export const PaymentStatusSchema = z.object({
  paymentId: z.string(),
  status: z.enum(PAYMENT_STATUSES),
  meterId: z.string(),
  amountPence: z.number().int(),
  events: z.array(PaymentEventSchema),
});

export const EventsQuerySchema = z.object({
  token: z.string().optional(),
  after: z.coerce.number().int().min(0).default(0),
});

/** What an unknown payment, a wrong token and a missing token all get: the same 404. */
export const PAYMENT_NOT_FOUND = {
  statusCode: 404,
  error: 'Not Found',
  code: 'payment_not_found',
  message: 'No such payment',
} as const;

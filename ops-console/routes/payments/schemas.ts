/** The payments resource's schemas: requests as the API validates them, answers as /docs describes them. */
import { z } from 'zod';
import { FOLLOW_UP_REASONS } from '../../../database/operator-views.ts';
import { PAYMENT_STATUSES, VEND_OUTCOMES } from '../../../database/schema.ts';
import { DECISION_ACTIONS } from '../../../workflow/contracts.ts';

/** A payment id is also its execution's name (migration 0001's payments_payment_id_format). */
export const PaymentIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be a payment id');

export const PaymentParamsSchema = z.object({ paymentId: PaymentIdSchema });

/** `true`/`1` or `false`/`0`, as a query string says it. */
export const QueryBooleanSchema = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

export const SearchPaymentsQuerySchema = z.object({
  paymentId: z.string().trim().max(80).optional(),
  meterId: z
    .string()
    .trim()
    .regex(/^[0-9]{6,13}$/, 'must be a meter id: an MPAN core (13 digits) or an MPRN (6 to 10 digits)')
    .optional(),
  status: z.enum(PAYMENT_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(25),
});

export const PaymentDetailQuerySchema = z.object({
  /**
   * Also look at PaymentFailure and VendingFailure (each look counts one receive towards their
   * maxReceiveCount; the dead-letter queues are always looked at).
   */
  peekSourceQueues: QueryBooleanSchema.default(false),
});

export const DecisionBodySchema = z
  .object({
    action: z.enum(DECISION_ACTIONS),
    reason: z.string().trim().min(1, 'say why: it is kept in the audit trail').max(1000),
    utrn: z
      .string()
      .trim()
      .regex(/^\d{20}$/, 'a UTRN is 20 digits')
      .optional(),
    /** Optional: the console's page gives each form one, so the same form sent twice is one decision. */
    decisionId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,80}$/)
      .optional(),
  })
  .refine((body) => (body.action === 'record_utrn') === (body.utrn !== undefined), {
    message: 'a UTRN is given with record_utrn, and only with it',
    path: ['utrn'],
  });
export type DecisionBody = z.infer<typeof DecisionBodySchema>;

const PaymentListItemSchema = z.object({
  paymentId: z.string(),
  meterId: z.string(),
  amountPence: z.number().int(),
  status: z.enum(PAYMENT_STATUSES),
  createdAt: z.string(),
  updatedAt: z.string(),
  openFor: z.enum(FOLLOW_UP_REASONS).nullable(),
});

export const PaymentListSchema = z.object({ payments: z.array(PaymentListItemSchema) });

export const DecisionSchemaOut = z.object({
  decisionId: z.string(),
  action: z.enum(DECISION_ACTIONS),
  operator: z.string(),
  reason: z.string(),
  decidedAt: z.string(),
  utrn: z.string().optional(),
});

export const DecidedSchema = z.object({
  paymentId: z.string(),
  decision: DecisionSchemaOut,
  /** The execution the decision was handed to. */
  executionArn: z.string().nullable(),
});

export const PeekedMessageSchema = z.object({
  messageId: z.string(),
  queueName: z.string(),
  sentAt: z.string().nullable(),
  receiveCount: z.number().int(),
  body: z.string(),
  paymentId: z.string().nullable(),
});

export const AlertSchema = z.object({
  messageId: z.string(),
  topicArn: z.string(),
  subject: z.string().nullable(),
  message: z.string(),
  publishedAt: z.string(),
  receivedAt: z.string(),
  paymentId: z.string().nullable(),
});

export const AlertsStatusSchema = z.object({
  state: z.enum(['starting', 'listening', 'no_topic', 'not_permitted', 'failed', 'stopped']),
  topicArn: z.string().nullable(),
  queueName: z.string(),
  note: z.string().nullable(),
});

export const FollowUpSchema = z.object({
  reason: z.enum(FOLLOW_UP_REASONS),
  open: z.boolean(),
  executionArn: z.string().nullable(),
  openedAt: z.string(),
  deadlineAt: z.string(),
  overdue: z.boolean(),
  escalations: z.number().int(),
  closedAt: z.string().nullable(),
  allowedActions: z.array(z.enum(DECISION_ACTIONS)),
});

export const PaymentDetailSchema = z.object({
  payment: z.object({
    paymentId: z.string(),
    meterId: z.string(),
    amountPence: z.number().int(),
    status: z.enum(PAYMENT_STATUSES),
    gatewayChargeId: z.string().nullable(),
    declineReason: z.string().nullable(),
    chargeError: z.string().nullable(),
    refundId: z.string().nullable(),
    utrn: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  }),
  events: z.array(
    z.object({
      seq: z.number().int(),
      type: z.string(),
      at: z.string(),
      fields: z.record(z.string(), z.unknown()),
    }),
  ),
  vends: z.array(
    z.object({
      attempt: z.number().int(),
      transactionId: z.string(),
      outcome: z.enum(VEND_OUTCOMES),
      utrn: z.string().nullable(),
      rejectionCode: z.string().nullable(),
      recordedByHand: z.boolean(),
      createdAt: z.string(),
      error: z.string().nullable(),
    }),
  ),
  followUp: FollowUpSchema.nullable(),
  decisions: z.array(
    z.object({
      decisionId: z.string(),
      action: z.string(),
      operator: z.string(),
      reason: z.string(),
      utrn: z.string().nullable(),
      decidedAt: z.string(),
      recordedAt: z.string(),
    }),
  ),
  execution: z.object({ executionArn: z.string(), status: z.string() }).nullable(),
  queueMessages: z.object({
    sourceQueuesPeeked: z.boolean(),
    messages: z.array(PeekedMessageSchema),
    notLookedAt: z.array(z.string()),
    problem: z.string().nullable(),
  }),
  alerts: z.array(AlertSchema),
  alertsStatus: AlertsStatusSchema,
});

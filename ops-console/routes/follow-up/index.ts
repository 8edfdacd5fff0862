/**
 * The follow-up resource: what needs an operator, oldest first (the payments open for a decision, the
 * reconciliation task's open findings, the PaymentFailure and VendingFailure messages, each dead-letter queue
 * with its messages), as JSON and as a page, and the redrive of a dead-letter queue back to its source queues
 * (needs --enable-actions). The open payments and the findings need the payments database; the queues do not,
 * and each part is shown without the others.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { FOLLOW_UP_REASONS } from '../../../database/operator-views.ts';
import { FINDING_KINDS } from '../../../database/reconciliation.ts';
import { PAYMENT_STATUSES } from '../../../database/schema.ts';
import { answerForAwsError } from '../../aws-errors.ts';
import { OpsConsoleError } from '../../errors.ts';
import { followUpPage, type Part } from '../../pages/follow-up-page.ts';
import { acceptForms } from '../../pages/forms.ts';
import { pageContext, sendPage } from '../../pages/respond.ts';
import { requireDecisionsEnabled } from '../../payments/decisions-enabled.ts';
import { PeekedMessageSchema, QueryBooleanSchema } from '../payments/schemas.ts';
import { ErrorSchema } from '../schemas.ts';

const QueueNameParamsSchema = z.object({
  queueName: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be a queue name'),
});

const FollowUpQuerySchema = z.object({
  /** Also look at PaymentFailure and VendingFailure: each look counts one receive towards maxReceiveCount. */
  peekSourceQueues: QueryBooleanSchema.default(false),
});

const OpenPaymentSchema = z.object({
  paymentId: z.string(),
  meterId: z.string(),
  amountPence: z.number().int(),
  status: z.enum(PAYMENT_STATUSES),
  reason: z.enum(FOLLOW_UP_REASONS),
  executionArn: z.string().nullable(),
  openedAt: z.string(),
  deadlineAt: z.string(),
  escalations: z.number().int(),
});

const FindingSchema = z.object({
  findingId: z.string().describe('`<kind>:<payment id>`, or `<kind>:<gateway charge id>`'),
  kind: z
    .enum(FINDING_KINDS)
    .describe(
      'charged_not_vended: money taken, not vended, refunded or open for a decision; charge_without_payment: a charge no payment records',
    ),
  paymentId: z
    .string()
    .nullable()
    .describe('The payment; for a charge without one, the payment its reference names, if any'),
  reference: z.string().nullable().describe('The charge’s reference at the gateway (charge_without_payment)'),
  gatewayChargeId: z.string().nullable(),
  amountPence: z.number().int(),
  paymentStatus: z.enum(PAYMENT_STATUSES).nullable(),
  occurredAt: z
    .string()
    .describe(
      'charged_not_vended: since when the payment has waited; charge_without_payment: when the charge was made',
    ),
  firstFoundAt: z.string(),
  lastFoundAt: z.string(),
});

const FollowUpQueueSchema = z.object({
  name: z.string(),
  queueUrl: z.string(),
  kind: z.enum(['follow_up', 'dead_letter']),
  visible: z.number().int(),
  inFlight: z.number().int(),
  delayed: z.number().int(),
  deadLetterTarget: z.string().nullable(),
  maxReceiveCount: z.number().int().nullable(),
  sourceQueues: z.array(z.string()),
  peeked: z.boolean(),
  messages: z.array(PeekedMessageSchema),
  note: z.string().nullable(),
  lastMoveTask: z
    .object({
      status: z.string(),
      startedAt: z.string().nullable(),
      moved: z.number().int(),
      toMove: z.number().int().nullable(),
      failureReason: z.string().nullable(),
    })
    .nullable(),
});

const partSchema = <T extends z.ZodType>(value: T) =>
  z.union([
    z.object({ ok: z.literal(true), value }),
    z.object({ ok: z.literal(false), problem: z.string() }),
  ]);

const FollowUpSchema = z.object({
  openPayments: partSchema(z.array(OpenPaymentSchema)),
  reconciliation: partSchema(z.array(FindingSchema)),
  queues: partSchema(z.array(FollowUpQueueSchema)),
});

const RedriveStartedSchema = z.object({ queueName: z.string(), taskHandle: z.string() });

const followUpRoutes: FastifyPluginAsyncZod = async (fastify) => {
  acceptForms(fastify);

  const read = async (peekSourceQueues: boolean) => {
    const [openPayments, reconciliation, queues] = await Promise.all([
      part(() => fastify.opsPayments.openFollowUps()),
      part(() => fastify.opsReconciliation.open()),
      part(() => fastify.queueMessages.followUpQueues({ peekSourceQueues })),
    ]);
    return { openPayments, reconciliation, queues };
  };

  fastify.get(
    '/api/follow-up',
    {
      schema: {
        tags: ['follow-up'],
        summary: 'What needs an operator, oldest first',
        description:
          'The payments open for a decision (why, since when, the deadline after which on-call is paged again, escalations so far); the reconciliation task’s open findings (`npm run reconcile` locally; payments charged but not vended that nobody is dealing with, and gateway charges no payment records), oldest first; then PaymentFailure and VendingFailure, then every dead-letter queue, each with its messages oldest first. Each part is `{ ok: true, value }` or `{ ok: false, problem }` (no payments database, no SQS permission) on its own. The dead-letter queues are always looked at; PaymentFailure and VendingFailure only with `peekSourceQueues=true`, since each look counts one receive towards their maxReceiveCount.',
        querystring: FollowUpQuerySchema,
        response: { 200: FollowUpSchema, 400: ErrorSchema },
      },
    },
    async (request) => read(request.query.peekSourceQueues),
  );

  fastify.post(
    '/api/follow-up/dead-letter-queues/:queueName/redrive',
    {
      schema: {
        tags: ['follow-up'],
        summary: 'Redrive a dead-letter queue to its source queues (needs --enable-actions)',
        description:
          'SQS StartMessageMoveTask without a destination: every message the dead-letter queue holds now moves back to the queue it came from, oldest first. 409 when the queue is not a dead-letter queue, or a redrive of it is already running.',
        params: QueueNameParamsSchema,
        response: {
          202: RedriveStartedSchema,
          400: ErrorSchema,
          403: ErrorSchema,
          404: ErrorSchema,
          409: ErrorSchema,
        },
      },
      preValidation: requireDecisionsEnabled,
    },
    async (request, reply) => {
      const started = await fastify.queueMessages.redriveToSource(request.params.queueName);
      request.log.info(
        { queueName: started.queueName, action: 'redrive-queue' },
        'operator redrove a dead-letter queue',
      );
      return reply.code(202).send(started);
    },
  );

  fastify.get(
    '/follow-up',
    {
      schema: {
        hide: true,
        querystring: z.object({ peekSourceQueues: z.string().optional(), redriven: z.string().optional() }),
      },
    },
    async (request, reply) => {
      const peekSourceQueues = FollowUpQuerySchema.safeParse(request.query).data?.peekSourceQueues ?? false;
      const { redriven } = request.query;
      const data = await read(peekSourceQueues);
      return sendPage(
        reply,
        followUpPage(pageContext(fastify), {
          ...data,
          peekSourceQueues,
          redriven: redriven !== undefined && /^[A-Za-z0-9_-]{1,80}$/.test(redriven) ? redriven : undefined,
        }),
      );
    },
  );

  fastify.post(
    '/follow-up/dead-letter-queues/:queueName/redrive',
    { schema: { hide: true, params: QueueNameParamsSchema }, preValidation: requireDecisionsEnabled },
    async (request, reply) => {
      const started = await fastify.queueMessages.redriveToSource(request.params.queueName);
      request.log.info(
        { queueName: started.queueName, action: 'redrive-queue' },
        'operator redrove a dead-letter queue',
      );
      return reply.redirect(`/follow-up?redriven=${encodeURIComponent(started.queueName)}`, 303);
    },
  );
};

/** One part of the follow-up, or why it could not be read (the other part is still shown). */
async function part<T>(read: () => Promise<T>): Promise<Part<T>> {
  try {
    return { ok: true, value: await read() };
  } catch (error) {
    // No payments database (OpsConsoleNoDatabaseError), or one of the console's own refusals.
    if (error instanceof OpsConsoleError) return { ok: false, problem: error.message };
    const answer = answerForAwsError(error);
    if (answer !== undefined) return { ok: false, problem: answer.message };
    throw error;
  }
}

export default followUpRoutes;

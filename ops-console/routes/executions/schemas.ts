/** The executions API's requests and answers. */
import { z } from 'zod';
import { EXECUTION_OUTCOMES, EXECUTION_STATUSES } from '../../executions/outcomes.ts';
import { ExecutionArnSchema, StateMachineArnSchema } from '../schemas.ts';

/** ISO 8601; without a zone it is UTC (what the pages' date fields send). */
export const DateQuerySchema = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/,
    'must be a date and time such as 2026-12-02T10:15:00Z',
  );

export const ListExecutionsParamsSchema = z.object({ stateMachineArn: StateMachineArnSchema });

export const ListExecutionsQuerySchema = z.object({
  status: z.enum(EXECUTION_STATUSES).optional().describe('Only executions with this status'),
  name: z
    .string()
    .min(1)
    .max(80)
    .optional()
    .describe('The execution name (the payment id), whole or in part'),
  from: DateQuerySchema.optional().describe('Started at or after (ISO 8601; UTC without a zone)'),
  to: DateQuerySchema.optional().describe('Started at or before (ISO 8601; UTC without a zone)'),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().min(1).max(4096).optional().describe('nextCursor of the previous page'),
});
export type ListExecutionsQuery = z.infer<typeof ListExecutionsQuerySchema>;

export const ExecutionParamsSchema = z.object({ executionArn: ExecutionArnSchema });

export const FailureSchema = z
  .object({
    error: z.string(),
    cause: z.string().nullable(),
    stateName: z.string().nullable(),
    eventId: z.number().int(),
    eventType: z.string(),
  })
  .describe('The error and cause of the step that failed (from the history), not the Fail state’s');

export const ExecutionRowSchema = z.object({
  executionArn: z.string(),
  stateMachineArn: z.string(),
  name: z.string(),
  status: z.enum(EXECUTION_STATUSES),
  startDate: z.string(),
  stopDate: z.string().nullable(),
  durationMs: z.number().nullable(),
  redriveCount: z.number().int(),
  outcome: z
    .enum(EXECUTION_OUTCOMES)
    .describe(
      'charge_declined is a normal answer; awaiting_decision (running, its payment open in AwaitDecision until an operator decides) needs following up, as do vend_failed and charge_unconfirmed (executions of earlier definitions, which ended in a Fail state)',
    ),
  reason: z
    .string()
    .nullable()
    .describe(
      'One line: `VendRejected: NOT_FOR_THIS_DEVICE`, or the decline code; for awaiting_decision, the failure that led there',
    ),
  failure: FailureSchema.nullable(),
  declineReason: z.string().nullable(),
});

export const ExecutionPageSchema = z.object({
  executions: z.array(ExecutionRowSchema),
  nextCursor: z.string().nullable(),
  scanned: z.number().int(),
  scanLimitReached: z.boolean(),
});

const StateStatusSchema = z.enum(['succeeded', 'caught', 'failed', 'running', 'aborted']);

const AttemptSchema = z.object({
  number: z.number().int(),
  scheduledAt: z.string(),
  endedAt: z.string().nullable(),
  outcome: z.enum(['succeeded', 'failed', 'running']),
  endedBy: z.string().nullable(),
  error: z.string().nullable(),
  cause: z.string().nullable(),
});

export const StateSummarySchema = z.object({
  name: z.string(),
  type: z.string(),
  status: StateStatusSchema,
  retries: z.number().int(),
  totalRetries: z.number().int(),
  visits: z.number().int(),
  enteredAt: z.string(),
  exitedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  input: z.string().nullable(),
  output: z.string().nullable(),
  error: z.string().nullable(),
  cause: z.string().nullable(),
  attempts: z.array(AttemptSchema),
});

export const HistoryRowSchema = z.object({
  id: z.number().int(),
  previousEventId: z.number().int().nullable(),
  type: z.string(),
  timestamp: z.string(),
  stateName: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});

export const ExecutionDetailSchema = z.object({
  execution: ExecutionRowSchema.extend({
    input: z.string().nullable(),
    output: z.string().nullable(),
    error: z.string().nullable().describe('As DescribeExecution has it (a Fail state’s own error)'),
    cause: z.string().nullable(),
    redriveDate: z.string().nullable(),
    redriveStatus: z.string().nullable(),
    redriveStatusReason: z.string().nullable(),
  }),
  stateMachine: z.object({
    stateMachineArn: z.string(),
    name: z.string(),
    definition: z.string(),
    revisionId: z.string().nullable(),
  }),
  states: z.array(StateSummarySchema),
  transitions: z.array(z.object({ from: z.string(), to: z.string(), caught: z.boolean() })),
  history: z.array(HistoryRowSchema),
});

const PointSchema = z.object({ x: z.number(), y: z.number() });

export const GraphLayoutSchema = z.object({
  width: z.number(),
  height: z.number(),
  nodes: z.array(
    z.object({
      id: z.string(),
      kind: z.enum(['start', 'end', 'state', 'branch']),
      stateName: z.string().nullable(),
      stateType: z.string().nullable(),
      label: z.string(),
      detail: z.string().nullable(),
      compound: z.boolean(),
      parentId: z.string().nullable(),
      x: z.number(),
      y: z.number(),
      width: z.number(),
      height: z.number(),
    }),
  ),
  edges: z.array(
    z.object({
      id: z.string(),
      kind: z.enum(['start', 'next', 'choice', 'default', 'catch', 'end']),
      fromState: z.string(),
      toState: z.string(),
      label: z.string().nullable(),
      title: z.string().nullable(),
      points: z.array(PointSchema),
      labelBox: z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() }).nullable(),
    }),
  ),
});

export const StopBodySchema = z
  .object({
    error: z.string().max(256).optional(),
    cause: z.string().max(32768).optional(),
  })
  .default({});

export const StoppedSchema = z.object({ stopDate: z.string() });
export const RedrivenSchema = z.object({ redriveDate: z.string() });

/** A date query value as a Date: UTC unless it names a zone. */
export function dateOf(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const zoned = /(Z|[+-]\d{2}:\d{2})$/.test(text) || !text.includes('T') ? text : `${text}Z`;
  const date = new Date(text.includes('T') ? zoned : `${text}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

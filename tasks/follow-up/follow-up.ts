/**
 * The follow-up task: a payment whose vend failed, or whose charge is unconfirmed, stays open until an
 * operator decides what ends it (DESIGN.md, "Operators").
 * - `open` (the AwaitDecision step, lambda:invoke.waitForTaskToken): keeps the step's task token on the
 *   payment's follow-up row, with the deadline after which on-call is paged again. The operator console finds
 *   the payment in its follow-up list and hands the decision to the execution with SendTaskSuccess on that
 *   token. Nothing is answered here: the execution waits until a decision (or the deadline) comes.
 * - `recordDecision` (the RecordDecision step): the decision the execution was given goes into the audit trail
 *   (who, when, what, why) and closes the follow-up, before the machine carries it out. A decision the payment
 *   cannot take (a refund of a charge never confirmed, a re-vend of a payment that is not vend_failed) is
 *   refused with `DecisionRefused`, and the machine waits for another.
 *
 * @example
 * const followUp = createFollowUp({ payments, logger });
 * await followUp({ action: 'open', paymentId: 'pay_1', taskToken, executionArn, deadlineSeconds: 14400 });
 * await followUp({ action: 'recordDecision', paymentId: 'pay_1', decision });
 * // { action: 'revend' }
 */
import { PaymentNotFoundError } from '../../database/payments-errors.ts';
import type { FollowUpRecords } from '../../database/payments-repository.ts';
import {
  DECISIONS_BY_REASON,
  type DecisionAction,
  DecisionSchema,
  FollowUpTaskRequestSchema,
  type OpenFollowUpRequest,
  type RecordDecisionRequest,
} from '../../workflow/contracts.ts';
import type { TaskLogger } from '../shared/logger.ts';

export interface FollowUpDependencies {
  readonly payments: FollowUpRecords;
  readonly logger: TaskLogger;
}

/** A decision that the payment cannot take, or that is not a decision at all: the machine waits again. */
export class DecisionRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecisionRefused';
  }
}

/**
 * What the RecordDecision step answers: the action the machine goes on to carry out, and the round of vend
 * attempts a re-vend starts (1 + the payment's re-vends so far, this one included).
 */
export interface RecordedDecision {
  readonly action: DecisionAction;
  readonly vendRound: number;
}

export function createFollowUp(dependencies: FollowUpDependencies) {
  return async function followUp(event: unknown): Promise<RecordedDecision | { readonly opened: true }> {
    const request = FollowUpTaskRequestSchema.parse(event);
    return request.action === 'open' ? open(dependencies, request) : recordDecision(dependencies, request);
  };
}

async function open(
  { payments, logger }: FollowUpDependencies,
  request: OpenFollowUpRequest,
): Promise<{ readonly opened: true }> {
  const opened = await payments.openFollowUp(request);
  // The token stays out of the log: it lets whoever holds it end the payment.
  logger.warn('payment open for an operator decision', {
    paymentId: request.paymentId,
    reason: opened.reason,
    escalations: opened.escalations,
    deadlineAt: opened.deadlineAt,
  });
  return { opened: true };
}

async function recordDecision(
  { payments, logger }: FollowUpDependencies,
  request: RecordDecisionRequest,
): Promise<RecordedDecision> {
  const parsed = DecisionSchema.safeParse(request.decision);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || 'decision'))];
    throw new DecisionRefusedError(
      `the decision is not one the payment can take: check ${fields.join(', ')}`,
    );
  }
  const decision = parsed.data;
  const payment = await payments.findPayment(request.paymentId);
  if (payment === undefined) throw new PaymentNotFoundError(request.paymentId);
  const allowed: readonly DecisionAction[] =
    payment.status === 'vend_failed' || payment.status === 'charge_unconfirmed'
      ? DECISIONS_BY_REASON[payment.status]
      : [];
  if (!allowed.includes(decision.action)) {
    throw new DecisionRefusedError(
      `payment ${request.paymentId} is ${payment.status}: ${decision.action} cannot end it` +
        (allowed.length > 0 ? ` (it can take ${allowed.join(', ')})` : ''),
    );
  }
  const { recorded, revends } = await payments.recordDecision(request.paymentId, decision);
  if (recorded === 'refused') {
    throw new DecisionRefusedError(
      `a refund was decided for payment ${request.paymentId} and may have been made at the gateway: only a refund can end it now (the gateway replays the same refund)`,
    );
  }
  logger.info('operator decision recorded', {
    paymentId: request.paymentId,
    decisionId: decision.decisionId,
    action: decision.action,
    operator: decision.operator,
    recorded,
  });
  return { action: decision.action, vendRound: revends + 1 };
}

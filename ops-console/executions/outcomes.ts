/**
 * What an execution's end means to an operator. PaymentToVend ends each kind of unhappy payment in a Fail
 * state of its own, whose error names it: a card decline is a normal answer, while a failed vend (the
 * customer paid, the meter got nothing) and an unconfirmed charge each need someone to follow them up. Any
 * other failure is unexpected. Executions of other machines get the same words, by the same error names.
 *
 * @example
 * outcomeOf('FAILED', 'VendFailed'); // 'vend_failed'
 */
import type { ExecutionFailure } from './history.ts';

/** The errors of PaymentToVend's Fail states (workflow/payment-to-vend.ts `WorkflowOutcomes`; a test holds them equal). */
export const PAYMENT_TO_VEND_FAIL_ERRORS = {
  chargeDeclined: 'ChargeDeclined',
  chargeUnconfirmed: 'ChargeUnconfirmed',
  vendFailed: 'VendFailed',
} as const;

export const EXECUTION_OUTCOMES = [
  'running',
  'succeeded',
  'charge_declined',
  'vend_failed',
  'charge_unconfirmed',
  'failed',
  'timed_out',
  'aborted',
  'pending_redrive',
] as const;
export type ExecutionOutcome = (typeof EXECUTION_OUTCOMES)[number];

export const EXECUTION_STATUSES = [
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
  'PENDING_REDRIVE',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** How each outcome reads, and whether it waits on an operator. */
export const OUTCOME_DESCRIPTIONS: Readonly<
  Record<ExecutionOutcome, { readonly label: string; readonly needsFollowUp: boolean }>
> = {
  running: { label: 'Running', needsFollowUp: false },
  succeeded: { label: 'Succeeded', needsFollowUp: false },
  charge_declined: { label: 'Card declined', needsFollowUp: false },
  vend_failed: { label: 'Vend failed: paid, not credited', needsFollowUp: true },
  charge_unconfirmed: { label: 'Charge unconfirmed: reconcile', needsFollowUp: true },
  failed: { label: 'Failed unexpectedly', needsFollowUp: true },
  timed_out: { label: 'Timed out', needsFollowUp: true },
  aborted: { label: 'Stopped', needsFollowUp: true },
  pending_redrive: { label: 'Redrive pending', needsFollowUp: false },
};

/** The outcome of an execution with `status` that ended with `executionError` (its ExecutionFailed error). */
export function outcomeOf(status: string, executionError: string | null | undefined): ExecutionOutcome {
  switch (status) {
    case 'RUNNING':
      return 'running';
    case 'SUCCEEDED':
      return 'succeeded';
    case 'TIMED_OUT':
      return 'timed_out';
    case 'ABORTED':
      return 'aborted';
    case 'PENDING_REDRIVE':
      return 'pending_redrive';
    default:
      break;
  }
  switch (executionError) {
    case PAYMENT_TO_VEND_FAIL_ERRORS.chargeDeclined:
      return 'charge_declined';
    case PAYMENT_TO_VEND_FAIL_ERRORS.vendFailed:
      return 'vend_failed';
    case PAYMENT_TO_VEND_FAIL_ERRORS.chargeUnconfirmed:
      return 'charge_unconfirmed';
    default:
      return 'failed';
  }
}

/**
 * The gateway's decline code, from the input of the ChargeDeclined state (the charge as the Charge or
 * ConfirmCharge step recorded it at `$.charge`). A decline is an answer, not an error, so no failure event
 * carries it.
 */
export function declineReasonOf(failStateInput: string | null): string | null {
  if (failStateInput === null) return null;
  try {
    const input = JSON.parse(failStateInput) as { charge?: { declineReason?: unknown } };
    const reason = input?.charge?.declineReason;
    return typeof reason === 'string' && reason !== '' ? reason : null;
  } catch {
    return null;
  }
}

/** One line saying why: `VendRejected: NOT_FOR_THIS_DEVICE`, the decline code, or null when nothing went wrong. */
export function reasonOf(
  outcome: ExecutionOutcome,
  failure: ExecutionFailure | null,
  declineReason: string | null,
): string | null {
  if (outcome === 'charge_declined' && declineReason !== null) return declineReason;
  if (failure === null) return null;
  const cause = failure.cause?.trim();
  return cause ? `${failure.error}: ${cause}` : failure.error;
}

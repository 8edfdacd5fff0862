/**
 * What an execution means to an operator. PaymentToVend ends a card decline in a Fail state of its own (a
 * normal answer, nothing to follow up), and keeps a payment whose vend failed, or whose charge is unconfirmed,
 * open: its execution waits in AwaitDecision (RUNNING) until an operator decides, and the console calls that
 * `awaiting_decision`, with the failure that led there as its reason. Any other failure is unexpected.
 * Executions of other machines get the same words, by the same error and state names.
 *
 * @example
 * outcomeOf('FAILED', 'ChargeDeclined'); // 'charge_declined'
 * outcomeOf('RUNNING', null, { awaitingDecision: true }); // 'awaiting_decision'
 */
import type { ExecutionFailure } from './history.ts';

/**
 * The errors of PaymentToVend's Fail states (workflow/payment-to-vend.ts `WorkflowOutcomes`; a test holds them
 * equal, and to the Fail states of the checked-in definition).
 */
export const PAYMENT_TO_VEND_FAIL_ERRORS = {
  chargeDeclined: 'ChargeDeclined',
} as const;

/**
 * The errors of Fail states that earlier PaymentToVend definitions ended a failed vend and an unconfirmed
 * charge in, before such a payment waited for an operator's decision. An execution of such a definition still
 * ends so in a data directory (or an account) kept across the change, and keeps its words: these are no
 * longer the current definition's (a test holds them apart from `WorkflowOutcomes`), so they are kept here
 * rather than compared with it. Such an execution cannot take a decision: its payment is finished by hand.
 */
export const RETIRED_PAYMENT_TO_VEND_FAIL_ERRORS = {
  chargeUnconfirmed: 'ChargeUnconfirmed',
  vendFailed: 'VendFailed',
} as const;

/**
 * The states an operator's decision goes through (workflow/payment-to-vend.ts `DecisionStates`; a test holds
 * them equal): an execution in AwaitDecision is `awaiting_decision`, and neither state's failures (the
 * deadline passing, a refused decision) are why its payment is open.
 */
export const PAYMENT_TO_VEND_DECISION_STATES = {
  awaitDecision: 'AwaitDecision',
  recordDecision: 'RecordDecision',
} as const;

export const EXECUTION_OUTCOMES = [
  'running',
  'awaiting_decision',
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
  awaiting_decision: { label: 'Waiting for an operator decision', needsFollowUp: true },
  succeeded: { label: 'Succeeded', needsFollowUp: false },
  charge_declined: { label: 'Card declined', needsFollowUp: false },
  // Only executions of earlier definitions (RETIRED_PAYMENT_TO_VEND_FAIL_ERRORS) end so.
  vend_failed: { label: 'Vend failed: paid, not credited', needsFollowUp: true },
  charge_unconfirmed: { label: 'Charge unconfirmed: reconcile', needsFollowUp: true },
  failed: { label: 'Failed unexpectedly', needsFollowUp: true },
  timed_out: { label: 'Timed out', needsFollowUp: true },
  aborted: { label: 'Stopped', needsFollowUp: true },
  pending_redrive: { label: 'Redrive pending', needsFollowUp: false },
};

/**
 * The outcome of an execution with `status` that ended with `executionError` (its ExecutionFailed error);
 * `awaitingDecision`: it runs, waiting in AwaitDecision (DecisionStates) for an operator.
 */
export function outcomeOf(
  status: string,
  executionError: string | null | undefined,
  { awaitingDecision = false }: { awaitingDecision?: boolean } = {},
): ExecutionOutcome {
  switch (status) {
    case 'RUNNING':
      return awaitingDecision ? 'awaiting_decision' : 'running';
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
    case RETIRED_PAYMENT_TO_VEND_FAIL_ERRORS.vendFailed:
      return 'vend_failed';
    case RETIRED_PAYMENT_TO_VEND_FAIL_ERRORS.chargeUnconfirmed:
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

/**
 * One line saying why: `VendRejected: NOT_FOR_THIS_DEVICE`, the decline code, or null when nothing went wrong.
 * For an execution awaiting a decision, `failure` is the one that led it there.
 */
export function reasonOf(
  outcome: ExecutionOutcome,
  failure: ExecutionFailure | null,
  declineReason: string | null,
): string | null {
  if (outcome === 'charge_declined' && declineReason !== null) return declineReason;
  if (failure === null) return null;
  const cause = readableCause(failure.cause);
  return cause ? `${failure.error}: ${cause}` : failure.error;
}

/**
 * A failure's cause as a person reads it: a Lambda function's error comes as its JSON envelope
 * (`{"errorType":…,"errorMessage":…,"trace":[…]}`), of which the message says why; any other cause as it is.
 */
export function readableCause(cause: string | null | undefined): string | null {
  const text = cause?.trim();
  if (!text) return null;
  if (text.startsWith('{')) {
    try {
      const envelope = JSON.parse(text) as { errorMessage?: unknown };
      if (typeof envelope?.errorMessage === 'string' && envelope.errorMessage.trim() !== '') {
        return envelope.errorMessage.trim();
      }
    } catch {
      // Not JSON after all: as it is.
    }
  }
  return text;
}

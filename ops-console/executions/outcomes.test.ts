/** What an execution's end means to an operator, held to the workflow's own names. */
import { describe, expect, it } from 'vitest';
import { WorkflowOutcomes } from '../../workflow/payment-to-vend.ts';
import { declineReasonOf, outcomeOf, PAYMENT_TO_VEND_FAIL_ERRORS, reasonOf } from './outcomes.ts';

describe('outcomes', () => {
  it('knows the errors PaymentToVend’s Fail states end with', () => {
    expect(PAYMENT_TO_VEND_FAIL_ERRORS).toEqual(WorkflowOutcomes);
  });

  it.each([
    ['RUNNING', undefined, 'running'],
    ['SUCCEEDED', undefined, 'succeeded'],
    ['FAILED', 'ChargeDeclined', 'charge_declined'],
    ['FAILED', 'VendFailed', 'vend_failed'],
    ['FAILED', 'ChargeUnconfirmed', 'charge_unconfirmed'],
    ['FAILED', 'States.Runtime', 'failed'],
    ['TIMED_OUT', 'States.Timeout', 'timed_out'],
    ['ABORTED', undefined, 'aborted'],
    ['PENDING_REDRIVE', 'VendFailed', 'pending_redrive'],
  ])('%s with %s is %s', (status, error, outcome) => {
    expect(outcomeOf(status, error)).toBe(outcome);
  });

  it('finds a decline’s code in the Fail state’s input', () => {
    expect(declineReasonOf('{"charge":{"outcome":"declined","declineReason":"insufficient_funds"}}')).toBe(
      'insufficient_funds',
    );
    expect(declineReasonOf('{"charge":{"outcome":"declined"}}')).toBeNull();
    expect(declineReasonOf('not json')).toBeNull();
    expect(declineReasonOf(null)).toBeNull();
  });

  it('says why in one line: the step’s error and cause, or the decline code', () => {
    const failure = {
      error: 'VendRejected',
      cause: 'NOT_FOR_THIS_DEVICE',
      stateName: 'Vend',
      eventId: 25,
      eventType: 'TaskFailed',
    };
    expect(reasonOf('vend_failed', failure, null)).toBe('VendRejected: NOT_FOR_THIS_DEVICE');
    expect(reasonOf('vend_failed', { ...failure, cause: null }, null)).toBe('VendRejected');
    expect(reasonOf('charge_declined', null, 'generic_decline')).toBe('generic_decline');
    expect(reasonOf('succeeded', null, null)).toBeNull();
  });
});

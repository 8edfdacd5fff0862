/** What an execution means to an operator, held to the workflow's own names. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DecisionStates, WorkflowOutcomes } from '../../workflow/payment-to-vend.ts';
import {
  declineReasonOf,
  outcomeOf,
  PAYMENT_TO_VEND_DECISION_STATES,
  PAYMENT_TO_VEND_FAIL_ERRORS,
  RETIRED_PAYMENT_TO_VEND_FAIL_ERRORS,
  reasonOf,
} from './outcomes.ts';

/** The Error of every Fail state of the checked-in definition (`npm run workflow:asl`). */
function failErrorsOfDefinition(): string[] {
  const definition = JSON.parse(
    readFileSync(new URL('../../workflow/payment-to-vend.asl.json', import.meta.url), 'utf8'),
  ) as { States: Record<string, { Type: string; Error?: string }> };
  return Object.values(definition.States)
    .filter((state) => state.Type === 'Fail')
    .map((state) => state.Error ?? '')
    .sort();
}

describe('outcomes', () => {
  it('knows the errors PaymentToVend’s Fail states end with, in the workflow and in its definition', () => {
    expect(PAYMENT_TO_VEND_FAIL_ERRORS).toEqual(WorkflowOutcomes);
    expect(Object.values(PAYMENT_TO_VEND_FAIL_ERRORS).sort()).toEqual(failErrorsOfDefinition());
  });

  it('keeps the retired Fail states’ errors apart: no current Fail state ends so, only older executions', () => {
    // An execution of an earlier definition (a kept data directory) may still have ended in one; were the
    // workflow to end in one again, it would belong in PAYMENT_TO_VEND_FAIL_ERRORS instead.
    for (const error of Object.values(RETIRED_PAYMENT_TO_VEND_FAIL_ERRORS)) {
      expect(Object.values(WorkflowOutcomes)).not.toContain(error);
      expect(failErrorsOfDefinition()).not.toContain(error);
    }
  });

  it('knows the states an operator’s decision goes through', () => {
    expect(PAYMENT_TO_VEND_DECISION_STATES).toEqual(DecisionStates);
  });

  it.each([
    ['RUNNING', undefined, false, 'running'],
    ['RUNNING', undefined, true, 'awaiting_decision'],
    ['SUCCEEDED', undefined, false, 'succeeded'],
    ['FAILED', 'ChargeDeclined', false, 'charge_declined'],
    ['FAILED', 'VendFailed', false, 'vend_failed'],
    ['FAILED', 'ChargeUnconfirmed', false, 'charge_unconfirmed'],
    ['FAILED', 'States.Runtime', false, 'failed'],
    ['TIMED_OUT', 'States.Timeout', false, 'timed_out'],
    ['ABORTED', undefined, false, 'aborted'],
    ['PENDING_REDRIVE', 'VendFailed', false, 'pending_redrive'],
  ])('%s with %s (awaiting a decision: %s) is %s', (status, error, awaitingDecision, outcome) => {
    expect(outcomeOf(status, error, { awaitingDecision })).toBe(outcome);
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
    expect(reasonOf('awaiting_decision', failure, null)).toBe('VendRejected: NOT_FOR_THIS_DEVICE');
    expect(reasonOf('awaiting_decision', { ...failure, cause: null }, null)).toBe('VendRejected');
    expect(reasonOf('vend_failed', failure, null)).toBe('VendRejected: NOT_FOR_THIS_DEVICE');
    expect(reasonOf('charge_declined', null, 'generic_decline')).toBe('generic_decline');
    // A Lambda's error comes in its JSON envelope: its message says why.
    const lambdaCause = JSON.stringify({
      errorType: 'PaymentGatewayUnavailable',
      errorMessage: 'the gateway answered 503 gateway_unavailable',
      trace: ['PaymentGatewayUnavailable: the gateway answered 503', '    at charge (charge.ts:1:1)'],
    });
    expect(
      reasonOf(
        'awaiting_decision',
        { ...failure, error: 'PaymentGatewayUnavailable', cause: lambdaCause },
        null,
      ),
    ).toBe('PaymentGatewayUnavailable: the gateway answered 503 gateway_unavailable');
    expect(reasonOf('failed', { ...failure, error: 'States.Runtime', cause: '{not json' }, null)).toBe(
      'States.Runtime: {not json',
    );
    expect(reasonOf('succeeded', null, null)).toBeNull();
  });
});

/**
 * What the console reads from a history: each state's status, retries and data, the path taken, and the
 * failure that really ended the execution. Histories are built here event by event, shaped as
 * GetExecutionHistory returns them (ids, previousEventId chains, `<type>EventDetails`).
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { analyseHistory, currentStateOf, END, START } from './history.ts';

/** Builds a history: each call appends one event after the previous one (or after `after`). */
function historyBuilder() {
  const events: HistoryEvent[] = [];
  let clock = Date.parse('2026-12-02T10:00:00.000Z');
  const add = (type: string, details: Record<string, unknown> = {}, after?: number): number => {
    const id = events.length + 1;
    clock += 100;
    const key = type.endsWith('StateEntered')
      ? 'stateEnteredEventDetails'
      : type.endsWith('StateExited')
        ? 'stateExitedEventDetails'
        : `${type[0]!.toLowerCase()}${type.slice(1)}EventDetails`;
    events.push({
      id,
      previousEventId: after ?? (id === 2 ? 0 : id - 1),
      timestamp: new Date(clock),
      type,
      [key]: details,
    } as HistoryEvent);
    return id;
  };
  const json = (value: unknown) => JSON.stringify(value);
  return {
    events,
    add,
    started(input: unknown = {}) {
      return add('ExecutionStarted', { input: json(input), roleArn: 'arn:aws:iam::000000000000:role/R' });
    },
    pass(name: string, data: unknown = {}) {
      add('PassStateEntered', { name, input: json(data) });
      return add('PassStateExited', { name, output: json(data) });
    },
    enterTask(name: string, data: unknown = {}) {
      return add('TaskStateEntered', { name, input: json(data) });
    },
    attemptFails(error: string, cause?: string) {
      add('TaskScheduled', { resourceType: 'lambda', resource: 'invoke', parameters: json({}) });
      add('TaskStarted', { resourceType: 'lambda', resource: 'invoke' });
      return add('TaskFailed', {
        resourceType: 'lambda',
        resource: 'invoke',
        error,
        ...(cause ? { cause } : {}),
      });
    },
    attemptSucceeds(output: unknown = {}) {
      add('TaskScheduled', { resourceType: 'lambda', resource: 'invoke', parameters: json({}) });
      add('TaskStarted', { resourceType: 'lambda', resource: 'invoke' });
      return add('TaskSucceeded', { resourceType: 'lambda', resource: 'invoke', output: json(output) });
    },
    exitTask(name: string, data: unknown = {}) {
      return add('TaskStateExited', { name, output: json(data) });
    },
  };
}

describe('analyseHistory', () => {
  it('counts the retries of a state that got through after failing twice, and keeps what it retried', () => {
    // Prepare
    const h = historyBuilder();
    h.started({ paymentId: 'pay_1' });
    h.pass('SetAside');
    h.enterTask('Vend', { paymentId: 'pay_1' });
    h.attemptFails('VendorUnavailable', 'the vendor answered 503');
    h.attemptFails('VendorUnavailable', 'the vendor answered 503');
    h.attemptSucceeds({ utrn: '12345678901234567890' });
    h.exitTask('Vend', { vend: { utrn: '12345678901234567890' } });
    h.add('SucceedStateEntered', { name: 'Vended', input: '{}' });
    h.add('SucceedStateExited', { name: 'Vended', output: '{}' });
    h.add('ExecutionSucceeded', { output: '{}' });

    // Act
    const analysis = analyseHistory(h.events);

    // Assess
    const vend = analysis.states.find((state) => state.name === 'Vend');
    expect(vend).toMatchObject({
      type: 'Task',
      status: 'succeeded',
      retries: 2,
      visits: 1,
      error: 'VendorUnavailable',
      input: '{"paymentId":"pay_1"}',
      output: '{"vend":{"utrn":"12345678901234567890"}}',
    });
    expect(vend?.attempts.map((attempt) => attempt.outcome)).toEqual(['failed', 'failed', 'succeeded']);
    expect(vend?.durationMs).toBeGreaterThan(0);
    expect(analysis.status).toBe('SUCCEEDED');
    expect(analysis.failure).toBeNull();
    expect(analysis.transitions).toEqual([
      { from: START, to: 'SetAside', caught: false },
      { from: 'SetAside', to: 'Vend', caught: false },
      { from: 'Vend', to: 'Vended', caught: false },
      { from: 'Vended', to: END, caught: false },
    ]);
    expect(analysis.rows.find((row) => row.type === 'TaskFailed')?.stateName).toBe('Vend');
    expect(analysis.rows[0]?.stateName).toBeNull();
  });

  it('names the failed step, not the Fail state, as the reason, and marks the state its Catch left as caught', () => {
    // Prepare
    const h = historyBuilder();
    h.started();
    h.enterTask('Vend');
    h.attemptFails('VendRejected', 'NOT_FOR_THIS_DEVICE');
    h.exitTask('Vend', { vendFailure: { Error: 'VendRejected', Cause: 'NOT_FOR_THIS_DEVICE' } });
    h.enterTask('RecordVendFailed');
    h.attemptSucceeds();
    h.exitTask('RecordVendFailed');
    h.add('FailStateEntered', { name: 'VendFailed', input: '{"vendFailure":{"Error":"VendRejected"}}' });
    h.add('ExecutionFailed', { error: 'VendFailed', cause: 'The meter could not be credited.' });

    // Act
    const analysis = analyseHistory(h.events);

    // Assess
    expect(analysis.status).toBe('FAILED');
    expect(analysis.failure).toMatchObject({
      error: 'VendRejected',
      cause: 'NOT_FOR_THIS_DEVICE',
      stateName: 'Vend',
      eventType: 'TaskFailed',
    });
    expect(analysis.executionError).toEqual({
      error: 'VendFailed',
      cause: 'The meter could not be credited.',
    });
    expect(analysis.states.map((state) => [state.name, state.status])).toEqual([
      ['Vend', 'caught'],
      ['RecordVendFailed', 'succeeded'],
      ['VendFailed', 'failed'],
    ]);
    expect(analysis.transitions).toContainEqual({ from: 'Vend', to: 'RecordVendFailed', caught: true });
    expect(analysis.transitions).toContainEqual({ from: 'VendFailed', to: END, caught: false });
    expect(analysis.failStateInput).toBe('{"vendFailure":{"Error":"VendRejected"}}');
  });

  it('keeps the failure being handled as the reason when the step handling it fails too', () => {
    // Prepare: Vend fails, its Catch leads to RecordVendFailed, which fails, and its Catch goes on.
    const h = historyBuilder();
    h.started();
    h.enterTask('Vend');
    h.attemptFails('VendorUnavailable', 'down');
    h.exitTask('Vend');
    h.enterTask('RecordVendFailed');
    h.attemptFails('Lambda.Unknown', 'crashed');
    h.exitTask('RecordVendFailed');
    h.enterTask('PublishVendingFailure');
    h.attemptSucceeds();
    h.exitTask('PublishVendingFailure');
    h.add('FailStateEntered', { name: 'VendFailed', input: '{}' });
    h.add('ExecutionFailed', { error: 'VendFailed', cause: 'fixed sentence' });

    // Act
    const analysis = analyseHistory(h.events);

    // Assess
    expect(analysis.failure).toMatchObject({ error: 'VendorUnavailable', cause: 'down', stateName: 'Vend' });
    expect(analysis.states.find((state) => state.name === 'RecordVendFailed')?.status).toBe('caught');
  });

  it('says a step failed when no Catch took its failure, and the execution ended there', () => {
    // Prepare
    const h = historyBuilder();
    h.started();
    h.enterTask('PublishVendingFailure');
    h.add('TaskScheduled', { resourceType: 'sqs', resource: 'sendMessage' });
    h.add('TaskStarted', { resourceType: 'sqs', resource: 'sendMessage' });
    h.add('TaskTimedOut', { resourceType: 'sqs', resource: 'sendMessage', error: 'States.Timeout' });
    h.add('ExecutionFailed', { error: 'States.Timeout' });

    // Act
    const analysis = analyseHistory(h.events);

    // Assess
    expect(analysis.states[0]).toMatchObject({
      name: 'PublishVendingFailure',
      status: 'failed',
      error: 'States.Timeout',
    });
    expect(analysis.failure).toMatchObject({
      error: 'States.Timeout',
      eventType: 'TaskTimedOut',
      cause: null,
    });
  });

  it('falls back on the execution’s own error when no step failed (a Choice leading to a Fail state)', () => {
    // Prepare
    const h = historyBuilder();
    h.started();
    h.enterTask('Charge');
    h.attemptSucceeds({ outcome: 'declined' });
    h.exitTask('Charge', { charge: { outcome: 'declined', declineReason: 'generic_decline' } });
    h.add('FailStateEntered', {
      name: 'ChargeDeclined',
      input: JSON.stringify({ charge: { outcome: 'declined', declineReason: 'generic_decline' } }),
    });
    h.add('ExecutionFailed', { error: 'ChargeDeclined', cause: 'The payment did not go through.' });

    // Act
    const analysis = analyseHistory(h.events);

    // Assess
    expect(analysis.failure).toMatchObject({
      error: 'ChargeDeclined',
      stateName: 'ChargeDeclined',
      eventType: 'ExecutionFailed',
    });
    expect(analysis.failStateInput).toContain('generic_decline');
  });

  it('shows a running state as running, between its retries too', () => {
    // Prepare
    const h = historyBuilder();
    h.started();
    h.enterTask('Vend');
    h.attemptFails('VendorUnavailable');

    // Act
    const analysis = analyseHistory(h.events);

    // Assess
    expect(analysis.status).toBe('RUNNING');
    expect(analysis.states[0]).toMatchObject({
      status: 'running',
      retries: 0,
      exitedAt: null,
      durationMs: null,
    });
    expect(analysis.failure).toBeNull();
  });

  it('marks where a stopped execution was, and gives the stop’s cause as its reason', () => {
    // Prepare
    const h = historyBuilder();
    h.started();
    h.enterTask('Vend');
    h.add('TaskScheduled', { resourceType: 'sqs', resource: 'sendMessage.waitForTaskToken' });
    h.add('ExecutionAborted', { cause: 'Stopped by an operator' });

    // Act
    const analysis = analyseHistory(h.events);

    // Assess
    expect(analysis.status).toBe('ABORTED');
    expect(analysis.states[0]?.status).toBe('aborted');
    expect(analysis.failure).toMatchObject({
      error: 'Stopped',
      cause: 'Stopped by an operator',
      stateName: 'Vend',
    });
  });

  it('follows a redrive: the state entered again counts as a second visit, and no second start is drawn', () => {
    // Prepare
    const h = historyBuilder();
    h.started();
    h.enterTask('Vend');
    h.attemptFails('VendorUnavailable');
    const failed = h.add('ExecutionFailed', { error: 'VendorUnavailable' });
    h.add('ExecutionRedriven', { redriveCount: 1 }, failed);
    h.enterTask('Vend');
    h.attemptSucceeds();
    h.exitTask('Vend');
    h.add('SucceedStateEntered', { name: 'Done', input: '{}' });
    h.add('SucceedStateExited', { name: 'Done', output: '{}' });
    h.add('ExecutionSucceeded', { output: '{}' });

    // Act
    const analysis = analyseHistory(h.events);

    // Assess
    expect(analysis.status).toBe('SUCCEEDED');
    expect(analysis.visits.map((visit) => [visit.stateName, visit.status])).toEqual([
      ['Vend', 'failed'],
      ['Vend', 'succeeded'],
      ['Done', 'succeeded'],
    ]);
    expect(analysis.states.find((state) => state.name === 'Vend')).toMatchObject({
      status: 'succeeded',
      visits: 2,
    });
    expect(analysis.transitions.filter((transition) => transition.from === START)).toHaveLength(1);
    expect(analysis.failure).toBeNull();
  });

  it('puts the states of a Parallel’s branches inside it, and leaves it when the Parallel exits', () => {
    // Prepare
    const h = historyBuilder();
    h.started();
    const entered = h.add('ParallelStateEntered', { name: 'Both', input: '{}' });
    const started = h.add('ParallelStateStarted', {}, entered);
    h.add('PassStateEntered', { name: 'Left', input: '{}' }, started);
    const leftDone = h.add('PassStateExited', { name: 'Left', output: '{}' });
    h.add('PassStateEntered', { name: 'Right', input: '{}' }, started);
    h.add('PassStateExited', { name: 'Right', output: '{}' });
    const succeeded = h.add('ParallelStateSucceeded', {}, leftDone);
    h.add('ParallelStateExited', { name: 'Both', output: '[{},{}]' }, succeeded);
    h.add('SucceedStateEntered', { name: 'After', input: '[{},{}]' });
    h.add('SucceedStateExited', { name: 'After', output: '[{},{}]' });
    h.add('ExecutionSucceeded', { output: '[{},{}]' });

    // Act
    const analysis = analyseHistory(h.events);

    // Assess
    expect(analysis.states.map((state) => [state.name, state.type, state.status])).toEqual([
      ['Both', 'Parallel', 'succeeded'],
      ['Left', 'Pass', 'succeeded'],
      ['Right', 'Pass', 'succeeded'],
      ['After', 'Succeed', 'succeeded'],
    ]);
    expect(analysis.transitions).toContainEqual({ from: 'Both', to: 'After', caught: false });
    expect(analysis.rows.find((row) => row.type === 'ParallelStateSucceeded')?.stateName).toBe('Both');
  });

  it('ends a Map’s iteration at a Fail state inside it, and gives the Map that state’s declared error', () => {
    // Prepare: one iteration succeeds, the other reaches a Fail state; the Map's Catch takes it on.
    const h = historyBuilder();
    h.started();
    h.add('MapStateEntered', { name: 'Each', input: '[1,3]' });
    const started = h.add('MapStateStarted', { length: 2 });
    const first = h.add('MapIterationStarted', { name: 'Each', index: 0 }, started);
    h.add('SucceedStateEntered', { name: 'Fine', input: '1' }, first);
    const fine = h.add('SucceedStateExited', { name: 'Fine', output: '1' });
    const second = h.add('MapIterationStarted', { name: 'Each', index: 1 }, started);
    const tooBig = h.add('FailStateEntered', { name: 'TooBig', input: '3' }, second);
    h.add('MapIterationSucceeded', { name: 'Each', index: 0 }, fine);
    h.add('MapIterationFailed', { name: 'Each', index: 1 }, tooBig);
    const failed = h.add('MapStateFailed', {}, started);
    h.add('MapStateExited', { name: 'Each', output: '{}' }, failed);
    h.add('SucceedStateEntered', { name: 'Recovered', input: '{}' });
    h.add('SucceedStateExited', { name: 'Recovered', output: '{}' });
    h.add('ExecutionSucceeded', { output: '{}' });

    // Act
    const analysis = analyseHistory(h.events, {
      failStates: new Map([['TooBig', { error: 'TooBig', cause: 'an item over 2' }]]),
    });

    // Assess
    expect(analysis.states.map((state) => [state.name, state.status, state.error])).toEqual([
      ['Each', 'caught', 'TooBig'],
      ['Fine', 'succeeded', null],
      ['TooBig', 'failed', 'TooBig'],
      ['Recovered', 'succeeded', null],
    ]);
    expect(
      analysis.rows.filter((row) => row.type.startsWith('MapIteration')).map((row) => row.stateName),
    ).toEqual(['Each', 'Each', 'Each', 'Each']);
    expect(analysis.transitions).toContainEqual({ from: 'Each', to: 'Recovered', caught: true });
  });

  it('never shows the payment token, in the execution’s input or in a step’s parameters', () => {
    // Prepare
    const h = historyBuilder();
    h.started({ paymentId: 'pay_1', paymentToken: 'tok_visa' });
    h.enterTask('Charge', { paymentId: 'pay_1' });
    h.add('TaskScheduled', {
      resourceType: 'lambda',
      resource: 'invoke',
      parameters: JSON.stringify({ Payload: { paymentId: 'pay_1', paymentToken: 'tok_visa' } }),
    });

    // Act
    const analysis = analyseHistory(h.events);

    // Assess
    const shown = JSON.stringify(analysis);
    expect(shown).not.toContain('tok_visa');
    expect(shown).toContain('[redacted]');
    expect(shown).toContain('pay_1');
  });
});

describe('a running execution waiting for a decision', () => {
  const DECISION_STATES = new Set(['AwaitDecision', 'RecordDecision']);

  /** PaymentToVend's path to AwaitDecision after the vend failed: Vend caught, its failure recorded. */
  function vendFailedThenWaiting(h: ReturnType<typeof historyBuilder>) {
    h.started({ paymentId: 'pay_1' });
    h.enterTask('Vend');
    h.attemptFails('VendorUnavailable', 'the vendor answered 503');
    h.attemptFails('VendorUnavailable', 'the vendor answered 503 again');
    h.exitTask('Vend');
    h.enterTask('RecordVendFailed');
    h.attemptFails('States.TaskFailed', 'the database was away');
    h.exitTask('RecordVendFailed');
    h.enterTask('NotifyCustomerVendFailed');
    h.attemptSucceeds();
    h.exitTask('NotifyCustomerVendFailed');
  }

  function waitInAwaitDecision(h: ReturnType<typeof historyBuilder>) {
    h.enterTask('AwaitDecision');
    h.add('TaskScheduled', { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', parameters: '{}' });
    h.add('TaskStarted', { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' });
    return h.add('TaskSubmitted', {
      resourceType: 'lambda',
      resource: 'invoke.waitForTaskToken',
      output: '{}',
    });
  }

  it('gives the failure that led it there: the caught step’s last error, not a failure while handling it', () => {
    // Prepare: RecordVendFailed fails while recording Vend's failure, and is caught in turn.
    const h = historyBuilder();
    vendFailedThenWaiting(h);
    waitInAwaitDecision(h);

    // Act
    const analysis = analyseHistory(h.events, { notReasons: DECISION_STATES });

    // Assess
    expect(analysis.status).toBe('RUNNING');
    expect(analysis.failure).toBeNull();
    expect(analysis.handledFailure).toMatchObject({
      error: 'VendorUnavailable',
      cause: 'the vendor answered 503 again',
      stateName: 'Vend',
      eventType: 'TaskFailed',
    });
    expect(analysis.visits.at(-1)).toMatchObject({ stateName: 'AwaitDecision', status: 'running' });
  });

  it('keeps the reason through a passed deadline and a refused decision, and takes a later caught failure', () => {
    // Prepare: the deadline passes (AwaitDecision's timeout caught), a decision is refused, it waits again.
    const h = historyBuilder();
    vendFailedThenWaiting(h);
    waitInAwaitDecision(h);
    h.add('TaskTimedOut', {
      resourceType: 'lambda',
      resource: 'invoke.waitForTaskToken',
      error: 'States.Timeout',
    });
    h.exitTask('AwaitDecision');
    h.enterTask('EscalateOpenPayment');
    h.attemptSucceeds();
    h.exitTask('EscalateOpenPayment');
    waitInAwaitDecision(h);
    h.add('TaskSucceeded', { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', output: '{}' });
    h.exitTask('AwaitDecision');
    h.enterTask('RecordDecision');
    h.attemptFails('DecisionRefused', 'recheck_charge cannot end a failed vend');
    h.exitTask('RecordDecision');
    waitInAwaitDecision(h);
    const waiting = analyseHistory(h.events, { notReasons: DECISION_STATES });

    // Then a refund is decided, and the gateway refuses it.
    h.add('TaskSucceeded', { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', output: '{}' });
    h.exitTask('AwaitDecision');
    h.enterTask('RecordDecision');
    h.attemptSucceeds();
    h.exitTask('RecordDecision');
    h.enterTask('Refund');
    h.attemptFails('RefundRefused', 'charge_already_refunded');
    h.exitTask('Refund');
    h.enterTask('AlertOnCallDecisionFailed');
    h.attemptSucceeds();
    h.exitTask('AlertOnCallDecisionFailed');
    waitInAwaitDecision(h);
    const waitingAgain = analyseHistory(h.events, { notReasons: DECISION_STATES });

    // Assess
    expect(waiting.handledFailure).toMatchObject({ error: 'VendorUnavailable', stateName: 'Vend' });
    expect(waitingAgain.handledFailure).toMatchObject({
      error: 'RefundRefused',
      cause: 'charge_already_refunded',
      stateName: 'Refund',
    });
  });

  it('has no handled failure once it has ended', () => {
    const h = historyBuilder();
    vendFailedThenWaiting(h);
    h.add('ExecutionAborted', {});

    expect(analyseHistory(h.events).handledFailure).toBeNull();
  });

  it('tells from its newest events which state it is in, or that they do not say', () => {
    // Prepare
    const h = historyBuilder();
    vendFailedThenWaiting(h);
    const newestFirst = () => [...h.events].reverse();
    const afterExit = newestFirst();
    waitInAwaitDecision(h);
    const waiting = newestFirst();
    h.add('TaskStateExited', { name: 'AwaitDecision', output: '{}' });
    h.add('ExecutionSucceeded', { output: '{}' });
    const ended = newestFirst();

    // Assess
    expect(currentStateOf(waiting)).toBe('AwaitDecision');
    expect(currentStateOf(waiting.slice(0, 4))).toBe('AwaitDecision');
    expect(currentStateOf(waiting.slice(0, 3))).toBeUndefined();
    expect(currentStateOf(afterExit)).toBeNull();
    expect(currentStateOf(ended)).toBeNull();
    expect(currentStateOf([])).toBeUndefined();
  });
});

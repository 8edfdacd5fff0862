/**
 * Listing executions stays cheap: a running execution costs one small GetExecutionHistory call (its newest
 * events, newest first) to tell whether it waits for an operator's decision, and only one that does has its
 * whole history read for why; a succeeded one costs nothing. Against a Step Functions double that answers
 * ListExecutions and GetExecutionHistory as AWS does (reverseOrder, maxResults, nextToken).
 */
import {
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { ExecutionsService } from './executions-service.ts';

const MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:PaymentToVend';
const arnOf = (name: string) => `arn:aws:states:us-east-1:000000000000:execution:PaymentToVend:${name}`;

/** A history in event order: each event follows the one before. */
function history(...steps: [type: string, details?: Record<string, unknown>][]): HistoryEvent[] {
  return steps.map(([type, details = {}], index) => {
    const key = type.endsWith('StateEntered')
      ? 'stateEnteredEventDetails'
      : type.endsWith('StateExited')
        ? 'stateExitedEventDetails'
        : `${type[0]!.toLowerCase()}${type.slice(1)}EventDetails`;
    return {
      id: index + 1,
      previousEventId: index,
      timestamp: new Date(Date.parse('2026-12-02T10:00:00Z') + index * 100),
      type,
      [key]: details,
    } as HistoryEvent;
  });
}

const failedAttempt = (error: string, cause: string): [string, Record<string, unknown>?][] => [
  ['TaskScheduled', { resourceType: 'sqs', resource: 'sendMessage.waitForTaskToken' }],
  ['TaskStarted', { resourceType: 'sqs', resource: 'sendMessage.waitForTaskToken' }],
  ['TaskSubmitted', { resourceType: 'sqs', resource: 'sendMessage.waitForTaskToken' }],
  ['TaskFailed', { resourceType: 'sqs', resource: 'sendMessage.waitForTaskToken', error, cause }],
];

const HISTORIES: Record<string, HistoryEvent[]> = {
  // The vendor stayed down: Vend caught after its retries, the failure recorded, the customer told, waiting.
  pay_waiting: history(
    ['ExecutionStarted', { input: '{}' }],
    ['TaskStateEntered', { name: 'Vend', input: '{}' }],
    ...failedAttempt('VendorUnavailable', 'the vendor answered 503'),
    ...failedAttempt('VendorUnavailable', 'the vendor answered 503'),
    ...failedAttempt('VendorUnavailable', 'the vendor answered 503'),
    ['TaskStateExited', { name: 'Vend', output: '{}' }],
    ['TaskStateEntered', { name: 'RecordVendFailed', input: '{}' }],
    ['TaskScheduled', { resourceType: 'lambda', resource: 'invoke' }],
    ['TaskStarted', { resourceType: 'lambda', resource: 'invoke' }],
    ['TaskSucceeded', { resourceType: 'lambda', resource: 'invoke', output: '{}' }],
    ['TaskStateExited', { name: 'RecordVendFailed', output: '{}' }],
    ['TaskStateEntered', { name: 'AwaitDecision', input: '{}' }],
    ['TaskScheduled', { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' }],
    ['TaskStarted', { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' }],
    ['TaskSubmitted', { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', output: '{}' }],
  ),
  // Still trying the vendor.
  pay_vending: history(
    ['ExecutionStarted', { input: '{}' }],
    ['TaskStateEntered', { name: 'Vend', input: '{}' }],
    ['TaskScheduled', { resourceType: 'sqs', resource: 'sendMessage.waitForTaskToken' }],
    ['TaskStarted', { resourceType: 'sqs', resource: 'sendMessage.waitForTaskToken' }],
  ),
  // Retried so often that its newest events name no state: they do not say where it is.
  pay_retrying: history(
    ['ExecutionStarted', { input: '{}' }],
    ['TaskStateEntered', { name: 'Vend', input: '{}' }],
    ...failedAttempt('VendorUnavailable', '503'),
    ...failedAttempt('VendorUnavailable', '503'),
    ...failedAttempt('VendorUnavailable', '503'),
    ['TaskScheduled', { resourceType: 'sqs', resource: 'sendMessage.waitForTaskToken' }],
  ),
  pay_done: history(['ExecutionStarted', { input: '{}' }], ['ExecutionSucceeded', { output: '{}' }]),
};

/** Step Functions as far as listing goes, recording each GetExecutionHistory call. */
function stepFunctionsDouble() {
  const historyCalls: { name: string; reverseOrder: boolean; maxResults: number }[] = [];
  const sfn = {
    async send(command: unknown) {
      if (command instanceof ListExecutionsCommand) {
        return {
          executions: Object.keys(HISTORIES).map((name, index) => ({
            executionArn: arnOf(name),
            stateMachineArn: MACHINE,
            name,
            status: name === 'pay_done' ? 'SUCCEEDED' : 'RUNNING',
            startDate: new Date(Date.parse('2026-12-02T10:00:00Z') - index * 1000),
            ...(name === 'pay_done' ? { stopDate: new Date('2026-12-02T10:00:01Z') } : {}),
          })),
        };
      }
      if (command instanceof GetExecutionHistoryCommand) {
        const { executionArn, reverseOrder = false, maxResults = 1000, nextToken } = command.input;
        const name = executionArn!.split(':').at(-1)!;
        historyCalls.push({ name, reverseOrder, maxResults });
        const ordered = reverseOrder ? [...HISTORIES[name]!].reverse() : HISTORIES[name]!;
        const from = Number(nextToken ?? 0);
        const events = ordered.slice(from, from + maxResults);
        const more = from + maxResults < ordered.length;
        return { events, ...(more ? { nextToken: String(from + maxResults) } : {}) };
      }
      throw new Error(`not expected here: ${(command as object).constructor.name}`);
    },
  };
  return { sfn: sfn as unknown as SFNClient, historyCalls };
}

describe('listing executions', () => {
  it('reads the newest events of a running one, and the whole history only of one awaiting a decision', async () => {
    // Prepare
    const { sfn, historyCalls } = stepFunctionsDouble();
    const executions = new ExecutionsService({ sfn });

    // Act
    const page = await executions.list({ stateMachineArn: MACHINE, limit: 10 });

    // Assess
    const row = (name: string) => page.executions.find((each) => each.name === name);
    expect(row('pay_waiting')).toMatchObject({
      status: 'RUNNING',
      outcome: 'awaiting_decision',
      reason: 'VendorUnavailable: the vendor answered 503',
      failure: { error: 'VendorUnavailable', stateName: 'Vend', eventType: 'TaskFailed' },
    });
    expect(row('pay_vending')).toMatchObject({ outcome: 'running', reason: null, failure: null });
    expect(row('pay_retrying')).toMatchObject({ outcome: 'running', reason: null, failure: null });
    expect(row('pay_done')).toMatchObject({ outcome: 'succeeded', reason: null });

    const callsFor = (name: string) => historyCalls.filter((call) => call.name === name);
    expect(callsFor('pay_vending')).toEqual([{ name: 'pay_vending', reverseOrder: true, maxResults: 10 }]);
    expect(callsFor('pay_waiting')[0]).toEqual({ name: 'pay_waiting', reverseOrder: true, maxResults: 10 });
    expect(
      callsFor('pay_waiting')
        .slice(1)
        .every((call) => !call.reverseOrder),
    ).toBe(true);
    // Its newest events did not say where it is: read in full, and found not waiting.
    expect(callsFor('pay_retrying').length).toBeGreaterThan(1);
    expect(callsFor('pay_done')).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import {
  ASSUMPTIONS,
  type AslDefinition,
  estimate,
  formatEstimate,
  loadDefinition,
  walk,
} from './estimate.ts';

/** A small machine with every feature the walk must count: a Choice, a retried Task, a Catch. */
const MACHINE: AslDefinition = {
  StartAt: 'Charge',
  States: {
    Charge: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: 'arn:aws:lambda:eu-west-2:123456789012:function:charge' },
      Next: 'Outcome',
    },
    Outcome: {
      Type: 'Choice',
      Choices: [
        { StringEquals: 'charged', Next: 'Vend' },
        { StringEquals: 'declined', Next: 'Declined' },
      ],
    },
    Vend: {
      Type: 'Task',
      Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
      Retry: [{ ErrorEquals: ['VendorUnavailable'], MaxAttempts: 3 }],
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Page' }],
      Next: 'Done',
    },
    Page: { Type: 'Task', Resource: 'arn:aws:states:::sns:publish', Next: 'Failed' },
    Done: { Type: 'Succeed' },
    Declined: { Type: 'Fail' },
    Failed: { Type: 'Fail' },
  },
};

describe('walk', () => {
  it('counts every state entered, the terminal one included', () => {
    const path = walk(MACHINE, { name: 'happy', share: 1, choose: { Outcome: 'charged' } });
    expect(path.states).toEqual(['Charge', 'Outcome', 'Vend', 'Done']);
    expect(path.transitions).toBe(4);
    expect(path.lambdaInvocations).toEqual({ charge: 1 });
    expect(path.vendAttempts).toBe(1);
  });

  it('bills each retry as one more transition, and each attempt as one more call', () => {
    const path = walk(MACHINE, {
      name: 'retried',
      share: 1,
      choose: { Outcome: 'charged' },
      retries: { Vend: 2 },
    });
    expect(path.transitions).toBe(6);
    expect(path.sqsSends).toBe(3);
  });

  it('exhausts the retries of the matching retrier, then follows the Catch', () => {
    const path = walk(MACHINE, {
      name: 'failed',
      share: 1,
      choose: { Outcome: 'charged' },
      failWith: { Vend: 'VendorUnavailable' },
    });
    expect(path.states).toEqual(['Charge', 'Outcome', 'Vend', 'Page', 'Failed']);
    expect(path.retries).toBe(3);
    expect(path.transitions).toBe(8);
    expect(path.vendAttempts).toBe(4);
    expect(path.snsPublishes).toBe(1);
  });

  it('refuses a Choice it has no answer for', () => {
    expect(() => walk(MACHINE, { name: 'lost', share: 1, choose: {} })).toThrow(/Outcome has no rule/);
  });
});

describe('the estimate from the checked-in definition', () => {
  const result = estimate(loadDefinition());
  const path = (name: string) => result.perPath.find((candidate) => candidate.name.startsWith(name))!;

  it('walks the happy path: the token set aside, charge, two notifications, the vend, the last notification, success', () => {
    const happy = path('vended at the first attempt');
    expect(happy.states.slice(0, 2)).toEqual(['SetAsidePaymentToken', 'Charge']);
    expect(happy.states.at(-1)).toBe('Vended');
    expect(happy.retries).toBe(0);
    expect(happy.lambdaInvocations).toMatchObject({ charge: 1, notify: 3 });
    expect(happy.vendAttempts).toBe(1);
  });

  it('walks the unconfirmed path through the recording to ChargeUnconfirmed, paging on-call once', () => {
    const unconfirmed = path('charge unconfirmed');
    expect(unconfirmed.states).toContain('ConfirmCharge');
    expect(unconfirmed.states).toContain('AwaitDecision');
    expect(unconfirmed.states.at(-1)).toBe('Vended');
    expect(unconfirmed.snsPublishes).toBe(1);
  });

  it('walks the decline path to ChargeDeclined with one follow-up message', () => {
    const declined = path('charge declined');
    expect(declined.states.at(-1)).toBe('ChargeDeclined');
    expect(declined.sqsSends).toBe(1);
    expect(declined.vendAttempts).toBe(0);
  });

  it('walks the vend-failed path through every vend attempt and the decision to Refunded, paging on-call once', () => {
    const failed = path('vend failed');
    expect(failed.states).toContain('AwaitDecision');
    expect(failed.states.at(-1)).toBe('Refunded');
    expect(failed.vendAttempts).toBe(failed.retries + 1);
    expect(failed.snsPublishes).toBe(1);
    expect(failed.transitions).toBeGreaterThan(path('vended at the first attempt').transitions);
  });

  it('prices every line and adds them up', () => {
    expect(result.lines.length).toBeGreaterThan(10);
    for (const line of result.lines) expect(line.monthlyUsd, line.item).toBeGreaterThanOrEqual(0);
    const sum = result.lines.reduce((total, line) => total + line.monthlyUsd, 0);
    expect(result.totalUsd).toBeCloseTo(sum, 6);
    const stepFunctions = result.lines.find((line) => line.service === 'Step Functions')!;
    expect(stepFunctions.quantity).toBeCloseTo(
      result.transitionsPerPayment * ASSUMPTIONS.paymentsPerMonth,
      0,
    );
  });

  it('prints a table with the total', () => {
    const table = formatEstimate(result);
    expect(table).toContain('State transitions per payment');
    expect(table).toContain('Step Functions');
    expect(table).toMatch(/total\s+1,000,000 payments a month, eu-west-2\s+\$\d+\.\d\d/);
  });
});

/**
 * The graph ELK lays out from an ASL: a node for every state (Parallel and Map holding theirs), the edges
 * the States Language defines (Next, Choice rules, Default, Catch with its errors, Start, End), and positions
 * that are absolute and fit together.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeChoiceRule, type GraphLayout, type GraphNode, layoutDefinition } from './graph.ts';
import { END, START } from './history.ts';

const PAYMENT_TO_VEND = readFileSync(
  new URL('../../workflow/payment-to-vend.asl.json', import.meta.url),
  'utf8',
);

const NESTED = JSON.stringify({
  StartAt: 'Both',
  States: {
    Both: {
      Type: 'Parallel',
      Branches: [
        {
          StartAt: 'Left',
          States: { Left: { Type: 'Pass', Next: 'LeftToo' }, LeftToo: { Type: 'Pass', End: true } },
        },
        {
          StartAt: 'Right',
          States: { Right: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', End: true } },
        },
      ],
      Next: 'Each',
    },
    Each: {
      Type: 'Map',
      ItemProcessor: { StartAt: 'Item', States: { Item: { Type: 'Pass', End: true } } },
      Catch: [{ ErrorEquals: ['States.TaskFailed', 'Custom'], Next: 'Broken' }],
      Next: 'Pick',
    },
    Pick: {
      Type: 'Choice',
      Choices: [
        {
          And: [
            { Variable: '$.n', NumericGreaterThan: 1 },
            { Variable: '$.s', IsPresent: true },
          ],
          Next: 'Done',
        },
      ],
      Default: 'Broken',
    },
    Done: { Type: 'Succeed' },
    Broken: { Type: 'Fail', Error: 'Broken' },
  },
});

function node(layout: GraphLayout, stateName: string): GraphNode {
  const found = layout.nodes.find((candidate) => candidate.stateName === stateName);
  if (found === undefined) throw new Error(`no node for ${stateName}`);
  return found;
}

/** Whether `point` lies on the border of `box` (within a pixel): edges start and end at their nodes. */
function onBorder(point: { x: number; y: number }, box: GraphNode): boolean {
  const within = (value: number, low: number, high: number) => value >= low - 1 && value <= high + 1;
  return within(point.x, box.x, box.x + box.width) && within(point.y, box.y, box.y + box.height);
}

describe('layoutDefinition', () => {
  it('draws every PaymentToVend state, with Start and End', async () => {
    // Act
    const layout = await layoutDefinition(PAYMENT_TO_VEND);

    // Assess
    const states = Object.keys((JSON.parse(PAYMENT_TO_VEND) as { States: object }).States);
    expect(
      layout.nodes
        .filter((each) => each.kind === 'state')
        .map((each) => each.stateName)
        .sort(),
    ).toEqual([...states].sort());
    expect(layout.nodes.filter((each) => each.kind === 'start' || each.kind === 'end')).toHaveLength(2);
    expect(node(layout, 'Vend')).toMatchObject({
      stateType: 'Task',
      detail: 'sqs:sendMessage.waitForTaskToken',
    });
    // An open payment waits for a decision instead of ending: the only Fail state left is the decline.
    expect(node(layout, 'AwaitDecision')).toMatchObject({
      stateType: 'Task',
      detail: 'lambda:invoke.waitForTaskToken',
    });
    expect(node(layout, 'Decision')).toMatchObject({ stateType: 'Choice' });
    expect(node(layout, 'ChargeDeclined')).toMatchObject({ stateType: 'Fail', detail: 'ChargeDeclined' });
    expect(layout.nodes.filter((each) => each.stateType === 'Fail').map((each) => each.stateName)).toEqual([
      'ChargeDeclined',
    ]);
    expect(layout.width).toBeGreaterThan(0);
    expect(layout.height).toBeGreaterThan(0);
  });

  it('draws Next, each Choice rule, and each Catch labelled with what it catches', async () => {
    // Act
    const layout = await layoutDefinition(PAYMENT_TO_VEND);

    // Assess
    const edge = (from: string, to: string, kind: string) =>
      layout.edges.find((each) => each.fromState === from && each.toState === to && each.kind === kind);
    expect(edge(START, 'SetAsidePaymentToken', 'start')).toBeDefined();
    expect(edge('Vend', 'NotifyCustomerVended', 'next')).toBeDefined();
    expect(edge('Vend', 'RecordVendFailed', 'catch')?.label).toBe('Catch States.ALL');
    expect(edge('ChargeOutcome', 'PublishPaymentFailure', 'choice')?.label).toBe(
      '$.charge.outcome == "declined"',
    );
    expect(edge('Vended', END, 'end')).toBeDefined();
    expect(edge('Refunded', END, 'end')).toBeDefined();
    expect(edge('ChargeDeclined', END, 'end')).toBeDefined();
    expect(
      layout.edges
        .filter((each) => each.kind === 'end')
        .map((each) => each.fromState)
        .sort(),
    ).toEqual(['ChargeDeclined', 'Refunded', 'Vended']);
    // RecordVendFailed's Next is the VendRecorded choice, and its Catch goes straight to PublishVendingFailure,
    // which the choice's default also reaches: a next edge, a catch edge and a choice edge.
    expect(edge('RecordVendFailed', 'VendRecorded', 'next')).toBeDefined();
    expect(edge('RecordVendFailed', 'PublishVendingFailure', 'catch')).toBeDefined();
    expect(edge('VendRecorded', 'VendedAfterAll', 'choice')).toBeDefined();
  });

  it('draws the wait for a decision: into AwaitDecision, its deadline and refusals looping back, and each decision', async () => {
    // Act
    const layout = await layoutDefinition(PAYMENT_TO_VEND);

    // Assess
    const edge = (from: string, to: string, kind: string) =>
      layout.edges.find((each) => each.fromState === from && each.toState === to && each.kind === kind);
    expect(edge('NotifyCustomerVendFailed', 'AwaitDecision', 'next')).toBeDefined();
    expect(edge('NotifyCustomerChargeUnconfirmed', 'AwaitDecision', 'next')).toBeDefined();
    expect(edge('AwaitDecision', 'RecordDecision', 'next')).toBeDefined();
    expect(edge('AwaitDecision', 'EscalateOpenPayment', 'catch')?.label).toBe('Catch States.Timeout');
    expect(edge('EscalateOpenPayment', 'AwaitDecision', 'next')).toBeDefined();
    expect(edge('RecordDecision', 'AwaitDecision', 'catch')?.label).toBe('Catch DecisionRefused');
    expect(edge('RecordDecision', 'Decision', 'next')).toBeDefined();
    // Each decision: a re-vend loops back to Vend (the same transaction id), the others end the payment.
    expect(edge('Decision', 'VendAgain', 'choice')?.label).toBe('$.decided.action == "revend"');
    expect(edge('VendAgain', 'Vend', 'next')).toBeDefined();
    expect(edge('Decision', 'RecordUtrnByHand', 'choice')?.label).toBe('$.decided.action == "record_utrn"');
    // A refund asks the vendor first (ConfirmVend): a vend it made stands, and only otherwise is the money returned.
    expect(edge('Decision', 'ConfirmVend', 'choice')?.label).toBe('$.decided.action == "refund"');
    expect(edge('ConfirmVend', 'VendedBeforeRefund', 'next')).toBeDefined();
    expect(edge('VendedBeforeRefund', 'Refund', 'default')).toBeDefined();
    expect(edge('VendedBeforeRefund', 'AlertOnCallRefundNotMade', 'choice')).toBeDefined();
    // A long label is shortened on the graph; its title has it whole.
    const recheck = edge('Decision', 'RecheckCharge', 'choice');
    expect(recheck?.title ?? recheck?.label).toBe('$.decided.action == "recheck_charge"');
    expect(edge('RecheckOutcome', 'AwaitDecision', 'default')).toBeDefined();
    // A decision that cannot be carried out pages on-call, and the payment waits again.
    expect(edge('Refund', 'AlertOnCallDecisionFailed', 'catch')).toBeDefined();
    expect(edge('AlertOnCallDecisionFailed', 'AwaitDecision', 'next')).toBeDefined();
  });

  it('gives positions that fit: no two states overlap, and every edge runs between its own nodes', async () => {
    // Act
    const layout = await layoutDefinition(PAYMENT_TO_VEND);

    // Assess
    const leaves = layout.nodes.filter((each) => !each.compound);
    for (const [index, a] of leaves.entries()) {
      for (const b of leaves.slice(index + 1)) {
        const apart =
          a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
        expect(apart, `${a.id} overlaps ${b.id}`).toBe(true);
      }
    }
    const nodeOf = (state: string) =>
      layout.nodes.find((each) =>
        state === START
          ? each.kind === 'start'
          : state === END
            ? each.kind === 'end'
            : each.stateName === state,
      )!;
    for (const edge of layout.edges) {
      expect(
        onBorder(edge.points[0]!, nodeOf(edge.fromState)),
        `${edge.id} starts at ${edge.fromState}`,
      ).toBe(true);
      expect(onBorder(edge.points.at(-1)!, nodeOf(edge.toState)), `${edge.id} ends at ${edge.toState}`).toBe(
        true,
      );
    }
  });

  it('draws a Parallel as a node holding its branches, and a Map as a node holding its item processor', async () => {
    // Act
    const layout = await layoutDefinition(NESTED);

    // Assess
    const both = node(layout, 'Both');
    const each = node(layout, 'Each');
    expect(both.compound).toBe(true);
    expect(each.compound).toBe(true);
    const branches = layout.nodes.filter((candidate) => candidate.kind === 'branch');
    expect(branches.map((branch) => [branch.label, branch.parentId])).toEqual([
      ['Branch 1', both.id],
      ['Branch 2', both.id],
    ]);
    expect(node(layout, 'Left').parentId).toBe(branches[0]!.id);
    expect(node(layout, 'Right').parentId).toBe(branches[1]!.id);
    expect(node(layout, 'Item').parentId).toBe(each.id);
    // Inside means inside: absolute positions nest.
    const item = node(layout, 'Item');
    expect(item.x).toBeGreaterThan(each.x);
    expect(item.y + item.height).toBeLessThan(each.y + each.height);
    const inner = layout.edges.find((edge) => edge.fromState === 'Left' && edge.toState === 'LeftToo')!;
    expect(onBorder(inner.points[0]!, node(layout, 'Left'))).toBe(true);
    expect(layout.edges.find((edge) => edge.fromState === 'Each' && edge.kind === 'catch')?.label).toBe(
      'Catch States.TaskFailed, Custom',
    );
    expect(layout.edges.find((edge) => edge.fromState === 'Pick' && edge.kind === 'default')?.toState).toBe(
      'Broken',
    );
  });

  it('lays out the same definition once', async () => {
    expect(await layoutDefinition(NESTED)).toBe(await layoutDefinition(NESTED));
  });
});

describe('describeChoiceRule', () => {
  it.each([
    [{ Variable: '$.charge.outcome', StringEquals: 'charged' }, '$.charge.outcome == "charged"'],
    [{ Variable: '$.n', NumericLessThanEqualsPath: '$.max' }, '$.n <= $.max'],
    [{ Not: { Variable: '$.x', IsPresent: true } }, 'not ($.x is present)'],
    [
      {
        Or: [
          { Variable: '$.a', BooleanEquals: true },
          { Variable: '$.b', IsNull: false },
        ],
      },
      '$.a == true or $.b is not null',
    ],
    [{ Condition: '{% $states.input.n > 1 %}' }, '$states.input.n > 1'],
  ])('%j reads %s', (rule, text) => {
    expect(describeChoiceRule(rule)).toBe(text);
  });
});

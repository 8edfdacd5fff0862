import { Stack, Stage, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { constructTestApp } from '../testing/bare-stack.ts';
import { unsuppressedFindings, unusedAcknowledgements } from '../testing/nag.ts';
import { applyCompliance } from './compliance.ts';

const env = { account: '111111111111', region: 'eu-west-2' };

describe('applyCompliance and unsuppressedFindings', () => {
  it('report each finding once, on the stage that has it, until it is acknowledged beside its resource', () => {
    // Prepare: two stages with the same non-compliant queue; the second acknowledges one rule.
    const app = constructTestApp();
    for (const name of ['first', 'second']) {
      const stage = new Stage(app, name, { env });
      const queue = new sqs.Queue(new Stack(stage, 'Stack'), 'Queue', { enforceSSL: true });
      if (name === 'second') {
        Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'test: a queue with no DLQ' });
      }
      applyCompliance(stage);
    }

    // Act
    const findings = unsuppressedFindings(app);

    // Assess
    expect(findings.map(({ ruleId, path }) => `${path} ${ruleId}`)).toEqual([
      'first/Stack/Queue/Resource AwsSolutions-SQS3',
    ]);
    expect(findings[0]?.message).toMatch(/dead-letter queue/);
  });

  it('returns nothing for a compliant app', () => {
    const app = constructTestApp();
    const stage = new Stage(app, 'only', { env });
    const stack = new Stack(stage, 'Stack');
    const deadLetterQueue = new sqs.Queue(stack, 'DeadLetter', { enforceSSL: true });
    new sqs.Queue(stack, 'Queue', {
      enforceSSL: true,
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: 3 },
    });
    applyCompliance(stage);

    expect(unsuppressedFindings(app)).toEqual([]);
  });

  it('refuses an app nothing checks, rather than calling it clean', () => {
    const app = constructTestApp();
    new sqs.Queue(new Stack(new Stage(app, 'only', { env }), 'Stack'), 'Queue');

    expect(() => unsuppressedFindings(app)).toThrow(/applyCompliance/);
  });
});

describe('unusedAcknowledgements', () => {
  /** A stage with a queue that has no dead-letter queue (AwsSolutions-SQS3) and refuses plain HTTP. */
  const stageWithQueue = () => {
    const app = constructTestApp();
    const stage = new Stage(app, 'only', { env });
    const queue = new sqs.Queue(new Stack(stage, 'Stack'), 'Queue', { enforceSSL: true });
    return { app, stage, queue };
  };

  it.each([
    ['on the queue', (queue: sqs.Queue) => queue],
    ['on its CloudFormation resource', (queue: sqs.Queue) => queue.node.defaultChild as Construct],
    ['on its stack, above it', (queue: sqs.Queue) => Stack.of(queue)],
  ])('finds nothing when the acknowledgement covers a finding, sitting %s', (_, where) => {
    // Prepare
    const { app, stage, queue } = stageWithQueue();
    Validations.of(where(queue)).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'test: a queue with no DLQ',
    });
    applyCompliance(stage);

    // Act
    const unused = unusedAcknowledgements(app);

    // Assess
    expect(unused).toEqual([]);
    expect(unsuppressedFindings(app)).toEqual([]);
  });

  it.each([
    ['a rule the resource does not break', 'AwsSolutions-SQS4', (queue: sqs.Queue) => queue],
    [
      'a finding the rule does not report (a misspelt acknowledgement)',
      'AwsSolutions-SQS3[Resource::*]',
      (queue: sqs.Queue) => queue,
    ],
    [
      'a finding on a sibling, not under it',
      'AwsSolutions-SQS3',
      (queue: sqs.Queue) => new Construct(Stack.of(queue), 'Elsewhere'),
    ],
  ])('names an acknowledgement of %s', (_, id, where) => {
    // Prepare
    const { app, stage, queue } = stageWithQueue();
    Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'test: a queue with no DLQ' });
    const placed = where(queue);
    Validations.of(placed).acknowledge({ id, reason: 'test: matches nothing' });
    applyCompliance(stage);

    // Act
    const unused = unusedAcknowledgements(app);

    // Assess
    expect(unused).toEqual([{ ruleId: id, path: placed.node.path, reason: 'test: matches nothing' }]);
  });

  it('counts only the nearest of two acknowledgements of one finding as used', () => {
    // Prepare
    const { app, stage, queue } = stageWithQueue();
    Validations.of(Stack.of(queue)).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'test: outer' });
    Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'test: inner' });
    applyCompliance(stage);

    // Act
    const unused = unusedAcknowledgements(app);

    // Assess
    expect(unused).toEqual([{ ruleId: 'AwsSolutions-SQS3', path: 'only/Stack', reason: 'test: outer' }]);
  });
});

import { Stack, Stage, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { constructTestApp } from '../testing/bare-stack.ts';
import { unsuppressedFindings } from '../testing/nag.ts';
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

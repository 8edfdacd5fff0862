import { type App, Stage } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { PLACEHOLDER_ACCOUNTS } from '../lib/environments.ts';
import type { PipelineStack } from '../lib/stacks/pipeline-stack.ts';
import { NO_BUNDLING } from '../testing/bare-stack.ts';
import { unsuppressedFindings, unusedAcknowledgements } from '../testing/nag.ts';
import { testApp } from '../testing/test-app.ts';
import { accountsFromContext, buildPipelineApp } from './app.ts';

describe('the app as `npm run synth` builds it', () => {
  // The whole app, synthesized once: the pipeline with every environment inside it. The one test of CDK's
  // built-in CloudFormation checks (every other test leaves them out: they cost seconds per synthesis).
  let app: App;
  let pipeline: PipelineStack;
  beforeAll(() => {
    app = testApp({ context: { ...NO_BUNDLING } });
    pipeline = buildPipelineApp(app);
  }, 120_000);

  it('is the pipeline with every environment inside it, four stacks each, nothing unacknowledged by the packs', () => {
    // Act
    const findings = unsuppressedFindings(app);

    // Assess
    const stages = pipeline.node.children.filter((child): child is Stage => child instanceof Stage);
    expect(stages.map((stage) => stage.stageName)).toEqual(['dev', 'staging', 'nonlive', 'production']);
    for (const stage of stages) {
      expect(
        stage.node.children.map((child) => child.node.id),
        stage.stageName,
      ).toEqual(['Network', 'Stateful', 'Application', 'Monitoring']);
      expect(stage.account).toBe(PLACEHOLDER_ACCOUNTS[stage.stageName as keyof typeof PLACEHOLDER_ACCOUNTS]);
    }
    expect(pipeline.account).toBe(PLACEHOLDER_ACCOUNTS.tooling);
    expect(findings).toEqual([]);
  }, 120_000);

  it('acknowledges no finding that is not there, in the pipeline or any environment', () => {
    // Act
    const unused = unusedAcknowledgements(app);

    // Assess
    expect(unused).toEqual([]);
  }, 120_000);
});

describe('accountsFromContext', () => {
  it('uses the placeholders when no accounts are given', () => {
    expect(accountsFromContext(undefined)).toEqual(PLACEHOLDER_ACCOUNTS);
  });

  it.each([
    ['a JSON string (cdk synth -c accounts=…)', '{"production":"999999999999"}'],
    ['an object (cdk.json context)', { production: '999999999999' }],
  ])('takes the given accounts over the placeholders from %s', (_, value) => {
    expect(accountsFromContext(value)).toEqual({ ...PLACEHOLDER_ACCOUNTS, production: '999999999999' });
  });

  it.each([
    ['an unknown environment', { prod: '999999999999' }, /unknown environment prod/],
    ['an account id that is not 12 digits', { dev: '1234' }, /12-digit/],
    ['something other than an object', '"dev"', /JSON object/],
  ])('refuses %s', (_, value, message) => {
    expect(() => accountsFromContext(value)).toThrow(message);
  });
});

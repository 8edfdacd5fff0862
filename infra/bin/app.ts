/**
 * The CDK app: the delivery pipeline (in the tooling account), which holds one PaymentPlatformStage per
 * environment (dev, staging, non-live production, production) and deploys them in that order. Deploy the
 * pipeline once by hand; from then on it deploys itself and every environment from the repository.
 *
 * Account ids come from `-c accounts='{"dev":"…",…}'`, or the placeholders in environments.ts; the source
 * from `-c pipelineConnectionArn=… -c pipelineRepository=owner/name`. Synthesis looks nothing up, so
 * `npm run synth` works offline with no credentials and no Docker.
 */
import { pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AVAILABILITY_ZONES } from '../lib/constructs/network.ts';
import {
  type EnvironmentName,
  type EnvironmentSettings,
  environments,
  PLACEHOLDER_ACCOUNTS,
  REGION,
} from '../lib/environments.ts';
import { PipelineStack, pipelineSourceFromContext } from '../lib/stacks/pipeline-stack.ts';
import { PaymentPlatformStage } from '../lib/stage.ts';

/** One stage per environment, named after it, under `scope` (the pipeline; tests use an app). */
export function buildStages(
  scope: Construct,
  settings: readonly EnvironmentSettings[],
  toolingAccount: string = PLACEHOLDER_ACCOUNTS.tooling,
): PaymentPlatformStage[] {
  return settings.map(
    (environment) =>
      new PaymentPlatformStage(scope, environment.name, { settings: environment, toolingAccount }),
  );
}

/** The accounts from the `accounts` context (a JSON object or string), over the placeholders. */
export function accountsFromContext(value: unknown): Record<EnvironmentName | 'tooling', string> {
  if (value === undefined) return { ...PLACEHOLDER_ACCOUNTS };
  const given: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (typeof given !== 'object' || given === null)
    throw new Error('context accounts: expected a JSON object');
  const accounts: Record<EnvironmentName | 'tooling', string> = { ...PLACEHOLDER_ACCOUNTS };
  for (const [name, account] of Object.entries(given)) {
    if (!(name in accounts)) throw new Error(`context accounts: unknown environment ${name}`);
    if (typeof account !== 'string' || !/^\d{12}$/.test(account)) {
      throw new Error(`context accounts: ${name} must be a 12-digit account id`);
    }
    accounts[name as EnvironmentName | 'tooling'] = account;
  }
  return accounts;
}

/**
 * The VPCs name their availability zones, but CDK still asks each account which zones exist (a context
 * lookup, which needs credentials). Answer those lookups here, from the same list, so synthesis stays offline.
 */
export function answerAvailabilityZoneLookups(app: App, accounts: Readonly<Record<string, string>>): void {
  const zones = AVAILABILITY_ZONES[REGION];
  if (zones === undefined) throw new Error(`no availability zones listed for ${REGION}`);
  for (const account of new Set(Object.values(accounts))) {
    app.node.setContext(`availability-zones:account=${account}:region=${REGION}`, [...zones]);
  }
}

/** The whole app: the pipeline and, inside it, every environment's stage. */
export function buildPipelineApp(app: App): PipelineStack {
  const accounts = accountsFromContext(app.node.tryGetContext('accounts'));
  answerAvailabilityZoneLookups(app, accounts);
  const source = pipelineSourceFromContext(app);
  return new PipelineStack(app, 'Pipeline', {
    toolingAccount: accounts.tooling,
    region: REGION,
    source,
    environments: environments(accounts),
    // The pipeline's own synth must rebuild exactly what was deployed by hand.
    synthContext: {
      accounts: JSON.stringify(accounts),
      pipelineConnectionArn: source.connectionArn,
      pipelineRepository: source.repository,
      pipelineBranch: source.branch,
    },
    stage: (scope, settings) =>
      new PaymentPlatformStage(scope, settings.name, { settings, toolingAccount: accounts.tooling }),
  });
}

// Only when run as the app (cdk.json's `node --import tsx infra/bin/app.ts`), not when a test imports it.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const app = new App();
  buildPipelineApp(app);
  app.synth();
}

/**
 * Test support: a bare stack in an app that skips asset bundling, for testing one construct at a time, and
 * the settings of a named environment.
 *
 * @example
 * const { stack } = bareStack('production');
 * new Messaging(stack, 'Messaging', { settings: settingsOf('production') });
 * const template = Template.fromStack(stack);
 */
import { type App, Stack } from 'aws-cdk-lib';
import { type EnvironmentName, type EnvironmentSettings, environments } from '../lib/environments.ts';
import { testApp } from './test-app.ts';

/** The app context every test uses: no NodejsFunction bundling (esbuild) unless a test asks for it. */
export const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] } as const;

export function settingsOf(name: EnvironmentName): EnvironmentSettings {
  const settings = environments().find((environment) => environment.name === name);
  if (settings === undefined) throw new Error(`no environment ${name}`);
  return settings;
}

/**
 * An app for any test but the stage tests: no bundling, and without CDK's built-in CloudFormation schema
 * validation, which costs seconds per synthesis (about 12 s of CPU for the four environments here). The test of
 * the whole app (bin/app.test.ts) keeps it, once for every stack of every environment and the pipeline's.
 */
export function constructTestApp(): App {
  return testApp({ context: { ...NO_BUNDLING }, builtinCloudFormationValidation: false });
}

export function bareStack(name: EnvironmentName = 'dev'): {
  app: App;
  stack: Stack;
  settings: EnvironmentSettings;
} {
  const settings = settingsOf(name);
  const app = constructTestApp();
  const stack = new Stack(app, 'Test', { env: { account: settings.account, region: settings.region } });
  return { app, stack, settings };
}

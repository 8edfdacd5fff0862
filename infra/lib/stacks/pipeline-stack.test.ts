import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type App, CfnWaitConditionHandle, Stack, Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecrassets from 'aws-cdk-lib/aws-ecr-assets';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { constructTestApp } from '../../testing/bare-stack.ts';
import { unsuppressedFindings } from '../../testing/nag.ts';
import { environments, PLACEHOLDER_ACCOUNTS, REGION } from '../environments.ts';
import { PipelineStack, PLACEHOLDER_PIPELINE_SOURCE, pipelineSourceFromContext } from './pipeline-stack.ts';

const names = (stages: readonly PipelineStageProperties[]) => stages.map((stage) => stage.Name);

interface PipelineStageProperties {
  readonly Name: string;
  readonly Actions: { Name: string; ActionTypeId: { Category: string; Provider: string } }[];
}

describe('PipelineStack', () => {
  let app: App;
  let template: Template;
  let stages: PipelineStageProperties[];

  const assetDirectory = mkdtempSync(join(tmpdir(), 'pipeline-assets-'));
  afterAll(() => rmSync(assetDirectory, { recursive: true, force: true }));

  beforeAll(() => {
    writeFileSync(join(assetDirectory, 'Dockerfile'), 'FROM scratch\n');
    writeFileSync(join(assetDirectory, 'asset.txt'), 'asset\n');
    app = constructTestApp();
    new PipelineStack(app, 'Pipeline', {
      toolingAccount: PLACEHOLDER_ACCOUNTS.tooling,
      region: REGION,
      source: pipelineSourceFromContext(app),
      environments: environments(),
      synthContext: { accounts: JSON.stringify(PLACEHOLDER_ACCOUNTS) },
      // A trivial stage with a file asset and a Docker image asset, as the real one has (Lambda bundles, the
      // front-end image), so the asset publishing steps are generated and checked.
      stage: (scope, settings) => {
        const stage = new Stage(scope, settings.name, {
          env: { account: settings.account, region: settings.region },
        });
        const stack = new Stack(stage, 'Placeholder');
        new CfnWaitConditionHandle(stack, 'Nothing');
        new s3assets.Asset(stack, 'File', { path: join(assetDirectory, 'asset.txt') });
        new ecrassets.DockerImageAsset(stack, 'Image', { directory: assetDirectory });
        return stage;
      },
    });
    template = Template.fromStack(app.node.findChild('Pipeline') as Stack);
    const [pipeline] = Object.values(template.findResources('AWS::CodePipeline::Pipeline'));
    stages = (pipeline as { Properties: { Stages: PipelineStageProperties[] } }).Properties.Stages;
  });

  it('lives in the tooling account', () => {
    expect((app.node.findChild('Pipeline') as Stack).account).toBe(PLACEHOLDER_ACCOUNTS.tooling);
  });

  it('takes the source from GitHub through the CodeStar connection', () => {
    const sourceAction = stages[0]?.Actions[0];
    expect(sourceAction?.ActionTypeId).toMatchObject({
      Category: 'Source',
      Provider: 'CodeStarSourceConnection',
    });
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Stages: Match.arrayWith([
        Match.objectLike({
          Actions: [
            Match.objectLike({
              Configuration: Match.objectLike({
                ConnectionArn: PLACEHOLDER_PIPELINE_SOURCE.connectionArn,
                FullRepositoryId: PLACEHOLDER_PIPELINE_SOURCE.repository,
                BranchName: 'main',
              }),
            }),
          ],
        }),
      ]),
    });
  });

  it('installs, tests, type-checks and synthesizes with the accounts it was deployed with', () => {
    const buildSpecs = Object.values(template.findResources('AWS::CodeBuild::Project')).map((project) =>
      JSON.stringify(project),
    );
    const synth = buildSpecs.find((spec) => spec.includes('npx cdk synth'));
    expect(synth).toBeDefined();
    for (const command of [
      'npm ci',
      'npm test',
      'npm run typecheck',
      'npx cdk synth -c accounts=\\\\\\"$SYNTH_CONTEXT_0\\\\\\"',
    ]) {
      expect(synth).toContain(command);
    }
  });

  it('promotes dev → staging → nonlive → approval → production, each followed by a smoke test', () => {
    const names = stages.map((stage) => stage.Name);
    expect(names.slice(-4)).toEqual(['dev', 'staging', 'nonlive', 'production']);
    const production = stages.find((stage) => stage.Name === 'production')!;
    expect(production.Actions.map((action) => action.Name)[0]).toBe('PromoteToProduction');
    expect(production.Actions[0]?.ActionTypeId).toMatchObject({ Category: 'Approval', Provider: 'Manual' });
    for (const name of ['dev', 'staging', 'nonlive', 'production']) {
      const stage = stages.find((candidate) => candidate.Name === name)!;
      expect(stage.Actions.map((action) => action.Name)).toContain(`SmokeTest-${name}`);
    }
    // No approval before the non-production stages.
    for (const name of ['dev', 'staging', 'nonlive']) {
      const stage = stages.find((candidate) => candidate.Name === name)!;
      expect(stage.Actions.some((action) => action.ActionTypeId.Category === 'Approval')).toBe(false);
    }
  });

  it.each(environments().map((settings) => [settings.name, settings.account, settings.domainName]))(
    'smoke-tests %s by invoking the health probe in account %s (%s)',
    (name, account, domainName) => {
      const spec = Object.values(template.findResources('AWS::CodeBuild::Project'))
        .map((project) => JSON.stringify(project))
        .find((candidate) => candidate.includes(`https://${domainName}/health`));
      expect(spec, name).toBeDefined();
      expect(spec).toContain(`arn:aws:iam::${account}:role/payment-to-vend-smoke-test`);
      expect(spec).toContain('aws lambda invoke');
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'sts:AssumeRole',
              Resource: `arn:aws:iam::${account}:role/payment-to-vend-smoke-test`,
            }),
          ]),
        },
      });
    },
  );

  it('builds and pushes the container image in the pipeline, and nothing else runs privileged', () => {
    const projects = Object.values(template.findResources('AWS::CodeBuild::Project')).map(
      (project) =>
        project as {
          Properties: { Environment: { PrivilegedMode?: boolean }; Source: { BuildSpec?: string } };
        },
    );
    const privileged = projects.filter((project) => project.Properties.Environment.PrivilegedMode === true);
    expect(privileged).toHaveLength(1);
    expect(JSON.stringify(privileged[0])).toContain('cdk-assets');
    expect(names(stages)).toContain('Assets');
  });

  it('encrypts the artifacts with a rotated key the environment accounts can use', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) }),
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'artifacts/' }),
    });
  });

  it('has no unacknowledged AWS Solutions or PCI DSS findings', () => {
    expect(unsuppressedFindings(app)).toEqual([]);
  });
});

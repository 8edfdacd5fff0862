/**
 * The delivery pipeline, in the tooling account: CDK Pipelines (CodePipeline V2) from the GitHub repository
 * through a CodeStar connection, a build that installs, tests, type-checks and synthesizes, then one stage
 * per environment in order (dev → staging → non-live production → manual approval → production), each
 * followed by a smoke test of the deployed health endpoint.
 *
 * - Self-mutating: a change to the pipeline itself is applied before anything is deployed.
 * - The front-end's container image (a Docker image asset of the application stage) is built and pushed to
 *   the environment's CDK bootstrap ECR repository by the pipeline's asset publishing step, which CDK
 *   Pipelines runs in privileged CodeBuild. Synthesis needs no Docker (NodejsFunction bundles with the local
 *   esbuild; the image is only staged), and the pipeline has no Docker build image, so
 *   `dockerEnabledForSynth` and `dockerEnabledForSelfMutation` stay off.
 * - `crossAccountKeys`: the artifact bucket is encrypted with a rotated customer-managed key the
 *   environment accounts are allowed to use (each bootstrapped with `--trust <tooling account>`).
 * - The smoke test: outside production the ALB is internal, and its VPC is in the environment's account,
 *   so a CodeBuild step here cannot reach it. The step assumes `SMOKE_TEST_ROLE_NAME` in the environment's
 *   account, which may only invoke the health probe Lambda the MonitoringStack puts in that VPC, invokes
 *   it, and fails when the probe does (`https://<domainName>/health` not answering 200 after a minute).
 *
 * @example
 * new PipelineStack(app, 'Pipeline', {
 *   toolingAccount: accounts.tooling,
 *   region: REGION,
 *   source: pipelineSourceFromContext(app),
 *   environments: environments(accounts),
 *   synthContext: { accounts: JSON.stringify(accounts) },
 *   stage: (scope, settings) => new PaymentPlatformStage(scope, settings.name, { settings, toolingAccount: accounts.tooling }),
 * });
 */
import {
  type CfnElement,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  type Stage,
  Validations,
} from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as pipelines from 'aws-cdk-lib/pipelines';
import type { Construct, IConstruct } from 'constructs';
import { acknowledgeInlinePolicy, applyCompliance } from '../compliance.ts';
import { HEALTH_PROBE_FUNCTION_NAME, SMOKE_TEST_ROLE_NAME } from '../constructs/health-probe.ts';
import type { EnvironmentSettings } from '../environments.ts';

/** Where the pipeline takes the code from. */
export interface PipelineSourceSettings {
  /** ARN of the CodeStar (CodeConnections) connection to GitHub, created and authorised in the console. */
  readonly connectionArn: string;
  /** `owner/repository` on GitHub. */
  readonly repository: string;
  readonly branch: string;
}

/** Placeholders until the connection exists: `-c pipelineConnectionArn=… -c pipelineRepository=owner/name`. */
export const PLACEHOLDER_PIPELINE_SOURCE: PipelineSourceSettings = {
  connectionArn:
    'arn:aws:codeconnections:eu-west-2:111111111111:connection/00000000-0000-4000-8000-000000000000',
  repository: 'example-energy/payment-to-vend',
  branch: 'main',
};

/** The pipeline's source from context (`pipelineConnectionArn`, `pipelineRepository`, `pipelineBranch`). */
export function pipelineSourceFromContext(scope: Construct): PipelineSourceSettings {
  const read = (key: string, fallback: string): string => {
    const value: unknown = scope.node.tryGetContext(key);
    return typeof value === 'string' && value !== '' ? value : fallback;
  };
  return {
    connectionArn: read('pipelineConnectionArn', PLACEHOLDER_PIPELINE_SOURCE.connectionArn),
    repository: read('pipelineRepository', PLACEHOLDER_PIPELINE_SOURCE.repository),
    branch: read('pipelineBranch', PLACEHOLDER_PIPELINE_SOURCE.branch),
  };
}

export interface PipelineStackProps extends Omit<StackProps, 'env'> {
  readonly toolingAccount: string;
  readonly region: string;
  readonly source: PipelineSourceSettings;
  /** In promotion order; production is deployed only after a manual approval. */
  readonly environments: readonly EnvironmentSettings[];
  /** Builds one environment's stage (its stacks); called once per environment. */
  readonly stage: (scope: Construct, settings: EnvironmentSettings) => Stage;
  /**
   * Context the build's `cdk synth` must get so it synthesizes what was deployed by hand (the accounts,
   * the source), e.g. `{ accounts: '{"dev":"…"}', pipelineRepository: 'owner/name' }`.
   */
  readonly synthContext?: Readonly<Record<string, string>>;
}

export class PipelineStack extends Stack {
  public readonly pipeline: pipelines.CodePipeline;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, {
      ...props,
      env: { account: props.toolingAccount, region: props.region },
      description:
        'PaymentToVend delivery pipeline: build, test, synth, then dev → staging → nonlive → production',
    });

    const source = pipelines.CodePipelineSource.connection(props.source.repository, props.source.branch, {
      connectionArn: props.source.connectionArn,
    });
    const contextEntries = Object.entries(props.synthContext ?? {});
    const synth = new pipelines.CodeBuildStep('Synth', {
      input: source,
      // Context values go through the environment so JSON needs no shell quoting.
      env: Object.fromEntries(contextEntries.map(([, value], index) => [`SYNTH_CONTEXT_${index}`, value])),
      installCommands: ['npm ci'],
      commands: [
        'npm test',
        'npm run typecheck',
        [
          'npx cdk synth',
          ...contextEntries.map(([key], index) => `-c ${key}="$SYNTH_CONTEXT_${index}"`),
        ].join(' '),
      ],
      primaryOutputDirectory: 'cdk.out',
      buildEnvironment: {
        buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
        // The test suite runs the embedded AWS and the whole flow; two cores finish it in about five minutes.
        computeType: codebuild.ComputeType.MEDIUM,
      },
      partialBuildSpec: codebuild.BuildSpec.fromObject({
        phases: { install: { 'runtime-versions': { nodejs: '20' } } },
      }),
      timeout: Duration.minutes(30),
    });

    this.pipeline = new pipelines.CodePipeline(this, 'Pipeline', {
      pipelineName: 'PaymentToVend',
      pipelineType: codepipeline.PipelineType.V2,
      synth,
      crossAccountKeys: true,
      enableKeyRotation: true,
      selfMutation: true,
      dockerEnabledForSynth: false,
      dockerEnabledForSelfMutation: false,
      publishAssetsInParallel: true,
    });

    for (const settings of props.environments) {
      const stage = props.stage(this, settings);
      this.pipeline.addStage(stage, {
        ...(settings.name === 'production'
          ? {
              pre: [
                new pipelines.ManualApprovalStep('PromoteToProduction', {
                  comment: 'Non-live production is healthy. Deploy this change to production?',
                }),
              ],
            }
          : {}),
        post: [smokeTest(settings)],
      });
    }

    this.pipeline.buildPipeline();
    this.hardenArtifactBucket();
    this.acknowledgeGeneratedFindings();
    // The pipeline is held to the same packs as every environment (each stage applies them to itself).
    applyCompliance(this);
  }

  /**
   * What CDK Pipelines generates and cdk-nag flags, acknowledged on the pipeline construct that generates it
   * (its roles, policies and CodeBuild projects have no other place to sit), or, where only one generated role
   * has a finding, on that role.
   */
  private acknowledgeGeneratedFindings(): void {
    const acknowledge = (id: string, reason: string) =>
      Validations.of(this.pipeline).acknowledge({ id, reason });
    const artifactBucketGrant =
      'CDK Pipelines grants each stage read/write on the pipeline’s own artifact bucket and use of its key (the action groups of grantReadWrite), on that one bucket and key only.';
    for (const action of [
      's3:GetObject*',
      's3:GetBucket*',
      's3:List*',
      's3:DeleteObject*',
      's3:Abort*',
      'kms:ReEncrypt*',
      'kms:GenerateDataKey*',
    ]) {
      acknowledge(`AwsSolutions-IAM5[Action::${action}]`, artifactBucketGrant);
    }
    const artifactBucketId = this.getLogicalId(
      this.pipeline.pipeline.artifactBucket.node.defaultChild as CfnElement,
    );
    acknowledge(`AwsSolutions-IAM5[Resource::<${artifactBucketId}.Arn>/*]`, artifactBucketGrant);
    // Each CodeBuild project writes its own log streams and test reports, named only at build time. The asset
    // publishing projects are left out: their shared roles grant the same on every project (below).
    const assetPublishing = this.generatedChild(this.pipeline, 'Assets');
    const ownRoleProjects = this.pipeline.node
      .findAll()
      .filter((node) => node instanceof codebuild.Project)
      .filter((project) => !project.node.path.startsWith(`${assetPublishing.node.path}/`));
    for (const project of ownRoleProjects) {
      const projectId = this.getLogicalId(project.node.defaultChild as CfnElement);
      acknowledge(
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:${this.region}:${this.account}:log-group:/aws/codebuild/<${projectId}>:*]`,
        'A CodeBuild project writes the log streams of its own log group; the streams are named per build.',
      );
      acknowledge(
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codebuild:${this.region}:${this.account}:report-group/<${projectId}>-*]`,
        'A CodeBuild project creates and writes its own report groups, named after the project.',
      );
    }
    // The asset publishing roles are shared by all file (and all Docker) publishing projects, one per asset.
    acknowledge(
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:${this.region}:${this.account}:log-group:/aws/codebuild/*]`,
      'The shared asset publishing roles write the logs of every asset publishing project (one per asset), whose names CDK Pipelines generates.',
    );
    acknowledge(
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codebuild:${this.region}:${this.account}:report-group/*]`,
      'The shared asset publishing roles serve every asset publishing project (one per asset), whose names CDK Pipelines generates.',
    );
    acknowledge(
      `AwsSolutions-IAM5[Resource::arn:*:iam::${this.account}:role/*]`,
      'Self-mutation and asset publishing assume the CDK bootstrap roles, restricted by CDK Pipelines to roles tagged aws-cdk:bootstrap-role (deploy, file-publishing, image-publishing).',
    );
    // Resource * twice, each acknowledged on the one role that has it, for exactly its actions.
    Validations.of(this.generatedChild(this.pipeline, 'UpdatePipeline', 'SelfMutation', 'Role')).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'The self-mutation role’s cloudformation:DescribeStacks and s3:ListBucket on *: it finds the bootstrap resources before it assumes a bootstrap role; neither reads data.',
    });
    // One role per asset type the stages have (files, Docker images).
    const assetRoles = ['FileRole', 'DockerRole'].flatMap(
      (id) => assetPublishing.node.tryFindChild(id) ?? [],
    );
    for (const assetRole of assetRoles) {
      Validations.of(assetRole).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'The shared asset publishing role’s codebuild:StartBuild, BatchGetBuilds and StopBuild on *: CDK Pipelines grants them on * rather than on each asset publishing project (one per asset) so the policy does not grow with every asset. Only CodeBuild may assume the role.',
      });
    }
    acknowledge(
      'PCI.DSS.321-CodeBuildProjectSourceRepoUrl',
      'The projects take their source from the pipeline’s artifacts (type CODEPIPELINE); GitHub is reached through the CodeStar connection (a GitHub App), so no credentials sit in any URL.',
    );
    acknowledgeInlinePolicy(
      this.pipeline,
      'CDK Pipelines generates one role per action, each with only that action’s grants.',
    );
  }

  /**
   * A construct CDK Pipelines generates, found by its ids under `scope`. Throws when it is not there, so an
   * acknowledgement never silently lands nowhere after a CDK upgrade moves it.
   */
  private generatedChild(scope: IConstruct, ...ids: readonly string[]): IConstruct {
    let found = scope;
    for (const id of ids) {
      const child = found.node.tryFindChild(id);
      if (child === undefined) {
        throw new Error(
          `PipelineStack: CDK Pipelines generated no ${ids.join('/')} under ${scope.node.path}`,
        );
      }
      found = child;
    }
    return found;
  }

  /** The artifact bucket CDK Pipelines makes: versioned, and logging access to a bucket of its own. */
  private hardenArtifactBucket(): void {
    const artifactBucket = this.pipeline.pipeline.artifactBucket;
    const cfnBucket = artifactBucket.node.defaultChild as s3.CfnBucket;
    const accessLogs = new s3.Bucket(this, 'ArtifactAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    accessLogs.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'S3ServerAccessLogsOfTheArtifactBucket',
        principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [accessLogs.arnForObjects('artifacts/*')],
        conditions: {
          ArnLike: { 'aws:SourceArn': artifactBucket.bucketArn },
          StringEquals: { 'aws:SourceAccount': this.account },
        },
      }),
    );
    for (const [id, reason] of [
      [
        'PCI.DSS.321-S3DefaultEncryptionKMS',
        'S3 server access logs can only be delivered to a bucket encrypted with SSE-S3.',
      ],
      [
        'PCI.DSS.321-S3BucketReplicationEnabled',
        'Access logs of build artifacts stay in eu-west-2; versioning keeps overwritten objects.',
      ],
    ] as const) {
      Validations.of(accessLogs).acknowledge({ id, reason });
    }
    cfnBucket.versioningConfiguration = { status: 'Enabled' };
    cfnBucket.loggingConfiguration = {
      destinationBucketName: accessLogs.bucketName,
      logFilePrefix: 'artifacts/',
    };
    Validations.of(artifactBucket).acknowledge({
      id: 'PCI.DSS.321-S3BucketReplicationEnabled',
      reason: 'Build artifacts are reproducible from the repository; a copy in another region adds nothing.',
    });
  }
}

/**
 * After a stage: assume the smoke-test role in the environment's account and invoke the health probe in its
 * VPC; the step fails when the probe does.
 */
function smokeTest(settings: EnvironmentSettings): pipelines.CodeBuildStep {
  const roleArn = `arn:aws:iam::${settings.account}:role/${SMOKE_TEST_ROLE_NAME}`;
  const functionArn = `arn:aws:lambda:${settings.region}:${settings.account}:function:${HEALTH_PROBE_FUNCTION_NAME}`;
  return new pipelines.CodeBuildStep(`SmokeTest-${settings.name}`, {
    env: {
      SMOKE_TEST_ROLE_ARN: roleArn,
      HEALTH_PROBE_ARN: functionArn,
      HEALTH_URL: `https://${settings.domainName}/health`,
    },
    commands: [
      'echo "Smoke test: $HEALTH_URL, from inside the VPC of the target account"',
      'CREDENTIALS=$(aws sts assume-role --role-arn "$SMOKE_TEST_ROLE_ARN" --role-session-name smoke-test --query "Credentials.[AccessKeyId,SecretAccessKey,SessionToken]" --output text)',
      'export AWS_ACCESS_KEY_ID="$(echo "$CREDENTIALS" | cut -f1)" AWS_SECRET_ACCESS_KEY="$(echo "$CREDENTIALS" | cut -f2)" AWS_SESSION_TOKEN="$(echo "$CREDENTIALS" | cut -f3)"',
      // The probe tries for about a minute; the CLI must wait for it.
      'aws lambda invoke --function-name "$HEALTH_PROBE_ARN" --cli-binary-format raw-in-base64-out --payload "{}" --cli-read-timeout 120 probe-result.json > invocation.json',
      'cat invocation.json probe-result.json',
      'if grep -q FunctionError invocation.json; then echo "The front-end is not healthy"; exit 1; fi',
    ],
    rolePolicyStatements: [new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [roleArn] })],
    buildEnvironment: {
      buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
      computeType: codebuild.ComputeType.SMALL,
    },
    timeout: Duration.minutes(10),
  });
}

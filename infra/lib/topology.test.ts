/**
 * Local equals deployed. For every environment, the stage `npm run synth` builds and the embedded system
 * `LOCAL_ENVIRONMENT=<name> npm start` runs are held to the same topology (system/topology.ts): the same state
 * machine definition (the resources' ARNs and URLs aside), and the same function, queue and event source mapping
 * settings.
 */
import { ExecuteStatementCommand, RDSDataClient } from '@aws-sdk/client-rds-data';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedSnapshot } from '../../database/testing/migrated-snapshot.ts';
import { type PaymentSystem, startPaymentSystem } from '../../system/payment-system.ts';
import { type Topology, topologyFor } from '../../system/topology.ts';
import { synthesizeLocalDefinition } from '../../workflow/local-definition.ts';
import { buildStages } from '../bin/app.ts';
import { constructTestApp } from '../testing/bare-stack.ts';
import { environments } from './environments.ts';
import type { PaymentPlatformStage } from './stage.ts';

let stages: PaymentPlatformStage[];
beforeAll(() => {
  stages = buildStages(constructTestApp(), environments());
});

/** The parameters that name a resource: they differ between AWS and the embedded AWS, and only they may. */
const RESOURCE_PARAMETERS = new Set(['FunctionName', 'QueueUrl', 'TopicArn']);

/** A definition with every resource-naming parameter replaced by a marker, for comparing two environments. */
function withoutResources(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutResources);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      RESOURCE_PARAMETERS.has(key) ? '<resource>' : withoutResources(item),
    ]),
  );
}

/** A CloudFormation string with its intrinsics rendered: pseudo parameters by value, references as markers. */
function rendered(value: unknown, region: string, account: string): string {
  if (typeof value === 'string') return value;
  const record = value as Record<string, unknown>;
  if ('Fn::Join' in record) {
    const [separator, parts] = record['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => rendered(part, region, account)).join(separator);
  }
  if ('Ref' in record) {
    const pseudo: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::Region': region,
      'AWS::AccountId': account,
    };
    return pseudo[String(record.Ref)] ?? '<ref>';
  }
  return '<ref>';
}

const settingsOfFunctions = (template: Template) =>
  Object.entries(template.findResources('AWS::Lambda::Function')).map(([logicalId, resource]) => ({
    logicalId,
    properties: resource.Properties as {
      Timeout: number;
      MemorySize: number;
      Environment: { Variables: Record<string, unknown> };
    },
  }));

describe.each(environments().map((settings) => [settings.name, settings] as const))(
  'the %s environment, deployed and local',
  (name, settings) => {
    const topology: Topology = topologyFor(settings);
    let application: Template;
    let stateful: Template;
    let system: PaymentSystem;
    let sqs: SQSClient;
    let rds: RDSDataClient;

    beforeAll(async () => {
      const stage = stages.find((candidate) => candidate.stageName === name)!;
      application = Template.fromStack(stage.applicationStack);
      stateful = Template.fromStack(stage.statefulStack);
      system = await startPaymentSystem({
        port: 0,
        databaseSnapshot: await migratedSnapshot(),
        dataDir: null,
        simulatorsPort: 0,
        logLevel: 'SILENT',
        environment: name,
      });
      const client = {
        endpoint: system.aws.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      };
      sqs = new SQSClient(client);
      rds = new RDSDataClient(client);
    }, 90_000);

    afterAll(async () => {
      sqs?.destroy();
      rds?.destroy();
      await system?.close();
    });

    it('runs the state machine definition that is deployed, the resources aside', () => {
      // Prepare
      const [machine] = Object.values(application.findResources('AWS::StepFunctions::StateMachine'));
      const deployed = JSON.parse(
        rendered(machine?.Properties.DefinitionString, settings.region, settings.account),
      ) as unknown;

      // Act
      const local = synthesizeLocalDefinition({ props: topology.workflow });

      // Assess
      expect(withoutResources(local)).toEqual(withoutResources(deployed));
    });

    it.each(Object.keys(topology.functions) as (keyof Topology['functions'])[])(
      'gives the %s function the same timeout, memory and configuration names',
      (key) => {
        // Prepare
        const spec = topology.functions[key];
        const deployed = settingsOfFunctions(application).find((fn) =>
          fn.logicalId.startsWith(`Tasks${spec.constructId}`),
        )!;

        // Act
        const local = system.aws.lambda.registry.resolve(spec.name);

        // Assess
        expect({ timeout: deployed.properties.Timeout, memory: deployed.properties.MemorySize }).toEqual({
          timeout: spec.timeoutSeconds,
          memory: spec.memoryMb,
        });
        expect({ timeout: local.timeoutSeconds, memory: local.memoryMb }).toEqual({
          timeout: spec.timeoutSeconds,
          memory: spec.memoryMb,
        });
        // What the code reads is set in both (AWS adds secrets and logging; locally the endpoint).
        const read = [
          'DATABASE_CLUSTER_ARN',
          'DATABASE_SECRET_ARN',
          'DATABASE_NAME',
          'POWERTOOLS_SERVICE_NAME',
        ];
        const providerUrls = spec.reaches.map((provider) =>
          provider === 'paymentGateway' ? 'PAYMENT_GATEWAY_URL' : 'VENDING_VENDOR_URL',
        );
        for (const variable of [...read, ...providerUrls]) {
          expect(Object.keys(deployed.properties.Environment.Variables), variable).toContain(variable);
          expect(Object.keys(local.environment), variable).toContain(variable);
        }
      },
    );

    it.each(Object.keys(topology.queues) as (keyof Topology['queues'])[])(
      'gives the %s queue the same visibility, retention and redrive',
      async (key) => {
        // Prepare
        const spec = topology.queues[key];
        const deployedQueues = Object.entries(stateful.findResources('AWS::SQS::Queue'));
        const [, deployed] = deployedQueues.find(
          ([logicalId]) => logicalId.startsWith(`Messaging${spec.name}`) && !logicalId.includes('DeadLetter'),
        )!;
        const [, deadLetter] = deployedQueues.find(([logicalId]) =>
          logicalId.startsWith(`Messaging${spec.name}DeadLetter`),
        )!;

        // Act
        const { Attributes: local = {} } = await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: system.queueUrls[spec.name], AttributeNames: ['All'] }),
        );
        const { Attributes: localDeadLetter = {} } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: system.queueUrls[spec.deadLetter.name],
            AttributeNames: ['MessageRetentionPeriod'],
          }),
        );

        // Assess
        const expected = {
          visibility: spec.visibilityTimeoutSeconds,
          retention: spec.retentionDays * 86_400,
          maxReceiveCount: spec.deadLetter.maxReceiveCount,
          deadLetterRetention: spec.deadLetter.retentionDays * 86_400,
        };
        expect({
          visibility: deployed.Properties.VisibilityTimeout,
          retention: deployed.Properties.MessageRetentionPeriod,
          maxReceiveCount: deployed.Properties.RedrivePolicy.maxReceiveCount,
          deadLetterRetention: deadLetter.Properties.MessageRetentionPeriod,
        }).toEqual(expected);
        expect({
          visibility: Number(local.VisibilityTimeout),
          retention: Number(local.MessageRetentionPeriod),
          maxReceiveCount: (JSON.parse(local.RedrivePolicy ?? '{}') as { maxReceiveCount: number })
            .maxReceiveCount,
          deadLetterRetention: Number(localDeadLetter.MessageRetentionPeriod),
        }).toEqual(expected);
      },
    );

    /** The logical id of the deployed secret (as attached to the cluster) whose username is `user`. */
    const deployedSecretOf = (user: string): string => {
      const [secretId] = Object.entries(stateful.findResources('AWS::SecretsManager::Secret')).find(
        ([, secret]) =>
          JSON.stringify(secret.Properties.GenerateSecretString?.SecretStringTemplate ?? '').includes(
            `\\"username\\":\\"${user}\\"`,
          ),
      )!;
      const [attachmentId] = Object.entries(
        stateful.findResources('AWS::SecretsManager::SecretTargetAttachment'),
      ).find(([, attachment]) => attachment.Properties.SecretId.Ref === secretId)!;
      return attachmentId;
    };
    /** Who the embedded Data API signs a secret in as. */
    const localUserOf = async (secretArn: unknown): Promise<string | undefined> => {
      const { records } = await rds.send(
        new ExecuteStatementCommand({
          ...system.masterDatabase,
          secretArn: String(secretArn),
          sql: 'SELECT current_user',
        }),
      );
      return records?.[0]?.[0]?.stringValue;
    };

    it.each(Object.keys(topology.functions) as (keyof Topology['functions'])[])(
      'signs the %s function in to the database as the same user',
      async (key) => {
        // Prepare
        const spec = topology.functions[key];
        const deployed = settingsOfFunctions(application).find((fn) =>
          fn.logicalId.startsWith(`Tasks${spec.constructId}`),
        )!;

        // Act
        const local = system.aws.lambda.registry.resolve(spec.name).environment.DATABASE_SECRET_ARN;

        // Assess
        expect(JSON.stringify(deployed.properties.Environment.Variables.DATABASE_SECRET_ARN)).toContain(
          deployedSecretOf(spec.databaseUser),
        );
        expect(await localUserOf(local)).toBe(spec.databaseUser);
      },
    );

    it('signs the front-end in to the database as the same user', async () => {
      // Prepare
      const [taskDefinition] = Object.values(application.findResources('AWS::ECS::TaskDefinition'));
      const environment = taskDefinition?.Properties.ContainerDefinitions[0].Environment as {
        Name: string;
        Value: unknown;
      }[];

      // Act
      const deployed = environment.find((variable) => variable.Name === 'DATABASE_SECRET_ARN')?.Value;

      // Assess
      expect(JSON.stringify(deployed)).toContain(deployedSecretOf(topology.frontEnd.databaseUser));
      expect(await localUserOf(system.database.secretArn)).toBe(topology.frontEnd.databaseUser);
    });

    it('maps PaymentSuccess to meter-vending with the same batch, window and concurrency', () => {
      // Prepare
      const spec = topology.paymentSuccessMapping;
      const [deployed] = Object.values(application.findResources('AWS::Lambda::EventSourceMapping'));

      // Act
      const [local] = system.aws.eventSourceMappings.list();

      // Assess
      const expected = {
        batchSize: spec.batchSize,
        window: spec.maxBatchingWindowSeconds,
        concurrency: spec.maxConcurrency,
        reportsBatchItemFailures: true,
      };
      expect({
        batchSize: deployed?.Properties.BatchSize,
        window: deployed?.Properties.MaximumBatchingWindowInSeconds,
        concurrency: deployed?.Properties.ScalingConfig?.MaximumConcurrency,
        reportsBatchItemFailures:
          deployed?.Properties.FunctionResponseTypes?.includes('ReportBatchItemFailures'),
      }).toEqual(expected);
      expect({
        batchSize: local?.batchSize,
        window: local?.maximumBatchingWindowSeconds,
        concurrency: local?.maximumConcurrency,
        reportsBatchItemFailures: local?.functionResponseTypes.includes('ReportBatchItemFailures'),
      }).toEqual(expected);
    });
  },
);

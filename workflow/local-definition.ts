/**
 * The PaymentToVend definition for the embedded AWS: the construct synthesized in a bare stack whose
 * functions, queues and topic are placeholders at fixed local ARNs and URLs, rendered to plain ASL.
 *
 * There is one definition: the construct. On AWS the CDK app synthesizes it with the real resources and
 * CloudFormation fills in their ARNs and URLs; locally this module fills in the embedded AWS's own, so
 * nothing needs substituting at run time (no DefinitionSubstitutions). The names below are what local
 * start-up must create: functions `charge`, `notify` and `meter-vending`, queues `PaymentSuccess`, `PaymentFailure`,
 * `VendingFailure`, topic `OnCall`, in us-east-1 / 000000000000 (the embedded AWS's defaults). The
 * embedded SQS accepts a queue URL under any host, so the URLs hold whatever port the embedded AWS listens
 * on; a different region or account needs a re-synthesis with `synthesizeLocalDefinition({ region, accountId })`.
 *
 * @example
 * const asl = synthesizeLocalDefinition({ props: { maxVendAttempts: 3, vendRetryIntervalSeconds: 1 } });
 * await sfn.send(new CreateStateMachineCommand({ name: 'PaymentToVend', definition: JSON.stringify(asl), roleArn }));
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { RESOURCE_NAMES } from '../system/topology.ts';
import { PaymentToVend, type PaymentToVendProps } from './payment-to-vend.ts';

/** The local names of what the state machine reaches: the system's, as its topology declares them. */
export const LOCAL_RESOURCE_NAMES = RESOURCE_NAMES;

export interface LocalEnvironment {
  readonly region?: string;
  readonly accountId?: string;
  /** Base of queue URLs. @default 'http://127.0.0.1:4566' */
  readonly queueEndpoint?: string;
}

/** ARNs and URLs of the local resources, as the generated ASL names them. */
export function localResources(environment: LocalEnvironment = {}) {
  const region = environment.region ?? 'us-east-1';
  const accountId = environment.accountId ?? '000000000000';
  const queueEndpoint = environment.queueEndpoint ?? 'http://127.0.0.1:4566';
  const { functions, queues, topics } = LOCAL_RESOURCE_NAMES;
  const functionArn = (name: string) => `arn:aws:lambda:${region}:${accountId}:function:${name}`;
  const queue = (name: string) => ({
    name,
    arn: `arn:aws:sqs:${region}:${accountId}:${name}`,
    url: `${queueEndpoint}/${accountId}/${name}`,
  });
  return {
    region,
    accountId,
    functions: {
      charge: functionArn(functions.charge),
      notify: functionArn(functions.notify),
      meterVending: functionArn(functions.meterVending),
      followUp: functionArn(functions.followUp),
    },
    queues: {
      paymentSuccess: queue(queues.paymentSuccess),
      paymentFailure: queue(queues.paymentFailure),
      vendingFailure: queue(queues.vendingFailure),
    },
    topics: { onCall: `arn:aws:sns:${region}:${accountId}:${topics.onCall}` },
  };
}

/** Tuning props of the construct; the resources are the local placeholders. */
export type LocalTuning = Omit<PaymentToVendProps, 'functions' | 'queues' | 'topics' | 'logs'>;

/** The ASL, as a JSON object, that the construct synthesizes for the embedded AWS. */
export function synthesizeLocalDefinition(
  options: { props?: LocalTuning; environment?: LocalEnvironment } = {},
): Record<string, unknown> {
  // Without an outdir an App writes its assembly to a new temporary folder that nobody removes.
  const outdir = mkdtempSync(join(tmpdir(), 'payment-to-vend-local-definition-'));
  try {
    return synthesizeInto(outdir, options);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function synthesizeInto(
  outdir: string,
  options: { props?: LocalTuning; environment?: LocalEnvironment },
): Record<string, unknown> {
  const resources = localResources(options.environment);
  // The built-in CloudFormation validation checks a template nobody deploys, and costs seconds.
  const app = new App({ outdir, builtinCloudFormationValidation: false, treeMetadata: false });
  const stack = new Stack(app, 'PaymentToVendLocal', {
    env: { account: resources.accountId, region: resources.region },
  });
  const queue = (id: string, { arn, url }: { arn: string; url: string }) =>
    sqs.Queue.fromQueueAttributes(stack, id, { queueArn: arn, queueUrl: url });
  new PaymentToVend(stack, 'PaymentToVend', {
    ...options.props,
    functions: {
      charge: lambda.Function.fromFunctionArn(stack, 'Charge', resources.functions.charge),
      notify: lambda.Function.fromFunctionArn(stack, 'Notify', resources.functions.notify),
      meterVending: lambda.Function.fromFunctionArn(stack, 'MeterVending', resources.functions.meterVending),
      followUp: lambda.Function.fromFunctionArn(stack, 'FollowUp', resources.functions.followUp),
    },
    queues: {
      paymentSuccess: queue('PaymentSuccess', resources.queues.paymentSuccess),
      paymentFailure: queue('PaymentFailure', resources.queues.paymentFailure),
      vendingFailure: queue('VendingFailure', resources.queues.vendingFailure),
    },
    topics: { onCall: sns.Topic.fromTopicArn(stack, 'OnCall', resources.topics.onCall) },
  });

  const machines = Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine');
  const [machine, ...others] = Object.values(machines) as { Properties: { DefinitionString: unknown } }[];
  if (machine === undefined || others.length > 0) {
    throw new Error(`Expected one state machine in the stack, found ${Object.keys(machines).length}`);
  }
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': resources.region,
    'AWS::AccountId': resources.accountId,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  return JSON.parse(renderCloudFormationString(machine.Properties.DefinitionString, pseudo)) as Record<
    string,
    unknown
  >;
}

/**
 * Renders a CloudFormation string value whose only tokens are `Fn::Join` and `Ref`s to pseudo parameters;
 * anything else means a resource the local stack does not know, and is refused.
 */
export function renderCloudFormationString(value: unknown, pseudo: Readonly<Record<string, string>>): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value);
    const [entry] = entries;
    if (entries.length === 1 && entry !== undefined) {
      const [intrinsic, argument] = entry;
      if (intrinsic === 'Ref' && typeof argument === 'string' && pseudo[argument] !== undefined) {
        return pseudo[argument];
      }
      if (intrinsic === 'Fn::Join' && Array.isArray(argument) && argument.length === 2) {
        const [separator, parts] = argument as [unknown, unknown];
        if (typeof separator === 'string' && Array.isArray(parts)) {
          return parts.map((part) => renderCloudFormationString(part, pseudo)).join(separator);
        }
      }
    }
  }
  throw new Error(
    `The local definition may only hold literals, Fn::Join and pseudo parameters; found ${JSON.stringify(value)}`,
  );
}

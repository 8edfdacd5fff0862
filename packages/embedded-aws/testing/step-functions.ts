/**
 * Test support: an embedded AWS in memory on a free port, with a real SFNClient pointed at it.
 *
 * @example
 * const sfn = await embeddedStepFunctions();
 * const { execution, history } = await sfn.run({ StartAt: 'A', States: { A: { Type: 'Pass', End: true } } });
 * await sfn.close();
 */
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { type EmbeddedAws, startEmbeddedAws } from '../embedded-aws.ts';
import { InProcessIntegrations } from '../stepfunctions/integrations.ts';

export interface EmbeddedStepFunctions {
  readonly aws: EmbeddedAws;
  readonly client: SFNClient;
  readonly integrations: InProcessIntegrations;
  /** Creates a state machine with a unique name and returns its ARN. */
  createMachine(
    definition: object,
    options?: { type?: 'STANDARD' | 'EXPRESS'; name?: string },
  ): Promise<string>;
  /** Creates a machine, starts it with `input`, waits for the end; returns the description and the history. */
  run(
    definition: object,
    input?: unknown,
  ): Promise<{ execution: DescribeExecutionCommandOutput; history: HistoryEvent[]; executionArn: string }>;
  /** Waits until the execution leaves RUNNING. */
  waitForEnd(executionArn: string): Promise<DescribeExecutionCommandOutput>;
  historyOf(executionArn: string): Promise<HistoryEvent[]>;
  close(): Promise<void>;
}

export function sfnClient(endpoint: string): SFNClient {
  return new SFNClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    disableHostPrefix: true,
    maxAttempts: 1,
  });
}

let machineCounter = 0;

/** Creates a state machine (Standard unless told), by default with a name unique to this test run; returns its ARN. */
export async function createStateMachine(
  client: SFNClient,
  definition: object,
  options: { type?: 'STANDARD' | 'EXPRESS'; name?: string } = {},
): Promise<string> {
  machineCounter += 1;
  const created = await client.send(
    new CreateStateMachineCommand({
      name: options.name ?? `machine-${machineCounter}`,
      definition: JSON.stringify(definition),
      roleArn: 'arn:aws:iam::000000000000:role/test',
      type: options.type ?? 'STANDARD',
    }),
  );
  return created.stateMachineArn!;
}

/**
 * Starts an execution and returns its ARN. The request goes out before the first `await`, through the client
 * given: a crash test relies on that to cut starts short with the process they were sent to.
 */
export async function startExecution(
  client: SFNClient,
  stateMachineArn: string,
  input: unknown = {},
  options: { name?: string } = {},
): Promise<string> {
  const started = await client.send(
    new StartExecutionCommand({ stateMachineArn, name: options.name, input: JSON.stringify(input) }),
  );
  return started.executionArn!;
}

/** The whole history of an execution, every page of it. */
export async function executionHistory(client: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

export async function embeddedStepFunctions(
  options: { integrations?: InProcessIntegrations; dataDir?: string | null } = {},
): Promise<EmbeddedStepFunctions> {
  const integrations = options.integrations ?? new InProcessIntegrations();
  const aws = await startEmbeddedAws({ port: 0, dataDir: options.dataDir ?? null, integrations });
  const client = sfnClient(aws.endpoint);

  const createMachine: EmbeddedStepFunctions['createMachine'] = (definition, machineOptions) =>
    createStateMachine(client, definition, machineOptions);
  const historyOf = (executionArn: string) => executionHistory(client, executionArn);

  const waitForEnd = async (executionArn: string): Promise<DescribeExecutionCommandOutput> => {
    await aws.stepFunctions.finished(executionArn);
    return client.send(new DescribeExecutionCommand({ executionArn }));
  };

  return {
    aws,
    client,
    integrations,
    createMachine,
    historyOf,
    waitForEnd,
    async run(definition, input = {}) {
      const executionArn = await startExecution(client, await createMachine(definition), input);
      const execution = await waitForEnd(executionArn);
      return { execution, history: await historyOf(executionArn), executionArn };
    },
    async close() {
      client.destroy();
      await aws.close();
    },
  };
}

/** The history as `type` names, for asserting the shape of a run. */
export function eventTypes(history: readonly HistoryEvent[]): string[] {
  return history.map((event) => event.type!);
}

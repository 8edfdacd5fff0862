/**
 * A data directory written by the Step Functions of before the readable journal records (record version 1)
 * still opens, with everything a user would notice as it was. `fixtures/data-v1/` was written by that code
 * (commit ae6f1a7) through the API on a test clock, with a Lambda integration standing for a payment gateway
 * and an SQS `.waitForTaskToken` one that kept the token, in two lives so that both files hold records:
 * - first life, now the snapshot: machines `greeter` (a Pass), `approval` (a `.waitForTaskToken` task, then
 *   a Pass) and `charge` (a Lambda task retried once on Gateway.Timeout); greet-1 run to its end; `greeter`
 *   updated (a new revision); approve-1 started, left waiting on its token; charge-1 failed, the gateway
 *   timing out twice.
 * - second life, now the log: machines `sleeper` (a Wait of an hour, then a Pass), `meters` (an inline Map)
 *   and `scratch`, deleted at once; greet-2 run on the new revision; charge-1 redriven and succeeded;
 *   charge-2 failed as charge-1 had; meters-1 run over two meters; approve-2 started and stopped
 *   (ABORTED, Cancelled); sleep-1 started, left asleep in its Wait.
 * The writer then stopped without compacting. `fixtures/data-v1-answers.json` holds what that code answered
 * just before it stopped: ListStateMachines, DescribeStateMachine of each machine, and DescribeExecution and
 * GetExecutionHistory of each execution.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ListStateMachinesCommand,
  RedriveExecutionCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { createAwsServer } from '../../aws/server.ts';
import { expectWellFormedHistory } from '../../testing/history-checks.ts';
import { eventTypes, executionHistory, sfnClient } from '../../testing/step-functions.ts';
import { createStepFunctionsService } from '../api/service.ts';
import { StepFunctionsEngine } from '../engine/engine.ts';
import { STEP_FUNCTIONS_RECORD_VERSION } from '../engine/journal-records.ts';
import { InProcessIntegrations } from '../integrations.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/data-v1', import.meta.url));
/** What the writer's API answered, with dates as JSON text (see the header). */
const ANSWERS = JSON.parse(
  readFileSync(new URL('./fixtures/data-v1-answers.json', import.meta.url), 'utf8'),
) as {
  stateMachines: unknown[];
  describedStateMachines: Record<string, unknown>;
  executions: Record<string, { described: unknown; history: unknown[] }>;
};
/** The test clock when the writer stopped; sleep-1 had entered its Wait of an hour then. */
const WRITTEN_AT = 1_736_942_480_000;
function executionArnOf(machine: string, name: string): string {
  return `arn:aws:states:us-east-1:000000000000:execution:${machine}:${name}`;
}
/** The token approve-1's task sent to its queue, which the writer kept. */
const APPROVE_1_TOKEN =
  'AQeyJlIjoiYXJuOmF3czpzdGF0ZXM6dXMtZWFzdC0xOjAwMDAwMDAwMDAwMDpleGVjdXRpb246YXBwcm92YWw6YXBwcm92ZS0xIiwibiI6IjQ4NWZlMTM5NzU0NzNmZmE0ZGM5OGM0NCJ9';

interface OpenedFixture {
  readonly engine: StepFunctionsEngine;
  readonly client: SFNClient;
  readonly integrations: InProcessIntegrations;
  readonly dataDir: string;
  close(): Promise<void>;
}

const opened: OpenedFixture[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const fixture of opened.splice(0)) await fixture.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * Step Functions on a copy of the fixture (or on `dataDir`), an hour and a second after its writer stopped:
 * past the end of sleep-1's Wait. The gateway answers now.
 */
async function openFixture(dataDir = copyOfFixture()): Promise<OpenedFixture> {
  const integrations = new InProcessIntegrations()
    .handle('arn:aws:states:::lambda:invoke', () => ({ Payload: { charged: true } }))
    .handle('arn:aws:states:::sqs:sendMessage.waitForTaskToken', () => ({ MessageId: 'sent-again' }));
  const engine = await StepFunctionsEngine.open({
    dataDir,
    integrations,
    now: () => WRITTEN_AT + 3_601_000,
  });
  const server = createAwsServer({ services: [createStepFunctionsService(engine)] });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const client = sfnClient(`http://127.0.0.1:${port}`);
  let closing: Promise<void> | undefined;
  const fixture = {
    engine,
    client,
    integrations,
    dataDir,
    // Once only: a test may close it before afterEach does.
    close: () => {
      closing ??= (async () => {
        client.destroy();
        await closeServer(server);
        await engine.close();
      })();
      return closing;
    },
  };
  opened.push(fixture);
  return fixture;
}

function copyOfFixture(): string {
  const dataDir = mkdtempSync(join(tmpdir(), 'sfn-data-v1-'));
  dirs.push(dataDir);
  cpSync(FIXTURE, dataDir, { recursive: true });
  return dataDir;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** An SDK answer as the fixture's answers hold it: without `$metadata`, dates as JSON text. */
function asRecorded(output: { $metadata?: unknown }): unknown {
  const { $metadata: _, ...answer } = output;
  return asJson(answer);
}

function asJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

/**
 * How an execution of the fixture ended after it was opened: its description and the types of the events
 * written since the writer stopped. Its history must begin with the events the writer's answer had, as
 * they were, and be well formed.
 */
async function outcomeOf(fixture: OpenedFixture, machine: string, name: string) {
  const executionArn = executionArnOf(machine, name);
  await fixture.engine.finished(executionArn);
  const described = await fixture.client.send(new DescribeExecutionCommand({ executionArn }));
  const history = await executionHistory(fixture.client, executionArn);
  const written = ANSWERS.executions[name]!.history;
  expect(asJson(history.slice(0, written.length))).toEqual(written);
  expectWellFormedHistory(history);
  return { described, eventsSince: eventTypes(history.slice(written.length)) };
}

describe('Step Functions on a data directory written with record version 1', () => {
  it('lists and describes the state machines as they were, without the deleted one', async () => {
    // Prepare
    const { client } = await openFixture();
    const names = Object.keys(ANSWERS.describedStateMachines);

    // Act
    const listed = await client.send(new ListStateMachinesCommand({}));
    const described = await Promise.all(
      names.map((name) =>
        client.send(
          new DescribeStateMachineCommand({
            stateMachineArn: `arn:aws:states:us-east-1:000000000000:stateMachine:${name}`,
          }),
        ),
      ),
    );
    const deleted = client.send(
      new DescribeStateMachineCommand({
        stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:scratch',
      }),
    );

    // Assess
    expect(asRecorded(listed)).toEqual({ stateMachines: ANSWERS.stateMachines });
    expect(Object.fromEntries(names.map((name, i) => [name, asRecorded(described[i]!)]))).toEqual(
      ANSWERS.describedStateMachines,
    );
    await expect(deleted).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
  });

  it.each([
    ['greeter', 'greet-1'],
    ['greeter', 'greet-2'],
    ['approval', 'approve-2'],
    ['charge', 'charge-1'],
    ['charge', 'charge-2'],
    ['meters', 'meters-1'],
  ])('keeps the ended execution %s:%s and its history as they were', async (machine, name) => {
    // Prepare
    const { client } = await openFixture();
    const executionArn = executionArnOf(machine, name);

    // Act
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    const history = await executionHistory(client, executionArn);

    // Assess
    expect(asRecorded(described)).toEqual(ANSWERS.executions[name]!.described);
    expect(asJson(history)).toEqual(ANSWERS.executions[name]!.history);
  });

  it('resumes the execution waiting on its task token: SendTaskSuccess completes it', async () => {
    // Prepare
    const fixture = await openFixture();

    // Act
    await fixture.client.send(
      new SendTaskSuccessCommand({ taskToken: APPROVE_1_TOKEN, output: JSON.stringify({ by: 'ops' }) }),
    );
    const outcome = await outcomeOf(fixture, 'approval', 'approve-1');

    // Assess: the message with the token was not sent again
    expect(outcome.described).toMatchObject({
      status: 'SUCCEEDED',
      output: JSON.stringify({ order: 'o-1', approval: { by: 'ops' }, status: 'approved' }),
    });
    expect(outcome.eventsSince).toEqual([
      'TaskSucceeded',
      'TaskStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
    expect(fixture.integrations.calls).toEqual([]);
  });

  it('ends the Wait that was sleeping once its hour has passed', async () => {
    // Act
    const outcome = await outcomeOf(await openFixture(), 'sleeper', 'sleep-1');

    // Assess
    expect(outcome.described).toMatchObject({
      status: 'SUCCEEDED',
      output: JSON.stringify({ meterId: 'm-9', woke: 'awake' }),
    });
    expect(outcome.eventsSince).toEqual([
      'WaitStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('redrives the execution that failed from the state it failed in', async () => {
    // Prepare
    const fixture = await openFixture();

    // Act
    await fixture.client.send(
      new RedriveExecutionCommand({ executionArn: executionArnOf('charge', 'charge-2') }),
    );
    const outcome = await outcomeOf(fixture, 'charge', 'charge-2');

    // Assess
    expect(outcome.described).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1 });
    expect(outcome.eventsSince).toEqual([
      'ExecutionRedriven',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('rewrites the directory at the current record version, and opens it again to the same state', async () => {
    // Prepare
    const first = await openFixture();
    await first.engine.finished(executionArnOf('sleeper', 'sleep-1'));
    const before = asRecorded(await first.client.send(new ListStateMachinesCommand({})));
    await first.close();

    // Act
    const files = readdirSync(first.dataDir).sort();
    const contents = files.map((name) => readFileSync(join(first.dataDir, name), 'utf8'));
    const second = await openFixture(first.dataDir);
    const after = asRecorded(await second.client.send(new ListStateMachinesCommand({})));
    const greeting = await second.client.send(
      new DescribeExecutionCommand({ executionArn: executionArnOf('greeter', 'greet-1') }),
    );

    // Assess
    expect(files).toEqual(['stepfunctions.3.log.jsonl', 'stepfunctions.3.snapshot.jsonl']);
    expect(JSON.parse(contents[0]!.split('\n')[0]!)).toEqual({
      $journal: 'log',
      recordVersion: STEP_FUNCTIONS_RECORD_VERSION,
    });
    expect(JSON.parse(contents[1]!.split('\n')[0]!)).toMatchObject({
      recordVersion: STEP_FUNCTIONS_RECORD_VERSION,
    });
    expect(contents.join('')).not.toMatch(/"t":/);
    expect(after).toEqual(before);
    expect(asRecorded(greeting)).toEqual(ANSWERS.executions['greet-1']!.described);
  });
});

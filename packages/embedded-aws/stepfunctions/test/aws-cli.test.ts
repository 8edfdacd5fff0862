/**
 * The AWS CLI v2 (Debian's, at /usr/bin/aws) against the embedded AWS: the commands an operator would type.
 * The embedded AWS runs in this process, so the CLI is run asynchronously (a synchronous child would block the
 * event loop that has to answer it).
 *
 * start-sync-execution (and test-state) cannot work from this CLI against a local endpoint: the service model
 * gives those operations the host prefix `sync-`, so botocore sends them to `http://sync-127.0.0.1:<port>/`,
 * a name that does not resolve. botocore's `inject_host_prefix=False` would avoid it, but CLI 2.9.19 exposes
 * that only on the Python `Config` object, not as a command-line option, config-file setting or environment
 * variable. The last test pins that behaviour down so a change (newer CLI) is noticed. The SDK for JavaScript
 * has `disableHostPrefix: true` for this, which the test support sets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AWS_CLI_INSTALLED,
  awsCli,
  type CliResult,
  cliTimeout,
  warnIfCliMissing,
} from '../../testing/aws-cli.ts';
import { type EmbeddedStepFunctions, embeddedStepFunctions } from '../../testing/step-functions.ts';
import { InProcessIntegrations } from '../integrations.ts';

const ROLE = 'arn:aws:iam::000000000000:role/test';
const CALLBACK = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

warnIfCliMissing('stepfunctions/test/aws-cli.test.ts');

describe.skipIf(!AWS_CLI_INSTALLED)('the AWS CLI v2 at /usr/bin/aws', () => {
  let sfn: EmbeddedStepFunctions;
  const tokens: string[] = [];

  beforeAll(async () => {
    const integrations = new InProcessIntegrations().handle(CALLBACK, (task) => {
      tokens.push(task.taskToken!);
      return {};
    });
    sfn = await embeddedStepFunctions({ integrations });
  });

  afterAll(async () => {
    await sfn?.close();
  });

  const aws = (...args: string[]) => awsCli(sfn.aws.endpoint, 'stepfunctions', ...args);

  function json<T>(result: CliResult): T {
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    return JSON.parse(result.stdout) as T;
  }

  const PASS = {
    StartAt: 'Greet',
    States: { Greet: { Type: 'Pass', Parameters: { 'hello.$': '$.name' }, End: true } },
  };
  const WAITS = {
    StartAt: 'Wait for meter',
    States: {
      'Wait for meter': {
        Type: 'Task',
        Resource: CALLBACK,
        Parameters: { FunctionName: 'vend', Payload: { 'token.$': '$$.Task.Token' } },
        End: true,
      },
    },
  };

  it('create-state-machine and list-state-machines', { timeout: cliTimeout(2) }, async () => {
    // Act
    const created = json<{ stateMachineArn: string; creationDate: string }>(
      await aws(
        'create-state-machine',
        '--name',
        'cli-pass',
        '--definition',
        JSON.stringify(PASS),
        '--role-arn',
        ROLE,
      ),
    );
    const listed = json<{ stateMachines: { name: string; stateMachineArn: string; type: string }[] }>(
      await aws('list-state-machines'),
    );

    // Assess
    expect(created.stateMachineArn).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:cli-pass');
    expect(Number.isNaN(Date.parse(created.creationDate))).toBe(false);
    expect(listed.stateMachines).toContainEqual(
      expect.objectContaining({
        name: 'cli-pass',
        stateMachineArn: created.stateMachineArn,
        type: 'STANDARD',
      }),
    );
  });

  it('start-execution, describe-execution and get-execution-history', {
    timeout: cliTimeout(3),
  }, async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(PASS, { name: 'cli-run' });

    // Act
    const started = json<{ executionArn: string; startDate: string }>(
      await aws(
        'start-execution',
        '--state-machine-arn',
        stateMachineArn,
        '--name',
        'first',
        '--input',
        '{"name":"Ada"}',
      ),
    );
    await sfn.waitForEnd(started.executionArn);
    const described = json<Record<string, unknown>>(
      await aws('describe-execution', '--execution-arn', started.executionArn),
    );
    const history = json<{ events: { type: string; id: number; previousEventId: number }[] }>(
      await aws('get-execution-history', '--execution-arn', started.executionArn),
    );

    // Assess
    expect(started.executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:cli-run:first');
    expect(described).toMatchObject({
      executionArn: started.executionArn,
      stateMachineArn,
      name: 'first',
      status: 'SUCCEEDED',
      input: '{"name":"Ada"}',
      output: '{"hello":"Ada"}',
    });
    // CLI 2.9.19's service model predates RedriveExecution, so it drops redriveCount and redriveStatus.
    expect(history.events.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
    expect(history.events.map((event) => event.previousEventId)).toEqual([0, 0, 2, 3]);
  });

  it('send-task-success completes a task waiting for its token', { timeout: cliTimeout(2) }, async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(WAITS, { name: 'cli-callback' });
    const started = json<{ executionArn: string }>(
      await aws('start-execution', '--state-machine-arn', stateMachineArn),
    );
    await expect.poll(() => tokens.length).toBe(1);

    // Act
    const sent = await aws(
      'send-task-success',
      '--task-token',
      tokens[0]!,
      '--task-output',
      '{"credited":10}',
    );

    // Assess
    expect(sent).toMatchObject({ exitCode: 0, stderr: '' });
    const described = await sfn.waitForEnd(started.executionArn);
    expect(described).toMatchObject({ status: 'SUCCEEDED', output: '{"credited":10}' });
  });

  it.each([
    [
      'describe-execution of an execution that does not exist',
      [
        'describe-execution',
        '--execution-arn',
        'arn:aws:states:us-east-1:000000000000:execution:cli-run:missing',
      ],
      "An error occurred (ExecutionDoesNotExist) when calling the DescribeExecution operation: Execution Does Not Exist: 'arn:aws:states:us-east-1:000000000000:execution:cli-run:missing'",
    ],
    [
      'create-state-machine with an invalid name',
      [
        'create-state-machine',
        '--name',
        'has space',
        '--definition',
        '{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}',
        '--role-arn',
        ROLE,
      ],
      "An error occurred (InvalidName) when calling the CreateStateMachine operation: Invalid Name: 'has space'",
    ],
  ])(
    '%s exits non-zero and prints the AWS error name',
    { timeout: cliTimeout(1) },
    async (_, args, message) => {
      // Act
      const result = await aws(...args);

      // Assess: the CLI v2 exits 254 when the service answered with an error
      expect(result.exitCode).toBe(254);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim()).toBe(message);
    },
  );

  it('sends start-sync-execution to the sync- host prefix, which a local endpoint cannot serve', {
    timeout: cliTimeout(1),
  }, async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(
      { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } },
      { name: 'cli-express', type: 'EXPRESS' },
    );

    // Act
    const result = await aws('start-sync-execution', '--state-machine-arn', stateMachineArn);

    // Assess
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain(`http://sync-127.0.0.1:${sfn.aws.port}/`);
  });
});

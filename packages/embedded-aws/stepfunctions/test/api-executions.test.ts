/**
 * Conformance of the execution actions (StartExecution, StartSyncExecution, DescribeExecution, ListExecutions,
 * GetExecutionHistory, StopExecution, RedriveExecution) through the real SFNClient, and of malformed requests
 * sent raw. Sources: the Step Functions API reference (each action's page and Errors section), the developer
 * guide's "Redriving executions" page, and the AWS JSON 1.0 protocol's common errors.
 */
import {
  DescribeExecutionCommand,
  type ExecutionListItem,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  type ListExecutionsCommandInput,
  RedriveExecutionCommand,
  StartExecutionCommand,
  StartSyncExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type EmbeddedStepFunctions,
  embeddedStepFunctions,
  eventTypes,
} from '../../testing/step-functions.ts';
import { InProcessIntegrations } from '../integrations.ts';
import { StatesError } from '../language/states-error.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CALLBACK = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
const INVOKE = 'arn:aws:states:::lambda:invoke';

/** Routes on `$.outcome`: 'ok' succeeds, 'fail' fails, 'wait' parks on a task token until stopped. */
const ROUTER = {
  StartAt: 'Route',
  States: {
    Route: {
      Type: 'Choice',
      Choices: [
        { Variable: '$.outcome', StringEquals: 'fail', Next: 'Reject' },
        { Variable: '$.outcome', StringEquals: 'wait', Next: 'Wait for callback' },
      ],
      Default: 'Done',
    },
    Reject: { Type: 'Fail', Error: 'Order.Rejected', Cause: 'no stock' },
    'Wait for callback': {
      Type: 'Task',
      Resource: CALLBACK,
      Parameters: { FunctionName: 'callback', Payload: { 'token.$': '$$.Task.Token' } },
      End: true,
    },
    Done: { Type: 'Pass', Result: { done: true }, ResultPath: '$.result', End: true },
  },
};

/** ROUTER without the callback, which EXPRESS machines may not use. */
const EXPRESS_ROUTER = {
  StartAt: 'Route',
  States: {
    Route: { ...ROUTER.States.Route, Choices: ROUTER.States.Route.Choices.slice(0, 1) },
    Reject: ROUTER.States.Reject,
    Done: ROUTER.States.Done,
  },
};
const PASS = { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } };

async function rejectionOf(
  promise: Promise<unknown>,
): Promise<{ name: string; message: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the request to be refused, but it succeeded');
}

/** The response without the SDK's `$metadata`, for comparing whole answers. */
function body<T extends { $metadata?: unknown }>(response: T): Omit<T, '$metadata'> {
  const { $metadata: _, ...rest } = response;
  return rest;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let sfn: EmbeddedStepFunctions;
let tokens: string[];
let dependencyFixed: boolean;

beforeEach(async () => {
  tokens = [];
  dependencyFixed = false;
  const integrations = new InProcessIntegrations()
    .handle(CALLBACK, (task) => {
      tokens.push(task.taskToken!);
      return {};
    })
    .handle(INVOKE, () => {
      if (!dependencyFixed) throw new StatesError('Meter.Unreachable', 'the vending service is down');
      return { Payload: { credited: 10 } };
    });
  sfn = await embeddedStepFunctions({ integrations });
});

afterEach(async () => {
  await sfn.close();
});

/** Starts a ROUTER execution parked on its callback and waits until it is parked. */
async function startParked(stateMachineArn: string, name?: string) {
  const before = tokens.length;
  const started = await sfn.client.send(
    new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify({ outcome: 'wait' }) }),
  );
  await expect.poll(() => tokens.length).toBe(before + 1);
  return started.executionArn!;
}

describe('StartExecution', () => {
  it('generates a UUID name when none is given, and answers the ARN and start date', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(PASS, { name: 'orders' });

    // Act
    const started = await sfn.client.send(new StartExecutionCommand({ stateMachineArn }));

    // Assess
    const name = started.executionArn!.split(':').at(-1)!;
    expect(name).toMatch(UUID);
    expect(started.executionArn).toBe(`arn:aws:states:us-east-1:000000000000:execution:orders:${name}`);
    expect(started.startDate).toBeInstanceOf(Date);
    const execution = await sfn.waitForEnd(started.executionArn!);
    expect(execution).toMatchObject({ name, input: '{}', status: 'SUCCEEDED' });
  });

  it('returns the same execution for the same name and input while it is RUNNING', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(ROUTER);
    const first = await sfn.client.send(
      new StartExecutionCommand({
        stateMachineArn,
        name: 'run-1',
        input: JSON.stringify({ outcome: 'wait' }),
      }),
    );
    await expect.poll(() => tokens.length).toBe(1);

    // Act
    const again = await sfn.client.send(
      new StartExecutionCommand({
        stateMachineArn,
        name: 'run-1',
        input: JSON.stringify({ outcome: 'wait' }),
      }),
    );

    // Assess
    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate?.getTime()).toBe(first.startDate?.getTime());
    expect(tokens).toHaveLength(1);
    await sfn.client.send(new StopExecutionCommand({ executionArn: first.executionArn }));
  });

  it('refuses the same name with another input while RUNNING: ExecutionAlreadyExists', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(ROUTER);
    const executionArn = await startParked(stateMachineArn, 'run-1');

    // Act
    const refusal = await rejectionOf(
      sfn.client.send(
        new StartExecutionCommand({
          stateMachineArn,
          name: 'run-1',
          input: JSON.stringify({ outcome: 'ok' }),
        }),
      ),
    );

    // Assess
    expect(refusal).toEqual({
      name: 'ExecutionAlreadyExists',
      message: `Execution Already Exists: '${executionArn}'`,
      status: 400,
    });
    await sfn.client.send(new StopExecutionCommand({ executionArn }));
  });

  it('refuses the name of a closed execution even with the same input: ExecutionAlreadyExists', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(ROUTER);
    const input = JSON.stringify({ outcome: 'ok' });
    const first = await sfn.client.send(new StartExecutionCommand({ stateMachineArn, name: 'run-1', input }));
    await sfn.waitForEnd(first.executionArn!);

    // Act
    const refusal = await rejectionOf(
      sfn.client.send(new StartExecutionCommand({ stateMachineArn, name: 'run-1', input })),
    );

    // Assess
    expect(refusal.name).toBe('ExecutionAlreadyExists');
  });

  it('refuses input that is not JSON: InvalidExecutionInput', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(ROUTER);

    // Act
    const refusal = await rejectionOf(
      sfn.client.send(new StartExecutionCommand({ stateMachineArn, input: '{oops' })),
    );

    // Assess
    expect(refusal.name).toBe('InvalidExecutionInput');
    expect(refusal.message).toMatch(/^Invalid State Machine Execution Input: '/);
  });

  it.each([
    [
      'a machine that does not exist',
      'arn:aws:states:us-east-1:000000000000:stateMachine:missing',
      'StateMachineDoesNotExist',
      "State Machine Does Not Exist: 'arn:aws:states:us-east-1:000000000000:stateMachine:missing'",
    ],
    ['an ARN that is not an ARN', 'missing', 'InvalidArn', "Invalid Arn: 'Invalid ARN prefix: missing'"],
  ])('refuses %s', async (_, stateMachineArn, name, message) => {
    // Act
    const refusal = await rejectionOf(sfn.client.send(new StartExecutionCommand({ stateMachineArn })));

    // Assess
    expect(refusal).toEqual({ name, message, status: 400 });
  });

  it('refuses an execution name with white space: InvalidName', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(ROUTER);

    // Act
    const refusal = await rejectionOf(
      sfn.client.send(new StartExecutionCommand({ stateMachineArn, name: 'run 1' })),
    );

    // Assess
    expect(refusal).toEqual({ name: 'InvalidName', message: "Invalid Name: 'run 1'", status: 400 });
  });
});

describe('StartSyncExecution', () => {
  it('runs an EXPRESS machine to the end and answers status, output and billing', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(EXPRESS_ROUTER, { type: 'EXPRESS', name: 'quick' });

    // Act
    const result = await sfn.client.send(
      new StartSyncExecutionCommand({
        stateMachineArn,
        name: 'sync-1',
        input: JSON.stringify({ outcome: 'ok' }),
      }),
    );

    // Assess
    expect(result).toMatchObject({
      stateMachineArn,
      name: 'sync-1',
      status: 'SUCCEEDED',
      input: '{"outcome":"ok"}',
      inputDetails: { included: true },
      output: '{"outcome":"ok","result":{"done":true}}',
      outputDetails: { included: true },
      billingDetails: {
        billedMemoryUsedInMB: expect.any(Number),
        billedDurationInMilliseconds: expect.any(Number),
      },
    });
    expect(result.executionArn).toMatch(
      /^arn:aws:states:us-east-1:000000000000:express:quick:sync-1:[0-9a-f-]+$/,
    );
    expect(result.startDate).toBeInstanceOf(Date);
    expect(result.stopDate).toBeInstanceOf(Date);
    expect(result.error).toBeUndefined();
  });

  it('answers FAILED with the error and cause of a failing EXPRESS execution', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(EXPRESS_ROUTER, { type: 'EXPRESS' });

    // Act
    const result = await sfn.client.send(
      new StartSyncExecutionCommand({ stateMachineArn, input: JSON.stringify({ outcome: 'fail' }) }),
    );

    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: 'Order.Rejected', cause: 'no stock' });
    expect(result.output).toBeUndefined();
  });

  it('refuses a STANDARD machine: StateMachineTypeNotSupported', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(ROUTER);

    // Act
    const refusal = await rejectionOf(sfn.client.send(new StartSyncExecutionCommand({ stateMachineArn })));

    // Assess
    expect(refusal.name).toBe('StateMachineTypeNotSupported');
    expect(refusal.status).toBe(400);
  });

  it('refuses input that is not JSON: InvalidExecutionInput', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(EXPRESS_ROUTER, { type: 'EXPRESS' });

    // Act
    const refusal = await rejectionOf(
      sfn.client.send(new StartSyncExecutionCommand({ stateMachineArn, input: '[' })),
    );

    // Assess
    expect(refusal.name).toBe('InvalidExecutionInput');
  });
});

describe('DescribeExecution', () => {
  it('describes a SUCCEEDED execution with every field AWS returns', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(ROUTER, { name: 'orders' });
    const started = await sfn.client.send(
      new StartExecutionCommand({
        stateMachineArn,
        name: 'run-ok',
        input: JSON.stringify({ outcome: 'ok' }),
      }),
    );
    await sfn.waitForEnd(started.executionArn!);

    // Act
    const described = await sfn.client.send(
      new DescribeExecutionCommand({ executionArn: started.executionArn }),
    );

    // Assess
    expect(body(described)).toEqual({
      executionArn: 'arn:aws:states:us-east-1:000000000000:execution:orders:run-ok',
      stateMachineArn,
      name: 'run-ok',
      status: 'SUCCEEDED',
      startDate: started.startDate,
      stopDate: expect.any(Date),
      input: '{"outcome":"ok"}',
      inputDetails: { included: true },
      output: '{"outcome":"ok","result":{"done":true}}',
      outputDetails: { included: true },
      redriveCount: 0,
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'Execution is SUCCEEDED and cannot be redriven',
    });
  });

  it('describes a FAILED execution with its error and cause, and as REDRIVABLE', async () => {
    // Prepare
    const { executionArn } = await sfn.run(ROUTER, { outcome: 'fail' });

    // Act
    const described = await sfn.client.send(new DescribeExecutionCommand({ executionArn }));

    // Assess
    expect(body(described)).toEqual({
      executionArn,
      stateMachineArn: expect.any(String),
      name: expect.stringMatching(UUID),
      status: 'FAILED',
      startDate: expect.any(Date),
      stopDate: expect.any(Date),
      input: '{"outcome":"fail"}',
      inputDetails: { included: true },
      error: 'Order.Rejected',
      cause: 'no stock',
      redriveCount: 0,
      redriveStatus: 'REDRIVABLE',
    });
  });

  it('describes a RUNNING execution without stop date or output, as NOT_REDRIVABLE', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(ROUTER);
    const executionArn = await startParked(stateMachineArn);

    // Act
    const described = await sfn.client.send(new DescribeExecutionCommand({ executionArn }));

    // Assess
    expect(body(described)).toEqual({
      executionArn,
      stateMachineArn,
      name: expect.stringMatching(UUID),
      status: 'RUNNING',
      startDate: expect.any(Date),
      input: '{"outcome":"wait"}',
      inputDetails: { included: true },
      redriveCount: 0,
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'Execution is RUNNING and cannot be redriven',
    });
    await sfn.client.send(new StopExecutionCommand({ executionArn }));
  });

  it.each([
    [
      'an execution that does not exist',
      'arn:aws:states:us-east-1:000000000000:execution:orders:missing',
      'ExecutionDoesNotExist',
      "Execution Does Not Exist: 'arn:aws:states:us-east-1:000000000000:execution:orders:missing'",
    ],
    [
      'a state machine ARN',
      'arn:aws:states:us-east-1:000000000000:stateMachine:orders',
      'InvalidArn',
      "Invalid Arn: 'Resource type not valid in this context: stateMachine'",
    ],
  ])('refuses %s', async (_, executionArn, name, message) => {
    // Act
    const refusal = await rejectionOf(sfn.client.send(new DescribeExecutionCommand({ executionArn })));

    // Assess
    expect(refusal).toEqual({ name, message, status: 400 });
  });
});

describe('ListExecutions', () => {
  /** Starts executions one after another so their start dates differ; returns their ARNs, oldest first. */
  async function startInOrder(stateMachineArn: string, outcomes: string[]): Promise<string[]> {
    const arns: string[] = [];
    for (const [index, outcome] of outcomes.entries()) {
      if (outcome === 'wait') arns.push(await startParked(stateMachineArn, `run-${index}`));
      else {
        const started = await sfn.client.send(
          new StartExecutionCommand({
            stateMachineArn,
            name: `run-${index}`,
            input: JSON.stringify({ outcome }),
          }),
        );
        await sfn.waitForEnd(started.executionArn!);
        arns.push(started.executionArn!);
      }
      await sleep(3);
    }
    return arns;
  }

  async function listAll(input: ListExecutionsCommandInput): Promise<ExecutionListItem[][]> {
    const pages: ExecutionListItem[][] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.client.send(new ListExecutionsCommand({ ...input, nextToken }));
      pages.push(page.executions ?? []);
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    return pages;
  }

  it('lists executions newest first, with their summary fields', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(ROUTER);
    const [okArn, failArn] = await startInOrder(stateMachineArn, ['ok', 'fail']);

    // Act
    const listed = await sfn.client.send(new ListExecutionsCommand({ stateMachineArn }));

    // Assess
    expect(listed.nextToken).toBeUndefined();
    expect(listed.executions).toEqual([
      {
        executionArn: failArn,
        stateMachineArn,
        name: 'run-1',
        status: 'FAILED',
        startDate: expect.any(Date),
        stopDate: expect.any(Date),
        redriveCount: 0,
      },
      {
        executionArn: okArn,
        stateMachineArn,
        name: 'run-0',
        status: 'SUCCEEDED',
        startDate: expect.any(Date),
        stopDate: expect.any(Date),
        redriveCount: 0,
      },
    ]);
  });

  it.each([
    ['SUCCEEDED', ['run-3', 'run-0']],
    ['FAILED', ['run-1']],
    ['RUNNING', ['run-2']],
    ['ABORTED', []],
  ] as const)('filters by status %s', async (statusFilter, expected) => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(ROUTER);
    const arns = await startInOrder(stateMachineArn, ['ok', 'fail', 'wait', 'ok']);

    // Act
    const listed = await sfn.client.send(new ListExecutionsCommand({ stateMachineArn, statusFilter }));

    // Assess
    expect(listed.executions?.map((execution) => execution.name)).toEqual(expected);
    await sfn.client.send(new StopExecutionCommand({ executionArn: arns[2] }));
  });

  it('pages with maxResults and nextToken, newest first across pages', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(ROUTER);
    await startInOrder(stateMachineArn, ['ok', 'ok', 'ok', 'ok', 'ok']);

    // Act
    const pages = await listAll({ stateMachineArn, maxResults: 2 });

    // Assess
    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    expect(pages.flat().map((execution) => execution.name)).toEqual([
      'run-4',
      'run-3',
      'run-2',
      'run-1',
      'run-0',
    ]);
  });

  it('refuses a nextToken it did not issue: InvalidToken', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(ROUTER);

    // Act
    const refusal = await rejectionOf(
      sfn.client.send(new ListExecutionsCommand({ stateMachineArn, nextToken: 'made-up-token' })),
    );

    // Assess
    expect(refusal.name).toBe('InvalidToken');
    expect(refusal.status).toBe(400);
  });

  it('refuses an EXPRESS machine: StateMachineTypeNotSupported', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(EXPRESS_ROUTER, { type: 'EXPRESS' });

    // Act
    const refusal = await rejectionOf(sfn.client.send(new ListExecutionsCommand({ stateMachineArn })));

    // Assess
    expect(refusal.name).toBe('StateMachineTypeNotSupported');
  });

  it('refuses a machine that does not exist: StateMachineDoesNotExist', async () => {
    // Act
    const refusal = await rejectionOf(
      sfn.client.send(
        new ListExecutionsCommand({
          stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:missing',
        }),
      ),
    );

    // Assess
    expect(refusal.name).toBe('StateMachineDoesNotExist');
  });
});

describe('GetExecutionHistory', () => {
  const PASS_THEN_SUCCEED = {
    StartAt: 'Prepare',
    States: {
      Prepare: { Type: 'Pass', Parameters: { 'order.$': '$.order' }, Next: 'Finish' },
      Finish: { Type: 'Succeed' },
    },
  };
  const FULL = [
    'ExecutionStarted',
    'PassStateEntered',
    'PassStateExited',
    'SucceedStateEntered',
    'SucceedStateExited',
    'ExecutionSucceeded',
  ];

  it('answers the events with ids 1..n, chained by previousEventId as AWS chains them', async () => {
    // Prepare / Act
    const { history } = await sfn.run(PASS_THEN_SUCCEED, { order: 7 });

    // Assess
    expect(eventTypes(history)).toEqual(FULL);
    // As real AWS histories show, the first state entered has previousEventId 0, not ExecutionStarted's id.
    expect(history.map((event) => [event.id, event.previousEventId])).toEqual([
      [1, 0],
      [2, 0],
      [3, 2],
      [4, 3],
      [5, 4],
      [6, 5],
    ]);
    expect(history.every((event) => event.timestamp instanceof Date)).toBe(true);
  });

  it('pages with maxResults and nextToken without losing or repeating an event', async () => {
    // Prepare
    const { executionArn, history } = await sfn.run(PASS_THEN_SUCCEED, { order: 7 });

    // Act
    const pages: HistoryEvent[][] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.client.send(
        new GetExecutionHistoryCommand({ executionArn, maxResults: 4, nextToken }),
      );
      pages.push(page.events ?? []);
      nextToken = page.nextToken;
    } while (nextToken !== undefined);

    // Assess
    expect(pages.map((page) => page.length)).toEqual([4, 2]);
    expect(pages.flat()).toEqual(history);
  });

  it('answers newest first with reverseOrder, also across pages', async () => {
    // Prepare
    const { executionArn } = await sfn.run(PASS_THEN_SUCCEED, { order: 7 });

    // Act
    const first = await sfn.client.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 4 }),
    );
    const second = await sfn.client.send(
      new GetExecutionHistoryCommand({
        executionArn,
        reverseOrder: true,
        maxResults: 4,
        nextToken: first.nextToken,
      }),
    );

    // Assess
    expect([...(first.events ?? []), ...(second.events ?? [])].map((event) => event.id)).toEqual([
      6, 5, 4, 3, 2, 1,
    ]);
    expect(second.nextToken).toBeUndefined();
  });

  it('drops inputs and outputs but keeps names and the role with includeExecutionData false', async () => {
    // Prepare
    const { executionArn } = await sfn.run(PASS_THEN_SUCCEED, { order: 7 });

    // Act
    const { events } = await sfn.client.send(
      new GetExecutionHistoryCommand({ executionArn, includeExecutionData: false }),
    );

    // Assess
    expect(eventTypes(events ?? [])).toEqual(FULL);
    const [started, entered, exited, , , succeeded] = events!;
    expect(started!.executionStartedEventDetails?.input).toBeUndefined();
    expect(started!.executionStartedEventDetails?.roleArn).toBe('arn:aws:iam::000000000000:role/test');
    expect(entered!.stateEnteredEventDetails).toMatchObject({ name: 'Prepare' });
    expect(entered!.stateEnteredEventDetails?.input).toBeUndefined();
    expect(exited!.stateExitedEventDetails).toMatchObject({ name: 'Prepare' });
    expect(exited!.stateExitedEventDetails?.output).toBeUndefined();
    expect(succeeded!.executionSucceededEventDetails?.output).toBeUndefined();
    expect(JSON.stringify(events)).not.toContain('order');
  });

  it('refuses a nextToken it did not issue: InvalidToken', async () => {
    // Prepare
    const { executionArn } = await sfn.run(PASS_THEN_SUCCEED, { order: 7 });

    // Act
    const refusal = await rejectionOf(
      sfn.client.send(new GetExecutionHistoryCommand({ executionArn, nextToken: 'made-up-token' })),
    );

    // Assess
    expect(refusal.name).toBe('InvalidToken');
  });

  it('refuses an execution that does not exist: ExecutionDoesNotExist', async () => {
    // Act
    const refusal = await rejectionOf(
      sfn.client.send(
        new GetExecutionHistoryCommand({
          executionArn: 'arn:aws:states:us-east-1:000000000000:execution:x:missing',
        }),
      ),
    );

    // Assess
    expect(refusal.name).toBe('ExecutionDoesNotExist');
  });
});

describe('StopExecution', () => {
  it('aborts a RUNNING execution with the given error and cause', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(ROUTER);
    const executionArn = await startParked(stateMachineArn);

    // Act
    const stopped = await sfn.client.send(
      new StopExecutionCommand({ executionArn, error: 'Operator.Cancelled', cause: 'customer asked' }),
    );

    // Assess
    expect(stopped.stopDate).toBeInstanceOf(Date);
    const described = await sfn.client.send(new DescribeExecutionCommand({ executionArn }));
    expect(described).toMatchObject({
      status: 'ABORTED',
      error: 'Operator.Cancelled',
      cause: 'customer asked',
      redriveStatus: 'REDRIVABLE',
    });
    expect(described.stopDate?.getTime()).toBe(stopped.stopDate?.getTime());
    const history = await sfn.historyOf(executionArn);
    const last = history.at(-1)!;
    expect(last.type).toBe('ExecutionAborted');
    expect(last.executionAbortedEventDetails).toEqual({
      error: 'Operator.Cancelled',
      cause: 'customer asked',
    });
    expect(last.previousEventId).toBe(history.at(-2)!.id);
  });

  it('changes nothing on an execution that has already ended', async () => {
    // Prepare
    const { executionArn, execution, history } = await sfn.run(ROUTER, { outcome: 'ok' });

    // Act: AWS's exact answer here is not documented; we assume it succeeds without effect.
    await sfn.client.send(new StopExecutionCommand({ executionArn, error: 'Too.Late' }));

    // Assess
    const described = await sfn.client.send(new DescribeExecutionCommand({ executionArn }));
    expect(described).toMatchObject({ status: 'SUCCEEDED', output: execution.output });
    expect(described.error).toBeUndefined();
    expect(await sfn.historyOf(executionArn)).toEqual(history);
  });

  it('refuses an execution that does not exist: ExecutionDoesNotExist', async () => {
    // Act
    const refusal = await rejectionOf(
      sfn.client.send(
        new StopExecutionCommand({
          executionArn: 'arn:aws:states:us-east-1:000000000000:execution:x:missing',
        }),
      ),
    );

    // Assess
    expect(refusal.name).toBe('ExecutionDoesNotExist');
  });
});

describe('RedriveExecution', () => {
  const CREDIT_METER = {
    StartAt: 'Take payment',
    States: {
      'Take payment': { Type: 'Pass', Result: { paid: true }, ResultPath: '$.payment', Next: 'Credit meter' },
      'Credit meter': {
        Type: 'Task',
        Resource: INVOKE,
        Parameters: { FunctionName: 'vend', 'Payload.$': '$' },
        ResultSelector: { 'credited.$': '$.Payload.credited' },
        ResultPath: '$.vend',
        End: true,
      },
    },
  };

  it('resumes a failed execution at the failed state once the dependency is fixed', async () => {
    // Prepare
    const { executionArn, execution, history: failedHistory } = await sfn.run(CREDIT_METER, { meter: 'M1' });
    expect(execution).toMatchObject({
      status: 'FAILED',
      error: 'Meter.Unreachable',
      redriveStatus: 'REDRIVABLE',
    });
    dependencyFixed = true;

    // Act
    const redriven = await sfn.client.send(new RedriveExecutionCommand({ executionArn }));

    // Assess
    expect(redriven.redriveDate).toBeInstanceOf(Date);
    const described = await sfn.waitForEnd(executionArn);
    expect(described).toMatchObject({
      status: 'SUCCEEDED',
      redriveCount: 1,
      output: '{"meter":"M1","payment":{"paid":true},"vend":{"credited":10}}',
    });
    expect(described.redriveDate?.getTime()).toBe(redriven.redriveDate?.getTime());
    expect(described.error).toBeUndefined();

    const history = await sfn.historyOf(executionArn);
    expect(history.slice(0, failedHistory.length)).toEqual(failedHistory);
    const after = history.slice(failedHistory.length);
    expect(eventTypes(after)).toEqual([
      'ExecutionRedriven',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    // Guess: ExecutionRedriven chains from the ExecutionFailed event and the resumed state chains from it;
    // the documented parts are the event, its redriveCount and that the run resumes at the failed state.
    const redrivenEvent = after[0]!;
    expect(redrivenEvent.id).toBe(failedHistory.length + 1);
    expect(redrivenEvent.previousEventId).toBe(failedHistory.at(-1)!.id);
    expect(redrivenEvent.executionRedrivenEventDetails).toEqual({ redriveCount: 1 });
    expect(after[1]!.stateEnteredEventDetails).toMatchObject({ name: 'Credit meter' });
    expect(history.filter((event) => event.type === 'PassStateEntered')).toHaveLength(1);
    expect(after.every((event, index) => index === 0 || event.previousEventId === after[index - 1]!.id)).toBe(
      true,
    );
  });

  it('counts a second redrive', async () => {
    // Prepare: fails, is redriven, fails again
    const { executionArn } = await sfn.run(CREDIT_METER, {});
    await sfn.client.send(new RedriveExecutionCommand({ executionArn }));
    await sfn.waitForEnd(executionArn);
    dependencyFixed = true;

    // Act
    await sfn.client.send(new RedriveExecutionCommand({ executionArn }));

    // Assess
    const described = await sfn.waitForEnd(executionArn);
    expect(described).toMatchObject({ status: 'SUCCEEDED', redriveCount: 2 });
    const redrives = (await sfn.historyOf(executionArn)).filter(
      (event) => event.type === 'ExecutionRedriven',
    );
    expect(redrives.map((event) => event.executionRedrivenEventDetails?.redriveCount)).toEqual([1, 2]);
  });

  it('refuses a SUCCEEDED execution: ExecutionNotRedrivable', async () => {
    // Prepare
    const { executionArn } = await sfn.run(ROUTER, { outcome: 'ok' });

    // Act
    const refusal = await rejectionOf(sfn.client.send(new RedriveExecutionCommand({ executionArn })));

    // Assess
    expect(refusal.name).toBe('ExecutionNotRedrivable');
    expect(refusal.status).toBe(400);
  });

  it('refuses a RUNNING execution: ExecutionNotRedrivable', async () => {
    // Prepare
    const stateMachineArn = await sfn.createMachine(ROUTER);
    const executionArn = await startParked(stateMachineArn);

    // Act
    const refusal = await rejectionOf(sfn.client.send(new RedriveExecutionCommand({ executionArn })));

    // Assess
    expect(refusal.name).toBe('ExecutionNotRedrivable');
    await sfn.client.send(new StopExecutionCommand({ executionArn }));
  });
});

describe('malformed requests', () => {
  async function post(target: string | undefined, payload: string) {
    const response = await fetch(`${sfn.aws.endpoint}/`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.0',
        ...(target === undefined ? {} : { 'X-Amz-Target': target }),
      },
      body: payload,
    });
    const answer = (await response.json()) as { __type?: string; message?: string };
    return { status: response.status, errorType: response.headers.get('x-amzn-errortype'), ...answer };
  }

  it('answers SerializationException to a body that is not JSON', async () => {
    // Act
    const answer = await post('AWSStepFunctions.ListStateMachines', '{not json');

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.__type).toMatch(/(^|#)SerializationException$/);
  });

  it('answers SerializationException to a member of the wrong JSON type', async () => {
    // Act
    const answer = await post('AWSStepFunctions.ListStateMachines', JSON.stringify({ maxResults: 'ten' }));

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.__type).toMatch(/(^|#)SerializationException$/);
  });

  it.each([
    ['an unknown action', 'AWSStepFunctions.Frobnicate'],
    ['an unknown service', 'AmazonFrobnicator.ListStateMachines'],
  ])('answers UnknownOperationException to %s', async (_, target) => {
    // Act
    const answer = await post(target, '{}');

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.__type).toMatch(/(^|#)UnknownOperationException$/);
  });

  it('answers ValidationException naming a missing required member', async () => {
    // Act
    const answer = await post('AWSStepFunctions.DescribeExecution', '{}');

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.__type).toMatch(/(^|#)ValidationException$/);
    expect(answer.message).toBe(
      "1 validation error detected: Value null at 'executionArn' failed to satisfy constraint: Member must not be null",
    );
  });

  it('answers ValidationException listing every violated constraint', async () => {
    // Act
    const answer = await post(
      'AWSStepFunctions.ListExecutions',
      JSON.stringify({
        stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:orders',
        statusFilter: 'DONE',
        maxResults: 5000,
      }),
    );

    // Assess
    expect(answer.__type).toMatch(/(^|#)ValidationException$/);
    expect(answer.message).toMatch(/^2 validation errors detected: /);
    expect(answer.message).toContain(
      "Value 'DONE' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]",
    );
    expect(answer.message).toContain(
      "Value '5000' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000",
    );
  });

  it('answers a Step Functions error with its namespaced __type and the x-amzn-ErrorType header', async () => {
    // Act
    const answer = await post(
      'AWSStepFunctions.DescribeStateMachine',
      JSON.stringify({ stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:missing' }),
    );

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.__type).toMatch(/(^|#)StateMachineDoesNotExist$/);
    expect(answer.errorType).toMatch(/^StateMachineDoesNotExist/);
    expect(answer.message).toBe(
      "State Machine Does Not Exist: 'arn:aws:states:us-east-1:000000000000:stateMachine:missing'",
    );
  });
});

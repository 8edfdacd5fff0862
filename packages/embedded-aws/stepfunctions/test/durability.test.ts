/**
 * Crash-and-restart tests: the embedded AWS runs in a child process on a data directory, is killed with
 * SIGKILL at chosen moments and started again on the same directory. Whatever a client was told (a state
 * machine created, an execution started, a task token answered) must survive, and every execution must
 * carry on from where it was: nothing lost, nothing done twice in its history.
 *
 * AWS documents that history events "are numbered sequentially, starting at one" (API reference,
 * HistoryEvent.id) and that each event names the previous event of its branch (previousEventId); a Standard
 * execution never loses acknowledged work. `expectWellFormedHistory` checks those rules on every history.
 */
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  DescribeStateMachineCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  ListMapRunsCommand,
  ListStateMachinesCommand,
  RedriveExecutionCommand,
  SendTaskSuccessCommand,
  StopExecutionCommand,
  UpdateStateMachineCommand,
} from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { crashTestEach, serviceAnswer } from '../../testing/crash-test.ts';
import { eventually, pause } from '../../testing/execution-waits.ts';
import { expectWellFormedHistory, historyProblems, historyText } from '../../testing/history-checks.ts';
import { eventTypes } from '../../testing/step-functions.ts';

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';

// Side by side, each test with an embedded AWS of its own: most of their time is timers (Wait states, retry
// backoffs, SQS visibility) and restarts, which they can as well wait out together.
describe.concurrent('the embedded Step Functions survives kill -9', () => {
  const test = crashTestEach({ dataDirPrefix: 'sfn-durability-' });

  test('keeps state machines, finished executions and their histories byte for byte across two crashes', async ({
    aws,
  }) => {
    // Prepare
    await aws.start();
    const passArn = await aws.createMachine({
      Comment: 'a pass',
      StartAt: 'Hello',
      States: { Hello: { Type: 'Pass', Result: { hello: 'world' }, ResultPath: '$.greeting', End: true } },
    });
    const failArn = await aws.createMachine({
      StartAt: 'Check',
      States: {
        Check: {
          Type: 'Choice',
          Choices: [{ Variable: '$.ok', BooleanEquals: true, Next: 'Done' }],
          Default: 'Nope',
        },
        Done: { Type: 'Succeed' },
        Nope: { Type: 'Fail', Error: 'Rejected', Cause: 'ok was not true' },
      },
    });
    await aws.client.send(
      new UpdateStateMachineCommand({
        stateMachineArn: passArn,
        definition: JSON.stringify({
          Comment: 'a pass, updated',
          StartAt: 'Hello',
          States: {
            Hello: { Type: 'Pass', Result: { hello: 'again' }, ResultPath: '$.greeting', End: true },
          },
        }),
      }),
    );
    const executions = [
      await aws.startExecution(passArn, { n: 1 }),
      await aws.startExecution(failArn, { ok: true }),
      await aws.startExecution(failArn, { ok: false }),
    ];
    for (const arn of executions) await aws.waitForEnd(arn);
    const snapshot = async () => ({
      machines: serviceAnswer(await aws.client.send(new ListStateMachinesCommand({}))),
      described: await Promise.all(
        [passArn, failArn].map(async (stateMachineArn) =>
          serviceAnswer(await aws.client.send(new DescribeStateMachineCommand({ stateMachineArn }))),
        ),
      ),
      listed: await Promise.all(
        [passArn, failArn].map(async (stateMachineArn) =>
          serviceAnswer(await aws.client.send(new ListExecutionsCommand({ stateMachineArn }))),
        ),
      ),
      executions: await Promise.all(
        executions.map(async (executionArn) =>
          serviceAnswer(await aws.client.send(new DescribeExecutionCommand({ executionArn }))),
        ),
      ),
      histories: await Promise.all(executions.map(async (arn) => historyText(await aws.historyOf(arn)))),
    });
    const before = await snapshot();

    // Act: two crashes in a row (the second restart opens the snapshot the first one compacted into)
    const after: (typeof before)[] = [];
    for (let crash = 0; crash < 2; crash += 1) {
      await aws.crashAndRestart();
      after.push(await snapshot());
    }

    // Assess
    expect(before.machines.stateMachines).toHaveLength(2);
    expect(before.described[0]!.definition).toContain('a pass, updated');
    expect(before.executions.map((execution) => execution.status)).toEqual([
      'SUCCEEDED',
      'SUCCEEDED',
      'FAILED',
    ]);
    expect(after[0]).toEqual(before);
    expect(after[1]).toEqual(before);
    for (const text of before.histories) expectWellFormedHistory(JSON.parse(text) as HistoryEvent[]);
  });

  test('finishes an execution that was sleeping in a Wait state, entering and leaving the Wait once', async ({
    aws,
  }) => {
    // Prepare
    await aws.start();
    const { executionArn } = await aws.runMachine(
      {
        StartAt: 'Before',
        States: {
          Before: { Type: 'Pass', Result: 'before', ResultPath: '$.before', Next: 'Sleep' },
          Sleep: { Type: 'Wait', Seconds: 2, Next: 'After' },
          After: { Type: 'Pass', Result: 'after', ResultPath: '$.after', End: true },
        },
      },
      { id: 'w' },
    );
    const beforeCrash = await aws.historyWith(executionArn, 'WaitStateEntered');

    // Act
    await aws.crashAndRestart();
    const { execution, history } = await aws.outcomeOf(executionArn);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toEqual({ id: 'w', before: 'before', after: 'after' });
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'WaitStateEntered',
      'WaitStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
    expect(history.map((event) => event.previousEventId)).toEqual([0, 0, 2, 3, 4, 5, 6, 7]);
    expect(historyText(history.slice(0, beforeCrash.length))).toBe(historyText(beforeCrash));
    expectWellFormedHistory(history);
  });

  test('accepts after a restart the task token a waitForTaskToken task handed out before the crash', async ({
    aws,
  }) => {
    // Prepare
    await aws.start();
    const { executionArn } = await aws.runMachine({
      StartAt: 'Approve',
      States: {
        Approve: { ...approvalTask('approve'), End: true },
      },
    });
    const beforeCrash = await aws.historyWith(executionArn, 'TaskSubmitted');
    const taskToken = payloadTokenOf(beforeCrash);

    // Act
    await aws.crashAndRestart();
    await aws.client.send(
      new SendTaskSuccessCommand({ taskToken, output: JSON.stringify({ approved: true }) }),
    );
    const { execution, history } = await aws.outcomeOf(executionArn);
    const again = await aws.client.send(new SendTaskSuccessCommand({ taskToken, output: '{}' })).then(
      () => 'accepted',
      (error: Error) => error.name,
    );

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toEqual({ approved: true });
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(historyText(history.slice(0, beforeCrash.length))).toBe(historyText(beforeCrash));
    // The task is over: AWS answers a second SendTaskSuccess for it with TaskTimedOut.
    expect(again).toBe('TaskTimedOut');
    expectWellFormedHistory(history);
  });

  test('does not lose a SendTaskSuccess that was acknowledged just before the crash', async ({ aws }) => {
    // Prepare
    await aws.start();
    const { executionArn } = await aws.runMachine(
      {
        StartAt: 'Approve',
        States: {
          Approve: { ...approvalTask('acked'), ResultPath: '$.approval', Next: 'Sleep' },
          // Keeps the execution running past the acknowledgement, so the crash cannot come after its end.
          Sleep: { Type: 'Wait', Seconds: 1, End: true },
        },
      },
      { order: 7 },
    );
    const taskToken = payloadTokenOf(await aws.historyWith(executionArn, 'TaskSubmitted'));

    // Act
    await aws.client.send(
      new SendTaskSuccessCommand({ taskToken, output: JSON.stringify({ approved: 'yes' }) }),
    );
    await aws.crashAndRestart();
    const { execution, history } = await aws.outcomeOf(executionArn);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toEqual({ order: 7, approval: { approved: 'yes' } });
    expect(eventTypes(history).filter((type) => type.startsWith('Task'))).toEqual([
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
    ]);
    expectWellFormedHistory(history);
  });

  test('fires a retry whose backoff was pending at the crash, and the retry succeeds', async ({ aws }) => {
    // Prepare: the call fails on the first attempt only ($$.State.RetryCount 0), whatever the process
    // remembers, so the outcome does not depend on the fixture's in-memory call counter.
    await aws.start();
    const { executionArn } = await aws.runMachine({
      StartAt: 'Call',
      States: {
        Call: {
          ...echoCall({
            id: 'retry-after-crash',
            'failTimes.$': 'States.ArrayGetItem(States.Array(1, 0, 0), $$.State.RetryCount)',
            'attempt.$': '$$.State.RetryCount',
          }),
          ResultSelector: { 'attempt.$': '$.Payload.attempt' },
          Retry: [{ ErrorEquals: ['Flaky'], IntervalSeconds: 2, MaxAttempts: 1, BackoffRate: 1 }],
          End: true,
        },
      },
    });
    const beforeCrash = await aws.historyWith(executionArn, 'TaskFailed');

    // Act: kill inside the 2 s backoff
    await aws.crashAndRestart();
    const { execution, history } = await aws.outcomeOf(executionArn);

    // Assess
    expect(eventTypes(beforeCrash)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
    ]);
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toEqual({ attempt: 1 });
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(history[4]!.taskFailedEventDetails).toEqual({
      resourceType: 'lambda',
      resource: 'invoke',
      error: 'Flaky',
      cause: 'call 1 of retry-after-crash failed',
    });
    expect(historyText(history.slice(0, beforeCrash.length))).toBe(historyText(beforeCrash));
    expectWellFormedHistory(history);
  });

  test('finishes a Map over 20 items killed mid-way with every iteration run exactly once', async ({
    aws,
  }) => {
    // Prepare
    await aws.start();
    const items = Array.from({ length: 20 }, (_, n) => ({ n }));
    const { executionArn } = await aws.runMachine(
      {
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map',
            MaxConcurrency: 10,
            ItemsPath: '$.items',
            ItemProcessor: {
              StartAt: 'Sleep',
              States: {
                Sleep: { Type: 'Wait', Seconds: 1, Next: 'Double' },
                Double: { Type: 'Pass', Parameters: { 'twice.$': 'States.MathAdd($.n, $.n)' }, End: true },
              },
            },
            End: true,
          },
        },
      },
      { items },
    );
    const beforeCrash = await aws.historyWith(executionArn, 'MapIterationSucceeded');

    // Act
    await aws.crashAndRestart();
    const { execution, history } = await aws.outcomeOf(executionArn);

    // Assess
    expect(beforeCrash.some((event) => event.type === 'MapStateSucceeded')).toBe(false);
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toEqual(items.map(({ n }) => ({ twice: 2 * n })));
    const indexes = (type: string, details: keyof HistoryEvent) =>
      history
        .filter((event) => event.type === type)
        .map((event) => (event[details] as { index: number }).index)
        .sort((a, b) => a - b);
    const all = items.map((_, index) => index);
    expect(indexes('MapIterationStarted', 'mapIterationStartedEventDetails')).toEqual(all);
    expect(indexes('MapIterationSucceeded', 'mapIterationSucceededEventDetails')).toEqual(all);
    expect(eventTypes(history).filter((type) => type === 'WaitStateEntered')).toHaveLength(20);
    expect(eventTypes(history).filter((type) => type === 'WaitStateExited')).toHaveLength(20);
    expect(eventTypes(history).filter((type) => type.startsWith('MapState'))).toEqual([
      'MapStateEntered',
      'MapStateStarted',
      'MapStateSucceeded',
      'MapStateExited',
    ]);
    expect(historyText(history.slice(0, beforeCrash.length))).toBe(historyText(beforeCrash));
    const branches = expectWellFormedHistory(history);
    expect(new Set(branches.values()).size).toBe(21); // the top level and 20 iterations
    // As AWS links them, after the crash as before it: each iteration starts where the iteration before it
    // stood (its last state event; where that one started from, while it had none): the first ten from
    // MapStateStarted, each later one from a state event of an earlier iteration.
    const byId = new Map(history.map((event) => [event.id!, event]));
    const starts = history.filter((event) => event.type === 'MapIterationStarted');
    const indexOf = (event: HistoryEvent) => event.mapIterationStartedEventDetails!.index!;
    const startOf = new Map(starts.map((event) => [indexOf(event), event]));
    for (const start of starts.filter((event) => indexOf(event) > 0)) {
      const before = startOf.get(indexOf(start) - 1)!;
      if (start.previousEventId === before.previousEventId) continue;
      // Back along its chain, the event leads to the start of the iteration it belongs to.
      let iterationStart = byId.get(start.previousEventId!)!;
      expect(iterationStart.type).toMatch(/^(Wait|Pass)State(Entered|Exited)$/);
      while (iterationStart.type !== 'MapIterationStarted') {
        iterationStart = byId.get(iterationStart.previousEventId!)!;
      }
      expect(indexOf(iterationStart)).toBe(indexOf(start) - 1);
    }
    expect(starts.slice(0, 10).map((event) => byId.get(event.previousEventId!)!.type)).toEqual(
      Array(10).fill('MapStateStarted'),
    );
    expect(starts.slice(10).map((event) => byId.get(event.previousEventId!)!.type)).not.toContain(
      'MapStateStarted',
    );
  });

  test('finishes a distributed Map killed mid-run with each item run by exactly one child execution', async ({
    aws,
  }) => {
    // Prepare: six children, two at a time, each sleeping a second.
    await aws.start();
    const items = Array.from({ length: 6 }, (_, n) => n);
    const { executionArn } = await aws.runMachine(
      {
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map',
            Label: 'Items',
            MaxConcurrency: 2,
            ItemProcessor: {
              ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
              StartAt: 'Sleep',
              States: {
                Sleep: { Type: 'Wait', Seconds: 1, Next: 'Double' },
                Double: { Type: 'Pass', Parameters: { 'twice.$': 'States.MathAdd($, $)' }, End: true },
              },
            },
            End: true,
          },
        },
      },
      items,
    );
    await aws.historyWith(executionArn, 'MapRunStarted');

    // Act
    await aws.crashAndRestart();
    const { execution, history } = await aws.outcomeOf(executionArn);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toEqual(items.map((n) => ({ twice: 2 * n })));
    expect(eventTypes(history).filter((type) => type.startsWith('MapRun'))).toEqual([
      'MapRunStarted',
      'MapRunSucceeded',
    ]);
    const { mapRuns } = await aws.client.send(new ListMapRunsCommand({ executionArn }));
    const mapRunArn = mapRuns![0]!.mapRunArn!;
    const mapRun = await aws.client.send(new DescribeMapRunCommand({ mapRunArn }));
    expect(mapRun.status).toBe('SUCCEEDED');
    expect(mapRun.executionCounts).toMatchObject({ succeeded: 6, total: 6 });
    const { executions } = await aws.client.send(new ListExecutionsCommand({ mapRunArn }));
    expect(executions).toHaveLength(6);
    const inputs: number[] = [];
    for (const child of executions!) {
      const described = await aws.client.send(
        new DescribeExecutionCommand({ executionArn: child.executionArn }),
      );
      inputs.push(JSON.parse(described.input!) as number);
      expect(described.status).toBe('SUCCEEDED');
    }
    expect(inputs.sort()).toEqual(items);
  });

  test('redrives a failed Map Run across a crash, redriving each failed child once and no other', async ({
    aws,
  }) => {
    // Prepare: three children, one at a time; the second fails unless redriven ($$.Execution.RedriveCount).
    await aws.start();
    const items = [{ n: 0 }, { n: 1, fails: true }, { n: 2 }];
    const { executionArn } = await aws.runMachine(
      {
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map',
            Label: 'Items',
            MaxConcurrency: 1,
            ItemProcessor: {
              ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
              StartAt: 'Check',
              States: {
                Check: {
                  Type: 'Choice',
                  Choices: [{ Variable: '$.fails', IsPresent: true, Next: 'Call' }],
                  Default: 'Sleep',
                },
                // Fails in the child's first run only; a redrive starts again here, the state that failed.
                Call: {
                  ...echoCall({
                    id: 'map-run-redrive',
                    'failTimes.$': 'States.ArrayGetItem(States.Array(1, 0), $$.Execution.RedriveCount)',
                  }),
                  ResultPath: null,
                  Next: 'Sleep',
                },
                Sleep: { Type: 'Wait', Seconds: 1, Next: 'Done' },
                Done: { Type: 'Pass', Parameters: { 'n.$': '$.n' }, End: true },
              },
            },
            End: true,
          },
        },
      },
      items,
    );
    expect((await aws.waitForEnd(executionArn)).status).toBe('FAILED');

    // Act: redrive, and crash while the redriven child sleeps.
    await aws.client.send(new RedriveExecutionCommand({ executionArn }));
    await aws.historyWith(executionArn, 'MapRunRedriven');
    await aws.crashAndRestart();
    const { execution, history } = await aws.outcomeOf(executionArn);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
    expect(eventTypes(history).filter((type) => type.startsWith('MapRun'))).toEqual([
      'MapRunStarted',
      'MapRunFailed',
      'MapRunRedriven',
      'MapRunSucceeded',
    ]);
    const { mapRuns } = await aws.client.send(new ListMapRunsCommand({ executionArn }));
    expect(mapRuns).toHaveLength(1);
    const mapRunArn = mapRuns![0]!.mapRunArn!;
    const mapRun = await aws.client.send(new DescribeMapRunCommand({ mapRunArn }));
    expect(mapRun).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1 });
    expect(mapRun.executionCounts).toMatchObject({ succeeded: 3, total: 3 });
    const { executions } = await aws.client.send(new ListExecutionsCommand({ mapRunArn }));
    expect(executions).toHaveLength(3);
    const redrivesByItem: Record<number, number> = {};
    for (const child of executions!) {
      const described = await aws.client.send(
        new DescribeExecutionCommand({ executionArn: child.executionArn }),
      );
      const types = eventTypes(await aws.historyOf(child.executionArn!));
      expect(types.filter((type) => type === 'ExecutionRedriven')).toHaveLength(described.redriveCount!);
      expect(types.filter((type) => type === 'ExecutionSucceeded')).toHaveLength(1);
      redrivesByItem[(JSON.parse(described.input!) as { n: number }).n] = described.redriveCount!;
    }
    expect(redrivesByItem).toEqual({ 0: 0, 1: 1, 2: 0 });
    expectWellFormedHistory(history);
  });

  test('finishes a Parallel state killed while its branches wait, running each branch once', async ({
    aws,
  }) => {
    // Prepare
    await aws.start();
    const { executionArn } = await aws.runMachine({
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'ShortNap',
              States: {
                ShortNap: { Type: 'Wait', Seconds: 1, Next: 'Left' },
                Left: { Type: 'Pass', Result: 'left', End: true },
              },
            },
            {
              StartAt: 'Prepare',
              States: {
                Prepare: { Type: 'Pass', Result: { side: 'right' }, Next: 'LongNap' },
                LongNap: { Type: 'Wait', Seconds: 2, End: true },
              },
            },
          ],
          End: true,
        },
      },
    });
    const beforeCrash = await aws.historyWith(executionArn, 'WaitStateEntered', 2);

    // Act
    await aws.crashAndRestart();
    const { execution, history } = await aws.outcomeOf(executionArn);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toEqual(['left', { side: 'right' }]);
    const entered = history
      .filter((event) => event.type!.endsWith('StateEntered'))
      .map((event) => event.stateEnteredEventDetails!.name)
      .sort();
    expect(entered).toEqual(['Both', 'Left', 'LongNap', 'Prepare', 'ShortNap']);
    expect(eventTypes(history).filter((type) => type.startsWith('ParallelState'))).toEqual([
      'ParallelStateEntered',
      'ParallelStateStarted',
      'ParallelStateSucceeded',
      'ParallelStateExited',
    ]);
    expect(historyText(history.slice(0, beforeCrash.length))).toBe(historyText(beforeCrash));
    const branches = expectWellFormedHistory(history);
    expect(new Set(branches.values()).size).toBe(3); // the top level and two branches
  });

  test('keeps an execution stopped when StopExecution was acknowledged just before the crash', async ({
    aws,
  }) => {
    // Prepare
    await aws.start();
    const { executionArn } = await aws.runMachine({
      StartAt: 'Nap',
      States: {
        Nap: { Type: 'Wait', Seconds: 30, Next: 'Never' },
        Never: { Type: 'Pass', End: true },
      },
    });
    await aws.historyWith(executionArn, 'WaitStateEntered');
    await aws.client.send(
      new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'changed my mind' }),
    );
    const stopped = serviceAnswer(await aws.client.send(new DescribeExecutionCommand({ executionArn })));
    const beforeCrash = await aws.historyOf(executionArn);

    // Act
    await aws.crashAndRestart();
    // Give a wrongly resumed runner a moment to write something.
    await pause(300);
    const execution = serviceAnswer(await aws.client.send(new DescribeExecutionCommand({ executionArn })));
    const history = await aws.historyOf(executionArn);

    // Assess
    expect(stopped.status).toBe('ABORTED');
    expect(execution).toEqual(stopped);
    expect(execution).toMatchObject({ error: 'Operator', cause: 'changed my mind' });
    expect(historyText(history)).toBe(historyText(beforeCrash));
    expect(history.at(-1)!.type).toBe('ExecutionAborted');
    expect(history.at(-1)!.executionAbortedEventDetails).toEqual({
      error: 'Operator',
      cause: 'changed my mind',
    });
    expect(eventTypes(history)).not.toContain('PassStateEntered');
    expectWellFormedHistory(history);
  });

  test('redrives a failed execution after a crash and finishes the redrive across another crash', async ({
    aws,
  }) => {
    // Prepare: the call fails in the first run only ($$.Execution.RedriveCount 0).
    await aws.start();
    const { executionArn } = await aws.runMachine(
      {
        StartAt: 'Before',
        States: {
          Before: { Type: 'Pass', Result: 'done once', ResultPath: '$.before', Next: 'Call' },
          Call: {
            ...echoCall({
              id: 'redrive-after-crash',
              'failTimes.$': 'States.ArrayGetItem(States.Array(1, 0), $$.Execution.RedriveCount)',
            }),
            ResultPath: null,
            Next: 'Nap',
          },
          Nap: { Type: 'Wait', Seconds: 1, End: true },
        },
      },
      { order: 3 },
    );
    const failed = await aws.waitForEnd(executionArn);

    // Act: crash with the execution FAILED, redrive it, crash again while it naps
    await aws.crashAndRestart();
    const afterFirstCrash = serviceAnswer(
      await aws.client.send(new DescribeExecutionCommand({ executionArn })),
    );
    await aws.client.send(new RedriveExecutionCommand({ executionArn }));
    await aws.historyWith(executionArn, 'WaitStateEntered');
    await aws.crashAndRestart();
    const { execution, history } = await aws.outcomeOf(executionArn);

    // Assess
    expect(failed).toMatchObject({ status: 'FAILED', error: 'Flaky' });
    expect(afterFirstCrash).toMatchObject({ status: 'FAILED', error: 'Flaky', redriveStatus: 'REDRIVABLE' });
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.redriveCount).toBe(1);
    expect(JSON.parse(execution.output!)).toEqual({ order: 3, before: 'done once' });
    const named = (type: string, name: string) =>
      history.filter(
        (event) =>
          event.type === type &&
          (event.stateEnteredEventDetails?.name ?? event.stateExitedEventDetails?.name) === name,
      );
    expect(named('PassStateEntered', 'Before')).toHaveLength(1);
    expect(named('WaitStateEntered', 'Nap')).toHaveLength(1);
    expect(named('WaitStateExited', 'Nap')).toHaveLength(1);
    expect(eventTypes(history).filter((type) => type.startsWith('Execution'))).toEqual([
      'ExecutionStarted',
      'ExecutionFailed',
      'ExecutionRedriven',
      'ExecutionSucceeded',
    ]);
    expect(
      history.find((event) => event.type === 'ExecutionRedriven')!.executionRedrivenEventDetails,
    ).toEqual({
      redriveCount: 1,
    });
    expectWellFormedHistory(history);
  });

  test('loses nothing when it is killed again and again while starting up (replaying and compacting)', async ({
    aws,
  }) => {
    // Prepare: finished executions, and one still napping so that start-up also resumes a runner
    const seed = Number(process.env.DURABILITY_SEED ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    await aws.start();
    const machineArn = await aws.createMachine({
      StartAt: 'Greet',
      States: {
        Greet: {
          Type: 'Pass',
          Parameters: { 'greeting.$': "States.Format('hello {}', $.who)" },
          Next: 'Nap',
        },
        Nap: { Type: 'Wait', SecondsPath: '$$.Execution.Input.nap', End: true },
      },
    });
    const finished: string[] = [];
    for (let n = 0; n < 5; n += 1) finished.push(await aws.startExecution(machineArn, { who: n, nap: 0 }));
    for (const arn of finished) await aws.waitForEnd(arn);
    const napping = await aws.startExecution(machineArn, { who: 'late', nap: 1 });
    const histories = async () =>
      Promise.all(finished.map(async (arn) => historyText(await aws.historyOf(arn))));
    const before = await histories();
    await aws.kill();

    // Act: five start-ups cut short at a random moment (the fixture, a bundle, needs about half a second to boot)
    const delays: number[] = [];
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const delay = 50 + Math.floor(random() * 450);
      delays.push(delay);
      await aws.killWhileStarting(delay);
    }
    await aws.restart();
    const after = await histories();
    const { execution: late, history: lateHistory } = await aws.outcomeOf(napping);

    // Assess
    const context = `seed ${seed}, start-ups killed after ${delays.join('/')} ms`;
    expect(after, context).toEqual(before);
    expect(late.status, context).toBe('SUCCEEDED');
    expect(JSON.parse(late.output!)).toEqual({ greeting: 'hello late' });
    expect(eventTypes(lateHistory)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'WaitStateEntered',
      'WaitStateExited',
      'ExecutionSucceeded',
    ]);
    expectWellFormedHistory(lateHistory);
  });

  test('ends every acknowledged execution of a kill storm in success, each with a well-formed history', async ({
    aws,
  }) => {
    // Prepare
    const seed = Number(process.env.DURABILITY_SEED ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    await aws.start();
    const machineArn = await aws.createMachine(STORM_MACHINE);
    const acknowledged: { arn: string; n: number }[] = [];
    const delays: number[] = [];
    // Ten executions already in flight when the first kill comes, however early it comes.
    for (let n = 150; n < 160; n += 1) {
      acknowledged.push({ arn: await aws.startExecution(machineArn, { n }), n });
    }

    // Act: three rounds of 50 starts, each cut short by SIGKILL after 10–300 ms
    for (let round = 0; round < Number(process.env.STORM_ROUNDS ?? 3); round += 1) {
      // Each start goes to this round's process at once: a kill cuts it short rather than sending it on.
      const starts = Array.from({ length: 50 }, async (_, i) => {
        const n = round * 50 + i;
        const arn = await aws.startExecution(machineArn, { n });
        acknowledged.push({ arn, n });
      });
      const delay = 10 + Math.floor(random() * Number(process.env.STORM_DELAY_RANGE ?? 291));
      delays.push(delay);
      const settled = Promise.allSettled(starts);
      await pause(delay);
      await aws.kill();
      await settled;
      await aws.restart();
    }
    const listed = await eventually(
      'every execution to end',
      async () => {
        const page = await aws.client.send(
          new ListExecutionsCommand({ stateMachineArn: machineArn, maxResults: 1000 }),
        );
        const executions = page.executions ?? [];
        return executions.some((execution) => execution.status === 'RUNNING') ? undefined : executions;
      },
      30_000,
    );
    const outcomes = await Promise.all(
      acknowledged.map(async ({ arn, n }) => ({
        n,
        execution: await aws.client.send(new DescribeExecutionCommand({ executionArn: arn })),
        history: await aws.historyOf(arn),
      })),
    );
    const unacknowledged = await Promise.all(
      listed
        .filter((execution) => !acknowledged.some(({ arn }) => arn === execution.executionArn))
        .map((execution) => aws.historyOf(execution.executionArn!)),
    );

    // Assess
    const context = `seed ${seed}, kills after ${delays.join('/')} ms, ${acknowledged.length} acknowledged, ${listed.length} listed`;
    const listedArns = new Set(listed.map((execution) => execution.executionArn));
    for (const { arn } of acknowledged)
      expect(listedArns.has(arn), `${arn} is listed (${context})`).toBe(true);
    expect(
      listed
        .filter((execution) => execution.status !== 'SUCCEEDED')
        .map((execution) => execution.executionArn),
      context,
    ).toEqual([]);
    for (const { n, execution, history } of outcomes) {
      expect(execution.status, `${execution.executionArn} (${context})`).toBe('SUCCEEDED');
      expect(JSON.parse(execution.output!)).toEqual({
        id: execution.name,
        n,
        route: n < 75 ? 'early' : 'late',
        results: [1, 2, 3, 4, 5].map((i) => ({ i, n })),
      });
      expectWellFormedHistory(history);
      const iterations = history.filter((event) => event.type === 'MapIterationSucceeded');
      expect(iterations.map((event) => event.mapIterationSucceededEventDetails!.index).sort()).toEqual([
        0, 1, 2, 3, 4,
      ]);
    }
    for (const history of unacknowledged) expectWellFormedHistory(history);
  }, 60_000);
});

describe('expectWellFormedHistory (the checker the crash tests rely on)', () => {
  const event = (id: number, previousEventId: number, type: string, extra: Partial<HistoryEvent> = {}) =>
    ({ id, previousEventId, type, timestamp: new Date(1_700_000_000_000 + id), ...extra }) as HistoryEvent;
  const entered = (id: number, previous: number, type: string, name: string) =>
    event(id, previous, `${type}StateEntered`, { stateEnteredEventDetails: { name } });
  const exited = (id: number, previous: number, type: string, name: string) =>
    event(id, previous, `${type}StateExited`, { stateExitedEventDetails: { name } });
  const iteration = (id: number, previous: number, type: string, index: number) =>
    event(id, previous, `MapIteration${type}`, {
      [`mapIteration${type}EventDetails`]: { name: 'Each', index },
    } as Partial<HistoryEvent>);

  /**
   * A Map over two items, each iteration a Wait, as the engine (and AWS) writes it: both iterations start
   * from MapStateStarted, and MapStateSucceeded and MapStateExited chain on the last iteration event.
   */
  const mapHistory = (): HistoryEvent[] => [
    event(1, 0, 'ExecutionStarted'),
    entered(2, 0, 'Map', 'Each'),
    event(3, 2, 'MapStateStarted'),
    iteration(4, 3, 'Started', 0),
    iteration(5, 3, 'Started', 1),
    entered(6, 4, 'Wait', 'Nap'),
    entered(7, 5, 'Wait', 'Nap'),
    exited(8, 7, 'Wait', 'Nap'),
    exited(9, 6, 'Wait', 'Nap'),
    iteration(10, 9, 'Succeeded', 0),
    iteration(11, 8, 'Succeeded', 1),
    event(12, 11, 'MapStateSucceeded'),
    exited(13, 11, 'Map', 'Each'),
    event(14, 13, 'ExecutionSucceeded'),
  ];

  /**
   * AWS's recorded history of a Pass, then a Map with MaxConcurrency 1 over three items (each a Pass), then
   * a Pass: each iteration after the first starts from the last state event of the one before, and the
   * Map's closing events chain on the last MapIterationSucceeded.
   */
  const serialMapHistory = (): HistoryEvent[] => {
    const each = (index: number, id: number, previous: number) => [
      iteration(id, previous, 'Started', index),
      entered(id + 1, id, 'Pass', 'HandleItem'),
      exited(id + 2, id + 1, 'Pass', 'HandleItem'),
      iteration(id + 3, id + 2, 'Succeeded', index),
    ];
    return [
      event(1, 0, 'ExecutionStarted'),
      entered(2, 0, 'Pass', 'StartState'),
      exited(3, 2, 'Pass', 'StartState'),
      entered(4, 3, 'Map', 'MapState'),
      event(5, 4, 'MapStateStarted'),
      ...each(0, 6, 5),
      ...each(1, 10, 8),
      ...each(2, 14, 12),
      event(18, 17, 'MapStateSucceeded'),
      exited(19, 17, 'Map', 'MapState'),
      entered(20, 19, 'Pass', 'Final'),
      exited(21, 20, 'Pass', 'Final'),
      event(22, 21, 'ExecutionSucceeded'),
    ];
  };

  /**
   * A Parallel of two branches, a Task and a Pass, as AWS links it: each branch starts from
   * ParallelStateStarted, and ParallelStateSucceeded and ParallelStateExited chain on the last branch event.
   */
  const parallelHistory = (): HistoryEvent[] => [
    event(1, 0, 'ExecutionStarted'),
    entered(2, 0, 'Parallel', 'Both'),
    event(3, 2, 'ParallelStateStarted'),
    entered(4, 3, 'Task', 'Call'),
    entered(5, 3, 'Pass', 'Note'),
    event(6, 4, 'TaskScheduled'),
    exited(7, 5, 'Pass', 'Note'),
    event(8, 6, 'TaskStarted'),
    event(9, 8, 'TaskSucceeded'),
    exited(10, 9, 'Task', 'Call'),
    event(11, 10, 'ParallelStateSucceeded'),
    exited(12, 10, 'Parallel', 'Both'),
    event(13, 12, 'ExecutionSucceeded'),
  ];

  it('accepts a well-formed Map history and finds its three branches', () => {
    // Act
    const branches = expectWellFormedHistory(mapHistory());

    // Assess
    expect(new Set(branches.values())).toEqual(new Set(['root', 'root>3.0', 'root>3.1']));
    expect(branches.get(12)).toBe('root');
  });

  it('accepts a Map with MaxConcurrency 1 linked as AWS links it, and finds its iterations', () => {
    // Act
    const branches = expectWellFormedHistory(serialMapHistory());

    // Assess
    expect(new Set(branches.values())).toEqual(new Set(['root', 'root>5.0', 'root>5.1', 'root>5.2']));
    expect([10, 11, 12, 13].map((id) => branches.get(id))).toEqual(Array(4).fill('root>5.1'));
    expect([18, 19, 20].map((id) => branches.get(id))).toEqual(['root', 'root', 'root']);
  });

  it('accepts a Map whose failing iteration aborts the others, as AWS records it', () => {
    // Prepare: LocalStack's recording of test_service_lambda_map_timeout (four iterations, each a Lambda task
    // that times out; the first to fail aborts the others), the events after the failure all chained on it.
    const task = (index: number, enteredId: number) => [
      entered(enteredId, 4 + index, 'Task', 'Lambda'),
      event(enteredId + 1, enteredId, 'TaskScheduled'),
    ];
    const history = [
      event(1, 0, 'ExecutionStarted'),
      entered(2, 0, 'Map', 'MapWait'),
      event(3, 2, 'MapStateStarted'),
      ...[0, 1, 2, 3].map((index) => iteration(4 + index, 3, 'Started', index)),
      ...[0, 1, 2, 3].flatMap((index) => task(index, 8 + 2 * index)),
      ...[0, 1, 2, 3].map((index) => event(16 + index, 9 + 2 * index, 'TaskStarted')),
      event(20, 16, 'TaskTimedOut'),
      event(21, 18, 'TaskTimedOut'),
      event(22, 17, 'TaskTimedOut'),
      event(23, 19, 'TaskTimedOut'),
      iteration(24, 20, 'Failed', 0),
      event(25, 20, 'TaskStateAborted'),
      iteration(26, 20, 'Aborted', 1),
      event(27, 20, 'TaskStateAborted'),
      iteration(28, 20, 'Aborted', 2),
      event(29, 20, 'TaskStateAborted'),
      iteration(30, 20, 'Aborted', 3),
      event(31, 20, 'TaskStateAborted'),
      event(32, 20, 'MapStateFailed'),
      event(33, 32, 'ExecutionFailed'),
    ];

    // Act
    const branches = expectWellFormedHistory(history);

    // Assess: each MapIterationAborted is its own iteration's end.
    expect([26, 28, 30].map((id) => branches.get(id))).toEqual(['root>3.1', 'root>3.2', 'root>3.3']);
  });

  it('accepts a Parallel linked as AWS links it, and finds its two branches', () => {
    // Act
    const branches = expectWellFormedHistory(parallelHistory());

    // Assess
    expect([4, 6, 8, 9, 10].map((id) => branches.get(id))).toEqual(Array(5).fill('root>3.0'));
    expect([5, 7].map((id) => branches.get(id))).toEqual(['root>3.1', 'root>3.1']);
    expect([11, 12].map((id) => branches.get(id))).toEqual(['root', 'root']);
  });

  it('accepts a Parallel whose failing branch a Catch takes, and one retried, as AWS records them', () => {
    // Prepare: AWS's recorded test_parallel_state_catch and test_parallel_state_retry (with one retry): the
    // failing branch's state is never exited, and a retry's ParallelStateStarted follows the failed branch.
    const caught = [
      event(1, 0, 'ExecutionStarted'),
      entered(2, 0, 'Parallel', 'ParallelState'),
      event(3, 2, 'ParallelStateStarted'),
      entered(4, 3, 'Fail', 'HandleItemFail'),
      event(5, 4, 'ParallelStateFailed'),
      exited(6, 5, 'Parallel', 'ParallelState'),
      entered(7, 6, 'Pass', 'FinalCaught'),
      exited(8, 7, 'Pass', 'FinalCaught'),
      event(9, 8, 'ExecutionSucceeded'),
    ];
    const retried = [
      event(1, 0, 'ExecutionStarted'),
      entered(2, 0, 'Parallel', 'ParallelState'),
      event(3, 2, 'ParallelStateStarted'),
      entered(4, 3, 'Fail', 'HandleItemFail'),
      event(5, 4, 'ParallelStateStarted'),
      entered(6, 5, 'Fail', 'HandleItemFail'),
      event(7, 6, 'ParallelStateFailed'),
      event(8, 7, 'ExecutionFailed'),
    ];

    // Act
    const caughtBranches = expectWellFormedHistory(caught);
    const retriedBranches = expectWellFormedHistory(retried);

    // Assess
    expect([4, 5, 6].map((id) => caughtBranches.get(id))).toEqual(['root>3.0', 'root', 'root']);
    expect([4, 5, 6, 7].map((id) => retriedBranches.get(id))).toEqual([
      'root>3.0',
      'root',
      'root>5.0',
      'root',
    ]);
  });

  it('accepts a Map that fails before it starts, as AWS records it', () => {
    // Prepare: AWS's recorded test_map_state_items_eval_jsonata_fail: EvaluationFailed chained as the Map's
    // entry is (on 0, the first state), then MapStateFailed with no MapStateStarted.
    const history = [
      event(1, 0, 'ExecutionStarted'),
      entered(2, 0, 'Map', 'MapIterateState'),
      event(3, 0, 'EvaluationFailed'),
      event(4, 3, 'MapStateFailed'),
      event(5, 4, 'ExecutionFailed'),
    ];

    // Act
    const { problems } = historyProblems(history);

    // Assess
    expect(problems).toEqual([]);
  });

  it.each([
    [
      'an iteration started twice',
      () => serialMapHistory().map((e) => (e.id === 14 ? iteration(14, 12, 'Started', 1) : e)),
      /root>5\.1 starts twice/,
    ],
    [
      'an iteration started outside the Map',
      () => serialMapHistory().map((e) => (e.id === 10 ? iteration(10, 3, 'Started', 1) : e)),
      /MapIterationStarted 10 is chained on 3 .* in no Map iteration/,
    ],
    [
      'an iteration that ends on another iteration',
      () => serialMapHistory().map((e) => (e.id === 17 ? iteration(17, 12, 'Succeeded', 2) : e)),
      /MapIterationSucceeded 17 of iteration 2 is chained on root>5\.1/,
    ],
    [
      'a Map closed twice',
      () => serialMapHistory().map((e) => (e.id === 19 ? event(19, 17, 'MapStateFailed') : e)),
      /event 19 \(MapStateFailed\) closes a state already closed by 18/,
    ],
    [
      'a Map event closing a Parallel',
      () => parallelHistory().map((e) => (e.id === 11 ? event(11, 10, 'MapStateSucceeded') : e)),
      /event 11 \(MapStateSucceeded\) belongs to a Parallel state/,
    ],
    [
      'a Map that fails before it starts without an EvaluationFailed',
      () => [
        event(1, 0, 'ExecutionStarted'),
        entered(2, 0, 'Pass', 'First'),
        exited(3, 2, 'Pass', 'First'),
        event(4, 3, 'MapStateFailed'),
        event(5, 4, 'ExecutionFailed'),
      ],
      /event 4 \(MapStateFailed\) closes no open Map or Parallel state/,
    ],
    [
      'a branch whose task starts twice',
      () => parallelHistory().map((e) => (e.id === 9 ? event(9, 8, 'TaskStarted') : e)),
      /root>3\.0: TaskStarted 9 without a scheduled task/,
    ],
    [
      'a Parallel that exits while a branch is in a state',
      () => parallelHistory().map((e) => (e.id === 7 ? event(7, 5, 'PassStateAborted') : e)),
      /root>3\.1: Note \(entered 5\) never exited/,
    ],
  ])('rejects %s in an AWS-linked history', (_name, spoiled, problem) => {
    // Act
    const { problems } = historyProblems(spoiled());

    // Assess
    expect(problems.join('\n')).toMatch(problem);
  });

  it.each([
    [
      'a second WaitStateEntered on one iteration',
      6,
      entered(7, 6, 'Wait', 'Nap'),
      /Nap \(entered 6\) is open/,
    ],
    ['a previousEventId pointing forward', 5, entered(6, 9, 'Wait', 'Nap'), /event 6 .* previousEventId 9/],
    ['a state that never exits', 8, event(9, 6, 'WaitStateAborted'), /Nap \(entered 6\) never exited/],
    ['a StateExited of another state', 8, exited(9, 6, 'Pass', 'Other'), /does not close Nap/],
    ['a task outcome without a task', 7, event(8, 7, 'TaskSucceeded'), /TaskSucceeded 8 without a task/],
    ['an event chained on the wrong branch', 9, iteration(10, 8, 'Succeeded', 0), /MapIterationSucceeded/],
  ])('rejects %s', (_name, position, replacement, problem) => {
    // Prepare
    const history = mapHistory();
    history[position] = replacement;

    // Act
    const { problems } = historyProblems(history);

    // Assess
    expect(problems.join('\n')).toMatch(problem);
  });

  it.each([
    ['a gap in the ids', (history: HistoryEvent[]) => history.splice(4, 1), /has id/],
    [
      'a second terminal event',
      (history: HistoryEvent[]) => history.push(event(15, 14, 'ExecutionFailed')),
      /terminal events/,
    ],
    ['no terminal event', (history: HistoryEvent[]) => history.pop(), /terminal events: none/],
  ])('rejects %s', (_name, spoil, problem) => {
    // Prepare
    const history = mapHistory();
    spoil(history);

    // Act
    const { problems } = historyProblems(history);

    // Assess
    expect(problems.join('\n')).toMatch(problem);
  });
});

/**
 * Pass, Choice (and a Pass per route), a Map over 5 items whose Task fails once (only while $$.State.RetryCount is 0, so the
 * outcome does not hang on the fixture's in-memory counter) and retries after 1 s, then a final Task.
 */
const STORM_MACHINE = {
  StartAt: 'Prepare',
  States: {
    Prepare: {
      Type: 'Pass',
      Parameters: { 'n.$': '$.n', 'items.$': 'States.ArrayRange(1, 5, 1)' },
      Next: 'Route',
    },
    Route: {
      Type: 'Choice',
      Choices: [{ Variable: '$.n', NumericLessThan: 75, Next: 'Early' }],
      Default: 'Late',
    },
    Early: { Type: 'Pass', Result: 'early', ResultPath: '$.route', Next: 'Fan' },
    Late: { Type: 'Pass', Result: 'late', ResultPath: '$.route', Next: 'Fan' },
    Fan: {
      Type: 'Map',
      ItemsPath: '$.items',
      ItemSelector: { 'i.$': '$$.Map.Item.Value', 'n.$': '$.n' },
      ItemProcessor: {
        StartAt: 'Call',
        States: {
          Call: {
            ...echoCall({
              'id.$': "States.Format('{}-{}', $$.Execution.Name, $.i)",
              'failTimes.$': 'States.ArrayGetItem(States.Array(1, 0, 0, 0), $$.State.RetryCount)',
              'i.$': '$.i',
              'n.$': '$.n',
            }),
            ResultSelector: { 'i.$': '$.Payload.i', 'n.$': '$.Payload.n' },
            Retry: [{ ErrorEquals: ['Flaky'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 1 }],
            End: true,
          },
        },
      },
      ResultPath: '$.results',
      Next: 'Finish',
    },
    Finish: {
      ...echoCall({
        'id.$': '$$.Execution.Name',
        'n.$': '$.n',
        'route.$': '$.route',
        'results.$': '$.results',
      }),
      OutputPath: '$.Payload',
      End: true,
    },
  },
};

/** mulberry32: a small seeded generator, so a failing storm can be replayed with DURABILITY_SEED. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A call to the fixture's "echo" Lambda, which answers with its payload after failing the first `failTimes`
 * calls of the payload's `id` (Flaky).
 */
function echoCall(payload: object) {
  return { Type: 'Task', Resource: LAMBDA_INVOKE, Parameters: { FunctionName: 'echo', Payload: payload } };
}

/** A waitForTaskToken task that hands its token to the 'approver' Lambda as `Payload.token`. */
function approvalTask(id: string) {
  return {
    Type: 'Task',
    Resource: `${LAMBDA_INVOKE}.waitForTaskToken`,
    Parameters: { FunctionName: 'approver', Payload: { id, 'token.$': '$$.Task.Token' } },
  };
}

/** The task token an `approvalTask` handed its Lambda, read from TaskScheduled. */
function payloadTokenOf(history: readonly HistoryEvent[]): string {
  const scheduled = history.find((event) => event.type === 'TaskScheduled')!;
  return (JSON.parse(scheduled.taskScheduledEventDetails!.parameters!) as { Payload: { token: string } })
    .Payload.token;
}

/**
 * Conformance tests for error handling, through whole executions on an embedded AWS and the real
 * `@aws-sdk/client-sfn` client: Retry (ErrorEquals matching, MaxAttempts, several retriers, BackoffRate,
 * MaxDelaySeconds, JitterStrategy), Catch (ResultPath, order of catchers, after retries), uncaught failures,
 * Task TimeoutSeconds/TimeoutSecondsPath and the state machine's own TimeoutSeconds.
 *
 * Sources: the Step Functions developer guide, "Handling errors in Step Functions workflows" (error names:
 * States.ALL matches every error but States.Runtime (the guide also excepts States.DataLimitExceeded, but AWS
 * catches it: see payload-limit.test.ts); States.TaskFailed matches every error but States.Timeout; Retrier fields and their defaults; "Catch" and the error output
 * `{Error, Cause}`), the ASL specification (the first Retrier/Catcher whose ErrorEquals matches is used; each
 * Retrier counts its own attempts; MaxAttempts 0 means never retry), and execution histories recorded
 * against AWS and published with LocalStack's tests (`tests/aws/services/stepfunctions/v2/timeouts/
 * test_timeouts.snapshot.json`: a timed-out Task writes `TaskTimedOut` with `{error: 'States.Timeout',
 * resource, resourceType}` and no cause, and `ExecutionFailed` carries `{error: 'States.Timeout'}` only).
 *
 * Backoff waits are real time. To keep the file fast, most retriers use `JitterStrategy: 'FULL'` on an engine
 * whose random source always answers 0, so each retry waits 0 s; the few tests of the un-jittered backoff
 * wait 1 s per retry and run concurrently. Only the order of events is asserted, never their timing.
 */
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsServer } from '../../aws/server.ts';
import { eventTypes, sfnClient } from '../../testing/step-functions.ts';
import { createStepFunctionsService } from '../api/service.ts';
import { StepFunctionsEngine } from '../engine/engine.ts';
import { InProcessIntegrations } from '../integrations.ts';
import { StatesError } from '../language/states-error.ts';

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const SLOW_INVOKE = 'arn:aws:states:::ecs:runTask';

/**
 * `Payload: { id, errors: ['A', 'B'] }` fails the first call for `id` with error A, the second with B and
 * succeeds from the third on with `{ id, attempts }`.
 */
const attemptsById = new Map<string, number>();
const integrations = new InProcessIntegrations()
  .handle(LAMBDA_INVOKE, ({ parameters }) => {
    const payload = (parameters as { Payload: { id: string; errors?: string[] } }).Payload;
    const attempt = (attemptsById.get(payload.id) ?? 0) + 1;
    attemptsById.set(payload.id, attempt);
    const error = payload.errors?.[attempt - 1];
    if (error !== undefined) throw new StatesError(error, `attempt ${attempt} of ${payload.id} failed`);
    return { StatusCode: 200, Payload: { id: payload.id, attempts: attempt } };
  })
  // Never answers: only a timeout (or a stop) ends it.
  .handle(SLOW_INVOKE, ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', reject)));

// ─── An embedded AWS whose random source is fixed ──────────────────────────────────────────────────

interface Sandbox {
  client: SFNClient;
  run(
    definition: object,
    input?: unknown,
  ): Promise<{ execution: DescribeExecutionCommandOutput; history: HistoryEvent[] }>;
  close(): Promise<void>;
}

let machines = 0;

async function sandbox(random: () => number): Promise<Sandbox> {
  const engine = await StepFunctionsEngine.open({ dataDir: null, integrations, random });
  const server = createAwsServer({ services: [createStepFunctionsService(engine)] });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const client = sfnClient(`http://127.0.0.1:${port}`);
  return {
    client,
    async run(definition, input = {}) {
      machines += 1;
      const created = await client.send(
        new CreateStateMachineCommand({
          name: `retry-catch-${machines}`,
          definition: JSON.stringify(definition),
          roleArn: 'arn:aws:iam::000000000000:role/test',
        }),
      );
      const { executionArn } = await client.send(
        new StartExecutionCommand({ stateMachineArn: created.stateMachineArn, input: JSON.stringify(input) }),
      );
      await engine.finished(executionArn!);
      const execution = await client.send(new DescribeExecutionCommand({ executionArn }));
      const page = await client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
      return { execution, history: page.events ?? [] };
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await engine.close();
    },
  };
}

let sfn: Sandbox;

beforeAll(async () => {
  sfn = await sandbox(() => 0);
});

afterAll(async () => {
  await sfn.close();
});

// ─── Helpers ─────────────────────────────────────────────────────────────────────────────────────────

let ids = 0;
function uniqueId(): string {
  ids += 1;
  return `job-${ids}`;
}

/** A one-Task machine calling the flaky function, with the given Retry/Catch, then a Pass for each catcher. */
function flakyTask(
  id: string,
  errors: string[],
  handling: { Retry?: object[]; Catch?: object[] },
  extra: Record<string, object> = {},
): object {
  return {
    StartAt: 'Vend',
    States: {
      Vend: {
        Type: 'Task',
        Resource: LAMBDA_INVOKE,
        Parameters: { FunctionName: 'vend', Payload: { id, errors } },
        ResultSelector: { 'attempts.$': '$.Payload.attempts' },
        ...handling,
        End: true,
      },
      ...extra,
    },
  };
}

/** Retries at once (FULL jitter on an engine whose random() is 0). */
function immediate(errorEquals: string[], maxAttempts?: number): object {
  return {
    ErrorEquals: errorEquals,
    JitterStrategy: 'FULL',
    ...(maxAttempts !== undefined ? { MaxAttempts: maxAttempts } : {}),
  };
}

function parsed(text: string | undefined): unknown {
  return JSON.parse(text ?? 'null');
}

function only(history: readonly HistoryEvent[], type: string): HistoryEvent {
  const found = history.filter((event) => event.type === type);
  expect(found, `exactly one ${type}`).toHaveLength(1);
  return found[0]!;
}

/** Ids run 1..n and, from the first state's entry on, each event names the one before it. */
function expectLinearChain(history: readonly HistoryEvent[]): void {
  expect(history.map((event) => event.id)).toEqual(history.map((_, index) => index + 1));
  expect(history.slice(2).map((event) => event.previousEventId)).toEqual(
    history.slice(2).map((_, index) => index + 2),
  );
}

const ATTEMPT = ['TaskScheduled', 'TaskStarted'];

// ─── Retry ───────────────────────────────────────────────────────────────────────────────────────────

describe('Retry', () => {
  it('schedules the task again after each failure, with no StateExited between attempts', async () => {
    // Prepare
    const id = uniqueId();
    const definition = flakyTask(id, ['MeterBusy', 'MeterBusy'], { Retry: [immediate(['MeterBusy'], 2)] });

    // Act
    const { execution, history } = await sfn.run(definition);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(parsed(execution.output)).toEqual({ attempts: 3 });
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      ...ATTEMPT,
      'TaskFailed',
      ...ATTEMPT,
      'TaskFailed',
      ...ATTEMPT,
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expectLinearChain(history);
    expect(
      history.filter((event) => event.type === 'TaskFailed').map((e) => e.taskFailedEventDetails),
    ).toEqual([
      { resourceType: 'lambda', resource: 'invoke', error: 'MeterBusy', cause: `attempt 1 of ${id} failed` },
      { resourceType: 'lambda', resource: 'invoke', error: 'MeterBusy', cause: `attempt 2 of ${id} failed` },
    ]);
  });

  it.each([
    { retrier: 'the exact error name', errorEquals: ['MeterBusy'], retried: true },
    { retrier: 'one of several names', errorEquals: ['Other', 'MeterBusy'], retried: true },
    { retrier: 'States.ALL', errorEquals: ['States.ALL'], retried: true },
    { retrier: 'States.TaskFailed', errorEquals: ['States.TaskFailed'], retried: true },
    { retrier: 'another name only', errorEquals: ['MeterOffline'], retried: false },
    { retrier: 'a name that differs in case', errorEquals: ['meterbusy'], retried: false },
  ])('retries a MeterBusy failure with a retrier on $retrier: $retried', async ({ errorEquals, retried }) => {
    // Prepare
    const definition = flakyTask(uniqueId(), ['MeterBusy'], { Retry: [immediate(errorEquals, 1)] });

    // Act
    const { execution, history } = await sfn.run(definition);

    // Assess
    expect(execution.status).toBe(retried ? 'SUCCEEDED' : 'FAILED');
    expect(history.filter((event) => event.type === 'TaskScheduled')).toHaveLength(retried ? 2 : 1);
  });

  it('never retries States.Runtime, even with States.ALL, and never catches it either', async () => {
    // Prepare: a Parameters path that matches nothing is a States.Runtime failure.
    const definition = {
      StartAt: 'Vend',
      States: {
        Vend: {
          Type: 'Task',
          Resource: LAMBDA_INVOKE,
          Parameters: { FunctionName: 'vend', 'Payload.$': '$.missing' },
          Retry: [immediate(['States.ALL'], 3)],
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Handled' }],
          End: true,
        },
        Handled: { Type: 'Pass', End: true },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition, { meter: 'M-1' });

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.Runtime');
    expect(eventTypes(history)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'ExecutionFailed']);
  });

  it.each([
    { maxAttempts: 0, scheduled: 1, status: 'FAILED' },
    { maxAttempts: 1, scheduled: 2, status: 'FAILED' },
    { maxAttempts: 2, scheduled: 3, status: 'SUCCEEDED' },
  ])('makes at most MaxAttempts $maxAttempts retries', async ({ maxAttempts, scheduled, status }) => {
    // Prepare: two failures, then success.
    const definition = flakyTask(uniqueId(), ['MeterBusy', 'MeterBusy'], {
      Retry: [immediate(['MeterBusy'], maxAttempts)],
    });

    // Act
    const { execution, history } = await sfn.run(definition);

    // Assess
    expect(execution.status).toBe(status);
    expect(history.filter((event) => event.type === 'TaskScheduled')).toHaveLength(scheduled);
  });

  it('retries three times when MaxAttempts is left out', async () => {
    // Prepare
    const definition = flakyTask(uniqueId(), ['E', 'E', 'E', 'E'], { Retry: [immediate(['E'])] });

    // Act
    const { execution, history } = await sfn.run(definition);

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(history.filter((event) => event.type === 'TaskFailed')).toHaveLength(4);
  });

  it('uses only the first matching retrier: MaxAttempts 0 there is not rescued by a later States.ALL', async () => {
    // Prepare
    const definition = flakyTask(uniqueId(), ['MeterBusy'], {
      Retry: [immediate(['MeterBusy'], 0), immediate(['States.ALL'], 3)],
    });

    // Act
    const { execution, history } = await sfn.run(definition);

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('MeterBusy');
    expect(history.filter((event) => event.type === 'TaskScheduled')).toHaveLength(1);
  });

  it.each([
    { errors: ['A', 'B', 'A'], status: 'FAILED', error: 'A', scheduled: 3 },
    { errors: ['A', 'B', 'B'], status: 'FAILED', error: 'B', scheduled: 3 },
    { errors: ['A', 'B'], status: 'SUCCEEDED', error: undefined, scheduled: 3 },
  ])(
    'keeps a count per retrier: failures $errors against one retry each for A and B',
    async ({ errors, status, error, scheduled }) => {
      // Prepare
      const definition = flakyTask(uniqueId(), errors, { Retry: [immediate(['A'], 1), immediate(['B'], 1)] });

      // Act
      const { execution, history } = await sfn.run(definition);

      // Assess
      expect(execution.status).toBe(status);
      expect(execution.error).toBe(error);
      expect(history.filter((event) => event.type === 'TaskScheduled')).toHaveLength(scheduled);
    },
  );

  it.concurrent.each([
    { backoff: 'IntervalSeconds 1 and the default BackoffRate', retrier: { IntervalSeconds: 1 } },
    {
      backoff: 'BackoffRate 3 capped by MaxDelaySeconds 1',
      retrier: { IntervalSeconds: 1, BackoffRate: 3, MaxDelaySeconds: 1 },
    },
    {
      backoff: 'JitterStrategy NONE',
      retrier: { IntervalSeconds: 1, BackoffRate: 1, JitterStrategy: 'NONE' },
    },
  ])('writes the same history when retrying with $backoff', async ({ retrier }) => {
    // Prepare
    const definition = flakyTask(uniqueId(), ['E', 'E'], {
      Retry: [{ ErrorEquals: ['E'], MaxAttempts: 2, ...retrier }],
    });

    // Act
    const { execution, history } = await sfn.run(definition);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      ...ATTEMPT,
      'TaskFailed',
      ...ATTEMPT,
      'TaskFailed',
      ...ATTEMPT,
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
  });
});

// ─── Catch ───────────────────────────────────────────────────────────────────────────────────────────

describe('Catch', () => {
  const fallback = { Handled: { Type: 'Pass', End: true } };

  it.each([
    {
      resultPath: 'absent',
      catcher: {},
      output: { Error: 'MeterOffline', Cause: 'CAUSE' },
    },
    {
      resultPath: '$.error',
      catcher: { ResultPath: '$.error' },
      output: { meter: 'M-1', error: { Error: 'MeterOffline', Cause: 'CAUSE' } },
    },
    {
      resultPath: '$.failure.detail',
      catcher: { ResultPath: '$.failure.detail' },
      output: { meter: 'M-1', failure: { detail: { Error: 'MeterOffline', Cause: 'CAUSE' } } },
    },
    { resultPath: 'null', catcher: { ResultPath: null }, output: { meter: 'M-1' } },
  ])('places the error output {Error, Cause} with ResultPath $resultPath', async ({ catcher, output }) => {
    // Prepare
    const id = uniqueId();
    const definition = flakyTask(
      id,
      ['MeterOffline'],
      { Catch: [{ ErrorEquals: ['MeterOffline'], Next: 'Handled', ...catcher }] },
      fallback,
    );
    const expected = JSON.parse(JSON.stringify(output).replace('CAUSE', `attempt 1 of ${id} failed`));

    // Act
    const { execution, history } = await sfn.run(definition, { meter: 'M-1' });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      ...ATTEMPT,
      'TaskFailed',
      'TaskStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
    expectLinearChain(history);
    expect(only(history, 'TaskStateExited').stateExitedEventDetails).toEqual({
      name: 'Vend',
      output: JSON.stringify(expected),
      outputDetails: { truncated: false },
    });
    expect(parsed(only(history, 'PassStateEntered').stateEnteredEventDetails?.input)).toEqual(expected);
    expect(parsed(execution.output)).toEqual(expected);
  });

  it('catches only once the retries are exhausted', async () => {
    // Prepare
    const definition = flakyTask(
      uniqueId(),
      ['MeterOffline', 'MeterOffline', 'MeterOffline'],
      {
        Retry: [immediate(['MeterOffline'], 2)],
        Catch: [{ ErrorEquals: ['MeterOffline'], ResultPath: '$.error', Next: 'Handled' }],
      },
      fallback,
    );

    // Act
    const { execution, history } = await sfn.run(definition);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      ...ATTEMPT,
      'TaskFailed',
      ...ATTEMPT,
      'TaskFailed',
      ...ATTEMPT,
      'TaskFailed',
      'TaskStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('goes to the first catcher whose ErrorEquals matches, in the order written', async () => {
    // Prepare
    const definition = flakyTask(
      uniqueId(),
      ['MeterOffline'],
      {
        Catch: [
          { ErrorEquals: ['MeterBusy'], Next: 'Busy' },
          { ErrorEquals: ['MeterOffline'], Next: 'Offline' },
          { ErrorEquals: ['States.ALL'], Next: 'Anything' },
        ],
      },
      {
        Busy: { Type: 'Pass', End: true },
        Offline: { Type: 'Pass', End: true },
        Anything: { Type: 'Pass', End: true },
      },
    );

    // Act
    const { history } = await sfn.run(definition);

    // Assess
    expect(only(history, 'PassStateEntered').stateEnteredEventDetails?.name).toBe('Offline');
  });

  it('fails the execution with the task error and cause when no catcher matches', async () => {
    // Prepare
    const id = uniqueId();
    const definition = flakyTask(
      id,
      ['MeterOffline'],
      { Catch: [{ ErrorEquals: ['MeterBusy'], Next: 'Handled' }] },
      fallback,
    );

    // Act
    const { execution, history } = await sfn.run(definition);

    // Assess
    const cause = `attempt 1 of ${id} failed`;
    expect(execution).toMatchObject({ status: 'FAILED', error: 'MeterOffline', cause });
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      ...ATTEMPT,
      'TaskFailed',
      'ExecutionFailed',
    ]);
    expectLinearChain(history);
    expect(only(history, 'ExecutionFailed').executionFailedEventDetails).toEqual({
      error: 'MeterOffline',
      cause,
    });
  });
});

// ─── Timeouts ────────────────────────────────────────────────────────────────────────────────────────

describe('timeouts', () => {
  function slowTask(timeout: object, handling: { Retry?: object[]; Catch?: object[] } = {}): object {
    return {
      StartAt: 'Vend',
      States: {
        Vend: {
          Type: 'Task',
          Resource: SLOW_INVOKE,
          Parameters: { Cluster: 'c' },
          ...timeout,
          ...handling,
          End: true,
        },
        ...(handling.Catch ? { Handled: { Type: 'Pass', End: true } } : {}),
      },
    };
  }

  it.concurrent.each([
    { field: 'TimeoutSeconds', timeout: { TimeoutSeconds: 1 }, input: {} },
    { field: 'TimeoutSecondsPath', timeout: { TimeoutSecondsPath: '$.limit' }, input: { limit: 1 } },
  ])('times a task out after $field with TaskTimedOut and States.Timeout', async ({ timeout, input }) => {
    // Prepare
    const definition = slowTask(timeout);

    // Act
    const { execution, history } = await sfn.run(definition, input);

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.Timeout');
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      ...ATTEMPT,
      'TaskTimedOut',
      'ExecutionFailed',
    ]);
    expectLinearChain(history);
    expect(only(history, 'TaskScheduled').taskScheduledEventDetails).toMatchObject({ timeoutInSeconds: 1 });
    expect(only(history, 'TaskTimedOut').taskTimedOutEventDetails).toEqual({
      resourceType: 'ecs',
      resource: 'runTask',
      error: 'States.Timeout',
    });
    expect(only(history, 'ExecutionFailed').executionFailedEventDetails).toEqual({ error: 'States.Timeout' });
  });

  it.concurrent.each([
    { catcher: 'States.Timeout', errorEquals: ['States.Timeout'], caught: true },
    { catcher: 'States.ALL', errorEquals: ['States.ALL'], caught: true },
    { catcher: 'States.TaskFailed', errorEquals: ['States.TaskFailed'], caught: false },
  ])('lets a catcher on $catcher catch a task timeout: $caught', async ({ errorEquals, caught }) => {
    // Prepare
    const definition = slowTask(
      { TimeoutSeconds: 1 },
      { Catch: [{ ErrorEquals: errorEquals, ResultPath: '$.error', Next: 'Handled' }] },
    );

    // Act
    const { execution, history } = await sfn.run(definition, { meter: 'M-1' });

    // Assess
    expect(execution.status).toBe(caught ? 'SUCCEEDED' : 'FAILED');
    if (caught) {
      const output = parsed(execution.output) as { meter: string; error: { Error: string } };
      expect(output.meter).toBe('M-1');
      expect(output.error.Error).toBe('States.Timeout');
      expect(eventTypes(history).slice(-5)).toEqual([
        'TaskTimedOut',
        'TaskStateExited',
        'PassStateEntered',
        'PassStateExited',
        'ExecutionSucceeded',
      ]);
    } else {
      expect(execution.error).toBe('States.Timeout');
    }
  });

  it.concurrent('retries a timed-out task when a retrier names States.Timeout', async () => {
    // Prepare
    const definition = slowTask({ TimeoutSeconds: 1 }, { Retry: [immediate(['States.Timeout'], 1)] });

    // Act
    const { execution, history } = await sfn.run(definition);

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      ...ATTEMPT,
      'TaskTimedOut',
      ...ATTEMPT,
      'TaskTimedOut',
      'ExecutionFailed',
    ]);
  });

  it.concurrent('ends an execution that outlives the machine TimeoutSeconds as TIMED_OUT', async () => {
    // Prepare
    const definition = {
      TimeoutSeconds: 1,
      StartAt: 'Sleep',
      States: { Sleep: { Type: 'Wait', Seconds: 30, Next: 'After' }, After: { Type: 'Pass', End: true } },
    };

    // Act
    const { execution, history } = await sfn.run(definition);

    // Assess
    expect(execution.status).toBe('TIMED_OUT');
    expect(execution.stopDate).toBeInstanceOf(Date);
    expect(execution.output).toBeUndefined();
    expect(eventTypes(history)).toEqual(['ExecutionStarted', 'WaitStateEntered', 'ExecutionTimedOut']);
    const timedOut = only(history, 'ExecutionTimedOut');
    expect(timedOut.previousEventId).toBe(2);
    // A guess: AWS's ExecutionTimedOutEventDetails has optional error and cause; when it gives an error it is
    // States.Timeout, the name the developer guide gives an execution that runs past its TimeoutSeconds.
    expect([undefined, 'States.Timeout']).toContain(timedOut.executionTimedOutEventDetails?.error);
  });
});

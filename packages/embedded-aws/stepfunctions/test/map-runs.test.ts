/**
 * Distributed Map runs as AWS documents them ("Using Map state in Distributed mode", "Examining Map Run",
 * "ItemBatcher (Map)"; the API reference of DescribeMapRun, ListMapRuns, UpdateMapRun, ListExecutions and
 * DescribeExecution): each item, or batch of items, runs as a child workflow execution of its own, under the
 * state machine `<machine>/<label>`; a Standard child has its own history and is listed by
 * ListExecutions(mapRunArn); the Map Run counts its items and children by status, keeps the settings it
 * runs with (which UpdateMapRun changes while it runs), and ends with the Map.
 */
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  ListExecutionsCommand,
  ListMapRunsCommand,
  RedriveExecutionCommand,
  ResourceNotFound,
  StartExecutionCommand,
  StopExecutionCommand,
  UpdateMapRunCommand,
  ValidationException,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EmbeddedStepFunctions,
  embeddedStepFunctions,
  eventTypes,
} from '../../testing/step-functions.ts';
import type { Json } from '../definition/types.ts';
import { InProcessIntegrations } from '../integrations.ts';
import { StatesError } from '../language/states-error.ts';

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';

/** Children that wait here until a test lets them go. */
const held: Array<() => void> = [];

/** Meters whose `flaky` child fails while they are here, `hold` ones that fail instead of waiting; calls. */
const offline = new Set<string>();
const failFast = new Set<string>();
const calls = new Map<string, number>();

const integrations = new InProcessIntegrations().handle(
  LAMBDA_INVOKE,
  async ({ parameters, signal }): Promise<Json> => {
    const payload = (parameters as { Payload: { job: string; value?: Json } }).Payload;
    const meter = String(payload.value);
    calls.set(meter, (calls.get(meter) ?? 0) + 1);
    if (payload.job === 'fail' || (payload.job === 'flaky' && offline.has(meter)))
      throw new StatesError('MeterOffline', `meter ${meter} is offline`);
    if (payload.job === 'hold' && failFast.has(meter))
      throw new StatesError('MeterOffline', `meter ${meter} is offline`);
    if (payload.job === 'hold') {
      await new Promise<void>((resolve, reject) => {
        held.push(resolve);
        signal.addEventListener('abort', reject);
      });
    }
    return { Payload: payload.value ?? null };
  },
);

let sfn: EmbeddedStepFunctions;

beforeAll(async () => {
  sfn = await embeddedStepFunctions({ integrations });
});

afterAll(async () => {
  await sfn.close();
});

/**
 * A distributed Map labelled Meters: items starting `bad` fail in their child, `hold` ones wait, `flaky` ones
 * fail while `offline` holds them.
 */
function meters(settings: object = {}, executionType: 'STANDARD' | 'EXPRESS' = 'STANDARD'): object {
  return {
    StartAt: 'Each meter',
    States: {
      'Each meter': {
        Type: 'Map',
        Label: 'Meters',
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: executionType },
          StartAt: 'Route',
          States: {
            Route: {
              Type: 'Choice',
              Choices: [
                { Variable: '$', StringMatches: 'bad*', Next: 'Broken' },
                { Variable: '$', StringMatches: 'hold*', Next: 'Held' },
                { Variable: '$', StringMatches: 'flaky*', Next: 'Flaky' },
              ],
              Default: 'Fine',
            },
            Fine: { Type: 'Pass', End: true },
            Broken: task({ job: 'fail', 'value.$': '$' }),
            Held: task({ job: 'hold', 'value.$': '$' }),
            Flaky: task({ job: 'flaky', 'value.$': '$' }),
          },
        },
        ...settings,
        End: true,
      },
    },
  };
}

function task(payload: object): object {
  return {
    Type: 'Task',
    Resource: LAMBDA_INVOKE,
    Parameters: { FunctionName: 'meter', Payload: payload },
    OutputPath: '$.Payload',
    End: true,
  };
}

async function start(definition: object, input: Json): Promise<{ executionArn: string; machineArn: string }> {
  const machineArn = await sfn.createMachine(definition);
  const started = await sfn.client.send(
    new StartExecutionCommand({ stateMachineArn: machineArn, input: JSON.stringify(input) }),
  );
  return { executionArn: started.executionArn!, machineArn };
}

async function onlyMapRunOf(executionArn: string): Promise<string> {
  const { mapRuns } = await sfn.client.send(new ListMapRunsCommand({ executionArn }));
  expect(mapRuns).toHaveLength(1);
  return mapRuns![0]!.mapRunArn!;
}

async function childrenOf(mapRunArn: string) {
  const { executions } = await sfn.client.send(new ListExecutionsCommand({ mapRunArn }));
  return executions ?? [];
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let tries = 0; tries < 500 && !(await check()); tries += 1) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const counts = (over: object) => ({
  pending: 0,
  running: 0,
  succeeded: 0,
  failed: 0,
  timedOut: 0,
  aborted: 0,
  total: 0,
  resultsWritten: 0,
  failuresNotRedrivable: 0,
  pendingRedrive: 0,
  ...over,
});

describe('a distributed Map run', () => {
  it('runs each item as a Standard child execution with a history of its own, listed by its Map Run', async () => {
    // Act
    const { executionArn, machineArn } = await start(meters({ MaxConcurrency: 2 }), ['M-1', 'M-2', 'M-3']);
    const parent = await sfn.waitForEnd(executionArn);

    // Assess: the parent's output is the children's, in item order.
    expect(parent.status).toBe('SUCCEEDED');
    expect(JSON.parse(parent.output!)).toEqual(['M-1', 'M-2', 'M-3']);
    const mapRunArn = await onlyMapRunOf(executionArn);
    const { mapRuns } = await sfn.client.send(new ListMapRunsCommand({ executionArn }));
    expect(mapRuns![0]).toMatchObject({ executionArn, stateMachineArn: `${machineArn}/Meters` });
    const described = await sfn.client.send(new DescribeMapRunCommand({ mapRunArn }));
    expect(described).toMatchObject({
      mapRunArn,
      executionArn,
      status: 'SUCCEEDED',
      maxConcurrency: 2,
      toleratedFailureCount: 0,
      toleratedFailurePercentage: 0,
      itemCounts: counts({ succeeded: 3, total: 3, resultsWritten: 3 }),
      executionCounts: counts({ succeeded: 3, total: 3, resultsWritten: 3 }),
      redriveCount: 0,
    });
    expect(described.stopDate!.getTime()).toBeGreaterThanOrEqual(described.startDate!.getTime());

    const children = await childrenOf(mapRunArn);
    expect(children).toHaveLength(3);
    const inputs: Json[] = [];
    for (const child of children) {
      expect(child).toMatchObject({
        status: 'SUCCEEDED',
        mapRunArn,
        stateMachineArn: `${machineArn}/Meters`,
      });
      expect(child.executionArn).toBe(
        `${machineArn.replace(':stateMachine:', ':execution:')}/Meters:${child.name}`,
      );
      const execution = await sfn.client.send(
        new DescribeExecutionCommand({ executionArn: child.executionArn }),
      );
      expect(execution.mapRunArn).toBe(mapRunArn);
      expect(execution.output).toBe(execution.input);
      inputs.push(JSON.parse(execution.input!) as Json);
      expect(eventTypes(await sfn.historyOf(child.executionArn!))).toEqual([
        'ExecutionStarted',
        'ChoiceStateEntered',
        'ChoiceStateExited',
        'PassStateEntered',
        'PassStateExited',
        'ExecutionSucceeded',
      ]);
    }
    expect(inputs.sort()).toEqual(['M-1', 'M-2', 'M-3']);
    // The children are the Map Run's, not the parent machine's.
    const listed = await sfn.client.send(new ListExecutionsCommand({ stateMachineArn: machineArn }));
    expect(listed.executions!.map((execution) => execution.executionArn)).toEqual([executionArn]);
  });

  it('counts failed children, and fails the Map past its tolerated failures', async () => {
    // Act
    const { executionArn } = await start(meters({ ToleratedFailureCount: 1 }), ['M-1', 'bad-1', 'bad-2']);
    const parent = await sfn.waitForEnd(executionArn);

    // Assess
    expect(parent.status).toBe('FAILED');
    expect(parent.error).toBe('States.ExceedToleratedFailureThreshold');
    const mapRunArn = await onlyMapRunOf(executionArn);
    const described = await sfn.client.send(new DescribeMapRunCommand({ mapRunArn }));
    expect(described.status).toBe('FAILED');
    expect(described.toleratedFailureCount).toBe(1);
    expect(described.executionCounts).toMatchObject({ succeeded: 1, failed: 2, total: 3, resultsWritten: 1 });
    const failed = (await childrenOf(mapRunArn)).filter((child) => child.status === 'FAILED');
    expect(failed).toHaveLength(2);
    const child = await sfn.client.send(
      new DescribeExecutionCommand({ executionArn: failed[0]!.executionArn }),
    );
    expect(child.error).toBe('MeterOffline');
  });

  it('gives each child a batch of items with an ItemBatcher, counting items and children apart', async () => {
    // Act
    const { executionArn } = await start(
      {
        StartAt: 'Batches',
        States: {
          Batches: {
            Type: 'Map',
            ItemBatcher: { MaxItemsPerBatch: 2, BatchInput: { 'customer.$': '$.customer' } },
            ItemsPath: '$.meters',
            ItemProcessor: {
              ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
              StartAt: 'Echo',
              States: { Echo: { Type: 'Pass', End: true } },
            },
            End: true,
          },
        },
      },
      { customer: 'c-1', meters: ['M-1', 'M-2', 'M-3', 'M-4', 'M-5'] },
    );
    const parent = await sfn.waitForEnd(executionArn);

    // Assess
    expect(parent.status).toBe('SUCCEEDED');
    const batch = (items: string[]) => ({ Items: items, BatchInput: { customer: 'c-1' } });
    expect(JSON.parse(parent.output!)).toEqual([
      batch(['M-1', 'M-2']),
      batch(['M-3', 'M-4']),
      batch(['M-5']),
    ]);
    const mapRunArn = await onlyMapRunOf(executionArn);
    const described = await sfn.client.send(new DescribeMapRunCommand({ mapRunArn }));
    expect(described.itemCounts).toMatchObject({ succeeded: 5, total: 5 });
    expect(described.executionCounts).toMatchObject({ succeeded: 3, total: 3 });
  });

  it('counts Express children without keeping them as executions', async () => {
    // Act
    const { executionArn } = await start(meters({}, 'EXPRESS'), ['M-1', 'M-2']);
    const parent = await sfn.waitForEnd(executionArn);

    // Assess
    expect(parent.status).toBe('SUCCEEDED');
    expect(JSON.parse(parent.output!)).toEqual(['M-1', 'M-2']);
    const mapRunArn = await onlyMapRunOf(executionArn);
    const described = await sfn.client.send(new DescribeMapRunCommand({ mapRunArn }));
    expect(described.executionCounts).toMatchObject({ succeeded: 2, total: 2 });
    expect(await childrenOf(mapRunArn)).toEqual([]);
  });

  it('runs at the MaxConcurrency UpdateMapRun gives it, and shows the new settings', async () => {
    // Prepare: one child at a time, each waiting until let go.
    const { executionArn } = await start(meters({ MaxConcurrency: 1 }), ['hold-1', 'hold-2', 'hold-3']);
    const mapRunArn = await (async () => {
      await until(async () => held.length === 1);
      return onlyMapRunOf(executionArn);
    })();
    const running = await sfn.client.send(new DescribeMapRunCommand({ mapRunArn }));
    expect(running.executionCounts).toMatchObject({ running: 1, pending: 2, total: 3 });

    // Act
    await sfn.client.send(
      new UpdateMapRunCommand({ mapRunArn, maxConcurrency: 3, toleratedFailurePercentage: 50 }),
    );
    await until(async () => held.length === 3);

    // Assess: the other two started without the first ending.
    const updated = await sfn.client.send(new DescribeMapRunCommand({ mapRunArn }));
    expect(updated).toMatchObject({ status: 'RUNNING', maxConcurrency: 3, toleratedFailurePercentage: 50 });
    expect(updated.executionCounts).toMatchObject({ running: 3, pending: 0 });
    for (const release of held.splice(0)) release();
    expect((await sfn.waitForEnd(executionArn)).status).toBe('SUCCEEDED');
    const ended = await sfn.client.send(new DescribeMapRunCommand({ mapRunArn }));
    expect(ended.status).toBe('SUCCEEDED');
  });

  it('aborts the Map Run and its running children when the parent is stopped', async () => {
    // Prepare
    const { executionArn } = await start(meters(), ['hold-a', 'M-1']);
    await until(async () => held.length === 1);
    const mapRunArn = await onlyMapRunOf(executionArn);

    // Act
    await sfn.client.send(new StopExecutionCommand({ executionArn }));
    await until(
      async () => (await sfn.client.send(new DescribeMapRunCommand({ mapRunArn }))).status !== 'RUNNING',
    );

    // Assess
    held.splice(0);
    const described = await sfn.client.send(new DescribeMapRunCommand({ mapRunArn }));
    expect(described.status).toBe('ABORTED');
    const statuses = (await childrenOf(mapRunArn)).map((child) => child.status).sort();
    expect(statuses).toEqual(['ABORTED', 'SUCCEEDED']);
  });
});

describe('a redrive of the parent', () => {
  // The developer guide's "Redriving Map Runs": redriving the parent redrives its failed Map Run, the same
  // one, whose children that did not succeed run again (Standard ones redriven, Express ones started anew)
  // while those that succeeded keep their results.
  it('redrives the Map Run it failed in: only its Standard children that failed run again, redriven', async () => {
    // Prepare: one child of three fails, so the Map Run and the parent fail.
    offline.add('flaky-b');
    const { executionArn } = await start(meters({ MaxConcurrency: 1 }), ['flaky-a', 'flaky-b', 'flaky-c']);
    expect((await sfn.waitForEnd(executionArn)).status).toBe('FAILED');
    const mapRunArn = await onlyMapRunOf(executionArn);
    const [failedChild] = (await childrenOf(mapRunArn)).filter((child) => child.status === 'FAILED');
    const failed = await sfn.client.send(
      new DescribeExecutionCommand({ executionArn: failedChild!.executionArn }),
    );
    expect(failed.redriveStatus).toBe('REDRIVABLE_BY_MAP_RUN');
    await expect(
      sfn.client.send(new RedriveExecutionCommand({ executionArn: failedChild!.executionArn })),
    ).rejects.toMatchObject({ name: 'ExecutionNotRedrivable' });
    const before = eventTypes(await sfn.historyOf(executionArn)).length;

    // Act
    offline.delete('flaky-b');
    await sfn.client.send(new RedriveExecutionCommand({ executionArn }));
    const parent = await sfn.waitForEnd(executionArn);

    // Assess: the same Map Run, redriven once, ends with every child's result in item order.
    expect(parent.status).toBe('SUCCEEDED');
    expect(JSON.parse(parent.output!)).toEqual(['flaky-a', 'flaky-b', 'flaky-c']);
    expect(await onlyMapRunOf(executionArn)).toBe(mapRunArn);
    const described = await sfn.client.send(new DescribeMapRunCommand({ mapRunArn }));
    expect(described).toMatchObject({
      status: 'SUCCEEDED',
      redriveCount: 1,
      executionCounts: counts({ succeeded: 3, total: 3, resultsWritten: 3 }),
    });
    expect(described.redriveDate).toBeInstanceOf(Date);
    const history = await sfn.historyOf(executionArn);
    expect(eventTypes(history).slice(before)).toEqual([
      'ExecutionRedriven',
      'MapStateEntered',
      'MapStateStarted',
      'MapRunRedriven',
      'MapRunSucceeded',
      'MapStateSucceeded',
      'MapStateExited',
      'ExecutionSucceeded',
    ]);
    expect(history.find((event) => event.type === 'MapRunRedriven')).toMatchObject({
      mapRunRedrivenEventDetails: { mapRunArn, redriveCount: 1 },
    });
    // flaky-a succeeded the first time and is not run again; flaky-b is redriven; flaky-c, which the failure
    // stopped before it started, runs for the first time.
    expect(calls.get('flaky-a')).toBe(1);
    expect(calls.get('flaky-b')).toBe(2);
    expect(calls.get('flaky-c')).toBe(1);
    const children = await childrenOf(mapRunArn);
    expect(children).toHaveLength(3);
    const redriven = await sfn.client.send(
      new DescribeExecutionCommand({ executionArn: failedChild!.executionArn }),
    );
    expect(redriven).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1 });
    expect(eventTypes(await sfn.historyOf(failedChild!.executionArn!))).toContain('ExecutionRedriven');
  });

  it('starts its Express children that failed again, and no other', async () => {
    // Prepare
    offline.add('flaky-x2');
    const { executionArn } = await start(meters({}, 'EXPRESS'), ['flaky-x1', 'flaky-x2']);
    expect((await sfn.waitForEnd(executionArn)).status).toBe('FAILED');
    const mapRunArn = await onlyMapRunOf(executionArn);

    // Act
    offline.delete('flaky-x2');
    await sfn.client.send(new RedriveExecutionCommand({ executionArn }));
    const parent = await sfn.waitForEnd(executionArn);

    // Assess
    expect(parent.status).toBe('SUCCEEDED');
    expect(JSON.parse(parent.output!)).toEqual(['flaky-x1', 'flaky-x2']);
    expect(calls.get('flaky-x1')).toBe(1);
    expect(calls.get('flaky-x2')).toBe(2);
    const described = await sfn.client.send(new DescribeMapRunCommand({ mapRunArn }));
    expect(described).toMatchObject({
      status: 'SUCCEEDED',
      redriveCount: 1,
      executionCounts: counts({ succeeded: 2, total: 2, resultsWritten: 2 }),
    });
  });

  it('counts the failed children that wait their turn to be redriven as pendingRedrive', async () => {
    // Prepare: one child at a time; the first two fail, which is one more than tolerated.
    failFast.add('hold-r1');
    offline.add('flaky-r2');
    const { executionArn } = await start(meters({ MaxConcurrency: 1, ToleratedFailureCount: 1 }), [
      'hold-r1',
      'flaky-r2',
      'flaky-r3',
    ]);
    expect((await sfn.waitForEnd(executionArn)).status).toBe('FAILED');
    const mapRunArn = await onlyMapRunOf(executionArn);

    // Act: the redriven first child now holds the only slot.
    failFast.delete('hold-r1');
    offline.delete('flaky-r2');
    await sfn.client.send(new RedriveExecutionCommand({ executionArn }));
    await until(async () => held.length === 1);
    const whileHeld = await sfn.client.send(new DescribeMapRunCommand({ mapRunArn }));
    for (const release of held.splice(0)) release();
    const parent = await sfn.waitForEnd(executionArn);
    const ended = await sfn.client.send(new DescribeMapRunCommand({ mapRunArn }));

    // Assess: the second child waits to be redriven, the third (never started) waits to start.
    expect(whileHeld.executionCounts).toEqual(
      counts({ running: 1, failed: 1, pending: 1, pendingRedrive: 1, total: 3 }),
    );
    expect(parent.status).toBe('SUCCEEDED');
    expect(ended.executionCounts).toEqual(
      counts({ succeeded: 3, total: 3, resultsWritten: 3, pendingRedrive: 0 }),
    );
  });

  it('redrives a Map Run that a stop aborted, running only the children the stop cut short', async () => {
    // Prepare
    const { executionArn } = await start(meters(), ['flaky-s1', 'hold-s2']);
    await until(async () => held.length === 1);
    await sfn.client.send(new StopExecutionCommand({ executionArn }));
    held.splice(0);
    const mapRunArn = await onlyMapRunOf(executionArn);
    await until(
      async () => (await sfn.client.send(new DescribeMapRunCommand({ mapRunArn }))).status === 'ABORTED',
    );

    // Act: the held child holds no longer once redriven.
    await sfn.client.send(new RedriveExecutionCommand({ executionArn }));
    await until(async () => held.length === 1);
    for (const release of held.splice(0)) release();
    const parent = await sfn.waitForEnd(executionArn);

    // Assess
    expect(parent.status).toBe('SUCCEEDED');
    expect(JSON.parse(parent.output!)).toEqual(['flaky-s1', 'hold-s2']);
    expect(calls.get('flaky-s1')).toBe(1);
    expect(calls.get('hold-s2')).toBe(2);
    expect(await onlyMapRunOf(executionArn)).toBe(mapRunArn);
  });
});

describe('the Map Run API refuses', () => {
  const unknown =
    'arn:aws:states:us-east-1:000000000000:mapRun:nothing/Here:5b7f0c1e-0000-4000-8000-000000000000';

  it('a Map Run that does not exist, with ResourceNotFound', async () => {
    await expect(sfn.client.send(new DescribeMapRunCommand({ mapRunArn: unknown }))).rejects.toBeInstanceOf(
      ResourceNotFound,
    );
    await expect(
      sfn.client.send(new UpdateMapRunCommand({ mapRunArn: unknown, maxConcurrency: 1 })),
    ).rejects.toBeInstanceOf(ResourceNotFound);
  });

  it('an ARN that names no Map Run, with InvalidArn', async () => {
    const arn = 'arn:aws:states:us-east-1:000000000000:execution:machine:run-1';
    await expect(sfn.client.send(new DescribeMapRunCommand({ mapRunArn: arn }))).rejects.toMatchObject({
      name: 'InvalidArn',
      message: "Invalid Arn: 'Resource type not valid in this context: execution'",
    });
  });

  it('an UpdateMapRun that changes nothing, or a Map Run that has ended', async () => {
    const { executionArn } = await start(meters(), ['M-1']);
    await sfn.waitForEnd(executionArn);
    const mapRunArn = await onlyMapRunOf(executionArn);
    await expect(sfn.client.send(new UpdateMapRunCommand({ mapRunArn }))).rejects.toBeInstanceOf(
      ValidationException,
    );
    await expect(
      sfn.client.send(new UpdateMapRunCommand({ mapRunArn, maxConcurrency: 5 })),
    ).rejects.toBeInstanceOf(ValidationException);
  });

  it('a ListExecutions with both a state machine and a Map Run', async () => {
    const { executionArn, machineArn } = await start(meters(), ['M-1']);
    await sfn.waitForEnd(executionArn);
    const mapRunArn = await onlyMapRunOf(executionArn);
    await expect(
      sfn.client.send(new ListExecutionsCommand({ stateMachineArn: machineArn, mapRunArn })),
    ).rejects.toMatchObject({ name: 'InvalidArn' });
  });
});

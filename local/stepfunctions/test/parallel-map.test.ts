/**
 * Conformance tests for Parallel and Map states, through whole executions on the embedded AWS and the real
 * `@aws-sdk/client-sfn` client: branch and iteration outputs, the fan-out events and their previousEventId
 * chains, failures (and Retry/Catch on the fanning state), cancellation of the other branches, inline Map
 * (ItemsPath, ItemSelector with `$$.Map.Item`, MaxConcurrency, empty input) and Distributed Map with inline
 * items (Map Run events, tolerated failures).
 *
 * Sources: the developer guide pages "Parallel workflow state", "Map workflow state", "Using Map state in
 * Inline mode", "Using Map state in Distributed mode" and "Setting failure thresholds for Distributed Map
 * states" (States.ExceedToleratedFailureThreshold; with neither threshold set, any failed item fails the Map
 * Run); the API reference (MapStateStartedEventDetails.length, MapIterationEventDetails {name, index},
 * MapRunStartedEventDetails.mapRunArn, MapRunFailedEventDetails {error, cause}); and execution histories
 * recorded against AWS and published with LocalStack's tests (`tests/aws/services/stepfunctions/v2/
 * timeouts/test_timeouts.snapshot.json`, test_service_lambda_map_timeout: MapStateStarted {length}, each
 * MapIterationStarted chained to MapStateStarted, each iteration's first state chained to its
 * MapIterationStarted; when one iteration fails: MapIterationFailed, then for every other iteration a
 * TaskStateAborted and a MapIterationAborted, then MapStateFailed and ExecutionFailed with the iteration's
 * error).
 */
import { type HistoryEvent, StartExecutionCommand } from '@aws-sdk/client-sfn';
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

type Job = { job: string; id?: string; value?: Json; group?: string; size?: number; failures?: number };

/** How many calls of each concurrency `group` are running now, and the most there ever were. */
const running = new Map<string, number>();
const peak = new Map<string, number>();
const attempts = new Map<string, number>();
const arrived = new Map<string, Array<() => void>>();

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const integrations = new InProcessIntegrations().handle(
  LAMBDA_INVOKE,
  async ({ parameters, signal }): Promise<Json> => {
    const payload = (parameters as { Payload: Job }).Payload;
    switch (payload.job) {
      case 'echo':
        return { Payload: payload.value ?? null };
      case 'fail':
        throw new StatesError('MeterOffline', `meter ${String(payload.value)} did not answer`);
      case 'flaky': {
        const attempt = (attempts.get(payload.id!) ?? 0) + 1;
        attempts.set(payload.id!, attempt);
        if (attempt <= (payload.failures ?? 1)) throw new StatesError('MeterBusy', `attempt ${attempt}`);
        return { Payload: { attempt } };
      }
      case 'measure': {
        // Counts how many calls of the group overlap; each lingers 50 ms.
        const group = payload.group!;
        running.set(group, (running.get(group) ?? 0) + 1);
        peak.set(group, Math.max(peak.get(group) ?? 0, running.get(group)!));
        await sleep(50);
        running.set(group, running.get(group)! - 1);
        return { Payload: payload.value ?? null };
      }
      case 'barrier': {
        // Returns only once `size` calls of the group have arrived (or after 3 s, to fail cleanly).
        const group = payload.group!;
        const waiting = arrived.get(group) ?? [];
        arrived.set(group, waiting);
        const all = new Promise<boolean>((resolve) => {
          waiting.push(() => resolve(true));
          if (waiting.length >= payload.size!) for (const release of waiting) release();
          setTimeout(() => resolve(false), 3000);
        });
        return { Payload: { allTogether: await all } };
      }
      case 'hang':
        return new Promise((_, reject) => signal.addEventListener('abort', reject));
      default:
        throw new StatesError('UnknownJob', payload.job);
    }
  },
);

let sfn: EmbeddedStepFunctions;

beforeAll(async () => {
  sfn = await embeddedStepFunctions({ integrations });
});

afterAll(async () => {
  await sfn.close();
});

// ─── Helpers ─────────────────────────────────────────────────────────────────────────────────────────

let ids = 0;
function unique(prefix: string): string {
  ids += 1;
  return `${prefix}-${ids}`;
}

function call(payload: Record<string, unknown>, rest: Record<string, unknown> = {}): object {
  return {
    Type: 'Task',
    Resource: LAMBDA_INVOKE,
    Parameters: { FunctionName: 'meter', Payload: payload },
    ResultSelector: { 'value.$': '$.Payload' },
    OutputPath: '$.value',
    End: true,
    ...rest,
  };
}

function only(history: readonly HistoryEvent[], type: string): HistoryEvent {
  const found = history.filter((event) => event.type === type);
  expect(found, `exactly one ${type}`).toHaveLength(1);
  return found[0]!;
}

function all(history: readonly HistoryEvent[], type: string): HistoryEvent[] {
  return history.filter((event) => event.type === type);
}

function byId(history: readonly HistoryEvent[]): Map<number, HistoryEvent> {
  return new Map(history.map((event) => [event.id!, event]));
}

/** The chain of events that leads back from `event` to (but not including) the event with id `stopAt`. */
function chainBack(history: readonly HistoryEvent[], event: HistoryEvent, stopAt: number): string[] {
  const events = byId(history);
  const chain: string[] = [];
  let current: HistoryEvent | undefined = event;
  while (current !== undefined && current.id !== stopAt) {
    chain.unshift(current.type!);
    current = events.get(current.previousEventId!);
  }
  return chain;
}

function parsed(text: string | undefined): unknown {
  return JSON.parse(text ?? 'null');
}

// ─── Parallel ────────────────────────────────────────────────────────────────────────────────────────

describe('Parallel', () => {
  const twoBranches = {
    StartAt: 'Both',
    States: {
      Both: {
        Type: 'Parallel',
        Branches: [
          { StartAt: 'Price', States: { Price: { Type: 'Pass', Result: { pence: 1000 }, End: true } } },
          {
            StartAt: 'Meter',
            States: {
              Meter: { Type: 'Pass', Parameters: { 'meter.$': '$.meter' }, Next: 'Check' },
              Check: call({ job: 'echo', 'value.$': '$.meter' }),
            },
          },
        ],
        End: true,
      },
    },
  };

  it('outputs the branch outputs as an array, in the order the branches are written', async () => {
    // Act
    const { execution } = await sfn.run(twoBranches, { meter: 'M-1' });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(parsed(execution.output)).toEqual([{ pence: 1000 }, 'M-1']);
  });

  it('writes ParallelStateStarted and ParallelStateSucceeded around the branches, each branch chained to the start', async () => {
    // Act
    const { history } = await sfn.run(twoBranches, { meter: 'M-1' });

    // Assess
    const types = eventTypes(history);
    expect(types.slice(0, 3)).toEqual(['ExecutionStarted', 'ParallelStateEntered', 'ParallelStateStarted']);
    expect(types.slice(-3)).toEqual(['ParallelStateSucceeded', 'ParallelStateExited', 'ExecutionSucceeded']);
    const started = only(history, 'ParallelStateStarted');
    expect(started.previousEventId).toBe(only(history, 'ParallelStateEntered').id);
    // Both branches begin from ParallelStateStarted and keep their own chains.
    const price = all(history, 'PassStateExited').find((e) => e.stateExitedEventDetails?.name === 'Price')!;
    expect(chainBack(history, price, started.id!)).toEqual(['PassStateEntered', 'PassStateExited']);
    const check = only(history, 'TaskStateExited');
    expect(chainBack(history, check, started.id!)).toEqual([
      'PassStateEntered',
      'PassStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
    ]);
    expect(only(history, 'ParallelStateExited').stateExitedEventDetails).toEqual({
      name: 'Both',
      output: JSON.stringify([{ pence: 1000 }, 'M-1']),
      outputDetails: { truncated: false },
    });
  });

  const failingBranch = (handling: object = {}, states: object = {}) => ({
    StartAt: 'Both',
    States: {
      Both: {
        Type: 'Parallel',
        Branches: [
          { StartAt: 'Ok', States: { Ok: { Type: 'Pass', End: true } } },
          { StartAt: 'Broken', States: { Broken: call({ job: 'fail', value: 'M-9' }) } },
        ],
        ...handling,
        End: true,
      },
      ...states,
    },
  });

  it('fails with the failing branch error and cause, after ParallelStateFailed', async () => {
    // Act
    const { execution, history } = await sfn.run(failingBranch());

    // Assess
    expect(execution).toMatchObject({
      status: 'FAILED',
      error: 'MeterOffline',
      cause: 'meter M-9 did not answer',
    });
    const types = eventTypes(history);
    expect(types.slice(-2)).toEqual(['ParallelStateFailed', 'ExecutionFailed']);
    expect(types).not.toContain('ParallelStateExited');
    expect(only(history, 'ExecutionFailed').executionFailedEventDetails).toEqual({
      error: 'MeterOffline',
      cause: 'meter M-9 did not answer',
    });
  });

  it('is caught by a Catch on the Parallel state, with the branch error as error output', async () => {
    // Prepare
    const definition = failingBranch(
      { Catch: [{ ErrorEquals: ['MeterOffline'], ResultPath: '$.error', Next: 'Apologise' }] },
      { Apologise: { Type: 'Pass', End: true } },
    );

    // Act
    const { execution, history } = await sfn.run(definition, { order: 'o-1' });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(parsed(execution.output)).toEqual({
      order: 'o-1',
      error: { Error: 'MeterOffline', Cause: 'meter M-9 did not answer' },
    });
    expect(eventTypes(history).slice(-5)).toEqual([
      'ParallelStateFailed',
      'ParallelStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('runs every branch again when a Retry on the Parallel state retries it', async () => {
    // Prepare
    const id = unique('parallel-flaky');
    const definition = {
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Ok', States: { Ok: { Type: 'Pass', Result: 'ok', End: true } } },
            { StartAt: 'Flaky', States: { Flaky: call({ job: 'flaky', id, failures: 1 }) } },
          ],
          Retry: [{ ErrorEquals: ['MeterBusy'], MaxAttempts: 1, IntervalSeconds: 1, JitterStrategy: 'FULL' }],
          End: true,
        },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(parsed(execution.output)).toEqual(['ok', { attempt: 2 }]);
    const types = eventTypes(history);
    expect(types.filter((type) => type.startsWith('ParallelState'))).toEqual([
      'ParallelStateEntered',
      'ParallelStateStarted',
      'ParallelStateFailed',
      'ParallelStateStarted',
      'ParallelStateSucceeded',
      'ParallelStateExited',
    ]);
    expect(all(history, 'PassStateEntered')).toHaveLength(2);
  });

  // BUG: Branches cancelled by a failing sibling leave no *StateAborted events
  it('cancels the other branches when one fails, recording where they were aborted', async () => {
    // Prepare
    const definition = {
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'Slow',
              States: {
                Slow: { Type: 'Wait', Seconds: 30, Next: 'After' },
                After: { Type: 'Pass', End: true },
              },
            },
            { StartAt: 'Hang', States: { Hang: call({ job: 'hang' }) } },
            { StartAt: 'Broken', States: { Broken: call({ job: 'fail', value: 'M-2' }) } },
          ],
          End: true,
        },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition);

    // Assess
    expect(execution.status).toBe('FAILED');
    const types = eventTypes(history);
    expect(types).not.toContain('WaitStateExited');
    expect(types).not.toContain('PassStateEntered');
    expect(types).toContain('WaitStateAborted');
    expect(types).toContain('TaskStateAborted');
    expect(types.slice(-2)).toEqual(['ParallelStateFailed', 'ExecutionFailed']);
  });

  // BUG: A Parallel or Map fails with States.Runtime when a branch fails while another still runs
  it('stops the other branches when one fails: they never reach their next state', async () => {
    // Prepare
    const definition = {
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'Slow',
              States: {
                Slow: { Type: 'Wait', Seconds: 30, Next: 'After' },
                After: { Type: 'Pass', End: true },
              },
            },
            { StartAt: 'Hang', States: { Hang: call({ job: 'hang' }) } },
            { StartAt: 'Broken', States: { Broken: call({ job: 'fail', value: 'M-2' }) } },
          ],
          End: true,
        },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition);

    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'MeterOffline' });
    const types = eventTypes(history);
    expect(types).not.toContain('WaitStateExited');
    expect(types).not.toContain('PassStateEntered');
    expect(types).not.toContain('TaskSucceeded');
  });
});

// ─── Map (inline) ────────────────────────────────────────────────────────────────────────────────────

describe('Map inline', () => {
  it('iterates the ItemsPath array with ItemSelector reading $$.Map.Item.Index and Value', async () => {
    // Prepare
    const definition = {
      StartAt: 'Each meter',
      States: {
        'Each meter': {
          Type: 'Map',
          ItemsPath: '$.meters',
          ItemSelector: {
            'index.$': '$$.Map.Item.Index',
            'meter.$': '$$.Map.Item.Value',
            'customer.$': '$.customer',
          },
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'Top up',
            States: { 'Top up': { Type: 'Pass', End: true } },
          },
          ResultPath: '$.results',
          End: true,
        },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition, {
      customer: 'c-1',
      meters: ['M-1', 'M-2', 'M-3'],
    });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(parsed(execution.output)).toEqual({
      customer: 'c-1',
      meters: ['M-1', 'M-2', 'M-3'],
      results: [
        { index: 0, meter: 'M-1', customer: 'c-1' },
        { index: 1, meter: 'M-2', customer: 'c-1' },
        { index: 2, meter: 'M-3', customer: 'c-1' },
      ],
    });
    const started = only(history, 'MapStateStarted');
    expect(started.mapStateStartedEventDetails).toEqual({ length: 3 });
    expect(started.previousEventId).toBe(only(history, 'MapStateEntered').id);
    const iterationStarts = all(history, 'MapIterationStarted');
    expect(iterationStarts.map((event) => event.mapIterationStartedEventDetails)).toEqual([
      { name: 'Each meter', index: 0 },
      { name: 'Each meter', index: 1 },
      { name: 'Each meter', index: 2 },
    ]);
    for (const event of iterationStarts) expect(event.previousEventId).toBe(started.id);
    // Each iteration: MapIterationStarted → PassStateEntered → PassStateExited → MapIterationSucceeded.
    const succeeded = all(history, 'MapIterationSucceeded');
    expect(
      succeeded.map((event) => event.mapIterationSucceededEventDetails).sort((a, b) => a!.index! - b!.index!),
    ).toEqual([
      { name: 'Each meter', index: 0 },
      { name: 'Each meter', index: 1 },
      { name: 'Each meter', index: 2 },
    ]);
    for (const event of succeeded) {
      expect(chainBack(history, event, started.id!)).toEqual([
        'MapIterationStarted',
        'PassStateEntered',
        'PassStateExited',
        'MapIterationSucceeded',
      ]);
    }
    expect(eventTypes(history).slice(-3)).toEqual([
      'MapStateSucceeded',
      'MapStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('passes the items themselves when there is no ItemSelector', async () => {
    // Prepare
    const definition = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemProcessor: { StartAt: 'Echo', States: { Echo: call({ job: 'echo', 'value.$': '$' }) } },
          End: true,
        },
      },
    };

    // Act
    const { execution } = await sfn.run(definition, [{ a: 1 }, 'two', 3]);

    // Assess
    expect(parsed(execution.output)).toEqual([{ a: 1 }, 'two', 3]);
  });

  it('runs one iteration at a time with MaxConcurrency 1, each one started after the previous ended', async () => {
    // Prepare
    const group = unique('one-at-a-time');
    const definition = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          MaxConcurrency: 1,
          ItemSelector: { job: 'measure', group, 'value.$': '$$.Map.Item.Value' },
          ItemProcessor: {
            StartAt: 'Measure',
            States: { Measure: call({ 'job.$': '$.job', 'group.$': '$.group', 'value.$': '$.value' }) },
          },
          End: true,
        },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition, [1, 2, 3, 4]);

    // Assess
    expect(parsed(execution.output)).toEqual([1, 2, 3, 4]);
    expect(peak.get(group)).toBe(1);
    const iterationEvents = history
      .filter((event) => event.type === 'MapIterationStarted' || event.type === 'MapIterationSucceeded')
      .map((event) => [
        event.type,
        (event.mapIterationStartedEventDetails ?? event.mapIterationSucceededEventDetails)?.index,
      ]);
    expect(iterationEvents).toEqual([
      ['MapIterationStarted', 0],
      ['MapIterationSucceeded', 0],
      ['MapIterationStarted', 1],
      ['MapIterationSucceeded', 1],
      ['MapIterationStarted', 2],
      ['MapIterationSucceeded', 2],
      ['MapIterationStarted', 3],
      ['MapIterationSucceeded', 3],
    ]);
  });

  it.each([
    { maxConcurrency: 'left out', field: {} },
    { maxConcurrency: '0', field: { MaxConcurrency: 0 } },
  ])('runs all iterations at once with MaxConcurrency $maxConcurrency', async ({ field }) => {
    // Prepare: each call returns only once all five have arrived.
    const group = unique('all-together');
    const definition = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ...field,
          ItemSelector: { job: 'barrier', group, size: 5 },
          ItemProcessor: {
            StartAt: 'Meet',
            States: { Meet: call({ 'job.$': '$.job', 'group.$': '$.group', 'size.$': '$.size' }) },
          },
          End: true,
        },
      },
    };

    // Act
    const { execution } = await sfn.run(definition, [1, 2, 3, 4, 5]);

    // Assess
    expect(parsed(execution.output)).toEqual(Array.from({ length: 5 }, () => ({ allTogether: true })));
  });

  it('handles an empty array: length 0, no iterations, output []', async () => {
    // Prepare
    const definition = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemsPath: '$.meters',
          ItemProcessor: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } },
          End: true,
        },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition, { meters: [] });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.output).toBe('[]');
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'MapStateEntered',
      'MapStateStarted',
      'MapStateSucceeded',
      'MapStateExited',
      'ExecutionSucceeded',
    ]);
    expect(only(history, 'MapStateStarted').mapStateStartedEventDetails).toEqual({ length: 0 });
  });

  const failingIteration = (handling: object = {}, states: object = {}) => ({
    StartAt: 'Each',
    States: {
      Each: {
        Type: 'Map',
        MaxConcurrency: 1,
        ItemProcessor: {
          StartAt: 'Route',
          States: {
            Route: {
              Type: 'Choice',
              Choices: [{ Variable: '$', StringEquals: 'bad', Next: 'Broken' }],
              Default: 'Fine',
            },
            Fine: { Type: 'Pass', End: true },
            Broken: call({ job: 'fail', 'value.$': '$' }),
          },
        },
        ...handling,
        End: true,
      },
      ...states,
    },
  });

  it('fails with the failing iteration error after MapIterationFailed and MapStateFailed', async () => {
    // Act
    const { execution, history } = await sfn.run(failingIteration(), ['ok', 'bad', 'never']);

    // Assess
    expect(execution).toMatchObject({
      status: 'FAILED',
      error: 'MeterOffline',
      cause: 'meter bad did not answer',
    });
    const failed = only(history, 'MapIterationFailed');
    expect(failed.mapIterationFailedEventDetails).toEqual({ name: 'Each', index: 1 });
    expect(history.find((event) => event.id === failed.previousEventId)?.type).toBe('TaskFailed');
    const types = eventTypes(history);
    expect(types.slice(-2)).toEqual(['MapStateFailed', 'ExecutionFailed']);
    expect(types).not.toContain('MapStateExited');
    // With MaxConcurrency 1 the third item never starts.
    expect(all(history, 'MapIterationStarted').map((e) => e.mapIterationStartedEventDetails?.index)).toEqual([
      0, 1,
    ]);
    expect(only(history, 'ExecutionFailed').executionFailedEventDetails).toEqual({
      error: 'MeterOffline',
      cause: 'meter bad did not answer',
    });
  });

  // BUG: A Parallel or Map fails with States.Runtime when a branch fails while another still runs
  it('fails with the failing iteration error while other iterations are still running', async () => {
    // Prepare
    const definition = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemProcessor: {
            StartAt: 'Route',
            States: {
              Route: {
                Type: 'Choice',
                Choices: [{ Variable: '$', StringEquals: 'bad', Next: 'Broken' }],
                Default: 'Hang',
              },
              Hang: call({ job: 'hang' }),
              Broken: call({ job: 'fail', 'value.$': '$' }),
            },
          },
          End: true,
        },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition, ['slow-1', 'bad', 'slow-2']);

    // Assess
    expect(execution).toMatchObject({
      status: 'FAILED',
      error: 'MeterOffline',
      cause: 'meter bad did not answer',
    });
    expect(only(history, 'MapIterationFailed').mapIterationFailedEventDetails).toEqual({
      name: 'Each',
      index: 1,
    });
    expect(eventTypes(history)).not.toContain('MapIterationSucceeded');
    expect(eventTypes(history).slice(-2)).toEqual(['MapStateFailed', 'ExecutionFailed']);
  });

  // BUG: Branches cancelled by a failing sibling leave no *StateAborted events
  it('aborts the iterations still running when one fails: TaskStateAborted and MapIterationAborted', async () => {
    // Prepare
    const definition = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemProcessor: {
            StartAt: 'Route',
            States: {
              Route: {
                Type: 'Choice',
                Choices: [{ Variable: '$', StringEquals: 'bad', Next: 'Broken' }],
                Default: 'Hang',
              },
              Hang: call({ job: 'hang' }),
              Broken: call({ job: 'fail', 'value.$': '$' }),
            },
          },
          End: true,
        },
      },
    };

    // Act
    const { history } = await sfn.run(definition, ['slow-1', 'bad', 'slow-2']);

    // Assess
    const aborted = all(history, 'MapIterationAborted').map((e) => e.mapIterationAbortedEventDetails);
    expect(aborted).toEqual(
      expect.arrayContaining([
        { name: 'Each', index: 0 },
        { name: 'Each', index: 2 },
      ]),
    );
    expect(all(history, 'TaskStateAborted')).toHaveLength(2);
    expect(eventTypes(history).slice(-2)).toEqual(['MapStateFailed', 'ExecutionFailed']);
  });

  it('is caught by a Catch on the Map state: MapStateFailed, then MapStateExited and the catcher', async () => {
    // Prepare
    const definition = failingIteration(
      { Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$', Next: 'Report' }] },
      { Report: { Type: 'Pass', End: true } },
    );

    // Act
    const { execution, history } = await sfn.run(definition, ['bad']);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(parsed(execution.output)).toEqual({ Error: 'MeterOffline', Cause: 'meter bad did not answer' });
    expect(eventTypes(history).slice(-5)).toEqual([
      'MapStateFailed',
      'MapStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('fails with States.Runtime when ItemsPath does not select an array', async () => {
    // Prepare
    const definition = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemsPath: '$.meters',
          ItemProcessor: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } },
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Never' }],
          End: true,
        },
        Never: { Type: 'Pass', End: true },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition, { meters: 'M-1' });

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.Runtime');
    expect(eventTypes(history)).not.toContain('MapStateStarted');
  });
});

// ─── Map (distributed, inline items) ─────────────────────────────────────────────────────────────────

describe('Map distributed', () => {
  function distributed(tolerance: object = {}, handling: object = {}, states: object = {}): object {
    return {
      StartAt: 'Fan out',
      States: {
        'Fan out': {
          Type: 'Map',
          Label: 'Meters',
          ItemProcessor: {
            ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
            StartAt: 'Route',
            States: {
              Route: {
                Type: 'Choice',
                Choices: [{ Variable: '$', StringMatches: 'bad*', Next: 'Broken' }],
                Default: 'Fine',
              },
              Fine: { Type: 'Pass', End: true },
              Broken: call({ job: 'fail', 'value.$': '$' }),
            },
          },
          ...tolerance,
          ...handling,
          End: true,
        },
        ...states,
      },
    };
  }

  it('writes MapRunStarted and MapRunSucceeded, and none of the child executions events', async () => {
    // Act
    const stateMachineArn = await sfn.createMachine(distributed());
    const { executionArn } = await sfn.client.send(
      new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(['M-1', 'M-2']) }),
    );
    const execution = await sfn.waitForEnd(executionArn!);
    const history = await sfn.historyOf(executionArn!);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(parsed(execution.output)).toEqual(['M-1', 'M-2']);
    expect(eventTypes(history)).toEqual([
      'ExecutionStarted',
      'MapStateEntered',
      'MapStateStarted',
      'MapRunStarted',
      'MapRunSucceeded',
      'MapStateSucceeded',
      'MapStateExited',
      'ExecutionSucceeded',
    ]);
    expect(only(history, 'MapStateStarted').mapStateStartedEventDetails).toEqual({ length: 2 });
    const machineName = stateMachineArn.split(':').at(-1);
    expect(only(history, 'MapRunStarted').mapRunStartedEventDetails?.mapRunArn).toMatch(
      new RegExp(`^arn:aws:states:us-east-1:000000000000:mapRun:${machineName}/Meters:[\\w-]+$`),
    );
  });

  it.each([
    {
      tolerance: 'neither threshold (one failure is too many)',
      field: {},
      items: ['M-1', 'bad-1'],
      ok: false,
    },
    {
      tolerance: 'ToleratedFailureCount 1',
      field: { ToleratedFailureCount: 1 },
      items: ['M-1', 'bad-1', 'M-2'],
      ok: true,
    },
    {
      tolerance: 'ToleratedFailureCount 1',
      field: { ToleratedFailureCount: 1 },
      items: ['bad-1', 'bad-2', 'M-1'],
      ok: false,
    },
    {
      tolerance: 'ToleratedFailureCount 0',
      field: { ToleratedFailureCount: 0 },
      items: ['M-1', 'bad-1'],
      ok: false,
    },
    {
      tolerance: 'ToleratedFailurePercentage 50',
      field: { ToleratedFailurePercentage: 50 },
      items: ['bad-1', 'M-1', 'M-2'],
      ok: true,
    },
    {
      tolerance: 'ToleratedFailurePercentage 50',
      field: { ToleratedFailurePercentage: 50 },
      items: ['bad-1', 'bad-2', 'M-1'],
      ok: false,
    },
    {
      tolerance: 'ToleratedFailurePercentage 100',
      field: { ToleratedFailurePercentage: 100 },
      items: ['bad-1', 'bad-2'],
      ok: true,
    },
  ])('with $tolerance and items $items, the Map Run succeeds: $ok', async ({ field, items, ok }) => {
    // Act
    const { execution, history } = await sfn.run(distributed(field), items);

    // Assess
    if (ok) {
      expect(execution.status).toBe('SUCCEEDED');
      expect(eventTypes(history).slice(-4)).toEqual([
        'MapRunSucceeded',
        'MapStateSucceeded',
        'MapStateExited',
        'ExecutionSucceeded',
      ]);
    } else {
      expect(execution).toMatchObject({ status: 'FAILED', error: 'States.ExceedToleratedFailureThreshold' });
      expect(eventTypes(history).slice(-3)).toEqual(['MapRunFailed', 'MapStateFailed', 'ExecutionFailed']);
      expect(only(history, 'MapRunFailed').mapRunFailedEventDetails).toEqual({
        error: 'States.ExceedToleratedFailureThreshold',
        cause: 'The specified tolerated failure threshold was exceeded',
      });
    }
  });

  it('lets a Catch on the Map state catch States.ExceedToleratedFailureThreshold', async () => {
    // Prepare
    const definition = distributed(
      {},
      {
        Catch: [{ ErrorEquals: ['States.ExceedToleratedFailureThreshold'], ResultPath: '$', Next: 'Report' }],
      },
      { Report: { Type: 'Pass', End: true } },
    );

    // Act
    const { execution, history } = await sfn.run(definition, ['bad-1']);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(parsed(execution.output)).toEqual({
      Error: 'States.ExceedToleratedFailureThreshold',
      Cause: 'The specified tolerated failure threshold was exceeded',
    });
    expect(eventTypes(history).slice(-6)).toEqual([
      'MapRunFailed',
      'MapStateFailed',
      'MapStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
  });
});

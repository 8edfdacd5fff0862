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
 *
 * The links AWS records around iterations and branches come from its histories published with LocalStack's
 * tests (tests/aws/services/stepfunctions/v2/scenarios/test_base_scenarios.snapshot.json): with MaxConcurrency
 * 1, each MapIterationStarted chains where the previous iteration's MapIterationSucceeded does (on its last
 * state event); MapStateSucceeded and MapStateExited both chain on the last MapIterationSucceeded (on
 * MapStateStarted when there are no items, on MapRunSucceeded for a distributed Map); ParallelStateSucceeded
 * and ParallelStateExited both on the branches' last event; ParallelStateFailed and MapStateFailed on the
 * failing branch's last (state) event; a retried Parallel or Map records no Failed event, its next Started
 * event chaining where the Failed one would have; a caught one's StateExited chains on the Failed event.
 */
import {
  type HistoryEvent,
  RedriveExecutionCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectWellFormedHistory } from '../../testing/history-checks.ts';
import {
  type EmbeddedStepFunctions,
  embeddedStepFunctions,
  eventTypes,
} from '../../testing/step-functions.ts';
import type { Json } from '../definition/types.ts';
import { InProcessIntegrations } from '../integrations.ts';
import { StatesError } from '../language/states-error.ts';

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

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

/** Every event as `id ← previousEventId Type`, the way to compare links with a recorded AWS history. */
function links(history: readonly HistoryEvent[]): string[] {
  return history.map((event) => `${event.id} ← ${event.previousEventId} ${event.type}`);
}

/** A branch whose only state fails, as the recorded AWS histories' Parallel and Map machines have. */
const FAILING_BRANCH = {
  StartAt: 'HandleItemFail',
  States: {
    HandleItemFail: { Type: 'Fail', Error: 'HandleItemFailError', Cause: 'HandleItemFailCause' },
  },
};

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
    // No ParallelStateFailed between the attempts: AWS records none for a retried Parallel state.
    expect(types.filter((type) => type.startsWith('ParallelState'))).toEqual([
      'ParallelStateEntered',
      'ParallelStateStarted',
      'ParallelStateStarted',
      'ParallelStateSucceeded',
      'ParallelStateExited',
    ]);
    expect(all(history, 'PassStateEntered')).toHaveLength(2);
  });

  it('chains ParallelStateSucceeded on the branches last event, and ParallelStateExited on that same event', async () => {
    // Act
    const { history } = await sfn.run(twoBranches, { meter: 'M-1' });

    // Assess: as AWS's recorded Parallel histories (test_parallel_state_order: `13 ← 11 ParallelStateExited`
    // after the branches' last event, 11).
    const succeeded = only(history, 'ParallelStateSucceeded');
    const exited = only(history, 'ParallelStateExited');
    const lastBranchEvent = history[succeeded.id! - 2]!;
    expect(lastBranchEvent.type).toBe('TaskStateExited');
    expect(succeeded.previousEventId).toBe(lastBranchEvent.id);
    expect(exited.id).toBe(succeeded.id! + 1);
    expect(exited.previousEventId).toBe(lastBranchEvent.id);
    expect(only(history, 'ExecutionSucceeded').previousEventId).toBe(exited.id);
  });

  it('chains ParallelStateFailed on the last event of the failing branch', async () => {
    // Prepare
    const definition = {
      StartAt: 'ParallelState',
      States: { ParallelState: { Type: 'Parallel', Branches: [FAILING_BRANCH], End: true } },
    };

    // Act
    const { execution, history } = await sfn.run(definition);

    // Assess: AWS's recorded history (test_parallel_state_fail).
    expect(execution).toMatchObject({ status: 'FAILED', error: 'HandleItemFailError' });
    expect(links(history)).toEqual([
      '1 ← 0 ExecutionStarted',
      '2 ← 0 ParallelStateEntered',
      '3 ← 2 ParallelStateStarted',
      '4 ← 3 FailStateEntered',
      '5 ← 4 ParallelStateFailed',
      '6 ← 5 ExecutionFailed',
    ]);
  });

  it('chains ParallelStateExited on ParallelStateFailed when a Catch takes the failure', async () => {
    // Prepare
    const definition = {
      StartAt: 'ParallelState',
      States: {
        ParallelState: {
          Type: 'Parallel',
          Branches: [FAILING_BRANCH],
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'FinalCaught' }],
          End: true,
        },
        FinalCaught: { Type: 'Pass', End: true },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition);

    // Assess: AWS's recorded history (test_parallel_state_catch).
    expect(execution.status).toBe('SUCCEEDED');
    expect(links(history)).toEqual([
      '1 ← 0 ExecutionStarted',
      '2 ← 0 ParallelStateEntered',
      '3 ← 2 ParallelStateStarted',
      '4 ← 3 FailStateEntered',
      '5 ← 4 ParallelStateFailed',
      '6 ← 5 ParallelStateExited',
      '7 ← 6 PassStateEntered',
      '8 ← 7 PassStateExited',
      '9 ← 8 ExecutionSucceeded',
    ]);
  });

  it('records no ParallelStateFailed between retries: the next ParallelStateStarted follows the failed branch', async () => {
    // Prepare
    const definition = {
      StartAt: 'ParallelState',
      States: {
        ParallelState: {
          Type: 'Parallel',
          Branches: [FAILING_BRANCH],
          Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 1, JitterStrategy: 'FULL' }],
          End: true,
        },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition);

    // Assess: as AWS's recorded history (test_parallel_state_retry, there with two retries).
    expect(execution).toMatchObject({ status: 'FAILED', error: 'HandleItemFailError' });
    expect(links(history)).toEqual([
      '1 ← 0 ExecutionStarted',
      '2 ← 0 ParallelStateEntered',
      '3 ← 2 ParallelStateStarted',
      '4 ← 3 FailStateEntered',
      '5 ← 4 ParallelStateStarted',
      '6 ← 5 FailStateEntered',
      '7 ← 6 ParallelStateFailed',
      '8 ← 7 ExecutionFailed',
    ]);
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
    // Each abort (the failing task's own too, last) and ParallelStateFailed chain on the TaskFailed.
    const failure = only(history, 'TaskFailed').id!;
    expect(
      history
        .filter((event) => /StateAborted$|^ParallelStateFailed$/.test(event.type!))
        .map((event) => `${event.type} ← ${event.previousEventId}`),
    ).toEqual([
      `WaitStateAborted ← ${failure}`,
      `TaskStateAborted ← ${failure}`,
      `TaskStateAborted ← ${failure}`,
      `ParallelStateFailed ← ${failure}`,
    ]);
    expectWellFormedHistory(history);
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
    // Iterations of Pass states run one after the other, as AWS records them (test_map_state_item_selector):
    // each MapIterationStarted chains on the previous iteration's PassStateExited.
    expect(iterationStarts.map((event) => history[event.previousEventId! - 1]!.type)).toEqual([
      'MapStateStarted',
      'PassStateExited',
      'PassStateExited',
    ]);
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
      const index = event.mapIterationSucceededEventDetails!.index!;
      expect(chainBack(history, event, iterationStarts[index]!.previousEventId!)).toEqual([
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
    // As AWS records it (test_map_state_items_input_array[empty]): both on MapStateStarted.
    expect(links(history).slice(2, 5)).toEqual([
      '3 ← 2 MapStateStarted',
      '4 ← 3 MapStateSucceeded',
      '5 ← 3 MapStateExited',
    ]);
  });

  it('chains each iteration on the last state event of the one before, with MaxConcurrency 1', async () => {
    // Prepare: the machine of AWS's recorded test_map_state_item_selector, with three items.
    const definition = {
      StartAt: 'StartState',
      States: {
        StartState: { Type: 'Pass', Result: { shipped: ['R31', 'S39', 'R40'] }, Next: 'MapState' },
        MapState: {
          Type: 'Map',
          ItemsPath: '$.shipped',
          MaxConcurrency: 1,
          ItemProcessor: {
            ProcessorConfig: { Mode: 'INLINE' },
            StartAt: 'HandleItem',
            States: { HandleItem: { Type: 'Pass', End: true } },
          },
          ResultPath: '$.shipped_output',
          Next: 'Final',
        },
        Final: { Type: 'Pass', End: true },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition);

    // Assess: AWS's links — MapIterationStarted n chains where MapIterationSucceeded n−1 does, and both
    // MapStateSucceeded and MapStateExited chain on the last MapIterationSucceeded.
    expect(execution.status).toBe('SUCCEEDED');
    expect(links(history)).toEqual([
      '1 ← 0 ExecutionStarted',
      '2 ← 0 PassStateEntered',
      '3 ← 2 PassStateExited',
      '4 ← 3 MapStateEntered',
      '5 ← 4 MapStateStarted',
      '6 ← 5 MapIterationStarted',
      '7 ← 6 PassStateEntered',
      '8 ← 7 PassStateExited',
      '9 ← 8 MapIterationSucceeded',
      '10 ← 8 MapIterationStarted',
      '11 ← 10 PassStateEntered',
      '12 ← 11 PassStateExited',
      '13 ← 12 MapIterationSucceeded',
      '14 ← 12 MapIterationStarted',
      '15 ← 14 PassStateEntered',
      '16 ← 15 PassStateExited',
      '17 ← 16 MapIterationSucceeded',
      '18 ← 17 MapStateSucceeded',
      '19 ← 17 MapStateExited',
      '20 ← 19 PassStateEntered',
      '21 ← 20 PassStateExited',
      '22 ← 21 ExecutionSucceeded',
    ]);
  });

  it('chains MapStateSucceeded and MapStateExited on the last iteration event when iterations run at once', async () => {
    // Act: three iterations whose tasks answer only once all three have been called.
    const group = unique('together');
    const { history } = await sfn.run(
      {
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map',
            ItemProcessor: {
              StartAt: 'Wait for all',
              States: { 'Wait for all': call({ job: 'barrier', group, size: 3 }) },
            },
            End: true,
          },
        },
      },
      [1, 2, 3],
    );

    // Assess: iterations that wait on tasks all start from MapStateStarted, before any enters its task
    // (test_service_lambda_map_timeout), and the Map's own closing events follow the last
    // MapIterationSucceeded written.
    const started = only(history, 'MapStateStarted');
    const iterationStarts = all(history, 'MapIterationStarted');
    for (const event of iterationStarts) expect(event.previousEventId).toBe(started.id);
    expect(iterationStarts.map((event) => event.id)).toEqual([
      started.id! + 1,
      started.id! + 2,
      started.id! + 3,
    ]);
    expect(
      all(history, 'TaskSucceeded').map((event) => parsed(event.taskSucceededEventDetails?.output)),
    ).toEqual(Array(3).fill({ Payload: { allTogether: true } }));
    const lastIteration = Math.max(...all(history, 'MapIterationSucceeded').map((event) => event.id!));
    expect(only(history, 'MapStateSucceeded').previousEventId).toBe(lastIteration);
    expect(only(history, 'MapStateExited').previousEventId).toBe(lastIteration);
  });

  it('runs iterations of Pass states one after another, linked as AWS records them, without MaxConcurrency', async () => {
    // Prepare: the shape of AWS's recorded test_map_state_item_selector (five items, one Pass each).
    const definition = {
      StartAt: 'MapState',
      States: {
        MapState: {
          Type: 'Map',
          ItemProcessor: { StartAt: 'HandleItem', States: { HandleItem: { Type: 'Pass', End: true } } },
          End: true,
        },
      },
    };

    // Act
    const { history } = await sfn.run(definition, ['R31', 'S39', 'R31', 'R40', 'R40']);

    // Assess
    const iteration = (first: number, previous: number) => [
      `${first} ← ${previous} MapIterationStarted`,
      `${first + 1} ← ${first} PassStateEntered`,
      `${first + 2} ← ${first + 1} PassStateExited`,
      `${first + 3} ← ${first + 2} MapIterationSucceeded`,
    ];
    expect(links(history)).toEqual([
      '1 ← 0 ExecutionStarted',
      '2 ← 0 MapStateEntered',
      '3 ← 2 MapStateStarted',
      ...iteration(4, 3),
      ...iteration(8, 6),
      ...iteration(12, 10),
      ...iteration(16, 14),
      ...iteration(20, 18),
      '24 ← 23 MapStateSucceeded',
      '25 ← 23 MapStateExited',
      '26 ← 25 ExecutionSucceeded',
    ]);
  });

  it('links iterations waiting on tasks as AWS records them: every iteration started, then each task entered', async () => {
    // Prepare: the machine of AWS's recorded test_service_lambda_map_timeout: four iterations whose
    // Lambda task never answers within its one-second timeout.
    const definition = {
      StartAt: 'MapWait',
      States: {
        MapWait: {
          Type: 'Map',
          ItemsPath: '$.Inputs',
          ItemProcessor: {
            StartAt: 'Hang',
            States: { Hang: call({ job: 'hang' }, { TimeoutSeconds: 1 }) },
          },
          End: true,
        },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition, { Inputs: [1, 2, 3, 4] });

    // Assess: the links AWS recorded: every iteration started from MapStateStarted before any entered its
    // task, then each task entered from its own iteration's start. (Which task times out first, and so
    // the ids of what follows, is a race on AWS as here.)
    expect(execution.error).toBe('States.Timeout');
    expect(links(history).slice(0, 8)).toEqual([
      '1 ← 0 ExecutionStarted',
      '2 ← 0 MapStateEntered',
      '3 ← 2 MapStateStarted',
      '4 ← 3 MapIterationStarted',
      '5 ← 3 MapIterationStarted',
      '6 ← 3 MapIterationStarted',
      '7 ← 3 MapIterationStarted',
      '8 ← 4 TaskStateEntered',
    ]);
    expect(all(history, 'TaskStateEntered').map((event) => event.previousEventId)).toEqual([4, 5, 6, 7]);
    const timedOut = all(history, 'TaskTimedOut')[0]!;
    expect(only(history, 'MapIterationFailed').previousEventId).toBe(timedOut.id);
    expect(only(history, 'MapStateFailed').previousEventId).toBe(timedOut.id);
    expect(eventTypes(history).slice(-2)).toEqual(['MapStateFailed', 'ExecutionFailed']);
  });

  it('chains MapIterationFailed and MapStateFailed on the failing iteration last state event', async () => {
    // Prepare: the shape of AWS's recorded test_map_state_break_condition.
    const definition = {
      StartAt: 'MapState',
      States: {
        MapState: {
          Type: 'Map',
          MaxConcurrency: 1,
          ItemProcessor: {
            StartAt: 'Equals3',
            States: {
              Equals3: {
                Type: 'Choice',
                Choices: [{ Variable: '$', NumericEquals: 3, Next: 'Break' }],
                Default: 'Pass',
              },
              Break: { Type: 'Fail', Error: 'SomeFailure', Cause: 'It was 3.' },
              Pass: { Type: 'Pass', End: true },
            },
          },
          End: true,
        },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition, [1, 3, 4]);

    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'SomeFailure', cause: 'It was 3.' });
    expect(links(history)).toEqual([
      '1 ← 0 ExecutionStarted',
      '2 ← 0 MapStateEntered',
      '3 ← 2 MapStateStarted',
      '4 ← 3 MapIterationStarted',
      '5 ← 4 ChoiceStateEntered',
      '6 ← 5 ChoiceStateExited',
      '7 ← 6 PassStateEntered',
      '8 ← 7 PassStateExited',
      '9 ← 8 MapIterationSucceeded',
      '10 ← 8 MapIterationStarted',
      '11 ← 10 ChoiceStateEntered',
      '12 ← 11 ChoiceStateExited',
      '13 ← 12 FailStateEntered',
      '14 ← 13 MapIterationFailed',
      '15 ← 13 MapStateFailed',
      '16 ← 15 ExecutionFailed',
    ]);
  });

  it('chains MapStateExited on MapStateFailed when a Catch takes the failure', async () => {
    // Prepare: AWS's recorded test_map_state_catch.
    const definition = {
      StartAt: 'MapState',
      States: {
        MapState: {
          Type: 'Map',
          ItemProcessor: FAILING_BRANCH,
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'FinalCaught' }],
          End: true,
        },
        FinalCaught: { Type: 'Pass', End: true },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition, [1]);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(parsed(execution.output)).toEqual({ Error: 'HandleItemFailError', Cause: 'HandleItemFailCause' });
    expect(links(history)).toEqual([
      '1 ← 0 ExecutionStarted',
      '2 ← 0 MapStateEntered',
      '3 ← 2 MapStateStarted',
      '4 ← 3 MapIterationStarted',
      '5 ← 4 FailStateEntered',
      '6 ← 5 MapIterationFailed',
      '7 ← 5 MapStateFailed',
      '8 ← 7 MapStateExited',
      '9 ← 8 PassStateEntered',
      '10 ← 9 PassStateExited',
      '11 ← 10 ExecutionSucceeded',
    ]);
  });

  it('records no MapStateFailed between retries: the next MapStateStarted follows the failed iteration', async () => {
    // Prepare: AWS's recorded test_map_state_retry, with one retry instead of two.
    const definition = {
      StartAt: 'MapState',
      States: {
        MapState: {
          Type: 'Map',
          ItemProcessor: FAILING_BRANCH,
          Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 1, JitterStrategy: 'FULL' }],
          End: true,
        },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition, [1]);

    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'HandleItemFailError' });
    expect(links(history)).toEqual([
      '1 ← 0 ExecutionStarted',
      '2 ← 0 MapStateEntered',
      '3 ← 2 MapStateStarted',
      '4 ← 3 MapIterationStarted',
      '5 ← 4 FailStateEntered',
      '6 ← 5 MapIterationFailed',
      '7 ← 5 MapStateStarted',
      '8 ← 7 MapIterationStarted',
      '9 ← 8 FailStateEntered',
      '10 ← 9 MapIterationFailed',
      '11 ← 9 MapStateFailed',
      '12 ← 11 ExecutionFailed',
    ]);
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

    // Assess: as AWS records it (LocalStack's recording of test_service_lambda_map_timeout): everything after
    // the failing task's TaskFailed chains on it: the iteration's MapIterationFailed, each other iteration's
    // TaskStateAborted and MapIterationAborted, a TaskStateAborted for the failing task too, and MapStateFailed.
    const failure = only(history, 'TaskFailed').id!;
    const after = links(history).slice(failure);
    const end = history.length;
    expect(after).toEqual([
      `${failure + 1} ← ${failure} MapIterationFailed`,
      `${failure + 2} ← ${failure} TaskStateAborted`,
      `${failure + 3} ← ${failure} MapIterationAborted`,
      `${failure + 4} ← ${failure} TaskStateAborted`,
      `${failure + 5} ← ${failure} MapIterationAborted`,
      `${failure + 6} ← ${failure} TaskStateAborted`,
      `${failure + 7} ← ${failure} MapStateFailed`,
      `${end} ← ${end - 1} ExecutionFailed`,
    ]);
    const aborted = all(history, 'MapIterationAborted').map((e) => e.mapIterationAbortedEventDetails);
    expect(aborted).toEqual([
      { name: 'Each', index: 0 },
      { name: 'Each', index: 2 },
    ]);
    expectWellFormedHistory(history);
  });

  it('aborts the failing task of a one-branch Parallel too, as AWS records it', async () => {
    // Prepare: LocalStack's recording of test_sqs_failure_in_wait_for_task_tok_no_error_field (a Parallel whose
    // one branch's task fails): TaskFailed, then TaskStateAborted and ParallelStateFailed, both chained on it.
    const definition = {
      StartAt: 'One',
      States: {
        One: {
          Type: 'Parallel',
          Branches: [{ StartAt: 'Broken', States: { Broken: call({ job: 'fail', value: 'M-9' }) } }],
          End: true,
        },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition);

    // Assess
    expect(execution.status).toBe('FAILED');
    const failure = only(history, 'TaskFailed').id!;
    expect(links(history).slice(failure)).toEqual([
      `${failure + 1} ← ${failure} TaskStateAborted`,
      `${failure + 2} ← ${failure} ParallelStateFailed`,
      `${failure + 3} ← ${failure + 2} ExecutionFailed`,
    ]);
    expectWellFormedHistory(history);
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

  it('fails with AWS cause and a MapStateFailed when ItemsPath selects a number', async () => {
    // Prepare
    const definition = {
      StartAt: 'MapIterateState',
      States: {
        MapIterateState: {
          Type: 'Map',
          ItemsPath: '$.items',
          ItemProcessor: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } },
          End: true,
        },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition, { items: 1 });

    // Assess
    const cause =
      "An error occurred while executing the state 'MapIterateState' (entered at the event id #2). " +
      'Map state input must be an array but was: 1';
    expect(execution).toMatchObject({ status: 'FAILED', error: 'States.Runtime', cause });
    expect(links(history)).toEqual([
      '1 ← 0 ExecutionStarted',
      '2 ← 0 MapStateEntered',
      '3 ← 2 MapStateFailed',
      '4 ← 3 ExecutionFailed',
    ]);
    expect(only(history, 'ExecutionFailed').executionFailedEventDetails).toEqual({
      error: 'States.Runtime',
      cause,
    });
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

// ─── Map settings read through paths ─────────────────────────────────────────────────────────────────

describe('Map settings read through paths', () => {
  const prefix = "An error occurred while executing the state 'MapState' (entered at the event id #2). ";
  const pass = { StartAt: 'HandleItem', States: { HandleItem: { Type: 'Pass', End: true } } };

  it.each([
    { value: 'NoNumber', shown: 'NoNumber' },
    { value: {}, shown: '{}' },
  ])('fails right after MapStateEntered when MaxConcurrencyPath gives $shown', async ({ value, shown }) => {
    // Prepare: AWS's recorded test_max_concurrency_path.
    const definition = {
      StartAt: 'MapState',
      States: {
        MapState: {
          Type: 'Map',
          ItemsPath: '$.Values',
          MaxConcurrencyPath: '$.MaxConcurrencyValue',
          ItemProcessor: pass,
          End: true,
        },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition, {
      MaxConcurrencyValue: value,
      Values: ['HelloWorld'],
    });

    // Assess
    const cause = `${prefix}The MaxConcurrencyPath field refers to value "${shown}" which is not a valid integer: $.MaxConcurrencyValue`;
    expect(execution).toMatchObject({ status: 'FAILED', error: 'States.Runtime', cause });
    expect(links(history)).toEqual([
      '1 ← 0 ExecutionStarted',
      '2 ← 0 MapStateEntered',
      '3 ← 2 ExecutionFailed',
    ]);
  });

  it('takes a variable holding the string "1" as MaxConcurrency', async () => {
    // Prepare: AWS's recorded test_reference_in_map_state[MAP_STATE_REFERENCE_IN_MAX_CONCURRENCY_PATH].
    const definition = {
      StartAt: 'Start',
      States: {
        Start: {
          Type: 'Pass',
          Assign: { maxConcurrency: '1' },
          Result: { Values: [1, 2, 3] },
          Next: 'MapState',
        },
        MapState: {
          Type: 'Map',
          ItemsPath: '$.Values',
          MaxConcurrencyPath: '$maxConcurrency',
          ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, ...pass },
          End: true,
        },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition);

    // Assess: one iteration at a time, each chained on the one before.
    expect(execution.status).toBe('SUCCEEDED');
    expect(parsed(execution.output)).toEqual([1, 2, 3]);
    expect(links(history)).toEqual([
      '1 ← 0 ExecutionStarted',
      '2 ← 0 PassStateEntered',
      '3 ← 2 PassStateExited',
      '4 ← 3 MapStateEntered',
      '5 ← 4 MapStateStarted',
      '6 ← 5 MapIterationStarted',
      '7 ← 6 PassStateEntered',
      '8 ← 7 PassStateExited',
      '9 ← 8 MapIterationSucceeded',
      '10 ← 8 MapIterationStarted',
      '11 ← 10 PassStateEntered',
      '12 ← 11 PassStateExited',
      '13 ← 12 MapIterationSucceeded',
      '14 ← 12 MapIterationStarted',
      '15 ← 14 PassStateEntered',
      '16 ← 15 PassStateExited',
      '17 ← 16 MapIterationSucceeded',
      '18 ← 17 MapStateSucceeded',
      '19 ← 17 MapStateExited',
      '20 ← 19 ExecutionSucceeded',
    ]);
  });

  // AWS's recorded test_map_state_tolerated_failure_count_path and ..._percentage_path: the Map starts,
  // then the execution fails before the Map Run does, with no MapStateFailed.
  it.each([
    {
      field: 'ToleratedFailureCountPath',
      value: -1,
      detail: 'ToleratedFailureCount cannot be negative.',
    },
    {
      field: 'ToleratedFailureCountPath',
      value: 'NoNumber',
      detail:
        'The ToleratedFailureCountPath field refers to value "NoNumber" which is not a valid integer: $.Tolerated',
    },
    {
      field: 'ToleratedFailureCountPath',
      value: {},
      detail:
        'The ToleratedFailureCountPath field refers to value "{}" which is not a valid integer: $.Tolerated',
    },
    {
      field: 'ToleratedFailurePercentagePath',
      value: -1.1,
      detail: 'ToleratedFailurePercentage must be between 0 and 100.',
    },
    {
      field: 'ToleratedFailurePercentagePath',
      value: 100.1,
      detail: 'ToleratedFailurePercentage must be between 0 and 100.',
    },
    {
      field: 'ToleratedFailurePercentagePath',
      value: 'NoNumber',
      detail:
        'The ToleratedFailurePercentagePath field refers to value "NoNumber" which is not a valid float: $.Tolerated',
    },
  ])('fails after MapStateStarted when $field gives $value', async ({ field, value, detail }) => {
    // Prepare
    const definition = {
      StartAt: 'MapState',
      States: {
        MapState: {
          Type: 'Map',
          ItemsPath: '$.Items',
          MaxConcurrency: 1,
          ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, ...pass },
          [field]: '$.Tolerated',
          End: true,
        },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition, { Items: [0], Tolerated: value });

    // Assess
    expect(execution).toMatchObject({
      status: 'FAILED',
      error: 'States.Runtime',
      cause: `${prefix}${detail}`,
    });
    expect(links(history)).toEqual([
      '1 ← 0 ExecutionStarted',
      '2 ← 0 MapStateEntered',
      '3 ← 2 MapStateStarted',
      '4 ← 3 ExecutionFailed',
    ]);
  });

  it.each([
    { field: 'ToleratedFailureCountPath', value: 0 },
    { field: 'ToleratedFailureCountPath', value: 1 },
    { field: 'ToleratedFailurePercentagePath', value: 1.1 },
    { field: 'ToleratedFailurePercentagePath', value: 100 },
  ])('runs the Map when $field gives $value', async ({ field, value }) => {
    // Prepare
    const definition = {
      StartAt: 'MapState',
      States: {
        MapState: {
          Type: 'Map',
          ItemsPath: '$.Items',
          ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, ...pass },
          [field]: '$.Tolerated',
          End: true,
        },
      },
    };

    // Act
    const { execution } = await sfn.run(definition, { Items: [0], Tolerated: value });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.output).toBe('[0]');
  });
});

// ─── Redrive ─────────────────────────────────────────────────────────────────────────────────────────

// RedriveExecution's API reference: "For workflows that include an Inline Map or Parallel state,
// RedriveExecution API action reschedules and redrives only the iterations and branches that failed or
// aborted."
describe('RedriveExecution of a failed Parallel or Map', () => {
  const flaky = (id: string, failures: number) => ({ job: 'flaky', id, failures });

  async function redriven(executionArn: string) {
    await sfn.client.send(new RedriveExecutionCommand({ executionArn }));
    await sfn.aws.stepFunctions.finished(executionArn);
    return { execution: await sfn.waitForEnd(executionArn), history: await sfn.historyOf(executionArn) };
  }

  it('runs again only the Parallel branch that failed', async () => {
    // Prepare: the first branch succeeds; the second fails on its first call only.
    const [good, bad] = [unique('good'), unique('bad')];
    const definition = {
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Good', States: { Good: call(flaky(good, 0)) } },
            { StartAt: 'Bad', States: { Bad: call(flaky(bad, 1)) } },
          ],
          End: true,
        },
      },
    };
    const first = await sfn.run(definition);
    expect(first.execution.status).toBe('FAILED');

    // Act
    const { execution, history } = await redriven(first.executionArn);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(parsed(execution.output)).toEqual([{ attempt: 1 }, { attempt: 2 }]);
    expect(attempts.get(good)).toBe(1);
    const afterRedrive = eventTypes(history).slice(eventTypes(history).indexOf('ExecutionRedriven'));
    expect(afterRedrive.filter((type) => type === 'TaskScheduled')).toHaveLength(1);
  });

  it('runs again only the Map iterations that failed, with the others output as before', async () => {
    // Prepare
    const ids = [unique('first'), unique('second'), unique('third')];
    const definition = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemSelector: { 'job.$': '$$.Map.Item.Value' },
          ItemProcessor: {
            StartAt: 'Call',
            States: {
              Call: call({ job: 'flaky', 'id.$': '$.job.id', 'failures.$': '$.job.failures' }),
            },
          },
          End: true,
        },
      },
    };
    const first = await sfn.run(definition, [
      { id: ids[0], failures: 0 },
      { id: ids[1], failures: 1 },
      { id: ids[2], failures: 0 },
    ]);
    expect(first.execution.status).toBe('FAILED');
    const succeededBefore = all(first.history, 'MapIterationSucceeded').map(
      (event) => event.mapIterationSucceededEventDetails!.index!,
    );
    expect(succeededBefore).toContain(0);

    // Act
    const { execution, history } = await redriven(first.executionArn);

    // Assess: the item that had succeeded was not called again; the one that failed was. (The third was
    // aborted by the failure, its call made or not: it runs again too.)
    expect(execution.status).toBe('SUCCEEDED');
    const output = parsed(execution.output) as Json[];
    expect(output.slice(0, 2)).toEqual([{ attempt: 1 }, { attempt: 2 }]);
    expect(output[2]).toEqual({ attempt: attempts.get(ids[2]!) });
    expect(ids.slice(0, 2).map((id) => attempts.get(id))).toEqual([1, 2]);
    const redrive = history.findIndex((event) => event.type === 'ExecutionRedriven');
    const restarted = all(history.slice(redrive), 'MapIterationStarted').map(
      (event) => event.mapIterationStartedEventDetails!.index!,
    );
    expect(restarted).not.toContain(0);
    expect(restarted).toContain(1);
  });

  it('keeps the iterations that had succeeded when the execution was stopped mid-Map', async () => {
    // Prepare: the first item answers at once, the second hangs until the execution is stopped.
    const id = unique('done');
    const definition = {
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
                Choices: [{ Variable: '$.hang', BooleanEquals: true, Next: 'Hang' }],
                Default: 'Call',
              },
              Call: call({ job: 'flaky', id, failures: 0 }),
              Hang: call({ job: 'hang' }),
            },
          },
          End: true,
        },
      },
    };
    const stateMachineArn = await sfn.createMachine(definition);
    const { executionArn } = await sfn.client.send(
      new StartExecutionCommand({
        stateMachineArn,
        input: JSON.stringify([{ hang: false }, { hang: true }]),
      }),
    );
    for (let tries = 0; tries < 300; tries += 1) {
      if (all(await sfn.historyOf(executionArn!), 'TaskStarted').length === 2) break;
      await sleep(10);
    }
    await sfn.client.send(new StopExecutionCommand({ executionArn }));
    expect((await sfn.waitForEnd(executionArn!)).status).toBe('ABORTED');

    // Act: redriven, the hanging item is told not to hang by nothing but its own input; it hangs again, so
    // stop it once more and look at what ran.
    await sfn.client.send(new RedriveExecutionCommand({ executionArn }));
    for (let tries = 0; tries < 300; tries += 1) {
      if (all(await sfn.historyOf(executionArn!), 'TaskStarted').length === 3) break;
      await sleep(10);
    }
    await sfn.client.send(new StopExecutionCommand({ executionArn }));
    await sfn.waitForEnd(executionArn!);

    // Assess: the item that had succeeded was not called again.
    expect(attempts.get(id)).toBe(1);
    const history = await sfn.historyOf(executionArn!);
    const redrive = history.findIndex((event) => event.type === 'ExecutionRedriven');
    expect(
      all(history.slice(redrive), 'MapIterationStarted').map((e) => e.mapIterationStartedEventDetails!.index),
    ).toEqual([1]);
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
      new RegExp(`^arn:aws:states:us-east-1:000000000000:mapRun:${machineName}/Meters:${UUID}$`),
    );
    // As AWS records it (test_map_state_tolerated_failure_values): MapRunSucceeded on MapRunStarted, and
    // both MapStateSucceeded and MapStateExited on MapRunSucceeded.
    expect(links(history)).toEqual([
      '1 ← 0 ExecutionStarted',
      '2 ← 0 MapStateEntered',
      '3 ← 2 MapStateStarted',
      '4 ← 3 MapRunStarted',
      '5 ← 4 MapRunSucceeded',
      '6 ← 5 MapStateSucceeded',
      '7 ← 5 MapStateExited',
      '8 ← 7 ExecutionSucceeded',
    ]);
  });

  it('runs a legacy Iterator with a DISTRIBUTED ProcessorConfig as a distributed Map', async () => {
    // Prepare: AWS's recorded test_map_state_legacy_config_distributed.
    const definition = {
      StartAt: 'MapState',
      States: {
        MapState: {
          Type: 'Map',
          MaxConcurrency: 1,
          Iterator: {
            StartAt: 'IteratorInner',
            States: { IteratorInner: { Type: 'Pass', End: true } },
            ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          },
          Next: 'Finish',
        },
        Finish: { Type: 'Succeed' },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition, ['Hello', 'World']);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(parsed(execution.output)).toEqual(['Hello', 'World']);
    expect(links(history)).toEqual([
      '1 ← 0 ExecutionStarted',
      '2 ← 0 MapStateEntered',
      '3 ← 2 MapStateStarted',
      '4 ← 3 MapRunStarted',
      '5 ← 4 MapRunSucceeded',
      '6 ← 5 MapStateSucceeded',
      '7 ← 5 MapStateExited',
      '8 ← 7 SucceedStateEntered',
      '9 ← 8 SucceedStateExited',
      '10 ← 9 ExecutionSucceeded',
    ]);
  });

  it.each([
    { ToleratedFailureCount: '{% $variable := 1 %}' },
    { ToleratedFailurePercentage: '{% $variable := 1 %}' },
  ])('runs an inline JSONata Map with %o', async (threshold) => {
    // Prepare: AWS's recorded test_base_map[TOLERATED_FAILURE_COUNT / _PERCENTAGE].
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'Start',
      States: {
        Start: {
          Type: 'Map',
          Items: [1],
          MaxConcurrency: 1,
          ...threshold,
          ItemProcessor: { StartAt: 'Process', States: { Process: { Type: 'Pass', End: true } } },
          End: true,
        },
      },
    };

    // Act
    const { execution, history } = await sfn.run(definition);

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.output).toBe('[1]');
    expect(links(history)).toEqual([
      '1 ← 0 ExecutionStarted',
      '2 ← 0 MapStateEntered',
      '3 ← 2 MapStateStarted',
      '4 ← 3 MapIterationStarted',
      '5 ← 4 PassStateEntered',
      '6 ← 5 PassStateExited',
      '7 ← 6 MapIterationSucceeded',
      '8 ← 7 MapStateSucceeded',
      '9 ← 7 MapStateExited',
      '10 ← 9 ExecutionSucceeded',
    ]);
  });

  it('names a Map Run without a Label as AWS does: mapRun:<machine>/<uuid>:<uuid>', async () => {
    // Prepare
    const { Label: _label, ...unlabelled } = (distributed() as { States: Record<string, object> }).States[
      'Fan out'
    ] as Record<string, unknown>;
    const definition = { StartAt: 'Fan out', States: { 'Fan out': unlabelled } };

    // Act
    const stateMachineArn = await sfn.createMachine(definition);
    const { executionArn } = await sfn.client.send(
      new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(['M-1']) }),
    );
    await sfn.waitForEnd(executionArn!);
    const history = await sfn.historyOf(executionArn!);

    // Assess
    const machineName = stateMachineArn.split(':').at(-1);
    expect(only(history, 'MapRunStarted').mapRunStartedEventDetails?.mapRunArn).toMatch(
      new RegExp(`^arn:aws:states:us-east-1:000000000000:mapRun:${machineName}/${UUID}:${UUID}$`),
    );
  });

  it('runs a distributed Map inside a distributed Map, neither with MaxConcurrency', async () => {
    // Prepare: AWS's recorded test_map_state_nested_config_distributed_no_max_max_concurrency, without
    // its MaxConcurrency settings.
    const inner = {
      Type: 'Map',
      ItemsPath: '$.innerJobs',
      ItemSelector: { 'job.$': '$$.Map.Item.Value' },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: 'ProcessJob',
        States: { ProcessJob: call({ job: 'echo', 'value.$': '$.job' }) },
      },
      End: true,
    };
    const definition = {
      StartAt: 'OuterMap',
      States: {
        OuterMap: {
          Type: 'Map',
          ItemsPath: '$.outerJobs',
          ItemSelector: { 'innerJobs.$': '$$.Map.Item.Value.innerJobs' },
          ItemProcessor: {
            ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
            StartAt: 'InnerMap',
            States: { InnerMap: inner },
          },
          End: true,
        },
      },
    };
    const outerJobs = Array.from({ length: 4 }, () => ({ innerJobs: [0, 1, 2, 3, 4] }));

    // Act
    const { execution, history } = await sfn.run(definition, { outerJobs });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(parsed(execution.output)).toEqual(outerJobs.map(() => [0, 1, 2, 3, 4]));
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

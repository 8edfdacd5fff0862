/**
 * Test support: waiting on an execution by asking the service, as any client would: an embedded AWS in a child
 * process offers no in-memory `finished` to await. Each wait takes a `timeoutMs` sized by what it waits for;
 * the default suits a state machine of a few short states.
 *
 * @example
 * const history = await historyWith(client, executionArn, 'WaitStateEntered');
 * const execution = await waitForEnd(client, executionArn, { timeoutMs: 60_000 });
 */
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { executionHistory } from './step-functions.ts';

const DEFAULT_TIMEOUT_MS = 15_000;
const POLL_MS = 20;

export interface WaitOptions {
  readonly timeoutMs?: number;
}

export const pause = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** Reads `read` until `done` holds or the time is up; says which. */
async function poll<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
): Promise<{ value: T; done: boolean }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return { value, done: true };
    if (Date.now() > deadline) return { value, done: false };
    await pause(POLL_MS);
  }
}

/** Polls until `check` returns a value other than undefined; fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<T> {
  const { value, done } = await poll(check, (found) => found !== undefined, timeoutMs);
  if (!done) throw new Error(`timed out waiting for ${what}`);
  return value as T;
}

/** The history once it holds `count` events of `type`: the moment a crash test pulls the plug. */
export function historyWith(
  client: SFNClient,
  executionArn: string,
  type: string,
  count = 1,
  { timeoutMs }: WaitOptions = {},
): Promise<HistoryEvent[]> {
  return eventually(
    `${count} × ${type} in ${executionArn}`,
    async () => {
      const history = await executionHistory(client, executionArn);
      return history.filter((event) => event.type === type).length >= count ? history : undefined;
    },
    timeoutMs,
  );
}

/**
 * The execution once it has left RUNNING, or as it still is when the time is up: rather than a timeout, the
 * test's own expectation on the status then fails, with whatever context it gives.
 */
export async function waitForEnd(
  client: SFNClient,
  executionArn: string,
  { timeoutMs = DEFAULT_TIMEOUT_MS }: WaitOptions = {},
): Promise<DescribeExecutionCommandOutput> {
  const { value } = await poll(
    () => client.send(new DescribeExecutionCommand({ executionArn })),
    (described) => described.status !== 'RUNNING',
    timeoutMs,
  );
  return value;
}

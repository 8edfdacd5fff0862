import type { Catcher, Retrier } from '../definition/types.ts';
import { StatesErrors } from '../language/states-error.ts';

/**
 * Whether an ErrorEquals list matches an error name, with the wildcards' exceptions: `States.ALL` matches every
 * error but `States.Runtime` (which always fails the execution), and `States.TaskFailed` matches every error
 * but `States.Timeout`.
 *
 * `States.DataLimitExceeded` is matched like any other error, by its name and by the wildcards. The developer
 * guide calls it "a terminal error that can't be caught by the States.ALL error type", but histories recorded
 * on AWS show a Task whose result is over the 256 KiB quota caught by a Catcher naming it and by one naming
 * only `States.ALL`; we follow what AWS does rather than what the guide says.
 */
export function errorMatches(errorEquals: readonly string[], error: string): boolean {
  for (const name of errorEquals) {
    if (name === error) return true;
    if (name === StatesErrors.ALL && isCatchable(error)) return true;
    if (name === StatesErrors.TaskFailed && error !== StatesErrors.Timeout && isCatchable(error)) return true;
  }
  return false;
}

/** Errors no Retry or Catch can handle. */
export function isCatchable(error: string): boolean {
  return error !== StatesErrors.Runtime;
}

/** The first retrier matching any of the error's names (a missed heartbeat has two), or -1. */
export function findRetrier(
  retriers: readonly Retrier[] | undefined,
  names: string | readonly string[],
): number {
  const all = typeof names === 'string' ? [names] : names;
  return (retriers ?? []).findIndex((retrier) => all.some((name) => errorMatches(retrier.ErrorEquals, name)));
}

export function findCatcher(
  catchers: readonly Catcher[] | undefined,
  names: string | readonly string[],
): Catcher | undefined {
  const all = typeof names === 'string' ? [names] : names;
  return (catchers ?? []).find((catcher) => all.some((name) => errorMatches(catcher.ErrorEquals, name)));
}

/**
 * The wait before retry number `attempt` (0-based) of a retrier, in milliseconds:
 * IntervalSeconds × BackoffRate^attempt, capped by MaxDelaySeconds, then with FULL jitter a uniform
 * random point in [0, that delay) — the documented defaults are 1 s, 2.0 and no cap.
 *
 * @example
 * retryDelayMs({ ErrorEquals: ['X'], IntervalSeconds: 2, BackoffRate: 3 }, 1, Math.random) // 6000
 */
export function retryDelayMs(retrier: Retrier, attempt: number, random: () => number): number {
  const interval = retrier.IntervalSeconds ?? 1;
  const rate = retrier.BackoffRate ?? 2;
  let seconds = interval * rate ** attempt;
  if (retrier.MaxDelaySeconds !== undefined) seconds = Math.min(seconds, retrier.MaxDelaySeconds);
  if (retrier.JitterStrategy === 'FULL') seconds = random() * seconds;
  return Math.round(seconds * 1000);
}

/** MaxAttempts defaults to 3; 0 means never retry. */
export function maxAttemptsOf(retrier: Retrier): number {
  return retrier.MaxAttempts ?? 3;
}

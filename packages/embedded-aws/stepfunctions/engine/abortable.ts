/** Waiting that gives way when an execution is stopped, a branch is cancelled or a deadline passes. */

export class AbortedError extends Error {
  override readonly name = 'AbortedError';
}

/**
 * The reason given to every abort(): without one, Node builds a DOMException per abort, which showed up as
 * several percent of the engine's time.
 */
export const ABORTED = new AbortedError('aborted');

/** Rejects with AbortedError as soon as `signal` aborts; otherwise settles as `promise` does. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new AbortedError('aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortedError('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Resolves at `dueAt` (epoch ms). Long waits are chained in steps below setTimeout's 24.8-day limit, so a
 * Wait of a year still works.
 */
export function sleepUntil(dueAt: number, now: () => number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(new AbortedError('aborted'));
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError('aborted'));
    };
    const arm = () => {
      const remaining = dueAt - now();
      if (remaining <= 0) {
        signal.removeEventListener('abort', onAbort);
        resolve();
        return;
      }
      timer = setTimeout(arm, Math.min(remaining, 2 ** 31 - 1));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    arm();
  });
}

/** An AbortController that also aborts when its parent does. */
export function childController(parent: AbortSignal): AbortController {
  const child = new AbortController();
  if (parent.aborted) child.abort(ABORTED);
  else {
    const onAbort = () => child.abort(ABORTED);
    parent.addEventListener('abort', onAbort, { once: true });
    child.signal.addEventListener('abort', () => parent.removeEventListener('abort', onAbort), {
      once: true,
    });
  }
  return child;
}

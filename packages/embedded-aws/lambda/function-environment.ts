/**
 * Per-function environment variables for handlers that all run in this one process.
 *
 * Setting `process.env` around each call would be wrong as soon as two invocations overlap: an `await`
 * in one hands the thread to the other, which would then read the first one's variables. Instead
 * `process.env` is replaced (once, on first use) by a proxy that reads the environment of the function
 * whose invocation is running, found through AsyncLocalStorage. That context follows every callback,
 * timer and promise the handler starts, so module initialisation, the handler and its background work
 * all see their own function's variables; code outside any invocation (the embedded AWS itself, tests)
 * sees the real environment, untouched.
 *
 * Like a Lambda execution environment, a function's environment is one mutable object that lives across
 * its invocations: a handler that sets `process.env.X` sees it again on its next invocation, and no other
 * function does. It starts as the host's environment (so `AWS_ENDPOINT_URL`, credentials and the like
 * reach the handlers' SDK clients), then Lambda's runtime variables, then the function's configuration.
 *
 * Limit: native code that calls getenv(3) (or a child process spawned without an explicit `env`) sees
 * the process's real environment, not the function's.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const current = new AsyncLocalStorage<Record<string, string | undefined>>();
const INSTALLED = Symbol.for('embedded-lambda.function-environment');

/**
 * Runs `work` with `process.env` reading and writing `environment`, including everything `work` starts.
 *
 * @example
 * const env = { ...process.env, TABLE: 'payments' };
 * await withFunctionEnvironment(env, async () => process.env.TABLE); // 'payments'
 */
export function withFunctionEnvironment<T>(
  environment: Record<string, string | undefined>,
  work: () => T,
): T {
  installProxy();
  return current.run(environment, work);
}

function installProxy(): void {
  const existing = process.env as NodeJS.ProcessEnv & { [INSTALLED]?: true };
  if (existing[INSTALLED]) return;
  const host = process.env;
  const target = (): Record<string, string | undefined> => current.getStore() ?? host;
  process.env = new Proxy(host, {
    get: (_, key) => (key === INSTALLED ? true : Reflect.get(target(), key)),
    // process.env turns every value into a string; the function's plain object is made to do the same.
    set: (_, key, value) => {
      const env = target();
      if (env === host) return Reflect.set(host, key, value);
      if (typeof key === 'symbol') return false;
      env[key] = String(value);
      return true;
    },
    has: (_, key) => key === INSTALLED || Reflect.has(target(), key),
    deleteProperty: (_, key) => Reflect.deleteProperty(target(), key),
    ownKeys: () => Reflect.ownKeys(target()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(target(), key);
      // The proxy's target is the host env, so every key reported must be configurable to satisfy the
      // Proxy invariants; a plain object's keys already are.
      return descriptor === undefined ? undefined : { ...descriptor, configurable: true };
    },
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(target(), key, descriptor),
  });
}

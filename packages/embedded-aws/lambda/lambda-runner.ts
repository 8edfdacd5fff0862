/**
 * The embedded Lambda's runtime: it runs registered TypeScript handlers in this process, the way the
 * Node.js runtime runs them in an execution environment.
 *
 * - Each function's module is imported once (its first invocation is the cold start) and its handler
 *   called with the event (a deep copy, as Lambda passes JSON) and a Lambda context.
 * - Each function has its own environment variables even though all run in one process; see
 *   `function-environment.ts` for how, and its one limit.
 * - A thrown error becomes `{ errorType, errorMessage, trace }` with functionError 'Unhandled'; a handler
 *   still running at the timeout becomes `Sandbox.Timedout`. Lambda then discards the execution
 *   environment; here the handler cannot be stopped (it is a promise in this process), so its eventual
 *   result is ignored and the next invocation starts a fresh environment: the module is imported anew.
 * - Overlapping invocations of one function share one module instance (Lambda would give each its own
 *   environment): module-level state is shared between concurrent invocations here.
 * - Event invocations are queued (durably, with `LambdaRunner.open({ dataDir })`) and retried twice on a
 *   function error, one and then two minutes apart, as Lambda's asynchronous invocation does.
 */
import { randomUUID } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Journal, openJournal } from '../durable/journal.ts';
import { invalidRequestContent } from './errors.ts';
import { withFunctionEnvironment } from './function-environment.ts';
import {
  type FunctionErrorPayload,
  handlerNotFoundPayload,
  importErrorPayload,
  responseTooLargePayload,
  thrownErrorPayload,
  timeoutPayload,
} from './function-error.ts';
import { type FunctionDefinition, FunctionRegistry, type RegisteredFunction } from './function-registry.ts';
import {
  type ExecutionEnvironment,
  type LambdaContext,
  lambdaContext,
  newExecutionEnvironment,
  runtimeVariables,
} from './lambda-context.ts';

export type InvocationType = 'RequestResponse' | 'Event' | 'DryRun';

export interface InvokeOptions {
  /** Default 'RequestResponse'. */
  readonly invocationType?: InvocationType;
  /** Only `$LATEST` exists here. */
  readonly qualifier?: string;
  /** The decoded ClientContext (synchronous invocations only, as in Lambda). */
  readonly clientContext?: unknown;
}

export interface InvokeResult {
  /** 200 RequestResponse, 202 Event, 204 DryRun. */
  readonly statusCode: number;
  /** The function's response (parsed JSON), its error payload, or undefined for Event and DryRun. */
  readonly payload: unknown;
  readonly functionError?: 'Unhandled';
  readonly executedVersion: string;
}

export interface LambdaRunnerOptions {
  readonly region?: string;
  readonly accountId?: string;
  /** Waits before the retries of a failed Event invocation; default Lambda's [60 000, 120 000] ms. */
  readonly asyncRetryDelaysMs?: readonly number[];
  /** Where failures of Event invocations (and of the queue) are reported; default `console`. */
  readonly logger?: Pick<Console, 'warn' | 'error'>;
}

type Handler = (
  event: unknown,
  context: LambdaContext,
  callback?: (error: unknown, result?: unknown) => void,
) => unknown;

/** One function's execution environment: its module, its variables, its log stream. */
interface Environment {
  readonly identity: ExecutionEnvironment;
  readonly variables: Record<string, string | undefined>;
  module?: Promise<Handler | FunctionErrorPayload>;
}

/** An accepted Event invocation waiting for (another) attempt. */
interface QueuedEvent {
  readonly id: string;
  readonly functionName: string;
  readonly payload: unknown;
  readonly queuedAt: number;
  readonly attempts: number;
  readonly notBefore: number;
}

/**
 * One line of the Event invocations' journal. Version 2 names the change in `kind`; version 1 named it in
 * `t` (`'queued'`, `'retry'`, `'done'`) and is upgraded when a data directory written by that code is opened.
 */
type QueueRecord =
  | { readonly kind: 'eventQueued'; readonly event: QueuedEvent }
  /** The attempt failed; the next one is due at `notBefore`. */
  | {
      readonly kind: 'retryScheduled';
      readonly id: string;
      readonly attempts: number;
      readonly notBefore: number;
    }
  /** No more attempts: the event succeeded, or failed too often or too late and was discarded. */
  | { readonly kind: 'eventFinished'; readonly id: string };

const QUEUE_RECORD_VERSION = 2;

type QueueRecordVersion1 =
  | { readonly t: 'queued'; readonly event: QueuedEvent }
  | { readonly t: 'retry'; readonly id: string; readonly attempts: number; readonly notBefore: number }
  | { readonly t: 'done'; readonly id: string };

function upgradeQueueRecord(record: unknown, fromVersion: number): QueueRecord {
  if (fromVersion !== 1)
    throw new Error(`No upgrade of Event invocation records from version ${fromVersion}`);
  const old = record as QueueRecordVersion1;
  switch (old.t) {
    case 'queued':
      return { kind: 'eventQueued', event: old.event };
    case 'retry':
      return { kind: 'retryScheduled', id: old.id, attempts: old.attempts, notBefore: old.notBefore };
    case 'done':
      return { kind: 'eventFinished', id: old.id };
    default:
      throw new Error(`Unknown Event invocation record of version 1: ${JSON.stringify(old)}`);
  }
}

const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;
/** Lambda keeps an asynchronous event for at most six hours. */
const MAX_EVENT_AGE_MS = 6 * 60 * 60 * 1000;
let importGeneration = 0;

/**
 * @example
 * const runner = new LambdaRunner({ region: 'us-east-1', accountId: '000000000000' });
 * runner.register({ name: 'echo', handler: '/srv/functions/handlers.ts#echo' });
 * const { payload, functionError } = await runner.invoke('echo', { hello: 'world' });
 */
export class LambdaRunner {
  readonly registry: FunctionRegistry;
  readonly #environments = new Map<string, Environment>();
  readonly #retryDelays: readonly number[];
  readonly #logger: Pick<Console, 'warn' | 'error'>;
  readonly #queue = new Map<string, QueuedEvent>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #running = new Set<string>();
  readonly #idleWaiters: (() => void)[] = [];
  #journal: Journal<QueueRecord> | undefined;
  #closed = false;

  constructor(options: LambdaRunnerOptions = {}) {
    this.registry = new FunctionRegistry({
      region: options.region ?? 'us-east-1',
      accountId: options.accountId ?? '000000000000',
    });
    this.#retryDelays = options.asyncRetryDelaysMs ?? [60_000, 120_000];
    this.#logger = options.logger ?? console;
  }

  /**
   * A runner whose accepted Event invocations survive a restart (kill -9 included): they are journaled in
   * `dataDir` before the 202, and run again once their function is registered after the restart.
   *
   * @example
   * const runner = await LambdaRunner.open({ dataDir: '.data' });
   */
  static async open(options: LambdaRunnerOptions & { dataDir: string | null }): Promise<LambdaRunner> {
    const runner = new LambdaRunner(options);
    runner.#journal = await openJournal<QueueRecord>({
      dir: options.dataDir,
      name: 'lambda-async',
      recordVersion: QUEUE_RECORD_VERSION,
      upgrade: upgradeQueueRecord,
      replay: (record) => runner.#apply(record),
      snapshot: () => [...runner.#queue.values()].map((event) => ({ kind: 'eventQueued', event }) as const),
    });
    return runner;
  }

  /** Adds (or replaces, starting a fresh environment) a function. Throws Lambda's error for a bad one. */
  register(definition: FunctionDefinition): void {
    const fn = this.registry.register(definition);
    this.#environments.delete(fn.name);
    for (const event of this.#queue.values()) {
      if (event.functionName === fn.name) this.#schedule(event);
    }
  }

  /**
   * Invokes a function by name, ARN or partial ARN. Throws Lambda's API errors (ResourceNotFoundException,
   * ...) as AwsError; a failing function is not an API error: it answers 200 with functionError set.
   */
  async invoke(functionName: string, payload: unknown, options: InvokeOptions = {}): Promise<InvokeResult> {
    const fn = this.registry.resolve(functionName, options.qualifier);
    const event = copyJson(payload === undefined ? {} : payload);
    const invocationType = options.invocationType ?? 'RequestResponse';
    if (invocationType === 'DryRun')
      return { statusCode: 204, payload: undefined, executedVersion: '$LATEST' };
    if (invocationType === 'Event') {
      await this.#enqueue(fn, event);
      return { statusCode: 202, payload: undefined, executedVersion: '$LATEST' };
    }
    const invokedArn =
      options.qualifier !== undefined || functionName.endsWith(':$LATEST') ? `${fn.arn}:$LATEST` : fn.arn;
    const outcome = await this.#run(fn, event, invokedArn, options.clientContext);
    return {
      statusCode: 200,
      payload: outcome.payload,
      ...(outcome.failed ? { functionError: 'Unhandled' as const } : {}),
      executedVersion: '$LATEST',
    };
  }

  /** Resolves once no accepted Event invocation is waiting or running (tests use it). */
  idle(): Promise<void> {
    if (this.#queue.size === 0) return Promise.resolve();
    return new Promise((done) => this.#idleWaiters.push(done));
  }

  /** Stops retrying queued events (they stay journaled) and closes the journal. Running handlers are not stopped. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    await this.#journal?.close();
  }

  // ─── One invocation ────────────────────────────────────────────────────────────────────────────────

  async #run(
    fn: RegisteredFunction,
    event: unknown,
    invokedArn: string,
    clientContext?: unknown,
  ): Promise<{ payload: unknown; failed: boolean }> {
    const requestId = randomUUID();
    const environment = this.#environmentOf(fn);
    const deadline = Date.now() + fn.timeoutSeconds * 1000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((done) => {
      timer = setTimeout(() => done('timeout'), fn.timeoutSeconds * 1000);
    });
    const attempt = withFunctionEnvironment(environment.variables, async () => {
      const handler = await this.#handlerOf(fn, environment);
      if (typeof handler !== 'function') return { payload: handler, failed: true };
      const context = lambdaContext({
        fn,
        invokedFunctionArn: invokedArn,
        requestId,
        deadline,
        environment: environment.identity,
        clientContext,
      });
      try {
        return responseOf(await callHandler(handler, copyJson(event), context));
      } catch (error) {
        return { payload: thrownErrorPayload(error), failed: true };
      }
    });
    try {
      const outcome = await Promise.race([attempt, timedOut]);
      if (outcome !== 'timeout') return outcome;
      // The handler keeps running in the background; Lambda would have torn its environment down.
      if (this.#environments.get(fn.name) === environment) this.#environments.delete(fn.name);
      attempt.catch(() => {});
      return { payload: timeoutPayload(requestId, fn.timeoutSeconds), failed: true };
    } finally {
      clearTimeout(timer);
    }
  }

  #environmentOf(fn: RegisteredFunction): Environment {
    let environment = this.#environments.get(fn.name);
    if (environment === undefined) {
      const identity = newExecutionEnvironment();
      environment = {
        identity,
        variables: {
          ...process.env,
          ...runtimeVariables(fn, this.registry.region, identity),
          ...fn.environment,
        },
      };
      this.#environments.set(fn.name, environment);
    }
    return environment;
  }

  /** Imports the module once per environment (the cold start); a failed import is tried again next time. */
  #handlerOf(fn: RegisteredFunction, environment: Environment): Promise<Handler | FunctionErrorPayload> {
    if (environment.module === undefined) {
      const loading = importHandler(fn);
      environment.module = loading;
      loading.then((handler) => {
        if (typeof handler !== 'function' && environment.module === loading) environment.module = undefined;
      });
    }
    return environment.module;
  }

  // ─── Event invocations ─────────────────────────────────────────────────────────────────────────────

  async #enqueue(fn: RegisteredFunction, payload: unknown): Promise<void> {
    const now = Date.now();
    const event: QueuedEvent = {
      id: randomUUID(),
      functionName: fn.name,
      payload,
      queuedAt: now,
      attempts: 0,
      notBefore: now,
    };
    this.#write({ kind: 'eventQueued', event });
    await this.#journal?.flushed();
    this.#schedule(event);
  }

  #apply(record: QueueRecord): void {
    if (record.kind === 'eventQueued') this.#queue.set(record.event.id, record.event);
    else if (record.kind === 'eventFinished') this.#queue.delete(record.id);
    else {
      const event = this.#queue.get(record.id);
      if (event)
        this.#queue.set(record.id, { ...event, attempts: record.attempts, notBefore: record.notBefore });
    }
  }

  #write(record: QueueRecord): void {
    this.#apply(record);
    this.#journal?.append(record);
    if (this.#queue.size === 0) for (const done of this.#idleWaiters.splice(0)) done();
  }

  #schedule(event: QueuedEvent): void {
    if (this.#closed || this.#running.has(event.id)) return;
    clearTimeout(this.#timers.get(event.id));
    const timer = setTimeout(
      () => {
        this.#timers.delete(event.id);
        void this.#attempt(event.id);
      },
      Math.max(0, event.notBefore - Date.now()),
    );
    this.#timers.set(event.id, timer);
  }

  async #attempt(id: string): Promise<void> {
    const event = this.#queue.get(id);
    const fn = event === undefined ? undefined : this.registry.get(event.functionName);
    if (event === undefined || fn === undefined || this.#closed) return;
    this.#running.add(id);
    try {
      const outcome = await this.#run(fn, event.payload, fn.arn);
      if (this.#closed) return;
      const attempts = event.attempts + 1;
      const delay = this.#retryDelays[attempts - 1];
      const expired = Date.now() + (delay ?? 0) > event.queuedAt + MAX_EVENT_AGE_MS;
      if (outcome.failed && delay !== undefined && !expired) {
        this.#write({ kind: 'retryScheduled', id, attempts, notBefore: Date.now() + delay });
      } else {
        if (outcome.failed) {
          this.#logger.warn(
            `Lambda ${fn.name}: asynchronous event ${id} failed ${attempts} time(s) and is discarded: ${JSON.stringify(outcome.payload)}`,
          );
        }
        this.#write({ kind: 'eventFinished', id });
      }
    } catch (error) {
      this.#logger.error(`Lambda ${fn.name}: asynchronous event ${id} could not run`, error);
    } finally {
      this.#running.delete(id);
    }
    const next = this.#queue.get(id);
    if (next !== undefined) this.#schedule(next);
  }
}

async function importHandler(fn: RegisteredFunction): Promise<Handler | FunctionErrorPayload> {
  const file = isAbsolute(fn.modulePath) ? fn.modulePath : resolve(process.cwd(), fn.modulePath);
  // A query makes each function (and each fresh environment) its own module instance, as each Lambda
  // function has its own copy of its code; the modules it imports are shared.
  importGeneration += 1;
  const url = `${pathToFileURL(file).href}?lambda=${encodeURIComponent(fn.name)}&environment=${importGeneration}`;
  let module: Record<string, unknown>;
  try {
    module = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    return importErrorPayload(error);
  }
  const handler = module[fn.exportName];
  return typeof handler === 'function'
    ? (handler as Handler)
    : handlerNotFoundPayload(fn.modulePath, fn.exportName);
}

/**
 * Calls a handler as the Node.js runtime does: an async handler's promise is awaited; a handler that
 * takes a third parameter and returns no promise answers through its callback.
 */
function callHandler(handler: Handler, event: unknown, context: LambdaContext): Promise<unknown> {
  return new Promise((resolvePromise, reject) => {
    const callback = (error: unknown, result?: unknown) => {
      if (error !== null && error !== undefined) reject(error);
      else resolvePromise(result);
    };
    const returned = handler(event, context, callback);
    if (isThenable(returned)) returned.then(resolvePromise, reject);
    else if (handler.length < 3) resolvePromise(returned);
  });
}

/** The response as JSON, as the runtime sends it (undefined → null); a response Lambda refuses is an error. */
function responseOf(result: unknown): { payload: unknown; failed: boolean } {
  let text: string;
  try {
    text = JSON.stringify(result === undefined ? null : result) ?? 'null';
  } catch (error) {
    // Guess: the runtime reports an unserialisable response as the serialiser's error.
    return { payload: thrownErrorPayload(error), failed: true };
  }
  if (Buffer.byteLength(text) > MAX_RESPONSE_BYTES)
    return { payload: responseTooLargePayload(), failed: true };
  return { payload: JSON.parse(text), failed: false };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** A deep copy through JSON, as the event crosses Lambda's wire; a value JSON cannot carry is refused. */
function copyJson(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value) ?? 'null');
  } catch (error) {
    throw invalidRequestContent(`Could not parse request body into json: ${(error as Error).message}`);
  }
}

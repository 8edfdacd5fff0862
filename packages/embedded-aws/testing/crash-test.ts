/**
 * Crash-test fixture: the embedded AWS in a child process on a fresh data directory, killed with SIGKILL at
 * chosen moments and started again on the same directory, with the Step Functions calls and waits a crash
 * test makes in between. Each test has a fixture of its own (`crashTestEach`): whatever it started is killed
 * after it, and its data directory removed.
 *
 * @example
 * const test = crashTestEach();
 * test('finishes a Wait across a crash', async ({ aws }) => {
 *   await aws.start();
 *   const { executionArn } = await aws.runMachine(SLEEPS, { id: 'w' });
 *   const beforeCrash = await aws.historyWith(executionArn, 'WaitStateEntered');
 *   await aws.crashAndRestart();
 *   const { execution, history } = await aws.outcomeOf(executionArn);
 * });
 */
import type { DescribeExecutionCommandOutput, HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import { it } from 'vitest';
import { ChildProcesses, type RunningProcess, readyEndpoint } from './child-processes.ts';
import { historyWith, pause, type WaitOptions, waitForEnd } from './execution-waits.ts';
import { packagePath } from './package-path.ts';
import { createStateMachine, executionHistory, sfnClient, startExecution } from './step-functions.ts';

export interface CrashTestOptions {
  /**
   * The child to run, given the data directory; it prints `ready <endpoint>` once it listens. By default the
   * embedded AWS with an in-process "echo" Lambda (`embedded-aws-process.ts`).
   */
  readonly fixture?: string;
  /** How the data directories under the system's temp directory are named. */
  readonly dataDirPrefix?: string;
  /**
   * The fixture's arguments after the data directory, worked out once, before the first start (a module to
   * build for it, say).
   */
  readonly fixtureArguments?: () => Promise<readonly string[]>;
}

/** The embedded AWS as it runs now: a client is good only as long as the process it speaks to. */
interface Running {
  readonly child: RunningProcess<string>;
  readonly client: SFNClient;
}

export class CrashTest {
  readonly #processes = new ChildProcesses();
  readonly #fixture: string;
  readonly #dataDirPrefix: string;
  readonly #fixtureArguments: () => Promise<readonly string[]>;
  /** The fixture's arguments once started: the data directory first, which every restart opens again. */
  #arguments: readonly string[] | undefined;
  #running: Running | undefined;

  constructor(options: CrashTestOptions = {}) {
    this.#fixture = options.fixture ?? packagePath('testing/embedded-aws-process.ts');
    this.#dataDirPrefix = options.dataDirPrefix ?? 'crash-test-';
    this.#fixtureArguments = options.fixtureArguments ?? (async () => []);
  }

  /** The data directory of this test, which every restart opens again. */
  get dataDir(): string {
    return this.#started()[0]!;
  }

  get endpoint(): string {
    return this.#current().child.value;
  }

  /**
   * The client of the process running now, so `aws.client` keeps working across restarts. A client kept in a
   * variable across a crash dies with the process it spoke to, as a real caller's connection would.
   */
  get client(): SFNClient {
    return this.#current().client;
  }

  /** Starts the child on a fresh data directory. */
  async start(): Promise<void> {
    if (this.#arguments !== undefined) throw new Error('the crash test has started already');
    const dataDir = this.#processes.tempDir(this.#dataDirPrefix);
    this.#arguments = [dataDir, ...(await this.#fixtureArguments())];
    await this.restart();
  }

  /** SIGKILL: no shutdown code runs, as when the machine's process is killed -9. Resolves once it is gone. */
  async kill(): Promise<void> {
    const running = this.#running;
    this.#running = undefined;
    if (running === undefined) return;
    running.client.destroy();
    await running.child.kill();
  }

  /** Starts the child again on the same data directory, after a kill. */
  async restart(): Promise<void> {
    if (this.#running !== undefined) throw new Error('the embedded AWS is running: kill it first');
    const child = await this.#processes.start(this.#fixture, this.#started(), readyEndpoint);
    this.#running = { child, client: sfnClient(child.value) };
  }

  async crashAndRestart(): Promise<void> {
    await this.kill();
    await this.restart();
  }

  /** Starts the child on the same data directory and kills it after `delayMs`, whether it is ready or not. */
  async killWhileStarting(delayMs: number): Promise<void> {
    if (this.#running !== undefined) throw new Error('the embedded AWS is running: kill it first');
    const starting = this.#processes
      .start(this.#fixture, this.#started(), readyEndpoint)
      .catch(() => undefined);
    await pause(delayMs);
    this.#processes.killAll();
    await (await starting)?.kill();
  }

  /** After the test: whatever it left running dies, and its data directory is removed. */
  async close(): Promise<void> {
    await this.kill();
    this.#processes.killAll();
    this.#processes.removeTempDirs();
  }

  createMachine(definition: object, options: { name?: string } = {}): Promise<string> {
    return createStateMachine(this.client, definition, options);
  }

  /** Sent through the running process's client before any `await`: a crash cuts it short, never redirects it. */
  startExecution(machineArn: string, input: unknown = {}, options: { name?: string } = {}): Promise<string> {
    return startExecution(this.client, machineArn, input, options);
  }

  /** Creates a machine of `definition` and starts an execution of it with `input`. */
  async runMachine(
    definition: object,
    input: unknown = {},
    options: { name?: string; executionName?: string } = {},
  ): Promise<{ machineArn: string; executionArn: string }> {
    const machineArn = await this.createMachine(definition, { name: options.name });
    const executionArn = await this.startExecution(machineArn, input, { name: options.executionName });
    return { machineArn, executionArn };
  }

  historyOf(executionArn: string): Promise<HistoryEvent[]> {
    return executionHistory(this.client, executionArn);
  }

  /** The history once it holds `count` events of `type`: the moment to pull the plug. */
  historyWith(executionArn: string, type: string, count = 1, options?: WaitOptions): Promise<HistoryEvent[]> {
    return historyWith(this.client, executionArn, type, count, options);
  }

  /** The execution once it has left RUNNING, or as it still is when the time is up. */
  waitForEnd(executionArn: string, options?: WaitOptions): Promise<DescribeExecutionCommandOutput> {
    return waitForEnd(this.client, executionArn, options);
  }

  /** How the execution ended, and its whole history. */
  async outcomeOf(
    executionArn: string,
    options?: WaitOptions,
  ): Promise<{ execution: DescribeExecutionCommandOutput; history: HistoryEvent[] }> {
    const execution = await this.waitForEnd(executionArn, options);
    return { execution, history: await this.historyOf(executionArn) };
  }

  #started(): readonly string[] {
    if (this.#arguments === undefined) throw new Error('the crash test has not started: call start()');
    return this.#arguments;
  }

  #current(): Running {
    if (this.#running === undefined) throw new Error('the embedded AWS is not running');
    return this.#running;
  }
}

/**
 * `test` for crash tests that run side by side (`describe.concurrent`): each is handed a crash-test fixture of
 * its own as `aws`, killed and its data directory removed after it.
 *
 * @example
 * const test = crashTestEach({ dataDirPrefix: 'sfn-durability-' });
 * test('finishes a Wait across a crash', async ({ aws }) => { await aws.start(); ... });
 */
export function crashTestEach(options: CrashTestOptions = {}) {
  return it.extend<{ aws: CrashTest }>({
    // biome-ignore lint/correctness/noEmptyPattern: Vitest reads a fixture's dependencies from this pattern.
    aws: async ({}, use) => {
      const crash = new CrashTest(options);
      try {
        await use(crash);
      } finally {
        await crash.close();
      }
    },
  });
}

/** The SDK adds `$metadata` (request ids differ per call): compare only what the service answered. */
export function serviceAnswer<T extends { $metadata?: unknown }>(output: T): Omit<T, '$metadata'> {
  const { $metadata: _, ...rest } = output;
  return rest;
}

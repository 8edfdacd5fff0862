/**
 * Crash-test support: child processes running a fixture (a TypeScript file, run from its bundle: see
 * fixture-bundles.ts), killed with SIGKILL as `kill -9` would, and the temporary data directories they used.
 *
 * @example
 * const processes = new ChildProcesses();
 * afterEach(() => processes.killAll());
 * afterAll(() => processes.removeTempDirs());
 * const running = await processes.start(packagePath('testing/embedded-aws-process.ts'), [processes.tempDir('sfn-')]);
 * // (a fixture is an absolute path: packagePath, or fileURLToPath(new URL('./x.ts', import.meta.url)))
 * running.value; // the endpoint the fixture printed as `ready <endpoint>`
 * await running.kill();
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fixtureBundle } from './fixture-bundles.ts';

export interface RunningProcess<T> {
  /** What `ready` read from the fixture's output (by default the endpoint of `ready <endpoint>`). */
  readonly value: T;
  readonly child: ChildProcess;
  /** Everything the process has written so far, stdout then stderr. */
  output(): string;
  /** SIGKILL: no shutdown code runs. Resolves once the process is gone. */
  kill(): Promise<void>;
}

/** The default readiness line: `ready <endpoint>`. */
export function readyEndpoint(stdout: string): string | undefined {
  return /^ready (\S+)$/m.exec(stdout)?.[1];
}

export interface StartOptions {
  /**
   * A script that runs the fixture for us, as `node <launcher> <fixture> ...args` (the system's
   * system/bundle/run-bundled.mjs, whose bundle holds the task Lambdas' handlers too).
   */
  readonly launcher?: string;
}

export class ChildProcesses {
  readonly #children = new Set<ChildProcess>();
  readonly #tempDirs: string[] = [];

  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.#tempDirs.push(dir);
    return dir;
  }

  /**
   * Starts a fixture, given by its absolute path (tests run from the repository's root or from a package's, so
   * a relative one would be ambiguous); resolves once `ready` finds what it waits for on stdout.
   */
  async start<T = string>(
    fixture: string,
    args: readonly string[],
    ready: (stdout: string) => T | undefined = readyEndpoint as (stdout: string) => T | undefined,
    options: StartOptions = {},
  ): Promise<RunningProcess<T>> {
    if (!isAbsolute(fixture)) throw new Error(`a fixture is started by its absolute path, not ${fixture}`);
    const command =
      options.launcher !== undefined ? [options.launcher, fixture] : [await fixtureBundle(fixture)];
    const child = spawn(process.execPath, [...command, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#children.add(child);
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    let stderr = '';
    let stdout = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const value = await new Promise<T>((resolveReady, fail) => {
      const onData = () => {
        const found = ready(stdout);
        if (found !== undefined) {
          child.stdout!.off('data', onData);
          resolveReady(found);
        }
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code, signal) =>
        fail(new Error(`${fixture} exited (${code ?? signal}) before it was ready:\n${stderr}`)),
      );
    });
    return {
      value,
      child,
      output: () => stdout + stderr,
      kill: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
        this.#children.delete(child);
      },
    };
  }

  /** For afterEach: whatever a test left running dies. */
  killAll(): void {
    for (const child of this.#children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    this.#children.clear();
  }

  /** For afterAll. */
  removeTempDirs(): void {
    for (const dir of this.#tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

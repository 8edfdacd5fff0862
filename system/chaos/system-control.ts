/**
 * Starts the system under chaos (system-process.ts) as a child process, kills it with SIGKILL and starts it
 * again on the same data directory and ports. Everything each start writes (stdout and stderr: the front-end's
 * and the task Lambdas' logs, the ON-CALL ALERT lines) goes to a log file of its own, kept for the secrets scan.
 *
 * @example
 * const system = new SystemControl({ runDir, options });
 * await system.start();
 * await system.kill(); // as kill -9
 * await system.start();
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, createWriteStream, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ChaosSystemOptions, ChaosSystemReady } from './system-process.ts';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
/** Within the run's copy of the code. */
const FIXTURE = 'system/chaos/system-process.ts';
/** What the system's code is made of: copied once per run (see `snapshotCode`). */
const CODE = [
  'packages',
  'simulators',
  'workflow',
  'database',
  'tasks',
  'frontend-api',
  'system',
  'infra',
  'ops-console',
];
/** The workspace packages: linked to their copies, not to the working tree's. */
const WORKSPACE_SCOPE = '@payment-to-vend';
const CODE_FILES = ['package.json', 'tsconfig.json'];

/**
 * Copies the system's source into `dir` (with links to the installed packages), so that every start of the run
 * runs the same code: the bundle the starts run is built from the copy, and the files beside the code
 * (migrations, pages) are read from it. On a machine shared with other engineers a file half-way through an
 * edit would otherwise break a restart, or change the system under test in the middle of a run.
 */
export function snapshotCode(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const folder of CODE) {
    cpSync(join(REPO_ROOT, folder), join(dir, folder), {
      recursive: true,
      filter: (source) => !/[/\\](node_modules|\.data|cdk\.out)([/\\]|$)/.test(source),
    });
  }
  for (const file of CODE_FILES) cpSync(join(REPO_ROOT, file), join(dir, file));
  // The installed packages are shared, but a workspace package is code of this repository: the copy's node_modules
  // links it to the copy of its folder, or a restart would run the working tree's version of it.
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, WORKSPACE_SCOPE), { recursive: true });
  for (const entry of readdirSync(join(REPO_ROOT, 'node_modules'))) {
    if (entry !== WORKSPACE_SCOPE) symlinkSync(join(REPO_ROOT, 'node_modules', entry), join(modules, entry));
  }
  for (const name of readdirSync(join(REPO_ROOT, 'node_modules', WORKSPACE_SCOPE))) {
    symlinkSync(join(dir, 'packages', name), join(modules, WORKSPACE_SCOPE, name), 'dir');
  }
  return dir;
}
/** A start on a busy two-core machine takes seconds; this bounds a start that hangs. */
const START_TIMEOUT_MS = 180_000;

export class SystemControl {
  readonly #optionsFile: string;
  readonly #logsDir: string;
  readonly #codeDir: string;
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  #ready: ChaosSystemReady | undefined;
  #upSince = 0;
  #starts = 0;
  #upWaiters: (() => void)[] = [];
  readonly logFiles: string[] = [];
  /** Milliseconds each start took until the front-end answered. */
  readonly startTimesMs: number[] = [];

  constructor(options: {
    readonly runDir: string;
    readonly logsDir: string;
    /** The code to run (snapshotCode's folder); default the repository itself. */
    readonly codeDir?: string;
    readonly system: ChaosSystemOptions;
  }) {
    this.#optionsFile = join(options.runDir, 'system-options.json');
    this.#logsDir = options.logsDir;
    this.#codeDir = options.codeDir ?? REPO_ROOT;
    writeFileSync(this.#optionsFile, JSON.stringify(options.system, null, 2));
  }

  /** What the running system printed as ready; throws while it is down. */
  get ready(): ChaosSystemReady {
    if (this.#ready === undefined) throw new SystemDownError();
    return this.#ready;
  }

  get up(): boolean {
    return this.#ready !== undefined;
  }

  /** How long the system has been up (0 while down). */
  uptimeMs(): number {
    return this.#ready === undefined ? 0 : Date.now() - this.#upSince;
  }

  /** Resolves once the system is up (at once if it is). */
  whenUp(): Promise<void> {
    if (this.up) return Promise.resolve();
    return new Promise((done) => this.#upWaiters.push(done));
  }

  async start(): Promise<ChaosSystemReady> {
    if (this.#child !== undefined) throw new Error('the system is already running');
    const began = Date.now();
    this.#starts++;
    const logFile = join(this.#logsDir, `system-${String(this.#starts).padStart(4, '0')}.log`);
    this.logFiles.push(logFile);
    const log = createWriteStream(logFile);
    // From the system's bundle, as npm start runs (system/bundle/): a copy of the code builds its own, in the copy.
    const launcher = join(this.#codeDir, 'system/bundle/run-bundled.mjs');
    const bundles =
      this.#codeDir === REPO_ROOT ? {} : { PAYMENT_TO_VEND_SYSTEM_BUNDLES: join(this.#codeDir, '.bundle') };
    const child = spawn(process.execPath, [launcher, FIXTURE, this.#optionsFile], {
      cwd: this.#codeDir,
      env: { ...process.env, ...bundles },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.#exited = new Promise<void>((done) =>
      child.once('exit', () => {
        log.end();
        done();
      }),
    );
    child.stderr!.pipe(log, { end: false });
    let seen = '';
    const ready = await new Promise<ChaosSystemReady>((resolveReady, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`the system did not start within ${START_TIMEOUT_MS} ms (log: ${logFile})`)),
        START_TIMEOUT_MS,
      );
      const onExit = (code: number | null, signal: string | null) => {
        clearTimeout(timer);
        fail(
          new Error(
            `the system exited (${code ?? signal}) before it was ready; its log: ${logFile}\n${seen.slice(-4000)}`,
          ),
        );
      };
      child.once('exit', onExit);
      child.stdout!.on('data', (chunk: Buffer) => {
        log.write(chunk);
        if (this.#ready !== undefined || seen.length > 1_000_000) return;
        seen += chunk.toString();
        const line = /^ready (\{.*\})$/m.exec(seen)?.[1];
        if (line !== undefined) {
          clearTimeout(timer);
          child.off('exit', onExit);
          resolveReady(JSON.parse(line) as ChaosSystemReady);
        }
      });
    }).catch(async (error: unknown) => {
      await this.kill();
      throw error;
    });
    this.#ready = ready;
    this.#upSince = Date.now();
    this.startTimesMs.push(this.#upSince - began);
    for (const waiter of this.#upWaiters.splice(0)) waiter();
    return ready;
  }

  /** SIGKILL, as kill -9: no shutdown code runs. Resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#ready = undefined;
    if (child === undefined) return;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await this.#exited;
    this.#child = undefined;
  }
}

/** A call made while the system is down (killed, not yet started again). */
export class SystemDownError extends Error {
  override name = 'SystemDownError';
  constructor() {
    super('the system is down');
  }
}

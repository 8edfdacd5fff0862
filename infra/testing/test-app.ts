/**
 * Test support: a CDK App whose cloud assembly goes to a folder of this test process's. An App given no
 * outdir makes a new `cdk.outXXXXXX` folder in the temporary folder and never removes it: the suite left about
 * a hundred of them behind on every run. Vitest ends its workers without an `exit` event, so each process, on
 * its first App, removes the folders of processes that have gone.
 *
 * @example
 * const app = testApp({ context: { ...NO_BUNDLING } });
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type AppProps } from 'aws-cdk-lib';

const PREFIX = 'payment-to-vend-cdk-tests-';
let folder: string | undefined;

function assembliesFolder(): string {
  if (folder === undefined) {
    for (const name of readdirSync(tmpdir())) {
      const pid = Number(name.slice(PREFIX.length));
      if (name.startsWith(PREFIX) && Number.isInteger(pid) && !isRunning(pid)) {
        rmSync(join(tmpdir(), name), { recursive: true, force: true });
      }
    }
    const made = join(tmpdir(), `${PREFIX}${process.pid}`);
    mkdirSync(made, { recursive: true });
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
    folder = made;
  }
  return folder;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function testApp(props: Omit<AppProps, 'outdir'> = {}): App {
  return new App({ ...props, outdir: mkdtempSync(join(assembliesFolder(), 'cdk.out-')) });
}

/**
 * Test support: Debian's AWS CLI v2 (/usr/bin/aws) run against an embedded endpoint, with no credentials or
 * configuration of the host's. It runs asynchronously: a synchronous child would block the event loop of the
 * embedded AWS that has to answer it. Tests skip when the CLI is missing (`.ci/run` installs it).
 *
 * @example
 * describe.skipIf(!AWS_CLI_INSTALLED)('the CLI', () => {
 *   const result = await awsCli(endpoint, 'sns', 'list-topics');
 * });
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

export const AWS_CLI = '/usr/bin/aws';
export const AWS_CLI_INSTALLED = existsSync(AWS_CLI);

export interface CliResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

const run = promisify(execFile);

/**
 * The timeout of a test that runs `commands` CLI commands. Each command spends about a second of CPU starting
 * (Python and botocore) before it sends anything; on a machine at a load average of 8 that became several
 * seconds, and a test of five commands missed the suite's 20 s. Each command is given 15 s.
 *
 * @example
 * it('creates and lists queues', { timeout: cliTimeout(2) }, async () => { ... });
 */
export function cliTimeout(commands: number): number {
  return commands * 15_000;
}

/** Says once, in the test output, why a CLI test file is skipped. */
export function warnIfCliMissing(file: string): void {
  if (!AWS_CLI_INSTALLED) console.warn(`${file} skipped: the AWS CLI v2 is not installed at ${AWS_CLI}`);
}

/** `aws --endpoint-url <endpoint> <service> <args> --output json`, answered whether it succeeds or fails. */
export async function awsCli(endpoint: string, service: string, ...args: string[]): Promise<CliResult> {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: 'us-east-1',
    AWS_PAGER: '',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  try {
    const { stdout, stderr } = await run(
      AWS_CLI,
      ['--endpoint-url', endpoint, service, ...args, '--output', 'json', '--cli-connect-timeout', '3'],
      { env, timeout: 30_000 },
    );
    return { exitCode: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { exitCode: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/**
 * What the trial commands (`npm run fuzz`, `npm run chaos`) share on their command line: whole-number flags, and
 * running `main` so that a wrong flag prints the usage and exits 2, a failed trial exits 1.
 *
 * @example
 * runCommand(async () => (wholeNumber('seed', values.seed, 1, 2 ** 32) > 0 ? 0 : 1), USAGE);
 */

/** A flag the command cannot take: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A flag's whole-number value from 0 to `max`, or `fallback` when it was not given. */
export function wholeNumber(name: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) > max) {
    throw new UsageError(`--${name} must be a whole number from 0 to ${max}, not ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** Runs a command's `main`, whose answer is the exit code; a usage error (ours or parseArgs') exits 2. */
export async function runCommand(main: () => number | Promise<number>, usage: string): Promise<void> {
  try {
    process.exitCode = await main();
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(error as Error).message}\n${usage}`);
      process.exitCode = 2;
    } else {
      throw error;
    }
  }
}

/**
 * `npm run chaos`: the whole system under a seeded trial of kill -9s, lost answers and misbehaving parties,
 * then an audit of every payment against every party's records (system/chaos/run.ts, audit.ts). Prints its
 * progress, every violation with the payment it concerns and the command that reproduces the run, and one
 * summary line; exits 1 on any violation (or a payment that did not settle), 2 on bad arguments.
 *
 *   npm run chaos -- [--payments 40] [--kills 4] [--seed <n>] [--concurrency 6] [--data-dir <dir>] [--keep]
 *                    [--settle-seconds 300] [--no-decisions]
 *
 * Without --seed a seed is drawn and printed. Everything runs on 127.0.0.1, on free ports.
 */
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { runCommand, UsageError, wholeNumber } from '../testing/command-line.ts';
import { formatReport, reproduceCommand } from './report.ts';
import { runChaos } from './run.ts';

const LIMITS = {
  payments: { default: 40, max: 100_000 },
  kills: { default: 4, max: 10_000 },
  concurrency: { default: 6, max: 64 },
  'settle-seconds': { default: 300, max: 24 * 3600 },
} as const;

const USAGE =
  'usage: npm run chaos -- [--payments N] [--kills K] [--seed S] [--concurrency C] [--data-dir DIR] [--keep] [--settle-seconds T] [--no-decisions]\n' +
  `  --payments        top-ups to send (default ${LIMITS.payments.default})\n` +
  `  --kills           times the system is killed with -9 and started again (default ${LIMITS.kills.default})\n` +
  '  --seed            0 to 4294967295: the same seed sends the same payments, faults and kill plan (default: drawn, and printed)\n' +
  `  --concurrency     clients sending top-ups at once (default ${LIMITS.concurrency.default})\n` +
  "  --data-dir        an empty folder for the run: the system's DATA_DIR is its data/, the logs its logs/ (default: a temporary folder, removed after a clean run)\n" +
  '  --keep            keep the temporary folder after a clean run too\n' +
  `  --settle-seconds  the longest the payments may take to settle, each time (default ${LIMITS['settle-seconds'].default})\n` +
  '  --no-decisions    leave the open payments open (no operator decisions)';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      payments: { type: 'string' },
      kills: { type: 'string' },
      seed: { type: 'string' },
      concurrency: { type: 'string' },
      'data-dir': { type: 'string' },
      keep: { type: 'boolean' },
      'settle-seconds': { type: 'string' },
      'no-decisions': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const count = (name: keyof typeof LIMITS) =>
    wholeNumber(name, values[name], LIMITS[name].default, LIMITS[name].max);
  const concurrency = count('concurrency');
  if (concurrency < 1) throw new UsageError('--concurrency must be at least 1');
  const options = {
    payments: count('payments'),
    kills: count('kills'),
    seed: wholeNumber('seed', values.seed, randomInt(0, 2 ** 32 - 1), 2 ** 32 - 1),
    concurrency,
  };
  const began = Date.now();
  let report: Awaited<ReturnType<typeof runChaos>>;
  try {
    report = await runChaos({
      ...options,
      settleSeconds: count('settle-seconds'),
      decide: values['no-decisions'] !== true,
      keep: values.keep === true,
      ...(values['data-dir'] === undefined ? {} : { runDir: values['data-dir'] }),
      log: (line) => console.log(line),
    });
  } catch (error) {
    // The run could not go on (the system did not start again after a kill, say): that is a failure of the
    // system under test too, reported with the seed that reproduces it.
    console.error(error);
    console.log(
      `\nchaos FAIL seed=${options.seed} payments=${options.payments} kills=${options.kills} aborted: ${String(error).split('\n')[0]} time=${((Date.now() - began) / 1000).toFixed(1)}s`,
    );
    console.log(`reproduce: ${reproduceCommand({ ...options, killsPlanned: options.kills })}`);
    return 1;
  }
  console.log(formatReport(report));
  return report.audit.violations.length === 0 && report.unsettled.length === 0 ? 0 : 1;
}

await runCommand(main, USAGE);

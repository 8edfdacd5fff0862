/**
 * `npm run fuzz`: starts the whole system in this process and sends it a seeded mix of hostile requests
 * (system/fuzz/fuzzer.ts), then holds many idle sockets; prints the counts per kind, every violation with the
 * command that replays it, and one summary line; exits 1 on any violation.
 *
 *   npm run fuzz -- [--requests 2000] [--seed <n>] [--sockets 200] [--only <request #>] [--budget-seconds 600]
 *
 * Without --seed a seed is drawn and printed. Everything goes to 127.0.0.1, to servers started here.
 */
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { runCommand, wholeNumber } from '../testing/command-line.ts';
import { runFuzz } from './fuzzer.ts';
import { formatReport } from './report.ts';
import { startSystemUnderFuzz } from './system-under-fuzz.ts';

const LIMITS = {
  requests: { default: 2_000, max: 1_000_000 },
  sockets: { default: 200, max: 8_000 },
  'budget-seconds': { default: 600, max: 24 * 3600 },
} as const;

const USAGE =
  'usage: npm run fuzz -- [--requests N] [--seed S] [--sockets M] [--only I] [--budget-seconds T]\n' +
  `  --requests  hostile requests to send (default ${LIMITS.requests.default})\n` +
  '  --seed      0 to 4294967295; the same seed sends the same requests (default: drawn, and printed)\n' +
  `  --sockets   idle sockets held at once, each two descriptors here (default ${LIMITS.sockets.default})\n` +
  '  --only      send only request number I of the seed (to replay a failure)\n' +
  `  --budget-seconds  the most the run may take (default ${LIMITS['budget-seconds'].default})`;

function main(): Promise<number> | number {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string' },
      seed: { type: 'string' },
      sockets: { type: 'string' },
      only: { type: 'string' },
      'budget-seconds': { type: 'string' },
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
  const requests = count('requests');
  const sockets = count('sockets');
  const budgetSeconds = count('budget-seconds');
  const seed = wholeNumber('seed', values.seed, randomInt(0, 2 ** 32 - 1), 2 ** 32 - 1);
  const only = values.only === undefined ? undefined : wholeNumber('only', values.only, 0, requests - 1);
  return run({
    requests,
    sockets,
    seed,
    budgetMs: budgetSeconds * 1000,
    ...(only === undefined ? {} : { only }),
  });
}

async function run(options: Parameters<typeof runFuzz>[1]): Promise<number> {
  console.log(`fuzz: starting the system (seed ${options.seed})...`);
  const system = await startSystemUnderFuzz();
  try {
    const report = await runFuzz(system, options);
    console.log(formatReport(report));
    return report.passed ? 0 : 1;
  } finally {
    await system.close();
  }
}

await runCommand(main, USAGE);

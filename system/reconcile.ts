/**
 * `npm run reconcile`: one reconciliation run against a running `npm start`, as the EventBridge schedule runs it
 * on AWS every 15 minutes: invokes the `reconcile` Lambda (tasks/reconcile/) on the embedded AWS through the
 * Lambda SDK client, and prints what it found. The findings are in the database, where the operator console's
 * follow-up list shows them (http://127.0.0.1:3001); the function's own log line is in `npm start`'s output.
 *
 *   npm run reconcile
 *   npm run reconcile -- --threshold-minutes 1 --lookback-hours 2     # report what is younger than the default hour
 *   npm run reconcile -- --endpoint http://127.0.0.1:4566
 *
 * Environment: LOCAL_AWS_PORT (4566), as `npm start` has it. Exits 1 when the run fails (the function's error is
 * printed) or nothing answers at the endpoint.
 */
import { parseArgs } from 'node:util';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { RESOURCE_NAMES } from './topology.ts';

const USAGE =
  'usage: npm run reconcile [-- --threshold-minutes <minutes>] [--lookback-hours <hours>] [--endpoint <url>]';

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        'threshold-minutes': { type: 'string' },
        'lookback-hours': { type: 'string' },
        endpoint: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
})();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

/** A whole number from a flag, or undefined when the flag is absent; exits naming the flag when it is not one. */
function wholeNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) {
    console.error(`--${flag} must be a whole number, not ${JSON.stringify(value)}\n${USAGE}`);
    process.exit(2);
  }
  return Number(value);
}

const thresholdMinutes = wholeNumber('threshold-minutes', values['threshold-minutes']);
const lookbackHours = wholeNumber('lookback-hours', values['lookback-hours']);
const endpoint = values.endpoint ?? `http://127.0.0.1:${process.env.LOCAL_AWS_PORT ?? 4566}`;
const functionName = RESOURCE_NAMES.functions.reconcile;

const lambda = new LambdaClient({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  // One run per command: a retried invocation would run it again.
  maxAttempts: 1,
});

try {
  const answer = await lambda.send(
    new InvokeCommand({
      FunctionName: functionName,
      Payload: JSON.stringify({
        ...(thresholdMinutes === undefined ? {} : { thresholdMinutes }),
        ...(lookbackHours === undefined ? {} : { lookbackHours }),
      }),
    }),
  );
  const payload: unknown = JSON.parse(new TextDecoder().decode(answer.Payload ?? new Uint8Array()) || 'null');
  if (answer.FunctionError !== undefined) {
    const { errorType, errorMessage } = (payload ?? {}) as { errorType?: string; errorMessage?: string };
    console.error(`the reconciliation failed: ${errorType ?? answer.FunctionError}: ${errorMessage ?? ''}`);
    process.exitCode = 1;
  } else {
    const summary = payload as { chargedNotVended: number; chargeWithoutPayment: number; resolved: number };
    console.log(
      `reconciled: ${summary.chargedNotVended} payment(s) charged but not vended, ${summary.chargeWithoutPayment} ` +
        `gateway charge(s) no payment records, ${summary.resolved} earlier finding(s) resolved`,
    );
    console.log(JSON.stringify(summary));
  }
} catch (error) {
  const name = (error as Error).name;
  if (name === 'ResourceNotFoundException') {
    console.error(`the embedded AWS at ${endpoint} has no ${functionName} function: restart \`npm start\``);
  } else {
    console.error(
      `could not reach the embedded AWS at ${endpoint} (${(error as Error).message}): is \`npm start\` running?`,
    );
  }
  process.exitCode = 1;
} finally {
  lambda.destroy();
}

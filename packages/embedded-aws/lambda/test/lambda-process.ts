/**
 * A child process for the crash tests: the embedded Lambda (durable Event queue, durable SQS mappings and
 * the Invoke route) on a data directory, with one `recorder` function writing what it receives to
 * `<outFile>`. Prints `ready <endpoint>`; with `--map <queueArn>` it first creates a mapping of that queue
 * to `recorder` and prints `mapped <uuid>` once it is acknowledged.
 *
 * Usage: node --import tsx packages/embedded-aws/lambda/test/lambda-process.ts <dataDir> <sqsEndpoint> <outFile> [--map <queueArn>]
 */
import type { AddressInfo } from 'node:net';
import { createAwsServer } from '../../aws/server.ts';
import { packagePath } from '../../testing/package-path.ts';
import { EventSourceMappings } from '../event-source-mappings.ts';
import { lambdaRoutes } from '../invoke-route.ts';
import { LambdaRunner } from '../lambda-runner.ts';

const [dataDir, sqsEndpoint, outFile, flag, queueArn] = process.argv.slice(2);
if (!dataDir || !sqsEndpoint || !outFile)
  throw new Error('usage: lambda-process.ts <dataDir> <sqsEndpoint> <outFile>');

const runner = await LambdaRunner.open({ dataDir });
runner.register({
  name: 'recorder',
  handler: `${packagePath('lambda/fixtures/recorder.ts')}#handler`,
  environment: { OUT_FILE: outFile, DELAY_MS: '300' },
});
const mappings = await EventSourceMappings.open({ dataDir, runner, sqsEndpoint, pollersPerMapping: 1 });
const server = createAwsServer({ services: [], routes: lambdaRoutes(runner) });
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
process.stdout.write(`ready http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
if (flag === '--map' && queueArn) {
  const { uuid } = await mappings.create({ functionName: 'recorder', queueArn });
  process.stdout.write(`mapped ${uuid}\n`);
}

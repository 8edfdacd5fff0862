/**
 * A child process for crash tests of the whole system: the embedded AWS with the task Lambdas, and the
 * front-end, on a given data directory, reaching a payment gateway and vending vendor at the given URLs.
 * The simulators stay in the test's own process, so what they remember (charges, idempotency keys, vends)
 * survives a kill -9 of this one, as a real gateway's and vendor's would.
 *
 * Prints `ready {"frontEndUrl","awsEndpoint","stateMachineArn"}` (one line of JSON) once the front-end
 * listens. Tests kill it with SIGKILL and start it again on the same data directory.
 *
 * Usage: node system/bundle/run-bundled.mjs system/testing/payment-system-process.ts <dataDir> <gatewayUrl> <vendorUrl> <definition.json>
 */
import { readFile } from 'node:fs/promises';
import { buildApp } from '../../frontend-api/app.ts';
import { frontendLoggerOptions } from '../../frontend-api/logging.ts';
import { startPaymentSystem } from '../payment-system.ts';
import type { PaymentSystemProcessReady } from './payment-system-processes.ts';

const [dataDir, gatewayUrl, vendorUrl, definitionFile] = process.argv.slice(2);
if (!dataDir || !gatewayUrl || !vendorUrl || !definitionFile) {
  throw new Error('usage: payment-system-process.ts <dataDir> <gatewayUrl> <vendorUrl> <definition.json>');
}
const system = await startPaymentSystem({
  port: 0,
  dataDir,
  providers: { gatewayUrl, vendorUrl },
  // Synthesized once by the test: a CDK synthesis in every restart would cost seconds each.
  definition: JSON.parse(await readFile(definitionFile, 'utf8')) as Record<string, unknown>,
  // Logging as npm start does, so a test can look for secrets in what was logged.
  logLevel: 'INFO',
});
const frontEnd = await buildApp({
  config: {
    awsEndpointUrl: system.aws.endpoint,
    stateMachineArn: system.stateMachineArn,
    database: system.database,
    allowedOrigins: ['http://127.0.0.1'],
    rateLimitMax: 10_000,
  },
  fastify: { logger: frontendLoggerOptions({ level: 'info' }) },
});
await frontEnd.listen({ port: 0, host: '127.0.0.1' });
const address = frontEnd.server.address();
const ready: PaymentSystemProcessReady = {
  frontEndUrl: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`,
  awsEndpoint: system.aws.endpoint,
  stateMachineArn: system.stateMachineArn,
};
process.stdout.write(`ready ${JSON.stringify(ready)}\n`);

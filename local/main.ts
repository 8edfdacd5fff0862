/**
 * `npm start`: the embedded AWS on 127.0.0.1:4566 with its state in `.data/`.
 *
 * and the payment gateway and vending vendor simulators on 127.0.0.1:4100.
 *
 * Environment: LOCAL_AWS_PORT (default 4566), DATA_DIR (default .data), AWS_REGION (default us-east-1),
 * SIMULATORS_PORT (default 4100).
 */
import { startEmbeddedAws } from './embedded-aws.ts';
import { startSimulators } from './simulators/start-simulators.ts';

const port = Number(process.env.LOCAL_AWS_PORT ?? 4566);
const dataDir = process.env.DATA_DIR ?? '.data';

const aws = await startEmbeddedAws({ port, dataDir, region: process.env.AWS_REGION ?? 'us-east-1' });
console.log(`embedded AWS listening on ${aws.endpoint} (data in ${dataDir})`);
console.log('  Step Functions, SQS, Lambda, SNS (sink) and the RDS Data API; starting the database...');
await aws.dataApi();
console.log('  RDS Data API ready (PostgreSQL in PGlite)');
const simulators = await startSimulators({ port: Number(process.env.SIMULATORS_PORT ?? 4100) });
console.log(
  `simulators (not the real parties): payment gateway ${simulators.gatewayUrl}, vending vendor ${simulators.vendorUrl}`,
);

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    Promise.all([aws.close(), simulators.close()]).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}

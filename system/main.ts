/**
 * `npm start`: the whole payment-to-vend system on this machine.
 *
 * - the embedded AWS on 127.0.0.1:4566 (Step Functions running the CDK-synthesized PaymentToVend machine,
 *   SQS, the task Lambdas, SNS, the RDS Data API), its state in `.data/`;
 * - the payment gateway and vending vendor simulators on 127.0.0.1:4100;
 * - the Fastify front-end on http://127.0.0.1:3000;
 * - the operator console on http://127.0.0.1:3001 (ops-console/), reading the embedded AWS through the AWS SDK;
 *   its actions (decisions on open payments, stop, redrive) are on, as this is the operator's own machine with
 *   simulated money: OPS_ENABLE_ACTIONS=false makes it read-only (`npm run console` is read-only by default).
 *
 * Each on-call alert (a publish to the OnCall topic) is printed as it is published, as
 * `ON-CALL ALERT <time> <subject>: <message>`, alerts from executions resumed after a restart included.
 *
 * Environment: PORT (3000), LOCAL_AWS_PORT (4566), SIMULATORS_PORT (4100), DATA_DIR (.data), LOCAL_ENVIRONMENT
 * (dev): whose settings to run (functions, queues, the event source mapping, the workflow: system/topology.ts),
 * SIMULATOR_FAULTS (off): faults the simulators inject, `seed:<n>` or JSON (simulators/faults.ts),
 * OPS_PORT (3001): the operator console's port, OPS_ENABLE_ACTIONS (true): let it decide, stop and redrive,
 * LOCAL_AWS_IN_PROCESS (1): the task Lambdas' and the SQS poller's AWS calls reach the embedded AWS in this process
 * without a socket; 0 sends them over HTTP to its endpoint. The front-end and the operator console always use the
 * endpoint (BENCHMARKS.md: the front-end in-process made the customer's first event slower).
 */
import { frontendLoggerOptions } from '../frontend-api/logging.ts';
import { type EnvironmentName, environmentNamed } from '../infra/lib/environments.ts';
import { buildOpsConsole } from '../ops-console/app.ts';
import { faultPlanFromEnv } from '../simulators/faults.ts';
import { startLocalFrontEnd } from './local-front-end.ts';
import { printOnCallAlerts } from './on-call-alerts.ts';
import { startPaymentSystem } from './payment-system.ts';

const port = Number(process.env.PORT ?? 3000);
const opsPort = Number(process.env.OPS_PORT ?? 3001);
const opsActionsEnabled = process.env.OPS_ENABLE_ACTIONS !== 'false';
const awsPort = Number(process.env.LOCAL_AWS_PORT ?? 4566);
const simulatorsPort = Number(process.env.SIMULATORS_PORT ?? 4100);
const dataDir = process.env.DATA_DIR ?? '.data';
// Refuses an unknown name at once, naming the ones there are.
const environment: EnvironmentName = environmentNamed(process.env.LOCAL_ENVIRONMENT ?? 'dev').name;
// Refused at once when malformed, rather than running without the faults asked for.
const simulatorFaults = faultPlanFromEnv(process.env.SIMULATOR_FAULTS);

console.log(
  `starting the embedded AWS on 127.0.0.1:${awsPort} (data in ${dataDir}) with ${environment}'s settings, and the simulators...`,
);
const startedAt = Date.now();
// The simulators keep their state in dataDir too, so a restart finds what a real gateway and vendor would remember.
const system = await startPaymentSystem({
  port: awsPort,
  dataDir,
  simulatorsPort,
  environment,
  simulators: { dataDir, ...(simulatorFaults === undefined ? {} : { faults: simulatorFaults }) },
});
if (simulatorFaults !== undefined)
  console.log(`simulator faults on (SIMULATOR_FAULTS=${process.env.SIMULATOR_FAULTS})`);
// Executions resumed during the start may have paged before this listens: `since` replays those first.
printOnCallAlerts(system, startedAt);
const frontEnd = await startLocalFrontEnd(system, {
  port,
  allowedOrigins: [`http://127.0.0.1:${port}`, `http://localhost:${port}`],
  fastify: { logger: frontendLoggerOptions({ level: process.env.LOG_LEVEL ?? 'info' }) },
});
// The operator console reads the embedded AWS only through its endpoint, as it would read a real account;
// it answers on loopback only.
const opsConsole = await buildOpsConsole({
  config: {
    awsEndpointUrl: system.aws.endpoint,
    actionsEnabled: opsActionsEnabled,
    // The payments database as the console's own read-only role (payments_console).
    database: system.consoleDatabase,
  },
  fastify: { logger: { level: process.env.LOG_LEVEL ?? 'info' } },
});
await opsConsole.listen({ port: opsPort, host: '127.0.0.1' });

console.log(`
payment-to-vend is running:
  top up a meter:      http://127.0.0.1:${port}/   (API docs: http://127.0.0.1:${port}/docs)
  operator console:    http://127.0.0.1:${opsPort}/   (${opsActionsEnabled ? 'decisions, stop and redrive enabled' : 'read-only (OPS_ENABLE_ACTIONS=false)'})
  embedded AWS:        ${system.aws.endpoint}   (state machine ${system.stateMachineArn})
  settings:            ${environment}'s (LOCAL_ENVIRONMENT): up to ${system.topology.workflow.maxVendAttempts} vend attempts, meter-vending ${system.topology.paymentSuccessMapping.maxConcurrency} at a time
  simulators:          gateway ${system.simulators.gatewayUrl}, vendor ${system.simulators.vendorUrl}
  test cards:          tok_visa, tok_chargeDeclined, tok_insufficientFunds, tok_gatewayOutage (README lists all)
  test meters:         1200000000011 vends; 9901000000017 fails twice then vends; 9902000000019 stays down
                       until its outage is ended: curl -X POST ${system.simulators.vendorUrl}/simulator/outages/9902000000019/end
  on-call alerts:      printed here as ON-CALL ALERT lines; or subscribe a queue or a URL to ${system.onCallTopicArn}
Ctrl-C stops it; everything is kept in ${dataDir}.`);

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    Promise.all([frontEnd.app.close(), opsConsole.close()])
      .then(() => system.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(error);
          process.exit(1);
        },
      );
  });
}

/**
 * The chaos run's system under test: the whole payment system as `npm start` builds it (system/main.ts), in a
 * child process that `npm run chaos` kills with SIGKILL and starts again on the same data directory and ports.
 *
 * What it runs is npm start's: `startPaymentSystem` with dev's topology, the task Lambdas logging at INFO, the
 * front-end with npm start's logger options, and every on-call alert printed as an `ON-CALL ALERT` line. What
 * differs, and why:
 * - the gateway and vendor simulators run in the chaos process (their journals in `<dataDir>/simulators`, and
 *   the fault plan in front of them), as system/restart.crash.test.ts has them: a real gateway and vendor do
 *   not die with our system, so a charge the gateway makes while the system is dead is the charge between a
 *   charge and its recording that the run is after;
 * - the state machine is the construct synthesized once by the chaos run with shorter waits (a vend in flight
 *   at a kill is retried after a 20 s heartbeat rather than dev's 5 minutes), passed as a file so that a
 *   restart does not cost a CDK synthesis;
 * - the front-end (started as npm start starts it, event tail woken by commits) allows the chaos clients, all
 *   on 127.0.0.1, more than npm start's 120 requests a minute;
 * - no operator console (the run reads the executions, the database and the queues through the SDKs itself).
 *
 * Prints `ready <json>` (ChaosSystemReady) once the front-end listens.
 *
 * Usage: node system/bundle/run-bundled.mjs system/chaos/system-process.ts <options.json>   (ChaosSystemOptions)
 */
import { readFile } from 'node:fs/promises';
import { frontendLoggerOptions } from '../../frontend-api/logging.ts';
import { startLocalFrontEnd } from '../local-front-end.ts';
import { printOnCallAlerts } from '../on-call-alerts.ts';
import { startPaymentSystem } from '../payment-system.ts';

/** What the chaos run hands the process, as a JSON file. */
export interface ChaosSystemOptions {
  readonly dataDir: string;
  readonly awsPort: number;
  readonly frontEndPort: number;
  readonly gatewayUrl: string;
  readonly vendorUrl: string;
  /** The state machine's ASL, as a JSON file. */
  readonly definitionFile: string;
}

/** What the process prints after `ready `, as one line of JSON. */
export interface ChaosSystemReady {
  readonly frontEndUrl: string;
  readonly awsEndpoint: string;
  readonly stateMachineArn: string;
  /** The master user's Data API target: the run reads every table with it. */
  readonly masterDatabase: {
    readonly resourceArn: string;
    readonly secretArn: string;
    readonly database: string;
  };
  readonly queueUrls: Readonly<Record<string, string>>;
  readonly onCallTopicArn: string;
}

const [optionsFile] = process.argv.slice(2);
if (!optionsFile) throw new Error('usage: system-process.ts <options.json>');
const options = JSON.parse(await readFile(optionsFile, 'utf8')) as ChaosSystemOptions;
const startedAt = Date.now();

const system = await startPaymentSystem({
  port: options.awsPort,
  dataDir: options.dataDir,
  providers: { gatewayUrl: options.gatewayUrl, vendorUrl: options.vendorUrl },
  definition: JSON.parse(await readFile(options.definitionFile, 'utf8')) as Record<string, unknown>,
  logLevel: 'INFO',
});
// As npm start prints them, those of executions resumed during the start included.
printOnCallAlerts(system, startedAt);
const frontEnd = await startLocalFrontEnd(system, {
  port: options.frontEndPort,
  allowedOrigins: [`http://127.0.0.1:${options.frontEndPort}`],
  config: { rateLimitMax: 1_000_000 },
  fastify: { logger: frontendLoggerOptions({ level: 'info' }) },
});
const ready: ChaosSystemReady = {
  frontEndUrl: frontEnd.url,
  awsEndpoint: system.aws.endpoint,
  stateMachineArn: system.stateMachineArn,
  masterDatabase: system.masterDatabase,
  queueUrls: system.queueUrls,
  onCallTopicArn: system.onCallTopicArn,
};
process.stdout.write(`ready ${JSON.stringify(ready)}\n`);

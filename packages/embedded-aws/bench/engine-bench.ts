/**
 * `npm run bench:engine`: executions/s and state transitions/s of the embedded Step Functions engine,
 * in memory and durable, side by side with aws-local-stepfunctions running the same definition.
 *
 * Each contender runs the representative definition below for BENCH_SECONDS (default 10) with
 * BENCH_CONCURRENCY executions in flight (default 100). Task states are answered in-process by the same
 * handlers for every contender, so what is measured is the interpreter (and, when durable, the journal).
 *
 * Transitions are counted as AWS bills them: one per state entered, Map iterations' states included.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LambdaRunner } from '../lambda/lambda-runner.ts';
import { SqsEngine } from '../sqs/sqs-engine.ts';
import { createSqsService } from '../sqs/sqs-service.ts';
import { AwsServiceIntegrations } from '../stepfunctions/aws-integrations.ts';
import { StepFunctionsEngine } from '../stepfunctions/engine/engine.ts';
import type { StateMachineRecord } from '../stepfunctions/engine/model.ts';
import type { ServiceIntegrations } from '../stepfunctions/integrations.ts';
import { InProcessIntegrations } from '../stepfunctions/integrations.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 100);
const ITEMS = 10;

/** A Task with Retry and Catch, a Choice, a Pass, a Map over 10 items and an sqs:sendMessage. */
export const REPRESENTATIVE_DEFINITION = {
  Comment: 'Engine benchmark: charge, decide, enrich, fan out over lines, publish',
  StartAt: 'Charge',
  States: {
    Charge: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: 'charge', 'Payload.$': '$' },
      ResultSelector: { 'status.$': '$.Payload.status', 'lines.$': '$.Payload.lines' },
      ResultPath: '$.charge',
      Retry: [{ ErrorEquals: ['Transient'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 2 }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'ChargeFailed' }],
      Next: 'Charged?',
    },
    'Charged?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.charge.status', StringEquals: 'charged', Next: 'Enrich' }],
      Default: 'ChargeFailed',
    },
    Enrich: {
      Type: 'Pass',
      Parameters: { 'paymentId.$': '$.paymentId', 'lines.$': '$.charge.lines' },
      Next: 'EachLine',
    },
    EachLine: {
      Type: 'Map',
      ItemsPath: '$.lines',
      ItemProcessor: {
        StartAt: 'Line',
        States: { Line: { Type: 'Pass', Parameters: { 'line.$': '$' }, End: true } },
      },
      ResultPath: '$.lines',
      Next: 'Publish',
    },
    Publish: {
      Type: 'Task',
      Resource: 'arn:aws:states:::sqs:sendMessage',
      Parameters: { QueueUrl: 'http://127.0.0.1:4566/000000000000/PaymentSuccess', 'MessageBody.$': '$' },
      ResultPath: null,
      End: true,
    },
    ChargeFailed: { Type: 'Fail', Error: 'ChargeFailed' },
  },
} as const;

/** Charge, Charged?, Enrich, EachLine, 10 × Line, Publish. */
const TRANSITIONS_PER_EXECUTION = 4 + ITEMS + 1;

const chargeResult = (input: unknown) => ({
  Payload: {
    status: 'charged',
    lines: Array.from({ length: ITEMS }, (_, i) => ({
      i,
      input: (input as { paymentId: string }).paymentId,
    })),
  },
  StatusCode: 200,
});
const publishResult = () => ({ MessageId: '00000000-0000-0000-0000-000000000000', MD5OfMessageBody: 'x' });

interface Measured {
  readonly name: string;
  readonly executions: number;
  readonly seconds: number;
  /** CPU time of this process per execution: steadier than wall time when the machine is busy. */
  readonly cpuMsPerExecution: number;
}

/** Keeps CONCURRENCY executions in flight for SECONDS and counts the ones that succeeded. */
async function drive(name: string, startOne: (index: number) => Promise<void>): Promise<Measured> {
  const deadline = performance.now() + SECONDS * 1000;
  let index = 0;
  let executions = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const lane = async () => {
    while (performance.now() < deadline) {
      await startOne(index++);
      executions += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  const cpu = process.cpuUsage(cpuBefore);
  return {
    name,
    executions,
    seconds: (performance.now() - started) / 1000,
    cpuMsPerExecution: (cpu.user + cpu.system) / 1000 / executions,
  };
}

async function embedded(name: string, dataDir: string | null): Promise<Measured> {
  const integrations = new InProcessIntegrations()
    .handle('arn:aws:states:::lambda:invoke', ({ parameters }) =>
      chargeResult((parameters as { Payload: unknown }).Payload),
    )
    .handle('arn:aws:states:::sqs:sendMessage', publishResult);
  return driveEngine(name, dataDir, integrations);
}

/**
 * The same definition with its Charge step run by the embedded Lambda runner (a real handler module) and its
 * Publish step sent to the embedded SQS, durable, as the payment flow will run locally.
 */
async function embeddedWithServices(name: string, dataDir: string): Promise<Measured> {
  const lambda = await LambdaRunner.open({ dataDir: null });
  lambda.register({
    name: 'charge',
    handler: `${fileURLToPath(new URL('./bench-handlers.ts', import.meta.url))}#charge`,
  });
  const sqs = await SqsEngine.open({ dataDir, endpoint: 'http://127.0.0.1:4566' });
  const sqsService = createSqsService(sqs);
  const context = { requestId: 'bench', region: 'us-east-1', accountId: '000000000000' };
  await sqsService.handle('CreateQueue', { QueueName: 'PaymentSuccess' }, context);
  const integrations = new AwsServiceIntegrations({
    region: 'us-east-1',
    accountId: '000000000000',
    lambda,
    services: { sqs: { ...sqsService, flushed: () => sqs.flushed() } },
  });
  const result = await driveEngine(name, dataDir, integrations);
  await sqs.close();
  await lambda.close();
  return result;
}

async function driveEngine(
  name: string,
  dataDir: string | null,
  integrations: ServiceIntegrations,
): Promise<Measured> {
  const engine = await StepFunctionsEngine.open({ dataDir, integrations });
  const machine: StateMachineRecord = {
    arn: 'arn:aws:states:us-east-1:000000000000:stateMachine:bench',
    name: 'bench',
    type: 'STANDARD',
    definition: JSON.stringify(REPRESENTATIVE_DEFINITION),
    roleArn: 'arn:aws:iam::000000000000:role/bench',
    creationDate: Date.now(),
    revisionId: 'bench',
  };
  engine.putMachine(machine);
  const result = await drive(name, async (index) => {
    const arn = `arn:aws:states:us-east-1:000000000000:execution:bench:${name}-${index}`;
    engine.start(machine, {
      arn,
      name: `${name}-${index}`,
      input: JSON.stringify({ paymentId: `p-${index}` }),
      durable: true,
    });
    const done = await engine.finished(arn);
    if (done.status !== 'SUCCEEDED')
      throw new Error(`${arn} ended ${done.status}: ${done.error} ${done.cause}`);
    if (index % 1000 === 0 && integrations instanceof InProcessIntegrations) integrations.calls.length = 0;
  });
  await engine.flushed();
  await engine.close();
  return result;
}

async function awsLocalStepFunctions(): Promise<Measured> {
  // aws-local-stepfunctions calls Promise.withResolvers, which Node 20 lacks: polyfill it for the benchmark only.
  const promiseWithResolvers = Promise as unknown as { withResolvers?: () => unknown };
  promiseWithResolvers.withResolvers ??= () => {
    let resolve!: (value: unknown) => void;
    let reject!: (reason: unknown) => void;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
  const { StateMachine } = await import('aws-local-stepfunctions');
  const machine = new StateMachine(REPRESENTATIVE_DEFINITION as never, {
    validationOptions: { checkArn: false },
  });
  return drive('aws-local-stepfunctions', async (index) => {
    const execution = machine.run(
      { paymentId: `p-${index}` },
      {
        overrides: {
          taskResourceLocalHandlers: {
            Charge: (input) => chargeResult(input) as never,
            Publish: () => publishResult() as never,
          },
        },
      },
    );
    await execution.result;
  });
}

function line(measured: Measured): string {
  const perSecond = measured.executions / measured.seconds;
  return `| ${measured.name} | ${measured.executions} | ${perSecond.toFixed(0)} | ${(perSecond * TRANSITIONS_PER_EXECUTION).toFixed(0)} | ${measured.cpuMsPerExecution.toFixed(3)} |`;
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const dataDir = mkdtempSync(join(tmpdir(), 'engine-bench-'));
try {
  if (process.env.BENCH_ONLY === 'memory') {
    // For profiling: BENCH_ONLY=memory node --cpu-prof --import tsx packages/embedded-aws/bench/engine-bench.ts
    console.log(line(await embedded('embedded, in memory', null)));
    process.exit(0);
  }
  // Contenders take turns, round after round, so a busy moment on the machine does not favour one of them.
  const rounds = new Map<string, Measured[]>();
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const measured of [
      await awsLocalStepFunctions(),
      await embedded('embedded, in memory', null),
      await embedded('embedded, durable', join(dataDir, String(round))),
      await embeddedWithServices(
        'embedded, durable, with Lambda and SQS',
        join(dataDir, `services-${round}`),
      ),
    ]) {
      rounds.set(measured.name, [...(rounds.get(measured.name) ?? []), measured]);
    }
  }
  console.log(
    `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model}; ${ROUNDS} rounds of ${SECONDS} s per engine, ` +
      `${CONCURRENCY} in flight, ${TRANSITIONS_PER_EXECUTION} transitions per execution; medians of the rounds`,
  );
  console.log(
    '| engine | executions/s (each round) | executions/s | state transitions/s | CPU ms per execution |',
  );
  console.log('| --- | --- | ---: | ---: | ---: |');
  const medians = new Map<string, { perSecond: number; cpuMs: number }>();
  for (const [name, measured] of rounds) {
    const perSecond = measured.map((m) => m.executions / m.seconds);
    const middle = { perSecond: median(perSecond), cpuMs: median(measured.map((m) => m.cpuMsPerExecution)) };
    medians.set(name, middle);
    console.log(
      `| ${name} | ${perSecond.map((value) => value.toFixed(0)).join(', ')} | ${middle.perSecond.toFixed(0)} | ` +
        `${(middle.perSecond * TRANSITIONS_PER_EXECUTION).toFixed(0)} | ${middle.cpuMs.toFixed(3)} |`,
    );
  }
  const reference = medians.get('aws-local-stepfunctions')!;
  const inMemory = medians.get('embedded, in memory')!;
  const durable = medians.get('embedded, durable')!;
  console.log(
    `in memory vs aws-local-stepfunctions: ${(inMemory.perSecond / reference.perSecond).toFixed(2)}x executions/s, ` +
      `${(reference.cpuMs / inMemory.cpuMs).toFixed(2)}x less CPU per execution (target at least 2x)`,
  );
  console.log(
    `durable: ${(durable.perSecond * TRANSITIONS_PER_EXECUTION).toFixed(0)} state transitions/s (target at least 5,000)`,
  );
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}

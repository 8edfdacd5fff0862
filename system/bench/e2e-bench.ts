/**
 * `npm run bench:e2e`: payments/s and POST → `vended` latency of the whole payment-to-vend system, and the
 * RDS Data API statements each payment costs.
 *
 * The system runs in this process as `npm start` runs it: `startPaymentSystem` DURABLE (a temporary data
 * directory, removed afterwards), the gateway and vendor SIMULATORS at zero latency (`tok_visa`, meters that
 * vend at the first attempt), and the front-end `buildApp` listening on a free 127.0.0.1 port. Two changes
 * from `npm start`, both so the benchmark measures the system rather than its guards or the terminal: the
 * front-end's `rateLimitMax` is raised to 1e9 requests/minute, and logging is off (Lambdas SILENT, Fastify
 * logger off). The front-end's event poll interval stays at its default (150 ms) unless
 * BENCH_EVENT_POLL_MS says otherwise. As in `npm start`, the event tail is woken by the embedded Data API's
 * commits to `payment_events` (system/main.ts); BENCH_EVENT_WAKE=0 turns that off, so the tail only polls,
 * as on AWS: run both to compare (see BENCHMARKS.md). The report also gives POST answered → first event on
 * the socket (p50/p99), the customer's wait for the first timeline line.
 *
 * As in `npm start`, the task Lambdas' and the SQS poller's SDK clients reach the embedded AWS in-process
 * (system/payment-system.ts; the front-end uses its endpoint); LOCAL_AWS_IN_PROCESS=0 makes them call the
 * endpoint over HTTP, to compare. The report counts the TCP connections the embedded AWS accepted, to show which way it ran.
 *
 * The load comes from a CHILD process (this file again, BENCH_ROLE=driver), so it has the second core to
 * itself, over loopback HTTP: BENCH_CONCURRENCY lanes (default 16), each one payment at a time:
 * POST /api/payments with a unique Idempotency-Key, then a WebSocket per payment on its `eventsUrl`, until
 * the `vended` event arrives. Latency is from just before the POST to the `vended` frame. BENCH_RATE (per
 * second, default unlimited) caps the starts across all lanes. After a warm-up (BENCH_WARMUP_SECONDS,
 * default 3, not counted) it runs for BENCH_SECONDS (default 30); payments still in flight at the end are
 * waited for (at most 30 s) and counted in the latencies but not in payments/s.
 *
 * Statements are counted by wrapping the embedded Data API's database (`aws.dataApi()`): every
 * ExecuteStatement is one, every BatchExecuteStatement counts its parameter sets; Begin/Commit/Rollback are
 * counted as calls. The front-end's event tail polls are included: they are part of what a payment costs.
 * AWS API calls are counted by operation too (`countAwsCalls`): each pays the SDK's own work, which
 * packages/embedded-aws/bench/sdk-call-bench.ts measures per call.
 *
 * @example
 * BENCH_SECONDS=30 npm run bench:e2e
 */
import { fork } from 'node:child_process';
import { subscribe } from 'node:diagnostics_channel';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalFrontEnd } from '../local-front-end.ts';
import { type PaymentSystem, startPaymentSystem } from '../payment-system.ts';
import { type DriverReport, type DriverSettings, runDriver } from './e2e-driver.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const RATE = process.env.BENCH_RATE ? Number(process.env.BENCH_RATE) : null;
const EVENT_POLL_MS = process.env.BENCH_EVENT_POLL_MS ? Number(process.env.BENCH_EVENT_POLL_MS) : undefined;
const IN_MEMORY = process.env.BENCH_IN_MEMORY === '1';
const EVENT_WAKE = process.env.BENCH_EVENT_WAKE !== '0';
const TARGET_PAYMENTS_PER_SECOND = 1000;
const TARGET_P99_MS = 100;

interface StatementCounts {
  statements: number;
  calls: number;
  /** Statements by the start of their SQL (whitespace folded), to see which ones a payment costs. */
  bySql: Map<string, number>;
}

/**
 * Counts the AWS API calls that reach the embedded AWS, by operation: those of the in-process clients (the task
 * Lambdas, the SQS poller) by wrapping the request handler they share, and those over HTTP (the front-end) by
 * Node's `http.server.request.start` channel. Each call pays the SDK's serialization, signing and parsing.
 */
function countAwsCalls(system: PaymentSystem): Map<string, number> {
  const counts = new Map<string, number>();
  const count = (operation: string) => counts.set(operation, (counts.get(operation) ?? 0) + 1);
  const handler = system.awsRequestHandler;
  if (handler !== undefined) {
    const handle = handler.handle.bind(handler);
    handler.handle = (request, options) => {
      const { headers, method, path, body } = request;
      count(operationOf(headers['x-amz-target'] ?? headers['X-Amz-Target'], method, path, body));
      return handle(request, options);
    };
  }
  subscribe('http.server.request.start', (message) => {
    const { request, socket } = message as { request: IncomingMessage; socket: Socket };
    if (socket.localPort !== system.aws.port) return;
    const target = request.headers['x-amz-target'];
    const operation = operationOf(
      typeof target === 'string' ? target : undefined,
      request.method ?? '',
      request.url ?? '',
      undefined,
    );
    count(`${operation} (HTTP)`);
  });
  return counts;
}

/** `AmazonSQS.SendMessage`, `SNS Publish` (query protocol: the form body's Action), `POST /Execute`. */
function operationOf(target: string | undefined, method: string, path: string, body: unknown): string {
  if (target !== undefined) return target;
  const action = typeof body === 'string' ? /(?:^|&)Action=([A-Za-z]+)/.exec(body)?.[1] : undefined;
  if (action !== undefined) return `query ${action}`;
  return `${method} ${path.replace(/\/functions\/[^/]+/, '/functions/{name}')}`;
}

/** Counts what reaches the embedded Data API's database, whichever client sent it. */
function countStatements(database: object): StatementCounts {
  const counts: StatementCounts = { statements: 0, calls: 0, bySql: new Map() };
  const target = database as Record<string, unknown>;
  const wrap = (method: string, statementsOf: (input: unknown) => number) => {
    const original = target[method] as (input: unknown) => Promise<unknown>;
    target[method] = (input: unknown) => {
      counts.calls += 1;
      const statements = statementsOf(input);
      counts.statements += statements;
      const sql = (input as { sql?: string }).sql;
      if (sql !== undefined && statements > 0) {
        const key = sql.replace(/\s+/g, ' ').trim().slice(0, 90);
        counts.bySql.set(key, (counts.bySql.get(key) ?? 0) + statements);
      }
      return original.call(database, input);
    };
  };
  wrap('executeStatement', () => 1);
  wrap(
    'batchExecuteStatement',
    (input) => (input as { parameterSets?: unknown[] }).parameterSets?.length ?? 0,
  );
  for (const method of ['beginTransaction', 'commitTransaction', 'rollbackTransaction'])
    wrap(method, () => 0);
  return counts;
}

async function main(): Promise<void> {
  const dataDir = IN_MEMORY ? null : mkdtempSync(join(tmpdir(), 'bench-e2e-'));
  const system = await startPaymentSystem({ port: 0, dataDir, simulatorsPort: 0, logLevel: 'SILENT' });
  let awsConnections = 0;
  subscribe('net.server.socket', (message) => {
    if ((message as { socket: Socket }).socket.localPort === system.aws.port) awsConnections += 1;
  });
  const dataApi = await system.aws.dataApi();
  const counts = countStatements(dataApi);
  const awsCalls = countAwsCalls(system);
  const { app: frontEnd, url: baseUrl } = await startLocalFrontEnd(system, {
    port: 0,
    config: {
      rateLimitMax: 1_000_000_000,
      ...(EVENT_POLL_MS === undefined ? {} : { eventPollIntervalMs: EVENT_POLL_MS }),
    },
    // EVENT_WAKE=0 measures the poll alone, as on AWS.
    wakeOnCommit: EVENT_WAKE,
    fastify: { logger: false },
  });

  const settings: DriverSettings = {
    baseUrl,
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    concurrency: CONCURRENCY,
    rate: RATE,
  };
  console.error(
    `bench:e2e: ${IN_MEMORY ? 'in memory' : `durable (${dataDir})`}, front-end ${baseUrl}, ` +
      `${CONCURRENCY} lanes${RATE === null ? '' : ` at most ${RATE}/s`}, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s`,
  );

  let report: DriverReport;
  let before: StatementCounts = { statements: 0, calls: 0, bySql: new Map() };
  let awsCallsBefore = new Map<string, number>();
  const cpuBefore = { usage: process.cpuUsage() };
  try {
    report = await new Promise<DriverReport>((resolve, reject) => {
      const child = fork(fileURLToPath(import.meta.url), [], {
        env: { ...process.env, BENCH_ROLE: 'driver', BENCH_SETTINGS: JSON.stringify(settings) },
        execArgv: ['--import', 'tsx'],
      });
      let result: DriverReport | undefined;
      child.on('message', (message: { kind: string; report?: DriverReport }) => {
        if (message.kind === 'measuring') {
          before = { ...counts, bySql: new Map(counts.bySql) };
          awsCallsBefore = new Map(awsCalls);
          cpuBefore.usage = process.cpuUsage();
        } else if (message.kind === 'done') result = message.report;
      });
      child.on('error', reject);
      child.on('exit', (code) =>
        result ? resolve(result) : reject(new Error(`the load driver exited with ${code}`)),
      );
    });
  } finally {
    await frontEnd.close();
    await system.close();
    if (dataDir !== null) rmSync(dataDir, { recursive: true, force: true });
  }
  const cpu = process.cpuUsage(cpuBefore.usage);

  const finished = report.latenciesMs.length;
  const statements = (counts.statements - before.statements) / Math.max(1, finished);
  const calls = (counts.calls - before.calls) / Math.max(1, finished);
  const perSecond = report.completedInWindow / report.windowSeconds;
  const p50 = percentile(report.latenciesMs, 50);
  const p99 = percentile(report.latenciesMs, 99);
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}`;
  const mode = IN_MEMORY ? 'in memory' : 'durable';
  const poll = `${EVENT_POLL_MS ?? 150} ms${EVENT_WAKE ? ', woken by commits' : ', no wake-up'}`;
  const awsCallWay = system.awsRequestHandler === undefined ? 'AWS calls over HTTP' : 'AWS calls in-process';
  const firstP50 = percentile(report.firstEventMs, 50);
  const firstP99 = percentile(report.firstEventMs, 99);

  const bySql = [...counts.bySql]
    .map(([sql, count]) => [sql, (count - (before.bySql.get(sql) ?? 0)) / Math.max(1, finished)] as const)
    .filter(([, perPayment]) => perPayment > 0)
    .sort((a, b) => b[1] - a[1]);
  const byOperation = [...awsCalls]
    .map(
      ([operation, count]) =>
        [operation, (count - (awsCallsBefore.get(operation) ?? 0)) / Math.max(1, finished)] as const,
    )
    .filter(([, perPayment]) => perPayment > 0)
    .sort((a, b) => b[1] - a[1]);
  const awsCallsPerPayment = byOperation.reduce((sum, [, perPayment]) => sum + perPayment, 0);
  console.log(`
AWS API calls per payment, by operation (${awsCallsPerPayment.toFixed(2)} in all):
${byOperation.map(([operation, perPayment]) => `  ${perPayment.toFixed(2)}  ${operation}`).join('\n')}`);
  console.log(`
Data API statements per payment, by statement:
${bySql.map(([sql, perPayment]) => `  ${perPayment.toFixed(2)}  ${sql}`).join('\n')}`);

  console.log(`
payments vended in the ${report.windowSeconds.toFixed(1)} s window: ${report.completedInWindow} (${perSecond.toFixed(0)}/s)
  plus ${finished - report.completedInWindow} in flight at the end, waited for; failed or timed out: ${report.failed}${report.firstFailure ? ` (first: ${report.firstFailure})` : ''}
POST → vended latency over ${finished} payments: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${Math.max(0, ...report.latenciesMs).toFixed(1)} ms
POST answered → first event on the socket: p50 ${firstP50.toFixed(1)} ms, p99 ${firstP99.toFixed(1)} ms
Data API per payment: ${statements.toFixed(2)} statements, ${calls.toFixed(2)} calls
embedded AWS: ${awsCallWay} (LOCAL_AWS_IN_PROCESS), ${awsConnections} TCP connections accepted
system process CPU per payment: ${((cpu.user + cpu.system) / 1000 / Math.max(1, finished)).toFixed(2)} ms (load average at the end ${loadavg()[0]?.toFixed(2)})
load driver CPU per payment (its own process): ${(report.cpuMs / Math.max(1, finished)).toFixed(2)} ms
target ${TARGET_PAYMENTS_PER_SECOND}/s with p99 < ${TARGET_P99_MS} ms: ${perSecond >= TARGET_PAYMENTS_PER_SECOND && p99 < TARGET_P99_MS ? 'MET' : 'NOT MET'}

| system | lanes | payments/s | p50 POST→vended | p99 POST→vended | p50/p99 answer→first event | Data API statements per payment | CPU per payment | machine | Node |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |
| ${mode}, ${awsCallWay}, event poll ${poll}, WebSocket per payment | ${CONCURRENCY}${RATE === null ? '' : ` (≤ ${RATE}/s)`} | ${perSecond.toFixed(0)} | ${p50.toFixed(0)} ms | ${p99.toFixed(0)} ms | ${firstP50.toFixed(0)}/${firstP99.toFixed(0)} ms | ${statements.toFixed(1)} | ${((cpu.user + cpu.system) / 1000 / Math.max(1, finished)).toFixed(0)} ms | ${machine} | ${process.version} |`);
}

/** Nearest-rank percentile. */
function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

if (process.env.BENCH_ROLE === 'driver') {
  const settings = JSON.parse(process.env.BENCH_SETTINGS ?? '{}') as DriverSettings;
  const report = await runDriver(settings, () => process.send?.({ kind: 'measuring' }));
  process.send?.({ kind: 'done', report }, () => process.exit(0));
} else {
  await main();
}

/**
 * What binding prepared statements saves the embedded Data API (rds-data/prepared-statements.ts). Two
 * databases on temporary data directories (as `npm start` runs them), one with prepared statements and one
 * without, each sent the same calls through `DataApiDatabase` as a service role: per payment, the three kinds
 * of statement a payment's tasks send most (append an event with a CTE that dedupes and numbers it, read the
 * payment, record the charge). BENCH_PAYMENTS payments (default 1000) per turn, the two taking turns for
 * BENCH_ROUNDS rounds (default 3). Prints the wall and CPU time per call.
 *
 * @example
 * node --import tsx packages/embedded-aws/bench/prepared-statements-bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataApiDatabase, type ExecuteStatementInput } from '../rds-data/database.ts';

const PAYMENTS = Number(process.env.BENCH_PAYMENTS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SERVICE_SECRET = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:payments-tasks-AbCdEf';

const SCHEMA = [
  'CREATE ROLE payments_tasks NOLOGIN',
  `CREATE TABLE payments (payment_id text PRIMARY KEY, meter_id text NOT NULL, amount_pence int NOT NULL,
     status text NOT NULL, gateway_charge_id text, updated_at timestamptz NOT NULL DEFAULT now())`,
  `CREATE TABLE payment_events (id bigserial PRIMARY KEY, payment_id text NOT NULL REFERENCES payments,
     seq int NOT NULL, type text NOT NULL, body jsonb NOT NULL, at timestamptz NOT NULL DEFAULT now(),
     UNIQUE (payment_id, seq))`,
  'GRANT SELECT, INSERT, UPDATE ON payments, payment_events TO payments_tasks',
  'GRANT USAGE ON SEQUENCE payment_events_id_seq TO payments_tasks',
];

const APPEND_EVENT = `WITH last AS (SELECT coalesce(max(seq), 0) AS seq FROM payment_events WHERE payment_id = :paymentId)
  INSERT INTO payment_events (payment_id, seq, type, body)
  SELECT :paymentId, last.seq + 1, :type, CAST(:body AS jsonb) FROM last
  WHERE NOT EXISTS (SELECT 1 FROM payment_events WHERE payment_id = :paymentId AND type = :type)
  RETURNING id, seq`;
const READ_PAYMENT = `SELECT payment_id, meter_id, amount_pence, status, gateway_charge_id
  FROM payments WHERE payment_id = :paymentId`;
const RECORD_CHARGE = `UPDATE payments SET gateway_charge_id = :chargeId, status = 'charged', updated_at = now()
  WHERE payment_id = :paymentId AND status IN ('accepted', 'charged')`;

const text = (name: string, value: string) => ({ name, value: { stringValue: value } });

async function openDatabase(prepareStatements: boolean): Promise<{ database: DataApiDatabase; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'prepared-bench-'));
  const database = await DataApiDatabase.open({
    dataDir: join(dir, 'postgres'),
    roles: { [SERVICE_SECRET]: 'payments_tasks' },
    prepareStatements,
  });
  for (const sql of SCHEMA) await database.executeStatement({ sql });
  return { database, dir };
}

/** One turn: PAYMENTS payments' calls; returns µs of wall and CPU per call. */
async function turn(database: DataApiDatabase, round: number): Promise<{ wall: number; cpu: number }> {
  const call = (input: Omit<ExecuteStatementInput, 'secretArn'>) =>
    database.executeStatement({ ...input, secretArn: SERVICE_SECRET });
  // Created as the master, outside the measurement (the front-end's own call in the system).
  for (let i = 0; i < PAYMENTS; i += 1) {
    await database.executeStatement({
      sql: 'INSERT INTO payments (payment_id, meter_id, amount_pence, status) VALUES (:id, :meter, 2000, :status)',
      parameters: [
        text('id', `pay_${round}_${i}`),
        text('meter', '1200000000011'),
        text('status', 'accepted'),
      ],
    });
  }
  let calls = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < PAYMENTS; i += 1) {
    const paymentId = text('paymentId', `pay_${round}_${i}`);
    await call({ sql: READ_PAYMENT, parameters: [paymentId] });
    await call({ sql: RECORD_CHARGE, parameters: [paymentId, text('chargeId', `ch_${i}`)] });
    for (const type of ['charged', 'vend_requested', 'vended']) {
      await call({
        sql: APPEND_EVENT,
        parameters: [paymentId, text('type', type), text('body', '{"amountPence":2000}')],
      });
    }
    calls += 5;
  }
  const wall = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return { wall: (wall * 1000) / calls, cpu: (cpu.user + cpu.system) / calls };
}

const ways = [
  { name: 'unnamed, parsed and planned every call (as before)', ...(await openDatabase(false)) },
  { name: 'prepared once, then bound by name', ...(await openDatabase(true)) },
];
const results = new Map<string, { wall: number[]; cpu: number[] }>(
  ways.map((way) => [way.name, { wall: [], cpu: [] }]),
);
for (let round = 0; round < ROUNDS; round += 1) {
  for (const way of ways) {
    const { wall, cpu } = await turn(way.database, round);
    results.get(way.name)!.wall.push(wall);
    results.get(way.name)!.cpu.push(cpu);
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(`${PAYMENTS} payments × 5 calls per turn, ${ROUNDS} rounds, as a service role, durable`);
console.log('| way | µs per call, wall (each round) | wall, median | CPU, median |');
console.log('| --- | --- | ---: | ---: |');
for (const [name, { wall, cpu }] of results) {
  console.log(
    `| ${name} | ${wall.map((w) => w.toFixed(0)).join(', ')} | ${median(wall).toFixed(0)} | ${median(cpu).toFixed(0)} |`,
  );
}
for (const way of ways) {
  await way.database.close();
  rmSync(way.dir, { recursive: true, force: true });
}

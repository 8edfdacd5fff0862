/**
 * Would group commit pay in the embedded Data API? PGlite on a data directory (as `npm start` runs it),
 * statements sent as packages/embedded-aws/rds-data/database.ts sends them: Parse, Bind, Describe, Execute and Sync in one
 * `execProtocol` exchange. Three ways to run BENCH_STATEMENTS small INSERTs (default 4000), in turns for
 * BENCH_ROUNDS rounds (default 3):
 * - **autocommit**: one exchange per statement, its own implicit transaction (what the Data API does now);
 * - **grouped, a savepoint each**: BEGIN, then per statement one exchange `SAVEPOINT s; <statement>;
 *   RELEASE s` (what group commit needs so each statement succeeds or fails on its own), COMMIT per
 *   BENCH_GROUP statements (default 8);
 * - **grouped, no savepoints**: the same without them (the bound: not a safe way to group).
 * Prints the wall and CPU time per statement, and PostgreSQL's fsync setting (PGlite runs with it off).
 *
 * @example
 * node --import tsx packages/embedded-aws/bench/group-commit-bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite, protocol } from '@electric-sql/pglite';

const STATEMENTS = Number(process.env.BENCH_STATEMENTS ?? 4000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const GROUP = Number(process.env.BENCH_GROUP ?? 8);
const serialize = protocol.serialize;

const INSERT = 'INSERT INTO bench_events (payment_id, body) VALUES ($1, $2::jsonb)';

function statement(text: string, values: (string | null)[] = []): Uint8Array[] {
  return [
    serialize.parse({ text, types: [] }),
    serialize.bind({ values }),
    serialize.describe({ type: 'P' }),
    serialize.execute({}),
  ];
}

function message(parts: Uint8Array[]): Uint8Array {
  const all = [...parts, serialize.sync()];
  const out = new Uint8Array(all.reduce((size, part) => size + part.length, 0));
  let offset = 0;
  for (const part of all) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

async function exchange(pg: PGlite, parts: Uint8Array[]): Promise<void> {
  const { messages } = await pg.execProtocol(message(parts), { throwOnError: false, syncToFs: false });
  const error = messages.find((m) => m.name === 'error');
  if (error) throw new Error(String((error as unknown as { message: string }).message));
}

const insert = (i: number) => statement(INSERT, [`p${i}`, `{"seq":${i}}`]);

const ways: Record<string, (pg: PGlite) => Promise<void>> = {
  autocommit: async (pg) => {
    for (let i = 0; i < STATEMENTS; i++) await exchange(pg, insert(i));
  },
  'grouped, a savepoint each': async (pg) => {
    for (let i = 0; i < STATEMENTS; i += GROUP) {
      await exchange(pg, statement('BEGIN'));
      for (let j = i; j < Math.min(STATEMENTS, i + GROUP); j++)
        await exchange(pg, [...statement('SAVEPOINT s'), ...insert(j), ...statement('RELEASE s')]);
      await exchange(pg, statement('COMMIT'));
    }
  },
  'grouped, no savepoints': async (pg) => {
    for (let i = 0; i < STATEMENTS; i += GROUP) {
      await exchange(pg, statement('BEGIN'));
      for (let j = i; j < Math.min(STATEMENTS, i + GROUP); j++) await exchange(pg, insert(j));
      await exchange(pg, statement('COMMIT'));
    }
  },
};

const dataDir = mkdtempSync(join(tmpdir(), 'bench-group-commit-'));
const pg = await PGlite.create({ dataDir });
try {
  const fsync = (await pg.query<{ fsync: string }>('SHOW fsync')).rows[0]?.fsync;
  console.log(`PGlite on ${dataDir}: fsync = ${fsync}; ${STATEMENTS} INSERTs per way, groups of ${GROUP}`);
  await pg.exec('CREATE TABLE bench_events (id bigserial PRIMARY KEY, payment_id text, body jsonb)');
  const results = new Map<string, { wall: number[]; cpu: number[] }>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(ways)) {
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      await run(pg);
      const wall = ((performance.now() - wall0) * 1000) / STATEMENTS;
      const used = process.cpuUsage(cpu0);
      const cpu = (used.user + used.system) / STATEMENTS;
      const entry = results.get(name) ?? { wall: [], cpu: [] };
      entry.wall.push(wall);
      entry.cpu.push(cpu);
      results.set(name, entry);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  console.log('\n| way | µs per statement, wall (each round) | wall, median | CPU, median |');
  console.log('| --- | --- | ---: | ---: |');
  for (const [name, { wall, cpu }] of results)
    console.log(
      `| ${name} | ${wall.map((w) => w.toFixed(0)).join(', ')} | ${median(wall).toFixed(0)} | ${median(cpu).toFixed(0)} |`,
    );
} finally {
  await pg.close();
  rmSync(dataDir, { recursive: true, force: true });
}

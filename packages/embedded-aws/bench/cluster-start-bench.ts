/**
 * What starting the embedded Data API's PostgreSQL costs: a new cluster loaded from the kept copy
 * (rds-data/fresh-cluster.ts), in memory, with PGlite's own start parameters (initdb's 128 MB of shared
 * buffers) and with the embedded Data API's (`START_PARAMS`: 32 MB). The two take turns for BENCH_ROUNDS rounds
 * (default 6); prints each start's wall and CPU time and the medians.
 *
 * @example
 * node --import tsx packages/embedded-aws/bench/cluster-start-bench.ts
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { PGlite } from '@electric-sql/pglite';
import { keptPath, openCluster, START_PARAMS } from '../rds-data/fresh-cluster.ts';
import { takeTurns } from './taking-turns.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);

// Makes the kept copy if there is none yet, so that no start below runs initdb.
await (await openCluster(null)).close();
const newCluster = new Blob([readFileSync(keptPath(tmpdir()))]);

/** One start of a new cluster in memory: ms of CPU and wall. */
async function startWith(startParams: string[]): Promise<{ cpu: number; wall: number }> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const pg = await PGlite.create({ loadDataDir: newCluster, startParams });
  const wall = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  await pg.close();
  return { cpu: (cpu.user + cpu.system) / 1000, wall };
}

console.log(`a new cluster started ${ROUNDS} times each way, in memory; Node ${process.version}`);
await takeTurns(
  [
    {
      name: "PGlite's start parameters (shared_buffers 128MB)",
      turn: () => startWith(PGlite.defaultStartParams),
    },
    { name: "the embedded Data API's (shared_buffers 32MB)", turn: () => startWith(START_PARAMS) },
  ],
  { rounds: ROUNDS, unit: 'ms', per: 'start', heading: 'start parameters' },
);

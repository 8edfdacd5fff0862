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

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);

// Makes the kept copy if there is none yet, so that no start below runs initdb.
await (await openCluster(null)).close();
const newCluster = new Blob([readFileSync(keptPath(tmpdir()))]);

const ways = [
  { name: "PGlite's start parameters (shared_buffers 128MB)", startParams: PGlite.defaultStartParams },
  { name: "the embedded Data API's (shared_buffers 32MB)", startParams: START_PARAMS },
];
const results = new Map(ways.map((way) => [way.name, { wall: [] as number[], cpu: [] as number[] }]));
for (let round = 0; round < ROUNDS; round += 1) {
  for (const way of ways) {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const pg = await PGlite.create({ loadDataDir: newCluster, startParams: way.startParams });
    const wall = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    await pg.close();
    results.get(way.name)!.wall.push(wall);
    results.get(way.name)!.cpu.push((cpu.user + cpu.system) / 1000);
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(`a new cluster started ${ROUNDS} times each way, in memory; Node ${process.version}`);
console.log('| start parameters | CPU per start (each round) | CPU, median | wall, median |');
console.log('| --- | --- | ---: | ---: |');
for (const [name, { wall, cpu }] of results) {
  console.log(
    `| ${name} | ${cpu.map((c) => c.toFixed(0)).join(', ')} ms | ${median(cpu).toFixed(0)} ms | ${median(wall).toFixed(0)} ms |`,
  );
}

/**
 * Benchmark support: ways of doing one thing measured in turns (each way once per round, rounds one after the
 * other), so a machine that slows down or speeds up during a run weighs on every way alike. Prints a Markdown
 * table of CPU and wall time per unit, each round's CPU and the medians.
 *
 * @example
 * await takeTurns([{ name: 'a', turn: () => timed(1000, callA) }], { rounds: 3, unit: 'µs', per: 'call', heading: 'call' });
 */

export interface Way {
  readonly name: string;
  /** One turn: CPU and wall time per unit of work, in the table's unit. */
  readonly turn: () => Promise<{ readonly cpu: number; readonly wall: number }>;
}

/** Runs `call` `times` times, one after the other; answers CPU and wall per call in µs. */
export async function timed(
  times: number,
  call: () => Promise<unknown>,
): Promise<{ cpu: number; wall: number }> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < times; i += 1) await call();
  const wall = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return { cpu: (cpu.user + cpu.system) / times, wall: (wall * 1000) / times };
}

export async function takeTurns(
  ways: readonly Way[],
  { rounds, unit, per, heading }: { rounds: number; unit: 'µs' | 'ms'; per: string; heading: string },
): Promise<void> {
  const results = ways.map(() => ({ cpu: [] as number[], wall: [] as number[] }));
  for (let round = 0; round < rounds; round += 1) {
    for (const [index, way] of ways.entries()) {
      const { cpu, wall } = await way.turn();
      results[index]!.cpu.push(cpu);
      results[index]!.wall.push(wall);
    }
  }
  console.log(`| ${heading} | CPU per ${per} (each round) | CPU, median | wall, median |`);
  console.log('| --- | --- | ---: | ---: |');
  for (const [index, way] of ways.entries()) {
    const { cpu, wall } = results[index]!;
    const each = cpu.map((value) => value.toFixed(0)).join(', ');
    console.log(
      `| ${way.name} | ${each} ${unit} | ${median(cpu).toFixed(0)} ${unit} | ${median(wall).toFixed(0)} ${unit} |`,
    );
  }
}

function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/**
 * Where a V8 CPU profile's time went: the top self-time functions (with their module) and the top modules.
 * For `node --cpu-prof` profiles of the benchmarks.
 *
 * @example
 * node --import tsx packages/embedded-aws/bench/cpu-profile-summary.ts /tmp/prof/CPU.*.cpuprofile [top=10]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** A short module name: the npm package, the repository-relative file, `node:` internals or a V8 bucket. */
export function moduleOf(url: string, functionName: string): string {
  if (url === '') return `(${functionName || 'native'})`;
  const packagePath = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (packagePath) return packagePath[1] ?? url;
  if (url.startsWith('node:')) return url;
  const repository = /\/work\/main\/(.*)$/.exec(url.replace(/^file:\/\//, ''));
  return repository?.[1] ?? url;
}

export function summarise(profile: CpuProfile, top: number): string {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const micros = profile.timeDeltas[i] ?? 0;
    const node = nodes.get(id);
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const module = moduleOf(url, functionName);
    const key = `${functionName || '(anonymous)'} — ${module}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
    byModule.set(module, (byModule.get(module) ?? 0) + micros);
    total += micros;
  });
  const table = (title: string, entries: Map<string, number>) =>
    [
      `| ${title} | self ms | % |`,
      '| --- | ---: | ---: |',
      ...[...entries]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(
          ([name, micros]) =>
            `| ${name} | ${(micros / 1000).toFixed(0)} | ${((100 * micros) / total).toFixed(1)} |`,
        ),
    ].join('\n');
  return `profile: ${(total / 1000).toFixed(0)} ms sampled\n\n${table('function — module', byFunction)}\n\n${table('module', byModule)}`;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const [file, top] = process.argv.slice(2);
  if (!file) throw new Error('usage: cpu-profile-summary.ts <file.cpuprofile> [top]');
  console.log(summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(top ?? 10)));
}

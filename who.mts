import { createRequire } from 'node:module';
const req = createRequire(import.meta.url);
for (const m of process.argv.slice(2)) {
  const before = new Set(Object.keys(req.cache));
  const t0 = performance.now();
  await import(m);
  const added = Object.keys(req.cache).filter((k) => !before.has(k));
  const pk = new Map<string, number>();
  for (const k of added) { const p = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(k)?.[1] ?? 'ours'; pk.set(p, (pk.get(p) ?? 0) + 1); }
  console.log(m, (performance.now() - t0) | 0, 'ms', added.length, [...pk].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([p, n]) => `${p}:${n}`).join(' '));
}

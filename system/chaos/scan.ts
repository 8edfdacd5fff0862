/**
 * The card-data and secret scan after a chaos run: the data directory (every journal, queue, the database's
 * files, the simulators' journals) and every log the system wrote must hold no card number the run sent and no
 * status token it was given.
 *
 * Card numbers go through system/testing/secrets-scan.ts (`findSecrets`: any formatting, a regular expression
 * per number). Status tokens are hundreds, and one pass per token over hundreds of megabytes would take hours,
 * so they are looked up instead: every run of base64url characters as long as a token is cut into token-sized
 * windows and each is looked for in a set, one pass in all. (A token is 43 base64url characters; anything
 * holding one whole holds such a window.) The first two tokens also go through `findSecrets`, so both scans
 * look at the same places.
 *
 * @example
 * scanForSecrets({ dataDir, logFiles }, { statusTokens, cardNumbers: PROBE_CARD_NUMBERS }); // [] when clean
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { findSecrets } from '../testing/secrets-scan.ts';

export function scanForSecrets(
  places: { readonly dataDir: string; readonly logFiles: readonly string[] },
  secrets: { readonly statusTokens: readonly string[]; readonly cardNumbers: readonly string[] },
): string[] {
  const logs = places.logFiles.map((file) => readFileSync(file, 'latin1'));
  const found = new Set(
    findSecrets(
      { dataDir: places.dataDir, logs },
      { statusTokens: secrets.statusTokens.slice(0, 2), cardNumbers: secrets.cardNumbers },
    ).map((where) => where.replace(/^log (\d+)$/, (_, n: string) => places.logFiles[Number(n) - 1] ?? where)),
  );
  const texts: [string, () => string][] = [
    ...filesUnder(places.dataDir).map((file): [string, () => string] => [
      relative(places.dataDir, file),
      () => readFileSync(file, 'latin1'),
    ]),
    ...places.logFiles.map((file, index): [string, () => string] => [file, () => logs[index]!]),
  ];
  for (const [where, read] of texts) {
    const hits = tokensIn(read(), secrets.statusTokens);
    if (hits > 0) found.add(`a status token in ${where}${hits > 1 ? ` (${hits} of them)` : ''}`);
  }
  return [...found];
}

/** How many of `tokens` (all the same length) occur in `text`. */
export function tokensIn(text: string, tokens: readonly string[]): number {
  const length = tokens[0]?.length ?? 0;
  if (length === 0) return 0;
  const wanted = new Set(tokens);
  const seen = new Set<string>();
  const runs = new RegExp(`[A-Za-z0-9_-]{${length},}`, 'g');
  for (const match of text.matchAll(runs)) {
    const run = match[0];
    for (let start = 0; start + length <= run.length; start++) {
      const window = run.slice(start, start + length);
      if (wanted.has(window)) seen.add(window);
    }
  }
  return seen.size;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

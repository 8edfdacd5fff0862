/**
 * Test support: looks for secrets where they must never be kept. Reads every file under a data directory
 * (the journals of every embedded service, the queues, the database's own files) and any logs given, and
 * reports where a status token or a card number turns up: a card number in any formatting (its digits with up
 * to two other characters between each).
 *
 * @example
 * expect(findSecrets({ dataDir, logs: [output] }, { statusTokens: [token], cardNumbers: ['4000056655665556'] })).toEqual([]);
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface Secrets {
  readonly statusTokens: readonly string[];
  /** Card numbers as digits only. */
  readonly cardNumbers: readonly string[];
}

/** Where each secret was found, as `<secret kind> in <file or log>`; empty when none was. */
export function findSecrets(
  places: { dataDir: string; logs: readonly string[] },
  secrets: Secrets,
): string[] {
  const texts: [string, string][] = [
    ...filesUnder(places.dataDir).map((file): [string, string] => [
      relative(places.dataDir, file),
      // latin1 keeps every byte as one character, so text inside binary pages is still found.
      readFileSync(file).toString('latin1'),
    ]),
    ...places.logs.map((log, index): [string, string] => [`log ${index + 1}`, log]),
  ];
  const patterns: [string, RegExp][] = [
    ...secrets.statusTokens.map((token): [string, RegExp] => ['a status token', new RegExp(escaped(token))]),
    ...secrets.cardNumbers.map((digits): [string, RegExp] => [
      'a card number',
      new RegExp(digits.split('').map(escaped).join('[^0-9]{0,2}')),
    ]),
  ];
  const found: string[] = [];
  for (const [where, text] of texts) {
    for (const [what, pattern] of patterns) {
      if (pattern.test(text)) found.push(`${what} in ${where}`);
    }
  }
  return found;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * JSON bodies written as text, so a generator can put into one what JSON.stringify never writes: a repeated
 * name, a raw `__proto__` member, a number that is not a JavaScript number, members in any order.
 */
import { VALID_BODY } from './fuzz-case.ts';
import type { SeededRandom } from './seeded-random.ts';

export const VALID_JSON = JSON.stringify(VALID_BODY);

/**
 * A JSON object text from raw member texts, in a random order. `more` is for names an object literal cannot
 * hold as its own (`__proto__`).
 */
export function objectText(
  random: SeededRandom,
  members: Record<string, string>,
  more: ReadonlyArray<readonly [string, string]> = [],
): string {
  const entries = [...Object.entries(members), ...more];
  for (let i = entries.length - 1; i > 0; i -= 1) {
    const j = random.int(0, i);
    [entries[i], entries[j]] = [entries[j]!, entries[i]!];
  }
  return `{${membersText(entries)}}`;
}

export function membersText(entries: ReadonlyArray<readonly [string, string]>): string {
  return entries.map(([name, value]) => `${JSON.stringify(name)}:${value}`).join(',');
}

/** The members of the valid body, as raw JSON texts by name. */
export function validMembers(): Record<string, string> {
  return {
    meterId: JSON.stringify(VALID_BODY.meterId),
    amountPence: String(VALID_BODY.amountPence),
    paymentToken: JSON.stringify(VALID_BODY.paymentToken),
  };
}

/** JSON with every non-ASCII character written as a `\u` escape. */
export function escapedJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

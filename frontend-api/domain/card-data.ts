/**
 * Card data must never reach this server: the page sends gateway tokens only. A request that carries a card
 * number, or a field named like a card number or security code, is refused, and the offending value is never
 * echoed, logged or stored.
 *
 * A card number, as people and careless clients write one: 13 to 19 decimal digits passing the Luhn check,
 * in any script's digits (`４０００…`, `٤٠٠٠…`), grouped by any mix of spaces (no-break and other Unicode
 * spaces too), dashes, dots, slashes or underscores. A run of groups is searched for any consecutive groups
 * that make such a number, so `4000 0566 5566 5556 12/27 123` (number, expiry, security code) is found too.
 *
 * Not card numbers: the digits of a hexadecimal identifier (a UUID, `pay_…`, a trace id), recognised by a
 * word that mixes digits with the letters a to f. Without that rule, about one UUID in 500 would read as a
 * card number. The price: digits glued to such letters (`4000056655665556a`) are not looked at.
 */

/** Characters people put between the groups of a card number. */
const SEPARATOR = String.raw`[\s\p{Zs}\p{Pd}._/\u200B-\u200D\u2060\uFEFF]`;
const DIGIT_RUN = new RegExp(String.raw`\p{Nd}+(?:${SEPARATOR}+\p{Nd}+)*`, 'gu');
const SEPARATORS = new RegExp(`${SEPARATOR}+`, 'u');
const ANY_DIGIT = /\p{Nd}/gu;
const NON_ASCII_DIGIT = /(?![0-9])\p{Nd}/gu;
const DECIMAL_DIGIT = /^\p{Nd}$/u;
/** Words of letters and digits joined by dashes or underscores, as identifiers are written. */
const IDENTIFIER = /[\p{L}\p{N}]+(?:[-_][\p{L}\p{N}]+)*/gu;
/** A word of hexadecimal digits with both digits and letters in it. */
const HEX_WORD = /(?<![\p{L}\p{N}])(?=[a-f]*\d)(?=\d*[a-f])[\da-f]+(?![\p{L}\p{N}])/iu;
const CARD_FIELD_NAME =
  /^(cvv2?|cvc2?|cv2|csc|cid|securitycode|cardsecuritycode|cardnumber|cardno|pan|primaryaccountnumber|cardverificationvalue)$/;
const MIN_DIGITS = 13;
const MAX_DIGITS = 19;

/** What log lines show instead of a card number. */
export const CARD_NUMBER_PLACEHOLDER = '[card number]';

/** Whether `digits` (ASCII digits only) passes the Luhn check. */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/**
 * Whether `text` holds something shaped like a card number.
 *
 * @example
 * containsCardNumber('4000.0566.5566.5556'); // true
 * containsCardNumber('４０００ ０５６６ ５５６６ ５５５６'); // true
 * containsCardNumber('pay_4b1c0f9e8d7a6b5c4d3e2f1a0b9c8d7e'); // false: a hexadecimal identifier
 */
export function containsCardNumber(text: string): boolean {
  return cardNumberRuns(text).length > 0;
}

/**
 * `text` with every run of digits that holds a card number replaced by {@link CARD_NUMBER_PLACEHOLDER}.
 *
 * @example
 * withoutCardNumbers('/api/payments/4000056655665556'); // '/api/payments/[card number]'
 */
export function withoutCardNumbers(text: string): string {
  let kept = '';
  let from = 0;
  for (const run of cardNumberRuns(text)) {
    kept += text.slice(from, run.index) + CARD_NUMBER_PLACEHOLDER;
    from = run.index + run.length;
  }
  return kept + text.slice(from);
}

/**
 * The path of the first field in a request body that carries card data (`'body'` for the body itself), or
 * undefined. Field names are looked at too: one named like a card number or security code is refused whatever
 * its value, and one that holds a card number is reported by the path of the object that has it. A `meterId`
 * of exactly 13 digits is an MPAN core, which passes Luhn one time in ten: it is not a card number.
 *
 * Walks the body with a list of its own rather than recursion, so no nesting can overflow the stack.
 *
 * @example
 * findCardData({ meterId: '1600123456785', paymentToken: '4242 4242 4242 4242' }); // 'paymentToken'
 * findCardData({ card: { cvv: '123' } }); // 'card.cvv'
 */
export function findCardData(body: unknown): string | undefined {
  const pending: Array<{ value: unknown; at: FieldPath | undefined }> = [{ value: body, at: undefined }];
  while (pending.length > 0) {
    const { value, at } = pending.pop()!;
    if (at !== undefined) {
      const normalisedName = at.name.toLowerCase().replace(/[^a-z0-9]/g, '');
      if (CARD_FIELD_NAME.test(normalisedName)) return fieldName(at);
      if (containsCardNumber(at.name)) return fieldName(at.parent);
    }
    if (typeof value === 'string' || typeof value === 'number') {
      const text = String(value);
      const mpanCore = at?.name === 'meterId' && /^\d{13}$/.test(text);
      if (!mpanCore && containsCardNumber(text)) return fieldName(at);
    } else if (value !== null && typeof value === 'object') {
      const fields = Array.isArray(value)
        ? value.map((item, index) => [String(index), item])
        : Object.entries(value);
      // Last first, so the first field is looked at first.
      for (let i = fields.length - 1; i >= 0; i -= 1) {
        const [name, item] = fields[i]!;
        pending.push({ value: item, at: { name, parent: at } });
      }
    }
  }
  return undefined;
}

interface FieldPath {
  readonly name: string;
  readonly parent: FieldPath | undefined;
}

function fieldName(at: FieldPath | undefined): string {
  const names: string[] = [];
  for (let step = at; step !== undefined; step = step.parent) names.unshift(step.name);
  return names.length > 0 ? names.join('.') : 'body';
}

/** Where in `text` the runs of digits that hold a card number are. */
function cardNumberRuns(text: string): Array<{ index: number; length: number }> {
  const runs: Array<{ index: number; length: number }> = [];
  // Most texts (header values, tokens) are nowhere near: counting their digits is the cheap way to know.
  if ((text.match(ANY_DIGIT)?.length ?? 0) < MIN_DIGITS) return runs;
  // Same length, so the indexes of the runs found are the indexes in `text`.
  const masked = text.replace(IDENTIFIER, (identifier) =>
    HEX_WORD.test(identifier) ? '#'.repeat(identifier.length) : identifier,
  );
  for (const run of masked.matchAll(DIGIT_RUN)) {
    const groups = run[0].split(SEPARATORS).map(asciiDigits);
    if (holdsCardNumber(groups)) runs.push({ index: run.index ?? 0, length: run[0].length });
  }
  return runs;
}

/** Whether some consecutive groups of digits make a card number. */
function holdsCardNumber(groups: readonly string[]): boolean {
  for (let first = 0; first < groups.length; first += 1) {
    let digits = '';
    for (let last = first; last < groups.length && digits.length <= MAX_DIGITS; last += 1) {
      digits += groups[last];
      if (digits.length >= MIN_DIGITS && digits.length <= MAX_DIGITS && passesLuhn(digits)) return true;
    }
  }
  return false;
}

const digitValues = new Map<number, string>();

/** `digits` in ASCII: `４２` → `42`. */
function asciiDigits(digits: string): string {
  return digits.replace(NON_ASCII_DIGIT, (digit) => {
    const codePoint = digit.codePointAt(0)!;
    let value = digitValues.get(codePoint);
    if (value === undefined) {
      // Unicode encodes each set of decimal digits as ten consecutive code points, 0 to 9, and sets that touch
      // are whole sets: a digit's value is its distance from the start of its block, modulo 10.
      let start = codePoint;
      while (DECIMAL_DIGIT.test(String.fromCodePoint(start - 1))) start -= 1;
      value = String((codePoint - start) % 10);
      digitValues.set(codePoint, value);
    }
    return value;
  });
}

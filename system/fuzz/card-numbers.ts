/**
 * Card numbers as careless clients send them: 13 to 19 digits that pass the Luhn check, grouped by spaces
 * (Unicode ones too), dashes, dots, slashes or underscores, in any script's digits. The fuzzer's own
 * generator and recogniser, written apart from the front-end's card-data.ts so that one cannot share the
 * other's blind spots.
 */
import type { SeededRandom } from './seeded-random.ts';

/** The code point of zero in scripts whose digits are ten consecutive code points (all of them are). */
const DIGIT_ZEROS = {
  ascii: 0x30,
  fullWidth: 0xff10,
  arabicIndic: 0x0660,
  persian: 0x06f0,
  devanagari: 0x0966,
  bengali: 0x09e6,
  thai: 0x0e50,
  mathematicalBold: 0x1d7ce,
} as const;
export type DigitScript = keyof typeof DIGIT_ZEROS;
export const DIGIT_SCRIPTS = Object.keys(DIGIT_ZEROS) as DigitScript[];

/** Separators that survive in a URL path or a header name as they are. */
export const TOKEN_SEPARATORS = ['-', '.', '_'] as const;
/** Every separator people put between groups. */
export const SEPARATORS = [
  ...TOKEN_SEPARATORS,
  ' ',
  '  ',
  '/',
  '\u00a0', // no-break space
  '\u2009', // thin space
  '\u202f', // narrow no-break space
  '\u2013', // en dash
  '\u200b', // zero-width space
] as const;

const PREFIXES = ['4', '51', '55', '2221', '34', '37', '6011', '65', '35', '36', '62'] as const;

/**
 * A random card number (ASCII digits) of `length` digits, whose last digit makes it pass the Luhn check.
 *
 * @example
 * luhnValidNumber(seededRandom(1), 16); // '4…' (16 digits, Luhn-valid)
 */
export function luhnValidNumber(random: SeededRandom, length = random.int(13, 19)): string {
  let digits: string = random.pick(PREFIXES);
  while (digits.length < length - 1) digits += String(random.int(0, 9));
  return digits + luhnCheckDigit(digits);
}

export function passesLuhn(digits: string): boolean {
  return luhnCheckDigit(digits.slice(0, -1)) === digits.slice(-1);
}

function luhnCheckDigit(payload: string): string {
  let sum = 0;
  for (let i = 0; i < payload.length; i += 1) {
    // Counted from the right of the payload: the check digit will sit to its right, undoubled.
    let digit = Number(payload[payload.length - 1 - i]);
    if (i % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return String((10 - (sum % 10)) % 10);
}

/**
 * `digits` written as a person might: in groups (of four, or of random sizes) with one separator kind, in one
 * script or, now and then, digit by digit in mixed scripts.
 */
export function formatCardNumber(
  random: SeededRandom,
  digits: string,
  options: { separators?: readonly string[]; scripts?: readonly DigitScript[] } = {},
): string {
  const scripts = options.scripts ?? DIGIT_SCRIPTS;
  // Most people type ASCII digits: they get a good share of the draws, the other scripts the rest.
  const script = scripts.includes('ascii') && random.chance(0.4) ? 'ascii' : random.pick(scripts);
  const mixed = scripts.length > 1 && random.chance(0.15);
  const written = [...digits].map((digit) => inScript(digit, mixed ? random.pick(scripts) : script)).join('');
  const separators = options.separators ?? SEPARATORS;
  if (separators.length === 0 || random.chance(0.3)) return written;
  const separator = random.pick(separators);
  const characters = [...written];
  const groups: string[] = [];
  for (let at = 0; at < characters.length; ) {
    const size = random.chance(0.6) ? 4 : random.int(1, 6);
    groups.push(characters.slice(at, at + size).join(''));
    at += size;
  }
  return groups.join(separator);
}

function inScript(asciiDigit: string, script: DigitScript): string {
  return String.fromCodePoint(DIGIT_ZEROS[script] + Number(asciiDigit));
}

const DECIMAL_DIGIT = /^\p{Nd}$/u;
const NON_ASCII_DIGITS = /(?![0-9])\p{Nd}/gu;

/**
 * `text` with every decimal digit of any script written as its ASCII digit, so a card number in full-width or
 * Arabic-Indic digits is found like any other.
 *
 * @example
 * asciiDigitsOf('４２'); // '42'
 */
export function asciiDigitsOf(text: string): string {
  return text.replace(NON_ASCII_DIGITS, (digit) => String(digitValue(digit.codePointAt(0)!)));
}

const valuesByCodePoint = new Map<number, number>();

/** Unicode gives every script its digits as a run of ten code points from zero: the value is the offset. */
function digitValue(codePoint: number): number {
  let value = valuesByCodePoint.get(codePoint);
  if (value === undefined) {
    let zero = codePoint;
    while (DECIMAL_DIGIT.test(String.fromCodePoint(zero - 1))) zero -= 1;
    value = (codePoint - zero) % 10;
    valuesByCodePoint.set(codePoint, value);
  }
  return value;
}

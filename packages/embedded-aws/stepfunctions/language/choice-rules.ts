/**
 * JSONPath-mode Choice rules: the boolean operators (And / Or / Not) and the data-test operators of the
 * States Language, evaluated against a state's effective input, the context object and the variables.
 *
 * Semantics follow the spec and AWS's developer guide:
 * - a comparison between values of the wrong type is simply false (a number never equals a string);
 * - a `Variable` path that matches nothing fails the state with States.Runtime, except under `IsPresent`,
 *   where a missing path is the very thing being tested;
 * - strings compare by UTF-16 code unit with no folding or normalisation (AWS documents Java's
 *   `String.compareTo`, which is exactly what JavaScript's `<` does);
 * - timestamps are RFC 3339 with an uppercase `T` and `Z`, and compare as instants.
 */
import type { ChoiceRule, Json } from '../definition/types.ts';
import { StatesError } from './states-error.ts';

/**
 * Resolves a path (`$.x`, `$$.Execution.Name`, `$myVar.field`) against the state's input/context/variables.
 * Supplied by the interpreter, which owns the JSONPath module.
 */
export type PathResolver = (path: string) => { found: true; value: Json } | { found: false };

type Comparison = (actual: Json, expected: Json) => boolean;

const string =
  (test: (a: string, b: string) => boolean): Comparison =>
  (a, b) =>
    typeof a === 'string' && typeof b === 'string' && test(a, b);

const numeric =
  (test: (a: number, b: number) => boolean): Comparison =>
  (a, b) =>
    typeof a === 'number' && typeof b === 'number' && test(a, b);

const timestamp =
  (test: (order: number) => boolean): Comparison =>
  (a, b) => {
    const left = parseTimestamp(a);
    const right = parseTimestamp(b);
    return left !== undefined && right !== undefined && test(compareInstants(left, right));
  };

/** The operators that compare the Variable with a value, each also usable as `<name>Path`. */
const COMPARISONS: Readonly<Record<string, Comparison>> = {
  StringEquals: string((a, b) => a === b),
  StringLessThan: string((a, b) => a < b),
  StringGreaterThan: string((a, b) => a > b),
  StringLessThanEquals: string((a, b) => a <= b),
  StringGreaterThanEquals: string((a, b) => a >= b),
  NumericEquals: numeric((a, b) => a === b),
  NumericLessThan: numeric((a, b) => a < b),
  NumericGreaterThan: numeric((a, b) => a > b),
  NumericLessThanEquals: numeric((a, b) => a <= b),
  NumericGreaterThanEquals: numeric((a, b) => a >= b),
  BooleanEquals: (a, b) => typeof a === 'boolean' && typeof b === 'boolean' && a === b,
  TimestampEquals: timestamp((order) => order === 0),
  TimestampLessThan: timestamp((order) => order < 0),
  TimestampGreaterThan: timestamp((order) => order > 0),
  TimestampLessThanEquals: timestamp((order) => order <= 0),
  TimestampGreaterThanEquals: timestamp((order) => order >= 0),
};

/** The operators that test the Variable's value itself; their operand is a boolean (true: "it is"). */
const TYPE_TESTS: Readonly<Record<string, (value: Json) => boolean>> = {
  IsNull: (value) => value === null,
  IsNumeric: (value) => typeof value === 'number',
  IsString: (value) => typeof value === 'string',
  IsBoolean: (value) => typeof value === 'boolean',
  IsTimestamp: (value) => parseTimestamp(value) !== undefined,
};

/**
 * For the validator: the names of every comparison operator, so it can check a rule has exactly one.
 *
 * @example
 * const operators = Object.keys(rule).filter((key) => COMPARISON_OPERATORS.includes(key));
 * if (operators.length !== 1) reject(rule);
 */
export const COMPARISON_OPERATORS: readonly string[] = Object.freeze([
  ...Object.keys(COMPARISONS).flatMap((name) => [name, `${name}Path`]),
  'StringMatches',
  'IsPresent',
  ...Object.keys(TYPE_TESTS),
]);

/**
 * True when the rule matches. `And` and `Or` stop at the first rule that decides them, as the spec says,
 * so a later rule with a missing path is never looked at.
 *
 * @throws StatesError `States.Runtime` when the Variable path (outside `IsPresent`) or a `...Path`
 *   operand matches nothing, when a `StringMatches` pattern ends in an open escape, or when the rule
 *   carries no operator at all.
 *
 * @example
 * const resolve: PathResolver = (path) => (path === '$.value' ? { found: true, value: 22 } : { found: false });
 * evaluateChoiceRule({ And: [
 *   { Variable: '$.value', NumericGreaterThanEquals: 20 },
 *   { Variable: '$.value', NumericLessThan: 30 },
 * ] }, resolve); // true
 */
export function evaluateChoiceRule(rule: ChoiceRule, resolve: PathResolver): boolean {
  if (rule.And !== undefined) return rule.And.every((inner) => evaluateChoiceRule(inner, resolve));
  if (rule.Or !== undefined) return rule.Or.some((inner) => evaluateChoiceRule(inner, resolve));
  if (rule.Not !== undefined) return !evaluateChoiceRule(rule.Not, resolve);
  return evaluateDataTest(rule, resolve);
}

function evaluateDataTest(rule: ChoiceRule, resolve: PathResolver): boolean {
  const operator = COMPARISON_OPERATORS.find((name) => name in rule);
  const variable = rule.Variable;
  if (operator === undefined || typeof variable !== 'string') {
    throw new StatesError(
      'States.Runtime',
      `The choice rule ${JSON.stringify(rule)} has no Variable and comparison operator`,
    );
  }
  const operand = rule[operator];
  const selected = resolve(variable);

  if (operator === 'IsPresent') return selected.found === (operand === true);
  if (!selected.found) throw invalidPath(variable);
  const value = selected.value;

  const typeTest = TYPE_TESTS[operator];
  if (typeTest !== undefined) return typeTest(value) === (operand === true);

  if (operator === 'StringMatches') {
    return typeof value === 'string' && typeof operand === 'string' && matchesWildcard(value, operand);
  }

  if (operator.endsWith('Path')) {
    const comparison = COMPARISONS[operator.slice(0, -'Path'.length)]!;
    if (typeof operand !== 'string') throw invalidPath(String(operand));
    const other = resolve(operand);
    if (!other.found) throw invalidPath(operand);
    return comparison(value, other.value);
  }
  return COMPARISONS[operator]!(value, operand as Json);
}

function invalidPath(path: string): StatesError {
  // The wording AWS uses for a Choice rule whose path matches nothing.
  return new StatesError(
    'States.Runtime',
    `Invalid path '${path}': The choice state's condition path references an invalid value.`,
  );
}

// ---------------------------------------------------------------------------------------------------------
// StringMatches

type PatternToken = { readonly literal: string } | { readonly wildcard: true };

const patternCache = new Map<string, readonly PatternToken[]>();
const PATTERN_CACHE_LIMIT = 1_000;

/**
 * `*` matches any run of characters (including none); `\*` is a literal star and `\\` a literal backslash.
 * Matching walks the tokens with single-star backtracking, which stays linear-ish where a regular
 * expression built from the pattern could backtrack catastrophically on many stars.
 */
function matchesWildcard(text: string, pattern: string): boolean {
  const tokens = tokenizePattern(pattern);
  let t = 0;
  let p = 0;
  let starAt = -1;
  let resumeAt = 0;
  while (t < text.length) {
    const token = tokens[p];
    if (token !== undefined && 'literal' in token && token.literal === text[t]) {
      t++;
      p++;
    } else if (token !== undefined && 'wildcard' in token) {
      starAt = p++;
      resumeAt = t;
    } else if (starAt !== -1) {
      p = starAt + 1;
      t = ++resumeAt;
    } else {
      return false;
    }
  }
  while (p < tokens.length && 'wildcard' in tokens[p]!) p++;
  return p === tokens.length;
}

function tokenizePattern(pattern: string): readonly PatternToken[] {
  const cached = patternCache.get(pattern);
  if (cached !== undefined) return cached;
  const tokens: PatternToken[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '*') {
      tokens.push({ wildcard: true });
    } else if (char === '\\') {
      const escaped = pattern[i + 1];
      // The spec only defines `\*` and `\\`; any other backslash is the "open escape" it says fails.
      // Treating `\x` (x not `*` or `\`) as open too is our reading, not something AWS documents.
      if (escaped !== '*' && escaped !== '\\') {
        throw new StatesError(
          'States.Runtime',
          `The StringMatches pattern '${pattern}' has an open escape backslash at position ${i}`,
        );
      }
      tokens.push({ literal: escaped });
      i++;
    } else {
      tokens.push({ literal: char });
    }
  }
  if (patternCache.size >= PATTERN_CACHE_LIMIT) patternCache.clear();
  patternCache.set(pattern, tokens);
  return tokens;
}

// ---------------------------------------------------------------------------------------------------------
// Timestamps

/** An instant, kept exact: whole seconds since the epoch plus the fraction's digits as written. */
interface Instant {
  readonly seconds: number;
  readonly fraction: string;
}

// RFC 3339 date-time with AWS's extra rules: uppercase `T` and uppercase `Z` (or a numeric offset).
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * A timestamp as whole seconds since the epoch (the fraction dropped, as a Wait state drops it), or undefined
 * when it is not one AWS accepts.
 *
 * @example
 * timestampSeconds('2024-08-18T17:33:00.900Z'); // 1724002380
 * timestampSeconds('2024-08-18T17:33:00'); // undefined: no Z or offset
 */
export function timestampSeconds(value: Json): number | undefined {
  return parseTimestamp(value)?.seconds;
}

function parseTimestamp(value: Json): Instant | undefined {
  if (typeof value !== 'string') return undefined;
  const match = TIMESTAMP.exec(value);
  if (match === null) return undefined;
  const [, year, month, day, hour, minute, second, fraction = '', sign, offsetHours, offsetMinutes] = match;
  const y = Number(year);
  const mo = Number(month);
  const d = Number(day);
  const h = Number(hour);
  const mi = Number(minute);
  // A leap second (:60) is legal RFC 3339 but we reject it, as a strict ISO-8601 parser does (a guess).
  const s = Number(second);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return undefined;
  let offset = 0;
  if (sign !== undefined) {
    const oh = Number(offsetHours);
    const om = Number(offsetMinutes);
    if (oh > 23 || om > 59) return undefined;
    offset = (sign === '-' ? -1 : 1) * (oh * 3600 + om * 60);
  }
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  return { seconds: date.getTime() / 1000 - offset, fraction: fraction.replace(/0+$/, '') };
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function compareInstants(a: Instant, b: Instant): number {
  if (a.seconds !== b.seconds) return a.seconds < b.seconds ? -1 : 1;
  // Same whole second: the fraction digits (trailing zeros dropped) compare as decimal strings.
  const width = Math.max(a.fraction.length, b.fraction.length);
  const left = a.fraction.padEnd(width, '0');
  const right = b.fraction.padEnd(width, '0');
  return left === right ? 0 : left < right ? -1 : 1;
}

/**
 * Intrinsic functions of the JSONPath query language: `States.Format('Hello {}', $.name)` and friends.
 *
 * Every failure is a `States.Runtime` error, as real executions show (the spec's `States.IntrinsicFailure` is
 * not what AWS raises). Causes read "The function '<expression as written>' had the following error: ...".
 * The wording after that prefix is AWS's where it is known (a missing path argument); elsewhere it is ours.
 */
import { createHash, randomInt, randomUUID } from 'node:crypto';
import type { Json } from '../definition/types.ts';
import { evaluatePath, isValidPath, type JsonPathScope, jsonEquals } from './json-path.ts';
import { StatesError } from './states-error.ts';

export type IntrinsicArgument =
  | {
      readonly kind: 'string';
      readonly value: string;
      /** The literal split at its unescaped `{}` placeholders (what States.Format fills in). */
      readonly templateParts: readonly string[];
    }
  | { readonly kind: 'literal'; readonly value: number | boolean | null }
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'call'; readonly call: IntrinsicCall };

export interface IntrinsicCall {
  readonly name: IntrinsicName;
  readonly args: readonly IntrinsicArgument[];
}

/** How many arguments each function takes: [minimum, maximum]. */
const ARITY = {
  'States.Format': [1, Number.POSITIVE_INFINITY],
  'States.StringToJson': [1, 1],
  'States.JsonToString': [1, 1],
  'States.Array': [0, Number.POSITIVE_INFINITY],
  'States.ArrayPartition': [2, 2],
  'States.ArrayContains': [2, 2],
  'States.ArrayRange': [3, 3],
  'States.ArrayGetItem': [2, 2],
  'States.ArrayLength': [1, 1],
  'States.ArrayUnique': [1, 1],
  'States.Base64Encode': [1, 1],
  'States.Base64Decode': [1, 1],
  'States.Hash': [2, 2],
  'States.JsonMerge': [3, 3],
  'States.MathRandom': [2, 3],
  'States.MathAdd': [2, 2],
  'States.StringSplit': [2, 2],
  'States.UUID': [0, 0],
} as const satisfies Record<string, readonly [number, number]>;

export type IntrinsicName = keyof typeof ARITY;

/** "You can nest up to 10 intrinsic functions within a field." */
const MAX_NESTING = 10;
/** Base64Encode, Base64Decode and Hash take "up to 10,000 characters". */
const MAX_STRING_INPUT = 10_000;
const MAX_RANGE_ITEMS = 1000;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const HASH_ALGORITHMS: Readonly<Record<string, string>> = {
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

/**
 * Does this `.$` value call an intrinsic function (rather than name a path)?
 *
 * @example
 * isIntrinsicFunction("States.Format('{}', $.a)"); // true
 * isIntrinsicFunction('$.a'); // false
 */
export function isIntrinsicFunction(expression: string): boolean {
  return /^States\.[A-Za-z0-9]+\s*\(/.test(expression) && expression.trimEnd().endsWith(')');
}

/**
 * Parses an intrinsic function call, checking the function exists and takes that many arguments.
 * Throws a `StatesError` naming the problem when it does not.
 *
 * @example
 * parseIntrinsic('States.MathAdd($.a, 1)'); // { name: 'States.MathAdd', args: [{ kind: 'path', ... }, ...] }
 * parseIntrinsic('States.MathAdd($.a)'); // throws: takes 2 arguments
 */
export function parseIntrinsic(expression: string): IntrinsicCall {
  const parser = new IntrinsicParser(expression);
  const call = parser.readCall(1);
  parser.skipSpaces();
  if (!parser.done()) parser.fail(`unexpected '${parser.peek()}' after the function call`);
  return call;
}

/**
 * Evaluates an intrinsic function call against the scope its paths read.
 *
 * @example
 * const scope = { input: { name: 'Ada' }, context: {}, variables: {} };
 * evaluateIntrinsic("States.Format('Hello {}', $.name)", scope); // 'Hello Ada'
 */
export function evaluateIntrinsic(expression: string, scope: JsonPathScope): Json {
  const call = parseIntrinsic(expression);
  return evaluateCall(call, scope, (detail) => {
    throw new StatesError(
      'States.Runtime',
      `The function '${expression}' had the following error: ${detail}`,
    );
  });
}

type Fail = (detail: string) => never;

function evaluateCall(call: IntrinsicCall, scope: JsonPathScope, fail: Fail): Json {
  const values = call.args.map((argument) => evaluateArgument(argument, scope, fail));
  if (call.name === 'States.Format') {
    const template = call.args[0];
    const parts =
      template?.kind === 'string'
        ? template.templateParts
        : splitTemplate(requireString(values[0], call, 1, fail));
    return format(parts, values.slice(1), fail);
  }
  return FUNCTIONS[call.name](values, call, fail);
}

function evaluateArgument(argument: IntrinsicArgument, scope: JsonPathScope, fail: Fail): Json {
  switch (argument.kind) {
    case 'string':
    case 'literal':
      return argument.value;
    case 'call':
      return evaluateCall(argument.call, scope, fail);
    case 'path': {
      const outcome = evaluatePath(argument.path, scope);
      if (outcome.kind === 'value') return outcome.value;
      // AWS names a `$$.` argument as rewritten against the context object, with the state input.
      const shown = argument.path.startsWith('$$') ? argument.path.slice(1) : argument.path;
      return fail(
        `The JsonPath argument for the field '${shown}' could not be found in the input '${JSON.stringify(scope.input)}'`,
      );
    }
  }
}

type Implementation = (values: Json[], call: IntrinsicCall, fail: Fail) => Json;

const FUNCTIONS: Record<Exclude<IntrinsicName, 'States.Format'>, Implementation> = {
  'States.StringToJson': (values, call, fail) => {
    const text = requireString(values[0], call, 1, fail);
    // AWS gives null for an empty or blank string rather than failing.
    if (text.trim() === '') return null;
    try {
      return JSON.parse(text) as Json;
    } catch {
      return fail(`The argument '${text}' of ${call.name} is not valid JSON`);
    }
  },
  'States.JsonToString': (values) => JSON.stringify(values[0]),
  'States.Array': (values) => values,
  'States.ArrayPartition': (values, call, fail) => {
    const array = requireArray(values[0], call, 1, fail);
    const size = requireInteger(values[1], call, 2, fail);
    if (size <= 0) fail(`The chunk size of ${call.name} must be a positive integer, but was ${size}`);
    const chunks: Json[] = [];
    for (let start = 0; start < array.length; start += size) chunks.push(array.slice(start, start + size));
    return chunks;
  },
  'States.ArrayContains': (values, call, fail) => {
    const array = requireArray(values[0], call, 1, fail);
    const wanted = values[1] as Json;
    return array.some((item) => jsonEquals(item, wanted));
  },
  'States.ArrayRange': (values, call, fail) => {
    const start = requireInteger(values[0], call, 1, fail);
    const end = requireInteger(values[1], call, 2, fail);
    const step = requireInteger(values[2], call, 3, fail);
    if (step === 0) fail(`The step of ${call.name} must not be 0`);
    const count = (end - start) / step < 0 ? 0 : Math.floor((end - start) / step) + 1;
    if (count > MAX_RANGE_ITEMS) {
      fail(`${call.name} would create ${count} items, more than the maximum of ${MAX_RANGE_ITEMS}`);
    }
    return Array.from({ length: count }, (_, index) => start + index * step);
  },
  'States.ArrayGetItem': (values, call, fail) => {
    const array = requireArray(values[0], call, 1, fail);
    const index = values[1];
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= array.length) {
      return fail(
        `The index ${JSON.stringify(index)} is out of bounds for an array of length ${array.length}`,
      );
    }
    return array[index] as Json;
  },
  'States.ArrayLength': (values, call, fail) => requireArray(values[0], call, 1, fail).length,
  'States.ArrayUnique': (values, call, fail) => {
    const unique: Json[] = [];
    for (const item of requireArray(values[0], call, 1, fail)) {
      if (!unique.some((kept) => jsonEquals(kept, item))) unique.push(item);
    }
    return unique;
  },
  'States.Base64Encode': (values, call, fail) => {
    const text = requireBoundedString(values[0], call, fail);
    return Buffer.from(text, 'utf8').toString('base64');
  },
  'States.Base64Decode': (values, call, fail) => {
    const text = requireBoundedString(values[0], call, fail);
    // Buffer.from silently skips characters outside the alphabet; AWS rejects such input.
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) {
      return fail(`The argument of ${call.name} is not valid Base64: '${text}'`);
    }
    return Buffer.from(text, 'base64').toString('utf8');
  },
  'States.Hash': (values, call, fail) => {
    // Guess: AWS documents a string; anything else is hashed as its JSON text.
    const data = typeof values[0] === 'string' ? values[0] : JSON.stringify(values[0]);
    if (data.length > MAX_STRING_INPUT) {
      fail(
        `The input of ${call.name} must be at most ${MAX_STRING_INPUT} characters, but was ${data.length}`,
      );
    }
    const algorithm = requireString(values[1], call, 2, fail);
    const nodeName = HASH_ALGORITHMS[algorithm];
    if (nodeName === undefined) {
      return fail(
        `The hashing algorithm '${algorithm}' is not supported; use one of ${Object.keys(HASH_ALGORITHMS).join(', ')}`,
      );
    }
    return createHash(nodeName).update(data, 'utf8').digest('hex');
  },
  'States.JsonMerge': (values, call, fail) => {
    const first = requireObject(values[0], call, 1, fail);
    const second = requireObject(values[1], call, 2, fail);
    const deep = values[2];
    if (typeof deep !== 'boolean') return fail(`The third argument of ${call.name} must be a boolean`);
    if (deep) return fail(`${call.name} only supports shallow merging; the third argument must be false`);
    return { ...first, ...second };
  },
  'States.MathRandom': (values, call, fail) => {
    const start = requireInteger(values[0], call, 1, fail);
    const end = requireInteger(values[1], call, 2, fail);
    if (start >= end) fail(`The start of ${call.name} (${start}) must be less than its end (${end})`);
    if (values.length < 3) return randomInt(start, end);
    const seed = requireInteger(values[2], call, 3, fail);
    return start + Math.floor(seededFraction(seed) * (end - start));
  },
  'States.MathAdd': (values, call, fail) => {
    const a = requireInteger(values[0], call, 1, fail);
    const b = requireInteger(values[1], call, 2, fail);
    for (const value of [a, b]) {
      if (value < INT32_MIN || value > INT32_MAX) {
        fail(`The arguments of ${call.name} must be between ${INT32_MIN} and ${INT32_MAX}, but got ${value}`);
      }
    }
    return a + b;
  },
  'States.StringSplit': (values, call, fail) => {
    const text = requireString(values[0], call, 1, fail);
    const delimiters = new Set(requireString(values[1], call, 2, fail));
    // Every character of the second argument is a delimiter, and empty pieces are dropped.
    const pieces: string[] = [];
    let current = '';
    for (const char of text) {
      if (delimiters.has(char)) {
        if (current !== '') pieces.push(current);
        current = '';
      } else current += char;
    }
    if (current !== '') pieces.push(current);
    return pieces;
  },
  'States.UUID': () => randomUUID(),
};

function format(parts: readonly string[], values: readonly Json[], fail: Fail): string {
  if (parts.length - 1 !== values.length) {
    return fail(
      `The number of arguments (${values.length}) does not match the number of '{}' placeholders (${parts.length - 1}) in the template`,
    );
  }
  return parts.reduce(
    (text, part, index) => text + (index === 0 ? '' : formatValue(values[index - 1] as Json)) + part,
    '',
  );
}

/**
 * Strings go in as they are; other values as Java prints them, as AWS renders them: an object as
 * `{Arg1=1, Arg2=[]}` (recorded on AWS), an array, by the same rule, as `[1, 2, x]`.
 */
function formatValue(value: Json): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([key, member]) => `${key}=${formatValue(member)}`);
    return `{${entries.join(', ')}}`;
  }
  return JSON.stringify(value);
}

/** A template read from a path has no escapes: every `{}` is a placeholder. */
function splitTemplate(template: string): string[] {
  return template.split('{}');
}

function describeValue(value: Json | undefined): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `the ${typeof value} ${JSON.stringify(value)}`;
}

function requireString(value: Json | undefined, call: IntrinsicCall, position: number, fail: Fail): string {
  if (typeof value !== 'string')
    fail(`Argument ${position} of ${call.name} must be a string, but was ${describeValue(value)}`);
  return value as string;
}

function requireBoundedString(value: Json | undefined, call: IntrinsicCall, fail: Fail): string {
  const text = requireString(value, call, 1, fail);
  if (text.length > MAX_STRING_INPUT) {
    fail(`The input of ${call.name} must be at most ${MAX_STRING_INPUT} characters, but was ${text.length}`);
  }
  return text;
}

function requireArray(value: Json | undefined, call: IntrinsicCall, position: number, fail: Fail): Json[] {
  if (!Array.isArray(value))
    fail(`Argument ${position} of ${call.name} must be an array, but was ${describeValue(value)}`);
  return value as Json[];
}

function requireObject(
  value: Json | undefined,
  call: IntrinsicCall,
  position: number,
  fail: Fail,
): { [key: string]: Json } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(`Argument ${position} of ${call.name} must be a JSON object, but was ${describeValue(value)}`);
  }
  return value as { [key: string]: Json };
}

/** AWS rounds a non-integer number to the nearest integer (half up, like Java's Math.round). */
function requireInteger(value: Json | undefined, call: IntrinsicCall, position: number, fail: Fail): number {
  if (typeof value !== 'number')
    fail(`Argument ${position} of ${call.name} must be a number, but was ${describeValue(value)}`);
  return Math.round(value as number);
}

/** A deterministic fraction in [0, 1) for a seed (mulberry32): the same seed always gives the same number. */
function seededFraction(seed: number): number {
  let state = (seed | 0) + 0x6d2b79f5;
  state = Math.imul(state ^ (state >>> 15), state | 1);
  state ^= state + Math.imul(state ^ (state >>> 7), state | 61);
  return ((state ^ (state >>> 14)) >>> 0) / 4294967296;
}

// ---------------------------------------------------------------------------------------------------------
// Parsing.

class IntrinsicParser {
  private position = 0;
  constructor(private readonly text: string) {}

  done(): boolean {
    return this.position >= this.text.length;
  }
  peek(): string {
    return this.text.charAt(this.position);
  }
  skipSpaces(): void {
    while (/\s/.test(this.peek()) && !this.done()) this.position += 1;
  }
  fail(problem: string): never {
    throw new StatesError('States.Runtime', `The intrinsic function '${this.text}' is invalid: ${problem}`);
  }

  readCall(depth: number): IntrinsicCall {
    if (depth > MAX_NESTING) this.fail(`intrinsic functions can be nested at most ${MAX_NESTING} deep`);
    this.skipSpaces();
    const name = /^States\.[A-Za-z0-9]+/.exec(this.text.slice(this.position))?.[0];
    if (name === undefined) return this.fail(`expected a function name at position ${this.position}`);
    if (!Object.hasOwn(ARITY, name)) this.fail(`'${name}' is not a known intrinsic function`);
    this.position += name.length;
    this.skipSpaces();
    if (this.peek() !== '(') this.fail(`expected '(' after ${name}`);
    this.position += 1;
    const args = this.readArguments(depth);
    const [minimum, maximum] = ARITY[name as IntrinsicName];
    if (args.length < minimum || args.length > maximum) {
      const expected =
        minimum === maximum
          ? `${minimum}`
          : maximum === Infinity
            ? `at least ${minimum}`
            : `${minimum} to ${maximum}`;
      this.fail(
        `${name} takes ${expected} argument${expected === '1' ? '' : 's'}, but was given ${args.length}`,
      );
    }
    const call: IntrinsicCall = { name: name as IntrinsicName, args };
    this.checkLiteralTemplate(call);
    return call;
  }

  private readArguments(depth: number): IntrinsicArgument[] {
    const args: IntrinsicArgument[] = [];
    this.skipSpaces();
    if (this.peek() === ')') {
      this.position += 1;
      return args;
    }
    for (;;) {
      args.push(this.readArgument(depth));
      this.skipSpaces();
      const separator = this.peek();
      this.position += 1;
      if (separator === ')') return args;
      if (separator !== ',') this.fail(separator === '' ? "missing ')'" : `unexpected '${separator}'`);
    }
  }

  private readArgument(depth: number): IntrinsicArgument {
    this.skipSpaces();
    const rest = this.text.slice(this.position);
    if (rest.startsWith("'")) return this.readString();
    if (rest.startsWith('$')) return this.readPath();
    if (rest.startsWith('States.')) return { kind: 'call', call: this.readCall(depth + 1) };
    const literal = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)(?=[\s,)])/.exec(rest)?.[0];
    if (literal === undefined) return this.fail(`unexpected argument at position ${this.position}`);
    this.position += literal.length;
    return { kind: 'literal', value: JSON.parse(literal) as number | boolean | null };
  }

  /** `'...'` with the escapes `\'`, `\{`, `\}` and `\\`; any other backslash is an error, as on AWS. */
  private readString(): IntrinsicArgument {
    this.position += 1;
    const parts: string[] = [];
    let value = '';
    let part = '';
    while (!this.done()) {
      const char = this.peek();
      if (char === '\\') {
        const escaped = this.text.charAt(this.position + 1);
        if (!"'{}\\".includes(escaped) || escaped === '')
          this.fail(`open escape backslash at position ${this.position}`);
        value += escaped;
        part += escaped;
        this.position += 2;
      } else if (char === "'") {
        this.position += 1;
        parts.push(part);
        return { kind: 'string', value, templateParts: parts };
      } else if (this.text.startsWith('{}', this.position)) {
        value += '{}';
        parts.push(part);
        part = '';
        this.position += 2;
      } else {
        value += char;
        part += char;
        this.position += 1;
      }
    }
    return this.fail('unterminated string literal');
  }

  /** A path runs to the next `,` or `)` outside brackets and quotes (`$.a['x,y']` is one path). */
  private readPath(): IntrinsicArgument {
    const start = this.position;
    let brackets = 0;
    let quote: string | undefined;
    while (!this.done()) {
      const char = this.peek();
      if (quote !== undefined) {
        if (char === '\\') this.position += 1;
        else if (char === quote) quote = undefined;
      } else if (brackets > 0 && (char === "'" || char === '"')) quote = char;
      else if (char === '[') brackets += 1;
      else if (char === ']') brackets -= 1;
      else if (brackets === 0 && (char === ',' || char === ')' || /\s/.test(char))) break;
      this.position += 1;
    }
    const path = this.text.slice(start, this.position);
    if (!isValidPath(path)) this.fail(`'${path}' is not a valid path`);
    return { kind: 'path', path };
  }

  /** A literal template's placeholders must match the other arguments, so this is known before running. */
  private checkLiteralTemplate(call: IntrinsicCall): void {
    const template = call.args[0];
    if (call.name !== 'States.Format' || template?.kind !== 'string') return;
    const placeholders = template.templateParts.length - 1;
    if (placeholders !== call.args.length - 1) {
      this.fail(
        `the template has ${placeholders} '{}' placeholder${placeholders === 1 ? '' : 's'} but ${call.args.length - 1} argument${call.args.length === 2 ? ' follows' : 's follow'} it`,
      );
    }
  }
}

/**
 * JSONata as Step Functions runs it (QueryLanguage "JSONata").
 *
 * A field value is a JSONata expression when the whole string is `{% ... %}`. Expressions see no context
 * item: the reserved `$states` variable carries input, result, errorOutput and context, and every
 * workflow variable is bound by name. On top of the JSONata library, AWS adds `$partition`, `$range`,
 * `$hash`, `$random` (with an optional seed), `$uuid` and `$parse`, and removes `$eval`.
 *
 * Every failure is `States.QueryEvaluationError`, with the cause worded as AWS words it:
 * - `The JSONata expression '<expr>' specified for the field '<field>' returned nothing (undefined).`
 * - `The JSONata expression '<expr>' specified for the field '<field>' threw an error during evaluation.
 *   <CODE>: <message>` (or `...evaluation: <message>` when the error carries no JSONata code).
 * Fields nested in a template are named with `/` before each object key and `[i]` for each array index,
 * e.g. `Arguments/Input/pushLocation`, which is how AWS's own causes name them. The interpreter adds the
 * `An error occurred while executing the state ...` prefix, not this module.
 */
import { createHash, randomUUID } from 'node:crypto';
import jsonata from 'jsonata';
import type { Json } from '../definition/types.ts';
import { StatesError } from './states-error.ts';

export interface JsonataScope {
  /** The reserved `$states` variable: input, result (after a task), errorOutput (in Catch), context. */
  readonly states: {
    readonly input: Json;
    readonly context: Json;
    readonly result?: Json;
    readonly errorOutput?: Json;
  };
  /** Workflow variables, visible as `$name`. */
  readonly variables: Readonly<Record<string, Json>>;
}

/** A `{% %}` expression that does not parse: what the validator reports, and where. */
export class JsonataSyntaxError extends StatesError {
  constructor(
    /** The expression text between the delimiters, trimmed. */
    readonly expression: string,
    /** The field it was written in, e.g. `Output/v` or `Arguments/items[1]`. */
    readonly location: string,
    /** The parser's message without its JSONata code, as AWS reports it (`Expected "]", got ","`). */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      'States.QueryEvaluationError',
      `The JSONata expression '${expression}' specified for the field '${location}' is not valid: ${detail}`,
      options,
    );
  }
}

/**
 * Is this string a JSONata expression `{% ... %}`? AWS requires the delimiters to be the very first and
 * last characters: `" {% 1 %}"` is a plain string.
 *
 * @example
 * isJsonataExpression('{% $states.input.id %}'); // true
 * isJsonataExpression('$states.input.id'); // false
 */
export function isJsonataExpression(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 4 && value.startsWith('{%') && value.endsWith('%}');
}

/**
 * Evaluate a field value: a `{% %}` string is evaluated; an object/array is walked and every `{% %}` string
 * at any depth is evaluated in place; other values are returned as they are. `field` names the field
 * (e.g. 'Arguments', 'Output', 'Choices[0]/Condition') for error messages.
 *
 * @throws StatesError `States.QueryEvaluationError` when an expression fails, returns nothing (at the top
 *   or nested: AWS fails both), or returns a function.
 *
 * @example
 * await evaluateJsonataTemplate(
 *   { total: '{% $sum($states.input.lines.amount) %}', currency: 'GBP' },
 *   { states: { input: { lines: [{ amount: 5 }, { amount: 7 }] }, context: {} }, variables: {} },
 *   'Output',
 * ); // { total: 12, currency: 'GBP' }
 */
export async function evaluateJsonataTemplate(
  template: Json,
  scope: JsonataScope,
  field: string,
): Promise<Json> {
  const bindings = { ...scope.variables, states: statesBinding(scope.states) };
  return evaluateNode(template, bindings, field);
}

/**
 * For the validator: throws a {@link JsonataSyntaxError} (a StatesError) when a `{% %}` expression anywhere
 * in the template does not parse.
 *
 * @example
 * checkJsonataSyntax({ v: '{% a[1,2) %}' }, 'Output'); // throws: ... 'Output/v' is not valid: Expected "]", got ","
 */
export function checkJsonataSyntax(template: Json, field: string): void {
  if (isJsonataExpression(template)) {
    const expression = innerText(template);
    try {
      compile(expression);
    } catch (error) {
      throw new JsonataSyntaxError(expression, field, jsonataMessage(error), { cause: error });
    }
  } else if (Array.isArray(template)) {
    for (const [index, item] of template.entries()) checkJsonataSyntax(item, `${field}[${index}]`);
  } else if (template !== null && typeof template === 'object') {
    for (const [key, value] of Object.entries(template)) checkJsonataSyntax(value, `${field}/${key}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Evaluation

type Bindings = Record<string, unknown>;

async function evaluateNode(node: Json, bindings: Bindings, field: string): Promise<Json> {
  if (isJsonataExpression(node)) return evaluateExpression(innerText(node), bindings, field);
  if (Array.isArray(node)) {
    const items: Json[] = [];
    for (const [index, item] of node.entries())
      items.push(await evaluateNode(item, bindings, `${field}[${index}]`));
    return items;
  }
  if (node !== null && typeof node === 'object') {
    const object: Record<string, Json> = {};
    for (const [key, value] of Object.entries(node))
      object[key] = await evaluateNode(value, bindings, `${field}/${key}`);
    return object;
  }
  return node;
}

async function evaluateExpression(expression: string, bindings: Bindings, field: string): Promise<Json> {
  const sentence = `The JSONata expression '${expression}' specified for the field '${field}'`;
  let result: unknown;
  try {
    // No context item: AWS refuses `$` and bare field names at the top level, so there is nothing to bind.
    result = await compile(expression).evaluate(undefined, bindings);
  } catch (error) {
    const message = jsonataMessage(error);
    const separator = errorCode(error) === undefined ? ': ' : '. ';
    const tail = errorCode(error) === undefined ? message : `${errorCode(error)}: ${message}`;
    throw new StatesError(
      'States.QueryEvaluationError',
      `${sentence} threw an error during evaluation${separator}${tail}`,
      {
        cause: error,
      },
    );
  }
  if (result === undefined) {
    throw new StatesError('States.QueryEvaluationError', `${sentence} returned nothing (undefined).`);
  }
  const json = toJson(result);
  if (json === NOT_JSON) {
    // AWS's wording, as recorded for a function-valued Map Items.
    throw new StatesError('States.QueryEvaluationError', `${sentence} returned an unsupported result type.`);
  }
  return json;
}

/**
 * The failure AWS reports when a field's value has the wrong JSON type, e.g. a Map's Items that is no array:
 * `The JSONata expression '1' specified for the field 'Items' returned an unexpected result type. Expected
 * 'array', but was 'number' for value: 1`.
 *
 * @example
 * unexpectedResultType('{% $n %}', 'Items', 'array', 1).cause; // "The JSONata expression '$n' specified ..."
 */
export function unexpectedResultType(
  template: Json,
  field: string,
  expected: string,
  value: Json,
): StatesError {
  const expression = isJsonataExpression(template) ? innerText(template) : JSON.stringify(template);
  return new StatesError(
    'States.QueryEvaluationError',
    `The JSONata expression '${expression}' specified for the field '${field}' returned an unexpected result type. Expected '${expected}', but was '${jsonType(value)}' for value: ${JSON.stringify(value)}`,
  );
}

function jsonType(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function statesBinding(states: JsonataScope['states']): Record<string, Json> {
  const binding: Record<string, Json> = { input: states.input, context: states.context };
  if (states.result !== undefined) binding.result = states.result;
  if (states.errorOutput !== undefined) binding.errorOutput = states.errorOutput;
  return binding;
}

function innerText(expression: string): string {
  return expression.slice(2, -2).trim();
}

const NOT_JSON = Symbol('not JSON');

/**
 * JSONata hands back sequences (arrays with extra flags), objects with a null prototype, and numbers JSON
 * cannot spell. Copy into plain JSON: undefined members drop out as JSONata's own object constructor
 * drops them, and a non-finite number becomes the string JavaScript names it by (AWS writes `1/0` as
 * `"Infinity"`, reported from measurements against AWS rather than documented).
 */
function toJson(value: unknown): Json | typeof NOT_JSON {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'function' || isJsonataFunction(value)) return NOT_JSON;
  if (Array.isArray(value)) {
    const items: Json[] = [];
    for (const item of value) {
      if (item === undefined) continue;
      const json = toJson(item);
      if (json === NOT_JSON) return NOT_JSON;
      items.push(json);
    }
    return items;
  }
  if (typeof value === 'object') {
    const object: Record<string, Json> = {};
    for (const [key, member] of Object.entries(value)) {
      if (member === undefined) continue;
      const json = toJson(member);
      if (json === NOT_JSON) return NOT_JSON;
      object[key] = json;
    }
    return object;
  }
  return NOT_JSON;
}

function isJsonataFunction(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const marked = value as { _jsonata_function?: unknown; _jsonata_lambda?: unknown };
  return marked._jsonata_function === true || marked._jsonata_lambda === true;
}

function errorCode(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function jsonataMessage(error: unknown): string {
  if (error !== null && typeof error === 'object') {
    const message = (error as { message?: unknown }).message;
    if (typeof message === 'string' && message !== '') return message;
  }
  return String(error);
}

// ---------------------------------------------------------------------------------------------------------
// Compilation, cached: the same definition runs thousands of times.

const compiled = new Map<string, jsonata.Expression>();
// Expressions come from definitions, so the set is bounded in practice; the cap guards a long-lived
// process that sees many definitions come and go.
const CACHE_LIMIT = 10_000;
const GUARDRAILS: jsonata.JsonataOptions = {
  // Bound a runaway expression (AWS bounds evaluation too). The limits are jsonata's, not AWS's exact ones.
  timeout: 5_000,
  stack: 500,
};

function compile(expression: string): jsonata.Expression {
  const cached = compiled.get(expression);
  if (cached !== undefined) return cached;
  const compiledExpression = jsonata(expression, GUARDRAILS);
  registerStepFunctionsFunctions(compiledExpression);
  if (compiled.size >= CACHE_LIMIT) compiled.clear();
  compiled.set(expression, compiledExpression);
  return compiledExpression;
}

// ---------------------------------------------------------------------------------------------------------
// The functions Step Functions adds (and the one it removes)

/** jsonata's own error shape, so a failure reads `<CODE>: <message>` like the library's errors. */
function jsonataError(code: string, message: string): { code: string; message: string } {
  return { code, message };
}

/** Step Functions rounds non-integer counts and bounds towards zero (reported from measurements). */
const integer = (value: number): number => Math.trunc(value);

/** AWS refuses a `$range` past this many elements with its memory-limit error (reported, not documented). */
const RANGE_LIMIT = 360_145;

const HASH_ALGORITHMS: Readonly<Record<string, string>> = {
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

function registerStepFunctionsFunctions(expression: jsonata.Expression): void {
  expression.registerFunction(
    'partition',
    (array: unknown[] | undefined, size: number | undefined) => {
      if (array === undefined || size === undefined) return undefined;
      const chunk = integer(size);
      // A chunk size of zero, and an empty array, give nothing on AWS; a negative size we treat alike (guess).
      if (chunk <= 0 || array.length === 0) return undefined;
      const chunks: unknown[][] = [];
      for (let start = 0; start < array.length; start += chunk)
        chunks.push(array.slice(start, start + chunk));
      return chunks;
    },
    '<an:a>',
  );

  expression.registerFunction(
    'range',
    (start: number | undefined, end: number | undefined, step: number | undefined) => {
      if (start === undefined || end === undefined || step === undefined) return undefined;
      const [from, to, by] = [integer(start), integer(end), integer(step)];
      // A step that never reaches the end (zero, or the wrong sign) gives nothing rather than looping.
      if (by === 0 || (to > from && by < 0) || (to < from && by > 0)) return undefined;
      const count = Math.floor((to - from) / by) + 1;
      if (count > RANGE_LIMIT) throw new Error('Expression evaluation memory limit exceeded');
      const values = Array.from({ length: count }, (_, i) => from + i * by);
      // AWS hands back a one-element range as the bare number, as a JSONata singleton sequence would be.
      return values.length === 1 ? values[0] : values;
    },
    '<nnn?>',
  );

  expression.registerFunction(
    'hash',
    (value: string | undefined, algorithm: string | undefined) => {
      if (value === undefined || algorithm === undefined) return undefined;
      const name = HASH_ALGORITHMS[algorithm];
      if (name === undefined) {
        // AWS's wording here is not documented; the list of names is (case-sensitive).
        throw new Error(
          `The hash algorithm '${algorithm}' is not supported; use one of ${Object.keys(HASH_ALGORITHMS).join(', ')}`,
        );
      }
      return createHash(name).update(value, 'utf8').digest('hex');
    },
    '<ss?:s>',
  );

  expression.registerFunction(
    'random',
    (seed: number | undefined) => (seed === undefined ? Math.random() : seededRandom(integer(seed))),
    '<n?:n>',
  );

  expression.registerFunction('uuid', () => randomUUID(), '<:s>');

  expression.registerFunction(
    'parse',
    (text: string | undefined) => {
      if (text === undefined) return undefined;
      try {
        return JSON.parse(text) as Json;
      } catch (error) {
        // AWS's wording for unparseable JSON is not documented.
        throw new Error(`The string could not be parsed as JSON: ${(error as Error).message}`);
      }
    },
    '<s:j>',
  );

  // AWS leaves $eval out ("use $parse instead"); calling it fails the way calling any non-function does.
  expression.registerFunction('eval', () => {
    throw jsonataError('T1006', 'Attempted to invoke a non-function');
  });
}

/**
 * A reproducible number in [0, 1) for a seed. AWS documents only that the same seed gives the same
 * number; the generator here is java.util.Random's (a 48-bit LCG), our guess at what a JVM service uses.
 */
function seededRandom(seed: number): number {
  const multiplier = 0x5deece66dn;
  const mask = (1n << 48n) - 1n;
  let state = (BigInt.asIntN(64, BigInt(seed)) ^ multiplier) & mask;
  const next = (bits: bigint): bigint => {
    state = (state * multiplier + 0xbn) & mask;
    return state >> (48n - bits);
  };
  const high = next(26n);
  const low = next(27n);
  return Number((high << 27n) + low) / 2 ** 53;
}

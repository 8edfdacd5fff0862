/**
 * JSONPath as the States Language uses it: Paths (InputPath, ItemsPath, `.$` values, ...) and Reference Paths
 * (ResultPath, Choice Variable).
 *
 * AWS evaluates paths with a Java JSONPath engine (Jayway), and its rules are what users see:
 * - a definite path (only `.name`, `['name']`, `[index]`) gives the node itself, and fails when a property on
 *   the way is missing or a step lands on a non-object;
 * - an indefinite path (wildcards, recursive descent, slices, unions, filters) gives the array of matches, `[]`
 *   when nothing matches, even when its definite prefix is missing (`$.items[*]`, `$.a.b[1:5].c` on `{}`
 *   give `[]` on AWS);
 * - an array index past the end as the last step gives `null`, not a failure (observed on AWS: `"v.$":
 *   "$.items[5]"` on `{"items":[1,2]}` gives `{"v":null}`).
 *
 * The evaluator is our own rather than jsonpath-plus: jsonpath-plus resolves missing definite prefixes to `[]`,
 * follows JavaScript semantics in filters (`'1' == 1`), and its "safe" filter evaluator still runs assignments
 * against the document. Filters here are parsed by a small grammar and can only compare values.
 */
import type { Json } from '../definition/types.ts';

/** What a path can see: `$` is the input, `$$` the context object, `$name` a workflow variable. */
export interface JsonPathScope {
  readonly input: Json;
  readonly context: Json;
  readonly variables: Readonly<Record<string, Json>>;
}

export type PathRoot =
  | { readonly kind: 'input' }
  | { readonly kind: 'context' }
  | { readonly kind: 'variable'; readonly name: string };

export type PathSegment =
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'wildcard' }
  | { readonly kind: 'descent'; readonly then: PathSegment }
  | { readonly kind: 'slice'; readonly start: number | undefined; readonly end: number | undefined }
  | { readonly kind: 'union'; readonly members: readonly number[] }
  /** `['a','b']`: as the last step, an object with just those properties (Jayway merges them). */
  | { readonly kind: 'pick'; readonly names: readonly string[] }
  | { readonly kind: 'filter'; readonly predicate: FilterExpression };

export interface ParsedPath {
  readonly root: PathRoot;
  readonly segments: readonly PathSegment[];
  /** True when the path can only ever name one node. */
  readonly definite: boolean;
}

type FilterOperand =
  | { readonly kind: 'current'; readonly segments: readonly PathSegment[] }
  | { readonly kind: 'literal'; readonly value: Json }
  | { readonly kind: 'regex'; readonly regex: RegExp };

type FilterExpression =
  | { readonly kind: 'or' | 'and'; readonly left: FilterExpression; readonly right: FilterExpression }
  | { readonly kind: 'not'; readonly operand: FilterExpression }
  | { readonly kind: 'exists'; readonly operand: FilterOperand }
  | {
      readonly kind: 'compare';
      readonly operator: ComparisonOperator;
      readonly left: FilterOperand;
      readonly right: FilterOperand;
    };

type ComparisonOperator = '==' | '!=' | '<' | '<=' | '>' | '>=' | '=~' | 'in' | 'nin';

/** Workflow variable names: a letter or underscore, then letters, digits and underscores. */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
/** Characters that end a dot-notation property name. */
const DOT_NAME = /^[^.[\]()\s'",]+/;

class PathSyntaxError extends Error {}

/**
 * Parses a Path, or returns undefined when it is not valid JSONPath as the States Language accepts it.
 *
 * @example
 * parsePath('$.items[0].id'); // { root: { kind: 'input' }, segments: [...], definite: true }
 * parsePath('$.items[?(@.qty > 1)]')?.definite; // false
 * parsePath('items'); // undefined
 */
export function parsePath(path: string): ParsedPath | undefined {
  if (parsedPaths.has(path)) return parsedPaths.get(path);
  // Paths come from definitions, so a bounded cache holds nearly all of them; an overflow just starts over.
  if (parsedPaths.size >= PARSE_CACHE_LIMIT) parsedPaths.clear();
  const parsed = parseUncached(path);
  parsedPaths.set(path, parsed);
  return parsed;
}

const PARSE_CACHE_LIMIT = 10_000;
const parsedPaths = new Map<string, ParsedPath | undefined>();

function parseUncached(path: string): ParsedPath | undefined {
  try {
    const reader = new Reader(path);
    const root = readRoot(reader);
    const segments = readSegments(reader, false);
    if (!reader.done()) throw new PathSyntaxError(`unexpected '${reader.peek()}'`);
    // As on AWS: "Multi properties can only be used as path leafs".
    if (segments.slice(0, -1).some((segment) => segment.kind === 'pick')) {
      throw new PathSyntaxError('multi properties can only be used as path leafs');
    }
    return { root, segments, definite: segments.every(isDefiniteSegment) };
  } catch (error) {
    if (error instanceof PathSyntaxError) return undefined;
    throw error;
  }
}

/**
 * Is this a valid Path (any JSONPath the States Language accepts, rooted at `$`, `$$` or `$variable`)?
 *
 * @example
 * isValidPath('$..price'); // true
 * isValidPath('$.a['); // false
 */
export function isValidPath(path: string): boolean {
  return parsePath(path) !== undefined;
}

/**
 * Is this a valid Reference Path: one that names a single node, with only `.name`, `['name']` and `[index]`?
 *
 * @example
 * isValidReferencePath("$.order['line items'][0]"); // true
 * isValidReferencePath('$.items[*]'); // false
 */
export function isValidReferencePath(path: string): boolean {
  const parsed = parsePath(path);
  return (
    parsed?.segments.every(
      (segment) => segment.kind === 'name' || (segment.kind === 'index' && segment.index >= 0),
    ) === true
  );
}

/**
 * Evaluates a Path against the input (`$`), the context object (`$$`) or a variable (`$name`).
 * A definite path returns the node; an indefinite one returns the array of matches, as AWS does.
 *
 * @example
 * const scope = { input: { a: [{ b: 1 }, { b: 2 }] }, context: {}, variables: {} };
 * queryPath('$.a[0].b', scope); // { found: true, value: 1 }
 * queryPath('$.a[*].b', scope); // { found: true, value: [1, 2] }
 * queryPath('$.c', scope); // { found: false }
 */
export function queryPath(
  path: string,
  scope: JsonPathScope,
): { found: true; value: Json } | { found: false } {
  const outcome = evaluatePath(path, scope);
  return outcome.kind === 'value' ? { found: true, value: outcome.value } : { found: false };
}

/**
 * What a path evaluates to, telling apart a leaf index past the end of an array (which a `.$` field reads
 * as `null` on AWS but an intrinsic function argument reports as missing).
 *
 * @example
 * evaluatePath('$.a[3]', { input: { a: [] }, context: {}, variables: {} }); // { kind: 'pastEnd' }
 */
export function evaluatePath(
  path: string,
  scope: JsonPathScope,
): { kind: 'value'; value: Json } | { kind: 'missing' } | { kind: 'pastEnd' } {
  const parsed = parsePath(path);
  if (parsed === undefined) return { kind: 'missing' };
  const root = rootValue(parsed.root, scope);
  if (root === undefined) return { kind: 'missing' };

  const firstIndefinite = parsed.segments.findIndex((segment) => !isDefiniteSegment(segment));
  const prefix = firstIndefinite === -1 ? parsed.segments : parsed.segments.slice(0, firstIndefinite);
  let node: Json = root;
  for (const [position, segment] of prefix.entries()) {
    const step = stepInto(node, segment as DefiniteSegment);
    if (step.kind === 'pastEnd' && position === parsed.segments.length - 1) {
      return { kind: 'pastEnd' };
    }
    // An indefinite path over a missing prefix matches nothing, which AWS gives as `[]`, not a failure.
    if (step.kind !== 'value')
      return firstIndefinite === -1 ? { kind: 'missing' } : { kind: 'value', value: [] };
    node = step.value;
  }
  if (firstIndefinite === -1) return { kind: 'value', value: node };

  let matches: Json[] = [node];
  for (const segment of parsed.segments.slice(firstIndefinite)) {
    matches = matches.flatMap((match) => select(match, segment));
  }
  return { kind: 'value', value: matches };
}

function rootValue(root: PathRoot, scope: JsonPathScope): Json | undefined {
  switch (root.kind) {
    case 'input':
      return scope.input;
    case 'context':
      return scope.context;
    case 'variable':
      return Object.hasOwn(scope.variables, root.name) ? scope.variables[root.name] : undefined;
  }
}

type DefiniteSegment = Extract<PathSegment, { kind: 'name' | 'index' | 'pick' }>;

function isDefiniteSegment(segment: PathSegment): segment is DefiniteSegment {
  return segment.kind === 'name' || segment.kind === 'index' || segment.kind === 'pick';
}

function stepInto(
  node: Json,
  segment: DefiniteSegment,
): { kind: 'value'; value: Json } | { kind: 'missing' } | { kind: 'pastEnd' } {
  if (segment.kind === 'name') {
    if (!isObject(node) || !Object.hasOwn(node, segment.name)) return { kind: 'missing' };
    return { kind: 'value', value: node[segment.name] as Json };
  }
  if (segment.kind === 'pick') {
    if (!isObject(node)) return { kind: 'missing' };
    const picked = Object.fromEntries(
      segment.names.filter((name) => Object.hasOwn(node, name)).map((name) => [name, node[name] as Json]),
    );
    return { kind: 'value', value: picked };
  }
  if (!Array.isArray(node)) return { kind: 'missing' };
  const index = segment.index < 0 ? node.length + segment.index : segment.index;
  if (index < 0 || index >= node.length) return { kind: 'pastEnd' };
  return { kind: 'value', value: node[index] as Json };
}

/** The nodes one indefinite-path step selects from `node` (no match is simply no node). */
function select(node: Json, segment: PathSegment): Json[] {
  switch (segment.kind) {
    case 'name':
    case 'index':
    case 'pick': {
      const step = stepInto(node, segment);
      return step.kind === 'value' ? [step.value] : [];
    }
    case 'wildcard':
      return children(node);
    case 'descent':
      return descendantsAndSelf(node).flatMap((each) => select(each, segment.then));
    case 'slice': {
      if (!Array.isArray(node)) return [];
      return node.slice(...sliceBounds(node.length, segment.start, segment.end));
    }
    case 'union':
      return segment.members.flatMap((index) => select(node, { kind: 'index', index }));
    case 'filter':
      return children(node).filter((child) => matchesFilter(segment.predicate, child));
  }
}

function sliceBounds(length: number, start: number | undefined, end: number | undefined): [number, number] {
  const from = start === undefined ? 0 : start < 0 ? Math.max(0, length + start) : start;
  const to = end === undefined ? length : end < 0 ? Math.max(0, length + end) : end;
  return [from, to];
}

function children(node: Json): Json[] {
  if (Array.isArray(node)) return [...node];
  if (isObject(node)) return Object.values(node);
  return [];
}

function descendantsAndSelf(node: Json): Json[] {
  return [node, ...children(node).flatMap(descendantsAndSelf)];
}

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------------------
// Filters: `[?(@.price < 10 && @.tags)]`, compared the way Jayway does (no type coercion).

function matchesFilter(expression: FilterExpression, current: Json): boolean {
  switch (expression.kind) {
    case 'or':
      return matchesFilter(expression.left, current) || matchesFilter(expression.right, current);
    case 'and':
      return matchesFilter(expression.left, current) && matchesFilter(expression.right, current);
    case 'not':
      return !matchesFilter(expression.operand, current);
    case 'exists': {
      const value = operandValue(expression.operand, current);
      return value !== undefined && value !== false;
    }
    case 'compare':
      return compare(expression.operator, expression.left, expression.right, current);
  }
}

function operandValue(operand: FilterOperand, current: Json): Json | undefined {
  if (operand.kind === 'literal') return operand.value;
  if (operand.kind === 'regex') return undefined;
  let node: Json = current;
  for (const segment of operand.segments) {
    if (!isDefiniteSegment(segment)) return undefined;
    const step = stepInto(node, segment);
    if (step.kind !== 'value') return undefined;
    node = step.value;
  }
  return node;
}

function compare(
  operator: ComparisonOperator,
  left: FilterOperand,
  right: FilterOperand,
  current: Json,
): boolean {
  const a = operandValue(left, current);
  if (operator === '=~') {
    return right.kind === 'regex' && typeof a === 'string' && right.regex.test(a);
  }
  const b = operandValue(right, current);
  switch (operator) {
    case '==':
      return a !== undefined && b !== undefined && jsonEquals(a, b);
    case '!=':
      return !(a !== undefined && b !== undefined && jsonEquals(a, b));
    case 'in':
      return a !== undefined && Array.isArray(b) && b.some((each) => jsonEquals(a, each));
    case 'nin':
      return a !== undefined && Array.isArray(b) && !b.some((each) => jsonEquals(a, each));
    default:
      return ordered(operator, a, b);
  }
}

function ordered(operator: '<' | '<=' | '>' | '>=', a: Json | undefined, b: Json | undefined): boolean {
  const comparable =
    (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string');
  if (!comparable) return false;
  switch (operator) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

/**
 * Structural equality of JSON values (object key order does not matter).
 *
 * @example
 * jsonEquals({ a: [1, 2] }, { a: [1, 2] }); // true
 */
export function jsonEquals(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return (
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((each, index) => jsonEquals(each, b[index] as Json))
    );
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((key) => Object.hasOwn(b, key) && jsonEquals(a[key] as Json, b[key] as Json))
    );
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------
// Parsing.

class Reader {
  position = 0;
  constructor(readonly text: string) {}

  done(): boolean {
    return this.position >= this.text.length;
  }
  peek(offset = 0): string {
    return this.text.charAt(this.position + offset);
  }
  startsWith(token: string): boolean {
    return this.text.startsWith(token, this.position);
  }
  take(token: string): boolean {
    if (!this.startsWith(token)) return false;
    this.position += token.length;
    return true;
  }
  expect(token: string): void {
    if (!this.take(token)) throw new PathSyntaxError(`expected '${token}' at ${this.position}`);
  }
  match(pattern: RegExp): string | undefined {
    const found = pattern.exec(this.text.slice(this.position));
    if (found === null) return undefined;
    this.position += found[0].length;
    return found[0];
  }
  skipSpaces(): void {
    this.match(/^\s+/);
  }
}

function readRoot(reader: Reader): PathRoot {
  if (reader.take('$$')) return { kind: 'context' };
  reader.expect('$');
  const name = reader.match(VARIABLE_NAME);
  return name === undefined ? { kind: 'input' } : { kind: 'variable', name };
}

/** Reads segments until the end, or (inside a filter) until something that is not a segment. */
function readSegments(reader: Reader, inFilter: boolean): PathSegment[] {
  const segments: PathSegment[] = [];
  while (!reader.done()) {
    if (reader.take('..')) {
      if (inFilter) throw new PathSyntaxError('recursive descent inside a filter');
      const then = reader.peek() === '[' ? readBracket(reader) : readDotMember(reader);
      segments.push({ kind: 'descent', then });
    } else if (reader.take('.')) {
      segments.push(readDotMember(reader));
    } else if (reader.peek() === '[') {
      segments.push(readBracket(reader));
    } else if (inFilter) {
      break;
    } else {
      throw new PathSyntaxError(`unexpected '${reader.peek()}'`);
    }
  }
  return segments;
}

function readDotMember(reader: Reader): PathSegment {
  if (reader.take('*')) return { kind: 'wildcard' };
  const name = reader.match(DOT_NAME);
  if (name === undefined) throw new PathSyntaxError('expected a property name');
  return { kind: 'name', name };
}

function readBracket(reader: Reader): PathSegment {
  reader.expect('[');
  reader.skipSpaces();
  let segment: PathSegment;
  if (reader.take('?(')) {
    const predicate = readFilterOr(reader);
    reader.skipSpaces();
    reader.expect(')');
    segment = { kind: 'filter', predicate };
  } else if (reader.take('*')) {
    segment = { kind: 'wildcard' };
  } else if (reader.peek() === "'" || reader.peek() === '"') {
    const names = [readQuoted(reader)];
    reader.skipSpaces();
    while (reader.take(',')) {
      reader.skipSpaces();
      names.push(readQuoted(reader));
      reader.skipSpaces();
    }
    segment = names.length === 1 ? { kind: 'name', name: names[0] as string } : { kind: 'pick', names };
  } else {
    segment = readIndexOrSlice(reader);
  }
  reader.skipSpaces();
  reader.expect(']');
  return segment;
}

function readIndexOrSlice(reader: Reader): PathSegment {
  const first = readInteger(reader);
  reader.skipSpaces();
  if (reader.take(':')) {
    reader.skipSpaces();
    const end = readInteger(reader);
    if (first === undefined && end === undefined) throw new PathSyntaxError('empty slice');
    return { kind: 'slice', start: first, end };
  }
  if (first === undefined) throw new PathSyntaxError('expected an index');
  const indexes = [first];
  while (reader.take(',')) {
    reader.skipSpaces();
    const next = readInteger(reader);
    if (next === undefined) throw new PathSyntaxError('expected an index');
    indexes.push(next);
    reader.skipSpaces();
  }
  return indexes.length === 1 ? { kind: 'index', index: first } : { kind: 'union', members: indexes };
}

function readInteger(reader: Reader): number | undefined {
  const digits = reader.match(/^-?\d+/);
  return digits === undefined ? undefined : Number(digits);
}

function readQuoted(reader: Reader): string {
  const quote = reader.peek();
  if (quote !== "'" && quote !== '"') throw new PathSyntaxError('expected a quoted name');
  reader.position += 1;
  let value = '';
  while (!reader.done()) {
    const char = reader.peek();
    if (char === '\\' && (reader.peek(1) === quote || reader.peek(1) === '\\')) {
      value += reader.peek(1);
      reader.position += 2;
    } else if (char === quote) {
      reader.position += 1;
      return value;
    } else {
      value += char;
      reader.position += 1;
    }
  }
  throw new PathSyntaxError('unterminated string');
}

function readFilterOr(reader: Reader): FilterExpression {
  let left = readFilterAnd(reader);
  reader.skipSpaces();
  while (reader.take('||')) {
    const right = readFilterAnd(reader);
    left = { kind: 'or', left, right };
    reader.skipSpaces();
  }
  return left;
}

function readFilterAnd(reader: Reader): FilterExpression {
  let left = readFilterUnary(reader);
  reader.skipSpaces();
  while (reader.take('&&')) {
    const right = readFilterUnary(reader);
    left = { kind: 'and', left, right };
    reader.skipSpaces();
  }
  return left;
}

function readFilterUnary(reader: Reader): FilterExpression {
  reader.skipSpaces();
  if (reader.peek() === '!' && reader.peek(1) !== '=') {
    reader.position += 1;
    return { kind: 'not', operand: readFilterUnary(reader) };
  }
  if (reader.take('(')) {
    const inner = readFilterOr(reader);
    reader.skipSpaces();
    reader.expect(')');
    return inner;
  }
  const left = readFilterOperand(reader);
  reader.skipSpaces();
  const operator = reader.match(/^(==|!=|<=|>=|=~|<|>|nin\b|in\b)/) as ComparisonOperator | undefined;
  if (operator === undefined) return { kind: 'exists', operand: left };
  reader.skipSpaces();
  const right = readFilterOperand(reader);
  if ((operator === '=~') !== (right.kind === 'regex')) throw new PathSyntaxError('=~ takes a /regex/');
  return { kind: 'compare', operator, left, right };
}

function readFilterOperand(reader: Reader): FilterOperand {
  if (reader.take('@')) return { kind: 'current', segments: readSegments(reader, true) };
  if (reader.peek() === "'" || reader.peek() === '"') return { kind: 'literal', value: readQuoted(reader) };
  if (reader.peek() === '/') return readRegex(reader);
  if (reader.take('[')) {
    const values: Json[] = [];
    reader.skipSpaces();
    while (!reader.take(']')) {
      const item = readFilterOperand(reader);
      if (item.kind !== 'literal') throw new PathSyntaxError('array literals hold literals only');
      values.push(item.value);
      reader.skipSpaces();
      if (!reader.take(',')) {
        reader.expect(']');
        break;
      }
      reader.skipSpaces();
    }
    return { kind: 'literal', value: values };
  }
  const number = reader.match(/^-?\d+(\.\d+)?([eE][+-]?\d+)?/);
  if (number !== undefined) return { kind: 'literal', value: Number(number) };
  const keyword = reader.match(/^(true|false|null)\b/);
  if (keyword !== undefined) return { kind: 'literal', value: JSON.parse(keyword) as Json };
  throw new PathSyntaxError(`unexpected '${reader.peek()}' in filter`);
}

function readRegex(reader: Reader): FilterOperand {
  const found = reader.match(/^\/((?:\\.|[^/\\])*)\/([imsu]*)/);
  if (found === undefined) throw new PathSyntaxError('unterminated regex');
  const closing = found.lastIndexOf('/');
  try {
    return { kind: 'regex', regex: new RegExp(found.slice(1, closing), found.slice(closing + 1)) };
  } catch {
    throw new PathSyntaxError('invalid regex');
  }
}

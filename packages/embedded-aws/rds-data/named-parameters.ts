/**
 * The Data API's `:name` placeholders turned into PostgreSQL's `$n`, and its typed `SqlParameter` values into
 * what the extended query protocol binds (a type OID and the value's text).
 *
 * A placeholder is `:` followed by a letter or `_` and then letters, digits or `_`, outside string literals
 * ('...', E'...', $tag$...$tag$), quoted identifiers ("..."), comments (-- and nested /* *\/) and `::` casts, as
 * @payment-to-vend/postgres-lexer reads them.
 * Only names the request supplies are replaced; any other `:name` stays in the SQL, so PostgreSQL reports
 * `syntax error at or near ":"` (guess: what the Data API shows for a missing parameter). Parameters the
 * SQL does not use are ignored (guess, as the JDBC-based Data API binds only the names it finds).
 *
 * Values are typed as the Data API's JDBC driver types them: stringValue is `varchar` (so a string into an
 * integer, uuid or jsonb column fails as on Aurora unless a typeHint or a cast says otherwise), longValue
 * `int8`, doubleValue `float8`, booleanValue `bool`, blobValue `bytea`, isNull untyped.
 */
import { tokenize } from '@payment-to-vend/postgres-lexer';
import { badRequest } from './errors.ts';

/** A scanned SQL text: the literal pieces around each placeholder, cached per distinct SQL string. */
export interface ScannedSql {
  /** `pieces.length === names.length + 1`; the SQL is pieces[0] + :names[0] + pieces[1] + ... */
  readonly pieces: readonly string[];
  readonly names: readonly string[];
  /** More than one statement (a `;` followed by anything but blanks and comments). */
  readonly multipleStatements: boolean;
}

/** One value for the extended protocol's Bind: its type (0 = let PostgreSQL infer) and its text. */
export interface BoundValue {
  readonly type: number;
  readonly text: string | null;
}

export interface BoundStatement {
  readonly text: string;
  readonly types: number[];
  readonly values: (string | null)[];
}

/** What a request's `parameters` entry may hold, as parsed from JSON (nothing trusted yet). */
export interface SqlParameterInput {
  readonly name?: unknown;
  readonly value?: unknown;
  readonly typeHint?: unknown;
}

const OID = {
  unknown: 0,
  bool: 16,
  bytea: 17,
  int8: 20,
  json: 114,
  float8: 701,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  numeric: 1700,
  uuid: 2950,
} as const;

const TYPE_HINTS = ['DATE', 'DECIMAL', 'JSON', 'TIME', 'TIMESTAMP', 'UUID'] as const;

const scanCache = new Map<string, ScannedSql>();
const SCAN_CACHE_LIMIT = 2000;

/**
 * Finds the `:name` placeholders of a SQL text (cached: the same statements come back again and again).
 *
 * @example
 * scanSql("SELECT :id::text, ':no' -- :no").names; // ['id']
 */
export function scanSql(sql: string): ScannedSql {
  const cached = scanCache.get(sql);
  if (cached !== undefined) return cached;
  const scanned = scan(sql);
  if (scanCache.size >= SCAN_CACHE_LIMIT) scanCache.clear();
  scanCache.set(sql, scanned);
  return scanned;
}

/** `:` then a letter, `_` or non-ASCII character, then those or digits. */
const PLACEHOLDER = /:([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)/g;
/** Space, tab, line feed, carriage return, form feed. */
const BLANK = /^[ \t\n\r\f]*$/;

function scan(sql: string): ScannedSql {
  const pieces: string[] = [];
  const names: string[] = [];
  let pieceStart = 0;
  let statementEnded = false;
  let multipleStatements = false;
  for (const token of tokenize(sql)) {
    // Blanks and comments after a `;` do not make a second statement; anything else does.
    if (token.kind === 'semicolon') {
      statementEnded = true;
      continue;
    }
    if (token.kind === 'line-comment' || token.kind === 'block-comment') continue;
    if (statementEnded && (token.kind !== 'code' || !BLANK.test(token.text))) multipleStatements = true;
    if (token.kind !== 'code') continue;
    // Placeholders are only in code: not in literals, quoted identifiers or comments, and `::` is a token
    // of its own.
    for (const placeholder of token.text.matchAll(PLACEHOLDER)) {
      const colon = token.start + placeholder.index;
      pieces.push(sql.slice(pieceStart, colon));
      names.push(placeholder[1] as string);
      pieceStart = colon + placeholder[0].length;
    }
  }
  pieces.push(sql.slice(pieceStart));
  return { pieces, names, multipleStatements };
}

/**
 * Binds a request's parameters to a scanned statement: each supplied name used in the SQL becomes `$n`
 * (a name used twice is one parameter), typed and encoded per the Data API's rules.
 *
 * @example
 * bindParameters(scanSql('SELECT * FROM t WHERE id = :id'), [{ name: 'id', value: { longValue: 7 } }]);
 * // { text: 'SELECT * FROM t WHERE id = $1', types: [20], values: ['7'] }
 */
export function bindParameters(
  scanned: ScannedSql,
  parameters: readonly SqlParameterInput[] | undefined,
): BoundStatement {
  const supplied = new Map<string, BoundValue>();
  for (const parameter of parameters ?? []) {
    const name = parameter.name;
    if (typeof name !== 'string' || name === '') {
      // Guess at the wording: the Data API binds by name only.
      throw badRequest('Parameter name must be specified');
    }
    const bound = boundValueOf(parameter, name);
    // The first of two same-named parameters wins (guess).
    if (!supplied.has(name)) supplied.set(name, bound);
  }
  if (scanned.names.length === 0) return { text: scanned.pieces[0] ?? '', types: [], values: [] };
  const positions = new Map<string, number>();
  const types: number[] = [];
  const values: (string | null)[] = [];
  let text = scanned.pieces[0] ?? '';
  for (const [index, name] of scanned.names.entries()) {
    const value = supplied.get(name);
    if (value === undefined) {
      text += `:${name}`;
    } else {
      let position = positions.get(name);
      if (position === undefined) {
        types.push(value.type);
        values.push(value.text);
        position = types.length;
        positions.set(name, position);
      }
      text += `$${position}`;
    }
    text += scanned.pieces[index + 1] ?? '';
  }
  return { text, types, values };
}

/**
 * One SqlParameter as a typed protocol value.
 *
 * @example
 * boundValueOf({ name: 'at', value: { stringValue: '2024-01-02 03:04:05' }, typeHint: 'TIMESTAMP' }, 'at');
 * // { type: 1114, text: '2024-01-02 03:04:05' }
 */
export function boundValueOf(parameter: SqlParameterInput, name: string): BoundValue {
  const value = parameter.value;
  const hint = parameter.typeHint;
  if (hint !== undefined && hint !== null && !(TYPE_HINTS as readonly unknown[]).includes(hint)) {
    throw badRequest(
      `1 validation error detected: Value '${String(hint)}' at 'parameters.${name}.typeHint' failed to satisfy constraint: ` +
        `Member must satisfy enum value set: [${TYPE_HINTS.join(', ')}]`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest(`Parameter ${name} has no value`);
  }
  const members = Object.entries(value as Record<string, unknown>).filter(
    ([, member]) => member !== undefined,
  );
  if (members.length !== 1) {
    // A Field is a union: exactly one member must be set.
    throw badRequest(`Parameter ${name} must have exactly one value`);
  }
  const [member, raw] = members[0]!;
  switch (member) {
    case 'isNull':
      if (raw !== true) throw badRequest(`Parameter ${name} has no value`);
      return { type: OID.unknown, text: null };
    case 'stringValue':
      if (typeof raw !== 'string') throw badRequest(`Invalid stringValue for parameter ${name}`);
      return hintedString(raw, hint as (typeof TYPE_HINTS)[number] | undefined);
    case 'longValue':
      if (typeof raw !== 'number' || !Number.isInteger(raw))
        throw badRequest(`Invalid longValue for parameter ${name}`);
      return { type: OID.int8, text: BigInt(raw).toString() };
    case 'doubleValue':
      return { type: OID.float8, text: doubleText(raw, name) };
    case 'booleanValue':
      if (typeof raw !== 'boolean') throw badRequest(`Invalid booleanValue for parameter ${name}`);
      return { type: OID.bool, text: raw ? 'true' : 'false' };
    case 'blobValue':
      if (typeof raw !== 'string') throw badRequest(`Invalid blobValue for parameter ${name}`);
      return { type: OID.bytea, text: `\\x${Buffer.from(raw, 'base64').toString('hex')}` };
    case 'arrayValue':
      // The API reference: "Array parameters are not supported."
      throw badRequest('Array parameters are not supported.');
    default:
      throw badRequest(`Parameter ${name} has an unknown value type ${member}`);
  }
}

function doubleText(raw: unknown, name: string): string {
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  // The SDK writes non-finite doubles as these strings.
  if (raw === 'NaN' || raw === 'Infinity' || raw === '-Infinity') return raw;
  throw badRequest(`Invalid doubleValue for parameter ${name}`);
}

const DATE_FORMAT = /^\d{4}-\d{1,2}-\d{1,2}$/;
const TIME_FORMAT = /^\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d{1,9})?$/;
const TIMESTAMP_FORMAT = /^\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{1,2}:\d{1,2}(?:\.\d{1,9})?$/;

function hintedString(text: string, hint: (typeof TYPE_HINTS)[number] | undefined): BoundValue {
  switch (hint) {
    case undefined:
      return { type: OID.varchar, text };
    case 'DATE':
      // The Data API parses hinted strings with java.sql.Date/Time/Timestamp.valueOf, which accept only
      // these layouts (no ISO 'T', no zone); the messages are Java's (guess for DATE and TIME, whose
      // exceptions carry none).
      if (!DATE_FORMAT.test(text)) throw badRequest('Date format must be yyyy-[m]m-[d]d');
      return { type: OID.date, text };
    case 'TIME':
      if (!TIME_FORMAT.test(text)) throw badRequest('Time format must be hh:mm:ss[.fff]');
      return { type: OID.time, text };
    case 'TIMESTAMP':
      if (!TIMESTAMP_FORMAT.test(text))
        throw badRequest('Timestamp format must be yyyy-mm-dd hh:mm:ss[.fffffffff]');
      return { type: OID.timestamp, text };
    case 'DECIMAL':
      return { type: OID.numeric, text };
    case 'UUID':
      return { type: OID.uuid, text };
    case 'JSON':
      return { type: OID.json, text };
  }
}

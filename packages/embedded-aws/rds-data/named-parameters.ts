/**
 * The Data API's `:name` placeholders turned into PostgreSQL's `$n`, and its typed `SqlParameter` values into
 * what the extended query protocol binds (a type OID and the value's text).
 *
 * A placeholder is `:` followed by a letter or `_` and then letters, digits or `_`, outside string literals
 * ('...', E'...', $tag$...$tag$), quoted identifiers ("..."), comments (-- and nested /* *\/) and `::` casts.
 * Only names the request supplies are replaced; any other `:name` stays in the SQL, so PostgreSQL reports
 * `syntax error at or near ":"` (guess: what the Data API shows for a missing parameter). Parameters the
 * SQL does not use are ignored (guess, as the JDBC-based Data API binds only the names it finds).
 *
 * Values are typed as the Data API's JDBC driver types them: stringValue is `varchar` (so a string into an
 * integer, uuid or jsonb column fails as on Aurora unless a typeHint or a cast says otherwise), longValue
 * `int8`, doubleValue `float8`, booleanValue `bool`, blobValue `bytea`, isNull untyped.
 */
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

function isNameStart(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code > 127;
}

function isNamePart(code: number): boolean {
  return isNameStart(code) || (code >= 48 && code <= 57);
}

function scan(sql: string): ScannedSql {
  const pieces: string[] = [];
  const names: string[] = [];
  let pieceStart = 0;
  let statementEnded = false;
  let multipleStatements = false;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql.charCodeAt(i);
    const next = i + 1 < n ? sql.charCodeAt(i + 1) : -1;
    // Whitespace and comments after a `;` do not make a second statement; anything else does.
    if (c === 45 && next === 45) {
      const end = sql.indexOf('\n', i + 2);
      i = end === -1 ? n : end + 1;
      continue;
    }
    if (c === 47 && next === 42) {
      i = skipBlockComment(sql, i);
      continue;
    }
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12) {
      i += 1;
      continue;
    }
    if (c === 59) {
      statementEnded = true;
      i += 1;
      continue;
    }
    if (statementEnded) multipleStatements = true;
    if (c === 39) {
      const previous = i > 0 ? sql.charCodeAt(i - 1) : -1;
      const escaped = (previous === 69 || previous === 101) && (i < 2 || !isNamePart(sql.charCodeAt(i - 2)));
      i = skipQuoted(sql, i, 39, escaped);
      continue;
    }
    if (c === 34) {
      i = skipQuoted(sql, i, 34, false);
      continue;
    }
    if (c === 36) {
      const previous = i > 0 ? sql.charCodeAt(i - 1) : -1;
      const tag = isNamePart(previous)
        ? null
        : /^\$(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/.exec(sql.slice(i, i + 64));
      if (tag !== null) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        i = close === -1 ? n : close + tag[0].length;
        continue;
      }
      i += 1;
      continue;
    }
    if (c === 58) {
      if (next === 58) {
        i += 2;
        continue;
      }
      if (next !== -1 && isNameStart(next)) {
        let end = i + 2;
        while (end < n && isNamePart(sql.charCodeAt(end))) end += 1;
        pieces.push(sql.slice(pieceStart, i));
        names.push(sql.slice(i + 1, end));
        pieceStart = end;
        i = end;
        continue;
      }
      i += 1;
      continue;
    }
    if (isNamePart(c)) {
      // Skip a whole word at once so a `$` inside an identifier is not taken for a dollar quote.
      i += 1;
      while (i < n && (isNamePart(sql.charCodeAt(i)) || sql.charCodeAt(i) === 36)) i += 1;
      continue;
    }
    i += 1;
  }
  pieces.push(sql.slice(pieceStart));
  return { pieces, names, multipleStatements };
}

function skipQuoted(sql: string, start: number, quote: number, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql.charCodeAt(i);
    if (backslashEscapes && c === 92) {
      i += 2;
      continue;
    }
    if (c === quote) {
      if (sql.charCodeAt(i + 1) === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i += 1;
  }
  return sql.length;
}

function skipBlockComment(sql: string, start: number): number {
  // PostgreSQL's block comments nest.
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql.startsWith('/*', i)) {
      depth += 1;
      i += 2;
    } else if (sql.startsWith('*/', i)) {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else i += 1;
  }
  return sql.length;
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

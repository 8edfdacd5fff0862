/**
 * PostgreSQL result rows as the Data API returns them: `records` (arrays of Field unions), `columnMetadata`
 * (JDBC-style column descriptions) and `formattedRecords` (one JSON string).
 *
 * Field mapping per PostgreSQL type, as Aurora PostgreSQL's Data API maps it through JDBC:
 * - int2, int4, int8, oid → longValue (stringValue with longReturnType STRING)
 * - float4, float8 → doubleValue
 * - numeric → stringValue (longValue/doubleValue with decimalReturnType DOUBLE_OR_LONG)
 * - bool → booleanValue; bytea → blobValue; NULL → isNull
 * - arrays → arrayValue (longValues/doubleValues/booleanValues/stringValues; nested arrays are refused
 *   with UnsupportedResultException, as the API reference lists for multidimensional arrays)
 * - everything else (text, varchar, date, time, timestamp, uuid, json, jsonb, interval, enums, ...) →
 *   stringValue in PostgreSQL's text form, except timestamps: `YYYY-MM-DD HH:MM:SS[.fff]` (guess: at most
 *   millisecond digits, trailing zeros dropped, as java.sql.Timestamp prints; timestamptz in UTC without
 *   the offset).
 *
 * formattedRecords follows the "Processing query results in JSON format" table: integers as numbers
 * (strings with longReturnType STRING), floats as numbers, decimals as strings (numbers with
 * DOUBLE_OR_LONG), booleans, base64 strings for binary, arrays as JSON arrays, null, and everything else as
 * strings.
 */
import { unsupportedResult } from './errors.ts';

/** A row description field as the extended protocol reports it. */
export interface ResultField {
  readonly name: string;
  readonly tableID: number;
  readonly columnID: number;
  readonly dataTypeID: number;
  readonly dataTypeModifier: number;
}

/** What pg_type says about a type. */
export interface PgType {
  readonly oid: number;
  readonly name: string;
  /** For arrays, the element type; else 0. */
  readonly element: number;
  readonly category: string;
}

/** What pg_attribute says about a table column (for columnMetadata). */
export interface TableColumn {
  readonly tableName: string;
  readonly notNull: boolean;
  readonly autoIncrement: boolean;
}

export interface ResultSetOptions {
  readonly decimalReturnType?: 'STRING' | 'DOUBLE_OR_LONG' | undefined;
  readonly longReturnType?: 'LONG' | 'STRING' | undefined;
}

/** A Data API Field: exactly one member set. */
export type Field =
  | { isNull: true }
  | { booleanValue: boolean }
  | { longValue: number }
  | { doubleValue: number | string }
  | { stringValue: string }
  | { blobValue: Uint8Array }
  | { arrayValue: ArrayValue };

export type ArrayValue =
  | { booleanValues: (boolean | null)[] }
  | { longValues: (number | null)[] }
  | { doubleValues: (number | string | null)[] }
  | { stringValues: (string | null)[] };

type Kind = 'long' | 'double' | 'numeric' | 'bool' | 'blob' | 'timestamp' | 'timestamptz' | 'string';

const KIND_BY_OID: ReadonlyMap<number, Kind> = new Map<number, Kind>([
  [16, 'bool'],
  [17, 'blob'],
  [20, 'long'],
  [21, 'long'],
  [23, 'long'],
  [26, 'long'],
  [700, 'double'],
  [701, 'double'],
  [1700, 'numeric'],
  [1114, 'timestamp'],
  [1184, 'timestamptz'],
]);

/** java.sql.Types codes by PostgreSQL type, as the PostgreSQL JDBC driver reports them. */
const JDBC_TYPE_BY_OID: ReadonlyMap<number, number> = new Map([
  [16, -7], // BIT
  [17, -2], // BINARY
  [18, 1], // CHAR ("char")
  [19, 12], // VARCHAR (name)
  [20, -5], // BIGINT
  [21, 5], // SMALLINT
  [23, 4], // INTEGER
  [25, 12], // VARCHAR (text)
  [26, -5], // BIGINT (oid)
  [700, 7], // REAL
  [701, 8], // DOUBLE
  [790, 8], // DOUBLE (money)
  [1042, 1], // CHAR (bpchar)
  [1043, 12], // VARCHAR
  [1082, 91], // DATE
  [1083, 92], // TIME
  [1114, 93], // TIMESTAMP
  [1184, 93], // TIMESTAMP (timestamptz)
  [1266, 92], // TIME (timetz)
  [1700, 2], // NUMERIC
]);
const JDBC_OTHER = 1111;
const JDBC_ARRAY = 2003;

/** Types whose values the JDBC driver calls case-insensitive; every other type is case-sensitive. */
const CASE_INSENSITIVE = new Set([16, 20, 21, 23, 26, 700, 701, 1082, 1083, 1114, 1184, 1186, 1266, 1700]);
const SIGNED = new Set([20, 21, 23, 700, 701, 790, 1700]);

/**
 * Converts the rows of one result set. Built once per statement from its row description, so the per-row
 * work is a loop over precomputed converters.
 *
 * @example
 * const converter = new RowConverter(fields, types, {});
 * converter.records(rows); // [[{ longValue: 1 }, { stringValue: 'a' }]]
 */
export class RowConverter {
  readonly #fields: readonly ResultField[];
  readonly #kinds: Kind[];
  /** For array columns, the element kind; undefined for scalars. */
  readonly #elements: (Kind | undefined)[];
  readonly #options: ResultSetOptions;

  constructor(fields: readonly ResultField[], types: TypeCatalog, options: ResultSetOptions) {
    this.#fields = fields;
    this.#options = options;
    this.#kinds = [];
    this.#elements = [];
    for (const field of fields) {
      const type = types.get(field.dataTypeID);
      if (type !== undefined && type.category === 'A' && type.element !== 0) {
        this.#kinds.push('string');
        this.#elements.push(kindOf(type.element));
      } else {
        this.#kinds.push(kindOf(field.dataTypeID));
        this.#elements.push(undefined);
      }
    }
  }

  /** `records`: one array of Fields per row. */
  records(rows: readonly (readonly (string | null)[])[]): Field[][] {
    const out: Field[][] = new Array(rows.length);
    for (let r = 0; r < rows.length; r += 1) {
      const row = rows[r]!;
      const fields: Field[] = new Array(row.length);
      for (let c = 0; c < row.length; c += 1) fields[c] = this.#field(row[c] ?? null, c);
      out[r] = fields;
    }
    return out;
  }

  /** `formattedRecords`: a JSON array of objects keyed by column label, written directly as text. */
  formattedRecords(rows: readonly (readonly (string | null)[])[]): string {
    const keys = this.#fields.map((field) => `${JSON.stringify(field.name)}:`);
    const parts: string[] = new Array(rows.length);
    for (let r = 0; r < rows.length; r += 1) {
      const row = rows[r]!;
      let text = '{';
      for (let c = 0; c < row.length; c += 1) {
        if (c > 0) text += ',';
        text += keys[c]! + this.#json(row[c] ?? null, c);
      }
      parts[r] = `${text}}`;
    }
    return `[${parts.join(',')}]`;
  }

  #field(text: string | null, column: number): Field {
    if (text === null) return { isNull: true };
    const element = this.#elements[column];
    if (element !== undefined) return { arrayValue: arrayValueOf(text, element, this.#options) };
    const kind = this.#kinds[column]!;
    switch (kind) {
      case 'long':
        return this.#options.longReturnType === 'STRING'
          ? { stringValue: text }
          : { longValue: Number(text) };
      case 'double':
        return { doubleValue: doubleOf(text) };
      case 'numeric':
        if (this.#options.decimalReturnType !== 'DOUBLE_OR_LONG' || text === 'NaN')
          return { stringValue: text };
        return text.includes('.') ? { doubleValue: Number(text) } : { longValue: Number(text) };
      case 'bool':
        return { booleanValue: text === 't' };
      case 'blob':
        return { blobValue: byteaOf(text) };
      case 'timestamp':
        return { stringValue: timestampText(text) };
      case 'timestamptz':
        return { stringValue: timestampText(stripUtcOffset(text)) };
      case 'string':
        return { stringValue: text };
    }
  }

  #json(text: string | null, column: number): string {
    if (text === null) return 'null';
    const element = this.#elements[column];
    if (element !== undefined) {
      const array = arrayValueOf(text, element, this.#options);
      return JSON.stringify(Object.values(array)[0]);
    }
    switch (this.#kinds[column]!) {
      case 'long':
        // The digits go out as they are, so int8 values beyond 2^53 keep their precision.
        return this.#options.longReturnType === 'STRING' ? JSON.stringify(text) : text;
      case 'double':
        return Number.isFinite(Number(text)) ? String(Number(text)) : JSON.stringify(text);
      case 'numeric':
        return this.#options.decimalReturnType === 'DOUBLE_OR_LONG' && text !== 'NaN'
          ? text
          : JSON.stringify(text);
      case 'bool':
        return text === 't' ? 'true' : 'false';
      case 'blob':
        return JSON.stringify(Buffer.from(byteaOf(text)).toString('base64'));
      case 'timestamp':
        return JSON.stringify(timestampText(text));
      case 'timestamptz':
        return JSON.stringify(timestampText(stripUtcOffset(text)));
      case 'string':
        return JSON.stringify(text);
    }
  }
}

function kindOf(oid: number): Kind {
  return KIND_BY_OID.get(oid) ?? 'string';
}

function doubleOf(text: string): number | string {
  const value = Number(text);
  // JSON has no NaN or Infinity; the SDK reads these strings back as the numbers.
  return Number.isFinite(value) ? value : text;
}

function byteaOf(text: string): Uint8Array {
  // bytea_output is 'hex': \x0102...
  return text.startsWith('\\x') ? Buffer.from(text.slice(2), 'hex') : Buffer.from(text, 'latin1');
}

/** `2024-01-02 03:04:05.123456` → `2024-01-02 03:04:05.123`; `...05.100000` → `...05.1`; no fraction stays none. */
function timestampText(text: string): string {
  const dot = text.indexOf('.', 17);
  if (dot === -1) return text;
  let end = Math.min(text.length, dot + 4);
  // Keep anything after the fraction (a BC suffix) as it is.
  let suffixStart = dot + 1;
  while (
    suffixStart < text.length &&
    text.charCodeAt(suffixStart) >= 48 &&
    text.charCodeAt(suffixStart) <= 57
  )
    suffixStart += 1;
  end = Math.min(end, suffixStart);
  while (end > dot + 1 && text[end - 1] === '0') end -= 1;
  const fraction = end > dot + 1 ? text.slice(dot, end) : '';
  return text.slice(0, dot) + fraction + text.slice(suffixStart);
}

function stripUtcOffset(text: string): string {
  // The session runs in UTC, so PostgreSQL always prints +00.
  return text.endsWith('+00') ? text.slice(0, -3) : text;
}

/**
 * An array column's text (`{1,2,NULL}`, `{"a b","c\"d"}`) as a Data API ArrayValue.
 *
 * @example
 * arrayValueOf('{1,NULL,3}', 'long', {}); // { longValues: [1, null, 3] }
 */
export function arrayValueOf(text: string, element: Kind, options: ResultSetOptions): ArrayValue {
  const items = parseArrayText(text);
  switch (element) {
    case 'long':
      return options.longReturnType === 'STRING'
        ? { stringValues: items }
        : { longValues: items.map((item) => (item === null ? null : Number(item))) };
    case 'double':
      return { doubleValues: items.map((item) => (item === null ? null : doubleOf(item))) };
    case 'bool':
      return { booleanValues: items.map((item) => (item === null ? null : item === 't')) };
    case 'timestamp':
      return { stringValues: items.map((item) => (item === null ? null : timestampText(item))) };
    case 'timestamptz':
      return {
        stringValues: items.map((item) => (item === null ? null : timestampText(stripUtcOffset(item)))),
      };
    default:
      return { stringValues: items };
  }
}

/** The elements of a one-dimensional PostgreSQL array literal. */
function parseArrayText(text: string): (string | null)[] {
  let i = 0;
  // Arrays with non-default bounds print as `[0:2]={...}`.
  if (text.startsWith('[')) i = text.indexOf('=') + 1;
  if (text[i] !== '{') throw unsupportedResult(`Unsupported array value: ${text.slice(0, 40)}`);
  i += 1;
  const items: (string | null)[] = [];
  if (text[i] === '}') return items;
  while (i < text.length) {
    const c = text[i];
    if (c === '{') throw unsupportedResult('Multidimensional arrays are not supported');
    if (c === '"') {
      let value = '';
      i += 1;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') i += 1;
        value += text[i] ?? '';
        i += 1;
      }
      items.push(value);
      i += 1;
    } else {
      let end = i;
      while (end < text.length && text[end] !== ',' && text[end] !== '}') end += 1;
      const raw = text.slice(i, end).trim();
      items.push(raw === 'NULL' ? null : raw);
      i = end;
    }
    if (text[i] === ',') i += 1;
    else if (text[i] === '}') break;
  }
  return items;
}

/**
 * pg_type by OID, loaded once and refreshed when a result mentions a type created since.
 *
 * @example
 * const types = new TypeCatalog(rows);
 * types.get(1007)?.name; // '_int4'
 */
export class TypeCatalog {
  readonly #types = new Map<number, PgType>();

  constructor(types: Iterable<PgType> = []) {
    this.replace(types);
  }

  replace(types: Iterable<PgType>): void {
    this.#types.clear();
    for (const type of types) this.#types.set(type.oid, type);
  }

  get(oid: number): PgType | undefined {
    return this.#types.get(oid);
  }

  /** Whether every field's type is known (else the catalog should be reloaded first). */
  knowsAll(fields: readonly ResultField[]): boolean {
    return fields.every((field) => this.#types.has(field.dataTypeID));
  }
}

/** The SQL that feeds a TypeCatalog. */
export const TYPE_CATALOG_SQL = 'SELECT oid, typname, typelem, typcategory FROM pg_catalog.pg_type';

/** The SQL that describes table columns for columnMetadata; $1 is an oid[] of the tables. */
export const TABLE_COLUMNS_SQL = `SELECT a.attrelid, a.attnum, c.relname, a.attnotnull,
  (a.attidentity <> '' OR COALESCE(pg_catalog.pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%', false)) AS auto
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0`;

/** Key for a table column in the metadata cache. */
export function columnKey(tableID: number, columnID: number): string {
  return `${tableID}.${columnID}`;
}

/**
 * `columnMetadata` for a result set, with the values the PostgreSQL JDBC driver's ResultSetMetaData gives
 * (which the Data API passes on): java.sql.Types codes, PostgreSQL type names (`serial`/`bigserial` for
 * auto-incrementing columns), precision and scale from the type modifier. schemaName is empty, as the
 * driver leaves it.
 *
 * @example
 * columnMetadataOf(fields, types, columns)[0]; // { name: 'id', type: 4, typeName: 'serial', ... }
 */
export function columnMetadataOf(
  fields: readonly ResultField[],
  types: TypeCatalog,
  columns: ReadonlyMap<string, TableColumn>,
): Record<string, unknown>[] {
  return fields.map((field) => {
    const type = types.get(field.dataTypeID);
    const isArray = type !== undefined && type.category === 'A' && type.element !== 0;
    const column = field.tableID === 0 ? undefined : columns.get(columnKey(field.tableID, field.columnID));
    const autoIncrement = column?.autoIncrement ?? false;
    let typeName = type?.name ?? 'unknown';
    if (autoIncrement && field.dataTypeID === 23) typeName = 'serial';
    if (autoIncrement && field.dataTypeID === 20) typeName = 'bigserial';
    const { precision, scale } = precisionOf(field.dataTypeID, field.dataTypeModifier);
    return {
      name: field.name,
      type: isArray ? JDBC_ARRAY : (JDBC_TYPE_BY_OID.get(field.dataTypeID) ?? JDBC_OTHER),
      typeName,
      label: field.name,
      schemaName: '',
      tableName: column?.tableName ?? '',
      isAutoIncrement: autoIncrement,
      isSigned: SIGNED.has(field.dataTypeID),
      isCurrency: field.dataTypeID === 790,
      isCaseSensitive: !CASE_INSENSITIVE.has(field.dataTypeID),
      // java.sql.ResultSetMetaData: 0 columnNoNulls, 1 columnNullable, 2 columnNullableUnknown.
      nullable: column === undefined ? 2 : column.notNull ? 0 : 1,
      precision,
      scale,
      arrayBaseColumnType: isArray ? (JDBC_TYPE_BY_OID.get(type.element) ?? JDBC_OTHER) : 0,
    };
  });
}

const UNLIMITED = 2147483647;

function precisionOf(oid: number, modifier: number): { precision: number; scale: number } {
  switch (oid) {
    case 16:
      return { precision: 1, scale: 0 };
    case 21:
      return { precision: 5, scale: 0 };
    case 23:
    case 26:
      return { precision: 10, scale: 0 };
    case 20:
      return { precision: 19, scale: 0 };
    case 700:
      return { precision: 8, scale: 8 };
    case 701:
      return { precision: 17, scale: 17 };
    case 1700:
      return modifier === -1
        ? { precision: 0, scale: 0 }
        : { precision: ((modifier - 4) >> 16) & 0xffff, scale: (modifier - 4) & 0xffff };
    case 1042:
    case 1043:
      return { precision: modifier === -1 ? UNLIMITED : modifier - 4, scale: 0 };
    case 1082:
      return { precision: 13, scale: 0 };
    case 1083:
      return { precision: 15, scale: 6 };
    case 1266:
      return { precision: 21, scale: 6 };
    case 1114:
      return { precision: 29, scale: 6 };
    case 1184:
      return { precision: 35, scale: 6 };
    case 2950:
      return { precision: 36, scale: 0 };
    default:
      return { precision: UNLIMITED, scale: 0 };
  }
}

/**
 * A migration file split into the statements the RDS Data API runs one per call (it refuses several
 * statements in one ExecuteStatement).
 *
 * Splits on semicolons outside string literals ('...', E'...' with backslash escapes), quoted identifiers
 * ("..."), dollar-quoted bodies ($$...$$, $tag$...$tag$) and comments. Comments are dropped: the Data API
 * reads `:name` as a parameter placeholder, and a colon in a comment must not turn into one.
 */
import { MigrationSyntaxError } from './errors.ts';

const DOLLAR_TAG = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/;

/**
 * The statements of a SQL script, without comments, trimmed, empty ones left out.
 *
 * @example
 * splitSqlStatements("CREATE TABLE a (x text DEFAULT ';'); -- done\nINSERT INTO a VALUES ('b');");
 * // ["CREATE TABLE a (x text DEFAULT ';')", "INSERT INTO a VALUES ('b')"]
 */
export function splitSqlStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = '';
  let index = 0;
  const finish = () => {
    const statement = current.trim();
    if (statement.length > 0) statements.push(statement);
    current = '';
  };
  while (index < sql.length) {
    const char = sql[index] as string;
    const next = sql[index + 1];
    if (char === '-' && next === '-') {
      const end = sql.indexOf('\n', index);
      index = end === -1 ? sql.length : end;
      continue;
    }
    if (char === '/' && next === '*') {
      index = endOfBlockComment(sql, index);
      current += ' ';
      continue;
    }
    if (char === "'") {
      const end = endOfString(sql, index, backslashEscapes(current));
      current += sql.slice(index, end);
      index = end;
      continue;
    }
    if (char === '"') {
      const end = endOfQuoted(sql, index, '"', 'quoted identifier');
      current += sql.slice(index, end);
      index = end;
      continue;
    }
    if (char === '$' && !isIdentifierChar(current.at(-1))) {
      const tag = DOLLAR_TAG.exec(sql.slice(index, index + 64))?.[0];
      if (tag !== undefined) {
        const close = sql.indexOf(tag, index + tag.length);
        if (close === -1)
          throw new MigrationSyntaxError(`unterminated dollar-quoted string ${tag} at ${at(sql, index)}`);
        current += sql.slice(index, close + tag.length);
        index = close + tag.length;
        continue;
      }
    }
    if (char === ';') {
      finish();
      index += 1;
      continue;
    }
    current += char;
    index += 1;
  }
  finish();
  return statements;
}

/** An E'...' string: the E directly before the quote, not the end of a longer identifier. */
function backslashEscapes(before: string): boolean {
  const last = before.at(-1);
  return (last === 'E' || last === 'e') && !isIdentifierChar(before.at(-2));
}

function isIdentifierChar(char: string | undefined): boolean {
  return char !== undefined && /[A-Za-z0-9_$]/.test(char);
}

function endOfString(sql: string, start: number, escapes: boolean): number {
  let index = start + 1;
  while (index < sql.length) {
    const char = sql[index];
    if (escapes && char === '\\') {
      index += 2;
    } else if (char === "'") {
      if (sql[index + 1] !== "'") return index + 1;
      index += 2;
    } else {
      index += 1;
    }
  }
  throw new MigrationSyntaxError(`unterminated string literal at ${at(sql, start)}`);
}

function endOfQuoted(sql: string, start: number, quote: string, what: string): number {
  let index = start + 1;
  while (index < sql.length) {
    if (sql[index] === quote) {
      if (sql[index + 1] !== quote) return index + 1;
      index += 2;
    } else {
      index += 1;
    }
  }
  throw new MigrationSyntaxError(`unterminated ${what} at ${at(sql, start)}`);
}

/** Block comments nest in PostgreSQL. */
function endOfBlockComment(sql: string, start: number): number {
  let depth = 0;
  let index = start;
  while (index < sql.length) {
    if (sql[index] === '/' && sql[index + 1] === '*') {
      depth += 1;
      index += 2;
    } else if (sql[index] === '*' && sql[index + 1] === '/') {
      depth -= 1;
      index += 2;
      if (depth === 0) return index;
    } else {
      index += 1;
    }
  }
  throw new MigrationSyntaxError(`unterminated block comment at ${at(sql, start)}`);
}

/** `line L, column C` of an offset, for error messages. */
function at(sql: string, offset: number): string {
  const before = sql.slice(0, offset).split('\n');
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

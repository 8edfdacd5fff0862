/**
 * A migration file split into the statements the RDS Data API runs one per call (it refuses several
 * statements in one ExecuteStatement).
 *
 * Splits on semicolons outside string literals ('...', E'...' with backslash escapes), quoted identifiers
 * ("..."), dollar-quoted bodies ($$...$$, $tag$...$tag$) and comments, as @payment-to-vend/postgres-lexer
 * reads them. Comments are dropped: the Data API reads `:name` as a parameter placeholder, and a colon in a
 * comment must not turn into one.
 */
import { type Token, tokenize } from '@payment-to-vend/postgres-lexer';
import { MigrationSyntaxError } from './errors.ts';

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
  const finish = () => {
    const statement = current.trim();
    if (statement.length > 0) statements.push(statement);
    current = '';
  };
  for (const token of tokenize(sql)) {
    if (!token.terminated)
      throw new MigrationSyntaxError(`unterminated ${nameOf(token)} at ${at(sql, token)}`);
    if (token.kind === 'semicolon') finish();
    else if (token.kind === 'block-comment') current += ' ';
    else if (token.kind !== 'line-comment') current += token.text;
  }
  finish();
  return statements;
}

/** What an unterminated token is, as the error says it. */
function nameOf(token: Token): string {
  switch (token.kind) {
    case 'string':
    case 'escape-string':
      return 'string literal';
    case 'quoted-identifier':
      return 'quoted identifier';
    case 'dollar-quoted':
      return `dollar-quoted string ${token.text.slice(0, token.text.indexOf('$', 1) + 1)}`;
    default:
      return 'block comment';
  }
}

/** `line L, column C` of where a token starts, for error messages. */
function at(sql: string, token: Token): string {
  const before = sql.slice(0, token.start).split('\n');
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

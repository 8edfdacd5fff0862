/**
 * PostgreSQL text cut into the pieces that decide where a statement ends and what is code: string literals,
 * quoted identifiers, dollar-quoted bodies, comments, `::` casts and `;`. Everything else is `code`.
 *
 * The rules are PostgreSQL's own lexer's (src/backend/parser/scan.l) for these pieces, with
 * standard_conforming_strings on (its default since 9.1): a backslash escapes only in E'...' strings.
 * Identifiers and dollar-quote tags may hold any non-ASCII character, as PostgreSQL allows any byte above 0x7F.
 */

/** What a token is. */
export type TokenKind =
  /** Keywords, identifiers, numbers, operators, punctuation other than `;`, white space. */
  | 'code'
  /** `'...'`, with `''` for a quote; no backslash escapes. */
  | 'string'
  /** `E'...'` (or `e'...'`), the prefix included; `\` escapes the next character, `''` is a quote too. */
  | 'escape-string'
  /** `"..."`, with `""` for a quote. */
  | 'quoted-identifier'
  /** `$$...$$` or `$tag$...$tag$`, both delimiters included. */
  | 'dollar-quoted'
  /** `--` up to the end of the line, the line break not included. */
  | 'line-comment'
  /** `/* ... *\/`, nested ones included. */
  | 'block-comment'
  /** `::`, PostgreSQL's cast operator. */
  | 'cast'
  | 'semicolon';

/** One piece of the text; the tokens of a text cover it whole, in order, with nothing between them. */
export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** Offset of its first character in the text. */
  readonly start: number;
  /** Offset just past its last character. */
  readonly end: number;
  /** False for a literal, quoted identifier or block comment that the text ends inside of (it runs to the end). */
  readonly terminated: boolean;
}

const QUOTE = 39; // '
const DOUBLE_QUOTE = 34; // "
const DOLLAR = 36; // $
const BACKSLASH = 92; // \
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

/**
 * Cuts a text into tokens. It never fails: a text that ends inside a literal or comment ends with an
 * unterminated token, which the caller may refuse.
 *
 * @example
 * tokenize("SELECT 'a;b'::text; -- done").map((token) => [token.kind, token.text]);
 * // [['code', 'SELECT '], ['string', "'a;b'"], ['cast', '::'], ['code', 'text'], ['semicolon', ';'],
 * //  ['code', ' '], ['line-comment', '-- done']]
 */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let codeStart = 0;
  let index = 0;
  const add = (kind: TokenKind, start: number, end: number, terminated: boolean): void => {
    if (codeStart < start) tokens.push(token(sql, 'code', codeStart, start, true));
    tokens.push(token(sql, kind, start, end, terminated));
    codeStart = end;
    index = end;
  };
  while (index < sql.length) {
    const char = sql[index];
    const next = sql[index + 1];
    if (isWordStart(sql.charCodeAt(index))) {
      // A word is read whole, so that a `$` inside it (`a$b`) opens no dollar quote and an E ending it
      // (`typE'x'`) makes no escape string.
      const end = endOfWord(sql, index);
      if (end === index + 1 && (char === 'E' || char === 'e') && next === "'") {
        const close = endOfQuoted(sql, index + 1, QUOTE, true);
        add('escape-string', index, close.end, close.terminated);
      } else {
        index = end;
      }
    } else if (char === "'") {
      const close = endOfQuoted(sql, index, QUOTE, false);
      add('string', index, close.end, close.terminated);
    } else if (char === '"') {
      const close = endOfQuoted(sql, index, DOUBLE_QUOTE, false);
      add('quoted-identifier', index, close.end, close.terminated);
    } else if (char === '$') {
      const tag = dollarTagAt(sql, index);
      if (tag === undefined) {
        index += 1; // `$1`, a lone `$`: code
      } else {
        const close = sql.indexOf(tag, index + tag.length);
        add('dollar-quoted', index, close === -1 ? sql.length : close + tag.length, close !== -1);
      }
    } else if (char === '-' && next === '-') {
      add('line-comment', index, endOfLine(sql, index), true);
    } else if (char === '/' && next === '*') {
      const close = endOfBlockComment(sql, index);
      add('block-comment', index, close.end, close.terminated);
    } else if (char === ':' && next === ':') {
      add('cast', index, index + 2, true);
    } else if (char === ';') {
      add('semicolon', index, index + 1, true);
    } else {
      index += 1;
    }
  }
  if (codeStart < sql.length) tokens.push(token(sql, 'code', codeStart, sql.length, true));
  return tokens;
}

/** A letter, `_` or anything non-ASCII (a UTF-16 code unit above 0x7F). */
function isIdentifierStart(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code > 127;
}

function token(sql: string, kind: TokenKind, start: number, end: number, terminated: boolean): Token {
  return { kind, text: sql.slice(start, end), start, end, terminated };
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/**
 * Identifiers, keywords and numbers alike: a `$` after their first character belongs to them. (PostgreSQL
 * ends a number before a `$`; only `1$$...$$`, which is no SQL, would tell the difference.)
 */
function isWordStart(code: number): boolean {
  return isIdentifierStart(code) || isDigit(code);
}

function endOfWord(sql: string, start: number): number {
  let index = start + 1;
  while (index < sql.length) {
    const code = sql.charCodeAt(index);
    if (!isWordStart(code) && code !== DOLLAR) break;
    index += 1;
  }
  return index;
}

function dollarTagAt(sql: string, index: number): string | undefined {
  DOLLAR_TAG.lastIndex = index;
  return DOLLAR_TAG.exec(sql)?.[0];
}

interface Close {
  readonly end: number;
  readonly terminated: boolean;
}

/** From an opening quote to just past its closing one; a doubled quote is one quote inside. */
function endOfQuoted(sql: string, start: number, quote: number, backslashEscapes: boolean): Close {
  let index = start + 1;
  while (index < sql.length) {
    const code = sql.charCodeAt(index);
    if (backslashEscapes && code === BACKSLASH) {
      index += 2;
    } else if (code === quote) {
      if (sql.charCodeAt(index + 1) !== quote) return { end: index + 1, terminated: true };
      index += 2;
    } else {
      index += 1;
    }
  }
  return { end: sql.length, terminated: false };
}

/** A line ends at `\n` or `\r`, as in PostgreSQL. */
function endOfLine(sql: string, start: number): number {
  let index = start + 2;
  while (index < sql.length && sql[index] !== '\n' && sql[index] !== '\r') index += 1;
  return index;
}

/** Block comments nest in PostgreSQL: `/* a /* b *\/ c *\/` is one comment. */
function endOfBlockComment(sql: string, start: number): Close {
  let depth = 0;
  let index = start;
  while (index < sql.length) {
    if (sql.startsWith('/*', index)) {
      depth += 1;
      index += 2;
    } else if (sql.startsWith('*/', index)) {
      depth -= 1;
      index += 2;
      if (depth === 0) return { end: index, terminated: true };
    } else {
      index += 1;
    }
  }
  return { end: sql.length, terminated: false };
}

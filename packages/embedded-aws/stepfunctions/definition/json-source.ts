import type { Json } from './types.ts';

/** Where in the document a value sits: object keys and array indexes, outermost first. */
export type JsonPointer = readonly (string | number)[];

export type JsonSourceResult =
  | { readonly ok: true; readonly value: Json; readonly duplicateKeys: readonly JsonPointer[] }
  | { readonly ok: false; readonly message: string; readonly location: string };

/**
 * Parses a definition the way Step Functions reads it: strict JSON, remembering every key that appears twice
 * in one object (JSON.parse silently keeps the last, which would hide DUPLICATE_STATE_NAME), and reporting a
 * syntax error with the wording and `[Source: ...; line, column]` location of the Jackson parser AWS uses.
 *
 * @example
 * parseJsonSource('{"a":1,"a":2}') // { ok: true, value: { a: 2 }, duplicateKeys: [['a']] }
 * parseJsonSource('not json').ok  // false
 */
export function parseJsonSource(text: string): JsonSourceResult {
  const parser = new JsonSourceParser(text);
  try {
    parser.skipWhitespace();
    const value = parser.parseValue([]);
    parser.skipWhitespace();
    if (parser.position < text.length) parser.fail(trailingTokenMessage(parser.peek()));
    return { ok: true, value, duplicateKeys: parser.duplicateKeys };
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    const location = parser.sourceLocation(error.position);
    return { ok: false, message: `${error.message}\n at ${location}`, location };
  }
}

class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

// Jackson quotes at most this much of the source in its locations; the rest is summarised.
const SOURCE_EXCERPT_LIMIT = 500;

class JsonSourceParser {
  position = 0;
  readonly duplicateKeys: JsonPointer[] = [];

  constructor(private readonly text: string) {}

  peek(): string | undefined {
    return this.text[this.position];
  }

  fail(message: string, position = this.position): never {
    throw new JsonSyntaxError(message, position);
  }

  skipWhitespace(): void {
    while (this.position < this.text.length && ' \t\r\n'.includes(this.text[this.position] ?? ''))
      this.position++;
  }

  parseValue(pointer: JsonPointer): Json {
    const char = this.peek();
    if (char === undefined) this.fail('No content to map due to end-of-input');
    if (char === '{') return this.parseObject(pointer);
    if (char === '[') return this.parseArray(pointer);
    if (char === '"') return this.parseString();
    if (char === '-' || (char >= '0' && char <= '9')) return this.parseNumber();
    return this.parseLiteral();
  }

  private parseObject(pointer: JsonPointer): Json {
    const start = this.position;
    this.position++;
    const result: { [key: string]: Json } = {};
    const seen = new Set<string>();
    this.skipWhitespace();
    if (this.peek() === '}') {
      this.position++;
      return result;
    }
    for (;;) {
      this.skipWhitespace();
      const char = this.peek();
      if (char === undefined) this.fail(this.endOfInput('Object', start));
      if (char !== '"') this.fail(`${unexpected(char)}: was expecting double-quote to start field name`);
      const key = this.parseString();
      if (seen.has(key)) this.duplicateKeys.push([...pointer, key]);
      seen.add(key);
      this.skipWhitespace();
      const colon = this.peek();
      if (colon === undefined) this.fail(this.endOfInput('Object', start));
      if (colon !== ':')
        this.fail(`${unexpected(colon)}: was expecting a colon to separate field name and value`);
      this.position++;
      this.skipWhitespace();
      if (this.peek() === undefined) this.fail(this.endOfInput('Object', start));
      Object.defineProperty(result, key, {
        value: this.parseValue([...pointer, key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.skipWhitespace();
      const next = this.peek();
      if (next === ',') {
        this.position++;
        continue;
      }
      if (next === '}') {
        this.position++;
        return result;
      }
      if (next === undefined) this.fail(this.endOfInput('Object', start));
      this.fail(`${unexpected(next)}: was expecting comma to separate Object entries`);
    }
  }

  private parseArray(pointer: JsonPointer): Json {
    const start = this.position;
    this.position++;
    const result: Json[] = [];
    this.skipWhitespace();
    if (this.peek() === ']') {
      this.position++;
      return result;
    }
    for (;;) {
      this.skipWhitespace();
      const char = this.peek();
      if (char === undefined) this.fail(this.endOfInput('Array', start));
      if (char === ']' || char === ',') this.fail(`${unexpected(char)}: expected a value`);
      result.push(this.parseValue([...pointer, result.length]));
      this.skipWhitespace();
      const next = this.peek();
      if (next === ',') {
        this.position++;
        continue;
      }
      if (next === ']') {
        this.position++;
        return result;
      }
      if (next === undefined) this.fail(this.endOfInput('Array', start));
      this.fail(`${unexpected(next)}: was expecting comma to separate Array entries`);
    }
  }

  private parseString(): string {
    const start = this.position;
    this.position++;
    let end = this.position;
    for (;;) {
      const char = this.text[end];
      if (char === undefined) this.fail(`Unexpected end-of-input in VALUE_STRING`, end);
      if (char === '"') break;
      if (char === '\\') end++;
      else if (char < ' ') {
        this.fail(
          `Illegal unquoted character (${codeOf(char)}): has to be escaped using backslash to be included in string value`,
          end + 1,
        );
      }
      end++;
    }
    this.position = end + 1;
    try {
      return JSON.parse(this.text.slice(start, end + 1)) as string;
    } catch {
      return this.fail('Unrecognized character escape', start + 1);
    }
  }

  private parseNumber(): number {
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.text.slice(this.position));
    if (!match) this.fail(this.unrecognizedToken());
    this.position += match[0].length;
    return Number(match[0]);
  }

  private parseLiteral(): Json {
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (
        this.text.startsWith(word, this.position) &&
        !/[\w$]/.test(this.text[this.position + word.length] ?? '')
      ) {
        this.position += word.length;
        return value;
      }
    }
    const char = this.peek() ?? '';
    if (/[A-Za-z_$]/.test(char)) this.fail(this.unrecognizedToken());
    return this.fail(`${unexpected(char)}: expected a value`, this.position + 1);
  }

  private unrecognizedToken(): string {
    const token = /^[^\s{}[\]:,"]+/.exec(this.text.slice(this.position))?.[0] ?? '';
    this.position += token.length;
    return `Unrecognized token '${token}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')`;
  }

  private endOfInput(container: 'Object' | 'Array', start: number): string {
    return `Unexpected end-of-input: expected close marker for ${container} (start marker at ${this.sourceLocation(start + 1)})`;
  }

  /** Jackson counts lines and columns from 1, and points just past the offending character. */
  sourceLocation(position: number): string {
    const before = this.text.slice(0, Math.min(position, this.text.length));
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    const excerpt =
      this.text.length > SOURCE_EXCERPT_LIMIT
        ? `${this.text.slice(0, SOURCE_EXCERPT_LIMIT)}"[truncated ${this.text.length - SOURCE_EXCERPT_LIMIT} chars]`
        : `${this.text}"`;
    return `[Source: (String)"${excerpt}; line: ${line}, column: ${column}]`;
  }
}

function codeOf(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  return code < 32 ? `CTRL-CHAR, code ${code}` : `'${char}' (code ${code})`;
}

function unexpected(char: string): string {
  return `Unexpected character (${codeOf(char)})`;
}

function trailingTokenMessage(char: string | undefined): string {
  return `Unexpected character (${codeOf(char ?? '')}): expected end-of-input`;
}

import { describe, expect, it } from 'vitest';
import { type TokenKind, tokenize } from './tokenize.ts';

/** The tokens as [kind, text] pairs, and `!` after the kind of an unterminated one. */
function pieces(sql: string): [string, string][] {
  return tokenize(sql).map((token) => [token.terminated ? token.kind : `${token.kind}!`, token.text]);
}

describe('tokenize', () => {
  it.each<[string, string, [TokenKind | `${TokenKind}!`, string][]]>([
    ['plain code', 'SELECT 1', [['code', 'SELECT 1']]],
    ['nothing', '', []],
    [
      'a string literal with a doubled quote',
      "SELECT 'it''s; :no', 1",
      [
        ['code', 'SELECT '],
        ['string', "'it''s; :no'"],
        ['code', ', 1'],
      ],
    ],
    [
      'a backslash in a standard string, which escapes nothing',
      "SELECT 'a\\', 'b'",
      [
        ['code', 'SELECT '],
        ['string', "'a\\'"],
        ['code', ', '],
        ['string', "'b'"],
      ],
    ],
    [
      'an escape string with an escaped quote',
      "SELECT E'a\\'; b', e'\\\\'",
      [
        ['code', 'SELECT '],
        ['escape-string', "E'a\\'; b'"],
        ['code', ', '],
        ['escape-string', "e'\\\\'"],
      ],
    ],
    [
      'an E ending a longer word, which makes a standard string',
      "SELECT typE'a\\', 1$E'b'",
      [
        ['code', 'SELECT typE'],
        ['string', "'a\\'"],
        ['code', ', 1$E'],
        ['string', "'b'"],
      ],
    ],
    [
      'a quoted identifier with a doubled quote',
      'SELECT "a;""b" FROM t',
      [
        ['code', 'SELECT '],
        ['quoted-identifier', '"a;""b"'],
        ['code', ' FROM t'],
      ],
    ],
    [
      'dollar-quoted bodies, tagged or not, holding another tag',
      'AS $body$ SELECT 1; $$ $body$, $$ x; $$',
      [
        ['code', 'AS '],
        ['dollar-quoted', '$body$ SELECT 1; $$ $body$'],
        ['code', ', '],
        ['dollar-quoted', '$$ x; $$'],
      ],
    ],
    ['a dollar-quote tag with non-ASCII letters', '$été$ ; $été$', [['dollar-quoted', '$été$ ; $été$']]],
    [
      'positional parameters and dollars inside words, which open nothing',
      'SELECT $1, a$b$c, x$$ FROM t',
      [['code', 'SELECT $1, a$b$c, x$$ FROM t']],
    ],
    [
      'two dollar-quoted strings side by side',
      '$$a$$$$b$$',
      [
        ['dollar-quoted', '$$a$$'],
        ['dollar-quoted', '$$b$$'],
      ],
    ],
    [
      'a line comment, the line break left to the code',
      'SELECT 1 -- a; b\nFROM t',
      [
        ['code', 'SELECT 1 '],
        ['line-comment', '-- a; b'],
        ['code', '\nFROM t'],
      ],
    ],
    [
      'a line comment ended by a carriage return',
      '-- a\r\nSELECT 1',
      [
        ['line-comment', '-- a'],
        ['code', '\r\nSELECT 1'],
      ],
    ],
    [
      'nested block comments',
      'SELECT /* a /* b; */ c */ 1',
      [
        ['code', 'SELECT '],
        ['block-comment', '/* a /* b; */ c */'],
        ['code', ' 1'],
      ],
    ],
    [
      'quotes and dashes inside comments, which open nothing',
      "/* ' \" $$ -- */ -- /* '\n1",
      [
        ['block-comment', '/* \' " $$ -- */'],
        ['code', ' '],
        ['line-comment', "-- /* '"],
        ['code', '\n1'],
      ],
    ],
    [
      'casts, and a colon that is not one',
      "SELECT '1'::int, a[1:2], :::x",
      [
        ['code', 'SELECT '],
        ['string', "'1'"],
        ['cast', '::'],
        ['code', 'int, a[1:2], '],
        ['cast', '::'],
        ['code', ':x'],
      ],
    ],
    [
      'semicolons',
      'SELECT 1;;SELECT 2;',
      [
        ['code', 'SELECT 1'],
        ['semicolon', ';'],
        ['semicolon', ';'],
        ['code', 'SELECT 2'],
        ['semicolon', ';'],
      ],
    ],
  ])('cuts %s', (_case, sql, expected) => {
    // Act
    const tokens = pieces(sql);

    // Assess
    expect(tokens).toEqual(expected);
  });

  it.each<[string, string, [string, string][]]>([
    [
      'string',
      "SELECT 'open",
      [
        ['code', 'SELECT '],
        ['string!', "'open"],
      ],
    ],
    [
      'escape string ending in a backslash',
      "SELECT E'open\\",
      [
        ['code', 'SELECT '],
        ['escape-string!', "E'open\\"],
      ],
    ],
    [
      'quoted identifier',
      'SELECT "open',
      [
        ['code', 'SELECT '],
        ['quoted-identifier!', '"open'],
      ],
    ],
    [
      'dollar-quoted body',
      'DO $x$ BEGIN $$',
      [
        ['code', 'DO '],
        ['dollar-quoted!', '$x$ BEGIN $$'],
      ],
    ],
    [
      'nested block comment',
      'SELECT /* a /* b */',
      [
        ['code', 'SELECT '],
        ['block-comment!', '/* a /* b */'],
      ],
    ],
  ])('runs an unterminated %s to the end and marks it', (_case, sql, expected) => {
    // Act
    const tokens = pieces(sql);

    // Assess
    expect(tokens).toEqual(expected);
  });

  it('gives each token its offsets, covering the text whole', () => {
    // Prepare
    const sql = "SELECT 'a'::text; -- b\n/* c */ $$d$$, \"e\", E'f'";

    // Act
    const tokens = tokenize(sql);

    // Assess
    expect(tokens.map((token) => token.text).join('')).toBe(sql);
    for (const [index, token] of tokens.entries()) {
      expect(sql.slice(token.start, token.end)).toBe(token.text);
      expect(token.start).toBe(index === 0 ? 0 : tokens[index - 1]?.end);
    }
  });
});

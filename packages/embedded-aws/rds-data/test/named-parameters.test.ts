import { describe, expect, it } from 'vitest';
import { bindParameters, boundValueOf, scanSql } from '../named-parameters.ts';

describe('scanSql', () => {
  it.each([
    ['a plain placeholder', 'SELECT * FROM t WHERE id = :id', ['id']],
    ['a cast after a placeholder', 'SELECT :at::timestamptz', ['at']],
    ['a cast alone', "SELECT '1'::int, x::text FROM t", []],
    ['a string literal with a doubled quote', "SELECT 'it''s :no', :yes", ['yes']],
    ['an escape string with an escaped quote', "SELECT E'\\':no', :yes", ['yes']],
    ['an escape string ending in a backslash', "SELECT E'\\\\', :yes", ['yes']],
    ['a quoted identifier', 'SELECT "a:no""b" FROM t WHERE c = :yes', ['yes']],
    ['a dollar-quoted string', 'SELECT $$ :no $$, $tag$ :no $$ $tag$, :yes', ['yes']],
    ['a positional parameter', 'SELECT $1, :yes', ['yes']],
    ['a line comment', 'SELECT :yes -- :no\n, :also', ['yes', 'also']],
    ['a nested block comment', 'SELECT /* /* :no */ :no */ :yes', ['yes']],
    ['an array slice with a number', 'SELECT a[1:2], :yes FROM t', ['yes']],
    ['an identifier with a dollar', 'SELECT a$b$ FROM t WHERE x = :yes', ['yes']],
  ])('finds the placeholders around %s', (_case, sql, names) => {
    // Act
    const scanned = scanSql(sql);

    // Assess
    expect(scanned.names).toEqual(names);
    expect(scanned.multipleStatements).toBe(false);
  });

  it.each([
    ['two statements', 'SELECT 1; SELECT 2', true],
    ['a trailing semicolon and comment', 'SELECT 1; -- end\n', false],
    ['a semicolon inside a literal', "SELECT ';'", false],
  ])('tells whether %s are several statements', (_case, sql, multiple) => {
    // Act
    const scanned = scanSql(sql);

    // Assess
    expect(scanned.multipleStatements).toBe(multiple);
  });
});

describe('bindParameters', () => {
  it('numbers the supplied names in order of first use and leaves unknown names as written', () => {
    // Act
    const bound = bindParameters(scanSql('SELECT :b, :a, :b, :missing'), [
      { name: 'a', value: { stringValue: 'x' } },
      { name: 'b', value: { isNull: true } },
    ]);

    // Assess
    expect(bound).toEqual({ text: 'SELECT $1, $2, $1, :missing', types: [0, 1043], values: [null, 'x'] });
  });
});

describe('boundValueOf', () => {
  it.each([
    [{ longValue: 9 }, undefined, { type: 20, text: '9' }],
    [{ doubleValue: 0.5 }, undefined, { type: 701, text: '0.5' }],
    [{ doubleValue: 'NaN' }, undefined, { type: 701, text: 'NaN' }],
    [{ booleanValue: false }, undefined, { type: 16, text: 'false' }],
    [{ blobValue: 'AP8=' }, undefined, { type: 17, text: '\\x00ff' }],
    [{ stringValue: '1.10' }, 'DECIMAL', { type: 1700, text: '1.10' }],
    [{ stringValue: '12:00:01.5' }, 'TIME', { type: 1083, text: '12:00:01.5' }],
  ])('encodes %j (hint %s)', (value, typeHint, expected) => {
    // Act
    const bound = boundValueOf({ name: 'p', value, typeHint }, 'p');

    // Assess
    expect(bound).toEqual(expected);
  });

  it.each([
    [{ longValue: 1.5 }, undefined, 'Invalid longValue for parameter p'],
    [{ stringValue: '2024-1-2' }, 'TIME', 'Time format must be hh:mm:ss[.fff]'],
    [{ stringValue: '02/01/2024' }, 'DATE', 'Date format must be yyyy-[m]m-[d]d'],
    [{ stringValue: 'x' }, 'MONEY', "Value 'MONEY' at 'parameters.p.typeHint'"],
    [{}, undefined, 'Parameter p must have exactly one value'],
  ])('refuses %j (hint %s) with BadRequestException', (value, typeHint, message) => {
    // Act
    const attempt = () => boundValueOf({ name: 'p', value, typeHint }, 'p');

    // Assess
    expect(attempt).toThrow(expect.objectContaining({ name: 'BadRequestException', statusCode: 400 }));
    expect(attempt).toThrow(message);
  });
});

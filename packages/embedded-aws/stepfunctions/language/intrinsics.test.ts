import { describe, expect, it } from 'vitest';
import type { Json } from '../definition/types.ts';
import { evaluateIntrinsic, isIntrinsicFunction, parseIntrinsic } from './intrinsics.ts';
import type { JsonPathScope } from './json-path.ts';
import { StatesError } from './states-error.ts';

const input = {
  name: 'Arnav',
  template: 'Hello, my name is {}.',
  numbers: [1, 2, 3, 4, 5, 6, 7, 8, 9],
  duplicates: [1, 2, 3, 3, { a: 1, b: 2 }, { b: 2, a: 1 }, [null], [null]],
  escaped: '{"foo": "bar"}',
  object: { foo: 'bar' },
  nested: { Arg1: 1, Arg2: [], Arg3: { a: ['x', 2] } },
  json1: { a: { a1: 1, a2: 2 }, b: 2 },
  json2: { a: { a3: 1, a4: 2 }, c: 3 },
  csv: 'This.is+a,test=string',
  arn: 'arn:aws:imagebuilder:us-east-1:123:image-recipe/recipe-name.v2/1.0.0',
  nothing: null,
};

function scope(extra: Partial<JsonPathScope> = {}): JsonPathScope {
  return { input, context: { Execution: { Id: 'exec-1' } }, variables: { greeting: 'Hi' }, ...extra };
}

function failureOf(expression: string, from: JsonPathScope = scope()): StatesError {
  try {
    evaluateIntrinsic(expression, from);
  } catch (error) {
    if (error instanceof StatesError) return error;
    throw error;
  }
  throw new Error(`${expression} did not fail`);
}

describe('evaluateIntrinsic', () => {
  it.each<[string, Json]>([
    ["States.Format('Hello, my name is {}.', $.name)", 'Hello, my name is Arnav.'],
    ['States.Format($.template, $.name)', 'Hello, my name is Arnav.'],
    ["States.Format('{} + {} = {}', 1, 2.5, true)", '1 + 2.5 = true'],
    ["States.Format('{}', $.nothing)", 'null'],
    // Objects and arrays as Java prints them, as AWS does (its recorded test_format_2: `{Arg1=1, Arg2=[]}`).
    ["States.Format('{}', $.object)", '{foo=bar}'],
    ["States.Format('{}', $.nested)", '{Arg1=1, Arg2=[], Arg3={a=[x, 2]}}'],
    ["States.Format('{}', $.numbers)", '[1, 2, 3, 4, 5, 6, 7, 8, 9]'],
    ["States.Format('no placeholders')", 'no placeholders'],
    ["States.Format('\\{\\} {} it\\'s \\\\ ok', 'x')", "{} x it's \\ ok"],
    ["States.Format('{} {}', $greeting, $$.Execution.Id)", 'Hi exec-1'],
    ['States.StringToJson($.escaped)', { foo: 'bar' }],
    ["States.StringToJson('[1,2]')", [1, 2]],
    // AWS gives null for an empty or blank string (its recorded test_string_to_json).
    ["States.StringToJson('')", null],
    ["States.StringToJson(' ')", null],
    ['States.JsonToString($.object)', '{"foo":"bar"}'],
    ['States.JsonToString($.numbers)', '[1,2,3,4,5,6,7,8,9]'],
    ['States.Array()', []],
    ["States.Array($.name, 1, 'two', null, false)", ['Arnav', 1, 'two', null, false]],
    ['States.ArrayPartition($.numbers, 4)', [[1, 2, 3, 4], [5, 6, 7, 8], [9]]],
    ['States.ArrayPartition($.numbers, 3.6)', [[1, 2, 3, 4], [5, 6, 7, 8], [9]]],
    ['States.ArrayPartition(States.Array(), 2)', []],
    ['States.ArrayContains($.numbers, 5)', true],
    ['States.ArrayContains($.numbers, 10)', false],
    ['States.ArrayContains($.duplicates, States.StringToJson(\'\\{"b":2,"a":1\\}\'))', true],
    ['States.ArrayRange(1, 9, 2)', [1, 3, 5, 7, 9]],
    ['States.ArrayRange(5, 1, -2)', [5, 3, 1]],
    ['States.ArrayRange(1, 0, 1)', []],
    ['States.ArrayRange(1.4, 3.5, 1)', [1, 2, 3, 4]],
    ['States.ArrayGetItem($.numbers, 5)', 6],
    ['States.ArrayLength($.numbers)', 9],
    ['States.ArrayUnique($.duplicates)', [1, 2, 3, { a: 1, b: 2 }, [null]]],
    ["States.Base64Encode('Data to encode')", 'RGF0YSB0byBlbmNvZGU='],
    ["States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", 'Data to encode'],
    ["States.Base64Decode(States.Base64Encode('héllo €'))", 'héllo €'],
    ["States.Hash('input data', 'SHA-1')", 'aaff4a450a104cd177d28d18d74485e8cae074b7'],
    ["States.Hash('input data', 'MD5')", '812f45842bc6d66ee14572ce20db8e86'],
    [
      "States.Hash('input data', 'SHA-256')",
      'b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3',
    ],
    ['States.JsonMerge($.json1, $.json2, false)', { a: { a3: 1, a4: 2 }, b: 2, c: 3 }],
    ['States.MathAdd(111, -1)', 110],
    ['States.MathAdd(1.5, 2.4)', 4],
    ['States.MathAdd(-1.5, 0)', -1],
    ["States.StringSplit($.csv, '.+,=')", ['This', 'is', 'a', 'test', 'string']],
    ["States.StringSplit('1,,2,', ',')", ['1', '2']],
    [
      "States.Format('{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.arn, '/'), 1), '.'), 0), States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.arn, '/'), 1), '.'), 1))",
      'recipe-name.v2',
    ],
    ["States.Array($['name'], $.numbers[?(@ > 7)])", ['Arnav', [8, 9]]],
  ])('%s gives %j', (expression, expected) => {
    // Act
    const result = evaluateIntrinsic(expression, scope());

    // Assess
    expect(result).toEqual(expected);
  });

  it.each(['MD5', 'SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'])(
    'hashes with %s as lowercase hex',
    (algorithm) => {
      // Prepare
      const lengths: Record<string, number> = {
        MD5: 32,
        'SHA-1': 40,
        'SHA-256': 64,
        'SHA-384': 96,
        'SHA-512': 128,
      };

      // Act
      const hash = evaluateIntrinsic(`States.Hash($.name, '${algorithm}')`, scope());

      // Assess
      expect(hash).toMatch(new RegExp(`^[0-9a-f]{${lengths[algorithm]}}$`));
    },
  );

  it('generates a version 4 UUID, a new one each time', () => {
    // Act
    const first = evaluateIntrinsic('States.UUID()', scope());
    const second = evaluateIntrinsic('States.UUID()', scope());

    // Assess
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(second).not.toBe(first);
  });

  it('picks random integers in [start, end)', () => {
    // Act
    const picks = Array.from({ length: 200 }, () => evaluateIntrinsic('States.MathRandom(1, 4)', scope()));

    // Assess
    expect(new Set(picks)).toEqual(new Set([1, 2, 3]));
  });

  it('gives the same random number for the same seed', () => {
    // Act
    const first = evaluateIntrinsic('States.MathRandom(0, 1000000, 42)', scope());
    const again = evaluateIntrinsic('States.MathRandom(0, 1000000, 42)', scope());
    const other = evaluateIntrinsic('States.MathRandom(0, 1000000, 43)', scope());

    // Assess
    expect(again).toBe(first);
    expect(other).not.toBe(first);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThan(1000000);
  });

  it('reports a missing path argument as AWS does, naming the whole expression', () => {
    // Act
    const failure = failureOf(
      "States.Format('{}', States.Format('{}', $.nope))",
      scope({ input: { other: 1 } }),
    );

    // Assess
    expect(failure.error).toBe('States.Runtime');
    expect(failure.cause).toBe(
      "The function 'States.Format('{}', States.Format('{}', $.nope))' had the following error: " +
        "The JsonPath argument for the field '$.nope' could not be found in the input '{\"other\":1}'",
    );
  });

  it.each([
    ['an index past the end', "States.Format('{}', $.items[5])", '$.items[5]'],
    ['a context path', "States.Format('{}', $$.Nope)", '$.Nope'],
    ['an unset variable', 'States.Array($unset)', '$unset'],
  ])('reports %s as a missing argument', (_case, expression, shown) => {
    // Act
    const failure = failureOf(expression, scope({ input: { items: [1, 2] } }));

    // Assess
    expect(failure.error).toBe('States.Runtime');
    expect(failure.cause).toBe(
      `The function '${expression}' had the following error: ` +
        `The JsonPath argument for the field '${shown}' could not be found in the input '{"items":[1,2]}'`,
    );
  });

  it.each([
    ['StringToJson of invalid JSON', "States.StringToJson('nope')", 'is not valid JSON'],
    ['StringToJson of a number', 'States.StringToJson(1)', 'must be a string'],
    ['Format with a non-string template', 'States.Format($.numbers)', 'must be a string'],
    ['Format with too few arguments for a path template', 'States.Format($.template)', 'does not match'],
    ['ArrayPartition of a non-array', "States.ArrayPartition('abc', 1)", 'must be an array'],
    ['ArrayPartition by zero', 'States.ArrayPartition($.numbers, 0)', 'positive integer'],
    ['ArrayRange with step 0', 'States.ArrayRange(1, 5, 0)', 'must not be 0'],
    ['ArrayRange over 1000 items', 'States.ArrayRange(1, 1001, 1)', 'maximum of 1000'],
    ['ArrayRange with a string', "States.ArrayRange('1', 5, 1)", 'must be a number'],
    ['ArrayGetItem past the end', 'States.ArrayGetItem($.numbers, 9)', 'out of bounds'],
    ['ArrayGetItem with a negative index', 'States.ArrayGetItem($.numbers, -1)', 'out of bounds'],
    ['ArrayLength of an object', 'States.ArrayLength($.object)', 'must be an array'],
    ['Base64Encode over 10,000 characters', `States.Base64Encode('${'x'.repeat(10_001)}')`, 'at most 10000'],
    ['Base64Decode of invalid text', "States.Base64Decode('no*pe')", 'not valid Base64'],
    ['Hash with an unknown algorithm', "States.Hash('a', 'SHA-2')", 'not supported'],
    ['JsonMerge in deep mode', 'States.JsonMerge($.json1, $.json2, true)', 'only supports shallow'],
    ['JsonMerge of an array', 'States.JsonMerge($.numbers, $.json2, false)', 'must be a JSON object'],
    ['MathRandom with start not below end', 'States.MathRandom(5, 5)', 'must be less than'],
    ['MathAdd out of the int32 range', 'States.MathAdd(2147483648, 1)', 'between -2147483648 and 2147483647'],
    ['MathAdd of a string', "States.MathAdd('1', 1)", 'must be a number'],
    ['StringSplit of a number', "States.StringSplit(1, ',')", 'must be a string'],
  ])('fails with States.Runtime for %s', (_case, expression, detail) => {
    // Act
    const failure = failureOf(expression);

    // Assess
    expect(failure.error).toBe('States.Runtime');
    expect(failure.cause.startsWith(`The function '${expression}' had the following error: `)).toBe(true);
    expect(failure.cause).toContain(detail);
  });
});

describe('parseIntrinsic', () => {
  it('parses nested calls, literals and paths', () => {
    // Act
    const call = parseIntrinsic("States.Format('{} {}', States.MathAdd($.a, -1), $$.Map.Item.Value)");

    // Assess
    expect(call).toEqual({
      name: 'States.Format',
      args: [
        { kind: 'string', value: '{} {}', templateParts: ['', ' ', ''] },
        {
          kind: 'call',
          call: {
            name: 'States.MathAdd',
            args: [
              { kind: 'path', path: '$.a' },
              { kind: 'literal', value: -1 },
            ],
          },
        },
        { kind: 'path', path: '$$.Map.Item.Value' },
      ],
    });
  });

  it.each([
    ['an unknown function', 'States.Nope(1)', "'States.Nope' is not a known intrinsic function"],
    ['too few arguments', 'States.MathAdd(1)', 'States.MathAdd takes 2 arguments, but was given 1'],
    ['too many arguments', 'States.UUID(1)', 'States.UUID takes 0 arguments, but was given 1'],
    ['MathRandom with four arguments', 'States.MathRandom(1, 2, 3, 4)', 'takes 2 to 3 arguments'],
    ['an unclosed call', "States.Format('x'", "missing ')'"],
    ['an unterminated string', "States.Format('x)", 'unterminated string literal'],
    ['an open escape backslash', "States.Format('a\\b')", 'open escape backslash'],
    ['an invalid path', 'States.ArrayLength($.a[)', 'is not a valid path'],
    ['a bare word', 'States.ArrayLength(abc)', 'unexpected argument'],
    ['text after the call', 'States.UUID() x', "unexpected 'x'"],
    [
      'placeholders that do not match the arguments',
      "States.Format('{} {}', 1)",
      "2 '{}' placeholders but 1 argument",
    ],
    [
      'more than 10 nested functions',
      `${'States.Array('.repeat(11)}${')'.repeat(11)}`,
      'nested at most 10 deep',
    ],
  ])('rejects %s', (_case, expression, problem) => {
    // Act
    const parse = () => parseIntrinsic(expression);

    // Assess
    expect(parse).toThrow(StatesError);
    expect(parse).toThrow(problem);
  });

  it('accepts 10 nested functions', () => {
    // Act
    const parse = () => parseIntrinsic(`${'States.Array('.repeat(10)}${')'.repeat(10)}`);

    // Assess
    expect(parse).not.toThrow();
  });
});

describe('isIntrinsicFunction', () => {
  it.each([
    ['States.UUID()', true],
    ["States.Format('{}', $.a)", true],
    ['$.States', false],
    ['States.Format', false],
    ['$', false],
  ])('%s → %s', (expression, expected) => {
    // Act
    const result = isIntrinsicFunction(expression);

    // Assess
    expect(result).toBe(expected);
  });
});

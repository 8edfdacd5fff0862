import { describe, expect, it } from 'vitest';
import type { ChoiceRule, Json } from '../definition/types.ts';
import { COMPARISON_OPERATORS, evaluateChoiceRule, type PathResolver } from './choice-rules.ts';
import { StatesError } from './states-error.ts';

/** A small stand-in for the interpreter's JSONPath module: dotted `$.a.b` paths and `$name` variables. */
function resolverFor(input: Json, variables: Record<string, Json> = {}): PathResolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = (path: string) => {
    calls.push(path);
    const [root, ...segments] = path.split('.');
    let current: Json | undefined =
      root === '$' ? input : root?.startsWith('$') ? variables[root.slice(1)] : undefined;
    for (const segment of segments) {
      current =
        current !== null && typeof current === 'object' && !Array.isArray(current) && segment in current
          ? current[segment]
          : undefined;
    }
    return current === undefined ? ({ found: false } as const) : ({ found: true, value: current } as const);
  };
  return Object.assign(resolve, { calls });
}

function evaluateOn(value: Json, operator: string, operand: unknown): boolean {
  return evaluateChoiceRule({ Variable: '$.value', [operator]: operand }, resolverFor({ value }));
}

function thrown(act: () => unknown): StatesError {
  try {
    act();
  } catch (error) {
    if (error instanceof StatesError) return error;
    throw error;
  }
  throw new Error('expected a StatesError');
}

describe('evaluateChoiceRule: comparisons', () => {
  it.each([
    ['StringEquals', 'abc', 'abc', true],
    ['StringEquals', 'abc', 'ABC', false],
    ['StringLessThan', 'abc', 'abd', true],
    ['StringLessThan', 'abc', 'abc', false],
    ['StringLessThan', 'Z', 'a', true], // by code unit: uppercase sorts before lowercase
    ['StringGreaterThan', 'b', 'abc', true],
    ['StringLessThanEquals', 'abc', 'abc', true],
    ['StringGreaterThanEquals', 'abc', 'abd', false],
    ['NumericEquals', 3, 3, true],
    ['NumericEquals', 3, JSON.parse('3.0'), true], // an int and a float with the same value are equal
    ['NumericEquals', 3, 3.5, false],
    ['NumericLessThan', -1, 0, true],
    ['NumericGreaterThan', 2.5, 2.4, true],
    ['NumericLessThanEquals', 5, 5, true],
    ['NumericGreaterThanEquals', 4, 5, false],
    ['BooleanEquals', false, false, true],
    ['BooleanEquals', true, false, false],
    ['TimestampEquals', '2016-08-18T17:33:00Z', '2016-08-18T17:33:00Z', true],
    ['TimestampEquals', '2016-08-18T18:33:00+01:00', '2016-08-18T17:33:00Z', true], // same instant
    ['TimestampEquals', '2016-08-18T17:33:00.500Z', '2016-08-18T17:33:00.5Z', true],
    ['TimestampLessThan', '2016-08-18T17:33:00.123456789Z', '2016-08-18T17:33:00.12345679Z', true],
    ['TimestampLessThan', '2016-08-18T17:33:00-01:00', '2016-08-18T17:33:00Z', false],
    ['TimestampGreaterThan', '2024-02-29T00:00:00Z', '2024-02-28T23:59:59.999Z', true],
    ['TimestampLessThanEquals', '2001-01-01T12:00:00Z', '2001-01-01T12:00:00Z', true],
    ['TimestampGreaterThanEquals', '2001-01-01T11:59:59Z', '2001-01-01T12:00:00Z', false],
  ])('%s: %j against %j is %s', (operator, value, operand, expected) => {
    // Act
    const matched = evaluateOn(value, operator, operand);

    // Assess
    expect(matched).toBe(expected);
  });

  it.each([
    ['StringEquals', 1, '1'],
    ['StringLessThan', null, 'a'],
    ['NumericEquals', '1', 1],
    ['NumericGreaterThan', true, 0],
    ['BooleanEquals', 'true', true],
    ['BooleanEquals', 1, true],
    ['TimestampEquals', 1_471_541_580, '2016-08-18T17:33:00Z'],
  ])('%s on a value of the wrong type (%j) is simply false', (operator, value, operand) => {
    // Act
    const matched = evaluateOn(value, operator, operand);

    // Assess
    expect(matched).toBe(false);
  });

  it.each([
    ['lowercase t', '2016-08-18t17:33:00Z'],
    ['lowercase z', '2016-08-18T17:33:00z'],
    ['a space instead of T', '2016-08-18 17:33:00Z'],
    ['no time zone', '2016-08-18T17:33:00'],
    ['no seconds', '2016-08-18T17:33Z'],
    ['February 30th', '2016-02-30T00:00:00Z'],
    ['hour 24', '2016-08-18T24:00:00Z'],
    ['a date only', '2016-08-18'],
  ])('a timestamp with %s is not a timestamp, so Timestamp comparisons are false', (_, value) => {
    // Act
    const equal = evaluateOn(value, 'TimestampEquals', value);
    const isTimestamp = evaluateOn(value, 'IsTimestamp', true);

    // Assess
    expect(equal).toBe(false);
    expect(isTimestamp).toBe(false);
  });
});

describe('evaluateChoiceRule: ...Path operands', () => {
  it.each([
    ['StringEqualsPath', 'a', 'a', true],
    ['StringLessThanPath', 'a', 'b', true],
    ['StringGreaterThanPath', 'a', 'b', false],
    ['StringLessThanEqualsPath', 'b', 'b', true],
    ['StringGreaterThanEqualsPath', 'a', 'b', false],
    ['NumericEqualsPath', 1, 1, true],
    ['NumericLessThanPath', 1, 2, true],
    ['NumericGreaterThanPath', 1, 2, false],
    ['NumericLessThanEqualsPath', 2, 2, true],
    ['NumericGreaterThanEqualsPath', 3, 2, true],
    ['BooleanEqualsPath', true, true, true],
    ['TimestampEqualsPath', '2020-01-01T00:00:00Z', '2020-01-01T01:00:00+01:00', true],
    ['TimestampLessThanPath', '2020-01-01T00:00:00Z', '2020-01-02T00:00:00Z', true],
    ['TimestampGreaterThanPath', '2020-01-01T00:00:00Z', '2020-01-02T00:00:00Z', false],
    ['TimestampLessThanEqualsPath', '2020-01-02T00:00:00Z', '2020-01-02T00:00:00Z', true],
    ['TimestampGreaterThanEqualsPath', '2020-01-01T00:00:00Z', '2020-01-02T00:00:00Z', false],
    ['NumericEqualsPath', 1, '1', false],
  ])('%s compares $.value (%j) with $.other (%j): %s', (operator, value, other, expected) => {
    // Prepare
    const resolve = resolverFor({ value, other });

    // Act
    const matched = evaluateChoiceRule({ Variable: '$.value', [operator]: '$.other' }, resolve);

    // Assess
    expect(matched).toBe(expected);
  });

  it('reads the operand from a variable or the context as well as the input', () => {
    // Prepare
    const resolve = resolverFor({ amount: 10 }, { limit: 5 });

    // Act
    const matched = evaluateChoiceRule({ Variable: '$.amount', NumericGreaterThanPath: '$limit' }, resolve);

    // Assess
    expect(matched).toBe(true);
  });

  it('fails with States.Runtime when the operand path matches nothing', () => {
    // Prepare
    const resolve = resolverFor({ left: 8 });

    // Act
    const error = thrown(() =>
      evaluateChoiceRule({ Variable: '$.left', NumericGreaterThanPath: '$.right' }, resolve),
    );

    // Assess
    expect(error.error).toBe('States.Runtime');
    expect(error.cause).toBe(
      "Invalid path '$.right': The choice state's condition path references an invalid value.",
    );
  });
});

describe('evaluateChoiceRule: StringMatches', () => {
  it.each([
    ['foo23.log', 'foo*.log', true],
    ['zebra.log', '*.log', true],
    ['foobar.zebra', 'foo*.*', true],
    ['foo.log', 'foo*.log', true], // * matches zero characters
    ['foo.txt', 'foo*.log', false],
    ['anything', '*', true],
    ['', '*', true],
    ['', '', true],
    ['a', '', false],
    ['abc', 'abc', true],
    ['abcd', 'abc', false],
    ['aXbXc', 'a*b*c', true],
    ['acb', 'a*b*c', false],
    ['mississippi', '*ss*ss*', true],
    ['a*b', 'a\\*b', true], // \* is a literal star
    ['aXb', 'a\\*b', false],
    ['a\\b', 'a\\\\b', true], // \\ is a literal backslash
    ['a\\xyz', 'a\\\\*', true],
    ['a.b', 'a?b', false], // no characters other than * are special
    ['a+b', 'a+b', true],
    ['A', 'a', false], // no case folding
  ])('%j against the pattern %j: %s', (value, pattern, expected) => {
    // Act
    const matched = evaluateOn(value, 'StringMatches', pattern);

    // Assess
    expect(matched).toBe(expected);
  });

  it('never matches a value that is not a string', () => {
    // Act
    const matched = evaluateOn(42, 'StringMatches', '*');

    // Assess
    expect(matched).toBe(false);
  });

  it('is linear enough that many wildcards against a long near-miss finish quickly', () => {
    // Prepare
    const value = `${'a'.repeat(5_000)}b`;
    const started = Date.now();

    // Act
    const matched = evaluateOn(value, 'StringMatches', `${'*a'.repeat(30)}*c`);

    // Assess
    expect(matched).toBe(false);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it.each([['ends with \\'], ['a\\b']])(
    'fails with States.Runtime on an open escape backslash (%s)',
    (pattern) => {
      // Act
      const error = thrown(() => evaluateOn('anything', 'StringMatches', pattern));

      // Assess
      expect(error.error).toBe('States.Runtime');
      expect(error.cause).toContain('open escape');
    },
  );
});

describe('evaluateChoiceRule: data tests', () => {
  it.each([
    ['IsNull', null, true, true],
    ['IsNull', 0, true, false],
    ['IsNull', 0, false, true],
    ['IsNumeric', 1.5, true, true],
    ['IsNumeric', '1.5', true, false],
    ['IsNumeric', '1.5', false, true],
    ['IsString', '', true, true],
    ['IsString', null, true, false],
    ['IsBoolean', false, true, true],
    ['IsBoolean', 'false', true, false],
    ['IsTimestamp', '2016-03-14T01:59:00Z', true, true],
    ['IsTimestamp', '2016-03-14T01:59:00.123+05:30', true, true],
    ['IsTimestamp', '14 March 2016', true, false],
    ['IsTimestamp', '14 March 2016', false, true],
    ['IsPresent', null, true, true], // null is a value that is present
    ['IsPresent', 'x', false, false],
  ])('%s: %j with operand %s is %s', (operator, value, operand, expected) => {
    // Act
    const matched = evaluateOn(value, operator, operand);

    // Assess
    expect(matched).toBe(expected);
  });

  it.each([
    [true, false],
    [false, true],
  ])('IsPresent: %s on a path that matches nothing is %s, without failing', (operand, expected) => {
    // Prepare
    const resolve = resolverFor({});

    // Act
    const matched = evaluateChoiceRule({ Variable: '$.missing', IsPresent: operand }, resolve);

    // Assess
    expect(matched).toBe(expected);
  });

  it.each([
    ['StringEquals', 'x'],
    ['NumericEquals', 1],
    ['IsNull', true],
    ['IsNumeric', false],
    ['StringMatches', '*'],
    ['TimestampEqualsPath', '$.other'],
  ])(
    '%s on a Variable that matches nothing fails with States.Runtime as AWS words it',
    (operator, operand) => {
      // Prepare
      const resolve = resolverFor({ other: '2020-01-01T00:00:00Z' });

      // Act
      const error = thrown(() => evaluateChoiceRule({ Variable: '$.type', [operator]: operand }, resolve));

      // Assess
      expect(error.error).toBe('States.Runtime');
      expect(error.cause).toBe(
        "Invalid path '$.type': The choice state's condition path references an invalid value.",
      );
    },
  );

  it('reads the Variable from a workflow variable', () => {
    // Prepare
    const resolve = resolverFor({}, { region: 'eu-west-2' });

    // Act
    const matched = evaluateChoiceRule({ Variable: '$region', StringMatches: 'eu-*' }, resolve);

    // Assess
    expect(matched).toBe(true);
  });

  it('fails with States.Runtime on a rule with no operator', () => {
    // Act
    const error = thrown(() => evaluateChoiceRule({ Variable: '$.x', Next: 'A' }, resolverFor({ x: 1 })));

    // Assess
    expect(error.error).toBe('States.Runtime');
  });
});

describe('evaluateChoiceRule: And / Or / Not', () => {
  const inTwenties: ChoiceRule = {
    And: [
      { Variable: '$.value', IsPresent: true },
      { Variable: '$.value', IsNumeric: true },
      { Variable: '$.value', NumericGreaterThanEquals: 20 },
      { Variable: '$.value', NumericLessThan: 30 },
    ],
  };

  it.each([
    [22, true],
    [30, false],
    ['22', false],
  ])('the spec example: %j is in the twenties: %s', (value, expected) => {
    // Act
    const matched = evaluateChoiceRule(inTwenties, resolverFor({ value }));

    // Assess
    expect(matched).toBe(expected);
  });

  it('And stops at the first false rule, so a later missing path does not fail the state', () => {
    // Prepare
    const resolve = resolverFor({});

    // Act
    const matched = evaluateChoiceRule(inTwenties, resolve);

    // Assess
    expect(matched).toBe(false);
    expect(resolve.calls).toEqual(['$.value']);
  });

  it('Or stops at the first true rule', () => {
    // Prepare
    const resolve = resolverFor({ kind: 'card' });
    const rule: ChoiceRule = {
      Or: [
        { Variable: '$.kind', StringEquals: 'card' },
        { Variable: '$.missing', StringEquals: 'never read' },
      ],
    };

    // Act
    const matched = evaluateChoiceRule(rule, resolve);

    // Assess
    expect(matched).toBe(true);
    expect(resolve.calls).toEqual(['$.kind']);
  });

  it('Or still fails when it has to read a missing path', () => {
    // Prepare
    const rule: ChoiceRule = {
      Or: [
        { Variable: '$.kind', StringEquals: 'cash' },
        { Variable: '$.missing', StringEquals: 'x' },
      ],
    };

    // Act
    const error = thrown(() => evaluateChoiceRule(rule, resolverFor({ kind: 'card' })));

    // Assess
    expect(error.cause).toContain("'$.missing'");
  });

  it.each([
    ['Private', false],
    ['Public', true],
  ])('Not inverts its rule: type %s is not Private: %s', (type, expected) => {
    // Act
    const matched = evaluateChoiceRule(
      { Not: { Variable: '$.type', StringEquals: 'Private' } },
      resolverFor({ type }),
    );

    // Assess
    expect(matched).toBe(expected);
  });

  it('nests: Not of an Or of an And', () => {
    // Prepare
    const rule: ChoiceRule = {
      Not: {
        Or: [
          {
            And: [
              { Variable: '$.a', BooleanEquals: true },
              { Variable: '$.b', BooleanEquals: true },
            ],
          },
          { Variable: '$.c', IsNull: true },
        ],
      },
    };

    // Act
    const results = [
      evaluateChoiceRule(rule, resolverFor({ a: true, b: true, c: 1 })),
      evaluateChoiceRule(rule, resolverFor({ a: true, b: false, c: 1 })),
      evaluateChoiceRule(rule, resolverFor({ a: false, b: false, c: null })),
    ];

    // Assess
    expect(results).toEqual([false, true, false]);
  });
});

describe('COMPARISON_OPERATORS', () => {
  it('lists every data-test operator and each comparison Path form, and nothing else', () => {
    // Prepare
    const comparisons = ['String', 'Numeric', 'Timestamp'].flatMap((kind) =>
      ['Equals', 'LessThan', 'GreaterThan', 'LessThanEquals', 'GreaterThanEquals'].map(
        (test) => `${kind}${test}`,
      ),
    );
    const expected = [
      ...[...comparisons, 'BooleanEquals'].flatMap((name) => [name, `${name}Path`]),
      'StringMatches',
      'IsNull',
      'IsPresent',
      'IsNumeric',
      'IsString',
      'IsBoolean',
      'IsTimestamp',
    ];

    // Assess
    expect([...COMPARISON_OPERATORS].sort()).toEqual(expected.sort());
    expect(COMPARISON_OPERATORS).not.toContain('StringMatchesPath');
    expect(COMPARISON_OPERATORS).not.toContain('And');
  });
});

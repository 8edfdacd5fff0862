import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Json } from '../definition/types.ts';
import {
  checkJsonataSyntax,
  evaluateJsonataTemplate,
  isJsonataExpression,
  type JsonataScope,
  JsonataSyntaxError,
} from './jsonata.ts';
import { StatesError } from './states-error.ts';

const context = { Execution: { Name: 'exec-1' }, State: { Name: 'Charge' } };

function scopeWith(
  input: Json,
  extra: Partial<JsonataScope['states']> = {},
  variables: Record<string, Json> = {},
) {
  return { states: { input, context, ...extra }, variables } satisfies JsonataScope;
}

const evaluate = (template: Json, scope: JsonataScope = scopeWith({}), field = 'Output') =>
  evaluateJsonataTemplate(template, scope, field);

async function failure(act: Promise<unknown>): Promise<StatesError> {
  try {
    await act;
  } catch (error) {
    if (error instanceof StatesError) return error;
    throw error;
  }
  throw new Error('expected a StatesError');
}

describe('isJsonataExpression', () => {
  it.each([
    ['{% $states.input %}', true],
    ['{%1%}', true],
    ['{% %}', true],
    [' {% 1 %}', false], // the delimiters must be the very first and last characters
    ['{% 1 %} ', false],
    ['{%}', false], // the two delimiters may not share the percent sign
    ['$states.input', false],
    ['{ % 1 % }', false],
    [42, false],
    [null, false],
  ])('%j: %s', (value, expected) => {
    // Act
    const result = isJsonataExpression(value);

    // Assess
    expect(result).toBe(expected);
  });
});

describe('evaluateJsonataTemplate: what expressions see', () => {
  it('reads the state input through $states.input', async () => {
    // Prepare
    const scope = scopeWith({ customer: { name: 'Ada' } });

    // Act
    const output = await evaluate('{% $states.input.customer.name %}', scope);

    // Assess
    expect(output).toBe('Ada');
  });

  it.each([
    ['$states.context.Execution.Name', {}, 'exec-1'],
    ['$states.result.id', { result: { id: 'r-1' } }, 'r-1'],
    ['$states.errorOutput.Error', { errorOutput: { Error: 'Boom', Cause: 'c' } }, 'Boom'],
  ])('reads %s', async (expression, extra, expected) => {
    // Act
    const output = await evaluate(`{% ${expression} %}`, scopeWith({}, extra));

    // Assess
    expect(output).toBe(expected);
  });

  it('reads workflow variables by name', async () => {
    // Prepare
    const scope = scopeWith({ amount: 5 }, {}, { fee: 2, currency: 'GBP' });

    // Act
    const output = await evaluate("{% $string($states.input.amount + $fee) & ' ' & $currency %}", scope);

    // Assess
    expect(output).toBe('7 GBP');
  });

  it('has no context item: a bare field name reads nothing', async () => {
    // Act
    const error = await failure(evaluate('{% amount %}', scopeWith({ amount: 5 })));

    // Assess
    expect(error.cause).toContain('returned nothing (undefined)');
  });

  it('does not carry one evaluation’s scope into the next run of the same expression', async () => {
    // Prepare
    const template = '{% $states.input.n * $factor %}';

    // Act
    const outputs = await Promise.all(
      [1, 2, 3].map((n) => evaluate(template, scopeWith({ n }, {}, { factor: n * 10 }))),
    );

    // Assess
    expect(outputs).toEqual([10, 40, 90]);
  });
});

describe('evaluateJsonataTemplate: templates', () => {
  it('evaluates every expression at any depth and leaves everything else as it is', async () => {
    // Prepare
    const template: Json = {
      static: 'Hello',
      notEvaluated: '$customerName',
      nearlyAnExpression: ' {% 1 %}',
      number: 7,
      flag: false,
      nothing: null,
      name: '{% $customerName %}',
      nested: { items: ['{% $states.input.title %}', 'plain', { deep: '{% 1 + 1 %}' }] },
    };
    const scope = scopeWith({ title: 'Doctor' }, {}, { customerName: 'María' });

    // Act
    const output = await evaluate(template, scope, 'Arguments');

    // Assess
    expect(output).toEqual({
      static: 'Hello',
      notEvaluated: '$customerName',
      nearlyAnExpression: ' {% 1 %}',
      number: 7,
      flag: false,
      nothing: null,
      name: 'María',
      nested: { items: ['Doctor', 'plain', { deep: 2 }] },
    });
  });

  it('does not evaluate object keys, nor strings an expression returns', async () => {
    // Prepare
    const scope = scopeWith({ text: '{% 1 + 1 %}' });

    // Act
    const output = await evaluate({ '{% 1 %}': '{% $states.input.text %}' }, scope);

    // Assess
    expect(output).toEqual({ '{% 1 %}': '{% 1 + 1 %}' });
  });

  it('returns a literal field as it is', async () => {
    // Act
    const outputs = await Promise.all([evaluate(12), evaluate('text'), evaluate(null), evaluate(true)]);

    // Assess
    expect(outputs).toEqual([12, 'text', null, true]);
  });

  it('keeps a JSON null an expression returns', async () => {
    // Act
    const output = await evaluate({ v: '{% $states.input.bar %}' }, scopeWith({ bar: null }));

    // Assess
    expect(output).toEqual({ v: null });
  });
});

describe('evaluateJsonataTemplate: an expression that returns nothing', () => {
  it.each([
    [
      'at the top level',
      '{% $states.input.missing %}',
      'Output',
      "'$states.input.missing' specified for the field 'Output'",
    ],
    [
      'nested in an object',
      { Input: { pushLocation: '{% $states.input.pushLocation %}' } },
      'Arguments',
      "'$states.input.pushLocation' specified for the field 'Arguments/Input/pushLocation'",
    ],
    [
      'nested in an array',
      { a: { b: ['x', '{%$nope%}'] } },
      'Output',
      "'$nope' specified for the field 'Output/a/b[1]'",
    ],
    [
      'in an Assign',
      { total: '{% $states.result.total %}' },
      'Assign',
      "'$states.result.total' specified for the field 'Assign/total'",
    ],
  ])('fails with States.QueryEvaluationError %s, naming the field', async (_, template, field, named) => {
    // Act
    const error = await failure(evaluate(template, scopeWith({}), field));

    // Assess
    expect(error.error).toBe('States.QueryEvaluationError');
    expect(error.cause).toBe(`The JSONata expression ${named} returned nothing (undefined).`);
  });

  it('fails when $states.errorOutput is read outside a Catch', async () => {
    // Act
    const error = await failure(evaluate('{% $states.errorOutput %}'));

    // Assess
    expect(error.cause).toContain('returned nothing (undefined)');
  });

  it('drops an undefined member inside an object the expression itself builds, as JSONata does', async () => {
    // Act
    const output = await evaluate("{% { 'k': $states.input.missing, 'present': 1 } %}");

    // Assess
    expect(output).toEqual({ present: 1 });
  });
});

describe('evaluateJsonataTemplate: results are plain JSON', () => {
  it('turns a JSONata sequence into a plain array', async () => {
    // Prepare
    const scope = scopeWith({ lines: [{ sku: 'a' }, { sku: 'b' }] });

    // Act
    const output = await evaluate('{% $states.input.lines.sku %}', scope);

    // Assess
    expect(output).toEqual(['a', 'b']);
    expect(Object.getOwnPropertyNames(output)).toEqual(['0', '1', 'length']);
  });

  it('gives objects the ordinary prototype', async () => {
    // Act
    const output = await evaluate("{% { 'a': [1, { 'b': 2 }] } %}");

    // Assess
    expect(Object.getPrototypeOf(output)).toBe(Object.prototype);
    expect(JSON.stringify(output)).toBe('{"a":[1,{"b":2}]}');
  });

  it.each([
    ['1/0', 'Infinity'],
    ['-1/0', '-Infinity'],
    ['0/0', 'NaN'],
    ['[1/0]', ['Infinity']],
    ["{ 'k': 1/0 }", { k: 'Infinity' }],
  ])('writes the non-finite number of %s as a string', async (expression, expected) => {
    // Act
    const output = await evaluate(`{% ${expression} %}`);

    // Assess
    expect(output).toEqual(expected);
  });

  it.each([['$sum'], ['function($x) { $x }'], ["{ 'f': $uppercase }"]])(
    'rejects a function result (%s)',
    async (expression) => {
      // Act
      const error = await failure(evaluate(`{% ${expression} %}`));

      // Assess
      // AWS's wording, recorded for a function-valued Map Items (test_map_state_items_eval_jsonata_fail).
      expect(error.error).toBe('States.QueryEvaluationError');
      expect(error.cause).toBe(
        `The JSONata expression '${expression}' specified for the field 'Output' returned an unsupported result type.`,
      );
    },
  );
});

describe('evaluateJsonataTemplate: errors', () => {
  it('words an evaluation error as AWS does: the sentence, then the JSONata code and message', async () => {
    // Act
    const error = await failure(evaluate({ total: "{% 'a' + 1 %}" }, scopeWith({}), 'Output'));

    // Assess
    expect(error.error).toBe('States.QueryEvaluationError');
    expect(error.cause).toBe(
      `The JSONata expression ''a' + 1' specified for the field 'Output/total' threw an error during evaluation. ` +
        'T2001: The left side of the "+" operator must evaluate to a number',
    );
  });

  it('names the function and type in a signature error', async () => {
    // Act
    const error = await failure(evaluate("{% $sum(['a']) %}"));

    // Assess
    expect(error.cause).toContain('T0412: Argument 1 of function "sum" must be an array of "numbers"');
  });

  it('fails on an expression that does not parse', async () => {
    // Act
    const error = await failure(evaluate('{% a[1,2) %}'));

    // Assess
    expect(error.error).toBe('States.QueryEvaluationError');
    expect(error.cause).toContain('S0202');
  });

  it('does not allow $eval', async () => {
    // Act
    const error = await failure(evaluate("{% $eval('1 + 1') %}"));

    // Assess
    expect(error.cause).toContain('T1006: Attempted to invoke a non-function');
  });

  it('stops a runaway recursion instead of overflowing the stack', async () => {
    // Act
    const error = await failure(evaluate('{% ($f := function($n) { 1 + $f($n + 1) }; $f(0)) %}'));

    // Assess
    expect(error.error).toBe('States.QueryEvaluationError');
    expect(error.cause).toContain('D1011: Stack overflow');
  });
});

describe('evaluateJsonataTemplate: the functions Step Functions adds', () => {
  it.each([
    [
      '$partition([1, 2, 3, 4, 5, 6, 7, 8, 9], 3)',
      [
        [1, 2, 3],
        [4, 5, 6],
        [7, 8, 9],
      ],
    ],
    ['$partition([1, 2, 3, 4, 5], 2)', [[1, 2], [3, 4], [5]]],
    ['$partition([1, 2, 3], 2.9)', [[1, 2], [3]]],
    ['$partition([1, 2], 5)', [[1, 2]]],
    ['$range(0, 10, 2)', [0, 2, 4, 6, 8, 10]],
    ['$range(0, 9, 2)', [0, 2, 4, 6, 8]],
    ['$range(5, 1, -2)', [5, 3, 1]],
    ['$range(-1.7, 2, 1)', [-1, 0, 1, 2]],
    ['$range(4, 4, 1)', 4],
    ["$hash('hello', 'MD5')", createHash('md5').update('hello').digest('hex')],
    ["$hash('hello', 'SHA-1')", createHash('sha1').update('hello').digest('hex')],
    ["$hash('hello', 'SHA-256')", createHash('sha256').update('hello').digest('hex')],
    ["$hash('héllo', 'SHA-384')", createHash('sha384').update('héllo', 'utf8').digest('hex')],
    ["$hash('hello', 'SHA-512')", createHash('sha512').update('hello').digest('hex')],
    ['$parse(\'{"a": [1, true, null]}\')', { a: [1, true, null] }],
    ['$parse(\'"text"\')', 'text'],
  ])('%s', async (expression, expected) => {
    // Act
    const output = await evaluate(`{% ${expression} %}`);

    // Assess
    expect(output).toEqual(expected);
  });

  it.each([
    ['$partition([1, 2], 0)'],
    ['$partition([], 2)'],
    ['$range(0, 10)'],
    ['$range(0, 10, -1)'],
    ['$range(10, 0, 1)'],
    ["$hash('hello')"],
  ])('%s gives nothing, so the field fails', async (expression) => {
    // Act
    const error = await failure(evaluate(`{% ${expression} %}`));

    // Assess
    expect(error.cause).toContain('returned nothing (undefined)');
  });

  it.each([
    ["$hash('hello', 'sha-256')", 'not supported'],
    ["$hash(42, 'MD5')", 'T0410'],
    ["$parse('{not json')", 'could not be parsed as JSON'],
    ["$partition('abc', 'x')", 'T0410'],
    ['$range(1, 1000000, 1)', 'memory limit exceeded'],
  ])('%s fails the field (%s)', async (expression, expected) => {
    // Act
    const error = await failure(evaluate(`{% ${expression} %}`));

    // Assess
    expect(error.error).toBe('States.QueryEvaluationError');
    expect(error.cause).toContain(expected);
  });

  it('$random() gives a fresh number in [0, 1)', async () => {
    // Act
    const values = (await evaluate('{% [$random(), $random(), $random()] %}')) as number[];

    // Assess
    for (const value of values) expect(value).toBeGreaterThanOrEqual(0);
    for (const value of values) expect(value).toBeLessThan(1);
    expect(new Set(values).size).toBe(3);
  });

  it('$random(seed) is reproducible for a seed and differs between seeds', async () => {
    // Act
    const [first, again, other] = (await evaluate(
      '{% [$random(42), $random(42), $random(7)] %}',
    )) as number[];

    // Assess
    expect(first).toBe(again);
    expect(first).not.toBe(other);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThan(1);
  });

  it('$uuid() gives a fresh version 4 UUID', async () => {
    // Act
    const [a, b] = (await evaluate('{% [$uuid(), $uuid()] %}')) as string[];

    // Assess
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
  });

  it('$now() is the same instant everywhere in one expression', async () => {
    // Act
    const output = await evaluate('{% [$now() = $now(), $millis() = $millis()] %}');

    // Assess
    expect(output).toEqual([true, true]);
  });
});

describe('checkJsonataSyntax', () => {
  it('accepts templates whose expressions all parse, and literals', () => {
    // Act
    const check = () =>
      checkJsonataSyntax(
        { a: '{% $states.input.x %}', b: ['{% 1 + 2 %}', 'a[1,2)'], c: 3, d: null },
        'Output',
      );

    // Assess
    expect(check).not.toThrow();
  });

  it.each([
    ['{% a[1,2) %}', 'Output', 'a[1,2)', 'Expected "]", got ","'],
    ['{% %}', 'Output', '', 'Unexpected end of expression'],
    ['{% 1 + %}', 'Output', '1 +', 'Unexpected end of expression'],
  ])('rejects %j, saying where and why', (template, field, expression, detail) => {
    // Act
    let error: unknown;
    try {
      checkJsonataSyntax(template, field);
    } catch (thrown) {
      error = thrown;
    }

    // Assess
    expect(error).toBeInstanceOf(JsonataSyntaxError);
    expect(error).toBeInstanceOf(StatesError);
    expect(error).toMatchObject({ expression, location: field, detail });
  });

  it('names a nested field with / for keys and [i] for indices', () => {
    // Act
    let error: unknown;
    try {
      checkJsonataSyntax({ Input: { list: ['ok', '{% "unterminated %}'] } }, 'Arguments');
    } catch (thrown) {
      error = thrown;
    }

    // Assess
    expect(error).toMatchObject({ location: 'Arguments/Input/list[1]' });
  });
});

import { describe, expect, it } from 'vitest';
import type { Json } from '../definition/types.ts';
import { applyResultPath } from './result-path.ts';
import { StatesError } from './states-error.ts';

const input = { order: { id: 7, lines: [{ sku: 'A' }, { sku: 'B' }] }, note: 'text' };
const result = { status: 'PAID' };

function failureOf(act: () => unknown): StatesError {
  try {
    act();
  } catch (error) {
    if (error instanceof StatesError) return error;
    throw error;
  }
  throw new Error('applyResultPath did not fail');
}

describe('applyResultPath', () => {
  it.each<[string, string | null | undefined, Json]>([
    ['no ResultPath: the result replaces the input', undefined, result],
    ["'$': the result replaces the input", '$', result],
    ['null: the input is kept', null, input],
    ['a new top-level field', '$.payment', { ...input, payment: result }],
    ['an existing field, replaced', '$.note', { ...input, note: result }],
    [
      'a field inside an existing object',
      '$.order.payment',
      { ...input, order: { ...input.order, payment: result } },
    ],
    [
      'missing objects on the way, created',
      '$.audit.trail.last',
      { ...input, audit: { trail: { last: result } } },
    ],
    [
      'bracket notation',
      "$['order']['pay ment']",
      { ...input, order: { ...input.order, 'pay ment': result } },
    ],
    [
      'an existing array element',
      '$.order.lines[1].paid',
      { ...input, order: { ...input.order, lines: [{ sku: 'A' }, { sku: 'B', paid: result }] } },
    ],
  ])('places the result for %s', (_case, resultPath, expected) => {
    // Act
    const output = applyResultPath(input, resultPath, result);

    // Assess
    expect(output).toEqual(expected);
  });

  it('does not change the input or the result', () => {
    // Prepare
    const before = structuredClone({ input, result });

    // Act
    applyResultPath(input, '$.order.lines[0].paid', result);

    // Assess
    expect({ input, result }).toEqual(before);
  });

  it.each<[string, Json, string]>([
    ['the input is a string', 'hello', '$.result'],
    ['the input is an array', [1, 2], '$.result'],
    ['the input is null', null, '$.result'],
    ['a node on the way is a string', input, '$.note.inner'],
    ['a node on the way is an array', input, '$.order.lines.inner'],
    ['an index is past the end', input, '$.order.lines[5]'],
    ['an index is used on an object', input, '$.order[0]'],
    ['the path is not a reference path', input, '$.order.lines[*]'],
    ['the path reads the context object', input, '$$.Execution'],
  ])('fails with States.ResultPathMatchFailure when %s', (_case, value, resultPath) => {
    // Act
    const failure = failureOf(() => applyResultPath(value, resultPath, result));

    // Assess
    expect(failure.error).toBe('States.ResultPathMatchFailure');
    expect(failure.cause).toBe(
      `Unable to apply ReferencePath ${resultPath} to input ${JSON.stringify(value)}`,
    );
  });
});

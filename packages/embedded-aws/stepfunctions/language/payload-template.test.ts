import { describe, expect, it } from 'vitest';
import type { Json } from '../definition/types.ts';
import type { JsonPathScope } from './json-path.ts';
import { applyPayloadTemplate } from './payload-template.ts';
import { StatesError } from './states-error.ts';

const executionId = 'arn:aws:states:eu-west-1:123456789012:execution:pay:run-1';
const scope: JsonPathScope = {
  input: { order: { id: 7, lines: [{ sku: 'A' }, { sku: 'B' }] }, flagged: false },
  context: {
    Execution: { Id: executionId },
    Map: { Item: { Index: 1, Value: { sku: 'B' } } },
  },
  variables: { attempt: 2 },
};

function failureOf(template: Json, from: JsonPathScope = scope): StatesError {
  try {
    applyPayloadTemplate(template, from);
  } catch (error) {
    if (error instanceof StatesError) return error;
    throw error;
  }
  throw new Error('the template did not fail');
}

describe('applyPayloadTemplate', () => {
  it.each<[string, Json, Json]>([
    ['a path', { 'id.$': '$.order.id' }, { id: 7 }],
    ['the whole input', { 'all.$': '$' }, { all: scope.input }],
    ['an indefinite path', { 'skus.$': '$.order.lines[*].sku' }, { skus: ['A', 'B'] }],
    ['the context object', { 'run.$': '$$.Execution.Id' }, { run: executionId }],
    [
      'the Map item',
      { 'index.$': '$$.Map.Item.Index', 'item.$': '$$.Map.Item.Value' },
      { index: 1, item: { sku: 'B' } },
    ],
    ['a variable', { 'try.$': '$attempt' }, { try: 2 }],
    ['an intrinsic function', { 'label.$': "States.Format('order-{}', $.order.id)" }, { label: 'order-7' }],
    [
      'static values',
      { kind: 'order', count: 1, ok: true, none: null },
      { kind: 'order', count: 1, ok: true, none: null },
    ],
    [
      'nested objects',
      { outer: { 'id.$': '$.order.id', inner: { 'flag.$': '$.flagged' } } },
      { outer: { id: 7, inner: { flag: false } } },
    ],
    [
      'objects inside arrays',
      { list: [{ 'id.$': '$.order.id' }, 'plain', ['$.not.a.path', { 'f.$': '$.flagged' }]] },
      { list: [{ id: 7 }, 'plain', ['$.not.a.path', { f: false }]] },
    ],
    ['a string that only looks like a path', { path: '$.order.id' }, { path: '$.order.id' }],
    ['an index past the end, which AWS reads as null', { 'third.$': '$.order.lines[2]' }, { third: null }],
  ])('fills in %s', (_case, template, expected) => {
    // Act
    const payload = applyPayloadTemplate(template, scope);

    // Assess
    expect(payload).toEqual(expected);
  });

  it('copies a template that is not an object or an array', () => {
    // Act
    const payload = applyPayloadTemplate('just text', scope);

    // Assess
    expect(payload).toBe('just text');
  });

  it('does not change the template or the input', () => {
    // Prepare
    const template = { 'order.$': '$.order', nested: { 'id.$': '$.order.id' } };
    const before = structuredClone({ template, input: scope.input });

    // Act
    applyPayloadTemplate(template, scope);

    // Assess
    expect({ template, input: scope.input }).toEqual(before);
  });

  it('fails as AWS does when a path matches nothing', () => {
    // Act
    const failure = failureOf(
      { 'address.$': '$.application.address' },
      { ...scope, input: { flagged: false } },
    );

    // Assess
    expect(failure.error).toBe('States.Runtime');
    expect(failure.cause).toBe(
      "The JSONPath '$.application.address' specified for the field 'address.$' could not be found in the input '{\"flagged\":false}'",
    );
  });

  it('reports a missing context path against the context object', () => {
    // Act
    const failure = failureOf(
      { 'x.$': '$$.Execution.Nope' },
      { ...scope, context: { Execution: { Id: 'e' } } },
    );

    // Assess
    expect(failure.cause).toBe(
      'The JSONPath \'$$.Execution.Nope\' specified for the field \'x.$\' could not be found in the input \'{"Execution":{"Id":"e"}}\'',
    );
  });

  it('fails inside nested objects and arrays too', () => {
    // Act
    const failure = failureOf({ list: [{ deep: { 'gone.$': '$.gone' } }] });

    // Assess
    expect(failure.error).toBe('States.Runtime');
    expect(failure.cause).toContain("specified for the field 'gone.$'");
  });

  it('passes intrinsic failures through', () => {
    // Act
    const failure = failureOf({ 'n.$': 'States.ArrayLength($.order)' });

    // Assess
    expect(failure.error).toBe('States.Runtime');
    expect(failure.cause).toContain("The function 'States.ArrayLength($.order)' had the following error:");
  });

  it('rejects a .$ field whose value is not a string', () => {
    // Act
    const failure = failureOf({ 'n.$': 5 });

    // Assess
    expect(failure.error).toBe('States.Runtime');
    expect(failure.cause).toContain("'n.$' must be a STRING");
  });
});

import { describe, expect, it } from 'vitest';
import type { Json } from '../definition/types.ts';
import { isValidPath, isValidReferencePath, type JsonPathScope, queryPath } from './json-path.ts';

const store: Json = {
  store: {
    book: [
      { category: 'reference', author: 'Rees', title: 'Sayings', price: 8.95 },
      { category: 'fiction', author: 'Waugh', title: 'Sword', price: 12.99, isbn: '0-553' },
      { category: 'fiction', author: 'Tolkien', title: 'Rings', price: 22.99, isbn: '0-395' },
    ],
    bicycle: { color: 'red', price: 19.95 },
  },
  'odd key': { 'a.b': 1 },
  empty: [],
  nothing: null,
};

function scopeOf(input: Json, extra: Partial<JsonPathScope> = {}): JsonPathScope {
  return { input, context: {}, variables: {}, ...extra };
}

describe('queryPath', () => {
  it.each<[string, Json]>([
    ['$', store],
    ['$.store.bicycle.color', 'red'],
    ["$['store']['bicycle']['price']", 19.95],
    ['$["store"].bicycle', { color: 'red', price: 19.95 }],
    ['$.store.book[1].author', 'Waugh'],
    ['$.store.book[-1].title', 'Rings'],
    ["$['odd key']['a.b']", 1],
    ['$.nothing', null],
    ["$.store.bicycle['color','price']", { color: 'red', price: 19.95 }],
  ])('reads the definite path %s as the node itself', (path, expected) => {
    // Act
    const result = queryPath(path, scopeOf(store));

    // Assess
    expect(result).toEqual({ found: true, value: expected });
  });

  it.each<[string, Json]>([
    ['$.store.book[*].author', ['Rees', 'Waugh', 'Tolkien']],
    ['$..author', ['Rees', 'Waugh', 'Tolkien']],
    ['$.store.book[0:2].title', ['Sayings', 'Sword']],
    ['$.store.book[-1:].title', ['Rings']],
    ['$.store.book[:1].title', ['Sayings']],
    ['$.store.book[0,2].title', ['Sayings', 'Rings']],
    ['$.store.bicycle.*', ['red', 19.95]],
    ['$.store.book[?(@.price < 10)].title', ['Sayings']],
    ['$.store.book[?(@.isbn)].title', ['Sword', 'Rings']],
    ["$.store.book[?(@.category == 'fiction' && @.price > 20)].title", ['Rings']],
    ['$.store.book[?(@.author =~ /^T.*/i)].title', ['Rings']],
    ["$.store.book[?(@.author in ['Rees', 'Waugh'])].price", [8.95, 12.99]],
    ["$.store.book[?(!(@.category == 'fiction'))].title", ['Sayings']],
    ['$.store.book[?(@.price == 8.95 || @.price == 22.99)].title', ['Sayings', 'Rings']],
    ['$.store.book[*].missing', []],
    ['$.empty[*]', []],
    // An indefinite path over a missing property matches nothing, as AWS shows (its recorded
    // test_json_path_array_wildcard_or_slice_with_no_input).
    ['$.missing[*]', []],
    ['$.missing[1:]', []],
    ['$.missing.deeper[1:5].title', []],
    ['$.store.bicycle.color[*]', []],
    ['$..bicycle.color', ['red']],
  ])('reads the indefinite path %s as the array of matches', (path, expected) => {
    // Act
    const result = queryPath(path, scopeOf(store));

    // Assess
    expect(result).toEqual({ found: true, value: expected });
  });

  it('does not coerce types in filters, as Jayway does not', () => {
    // Prepare
    const input = { items: [{ n: 1 }, { n: '1' }] };

    // Act
    const result = queryPath('$.items[?(@.n == 1)]', scopeOf(input));

    // Assess
    expect(result).toEqual({ found: true, value: [{ n: 1 }] });
  });

  it.each([
    ['a missing property', '$.store.car'],
    ['a property of a string', '$.store.bicycle.color.shade'],
    ['a property of null', '$.nothing.x'],
    ['an index into an object', '$.store[0]'],
    ['an index past the end', '$.empty[0]'],
    ['an unparseable path', '$.store['],
  ])('finds nothing for %s', (_case, path) => {
    // Act
    const result = queryPath(path, scopeOf(store));

    // Assess
    expect(result).toEqual({ found: false });
  });

  it('reads the context object through $$', () => {
    // Prepare
    const context = {
      Execution: { Id: 'arn:aws:states:us-east-1:1:execution:sm:run' },
      Map: { Item: { Value: { id: 3 } } },
    };

    // Act
    const execution = queryPath('$$.Execution.Id', scopeOf({}, { context }));
    const item = queryPath('$$.Map.Item.Value.id', scopeOf({}, { context }));
    const whole = queryPath('$$', scopeOf({}, { context }));

    // Assess
    expect(execution).toEqual({ found: true, value: 'arn:aws:states:us-east-1:1:execution:sm:run' });
    expect(item).toEqual({ found: true, value: 3 });
    expect(whole).toEqual({ found: true, value: context });
  });

  it('reads workflow variables through $name', () => {
    // Prepare
    const variables = { order: { lines: [{ sku: 'A' }, { sku: 'B' }] }, total: 12 };

    // Act
    const sku = queryPath('$order.lines[1].sku', scopeOf({}, { variables }));
    const skus = queryPath('$order.lines[*].sku', scopeOf({}, { variables }));
    const total = queryPath('$total', scopeOf({}, { variables }));
    const unknown = queryPath('$missing.x', scopeOf({}, { variables }));

    // Assess
    expect(sku).toEqual({ found: true, value: 'B' });
    expect(skus).toEqual({ found: true, value: ['A', 'B'] });
    expect(total).toEqual({ found: true, value: 12 });
    expect(unknown).toEqual({ found: false });
  });

  it('does not let a filter change the document', () => {
    // Prepare
    const input = { items: [{ n: 1 }] };

    // Act
    const result = queryPath('$.items[?(@.n = 5)]', scopeOf(input));

    // Assess
    expect(result).toEqual({ found: false });
    expect(input).toEqual({ items: [{ n: 1 }] });
  });
});

describe('isValidPath', () => {
  it.each([
    '$',
    '$$',
    '$.a',
    '$.a.b[0]',
    "$['a b']",
    '$..a',
    '$..*',
    '$.a[*]',
    '$.a[1:3]',
    '$.a[0,1]',
    '$.a[?(@.b > 1)]',
    '$$.Execution.Input',
    '$myVar',
    '$myVar.a[0]',
    '$.a-b',
  ])('accepts %s', (path) => {
    // Act
    const valid = isValidPath(path);

    // Assess
    expect(valid).toBe(true);
  });

  it.each(['', 'a', '$.', '$.a.', '$[', '$.a[?(@.b >)]', '$a-b', "$['a', 'b'].c", '$.a[]', '$ .a', '$.a)'])(
    'rejects %j',
    (path) => {
      // Act
      const valid = isValidPath(path);

      // Assess
      expect(valid).toBe(false);
    },
  );
});

describe('isValidReferencePath', () => {
  it.each(['$', '$.a', "$.a['b c'][0]", '$$.Execution.Id', '$var.x'])('accepts %s', (path) => {
    // Act
    const valid = isValidReferencePath(path);

    // Assess
    expect(valid).toBe(true);
  });

  it.each(['$.a[*]', '$..a', '$.a[0:1]', '$.a[0,1]', '$.a[?(@.b)]', "$['a','b']", '$.a[-1]', 'a'])(
    'rejects %s',
    (path) => {
      // Act
      const valid = isValidReferencePath(path);

      // Assess
      expect(valid).toBe(false);
    },
  );
});

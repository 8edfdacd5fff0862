/**
 * ResultPath of the JSONPath query language: where a state's result goes in its raw input.
 */
import type { Json } from '../definition/types.ts';
import { isValidReferencePath, type PathSegment, parsePath } from './json-path.ts';
import { StatesError } from './states-error.ts';

/**
 * Places a result in the input. `undefined` or `'$'`: the result replaces the input; `null`: the result is
 * discarded and the input kept; `'$.a.b'`: a copy of the input with the result at that reference path,
 * creating missing objects on the way. Throws `States.ResultPathMatchFailure` when the path cannot be
 * applied (the input, or a node on the way, is not an object). Never mutates its arguments.
 *
 * @example
 * applyResultPath({ order: { id: 7 } }, '$.order.payment', { status: 'PAID' });
 * // { order: { id: 7, payment: { status: 'PAID' } } }
 * applyResultPath('text', '$.x', 1); // throws States.ResultPathMatchFailure
 */
export function applyResultPath(input: Json, resultPath: string | null | undefined, result: Json): Json {
  if (resultPath === null) return input;
  if (resultPath === undefined || resultPath === '$') return result;

  const parsed = parsePath(resultPath);
  if (parsed === undefined || parsed.root.kind !== 'input' || !isValidReferencePath(resultPath)) {
    throw mismatch(resultPath, input);
  }
  return placeAt(input, parsed.segments, result, () => mismatch(resultPath, input));
}

function placeAt(
  node: Json,
  segments: readonly PathSegment[],
  result: Json,
  failure: () => StatesError,
): Json {
  const [segment, ...rest] = segments;
  if (segment === undefined) return result;

  if (segment.kind === 'name') {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) throw failure();
    const child = Object.hasOwn(node, segment.name) ? (node[segment.name] as Json) : {};
    return { ...node, [segment.name]: placeAt(child, rest, result, failure) };
  }
  if (segment.kind === 'index') {
    // Arrays are never grown: only an element that exists can be replaced.
    if (!Array.isArray(node) || segment.index < 0 || segment.index >= node.length) throw failure();
    const copy = [...node];
    copy[segment.index] = placeAt(node[segment.index] as Json, rest, result, failure);
    return copy;
  }
  throw failure();
}

/** Wording as we remember AWS's ("Unable to apply ReferencePath ... to input ..."); not confirmed. */
function mismatch(resultPath: string, input: Json): StatesError {
  return new StatesError(
    'States.ResultPathMatchFailure',
    `Unable to apply ReferencePath ${resultPath} to input ${JSON.stringify(input)}`,
  );
}

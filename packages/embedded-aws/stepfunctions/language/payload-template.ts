/**
 * Payload templates of the JSONPath query language: Parameters, ResultSelector, ItemSelector, Map's
 * Parameters and Assign.
 */
import type { Json } from '../definition/types.ts';
import { evaluateIntrinsic, isIntrinsicFunction } from './intrinsics.ts';
import { evaluatePath, type JsonPathScope } from './json-path.ts';
import { StatesError } from './states-error.ts';

const DYNAMIC_SUFFIX = '.$';

/**
 * Builds a payload from a template. Keys ending in `.$` take a path or an intrinsic function, evaluated
 * against the scope, and lose the suffix; other values are copied; objects and arrays are templates too.
 * Throws `States.Runtime` when a `.$` path matches nothing, worded as AWS words it.
 *
 * @example
 * const scope = { input: { order: { id: 7 } }, context: { Execution: { Id: 'arn:...' } }, variables: {} };
 * applyPayloadTemplate({ 'id.$': '$.order.id', 'run.$': '$$.Execution.Id', kind: 'order' }, scope);
 * // { id: 7, run: 'arn:...', kind: 'order' }
 */
export function applyPayloadTemplate(template: Json, scope: JsonPathScope): Json {
  if (Array.isArray(template)) return template.map((item) => applyPayloadTemplate(item, scope));
  if (typeof template !== 'object' || template === null) return template;

  const payload: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith(DYNAMIC_SUFFIX) && key.length > DYNAMIC_SUFFIX.length) {
      payload[key.slice(0, -DYNAMIC_SUFFIX.length)] = resolveDynamicValue(key, value, scope);
    } else {
      payload[key] = applyPayloadTemplate(value, scope);
    }
  }
  return payload;
}

function resolveDynamicValue(field: string, expression: Json, scope: JsonPathScope): Json {
  if (typeof expression !== 'string') {
    throw new StatesError(
      'States.Runtime',
      `The value for the field '${field}' must be a STRING that contains a JSONPath or an intrinsic function, but was ${JSON.stringify(expression)}`,
    );
  }
  if (isIntrinsicFunction(expression)) return evaluateIntrinsic(expression, scope);

  const outcome = evaluatePath(expression, scope);
  if (outcome.kind === 'value') return outcome.value;
  // Observed on AWS: a leaf index past the end of an array reads as null here, though other misses fail.
  if (outcome.kind === 'pastEnd') return null;
  // A `$$.` path is reported against the context object it searched (a guess for `$variable` paths,
  // which we report against the variable's value when it exists).
  const searched = expression.startsWith('$$') ? scope.context : variableSearched(expression, scope);
  throw new StatesError(
    'States.Runtime',
    `The JSONPath '${expression}' specified for the field '${field}' could not be found in the input '${JSON.stringify(searched)}'`,
  );
}

function variableSearched(expression: string, scope: JsonPathScope): Json {
  const name = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(expression)?.[1];
  if (name !== undefined && Object.hasOwn(scope.variables, name)) return scope.variables[name] as Json;
  return scope.input;
}

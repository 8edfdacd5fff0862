/**
 * How data moves through one state, in either query language.
 *
 * JSONPath: InputPath → Parameters → (work) → ResultSelector → ResultPath → OutputPath, with Assign seeing
 * the result. JSONata: Arguments over `$states.input` → (work) → Output over `$states.result`, with Assign
 * seeing both. In both, every Assign expression reads the variables as they were before the state, and all
 * of them are applied together after it.
 */
import type { Json, JsonObject, QueryLanguage, State } from '../definition/types.ts';
import { evaluateIntrinsic, isIntrinsicFunction } from '../language/intrinsics.ts';
import { evaluatePath, type JsonPathScope, queryPath } from '../language/json-path.ts';
import { evaluateJsonataTemplate, type JsonataScope } from '../language/jsonata.ts';
import { applyPayloadTemplate } from '../language/payload-template.ts';
import { applyResultPath } from '../language/result-path.ts';
import { StatesError } from '../language/states-error.ts';

export type Variables = Readonly<Record<string, Json>>;

/** What every state's expressions can see besides its own data. */
export interface StateScope {
  readonly queryLanguage: QueryLanguage;
  readonly context: JsonObject;
  readonly variables: Variables;
}

/** Reads a JSONPath Path such as InputPath, or fails as AWS does when it matches nothing. */
export function selectPath(path: string, scope: JsonPathScope): Json {
  const found = queryPath(path, scope);
  if (!found.found) {
    // AWS's wording, as real failures show it: "Invalid path '$.a.b' : No results for path: $['a']['b']".
    throw new StatesError(
      'States.Runtime',
      `Invalid path '${path}' : No results for path: ${bracketed(path)}`,
    );
  }
  return found.value;
}

/** `$.a.b[0]` → `$['a']['b'][0]`, the normalised form Jayway JSONPath prints. */
function bracketed(path: string): string {
  const root = path.startsWith('$$') ? '$$' : '$';
  return (
    root +
    path
      .slice(root.length)
      .replace(/\.([^.[\]]+)/g, "['$1']")
      .replace(/\[\s*"([^"]*)"\s*\]/g, "['$1']")
  );
}

/** The scope a JSONPath expression sees; `$$` stays lazy (see context-object.ts). */
export function jsonPathScope(input: Json, scope: StateScope): JsonPathScope {
  return new JsonPathView(input, scope);
}

class JsonPathView implements JsonPathScope {
  constructor(
    readonly input: Json,
    readonly scope: StateScope,
  ) {}

  get context(): Json {
    return this.scope.context;
  }

  get variables(): Variables {
    return this.scope.variables;
  }
}

/** The scope a JSONata expression sees, with `$states.context` built only if it is read. */
export function jsonataScope(
  scope: StateScope,
  states: Partial<JsonataScope['states']> & { input: Json },
): JsonataScope {
  return { states: new StatesVariable(states, scope), variables: scope.variables };
}

/** `$states`: input, result, errorOutput as given, and the context object on demand. */
class StatesVariable {
  readonly input: Json;
  readonly result?: Json;
  readonly errorOutput?: Json;

  constructor(
    states: Partial<JsonataScope['states']> & { input: Json },
    readonly scope: StateScope,
  ) {
    this.input = states.input;
    if (states.result !== undefined) this.result = states.result;
    if (states.errorOutput !== undefined) this.errorOutput = states.errorOutput;
    // Not enumerable: JSONata should see input/result/errorOutput/context, not the scope behind them.
    Object.defineProperty(this, 'scope', { enumerable: false });
  }

  get context(): Json {
    return this.scope.context;
  }
}

/** InputPath (JSONPath only; `null` gives `{}`). */
export function effectiveInput(state: State, rawInput: Json, scope: StateScope): Json {
  if (scope.queryLanguage === 'JSONata') return rawInput;
  if (state.InputPath === null) return {};
  if (state.InputPath === undefined || state.InputPath === '$') return rawInput;
  return selectPath(state.InputPath, jsonPathScope(rawInput, scope));
}

/** Parameters (JSONPath) or Arguments (JSONata): what the task, branches or Pass work on. */
export async function parametersFor(
  template: Json | undefined,
  input: Json,
  rawInput: Json,
  scope: StateScope,
): Promise<Json> {
  if (template === undefined) return input;
  if (scope.queryLanguage === 'JSONata') {
    return evaluateJsonataTemplate(template, jsonataScope(scope, { input: rawInput }), 'Arguments');
  }
  return applyPayloadTemplate(template, jsonPathScope(input, scope));
}

export interface ResultFlow {
  /** The state's raw input (what ResultPath writes into). */
  readonly rawInput: Json;
  readonly result: Json;
  /** Catch: the error output `{ Error, Cause }` instead of a result. */
  readonly errorOutput?: Json;
}

export interface StateOutcome {
  readonly output: Json;
  readonly assigned: Variables | undefined;
}

/**
 * ResultSelector → ResultPath → OutputPath (JSONPath), or Output (JSONata); then Assign. `fields` carries the
 * fields that apply (a Catcher's ResultPath/Output/Assign instead of the state's).
 */
export async function completeState(
  fields: {
    readonly ResultSelector?: Json;
    readonly ResultPath?: string | null;
    readonly OutputPath?: string | null;
    readonly Output?: Json;
    readonly Assign?: JsonObject;
  },
  flow: ResultFlow,
  scope: StateScope,
  defaultOutput: 'result' | 'input' = 'result',
): Promise<StateOutcome> {
  if (scope.queryLanguage === 'JSONata') {
    const states = { input: flow.rawInput, result: flow.result, errorOutput: flow.errorOutput };
    const jsonata = jsonataScope(scope, dropUndefined(states));
    const output =
      fields.Output !== undefined
        ? await evaluateJsonataTemplate(fields.Output, jsonata, 'Output')
        : flow.errorOutput !== undefined
          ? flow.errorOutput
          : defaultOutput === 'input'
            ? flow.rawInput
            : flow.result;
    const assigned =
      fields.Assign === undefined
        ? undefined
        : ((await evaluateJsonataTemplate(fields.Assign, jsonata, 'Assign')) as Variables);
    return { output, assigned };
  }

  let result = flow.errorOutput ?? flow.result;
  if (fields.ResultSelector !== undefined && flow.errorOutput === undefined) {
    result = applyPayloadTemplate(fields.ResultSelector, jsonPathScope(result, scope));
  }
  const assigned =
    fields.Assign === undefined
      ? undefined
      : (applyPayloadTemplate(fields.Assign, jsonPathScope(result, scope)) as Variables);
  const placed = applyResultPath(flow.rawInput, fields.ResultPath, result);
  const output =
    fields.OutputPath === null
      ? {}
      : fields.OutputPath === undefined || fields.OutputPath === '$'
        ? placed
        : selectPath(fields.OutputPath, jsonPathScope(placed, scope));
  return { output, assigned };
}

/**
 * A field such as Seconds, TimeoutSeconds, Error or Cause: a literal, a JSONata `{% %}` expression (JSONata
 * states), or its JSONPath `...Path` form. Undefined when the state has neither.
 */
async function fieldValue(
  state: object,
  field: string,
  literalType: 'number' | 'string',
  readPath: (path: string, scope: JsonPathScope, pathField: string) => Json,
  input: Json,
  rawInput: Json,
  scope: StateScope,
): Promise<Json | undefined> {
  const fields = state as Record<string, unknown>;
  const literal = fields[field];
  const path = fields[`${field}Path`];
  if (typeof literal === 'string' && scope.queryLanguage === 'JSONata') {
    return evaluateJsonataTemplate(literal, jsonataScope(scope, { input: rawInput }), field);
  }
  if (typeof literal === literalType) return literal as Json;
  if (typeof path === 'string') return readPath(path, jsonPathScope(input, scope), `${field}Path`);
  return undefined;
}

function invalidField(field: string, expected: string, value: Json, scope: StateScope): StatesError {
  const error = scope.queryLanguage === 'JSONata' ? 'States.QueryEvaluationError' : 'States.Runtime';
  return new StatesError(
    error,
    `The value for the field '${field}' must be ${expected}, got ${JSON.stringify(value)}`,
  );
}

/** A number field (Seconds, TimeoutSeconds, MaxConcurrency, ...); its `...Path` form is a plain path. */
export async function evaluateNumberField(
  state: object,
  field: string,
  input: Json,
  rawInput: Json,
  scope: StateScope,
): Promise<number | undefined> {
  const value = await fieldValue(state, field, 'number', selectPath, input, rawInput, scope);
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalidField(field, 'a positive number', value, scope);
  }
  return value;
}

/** A string field (Timestamp, Error, Cause); ErrorPath and CausePath may also hold an intrinsic function. */
export async function evaluateStringField(
  state: object,
  field: string,
  input: Json,
  rawInput: Json,
  scope: StateScope,
): Promise<string | undefined> {
  const value = await fieldValue(state, field, 'string', evaluatePathOrIntrinsic, input, rawInput, scope);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidField(field, 'a string', value, scope);
  return value;
}

/**
 * ErrorPath/CausePath take an intrinsic function too. A path that matches nothing fails naming the field
 * (`ErrorPath`), as AWS's cause does.
 */
function evaluatePathOrIntrinsic(expression: string, scope: JsonPathScope, pathField: string): Json {
  if (isIntrinsicFunction(expression)) return evaluateIntrinsic(expression, scope);
  const outcome = evaluatePath(expression, scope);
  if (outcome.kind === 'value') return outcome.value;
  if (outcome.kind === 'pastEnd') return null;
  throw new StatesError(
    'States.Runtime',
    `The JSONPath '${expression}' specified for the field '${pathField}' could not be found in the input '${JSON.stringify(scope.input)}'`,
  );
}

type MapSetting = 'MaxConcurrency' | 'ToleratedFailureCount' | 'ToleratedFailurePercentage';

/**
 * A Map setting: a literal, a JSONata expression, or its `...Path` form. Through a path AWS takes a number or
 * a string that spells one (a variable holding "1" is a MaxConcurrency of 1) and fails anything else, with
 * its own wording (`The MaxConcurrencyPath field refers to value "x" which is not a valid integer: $.m`,
 * `ToleratedFailureCount cannot be negative.`).
 */
export async function evaluateMapSetting(
  state: object,
  field: MapSetting,
  rawInput: Json,
  scope: StateScope,
): Promise<number | undefined> {
  const path = (state as Record<string, unknown>)[`${field}Path`];
  if (typeof path !== 'string' || scope.queryLanguage === 'JSONata') {
    return evaluateNumberField(state, field, rawInput, rawInput, scope);
  }
  const value = selectPath(path, jsonPathScope(rawInput, scope));
  const kind = field === 'ToleratedFailurePercentage' ? 'float' : 'integer';
  const number = numberSpelled(value, kind);
  if (number === undefined) {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    throw new StatesError(
      'States.Runtime',
      `The ${field}Path field refers to value "${text}" which is not a valid ${kind}: ${path}`,
    );
  }
  if (field === 'ToleratedFailurePercentage' && (number < 0 || number > 100)) {
    throw new StatesError('States.Runtime', 'ToleratedFailurePercentage must be between 0 and 100.');
  }
  // AWS's wording for a negative count; for a negative MaxConcurrency it is a guess (AWS's recorded run
  // with MaxConcurrencyPath at -1 never got past ExecutionStarted).
  if (number < 0) throw new StatesError('States.Runtime', `${field} cannot be negative.`);
  return number;
}

const INTEGER_TEXT = /^[+-]?\d+$/;
const FLOAT_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function numberSpelled(value: Json, kind: 'integer' | 'float'): number | undefined {
  if (typeof value === 'number') return kind === 'float' || Number.isSafeInteger(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const spelled = (kind === 'integer' ? INTEGER_TEXT : FLOAT_TEXT).test(value);
  return spelled ? Number(value) : undefined;
}

/** Applies an Assign result on top of the variables the branch sees. */
export function assignVariables(variables: Variables, assigned: Variables | undefined): Variables {
  if (assigned === undefined) return variables;
  return { ...variables, ...assigned };
}

function dropUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

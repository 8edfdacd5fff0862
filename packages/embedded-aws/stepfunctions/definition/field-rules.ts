import type { QueryLanguage, StateType } from './types.ts';

/**
 * Which fields each state type accepts, split by the query language they belong to. A field in neither list
 * is refused as "not supported"; a field in the other language's list is refused with AWS's query-language
 * message instead.
 *
 * @example
 * STATE_FIELDS.Wait.JSONPath.has('SecondsPath') // true
 * STATE_FIELDS.Wait.JSONata.has('SecondsPath')  // false
 */
export const STATE_TYPES: readonly StateType[] = [
  'Task',
  'Pass',
  'Choice',
  'Wait',
  'Succeed',
  'Fail',
  'Parallel',
  'Map',
];

type FieldsByLanguage = Readonly<Record<QueryLanguage, ReadonlySet<string>>>;

const COMMON = ['Type', 'Comment', 'QueryLanguage'];
const TRANSITION = ['Next', 'End'];
const JSONPATH_IO = ['InputPath', 'OutputPath'];
const ERROR_HANDLING = ['Retry', 'Catch'];

function fields(
  shared: readonly string[],
  jsonPath: readonly string[],
  jsonata: readonly string[],
): FieldsByLanguage {
  return { JSONPath: new Set([...shared, ...jsonPath]), JSONata: new Set([...shared, ...jsonata]) };
}

export const STATE_FIELDS: Readonly<Record<StateType, FieldsByLanguage>> = {
  Pass: fields(
    [...COMMON, ...TRANSITION, 'Assign'],
    [...JSONPATH_IO, 'Result', 'ResultPath', 'Parameters'],
    ['Output'],
  ),
  Task: fields(
    [
      ...COMMON,
      ...TRANSITION,
      ...ERROR_HANDLING,
      'Assign',
      'Resource',
      'TimeoutSeconds',
      'HeartbeatSeconds',
      'Credentials',
    ],
    [
      ...JSONPATH_IO,
      'Parameters',
      'ResultSelector',
      'ResultPath',
      'TimeoutSecondsPath',
      'HeartbeatSecondsPath',
    ],
    ['Arguments', 'Output'],
  ),
  Choice: fields([...COMMON, 'Choices', 'Default', 'Assign'], JSONPATH_IO, ['Output']),
  Wait: fields(
    [...COMMON, ...TRANSITION, 'Assign', 'Seconds', 'Timestamp'],
    [...JSONPATH_IO, 'SecondsPath', 'TimestampPath'],
    ['Output'],
  ),
  Succeed: fields(COMMON, JSONPATH_IO, ['Output']),
  Fail: fields([...COMMON, 'Error', 'Cause'], ['ErrorPath', 'CausePath'], []),
  Parallel: fields(
    [...COMMON, ...TRANSITION, ...ERROR_HANDLING, 'Assign', 'Branches'],
    [...JSONPATH_IO, 'Parameters', 'ResultSelector', 'ResultPath'],
    ['Arguments', 'Output'],
  ),
  Map: fields(
    [
      ...COMMON,
      ...TRANSITION,
      ...ERROR_HANDLING,
      'Assign',
      'ItemProcessor',
      'Iterator',
      'ItemSelector',
      'ItemReader',
      'ItemBatcher',
      'ResultWriter',
      'MaxConcurrency',
      'ToleratedFailurePercentage',
      'ToleratedFailureCount',
      'Label',
    ],
    [
      ...JSONPATH_IO,
      'ItemsPath',
      'Parameters',
      'ResultSelector',
      'ResultPath',
      'MaxConcurrencyPath',
      'ToleratedFailurePercentagePath',
      'ToleratedFailureCountPath',
    ],
    ['Items', 'Output'],
  ),
};

/** Fields of a Retry entry (the same in both query languages). */
export const RETRIER_FIELDS: ReadonlySet<string> = new Set([
  'ErrorEquals',
  'IntervalSeconds',
  'MaxAttempts',
  'BackoffRate',
  'MaxDelaySeconds',
  'JitterStrategy',
  'Comment',
]);

export const CATCHER_FIELDS: FieldsByLanguage = fields(
  ['ErrorEquals', 'Next', 'Comment', 'Assign'],
  ['ResultPath'],
  ['Output'],
);

/** Fields of a nested machine: Parallel's Branches and Map's ItemProcessor/Iterator. */
export const BRANCH_FIELDS: ReadonlySet<string> = new Set(['StartAt', 'States', 'Comment']);
export const PROCESSOR_FIELDS: ReadonlySet<string> = new Set([
  'StartAt',
  'States',
  'Comment',
  'ProcessorConfig',
]);

export const TOP_LEVEL_FIELDS: ReadonlySet<string> = new Set([
  'Comment',
  'StartAt',
  'States',
  'TimeoutSeconds',
  'Version',
  'QueryLanguage',
]);

const COMPARISONS = ['Equals', 'LessThan', 'GreaterThan', 'LessThanEquals', 'GreaterThanEquals'];

/** The operand a data-test operator compares with, which decides the JSON type its literal must have. */
export type OperandKind = 'string' | 'number' | 'boolean' | 'timestamp' | 'path' | 'pattern';

/**
 * Every Choice comparison operator with the type of its operand.
 *
 * @example
 * CHOICE_OPERATORS.get('NumericLessThanPath') // 'path'
 */
export const CHOICE_OPERATORS: ReadonlyMap<string, OperandKind> = new Map<string, OperandKind>([
  ...COMPARISONS.flatMap((comparison): [string, OperandKind][] => [
    [`String${comparison}`, 'string'],
    [`String${comparison}Path`, 'path'],
    [`Numeric${comparison}`, 'number'],
    [`Numeric${comparison}Path`, 'path'],
    [`Timestamp${comparison}`, 'timestamp'],
    [`Timestamp${comparison}Path`, 'path'],
  ]),
  ['StringMatches', 'pattern'],
  ['BooleanEquals', 'boolean'],
  ['BooleanEqualsPath', 'path'],
  ['IsNull', 'boolean'],
  ['IsPresent', 'boolean'],
  ['IsNumeric', 'boolean'],
  ['IsString', 'boolean'],
  ['IsBoolean', 'boolean'],
  ['IsTimestamp', 'boolean'],
]);

/** Fields whose value is a Reference Path (one node, no wildcards or filters). */
export const REFERENCE_PATH_FIELDS: ReadonlySet<string> = new Set([
  'ResultPath',
  'ItemsPath',
  'SecondsPath',
  'TimestampPath',
  'TimeoutSecondsPath',
  'HeartbeatSecondsPath',
  'MaxConcurrencyPath',
  'ToleratedFailurePercentagePath',
  'ToleratedFailureCountPath',
]);

/** Fields whose value is a Path, where AWS also allows filters and wildcards. */
export const PATH_FIELDS: ReadonlySet<string> = new Set(['InputPath', 'OutputPath']);

/** Fields holding a payload template, where `.$` keys are evaluated (JSONPath states). */
export const PAYLOAD_TEMPLATE_FIELDS: ReadonlySet<string> = new Set([
  'Parameters',
  'ResultSelector',
  'ItemSelector',
  'Assign',
  'Credentials',
]);

// Fields AWS never reads as JSONata even in a JSONata state: names, identifiers and error names; and the
// structures the validator walks on their own (rules, catchers, nested machines).
const NOT_JSONATA = new Set([
  'Type',
  'Comment',
  'QueryLanguage',
  'Next',
  'End',
  'Default',
  'Resource',
  'Label',
  'Credentials',
  'Retry',
  'Catch',
  'Choices',
  'Branches',
  'ItemProcessor',
  'Iterator',
]);

/** Whether a JSONata state's field may carry `{% %}` expressions that must parse. */
export function isJsonataField(field: string): boolean {
  return !NOT_JSONATA.has(field);
}

/** The largest values AWS documents for Retry fields and timeouts. */
export const LIMITS = {
  maxAttempts: 99999999,
  intervalSeconds: 99999999,
  maxDelaySeconds: 31622400,
  timeoutSeconds: 99999999,
  stateNameLength: 80,
} as const;

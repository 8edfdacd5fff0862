import { isIntrinsicCall, isJsonataTemplate, isReferencePath } from './expression-syntax.ts';
import { CHOICE_OPERATORS, type OperandKind } from './field-rules.ts';
import type { JsonPointer } from './json-source.ts';
import type { ProblemList } from './problems.ts';
import type { QueryLanguage } from './types.ts';

type JsonRecord = { readonly [key: string]: unknown };

const COMBINATORS = ['And', 'Or', 'Not'] as const;
const JSONATA_RULE_FIELDS = new Set(['Condition', 'Next', 'Comment', 'Output', 'Assign']);
const JSONPATH_ONLY_RULE_FIELDS = new Set(['Variable', ...COMBINATORS, ...CHOICE_OPERATORS.keys()]);

// RFC 3339 as the ASL narrows it: an uppercase T, and Z or a numeric offset.
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Whether a string is a timestamp the States Language accepts. */
export function isTimestamp(value: string): boolean {
  return TIMESTAMP.test(value) && !Number.isNaN(Date.parse(value));
}

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks one entry of a Choice state's `Choices`, and through And/Or/Not the rules nested in it. Only the
 * entries of `Choices` themselves (`topLevel`) carry Next and Assign; a nested rule carrying them is refused.
 *
 * @example
 * checkChoiceRule({ Variable: '$.n', NumericEquals: 1, Next: 'A' }, ['States', 'C', 'Choices', 0], true, 'JSONPath', problems);
 */
export function checkChoiceRule(
  rule: unknown,
  at: JsonPointer,
  topLevel: boolean,
  language: QueryLanguage,
  problems: ProblemList,
): void {
  if (!isRecord(rule)) {
    problems.expectedType('OBJECT', at);
    return;
  }
  if (topLevel && !('Next' in rule)) problems.required(['Next'], at);
  if (topLevel && 'Next' in rule && typeof rule.Next !== 'string')
    problems.expectedType('STRING', [...at, 'Next']);
  if (language === 'JSONata') {
    checkJsonataRule(rule, at, topLevel, problems);
    return;
  }
  checkJsonPathRule(rule, at, topLevel, problems);
}

function checkJsonataRule(rule: JsonRecord, at: JsonPointer, topLevel: boolean, problems: ProblemList): void {
  for (const field of Object.keys(rule)) {
    if (JSONPATH_ONLY_RULE_FIELDS.has(field)) {
      problems.schema(
        `The QueryLanguage is set to 'JSONata', but field '${field}' is only supported for the 'JSONPath' QueryLanguage`,
        at,
      );
    } else if (
      !JSONATA_RULE_FIELDS.has(field) ||
      (!topLevel && field !== 'Comment' && field !== 'Condition')
    ) {
      problems.unsupported(field, at);
    }
  }
  if (!('Condition' in rule)) {
    problems.required(['Condition'], at);
  } else if (typeof rule.Condition !== 'boolean' && !isJsonataTemplate(rule.Condition)) {
    // A literal that is not a boolean can never decide the branch; AWS wants a boolean or an expression.
    problems.schema("The value of the field 'Condition' must be a boolean or a JSONata expression", [
      ...at,
      'Condition',
    ]);
  }
}

function checkJsonPathRule(
  rule: JsonRecord,
  at: JsonPointer,
  topLevel: boolean,
  problems: ProblemList,
): void {
  const combinators = COMBINATORS.filter((name) => name in rule);
  const operators = Object.keys(rule).filter((field) => CHOICE_OPERATORS.has(field));
  for (const field of Object.keys(rule)) {
    if (CHOICE_OPERATORS.has(field) || (COMBINATORS as readonly string[]).includes(field)) continue;
    if (field === 'Variable' || field === 'Comment') continue;
    if (topLevel && (field === 'Next' || field === 'Assign')) continue;
    if (field === 'Condition' || field === 'Output') {
      problems.schema(
        `The QueryLanguage is set to 'JSONPath', but field '${field}' is only supported for the 'JSONata' QueryLanguage`,
        at,
      );
      continue;
    }
    problems.unsupported(field, at);
  }

  const choices = [...combinators, ...operators];
  if (choices.length === 0) {
    // Guessed wording: AWS's message for a rule with no operator at all was not found in public reports.
    problems.schema(
      `A Choice rule must have exactly one of the following fields: [And, Or, Not] or a comparison operator`,
      at,
    );
    return;
  }
  if (choices.length > 1) {
    problems.onlyOneOf(choices, at);
    return;
  }

  const combinator = combinators[0];
  if (combinator !== undefined) {
    if ('Variable' in rule) problems.unsupported('Variable', at);
    checkCombinator(combinator, rule[combinator], [...at, combinator], problems);
    return;
  }

  const operator = operators[0]!;
  if (!('Variable' in rule)) problems.required(['Variable'], at);
  else checkReferencePath(rule.Variable, 'Variable', [...at, 'Variable'], problems);
  checkOperand(operator, CHOICE_OPERATORS.get(operator)!, rule[operator], [...at, operator], problems);
}

function checkCombinator(
  name: 'And' | 'Or' | 'Not',
  value: unknown,
  at: JsonPointer,
  problems: ProblemList,
): void {
  if (name === 'Not') {
    checkChoiceRule(value, at, false, 'JSONPath', problems);
    return;
  }
  if (!Array.isArray(value)) {
    problems.expectedType('ARRAY', at);
    return;
  }
  if (value.length === 0) problems.schema('Value cannot be empty', at);
  value.forEach((nested, index) => {
    checkChoiceRule(nested, [...at, index], false, 'JSONPath', problems);
  });
}

function checkOperand(
  operator: string,
  kind: OperandKind,
  value: unknown,
  at: JsonPointer,
  problems: ProblemList,
): void {
  switch (kind) {
    case 'path':
      checkReferencePath(value, operator, at, problems);
      return;
    case 'number':
      if (typeof value !== 'number') problems.expectedType('NUMBER', at);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') problems.expectedType('BOOLEAN', at);
      return;
    case 'timestamp':
      if (typeof value !== 'string') problems.expectedType('STRING', at);
      else if (!isTimestamp(value))
        problems.schema(`The value for the field '${operator}' must be a valid timestamp`, at);
      return;
    case 'pattern':
    case 'string':
      if (typeof value !== 'string') problems.expectedType('STRING', at);
      return;
  }
}

function checkReferencePath(value: unknown, field: string, at: JsonPointer, problems: ProblemList): void {
  if (typeof value !== 'string') {
    problems.expectedType('STRING', at);
  } else if (isIntrinsicCall(value) || !isReferencePath(value)) {
    problems.schema(`The value for the field '${field}' must be a valid JSONPath`, at);
  }
}

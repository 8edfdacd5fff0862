import jsonata from 'jsonata';
import { parseIntrinsic } from '../language/intrinsics.ts';
import { isValidPath, isValidReferencePath } from '../language/json-path.ts';

/**
 * The syntax checks the validator needs from the language modules, in one place so the validator reads in
 * the domain's terms (a path, an intrinsic call, a JSONata template) and never handles their exceptions.
 *
 * @example
 * isPath('$.a[*]')           // true
 * isReferencePath('$.a[*]')  // false: a reference path names one node
 * intrinsicProblem('States.Format(')  // the parser's complaint, or undefined when the call is well formed
 */
export function isPath(path: string): boolean {
  return isValidPath(path);
}

export function isReferencePath(path: string): boolean {
  return isValidReferencePath(path);
}

/** Intrinsic calls start with `States.`; anything else in a `.$` field is a path. */
export function isIntrinsicCall(expression: string): boolean {
  return expression.startsWith('States.');
}

export function intrinsicProblem(expression: string): string | undefined {
  try {
    parseIntrinsic(expression);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * AWS's INVALID_JSONATA_EXPRESSION message is the parser's, without JSONata's `S0201: ` style code.
 *
 * Fallback: `../language/jsonata.ts` (`checkJsonataSyntax`) did not exist when this was written, so the
 * expression is compiled with the jsonata package directly; switch to `checkJsonataSyntax(template, field)`
 * once it lands. `field` is kept for that call.
 */
export function jsonataProblem(template: string, _field: string): string | undefined {
  try {
    jsonata(template.slice(2, -2));
    return undefined;
  } catch (error) {
    const message =
      typeof error === 'object' && error !== null && 'message' in error
        ? String(error.message)
        : String(error);
    return message.replace(/^[A-Z]\d{4}:\s*/, '');
  }
}

/** A JSONata field value is an expression only when the whole string is one `{% ... %}` block. */
export function isJsonataTemplate(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('{%') && value.endsWith('%}') && value.length >= 4;
}

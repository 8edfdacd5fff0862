import type { JsonPointer } from './json-source.ts';

/** One reason a definition is refused, as ValidateStateMachineDefinition reports it in `diagnostics`. */
export interface DefinitionProblem {
  readonly code: string;
  readonly message: string;
  /** `/States/Name/Field`; `''` when AWS gives none (MISSING_END_STATE, a definition that is not an object). */
  readonly location: string;
}

export const SCHEMA_VALIDATION_FAILED = 'SCHEMA_VALIDATION_FAILED';

/**
 * The location AWS prints: object keys as `/Key`, array indexes as `[i]`, the root as `/`.
 *
 * @example
 * locate(['States', 'P', 'Branches', 0, 'States', 'B']) // '/States/P/Branches[0]/States/B'
 */
export function locate(pointer: JsonPointer): string {
  if (pointer.length === 0) return '/';
  return pointer.map((segment) => (typeof segment === 'number' ? `[${segment}]` : `/${segment}`)).join('');
}

/**
 * Collects problems in the order they are found, which is the order AWS lists them in its message.
 *
 * @example
 * const problems = new ProblemList();
 * problems.schema('Field \'Foo\' is not supported', ['States', 'A']);
 */
export class ProblemList {
  readonly items: DefinitionProblem[] = [];

  add(code: string, message: string, at: JsonPointer | null): void {
    this.items.push({ code, message, location: at === null ? '' : locate(at) });
  }

  schema(message: string, at: JsonPointer | null): void {
    this.add(SCHEMA_VALIDATION_FAILED, message, at);
  }

  required(fields: readonly string[], at: JsonPointer): void {
    this.schema(`These fields are required: [${fields.join(', ')}]`, at);
  }

  unsupported(field: string, at: JsonPointer): void {
    this.schema(`Field '${field}' is not supported`, at);
  }

  onlyOneOf(fields: readonly string[], at: JsonPointer): void {
    this.schema(`There should only be one of the following fields: [${fields.join(', ')}]`, at);
  }

  expectedType(
    type: 'STRING' | 'INTEGER' | 'NUMBER' | 'BOOLEAN' | 'OBJECT' | 'ARRAY',
    at: JsonPointer,
  ): void {
    this.schema(`Expected value of type [${type}]`, at);
  }

  oneOfValues(values: readonly string[], at: JsonPointer): void {
    this.schema(`Value should be one of the following: [${values.join(', ')}]`, at);
  }
}

/**
 * A state machine's definition (Amazon States Language), as far as the console reads it: the states and how
 * they lead to each other, for the graph, and what each Fail state declares, for the history.
 *
 * @example
 * const definition = parseDefinition(described.definition);
 * failStatesOf(definition).get('VendFailed'); // { error: 'VendFailed', cause: 'The customer was charged …' }
 */

/** The parts of the States Language the console reads. */
export interface StatesDefinition {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, StateDefinition>>;
}

export interface StateDefinition {
  readonly Type: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Default?: string;
  readonly Choices?: readonly ChoiceRule[];
  readonly Catch?: readonly { readonly ErrorEquals?: readonly string[]; readonly Next?: string }[];
  readonly Branches?: readonly StatesDefinition[];
  readonly ItemProcessor?: StatesDefinition;
  readonly Iterator?: StatesDefinition;
  readonly Resource?: string;
  readonly Error?: string;
  readonly ErrorPath?: string;
  readonly Cause?: string;
  readonly Seconds?: number | string;
  readonly SecondsPath?: string;
  readonly Timestamp?: string;
  readonly TimestampPath?: string;
}

export interface ChoiceRule {
  readonly Next?: string;
  readonly Variable?: string;
  readonly Condition?: string;
  readonly And?: readonly ChoiceRule[];
  readonly Or?: readonly ChoiceRule[];
  readonly Not?: ChoiceRule;
  readonly [comparison: string]: unknown;
}

export function parseDefinition(definition: string): StatesDefinition {
  const parsed = JSON.parse(definition) as Partial<StatesDefinition>;
  if (typeof parsed?.StartAt !== 'string' || parsed.States === null || typeof parsed.States !== 'object') {
    throw new Error('The definition has no StartAt or States');
  }
  return parsed as StatesDefinition;
}

/** Every Fail state's declared Error and Cause, nested ones (in branches and item processors) included. */
export function failStatesOf(
  definition: StatesDefinition,
): Map<string, { readonly error: string | null; readonly cause: string | null }> {
  const found = new Map<string, { readonly error: string | null; readonly cause: string | null }>();
  const walk = (states: StatesDefinition) => {
    for (const [name, state] of Object.entries(states.States)) {
      if (state.Type === 'Fail') found.set(name, { error: state.Error ?? null, cause: state.Cause ?? null });
      for (const branch of state.Branches ?? []) walk(branch);
      const inner = state.ItemProcessor ?? state.Iterator;
      if (inner !== undefined) walk(inner);
    }
  };
  walk(definition);
  return found;
}

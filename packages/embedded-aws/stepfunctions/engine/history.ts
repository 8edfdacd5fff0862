/**
 * Execution history events, shaped as GetExecutionHistory returns them on AWS.
 *
 * Every event has an `id` (1, 2, 3 ... per execution), a `previousEventId` that points at the event before
 * it in the same branch (Parallel branches and Map iterations each keep their own chain), a timestamp, and
 * one `<camelCaseType>EventDetails` object whose key derives from the event type.
 */

export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  /** Epoch milliseconds; the API layer turns it into a Date. */
  readonly timestamp: number;
  readonly type: string;
  readonly [detailsKey: string]: unknown;
}

/** `TaskStateEntered` → `stateEnteredEventDetails`; the per-type keys AWS uses. */
export function detailsKeyFor(type: string): string | undefined {
  // Every event asks; there are only a few dozen types, so each is worked out once.
  if (DETAILS_KEYS.has(type)) return DETAILS_KEYS.get(type);
  const key = type.endsWith('StateEntered')
    ? 'stateEnteredEventDetails'
    : type.endsWith('StateExited')
      ? 'stateExitedEventDetails'
      : OWN_DETAILS.has(type)
        ? OWN_DETAILS.get(type)
        : `${type[0]!.toLowerCase()}${type.slice(1)}EventDetails`;
  DETAILS_KEYS.set(type, key);
  return key;
}

const DETAILS_KEYS = new Map<string, string | undefined>();

/** Event types whose details sit under a key that is not simply the camel-cased type, or that have none. */
const OWN_DETAILS = new Map<string, string | undefined>([
  ['ParallelStateStarted', undefined],
  ['ParallelStateSucceeded', undefined],
  ['ParallelStateAborted', undefined],
  ['ParallelStateFailed', undefined],
  ['MapStateSucceeded', undefined],
  ['MapStateAborted', undefined],
  ['MapStateFailed', undefined],
  ['MapIterationStarted', 'mapIterationStartedEventDetails'],
  ['MapIterationSucceeded', 'mapIterationSucceededEventDetails'],
  ['MapIterationFailed', 'mapIterationFailedEventDetails'],
  ['MapIterationAborted', 'mapIterationAbortedEventDetails'],
  ['MapRunSucceeded', undefined],
  ['MapRunAborted', undefined],
  ['WaitStateAborted', undefined],
]);

/** The `{ truncated }` companion AWS attaches to every input/output string in the history. */
export const NOT_TRUNCATED = Object.freeze({ truncated: false });

/** A failure event's details: AWS leaves out an empty error or cause rather than recording "". */
export function errorDetails(error: string | undefined, cause: string | undefined): Record<string, string> {
  const details: Record<string, string> = {};
  if (error !== undefined && error !== '') details.error = error;
  if (cause !== undefined && cause !== '') details.cause = cause;
  return details;
}

/** History input/output strings are JSON text without extra spaces, as AWS records them. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/**
 * A JSON payload held in a history event as a value, not as text. Histories are read far less often than
 * they are written, so the text AWS shows (`"input": "{\"a\":1}"`) is made only when an event is served
 * (`renderHistoryEvent`); the journal stores the value as plain nested JSON.
 */
export interface JsonPayload {
  readonly $json: unknown;
}

export function jsonPayload(value: unknown): JsonPayload {
  return { $json: value ?? null };
}

function isJsonPayload(value: unknown): value is JsonPayload {
  return value !== null && typeof value === 'object' && '$json' in value;
}

/** The text of a payload field, whether it holds a JsonPayload or (from older journals) a string. */
export function payloadText(value: unknown): string | undefined {
  if (isJsonPayload(value)) return jsonText(value.$json);
  return typeof value === 'string' ? value : undefined;
}

/** The event as GetExecutionHistory returns it: every payload as JSON text. */
export function renderHistoryEvent(event: HistoryEvent): HistoryEvent {
  const rendered: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    if (!key.endsWith('EventDetails') || value === null || typeof value !== 'object') {
      rendered[key] = value;
      continue;
    }
    const details: Record<string, unknown> = {};
    for (const [field, fieldValue] of Object.entries(value)) {
      if (isJsonPayload(fieldValue)) details[field] = jsonText(fieldValue.$json);
      else if (field === 'assignedVariables' && fieldValue !== null && typeof fieldValue === 'object') {
        details[field] = Object.fromEntries(
          Object.entries(fieldValue).map(([name, assigned]) => [
            name,
            payloadText(assigned) ?? jsonText(assigned),
          ]),
        );
      } else details[field] = fieldValue;
    }
    rendered[key] = details;
  }
  return rendered as HistoryEvent;
}

/**
 * Keeps only what `includeExecutionData: false` allows: AWS drops inputs, outputs, parameters and
 * assigned variables from the details but keeps names, errors and resource identifiers.
 */
export function withoutExecutionData(event: HistoryEvent): HistoryEvent {
  const copy: Record<string, unknown> = { ...event };
  for (const [key, value] of Object.entries(event)) {
    if (!key.endsWith('EventDetails') || value === null || typeof value !== 'object') continue;
    const details: Record<string, unknown> = {};
    for (const [field, fieldValue] of Object.entries(value)) {
      if (DATA_FIELDS.has(field)) continue;
      details[field] = fieldValue;
    }
    copy[key] = details;
  }
  return copy as HistoryEvent;
}

const DATA_FIELDS = new Set([
  'input',
  'inputDetails',
  'output',
  'outputDetails',
  'parameters',
  'assignedVariables',
  'assignedVariablesDetails',
]);

/**
 * The 256 KiB payload quota: AWS's "Maximum input or output size for a task, state, or execution" is 256 KiB
 * of data as a UTF-8 encoded string (the API reference's length constraint on every payload member:
 * 262,144 bytes). A state whose result or output is larger fails with `States.DataLimitExceeded`, whose cause
 * AWS words as below (the same sentence in every recorded failure; it names the state, or for a Task's own
 * result the task's resource).
 *
 * Execution input and SendTaskSuccess output over the quota never get this far: the request layer refuses
 * them (see `api/requests.ts`).
 */
import { StateFailure } from './state-failures.ts';

/** The quota, in UTF-8 bytes of the payload's JSON text. */
export const MAX_PAYLOAD_BYTES = 262_144;

/** Whether a payload's JSON text is over the quota in UTF-8 bytes (exactly 262,144 bytes is not). */
export function exceedsPayloadLimit(value: unknown): boolean {
  const text = JSON.stringify(value ?? null);
  // A UTF-16 unit is at most 3 UTF-8 bytes: most payloads are settled without counting bytes.
  if (text.length * 3 <= MAX_PAYLOAD_BYTES) return false;
  if (text.length > MAX_PAYLOAD_BYTES) return true;
  return Buffer.byteLength(text, 'utf8') > MAX_PAYLOAD_BYTES;
}

/** The cause AWS gives, e.g. "The state/task 'Uppers' returned a result with a size exceeding …". */
export function dataLimitCause(stateOrTask: string): string {
  return `The state/task '${stateOrTask}' returned a result with a size exceeding the maximum number of bytes service limit.`;
}

/**
 * A Task whose Parameters or Arguments come to more than the quota: it fails before it is scheduled, as the
 * quota covers a task's input too. No recorded AWS history shows this case; the cause follows the shape of
 * the recorded one for results.
 */
export function inputLimitExceeded(state: string): StateFailure {
  return new StateFailure(
    'States.DataLimitExceeded',
    `The state/task '${state}' has an input with a size exceeding the maximum number of bytes service limit.`,
  );
}

/** The failure, final as it is (no data-flow prefix is added to its cause). */
export function dataLimitExceeded(stateOrTask: string): StateFailure {
  return new StateFailure('States.DataLimitExceeded', dataLimitCause(stateOrTask));
}

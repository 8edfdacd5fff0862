/**
 * What the console never shows, though histories hold it: the payment token, which stands for the
 * customer's card (it is in the execution's input and the Charge step's parameters), and task tokens (in the
 * Vend and AwaitDecision steps' parameters), which let whoever holds one end the step it belongs to: the
 * console hands decisions over itself. Nothing an operator does needs either, and a console page is easily
 * shared or screenshotted.
 *
 * @example
 * redactJsonText('{"paymentId":"pay_1","paymentToken":"tok_visa"}'); // '{"paymentId":"pay_1","paymentToken":"[redacted]"}'
 */

/** Object keys whose values are replaced, wherever they are nested. */
export const REDACTED_KEYS: ReadonlySet<string> = new Set(['paymentToken', 'taskToken']);

export const REDACTED = '[redacted]';

/** `text` (JSON, as history events and DescribeExecution hold it) with the redacted keys' values replaced. */
export function redactJsonText(text: string): string {
  if (![...REDACTED_KEYS].some((key) => text.includes(key))) return text;
  try {
    return JSON.stringify(redactValue(JSON.parse(text)));
  } catch {
    // Truncated or not JSON: replace what looks like such a key's string value.
    let redacted = text;
    for (const key of REDACTED_KEYS) {
      redacted = redacted.replace(
        new RegExp(`("${key}"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"?`, 'g'),
        `$1"${REDACTED}"`,
      );
    }
    return redacted;
  }
}

function redactValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactValue);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, nested]) => [
      key,
      REDACTED_KEYS.has(key) && nested !== null ? REDACTED : redactValue(nested),
    ]),
  );
}

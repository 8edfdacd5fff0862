/**
 * Test helpers for the simulators: an HTTP call that returns status, headers and the body both raw and
 * parsed, so tests can compare replays byte for byte.
 */

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read fields of whatever JSON came back
  readonly json: any;
}

/**
 * POSTs `body` as JSON (a string is sent as given) and reads the whole answer.
 *
 * @example
 * const answer = await postJson(`${gatewayUrl}/v1/charges`, charge, { 'Idempotency-Key': 'pay_1' });
 */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<HttpAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
  return read(response);
}

/** GETs `url` and reads the whole answer. */
export async function getJson(url: string): Promise<HttpAnswer> {
  return read(await fetch(url));
}

async function read(response: Response): Promise<HttpAnswer> {
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

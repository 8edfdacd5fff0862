/**
 * HTTP/1.1 over a bare TCP socket, byte for byte as the fuzzer writes it: repeated headers, CR and LF inside
 * values, lying lengths and non-ASCII bytes all go out as they are (node:http and fetch would refuse or mend
 * them). One request per connection, so a request the server cannot parse spoils nothing after it.
 *
 * @example
 * const bytes = requestBytes({ method: 'GET', target: '/health', headers: [] }, '127.0.0.1:3000');
 * const answer = await exchange({ port: 3000, bytes, timeoutMs: 5_000 });
 */
import { connect, type Socket } from 'node:net';

export type HeaderValue = string | Buffer;

export interface RawRequest {
  readonly method: string;
  /** The request target as sent: path and query, already encoded (or deliberately not). */
  readonly target: string;
  /** In order, repeats kept. Host and Connection are added unless given. */
  readonly headers: ReadonlyArray<readonly [string, HeaderValue]>;
  /** Sent with a Content-Length of its size unless the headers give one or Transfer-Encoding. */
  readonly body?: Buffer;
  /** Sent as chunked transfer encoding instead of `body`. */
  readonly chunks?: readonly Buffer[];
  /** No Host header at all. */
  readonly omitHost?: boolean;
}

export interface HttpAnswer {
  readonly status: number;
  /** Lower-cased names; repeats joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  readonly head: string;
  readonly body: Buffer;
}

export type Exchange =
  | {
      readonly outcome: 'answered';
      readonly answer: HttpAnswer;
      readonly socket?: Socket;
      readonly rest: Buffer;
    }
  | { readonly outcome: 'closed'; readonly received: Buffer }
  | { readonly outcome: 'timed-out'; readonly received: Buffer };

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** The bytes of `request`, addressed to `host`. */
export function requestBytes(request: RawRequest, host: string): Buffer {
  const names = new Set(request.headers.map(([name]) => name.toLowerCase()));
  const lines: Buffer[] = [Buffer.from(`${request.method} ${request.target} HTTP/1.1\r\n`, 'latin1')];
  const header = (name: string, value: HeaderValue) =>
    lines.push(Buffer.concat([Buffer.from(`${name}: `, 'latin1'), Buffer.from(value), Buffer.from('\r\n')]));
  if (!request.omitHost && !names.has('host')) header('Host', host);
  // Without it the server would wait for a next request on this connection.
  if (!names.has('connection')) header('Connection', 'close');
  for (const [name, value] of request.headers) header(name, value);
  let payload: Buffer = Buffer.alloc(0);
  if (request.chunks !== undefined) {
    if (!names.has('transfer-encoding')) header('Transfer-Encoding', 'chunked');
    payload = Buffer.concat([
      ...request.chunks.flatMap((chunk) => [
        Buffer.from(`${chunk.length.toString(16)}\r\n`),
        chunk,
        Buffer.from('\r\n'),
      ]),
      Buffer.from('0\r\n\r\n'),
    ]);
  } else if (request.body !== undefined) {
    if (!names.has('content-length') && !names.has('transfer-encoding')) {
      header('Content-Length', String(request.body.length));
    }
    payload = request.body;
  }
  lines.push(Buffer.from('\r\n'));
  return Buffer.concat([...lines, payload]);
}

/**
 * Sends `bytes` on a new connection and reads one answer. With `keepOpen`, the socket of a 101 is handed back
 * (with any bytes that came after the head, in `rest`) instead of closed.
 */
export function exchange(options: {
  readonly port: number;
  readonly bytes: Buffer | readonly Buffer[];
  readonly timeoutMs: number;
  readonly head?: boolean;
  readonly keepOpen?: boolean;
}): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect({ port: options.port, host: '127.0.0.1' });
    let received = Buffer.alloc(0);
    let settled = false;
    const settle = (result: Exchange) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners('data');
      if (!(result.outcome === 'answered' && result.socket !== undefined)) socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => settle({ outcome: 'timed-out', received }), options.timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const parsed = parseAnswer(received, { head: options.head === true, ended: false });
      if (parsed === undefined) return;
      const keep = options.keepOpen === true && parsed.answer.status === 101;
      settle({ outcome: 'answered', answer: parsed.answer, rest: parsed.rest, ...(keep ? { socket } : {}) });
    });
    // A server that answers early (413, 431) may close while the rest of the request is still being written.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const parsed = parseAnswer(received, { head: options.head === true, ended: true });
      settle(
        parsed
          ? { outcome: 'answered', answer: parsed.answer, rest: parsed.rest }
          : { outcome: 'closed', received },
      );
    });
    for (const part of Array.isArray(options.bytes) ? options.bytes : [options.bytes]) socket.write(part);
  });
}

/**
 * The answer at the start of `bytes` once it is all there; undefined while more is due. `ended`: the
 * connection closed, so a body without a length ends here.
 */
export function parseAnswer(
  bytes: Buffer,
  options: { head: boolean; ended: boolean },
): { answer: HttpAnswer; rest: Buffer } | undefined {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd === -1) return undefined;
  const head = bytes.subarray(0, headEnd).toString('latin1');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!status) return options.ended || headEnd > MAX_HEAD_BYTES ? malformed(head, bytes) : undefined;
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const code = Number(status[1]);
  const afterHead = bytes.subarray(headEnd + 4);
  const answer = (body: Buffer): HttpAnswer => ({ status: code, headers, head, body });
  if (code === 101 || code === 204 || code === 304 || options.head) {
    return { answer: answer(Buffer.alloc(0)), rest: afterHead };
  }
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const body = dechunk(afterHead);
    if (body) return { answer: answer(body.body), rest: body.rest };
    return options.ended ? { answer: answer(afterHead), rest: Buffer.alloc(0) } : undefined;
  }
  const length = headers['content-length'];
  if (length !== undefined && /^\d+$/.test(length)) {
    const size = Math.min(Number(length), MAX_BODY_BYTES);
    if (afterHead.length >= size)
      return { answer: answer(afterHead.subarray(0, size)), rest: afterHead.subarray(size) };
    return options.ended ? { answer: answer(afterHead), rest: Buffer.alloc(0) } : undefined;
  }
  return options.ended ? { answer: answer(afterHead), rest: Buffer.alloc(0) } : undefined;
}

function malformed(head: string, bytes: Buffer) {
  return { answer: { status: 0, headers: {}, head, body: bytes }, rest: Buffer.alloc(0) };
}

function dechunk(bytes: Buffer): { body: Buffer; rest: Buffer } | undefined {
  const chunks: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at);
    if (lineEnd === -1) return undefined;
    const size = parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) return undefined;
    const start = lineEnd + 2;
    if (size === 0) {
      const end = bytes.indexOf('\r\n', start);
      return end === -1 ? undefined : { body: Buffer.concat(chunks), rest: bytes.subarray(end + 2) };
    }
    if (bytes.length < start + size + 2) return undefined;
    chunks.push(bytes.subarray(start, start + size));
    at = start + size + 2;
  }
}

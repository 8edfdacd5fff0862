/**
 * Many idle connections at once, then none: events sockets opened for real (each gets its payment's history,
 * then nothing more), and a few HTTP requests left half-sent. The server's memory is sampled before, while
 * they are all open, and after they are closed and the server has let go of them; it must come back near
 * where it started.
 *
 * The server runs in this process, so a sample is this process's heap after a forced collection (the
 * fuzzer's own sockets are gone by then too); without one it is the heap as it happens to be, garbage and all.
 */
import { connect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { RealPayment } from './fuzz-case.ts';
import { exchange, requestBytes } from './raw-http.ts';
import { closeFrame } from './raw-websocket.ts';
import { seededRandom } from './seeded-random.ts';

export interface OpenConnections {
  readonly tcp: number;
  readonly websockets: number;
}

export interface MemorySample {
  readonly heapUsed: number;
  readonly rss: number;
}

export interface IdleSocketsReport {
  readonly requested: number;
  readonly opened: number;
  /** Whether samples follow a forced garbage collection. */
  readonly forcedGc: boolean;
  readonly baseline: MemorySample;
  readonly peak: MemorySample;
  readonly after: MemorySample;
  readonly allowedGrowthBytes: number;
  readonly connectionsBefore: OpenConnections;
  readonly connectionsWhileOpen: OpenConnections;
  readonly connectionsAfter: OpenConnections;
  /** What went wrong, one line each. */
  readonly problems: readonly string[];
}

/** One in this many idle connections is a half-sent HTTP request rather than an events socket. */
const HALF_SENT_EVERY = 10;
const OPEN_AT_ONCE = 50;
const RELEASE_WAIT_MS = 10_000;
const SETTLE_MS = 500;
const MIB = 1024 * 1024;

/** The heap may stay this far above its baseline: what the server keeps of a run (caches, pools) is not a leak. */
export function allowedGrowthBytes(baselineHeap: number): number {
  return Math.max(16 * MIB, Math.round(baselineHeap * 0.1));
}

export async function holdIdleSockets(options: {
  readonly port: number;
  readonly host: string;
  readonly allowedOrigin: string;
  readonly payments: readonly RealPayment[];
  readonly count: number;
  readonly seed: number;
  readonly timeoutMs: number;
  readonly openConnections: () => Promise<OpenConnections>;
  readonly allowedGrowthBytes?: number;
}): Promise<IdleSocketsReport> {
  const random = seededRandom(options.seed ^ 0x1d1e);
  const gc = forcedGc();
  const problems: string[] = [];
  await pause(SETTLE_MS);
  const connectionsBefore = await options.openConnections();
  const baseline = sample(gc);

  const held: Array<{ socket: Socket; events: boolean }> = [];
  const failures = new Map<string, number>();
  for (let first = 0; first < options.count; first += OPEN_AT_ONCE) {
    const batch = Array.from(
      { length: Math.min(OPEN_AT_ONCE, options.count - first) },
      (_, offset) => first + offset,
    );
    const opened = await Promise.all(
      batch.map((number) => {
        if (number % HALF_SENT_EVERY === HALF_SENT_EVERY - 1)
          return openHalfSentRequest(options.port, options.host);
        const payment = options.payments[number % options.payments.length]!;
        const target = `/api/payments/${payment.paymentId}/events?token=${encodeURIComponent(payment.statusToken)}`;
        const handshake = requestBytes(
          {
            method: 'GET',
            target,
            headers: [
              ['Connection', 'Upgrade'],
              ['Upgrade', 'websocket'],
              ['Sec-WebSocket-Version', '13'],
              ['Sec-WebSocket-Key', random.bytes(16).toString('base64')],
              ['Origin', options.allowedOrigin],
            ],
          },
          options.host,
        );
        return openEventsSocket(options.port, handshake, options.timeoutMs);
      }),
    );
    for (const result of opened) {
      if (typeof result === 'string') failures.set(result, (failures.get(result) ?? 0) + 1);
      else held.push(result);
    }
  }
  for (const [problem, times] of failures)
    problems.push(`${times} idle connection(s) could not be opened: ${problem}`);

  const connectionsWhileOpen = await options.openConnections();
  await pause(SETTLE_MS);
  const peak = sample(gc);

  const maskKey = random.bytes(4);
  const unclosed = (
    await Promise.all(held.map((each) => closeIdle(each, maskKey, options.timeoutMs)))
  ).filter((closed) => !closed);
  if (unclosed.length > 0)
    problems.push(`${unclosed.length} events socket(s) not closed by the server after a normal close`);

  const released = await waitUntil(async () => {
    const now = await options.openConnections();
    return now.tcp <= connectionsBefore.tcp && now.websockets <= connectionsBefore.websockets;
  }, RELEASE_WAIT_MS);
  const connectionsAfter = await options.openConnections();
  if (!released) {
    problems.push(
      `the server still holds ${connectionsAfter.tcp} TCP and ${connectionsAfter.websockets} WebSocket connection(s) ${RELEASE_WAIT_MS / 1000} s after they closed (before: ${connectionsBefore.tcp} and ${connectionsBefore.websockets})`,
    );
  }
  await pause(SETTLE_MS);
  const after = sample(gc);
  // Without a forced collection the heap holds garbage of any age: a wider margin, or every run would fail.
  const allowed = (options.allowedGrowthBytes ?? allowedGrowthBytes(baseline.heapUsed)) * (gc ? 1 : 3);
  if (after.heapUsed > baseline.heapUsed + allowed) {
    problems.push(
      `the heap stayed at ${mib(after.heapUsed)} after the sockets closed: ${mib(after.heapUsed - baseline.heapUsed)} above its baseline of ${mib(baseline.heapUsed)}, more than the ${mib(allowed)} allowed`,
    );
  }
  return {
    requested: options.count,
    opened: held.length,
    forcedGc: gc !== undefined,
    baseline,
    peak,
    after,
    allowedGrowthBytes: allowed,
    connectionsBefore,
    connectionsWhileOpen,
    connectionsAfter,
    problems,
  };
}

/** An events socket, once its first event (the payment's history) has come: the server holds it then. */
async function openEventsSocket(
  port: number,
  handshake: Buffer,
  timeoutMs: number,
): Promise<{ socket: Socket; events: boolean } | string> {
  const opened = await exchange({ port, bytes: handshake, timeoutMs, keepOpen: true });
  if (opened.outcome !== 'answered') return `the handshake got no answer (${opened.outcome})`;
  const socket = opened.socket;
  if (opened.answer.status !== 101 || socket === undefined)
    return `the handshake was answered ${opened.answer.status}`;
  socket.on('error', () => undefined);
  const firstEvent = opened.rest.length > 0 || (await firstData(socket, timeoutMs));
  // Read and drop what comes, so nothing piles up on either side.
  socket.on('data', () => undefined);
  if (!firstEvent) {
    socket.destroy();
    return 'no event arrived on the socket';
  }
  return { socket, events: true };
}

/** A request line and part of the headers, and then nothing. */
function openHalfSentRequest(
  port: number,
  host: string,
): Promise<{ socket: Socket; events: boolean } | string> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.on('error', () => resolve('could not connect'));
    socket.on('data', () => undefined);
    socket.once('connect', () => {
      socket.write(`GET /health HTTP/1.1\r\nHost: ${host}\r\nX-Waiting: `);
      resolve({ socket, events: false });
    });
  });
}

/** Closes one idle connection; for an events socket, true once the server has answered the close and hung up. */
function closeIdle(
  held: { socket: Socket; events: boolean },
  maskKey: Buffer,
  timeoutMs: number,
): Promise<boolean> {
  const { socket } = held;
  if (!held.events || socket.destroyed) {
    socket.destroy();
    return Promise.resolve(true);
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.end(closeFrame(1000, maskKey));
  });
}

function firstData(socket: Socket, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.once('data', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** A way to collect garbage now, if this process allows one to be had. */
export function forcedGc(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  try {
    // The flag takes effect for contexts made after it is set: a new one hands the function over.
    setFlagsFromString('--expose-gc');
    const made: unknown = runInNewContext('gc');
    return typeof made === 'function' ? (made as () => void) : undefined;
  } catch {
    return undefined;
  }
}

function sample(gc: (() => void) | undefined): MemorySample {
  gc?.();
  gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsed, rss };
}

async function waitUntil(condition: () => Promise<boolean>, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (await condition()) return true;
    await pause(100);
  }
  return condition();
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function mib(bytes: number): string {
  return `${(bytes / MIB).toFixed(1)} MiB`;
}

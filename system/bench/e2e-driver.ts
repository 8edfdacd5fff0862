/**
 * The load driver of `npm run bench:e2e` (run in a child process): lanes that each POST a top-up with a
 * unique Idempotency-Key, follow it on its events WebSocket and time POST → `vended`. Bounded: lanes stop
 * starting payments at the end of the window, and each payment is given up after PAYMENT_TIMEOUT_MS.
 *
 * @example
 * const report = await runDriver({ baseUrl, seconds: 30, warmupSeconds: 3, concurrency: 64, rate: null }, () => {});
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { withCheckDigit } from '../../simulators/mpan.ts';

export interface DriverSettings {
  readonly baseUrl: string;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly concurrency: number;
  /** Payments started per second across all lanes, or null for as fast as the lanes go. */
  readonly rate: number | null;
}

export interface DriverReport {
  /** POST → vended of every payment started in the window, finished in it or after. */
  readonly latenciesMs: number[];
  /** From the POST's answer to the first event on the socket, per payment (same window as latenciesMs). */
  readonly firstEventMs: number[];
  /** Payments whose `vended` arrived inside the window (whenever they started). */
  readonly completedInWindow: number;
  readonly windowSeconds: number;
  /** Payments that ended otherwise (declined, vend failed, refused, timed out), in the window. */
  readonly failed: number;
  readonly firstFailure?: string;
  /** The driver's own CPU from the window's start to the last payment's end, in ms: the other core's share. */
  readonly cpuMs: number;
}

const PAYMENT_TIMEOUT_MS = 30_000;
/** Meters that vend at the first attempt (no `99` test prefix), spread so no meter sees every top-up. */
const METERS = Array.from({ length: 1000 }, (_, serial) =>
  withCheckDigit(`12${String(serial).padStart(10, '0')}`),
);

interface Accepted {
  readonly paymentId: string;
  readonly statusToken: string;
  readonly eventsUrl: string;
}

/**
 * One top-up: resolves when `vended` arrives, with the ms from the POST's answer to the first event;
 * rejects on any other ending.
 */
async function topUp(baseUrl: string, index: number): Promise<number> {
  const response = await fetch(`${baseUrl}/api/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `bench-${randomUUID()}` },
    body: JSON.stringify({
      meterId: METERS[index % METERS.length],
      amountPence: 1000 + (index % 100) * 50,
      paymentToken: 'tok_visa',
    }),
  });
  if (response.status !== 202) throw new Error(`POST answered ${response.status}: ${await response.text()}`);
  const accepted = (await response.json()) as Accepted;
  const answeredAt = performance.now();
  let firstEventMs = Number.NaN;
  const socket = new WebSocket(`${baseUrl.replace('http', 'ws')}${accepted.eventsUrl}`);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no vended event in time')), PAYMENT_TIMEOUT_MS);
      const end = (error?: Error) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      socket.on('message', (data) => {
        if (Number.isNaN(firstEventMs)) firstEventMs = performance.now() - answeredAt;
        const event = JSON.parse(String(data)) as { type: string };
        if (event.type === 'vended') end();
        else if (event.type === 'vend_failed' || event.type === 'charge_declined')
          end(new Error(`payment ended ${event.type}`));
      });
      socket.on('error', (error) => end(error));
      socket.on('close', (code) => end(new Error(`events socket closed (${code}) before vended`)));
    });
  } finally {
    socket.terminate();
  }
  return firstEventMs;
}

export async function runDriver(settings: DriverSettings, onMeasuring: () => void): Promise<DriverReport> {
  const startedAt = performance.now();
  const windowStart = startedAt + settings.warmupSeconds * 1000;
  const windowEnd = windowStart + settings.seconds * 1000;
  const latenciesMs: number[] = [];
  const firstEventMs: number[] = [];
  let completedInWindow = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  let index = 0;
  let nextStart = startedAt;
  let cpuBefore = process.cpuUsage();
  const measuring = setTimeout(() => {
    cpuBefore = process.cpuUsage();
    onMeasuring();
  }, settings.warmupSeconds * 1000);
  let vended = 0;
  let ended = 0;
  const progress = setInterval(() => {
    const seconds = ((performance.now() - startedAt) / 1000).toFixed(0);
    console.error(`bench:e2e: ${seconds} s, ${index} posted, ${vended} vended, ${ended - vended} failed`);
  }, 5000);

  /** With a rate, each start takes the next slot of an evenly spaced schedule. */
  const pace = async () => {
    if (settings.rate === null) return;
    const slot = nextStart;
    nextStart = Math.max(nextStart, performance.now()) + 1000 / settings.rate;
    const wait = slot - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  };

  const lane = async () => {
    while (performance.now() < windowEnd) {
      await pace();
      const started = performance.now();
      if (started >= windowEnd) break;
      try {
        const firstEvent = await topUp(settings.baseUrl, index++);
        const finished = performance.now();
        vended += 1;
        ended += 1;
        if (started >= windowStart) {
          latenciesMs.push(finished - started);
          firstEventMs.push(firstEvent);
        }
        if (finished >= windowStart && finished < windowEnd) completedInWindow += 1;
      } catch (error) {
        ended += 1;
        if (started >= windowStart) {
          failed += 1;
          firstFailure ??= error instanceof Error ? error.message : String(error);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: settings.concurrency }, lane));
  clearTimeout(measuring);
  clearInterval(progress);
  const cpu = process.cpuUsage(cpuBefore);
  return {
    cpuMs: (cpu.user + cpu.system) / 1000,
    latenciesMs,
    firstEventMs,
    completedInWindow,
    windowSeconds: settings.seconds,
    failed,
    ...(firstFailure === undefined ? {} : { firstFailure }),
  };
}

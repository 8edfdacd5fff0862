/**
 * The event tail on its own, over a store in memory: woken, it reads at once (the poll interval here is a
 * minute, longer than the test may take); with no wake signal, as on AWS, it still delivers by polling.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PaymentEvent, TailedEvent } from '../../database/payments-repository.ts';
import { createEventTail, type EventTail } from './event-tail.ts';

/** A log in memory with the two reads the tail makes. */
function memoryStore() {
  const log: TailedEvent[] = [];
  let reads = 0;
  return {
    get reads() {
      return reads;
    },
    append(paymentId: string, type: string) {
      const id = log.length + 1;
      log.push({ id, paymentId, event: { seq: id, type, at: new Date(0).toISOString() } });
    },
    async lastEventId() {
      return log.length;
    },
    async eventsAfterId(afterId: number, limit: number) {
      reads += 1;
      return log.filter((entry) => entry.id > afterId).slice(0, limit);
    },
  };
}

/** A wake signal the test fires: every caller until a fire shares one promise. */
function manualWake() {
  let pending: { promise: Promise<void>; resolve: () => void } | undefined;
  let asked = 0;
  return {
    get asked() {
      return asked;
    },
    signal: () => {
      asked += 1;
      if (pending === undefined) {
        let resolve!: () => void;
        pending = { promise: new Promise<void>((done) => (resolve = done)), resolve };
      }
      return pending.promise;
    },
    fire() {
      const fired = pending;
      pending = undefined;
      fired?.resolve();
    },
  };
}

function nextEvent(tail: EventTail, paymentId: string): Promise<PaymentEvent> {
  return new Promise((resolve) => {
    void tail.subscribe(paymentId, resolve);
  });
}

const errors: unknown[] = [];
const tails: EventTail[] = [];

afterEach(async () => {
  await Promise.all(tails.splice(0).map((tail) => tail.stop()));
  expect(errors.splice(0)).toEqual([]);
});

describe('the event tail', () => {
  it('reads at once when woken, without waiting out its poll interval', async () => {
    const store = memoryStore();
    const wake = manualWake();
    const tail = createEventTail({
      store,
      pollIntervalMs: 60_000,
      onError: (error) => errors.push(error),
      wake: wake.signal,
    });
    tails.push(tail);
    const received: PaymentEvent[] = [];
    let arrived!: () => void;
    const second = new Promise<void>((resolve) => (arrived = resolve));
    await tail.subscribe('p1', (event) => {
      received.push(event);
      if (received.length === 2) arrived();
    });
    const first = nextEvent(tail, 'p1');
    store.append('p1', 'accepted');
    wake.fire();
    expect((await first).type).toBe('accepted');
    // Woken again: the tail asked for a fresh signal before its next read.
    store.append('p2', 'accepted');
    store.append('p1', 'charged');
    wake.fire();
    await second;
    expect(received.map((event) => event.type)).toEqual(['accepted', 'charged']);
  });

  it('takes the wake signal set after it was made (the local wiring’s way), and stops while waiting', async () => {
    const store = memoryStore();
    const wake = manualWake();
    const tail = createEventTail({ store, pollIntervalMs: 60_000, onError: (error) => errors.push(error) });
    tails.push(tail);
    tail.setWake(wake.signal);
    const event = nextEvent(tail, 'p1');
    await new Promise((resolve) => setImmediate(resolve));
    store.append('p1', 'accepted');
    wake.fire();
    expect((await event).type).toBe('accepted');
  });

  it('asks for one wake signal at a time, however often it polls while the log is quiet', async () => {
    const store = memoryStore();
    const wake = manualWake();
    const tail = createEventTail({
      store,
      pollIntervalMs: 10,
      onError: (error) => errors.push(error),
      wake: wake.signal,
    });
    tails.push(tail);
    await tail.subscribe('p1', () => {});
    while (store.reads < 5) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(wake.asked).toBe(1);
  });

  it('still delivers by polling with no wake signal, as on AWS', async () => {
    const store = memoryStore();
    const tail = createEventTail({ store, pollIntervalMs: 20, onError: (error) => errors.push(error) });
    tails.push(tail);
    const event = nextEvent(tail, 'p1');
    await new Promise((resolve) => setImmediate(resolve));
    store.append('p1', 'accepted');
    expect((await event).type).toBe('accepted');
  });

  it('reports a wake signal that fails and goes on polling', async () => {
    const store = memoryStore();
    const reported: unknown[] = [];
    const tail = createEventTail({
      store,
      pollIntervalMs: 20,
      onError: (error) => reported.push(error),
      wake: () => Promise.reject(new Error('no signal')),
    });
    tails.push(tail);
    const event = nextEvent(tail, 'p1');
    await new Promise((resolve) => setImmediate(resolve));
    store.append('p1', 'accepted');
    expect((await event).type).toBe('accepted');
    expect(reported.length).toBeGreaterThan(0);
    expect(String(reported[0])).toMatch(/no signal/);
  });
});

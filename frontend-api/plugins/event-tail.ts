/**
 * The event tail: ONE poller per front-end instance reads `payment_events` by global id
 * (PAYMENT_EVENTS_AFTER_ID_SQL) every `eventPollIntervalMs` and fans each event out to the sockets that
 * follow its payment. It runs only while someone follows a payment. Any number of instances can tail the
 * same table, so any instance can serve any customer.
 *
 * Ordering: appends make ids visible in id order, so a tail that starts at the log's current last id and
 * reads `id > last` never skips an event committed after it started. A follower therefore subscribes first
 * (which waits for the tail's start), then reads its history from the database, then takes live events,
 * dropping what it has already sent by seq.
 *
 * Waking (local only): given a `wake` signal, a function whose promise resolves when the log may have grown,
 * the tail polls as soon as it resolves instead of waiting out the interval. The local wiring
 * (system/main.ts) hands it one that resolves when the embedded Data API commits a write to
 * `payment_events`; on AWS there is none and the tail polls every `eventPollIntervalMs`, which stays the
 * fallback either way. The signal is asked for before each read, so a commit during the read wakes the next.
 *
 * @example
 * const unsubscribe = await fastify.eventTail.subscribe(paymentId, (event) => socket.send(JSON.stringify(event)));
 */
import fp from 'fastify-plugin';
import type { FrontEndPayments, PaymentEvent } from '../../database/payments-repository.ts';

export type PaymentEventListener = (event: PaymentEvent) => void;

export interface EventTail {
  /** Resolves once the tail covers every event committed from now on; returns the unsubscribe. */
  subscribe(paymentId: string, listener: PaymentEventListener): Promise<() => void>;
  /** Stops polling; subscribers get nothing more. */
  stop(): Promise<void>;
  /**
   * Sets (or, with undefined, removes) the wake signal: see `EventTailOptions.wake`. For the local wiring,
   * which builds the app first and then hands it the embedded database's signal.
   */
  setWake(wake: WakeSignal | undefined): void;
}

/** Resolves when something may have changed: a hint to poll now, never a promise that something did. */
export type WakeSignal = () => Promise<void>;

declare module 'fastify' {
  interface FastifyInstance {
    eventTail: EventTail;
  }
}

const PAGE_SIZE = 500;

export interface EventTailOptions {
  readonly store: Pick<FrontEndPayments, 'eventsAfterId' | 'lastEventId'>;
  readonly pollIntervalMs: number;
  readonly onError: (error: unknown) => void;
  /**
   * Optional: polls as soon as its promise resolves rather than waiting out `pollIntervalMs` (which stays
   * the longest wait). Asked for afresh before each read; its rejection is reported and ignored.
   */
  readonly wake?: WakeSignal | undefined;
}

/** The tail itself; the app uses the plugin. */
export function createEventTail({ store, pollIntervalMs, onError, wake }: EventTailOptions): EventTail {
  let wakeSignal = wake;
  const listeners = new Map<string, Set<PaymentEventListener>>();
  let running: Promise<void> | undefined;
  let started: Promise<void> | undefined;
  let stopped = false;
  /** Ends the current wait at once (stop() uses it). */
  let interrupt: (() => void) | undefined;
  /** A wake promise is out (one at a time, so a quiet log does not pile up callbacks on it). */
  let wakePending = false;
  /** It resolved since the last read began. */
  let woken = false;

  function armWake(): void {
    if (wakePending || wakeSignal === undefined) return;
    let signal: Promise<void>;
    try {
      signal = wakeSignal();
    } catch (error) {
      onError(error);
      return;
    }
    wakePending = true;
    signal.then(
      () => {
        wakePending = false;
        woken = true;
        interrupt?.();
      },
      (error: unknown) => {
        wakePending = false;
        onError(error);
      },
    );
  }

  const followerCount = () => [...listeners.values()].reduce((count, set) => count + set.size, 0);

  function start(): Promise<void> {
    let resolveStarted!: () => void;
    let rejectStarted!: (error: unknown) => void;
    const startedPromise = new Promise<void>((resolve, reject) => {
      resolveStarted = resolve;
      rejectStarted = reject;
    });
    started = startedPromise;
    running = (async () => {
      let position: number;
      try {
        position = await store.lastEventId();
      } catch (error) {
        started = undefined;
        running = undefined;
        rejectStarted(error);
        return;
      }
      resolveStarted();
      while (!stopped && followerCount() > 0) {
        // Armed before the read, so a commit the read misses still ends the wait after it.
        armWake();
        woken = false;
        try {
          const page = await store.eventsAfterId(position, PAGE_SIZE);
          for (const { id, paymentId, event } of page) {
            position = id;
            for (const listener of listeners.get(paymentId) ?? []) {
              try {
                listener(event);
              } catch (error) {
                onError(error);
              }
            }
          }
          if (page.length === PAGE_SIZE) continue;
        } catch (error) {
          onError(error);
        }
        if (woken || stopped) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollIntervalMs);
          interrupt = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        interrupt = undefined;
      }
      started = undefined;
      running = undefined;
    })();
    return startedPromise;
  }

  return {
    async subscribe(paymentId, listener) {
      if (stopped) throw new Error('the event tail is stopped');
      let set = listeners.get(paymentId);
      if (!set) {
        set = new Set();
        listeners.set(paymentId, set);
      }
      set.add(listener);
      const unsubscribe = () => {
        set.delete(listener);
        if (set.size === 0 && listeners.get(paymentId) === set) listeners.delete(paymentId);
      };
      try {
        await (started ?? start());
      } catch (error) {
        unsubscribe();
        throw error;
      }
      return unsubscribe;
    },
    async stop() {
      stopped = true;
      interrupt?.();
      await running;
    },
    setWake(signal) {
      wakeSignal = signal;
    },
  };
}

export const eventTailPlugin = fp(
  async (fastify) => {
    const tail = createEventTail({
      store: fastify.payments,
      pollIntervalMs: fastify.config.eventPollIntervalMs,
      onError: (error) => fastify.log.error({ err: error }, 'event tail poll failed'),
    });
    fastify.decorate('eventTail', tail);
    fastify.addHook('onClose', async () => tail.stop());
  },
  { name: 'event-tail', dependencies: ['config', 'payments-store'], fastify: '5.x' },
);

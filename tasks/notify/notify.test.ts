import { beforeEach, describe, expect, it } from 'vitest';
import { InMemoryPaymentsStore, RecordingLogger } from '../shared/testing/fakes.ts';
import { createNotify } from './notify.ts';

let store: InMemoryPaymentsStore;
let notify: ReturnType<typeof createNotify>;

beforeEach(() => {
  store = new InMemoryPaymentsStore();
  notify = createNotify({ store, logger: new RecordingLogger() });
});

describe('notify', () => {
  it('appends each event with the next sequence number', async () => {
    // Act
    const charged = await notify({ paymentId: 'pay_1', type: 'charged', amountPence: 2000 });
    const requested = await notify({
      paymentId: 'pay_1',
      type: 'vend_requested',
      meterId: '1200000000011',
      maxAttempts: 4,
    });

    // Assess
    expect(charged).toEqual({ paymentId: 'pay_1', type: 'charged', seq: 1, recorded: true });
    expect(requested).toMatchObject({ seq: 2, recorded: true });
  });

  it('keeps a repeated event once, and vend_retrying once per attempt', async () => {
    // Act
    await notify({ paymentId: 'pay_1', type: 'charged', amountPence: 2000 });
    const repeated = await notify({ paymentId: 'pay_1', type: 'charged', amountPence: 2000 });
    await notify({ paymentId: 'pay_1', type: 'vend_retrying', attempt: 2, maxAttempts: 4 });
    await notify({ paymentId: 'pay_1', type: 'vend_retrying', attempt: 2, maxAttempts: 4 });
    await notify({ paymentId: 'pay_1', type: 'vend_retrying', attempt: 3, maxAttempts: 4 });

    // Assess
    expect(repeated).toMatchObject({ seq: 1, recorded: false });
    expect(store.events.map((event) => [event.type, event.seq])).toEqual([
      ['charged', 1],
      ['vend_retrying', 2],
      ['vend_retrying', 3],
    ]);
  });

  it.each([
    { paymentId: 'pay_1', type: 'vended', utrn: '1234', creditPence: 2000 },
    { paymentId: 'pay_1', type: 'vend_retrying', attempt: 1, maxAttempts: 4 },
    { paymentId: 'pay_1', type: 'accepted' },
  ])('refuses $type that breaks the contract', async (event) => {
    // Act
    const failure = await notify(event).catch((error: unknown) => error);

    // Assess
    expect((failure as Error).name).toBe('ZodError');
    expect(store.events).toEqual([]);
  });
});

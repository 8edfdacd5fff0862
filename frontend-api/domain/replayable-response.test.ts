import { describe, expect, it } from 'vitest';
import { eventsUrlOf, openAccepted, sealAccepted } from './replayable-response.ts';
import { newStatusToken } from './status-token.ts';

const owner = { idempotencyKey: 'top-up-7f3a', requestHash: 'a'.repeat(64) };
const statusToken = newStatusToken();
const accepted = { paymentId: 'pay_1', statusToken, eventsUrl: eventsUrlOf('pay_1', statusToken) };

describe('the replayable 202', () => {
  it('keeps the payment id and not the status token, and opens to the same 202 for the same key and body', () => {
    // Act
    const stored = sealAccepted(accepted, owner);
    const replayed = openAccepted(JSON.parse(JSON.stringify(stored)), owner);

    // Assess
    expect(JSON.stringify(stored)).not.toContain(statusToken);
    expect(stored.paymentId).toBe('pay_1');
    expect(replayed).toEqual(accepted);
  });

  it.each([
    ['another Idempotency-Key', { ...owner, idempotencyKey: 'top-up-7f3b' }],
    ['another body', { ...owner, requestHash: 'b'.repeat(64) }],
  ])('cannot be opened with %s', (_what, someoneElse) => {
    // Prepare
    const stored = sealAccepted(accepted, owner);

    // Act
    const opened = () => openAccepted(stored, someoneElse);

    // Assess
    expect(opened).toThrow();
  });

  it('replays a 202 kept before tokens were sealed as it was kept', () => {
    // Act
    const replayed = openAccepted(accepted, owner);

    // Assess
    expect(replayed).toEqual(accepted);
  });
});

/**
 * The upgrade of SQS journal records from version 1 where it does more than rename: tuples become objects,
 * and a deduplication key made of a group id and a deduplication id is split back into the two.
 */
import { describe, expect, it } from 'vitest';
import { upgradeSqsRecord } from '../journal-records.ts';

describe('upgradeSqsRecord from version 1', () => {
  it.each([
    [
      'a receive, whose [id, nonce, visible again at] tuples become receipts',
      { t: 'recv', q: 'orders', at: 10, ms: [['m-1', 'n-1', 40]] },
      {
        kind: 'messagesReceived',
        queue: 'orders',
        receivedAt: 10,
        receipts: [{ messageId: 'm-1', receiptNonce: 'n-1', visibleAgainAt: 40 }],
      },
    ],
    [
      'a deduplication id per queue',
      { t: 'dedup', q: 'vends.fifo', k: 'd-1', id: 'm-1', seq: '10000000000000000000', at: 10 },
      {
        kind: 'deduplicationIdSeen',
        queue: 'vends.fifo',
        deduplicationId: 'd-1',
        messageId: 'm-1',
        sequenceNumber: '10000000000000000000',
        sentAt: 10,
      },
    ],
    [
      'a deduplication id per message group',
      { t: 'dedup', q: 'vends.fifo', k: 'meter-1\u0000d-1', id: 'm-1', at: 10 },
      {
        kind: 'deduplicationIdSeen',
        queue: 'vends.fifo',
        deduplicationId: 'd-1',
        groupId: 'meter-1',
        messageId: 'm-1',
        sentAt: 10,
      },
    ],
  ])('turns %s into its version 2 record', (_, version1, version2) => {
    // Act
    const upgraded = upgradeSqsRecord(version1, 1);

    // Assess
    expect(upgraded).toStrictEqual(version2);
  });

  it('refuses a record it does not know rather than dropping it', () => {
    // Act
    const upgrading = () => upgradeSqsRecord({ t: 'unheard-of', q: 'orders' }, 1);

    // Assess
    expect(upgrading).toThrow('Unknown SQS journal record of version 1');
  });
});

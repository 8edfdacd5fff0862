/**
 * The SQS event's records and Lambda's rules for reading a ReportBatchItemFailures response.
 */
import { describe, expect, it } from 'vitest';
import { sqsRecord, succeededWithPartialFailures } from '../sqs-event.ts';

describe('sqsRecord', () => {
  it('spells message attributes as the event does: camelCase, base64 binaries, list members present', () => {
    // Act
    const record = sqsRecord(
      {
        MessageId: 'm1',
        ReceiptHandle: 'r1',
        Body: 'hi',
        MD5OfBody: 'md5',
        MD5OfMessageAttributes: 'md5attrs',
        Attributes: { ApproximateReceiveCount: '2', MessageGroupId: 'g' },
        MessageAttributes: {
          blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
          amount: { DataType: 'Number', StringValue: '12.5' },
        },
      },
      'arn:aws:sqs:eu-west-2:000000000000:orders.fifo',
    );

    // Assess
    expect(record).toEqual({
      messageId: 'm1',
      receiptHandle: 'r1',
      body: 'hi',
      attributes: { ApproximateReceiveCount: '2', MessageGroupId: 'g' },
      messageAttributes: {
        blob: { binaryValue: 'AQID', stringListValues: [], binaryListValues: [], dataType: 'Binary' },
        amount: { stringValue: '12.5', stringListValues: [], binaryListValues: [], dataType: 'Number' },
      },
      md5OfMessageAttributes: 'md5attrs',
      md5OfBody: 'md5',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-2:000000000000:orders.fifo',
      awsRegion: 'eu-west-2',
    });
  });
});

describe('succeededWithPartialFailures', () => {
  const ids = ['a', 'b', 'c'];

  it('reads a missing, null or empty list as complete success', () => {
    expect(succeededWithPartialFailures(null, ids)).toEqual(ids);
    expect(succeededWithPartialFailures({}, ids)).toEqual(ids);
    expect(succeededWithPartialFailures({ batchItemFailures: null }, ids)).toEqual(ids);
    expect(succeededWithPartialFailures({ batchItemFailures: [] }, ids)).toEqual(ids);
  });

  it('keeps the reported items and fails the whole batch on an unusable identifier', () => {
    expect(succeededWithPartialFailures({ batchItemFailures: [{ itemIdentifier: 'b' }] }, ids)).toEqual([
      'a',
      'c',
    ]);
    expect(
      succeededWithPartialFailures({ batchItemFailures: [{ itemIdentifier: '' }] }, ids),
    ).toBeUndefined();
    expect(
      succeededWithPartialFailures({ batchItemFailures: [{ itemIdentifier: null }] }, ids),
    ).toBeUndefined();
    expect(succeededWithPartialFailures({ batchItemFailures: [{ id: 'b' }] }, ids)).toBeUndefined();
    expect(
      succeededWithPartialFailures({ batchItemFailures: [{ itemIdentifier: 'z' }] }, ids),
    ).toBeUndefined();
  });
});

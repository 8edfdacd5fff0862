/** The Data API layer against a cluster that is paused: it waits while the cluster resumes, as AWS advises. */
import { DatabaseResumingException, type RDSDataClient } from '@aws-sdk/client-rds-data';
import { describe, expect, it } from 'vitest';
import { DataApi } from './data-api.ts';

const TARGET = {
  resourceArn: 'arn:aws:rds:eu-west-2:222222222222:cluster:payments-dev',
  secretArn: 'arn:aws:secretsmanager:eu-west-2:222222222222:secret:payments-dev-AbCdEf',
  database: 'payments',
};

/** A client whose cluster is paused for the first `pausedCalls` calls, then answers one row. */
function pausedCluster(pausedCalls: number) {
  let calls = 0;
  const client = {
    send: async () => {
      calls += 1;
      if (calls <= pausedCalls) {
        throw new DatabaseResumingException({
          message:
            'The database is resuming after being auto-paused. Please wait a few seconds and try again.',
          $metadata: { httpStatusCode: 400 },
        });
      }
      return { records: [[{ stringValue: 'charged' }]] };
    },
  } as unknown as RDSDataClient;
  return { client, calls: () => calls };
}

describe('DataApi while the cluster resumes', () => {
  it('waits and asks again until the paused cluster answers', async () => {
    // Prepare
    const cluster = pausedCluster(3);
    const waits: number[] = [];
    const db = new DataApi(cluster.client, TARGET, { sleep: async (ms) => void waits.push(ms) });

    // Act
    const rows = await db.execute('SELECT status FROM payments WHERE payment_id = :paymentId', {
      paymentId: 'pay_1',
    });

    // Assess
    expect(rows).toEqual([['charged']]);
    expect(cluster.calls()).toBe(4);
    expect(waits).toEqual([1000, 2000, 4000]);
  });

  it('gives up with the resuming error after 20 seconds', async () => {
    // Prepare
    const cluster = pausedCluster(100);
    const waits: number[] = [];
    const db = new DataApi(cluster.client, TARGET, { sleep: async (ms) => void waits.push(ms) });

    // Act
    const failure = await db.execute('SELECT 1').catch((error: Error) => error);

    // Assess
    expect((failure as Error).name).toBe('DatabaseResumingException');
    expect(waits.reduce((sum, ms) => sum + ms, 0)).toBe(20_000);
  });
});

/**
 * The task Lambdas in the whole system: the PaymentToVend ASL (synthesized with short retry intervals) on
 * the embedded Step Functions, calling the real charge and notify handlers through the embedded Lambda, the
 * meter-vending handler fed by the PaymentSuccess queue, the gateway and vendor simulators, and the migrated
 * database through the Data API. A payment left open waits for a decision, which a test hands over as the
 * operator console does: SendTaskSuccess on the token its follow-up row keeps.
 */
import { ExecuteStatementCommand, RDSDataClient } from '@aws-sdk/client-rds-data';
import {
  DescribeExecutionCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAYMENT_EVENTS_AFTER_SEQ_SQL } from '../database/statements.ts';
import { migratedSnapshot } from '../database/testing/migrated-snapshot.ts';
import { testMpan } from '../simulators/mpan.ts';
import { synthesizeLocalDefinition } from '../workflow/local-definition.ts';
import { type PaymentSystem, startPaymentSystem } from './payment-system.ts';
import { FollowUpQueues } from './testing/follow-up-queues.ts';

const MAX_VEND_ATTEMPTS = 3;
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

let system: PaymentSystem;
let sfn: SFNClient;
let sqs: SQSClient;
let rds: RDSDataClient;
let payments = 0;
let followUps: FollowUpQueues;

beforeAll(async () => {
  system = await startPaymentSystem({
    port: 0,
    databaseSnapshot: await migratedSnapshot(),
    dataDir: null,
    simulatorsPort: 0,
    logLevel: 'SILENT',
    definition: synthesizeLocalDefinition({
      props: {
        maxVendAttempts: MAX_VEND_ATTEMPTS,
        vendRetryIntervalSeconds: 1,
        vendBackoffRate: 1,
        vendMaxDelaySeconds: 1,
        chargeRetryIntervalSeconds: 1,
      },
    }),
  });
  const client = { endpoint: system.aws.endpoint, region: 'us-east-1', credentials: CREDENTIALS };
  sfn = new SFNClient(client);
  sqs = new SQSClient(client);
  rds = new RDSDataClient(client);
  followUps = new FollowUpQueues(sqs, system.queueUrls);
}, 60_000);

afterAll(async () => {
  sfn?.destroy();
  sqs?.destroy();
  rds?.destroy();
  await system?.close();
});

async function sql(statement: string, values: Record<string, string | number>) {
  const { records = [] } = await rds.send(
    new ExecuteStatementCommand({
      ...system.masterDatabase,
      sql: statement,
      parameters: Object.entries(values).map(([name, value]) => ({
        name,
        value: typeof value === 'number' ? { longValue: value } : { stringValue: value },
      })),
    }),
  );
  return records;
}

/**
 * A payment as the front-end accepts it, run through the machine to its end, or (`open`) until it waits for an
 * operator's decision.
 */
async function pay(meterId: string, paymentToken = 'tok_visa', amountPence = 2500, { open = false } = {}) {
  payments += 1;
  const paymentId = `pay_it_${payments}_${Date.now()}`;
  await sql(
    `INSERT INTO payments (payment_id, meter_id, amount_pence, status_token_hash)
     VALUES (:paymentId, :meterId, :amountPence, 'not-a-real-hash')`,
    { paymentId, meterId, amountPence },
  );
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: system.stateMachineArn,
      name: paymentId,
      input: JSON.stringify({ paymentId, meterId, amountPence, paymentToken }),
    }),
  );
  if (open) await openTokenOf(paymentId);
  else await system.aws.stepFunctions.finished(executionArn ?? '');
  const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  return { paymentId, execution };
}

/** The task token on a payment's open follow-up, once the execution waits (other than `except`). */
async function openTokenOf(paymentId: string, except?: string): Promise<string> {
  for (;;) {
    const [row] = await sql(
      'SELECT task_token FROM follow_ups WHERE payment_id = :paymentId AND closed_at IS NULL',
      { paymentId },
    );
    const token = row?.[0]?.stringValue;
    if (token !== undefined && token !== except) return token;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

let decisions = 0;

/** Hands a decision to the waiting execution, as the operator console does, and waits for the end. */
async function decide(paymentId: string, decision: { action: string; utrn?: string }) {
  decisions += 1;
  await sfn.send(
    new SendTaskSuccessCommand({
      taskToken: await openTokenOf(paymentId),
      output: JSON.stringify({
        decisionId: `it-decision-${decisions}`,
        operator: 'ops@example.com',
        reason: 'decided in the integration test',
        decidedAt: new Date().toISOString(),
        ...decision,
      }),
    }),
  );
  const executionArn = `${system.stateMachineArn.replace(':stateMachine:', ':execution:')}:${paymentId}`;
  await system.aws.stepFunctions.finished(executionArn);
  return sfn.send(new DescribeExecutionCommand({ executionArn }));
}

async function eventsOf(paymentId: string) {
  const rows = await sql(PAYMENT_EVENTS_AFTER_SEQ_SQL, { paymentId, afterSeq: 0 });
  return rows.map(
    (row): Record<string, unknown> => ({
      seq: row[1]?.longValue,
      type: row[2]?.stringValue,
      ...(JSON.parse(row[3]?.stringValue ?? '{}') as Record<string, unknown>),
    }),
  );
}

async function statusOf(paymentId: string) {
  const [row] = await sql('SELECT status, decline_reason FROM payments WHERE payment_id = :paymentId', {
    paymentId,
  });
  return { status: row?.[0]?.stringValue, declineReason: row?.[1]?.stringValue ?? null };
}

async function vendsOf(paymentId: string) {
  const rows = await sql(
    'SELECT attempt, outcome, utrn, rejection_code FROM vends WHERE payment_id = :paymentId ORDER BY attempt',
    { paymentId },
  );
  return rows.map((row) => ({
    attempt: row[0]?.longValue,
    outcome: row[1]?.stringValue,
    utrn: row[2]?.stringValue ?? null,
    rejectionCode: row[3]?.stringValue ?? null,
  }));
}

function alertsFor(paymentId: string) {
  return system.aws.sns.published(system.onCallTopicArn).filter((alert) => alert.message.includes(paymentId));
}

// Side by side: each test is a payment of its own, on a meter of its own, and most of its time is the machine's
// one-second retry intervals.
describe.concurrent('PaymentToVend with the real task Lambdas', () => {
  it('vends a charged payment: a 20-digit UTRN, events charged → vend_requested → vended in order', async () => {
    // Act
    const { paymentId, execution } = await pay(testMpan('00', 1));

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    const events = await eventsOf(paymentId);
    expect(events.map((event) => event.type)).toEqual(['charged', 'vend_requested', 'vended']);
    expect(events.map((event) => event.seq)).toEqual([1, 2, 3]);
    expect(events[2]).toMatchObject({ utrn: expect.stringMatching(/^\d{20}$/), creditPence: 2500 });
    expect(await statusOf(paymentId)).toEqual({ status: 'vended', declineReason: null });
    expect(await vendsOf(paymentId)).toEqual([
      { attempt: 1, outcome: 'vended', utrn: events[2]?.utrn, rejectionCode: null },
    ]);
    expect(system.simulators.gateway.chargeCount(paymentId)).toBe(1);
  });

  it('tells a declined customer why and leaves a PaymentFailure message with the reason', async () => {
    // Act
    const { paymentId, execution } = await pay(testMpan('00', 2), 'tok_insufficientFunds');

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('ChargeDeclined');
    expect(await eventsOf(paymentId)).toEqual([
      { seq: 1, type: 'charge_declined', reason: 'insufficient_funds' },
    ]);
    expect(await statusOf(paymentId)).toEqual({
      status: 'charge_declined',
      declineReason: 'insufficient_funds',
    });
    expect(await followUps.of('PaymentFailure', paymentId)).toEqual([
      { paymentId, meterId: testMpan('00', 2), amountPence: 2500, reason: 'insufficient_funds' },
    ]);
    expect(await vendsOf(paymentId)).toEqual([]);
  });

  it('rides out a gateway outage and charges the card once', async () => {
    // Act
    const { paymentId, execution } = await pay(testMpan('00', 3), 'tok_gatewayOutage');

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(system.simulators.gateway.chargeCount(paymentId)).toBe(1);
    expect(system.simulators.gateway.requestCount(paymentId)).toBe(3);
    expect((await eventsOf(paymentId)).map((event) => event.type)).toEqual([
      'charged',
      'vend_requested',
      'vended',
    ]);
  });

  it('retries a vendor that fails twice, telling the customer each retry, and vends once', async () => {
    // Act
    const { paymentId, execution } = await pay(testMpan('01', 4));

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    const events = await eventsOf(paymentId);
    expect(events.map((event) => event.type)).toEqual([
      'charged',
      'vend_requested',
      'vend_retrying',
      'vend_retrying',
      'vended',
    ]);
    expect(events.filter((event) => event.type === 'vend_retrying')).toEqual([
      { seq: 3, type: 'vend_retrying', attempt: 2, maxAttempts: MAX_VEND_ATTEMPTS },
      { seq: 4, type: 'vend_retrying', attempt: 3, maxAttempts: MAX_VEND_ATTEMPTS },
    ]);
    expect((await vendsOf(paymentId)).map((vend) => vend.outcome)).toEqual([
      'vendor_unavailable',
      'vendor_unavailable',
      'vended',
    ]);
    expect(system.simulators.vendor.vends().filter((vend) => vend.transactionId === paymentId)).toHaveLength(
      1,
    );
  });

  it('gives up on a vendor that stays down: one VendingFailure message, one alert, one vend_failed, open for a decision', async () => {
    // Act
    const { paymentId, execution } = await pay(testMpan('02', 5), 'tok_visa', 2500, { open: true });

    // Assess
    expect(execution.status).toBe('RUNNING');
    const events = await eventsOf(paymentId);
    expect(events.map((event) => event.type)).toEqual([
      'charged',
      'vend_requested',
      'vend_retrying',
      'vend_retrying',
      'vend_failed',
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'vend_failed', reason: 'VendorUnavailable' });
    expect(await statusOf(paymentId)).toEqual({ status: 'vend_failed', declineReason: null });
    const failures = await followUps.of('VendingFailure', paymentId);
    expect(failures).toEqual([
      expect.objectContaining({
        paymentId,
        chargeId: expect.stringMatching(/^ch_/),
        failure: expect.objectContaining({ Error: 'VendorUnavailable' }),
      }),
    ]);
    expect(alertsFor(paymentId)).toHaveLength(1);
    expect((await vendsOf(paymentId)).map((vend) => vend.outcome)).toEqual([
      'vendor_unavailable',
      'vendor_unavailable',
      'vendor_unavailable',
    ]);
  });

  it('does not retry a UTRN the meter rejects', async () => {
    // Act
    const { paymentId, execution } = await pay(testMpan('03', 6), 'tok_visa', 2500, { open: true });

    // Assess
    expect(execution.status).toBe('RUNNING');
    expect((await eventsOf(paymentId)).map((event) => event.type)).toEqual([
      'charged',
      'vend_requested',
      'vend_failed',
    ]);
    expect(await vendsOf(paymentId)).toEqual([
      { attempt: 1, outcome: 'rejected', utrn: null, rejectionCode: 'NOT_FOR_THIS_DEVICE' },
    ]);
    expect(await followUps.of('VendingFailure', paymentId)).toEqual([
      expect.objectContaining({ failure: { Error: 'VendRejected', Cause: 'NOT_FOR_THIS_DEVICE' } }),
    ]);
    expect(alertsFor(paymentId)).toHaveLength(1);
  });

  it('re-vends an open payment once the vendor is back: the same transaction id, vended once, the customer told the UTRN', async () => {
    // Prepare
    const meterId = testMpan('02', 11);
    const { paymentId } = await pay(meterId, 'tok_visa', 2500, { open: true });
    system.simulators.vendor.endOutage(meterId);

    // Act
    const execution = await decide(paymentId, { action: 'revend' });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    const vended = system.simulators.vendor.vends().filter((vend) => vend.transactionId === paymentId);
    expect(vended).toHaveLength(1);
    expect((await eventsOf(paymentId)).at(-1)).toMatchObject({ type: 'vended', utrn: vended[0]?.utrn });
    expect(await statusOf(paymentId)).toEqual({ status: 'vended', declineReason: null });
    const [audit] = await sql(
      'SELECT action, operator, reason FROM decisions WHERE payment_id = :paymentId',
      { paymentId },
    );
    expect(audit?.map((field) => field.stringValue)).toEqual([
      'revend',
      'ops@example.com',
      'decided in the integration test',
    ]);
    const [followUp] = await sql(
      'SELECT closed_at IS NOT NULL FROM follow_ups WHERE payment_id = :paymentId',
      {
        paymentId,
      },
    );
    expect(followUp?.[0]?.booleanValue).toBe(true);
  });

  it('refunds an open payment: one gateway refund under its own key, status refunded, the customer told', async () => {
    // Prepare
    const { paymentId } = await pay(testMpan('02', 12), 'tok_visa', 2500, { open: true });

    // Act
    const execution = await decide(paymentId, { action: 'refund' });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    const refunds = system.simulators.gateway
      .refunds()
      .filter((refund) => refund.idempotencyKey === `refund_${paymentId}`);
    expect(refunds).toHaveLength(1);
    expect((await eventsOf(paymentId)).at(-1)).toMatchObject({ type: 'refunded', amountPence: 2500 });
    expect(await statusOf(paymentId)).toEqual({ status: 'refunded', declineReason: null });
  });

  it('records a UTRN the vendor gave by phone: vended by hand, the customer told that UTRN', async () => {
    // Prepare
    const { paymentId } = await pay(testMpan('03', 13), 'tok_visa', 2500, { open: true });

    // Act
    const execution = await decide(paymentId, { action: 'record_utrn', utrn: '55555555555555555555' });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect((await eventsOf(paymentId)).at(-1)).toMatchObject({
      type: 'vended',
      utrn: '55555555555555555555',
    });
    expect((await vendsOf(paymentId)).at(-1)).toEqual({
      attempt: 2,
      outcome: 'vended',
      utrn: '55555555555555555555',
      rejectionCode: null,
    });
  });
});

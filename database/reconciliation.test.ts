/**
 * The reconciliation task's statements (reconciliation.ts), run through the embedded Data API as its own role
 * (`payments_reconcile`, migration 0007): what it finds, that recording a run twice changes nothing but when it
 * was last found, which open findings a run resolves and which it may not, and what the role may not do. The
 * operator console's role reads the open findings and writes none.
 */
import { DatabaseErrorException, ExecuteStatementCommand } from '@aws-sdk/client-rds-data';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DataApi } from './data-api.ts';
import { loadMigrations, migrate } from './migrate.ts';
import {
  DataApiReconciliationRecords,
  type Finding,
  OPEN_RECONCILIATION_FINDINGS_SQL,
  OpenFindingRowSchema,
  openFindingOf,
  type ReconciliationRun,
} from './reconciliation.ts';
import type { PaymentStatus } from './schema.ts';
import { SERVICE_ROLES, type ServiceRoleKey } from './service-roles.ts';
import { type DataApiForTests, SERVICE_TARGETS, startDataApi } from './testing/data-api.ts';
import { migratedSnapshot } from './testing/migrated-snapshot.ts';

const PERMISSION_DENIED = /^ERROR: permission denied for table [a-z_]+; SQLState: 42501$/;

let db: DataApiForTests;
let records: DataApiReconciliationRecords;

beforeAll(async () => {
  db = await startDataApi({ snapshot: await migratedSnapshot() });
  records = new DataApiReconciliationRecords(new DataApi(db.client, SERVICE_TARGETS.reconcile));
}, 60_000);

afterAll(async () => {
  await db?.close();
});

beforeEach(async () => {
  // Each test starts from no payments and no findings (the master user may delete; no service may).
  for (const table of [
    'reconciliation_findings',
    'decisions',
    'follow_ups',
    'payment_events',
    'vends',
    'payments',
  ])
    await db.sql(`DELETE FROM ${table}`);
});

const as = (role: ServiceRoleKey) => new DataApi(db.client, SERVICE_TARGETS[role]);

/** A payment written by the master user, last changed `minutesAgo`. */
async function payment(
  paymentId: string,
  status: PaymentStatus,
  minutesAgo: number,
  { chargeId = `ch_${paymentId}` }: { chargeId?: string | null } = {},
): Promise<void> {
  await db.sql(
    `INSERT INTO payments (payment_id, meter_id, amount_pence, status, gateway_charge_id, status_token_hash,
       decline_reason, charge_error, refund_id, created_at, updated_at)
     VALUES (:paymentId, '1200000000011', 2000, :status, :chargeId, :hash,
       CASE WHEN :status = 'charge_declined' THEN 'generic_decline' END,
       CASE WHEN :status = 'charge_unconfirmed' THEN 'PaymentGatewayUnavailable' END,
       CASE WHEN :status = 'refunded' THEN 're_' || :paymentId END,
       now() - interval '1 day', now() - CAST(:minutesAgo AS integer) * interval '1 minute')`,
    { paymentId, status, chargeId, hash: 'a'.repeat(64), minutesAgo },
  );
}

/** A payment's follow-up, open (waiting for a decision) or closed `closedMinutesAgo`. */
async function followUp(paymentId: string, closedMinutesAgo: number | null): Promise<void> {
  await db.sql(
    `INSERT INTO follow_ups (payment_id, reason, task_token, execution_arn, opened_at, deadline_at, closed_at)
     VALUES (:paymentId, 'vend_failed', CASE WHEN CAST(:closed AS integer) IS NULL THEN 'token' END, 'arn:execution',
       now() - interval '2 hours', now() + interval '2 hours',
       now() - CAST(:closed AS integer) * interval '1 minute')`,
    { paymentId, closed: closedMinutesAgo },
  );
}

const WINDOW = { start: new Date('2026-03-01T00:00:00Z'), end: new Date('2026-03-03T00:00:00Z') };
const COMPLETE = { chargedNotVended: true, charges: true };

function stuck(
  paymentId: string,
  paymentStatus: PaymentStatus = 'charged',
): Extract<Finding, { kind: 'charged_not_vended' }> {
  return {
    kind: 'charged_not_vended',
    paymentId,
    gatewayChargeId: `ch_${paymentId}`,
    amountPence: 2000,
    paymentStatus,
    occurredAt: '2026-03-02T10:00:00.000Z',
  };
}

function orphan(
  chargeId: string,
  occurredAt = '2026-03-02T10:00:00.000Z',
): Extract<Finding, { kind: 'charge_without_payment' }> {
  return {
    kind: 'charge_without_payment',
    paymentId: null,
    reference: `ref_${chargeId}`,
    gatewayChargeId: chargeId,
    amountPence: 1500,
    paymentStatus: null,
    occurredAt,
  };
}

const run = (findings: readonly Finding[], overrides: Partial<ReconciliationRun> = {}) =>
  records.recordRun({ findings, chargeWindow: WINDOW, complete: COMPLETE, ...overrides });

/** Every finding, as the master user sees it, by id. */
async function findings(): Promise<Record<string, Record<string, unknown>>> {
  const { formattedRecords } = await db.client.send(
    new ExecuteStatementCommand({
      ...db.target,
      sql: 'SELECT * FROM reconciliation_findings ORDER BY finding_id',
      formatRecordsAs: 'JSON',
    }),
  );
  const rows = JSON.parse(formattedRecords ?? '[]') as Record<string, unknown>[];
  return Object.fromEntries(rows.map((row) => [row.finding_id as string, row]));
}

describe('payments charged but not vended', () => {
  it('finds charged or vend_failed payments nobody is dealing with, past the threshold, oldest first', async () => {
    // Prepare
    await payment('pay_charged_long_ago', 'charged', 120);
    await payment('pay_failed_never_followed_up', 'vend_failed', 180);
    await payment('pay_failed_decided_long_ago', 'vend_failed', 300);
    await followUp('pay_failed_decided_long_ago', 90);
    await payment('pay_failed_open', 'vend_failed', 300);
    await followUp('pay_failed_open', null);
    await payment('pay_failed_revend_running', 'vend_failed', 300);
    await followUp('pay_failed_revend_running', 5);
    await payment('pay_charged_just_now', 'charged', 5);
    await payment('pay_vended', 'vended', 120);
    await payment('pay_refunded', 'refunded', 120);
    await payment('pay_unconfirmed', 'charge_unconfirmed', 120, { chargeId: null });
    await payment('pay_declined', 'charge_declined', 120, { chargeId: null });

    // Act
    const found = await records.chargedNotVended({ olderThanMinutes: 60, limit: 100 });

    // Assess
    expect(found.map((payment) => [payment.paymentId, payment.status])).toEqual([
      ['pay_failed_never_followed_up', 'vend_failed'],
      ['pay_charged_long_ago', 'charged'],
      ['pay_failed_decided_long_ago', 'vend_failed'],
    ]);
    expect(found[0]).toEqual({
      paymentId: 'pay_failed_never_followed_up',
      amountPence: 2000,
      status: 'vend_failed',
      gatewayChargeId: 'ch_pay_failed_never_followed_up',
      since: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    // Waiting since the follow-up closed, not since the payment last changed.
    expect(Date.now() - Date.parse(found[2]!.since)).toBeGreaterThan(89 * 60_000);
    expect(Date.now() - Date.parse(found[2]!.since)).toBeLessThan(91 * 60_000);
  });

  it('reads at most the limit, oldest first', async () => {
    // Prepare
    for (const minutes of [70, 80, 90]) await payment(`pay_stuck_${minutes}`, 'charged', minutes);

    // Act
    const found = await records.chargedNotVended({ olderThanMinutes: 60, limit: 2 });

    // Assess
    expect(found.map((payment) => payment.paymentId)).toEqual(['pay_stuck_90', 'pay_stuck_80']);
  });
});

describe('what payments record of their charges', () => {
  it('reads the payments the references name, hundreds at a time, leaving out references that are no payment', async () => {
    // Prepare
    await payment('pay_ref_charged', 'charged', 1);
    await payment('pay_ref_unconfirmed', 'charge_unconfirmed', 1, { chargeId: null });
    const references = [
      ...Array.from({ length: 600 }, (_, index) => `pay_not_ours_${index}`),
      'pay_ref_unconfirmed',
      'pay_ref_charged',
      'pay_ref_charged',
    ];

    // Act
    const recorded = await records.recordedCharges(references);

    // Assess
    expect(recorded.sort((a, b) => a.paymentId.localeCompare(b.paymentId))).toEqual([
      { paymentId: 'pay_ref_charged', status: 'charged', gatewayChargeId: 'ch_pay_ref_charged' },
      { paymentId: 'pay_ref_unconfirmed', status: 'charge_unconfirmed', gatewayChargeId: null },
    ]);
    expect(await records.recordedCharges([])).toEqual([]);
  });
});

describe('recording a run', () => {
  it('adds each finding once, and a second run with the same findings changes nothing but when they were last found', async () => {
    // Prepare
    await payment('pay_stuck', 'charged', 120);
    await payment('pay_other_charge', 'charged', 120);
    const made: Finding[] = [
      stuck('pay_stuck'),
      orphan('ch_unknown'),
      {
        ...orphan('ch_second'),
        paymentId: 'pay_other_charge',
        reference: 'pay_other_charge',
        paymentStatus: 'charged',
      },
      stuck('pay_stuck'),
    ];

    // Act
    const first = await run(made);
    const before = await findings();
    const second = await run(made);
    const after = await findings();

    // Assess
    expect(first).toEqual({ found: 3, opened: 3, resolved: 0 });
    expect(second).toEqual({ found: 3, opened: 0, resolved: 0 });
    expect(Object.keys(after)).toEqual([
      'charge_without_payment:ch_second',
      'charge_without_payment:ch_unknown',
      'charged_not_vended:pay_stuck',
    ]);
    for (const id of Object.keys(after)) {
      const { last_found_at: lastBefore, ...restBefore } = before[id]!;
      const { last_found_at: lastAfter, ...restAfter } = after[id]!;
      expect(restAfter).toEqual(restBefore);
      expect(String(lastAfter) >= String(lastBefore)).toBe(true);
    }
    expect(after['charge_without_payment:ch_unknown']).toMatchObject({
      kind: 'charge_without_payment',
      payment_id: null,
      reference: 'ref_ch_unknown',
      gateway_charge_id: 'ch_unknown',
      amount_pence: 1500,
      resolved_at: null,
    });
    expect(after['charged_not_vended:pay_stuck']).toMatchObject({
      payment_id: 'pay_stuck',
      payment_status: 'charged',
      resolved_at: null,
    });
  });

  it('resolves the open findings a complete run no longer makes, and opens one again when it is found again', async () => {
    // Prepare
    await payment('pay_was_stuck', 'vended', 1);
    await payment('pay_still_stuck', 'charged', 120);
    await run([stuck('pay_was_stuck'), stuck('pay_still_stuck'), orphan('ch_refunded_since')]);
    const opened = await findings();

    // Act
    const later = await run([stuck('pay_still_stuck')]);
    const resolved = await findings();
    const again = await run([stuck('pay_still_stuck'), stuck('pay_was_stuck', 'vend_failed')]);
    const reopened = await findings();

    // Assess
    expect(later).toEqual({ found: 1, opened: 0, resolved: 2 });
    expect(resolved['charged_not_vended:pay_was_stuck']?.resolved_at).toEqual(expect.any(String));
    expect(resolved['charge_without_payment:ch_refunded_since']?.resolved_at).toEqual(expect.any(String));
    expect(resolved['charged_not_vended:pay_still_stuck']?.resolved_at).toBeNull();
    expect(again).toEqual({ found: 2, opened: 1, resolved: 0 });
    expect(reopened['charged_not_vended:pay_was_stuck']).toMatchObject({
      resolved_at: null,
      payment_status: 'vend_failed',
    });
    expect(String(reopened['charged_not_vended:pay_was_stuck']?.first_found_at)).not.toBe(
      String(opened['charged_not_vended:pay_was_stuck']?.first_found_at),
    );
  });

  it('resolves nothing a run did not read in full, nor a charge outside the window it read', async () => {
    // Prepare
    await payment('pay_stuck', 'charged', 120);
    await run([
      stuck('pay_stuck'),
      orphan('ch_in_window'),
      orphan('ch_before_window', '2026-02-20T10:00:00.000Z'),
    ]);

    // Act
    const incomplete = await run([], { complete: { chargedNotVended: false, charges: false } });
    const complete = await run([]);
    const left = await findings();

    // Assess
    expect(incomplete).toEqual({ found: 0, opened: 0, resolved: 0 });
    expect(complete).toEqual({ found: 0, opened: 0, resolved: 2 });
    expect(left['charge_without_payment:ch_before_window']?.resolved_at).toBeNull();
  });

  it('resolves a charge wherever it lies once a payment records it', async () => {
    // Prepare
    await run([orphan('ch_found_later', '2026-01-01T10:00:00.000Z')]);
    await payment('pay_recorded_later', 'charged', 1, { chargeId: 'ch_found_later' });

    // Act
    const recorded = await run([]);

    // Assess
    expect(recorded.resolved).toBe(1);
    expect((await findings())['charge_without_payment:ch_found_later']?.resolved_at).toEqual(
      expect.any(String),
    );
  });

  it('refuses a finding that names no payment, or no charge', async () => {
    // Act
    const noPayment = await run([{ ...stuck('pay_none'), paymentId: null as unknown as string }]).catch(
      (error: Error) => error,
    );
    const noCharge = await run([{ ...orphan('ch'), gatewayChargeId: null as unknown as string }]).catch(
      (error: Error) => error,
    );

    // Assess
    expect(noPayment).toBeInstanceOf(DatabaseErrorException);
    expect(noCharge).toBeInstanceOf(DatabaseErrorException);
    expect(await findings()).toEqual({});
  });
});

describe('the operator console', () => {
  it('lists the open findings, oldest first, and cannot change them', async () => {
    // Prepare
    await payment('pay_stuck', 'charged', 120);
    await run([orphan('ch_first')]);
    await run([orphan('ch_first'), stuck('pay_stuck'), orphan('ch_resolved')]);
    await run([orphan('ch_first'), stuck('pay_stuck')]);
    const operatorConsole = as('console');

    // Act
    const rows = await operatorConsole.query(
      OPEN_RECONCILIATION_FINDINGS_SQL,
      { limit: 50 },
      OpenFindingRowSchema,
    );
    const resolve = await operatorConsole
      .execute('UPDATE reconciliation_findings SET resolved_at = now()')
      .catch((error: Error) => error);

    // Assess
    expect(rows.map(openFindingOf)).toEqual([
      {
        findingId: 'charge_without_payment:ch_first',
        kind: 'charge_without_payment',
        paymentId: null,
        reference: 'ref_ch_first',
        gatewayChargeId: 'ch_first',
        amountPence: 1500,
        paymentStatus: null,
        occurredAt: '2026-03-02T10:00:00.000Z',
        firstFoundAt: expect.any(String),
        lastFoundAt: expect.any(String),
      },
      expect.objectContaining({ findingId: 'charged_not_vended:pay_stuck', paymentId: 'pay_stuck' }),
    ]);
    expect(resolve).toBeInstanceOf(DatabaseErrorException);
    expect((resolve as Error).message).toMatch(PERMISSION_DENIED);
  });
});

describe('what the reconciliation role may not do', () => {
  const statements = [
    ["move a payment's status", "UPDATE payments SET status = 'vended'"],
    ["read a payment's status token hash", 'SELECT status_token_hash FROM payments'],
    ["read a payment's meter", 'SELECT meter_id FROM payments'],
    ['read customer events', 'SELECT body FROM payment_events'],
    [
      'append a customer event',
      "INSERT INTO payment_events (id, payment_id, seq, type) VALUES (1, 'p', 1, 'vended')",
    ],
    ['read vends', 'SELECT utrn FROM vends'],
    ["read a follow-up's task token", 'SELECT task_token FROM follow_ups'],
    ['close a follow-up', 'UPDATE follow_ups SET closed_at = now()'],
    ['read the audit trail', 'SELECT operator FROM decisions'],
    ['delete a finding', 'DELETE FROM reconciliation_findings'],
    ['read an idempotency record', 'SELECT response FROM idempotency_records'],
    ['read the migrations ledger', 'SELECT version FROM schema_migrations'],
  ];

  it.each(statements)('cannot %s', async (_what, sql) => {
    // Act
    const error = await as('reconcile')
      .execute(sql)
      .catch((failure: Error) => failure);

    // Assess
    expect(error).toBeInstanceOf(DatabaseErrorException);
    expect((error as Error).message).toMatch(PERMISSION_DENIED);
  });

  it.each(
    (Object.keys(SERVICE_ROLES) as ServiceRoleKey[]).filter(
      (role) => role !== 'reconcile' && role !== 'console',
    ),
  )('leaves the findings to it: the %s role cannot read them', async (role) => {
    // Act
    const error = await as(role)
      .execute('SELECT finding_id FROM reconciliation_findings')
      .catch((failure: Error) => failure);

    // Assess
    expect((error as Error).message).toMatch(PERMISSION_DENIED);
  });
});

describe('migration 0007 on a cluster whose reconciliation role already exists', () => {
  let other: DataApiForTests;

  beforeAll(async () => {
    other = await startDataApi();
  }, 30_000);

  afterAll(async () => {
    await other?.close();
  });

  it('keeps the role and leaves it with exactly its own grants', async () => {
    // Prepare: roles belong to the cluster, so another database may have made it, with other grants
    await migrate({
      client: other.client,
      ...other.target,
      migrations: (await loadMigrations()).filter((migration) => migration.version < 7),
    });
    await other.sql('CREATE ROLE payments_reconcile NOLOGIN');
    await other.sql('GRANT ALL ON payments, vends TO payments_reconcile');

    // Act
    const { applied } = await migrate({ client: other.client, ...other.target });
    const reconcile = new DataApi(other.client, SERVICE_TARGETS.reconcile);
    const readVends = await reconcile.execute('SELECT utrn FROM vends').catch((error: Error) => error);
    const movePayment = await reconcile
      .execute("UPDATE payments SET status = 'vended'")
      .catch((error: Error) => error);

    // Assess
    expect(applied).toEqual(['0007_reconciliation']);
    expect((readVends as Error).message).toMatch(PERMISSION_DENIED);
    expect((movePayment as Error).message).toMatch(PERMISSION_DENIED);
    expect(await new DataApiReconciliationRecords(reconcile).recordedCharges(['pay_none'])).toEqual([]);
  });
});

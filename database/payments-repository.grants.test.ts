/**
 * Least privilege to the database: each service's role (migration 0005) runs every statement of its part of
 * the payments repository, and is refused the rest, through the embedded Data API with each service's own
 * secret, with the error Aurora's Data API gives (`DatabaseErrorException`, `ERROR: permission denied for table
 * …; SQLState: 42501`).
 *
 * Grants are per table and column, so a role may also run another method whose statements touch nothing more
 * than its own do; those are listed in ALSO_PERMITTED with why, and the matrix test fails on any other.
 */
import { DatabaseErrorException } from '@aws-sdk/client-rds-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataApi } from './data-api.ts';
import { loadMigrations, migrate } from './migrate.ts';
import { PaymentChargeConflictError } from './payments-errors.ts';
import { DataApiPaymentsRepository, type PaymentsRepository } from './payments-repository.ts';
import { SERVICE_ROLES, type ServiceRoleKey } from './service-roles.ts';
import { APPEND_PAYMENT_EVENT_SQL } from './statements.ts';
import { type DataApiForTests, SERVICE_TARGETS, startDataApi } from './testing/data-api.ts';
import { migratedSnapshot } from './testing/migrated-snapshot.ts';

type Method = keyof PaymentsRepository;

/** What each service's code is given (payments-repository.ts's narrow interfaces). */
const OWN_METHODS = {
  frontEnd: ['acceptPayment', 'findPayment', 'eventsAfterSeq', 'eventsAfterId', 'lastEventId'],
  charge: [
    'findPayment',
    'recordCharged',
    'recordChargeDeclined',
    'recordChargeUnconfirmed',
    'recordRefunded',
  ],
  notify: ['appendEvent'],
  meterVending: [
    'recordVendAttempt',
    'recordVendFailed',
    'appendEvent',
    'recordUtrnByHand',
    'recordVendFound',
  ],
  followUp: ['findPayment', 'openFollowUp', 'recordDecision'],
  // The console's own queries are database/operator-views.ts's; it writes nothing here.
  console: [],
  // The reconciliation task runs none of the payments repository: its statements are database/reconciliation.ts's,
  // held to its grants by reconciliation.test.ts.
  reconcile: [],
} as const satisfies Record<ServiceRoleKey, readonly Method[]>;

/** Methods a role can run besides its own, because their statements need no grant beyond its own statements'. */
const ALSO_PERMITTED: Record<ServiceRoleKey, readonly Method[]> = {
  frontEnd: [],
  // RECORD_VEND_FAILED_SQL sets status and updated_at, as the charge's own statements do: a column grant
  // cannot tell one status from another (the statements' WHERE clauses and the CHECK constraints do).
  charge: ['recordVendFailed'],
  // Appending reads the event log (the seq and position of the event it wrote, or of one already there).
  notify: ['eventsAfterSeq', 'eventsAfterId', 'lastEventId'],
  // recordVendFailed reads the payment when it moves nothing (FIND_PAYMENT_SQL); appending reads the log.
  meterVending: ['findPayment', 'eventsAfterSeq', 'eventsAfterId', 'lastEventId'],
  followUp: [],
  // It reads payments and their events (not the event log's position, which only tailers need).
  console: ['findPayment', 'eventsAfterSeq', 'eventsAfterId'],
  // It reads only a payment's charge columns (not its status token hash, meter or events) and writes no payment.
  reconcile: [],
};

const ALL_METHODS: readonly Method[] = [
  'acceptPayment',
  'findPayment',
  'eventsAfterSeq',
  'eventsAfterId',
  'lastEventId',
  'recordCharged',
  'recordChargeDeclined',
  'recordChargeUnconfirmed',
  'recordVendAttempt',
  'recordVendFailed',
  'appendEvent',
  'openFollowUp',
  'recordDecision',
  'recordRefunded',
  'recordUtrnByHand',
  'recordVendFound',
];

const PERMISSION_DENIED = /^ERROR: permission denied for table [a-z_]+; SQLState: 42501$/;

let db: DataApiForTests;
let master: PaymentsRepository;
let paymentCount = 0;

beforeAll(async () => {
  db = await startDataApi({ snapshot: await migratedSnapshot() });
  master = repositoryOf(db.target);
}, 60_000);

afterAll(async () => {
  await db?.close();
});

function repositoryOf(target: DataApiForTests['target'] | (typeof SERVICE_TARGETS)[ServiceRoleKey]) {
  return new DataApiPaymentsRepository(new DataApi(db.client, target));
}

const as = (role: ServiceRoleKey) => repositoryOf(SERVICE_TARGETS[role]);

function nextPaymentId(): string {
  paymentCount += 1;
  return `pay_grants_${paymentCount}`;
}

function acceptRequest(paymentId: string) {
  return {
    idempotencyKey: `key-${paymentId}`,
    requestHash: `hash-${paymentId}`,
    payment: { paymentId, meterId: '1200000000011', amountPence: 2000, statusTokenHash: 'a'.repeat(64) },
    response: { paymentId },
  };
}

/** A payment the front-end accepted, written with the master user. */
async function accepted(): Promise<string> {
  const paymentId = nextPaymentId();
  await master.acceptPayment(acceptRequest(paymentId));
  return paymentId;
}

async function charged(): Promise<string> {
  const paymentId = await accepted();
  await master.recordCharged(paymentId, `ch_${paymentId}`);
  return paymentId;
}

async function vendFailed(): Promise<string> {
  const paymentId = await charged();
  await master.recordVendFailed(paymentId);
  return paymentId;
}

async function openForDecision(): Promise<string> {
  const paymentId = await vendFailed();
  await master.openFollowUp({
    paymentId,
    taskToken: `token-${paymentId}`,
    executionArn: `arn:aws:states:us-east-1:000000000000:execution:PaymentToVend:${paymentId}`,
    deadlineSeconds: 3600,
  });
  return paymentId;
}

const uniqueUtrn = () => String(10_000_000_000_000_000_000n + BigInt(paymentCount));

/** One call of each method that succeeds when the role may run it, on a payment prepared for it. */
const CALLS: Record<Method, (payments: PaymentsRepository) => Promise<unknown>> = {
  acceptPayment: async (payments) => payments.acceptPayment(acceptRequest(nextPaymentId())),
  findPayment: async (payments) => payments.findPayment(await accepted()),
  eventsAfterSeq: async (payments) => payments.eventsAfterSeq(await accepted(), 0),
  eventsAfterId: async (payments) => payments.eventsAfterId(0, 10),
  lastEventId: async (payments) => payments.lastEventId(),
  recordCharged: async (payments) => {
    const paymentId = await accepted();
    return payments.recordCharged(paymentId, `ch_${paymentId}`);
  },
  recordChargeDeclined: async (payments) =>
    payments.recordChargeDeclined(await accepted(), 'generic_decline'),
  recordChargeUnconfirmed: async (payments) =>
    payments.recordChargeUnconfirmed(await accepted(), 'PaymentGatewayUnavailable'),
  recordVendAttempt: async (payments) => {
    const paymentId = await charged();
    return payments.recordVendAttempt({
      paymentId,
      attempt: 1,
      transactionId: `tx_${paymentId}`,
      outcome: 'vended',
      utrn: uniqueUtrn(),
    });
  },
  recordVendFailed: async (payments) => payments.recordVendFailed(await charged()),
  appendEvent: async (payments) =>
    payments.appendEvent({ paymentId: await charged(), type: 'charged', body: { amountPence: 2000 } }),
  openFollowUp: async (payments) => {
    const paymentId = await vendFailed();
    return payments.openFollowUp({
      paymentId,
      taskToken: `token-${paymentId}`,
      executionArn: `arn:aws:states:us-east-1:000000000000:execution:PaymentToVend:${paymentId}`,
      deadlineSeconds: 3600,
    });
  },
  recordDecision: async (payments) => {
    const paymentId = await openForDecision();
    return payments.recordDecision(paymentId, {
      decisionId: `decision-${paymentId}`,
      action: 'refund',
      operator: 'ops@example.com',
      reason: 'the customer asked for a refund',
      decidedAt: new Date().toISOString(),
    });
  },
  recordRefunded: async (payments) => {
    const paymentId = await vendFailed();
    return payments.recordRefunded(paymentId, `re_${paymentId}`);
  },
  recordUtrnByHand: async (payments) => {
    const paymentId = await vendFailed();
    return payments.recordUtrnByHand(paymentId, paymentId, uniqueUtrn());
  },
  recordVendFound: async (payments) => {
    const paymentId = await vendFailed();
    return payments.recordVendFound(paymentId, paymentId, uniqueUtrn());
  },
};

describe.each(Object.keys(SERVICE_ROLES) as ServiceRoleKey[])("the %s's database role", (role) => {
  const permitted = new Set<Method>([...OWN_METHODS[role], ...ALSO_PERMITTED[role]]);

  it.each(ALL_METHODS.map((method) => ({ method, permitted: permitted.has(method) })))(
    '$method: permitted $permitted',
    async ({ method, permitted: expected }) => {
      // Act
      const outcome = await CALLS[method](as(role)).then(
        () => 'ran',
        (error: Error) => error,
      );

      // Assess
      if (expected) {
        expect(outcome).toBe('ran');
      } else {
        expect(outcome).toBeInstanceOf(DatabaseErrorException);
        expect((outcome as Error).message).toMatch(PERMISSION_DENIED);
      }
    },
  );
});

describe('each role, through every path of its own methods', () => {
  it('the front-end replays a key and refuses it with another body', async () => {
    // Prepare
    const frontEnd = as('frontEnd');
    const request = acceptRequest(nextPaymentId());
    await frontEnd.acceptPayment(request);

    // Act
    const replay = await frontEnd.acceptPayment(request);
    const reused = await frontEnd.acceptPayment({ ...request, requestHash: 'another-body' });

    // Assess
    expect(replay).toEqual({
      kind: 'replay',
      statusCode: 202,
      response: { paymentId: request.payment.paymentId },
    });
    expect(reused).toEqual({ kind: 'key_reused' });
  });

  it('the charge task finds a contradicting outcome and reads what the payment records', async () => {
    // Prepare
    const charge = as('charge');
    const paymentId = await charged();

    // Act
    const otherCharge = await charge.recordCharged(paymentId, 'ch_other').catch((error: Error) => error);
    const decline = await charge
      .recordChargeDeclined(paymentId, 'generic_decline')
      .catch((error: Error) => error);
    const unconfirmed = await charge.recordChargeUnconfirmed(paymentId, 'States.Timeout');

    // Assess
    expect(otherCharge).toBeInstanceOf(PaymentChargeConflictError);
    expect(decline).toBeInstanceOf(PaymentChargeConflictError);
    expect(unconfirmed).toEqual({ outcome: 'charged', chargeId: `ch_${paymentId}`, declineReason: null });
  });

  it.each(['notify', 'meterVending'] as const)(
    'the %s task finds an event it already appended',
    async (role) => {
      // Prepare
      const events = as(role);
      const event = { paymentId: await charged(), type: 'vend_retrying', body: { attempt: 2 } } as const;
      await events.appendEvent(event);

      // Act
      const again = await events.appendEvent(event);

      // Assess
      expect(again).toEqual({ recorded: false, seq: 2 });
    },
  );

  it('the meter-vending task records a repeated attempt once, and a vend failed after the payment moved on', async () => {
    // Prepare
    const vending = as('meterVending');
    const paymentId = await charged();
    const attempt = {
      paymentId,
      attempt: 1,
      transactionId: `tx_${paymentId}`,
      outcome: 'rejected',
      rejectionCode: 'NOT_FOR_THIS_DEVICE',
      endsVend: true,
    } as const;
    await vending.recordVendAttempt(attempt);

    // Act
    const repeated = await vending.recordVendAttempt(attempt);
    const status = await vending.recordVendFailed(paymentId);

    // Assess
    expect(repeated).toBe('already-recorded');
    expect(status).toEqual({ status: 'vend_failed', utrn: null });
  });
});

describe('what no service may do', () => {
  const statements: { role: ServiceRoleKey; what: string; sql: string }[] = [
    { role: 'frontEnd', what: "move a payment's status", sql: "UPDATE payments SET status = 'vended'" },
    {
      role: 'frontEnd',
      what: 'record a vend',
      sql: "INSERT INTO vends (payment_id, attempt, transaction_id, outcome) VALUES ('p', 1, 't', 'vendor_unavailable')",
    },
    { role: 'frontEnd', what: 'delete a payment', sql: 'DELETE FROM payments' },
    { role: 'charge', what: 'append a customer event', sql: APPEND_PAYMENT_EVENT_SQL },
    { role: 'charge', what: "set a payment's amount", sql: 'UPDATE payments SET amount_pence = 1000' },
    { role: 'notify', what: "move a payment's status", sql: "UPDATE payments SET status = 'vended'" },
    { role: 'notify', what: 'read an idempotency record', sql: 'SELECT response FROM idempotency_records' },
    { role: 'meterVending', what: 'change a recorded vend', sql: 'UPDATE vends SET utrn = NULL' },
    {
      role: 'meterVending',
      what: "record a payment's charge",
      sql: "UPDATE payments SET gateway_charge_id = 'ch'",
    },
    {
      role: 'meterVending',
      what: 'read the migrations ledger',
      sql: 'SELECT version FROM schema_migrations',
    },
  ];

  it.each(statements)('the $role role cannot $what', async ({ role, sql }) => {
    // Act
    const error = await new DataApi(db.client, SERVICE_TARGETS[role])
      .execute(sql, { paymentId: 'p', type: 'charged', body: { json: {} } })
      .then(
        () => undefined,
        (failure: Error) => failure,
      );

    // Assess
    expect(error).toBeInstanceOf(DatabaseErrorException);
    expect(error?.message).toMatch(PERMISSION_DENIED);
  });
});

describe('migrations 0005 and 0006 on a cluster whose roles already exist', () => {
  let other: DataApiForTests;

  beforeAll(async () => {
    other = await startDataApi();
  }, 30_000);

  afterAll(async () => {
    await other?.close();
  });

  it('keeps the roles and leaves each with exactly its own grants', async () => {
    // Prepare: roles belong to the cluster, so another database may have made them, and with other grants
    await migrate({
      client: other.client,
      ...other.target,
      migrations: (await loadMigrations()).filter((migration) => migration.version < 5),
    });
    await other.sql('CREATE ROLE payments_charge NOLOGIN');
    await other.sql('GRANT ALL ON vends, payment_events TO payments_charge');

    // Act
    const { applied } = await migrate({ client: other.client, ...other.target });
    const readVends = await new DataApi(other.client, SERVICE_TARGETS.charge)
      .execute('SELECT payment_id FROM vends')
      .then(
        () => undefined,
        (error: Error) => error,
      );

    // Assess
    expect(applied).toEqual(['0005_service_roles', '0006_follow_ups', '0007_reconciliation']);
    expect(readVends?.message).toMatch(PERMISSION_DENIED);
    const { records } = await other.sql(
      "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'payments\\_%' AND NOT rolcanlogin",
    );
    expect(records).toEqual([[{ longValue: Object.keys(SERVICE_ROLES).length }]]);
  });
});

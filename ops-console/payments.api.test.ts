/**
 * The console's payments side against the whole system in this process: payments made through the front-end
 * run the real PaymentToVend machine on the embedded AWS (short retries), and the console reads the payments
 * database as its own read-only role and hands decisions to the waiting executions through the AWS SDK.
 * What an operator relies on: a vendor-down payment is found open in follow-up with why and what the customer
 * was told; a refund decided from the console ends it refunded, with the customer told, the audit trail
 * written and the gateway refunding once; a malformed decision is refused naming its field; nothing is
 * decided by a read-only console; the reconciliation task's open findings are in the follow-up list, oldest
 * first, read as the console's own role.
 */
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataApi } from '../database/data-api.ts';
import type { OpenFinding } from '../database/reconciliation.ts';
import type { PaymentDetail } from './payments/payments-service.ts';
import {
  type ConsoleSystem,
  FINISH_TIMEOUT_MS,
  METERS,
  pollUntil,
  startConsoleSystem,
} from './testing/console-system.ts';

const SETUP_TIMEOUT_MS = 120_000;
const OPERATOR = 'ops-test-operator';

let env: ConsoleSystem;
let acting: FastifyInstance;
let readOnly: FastifyInstance;
let noDatabase: FastifyInstance;
type Payment = { paymentId: string; executionArn: string };
/** Refunded through the API. */
let refundedByApi: Payment;
/** Refunded through the page's form. */
let refundedByForm: Payment;

beforeAll(async () => {
  env = await startConsoleSystem();
  const database = env.system.consoleDatabase;
  // Each console its own alerts queue: consoles sharing one would share its alerts out between them.
  acting = await env.buildConsole({
    actionsEnabled: true,
    database,
    operator: OPERATOR,
    alertsQueueName: 'ops-console-alerts-acting',
  });
  readOnly = await env.buildConsole({ database, alertsQueueName: 'ops-console-alerts-read-only' });
  noDatabase = await env.buildConsole({ alertsQueueName: 'ops-console-alerts-no-database' });
  [refundedByApi, refundedByForm] = await Promise.all([
    env.pay({ meterId: METERS.vendorDown }),
    env.pay({ meterId: METERS.vendorDown }),
  ]);
  await Promise.all([refundedByApi, refundedByForm].map((payment) => untilOpen(payment.paymentId)));
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await env?.close();
});

async function detail(app: FastifyInstance, paymentId: string, query = ''): Promise<PaymentDetail> {
  const response = await app.inject({ method: 'GET', url: `/api/payments/${paymentId}${query}` });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as PaymentDetail;
}

/** Waits until the payment's execution waits for a decision (its follow-up is open). */
async function untilOpen(paymentId: string): Promise<PaymentDetail> {
  return pollUntil(
    async () => {
      const response = await acting.inject({ method: 'GET', url: `/api/payments/${paymentId}` });
      const body = response.json() as PaymentDetail;
      return response.statusCode === 200 && body.followUp?.open === true ? body : undefined;
    },
    { timeoutMs: FINISH_TIMEOUT_MS, intervalMs: 300, what: `${paymentId} to wait for a decision` },
  );
}

function decide(app: FastifyInstance, paymentId: string, payload: object) {
  return app.inject({ method: 'POST', url: `/api/payments/${paymentId}/decisions`, payload });
}

describe('a payment whose vendor stays down', () => {
  it('is open in follow-up because its vend failed, with what the customer was told and every attempt', async () => {
    // Act
    const { payment, followUp, events, vends, decisions, execution } = await detail(
      readOnly,
      refundedByApi.paymentId,
    );

    // Assess
    expect(payment).toMatchObject({
      paymentId: refundedByApi.paymentId,
      meterId: METERS.vendorDown,
      amountPence: 2000,
      status: 'vend_failed',
      gatewayChargeId: expect.any(String),
      utrn: null,
      refundId: null,
    });
    expect(followUp).toMatchObject({
      reason: 'vend_failed',
      open: true,
      overdue: false,
      escalations: 0,
      closedAt: null,
      executionArn: refundedByApi.executionArn,
      allowedActions: ['revend', 'record_utrn', 'refund'],
    });
    expect(JSON.stringify(followUp)).not.toMatch(/token/i);
    expect(events.map((event) => event.type)).toEqual(
      expect.arrayContaining(['accepted', 'charged', 'vend_requested', 'vend_failed']),
    );
    expect(events.at(-1)).toMatchObject({ type: 'vend_failed', fields: { reason: 'VendorUnavailable' } });
    expect(vends.length).toBeGreaterThan(0);
    for (const vend of vends)
      expect(vend).toMatchObject({ outcome: 'vendor_unavailable', error: 'VendorUnavailable' });
    expect(decisions).toEqual([]);
    expect(execution).toEqual({ executionArn: refundedByApi.executionArn, status: 'RUNNING' });
  });

  it('is in the follow-up list and the search, and its VendingFailure message and alert are on its page', async () => {
    // Act
    const followUp = (await readOnly.inject({ method: 'GET', url: '/api/follow-up' })).json();
    const search = await readOnly.inject({
      method: 'GET',
      url: `/api/payments?meterId=${METERS.vendorDown}&status=vend_failed`,
    });
    const withMessages = await detail(readOnly, refundedByApi.paymentId, '?peekSourceQueues=true');
    const alerts = await pollUntil(
      async () => {
        const { alerts: found } = await detail(readOnly, refundedByApi.paymentId);
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 15_000, what: 'the on-call alert about the payment' },
    );

    // Assess
    expect(followUp.openPayments.ok).toBe(true);
    expect(followUp.openPayments.value).toContainEqual(
      expect.objectContaining({ paymentId: refundedByApi.paymentId, reason: 'vend_failed', escalations: 0 }),
    );
    const queueNames = followUp.queues.value.map((queue: { name: string }) => queue.name);
    expect(queueNames).toEqual(
      expect.arrayContaining(['PaymentFailure', 'VendingFailure', 'VendingFailure-dlq']),
    );
    expect(search.statusCode).toBe(200);
    expect(search.json().payments).toContainEqual(
      expect.objectContaining({ paymentId: refundedByApi.paymentId, openFor: 'vend_failed' }),
    );
    expect(withMessages.queueMessages.messages).toContainEqual(
      expect.objectContaining({ queueName: 'VendingFailure', paymentId: refundedByApi.paymentId }),
    );
    expect(alerts[0]).toMatchObject({
      paymentId: refundedByApi.paymentId,
      subject: 'PaymentToVend: a paid top-up could not be vended',
    });
  });

  it('shows the decisions as forms when the console may act, and says how to act when it may not', async () => {
    const actingPage = await acting.inject({ method: 'GET', url: `/payments/${refundedByApi.paymentId}` });
    const readOnlyPage = await readOnly.inject({
      method: 'GET',
      url: `/payments/${refundedByApi.paymentId}`,
    });

    expect(actingPage.statusCode).toBe(200);
    for (const action of ['revend', 'record_utrn', 'refund']) {
      expect(actingPage.body).toContain(`name="action" value="${action}"`);
    }
    expect(actingPage.body).not.toContain('value="recheck_charge"');
    expect(actingPage.body).toContain(OPERATOR);
    expect(readOnlyPage.statusCode).toBe(200);
    expect(readOnlyPage.body).not.toContain('<form class="decision"');
    expect(readOnlyPage.body).toContain('--enable-actions');
  });
});

describe('the pages', () => {
  it('render the search, the follow-up list and the alerts, each linking to the open payment', async () => {
    const link = `href="/payments/${refundedByForm.paymentId}"`;
    const get = (url: string) => readOnly.inject({ method: 'GET', url });
    // Its alert may still be on its way to the console's queue.
    await pollUntil(
      async () => ((await detail(readOnly, refundedByForm.paymentId)).alerts.length > 0 ? true : undefined),
      {
        timeoutMs: 15_000,
        what: 'the on-call alert about the payment',
      },
    );
    const [search, followUp, alerts] = await Promise.all([
      get(`/payments?meterId=${METERS.vendorDown}`),
      get('/follow-up'),
      get('/alerts'),
    ]);

    for (const page of [search, followUp, alerts]) {
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.body).toContain(link);
    }
    expect(search.body).toContain('aria-current="page">Payments');
    expect(followUp.body).toContain('VendingFailure');
    expect(alerts.body).toContain('PaymentToVend: a paid top-up could not be vended');
  });

  it('refuses a malformed search on the page and in the API, naming the field', async () => {
    const page = await readOnly.inject({ method: 'GET', url: '/payments?meterId=not-a-meter' });
    const api = await readOnly.inject({ method: 'GET', url: '/api/payments?status=lost' });

    expect(page.statusCode).toBe(400);
    expect(page.body).toContain('meterId: must be a meter id');
    expect(api.statusCode).toBe(400);
    expect(api.json()).toMatchObject({ field: 'status' });
  });
});

describe('deciding', () => {
  it.each([
    ['record_utrn without a UTRN', { action: 'record_utrn', reason: 'the vendor gave it by phone' }, 'utrn'],
    ['a UTRN that is not 20 digits', { action: 'record_utrn', reason: 'by phone', utrn: '1234' }, 'utrn'],
    ['a UTRN with a refund', { action: 'refund', reason: 'down', utrn: '12345678901234567890' }, 'utrn'],
    ['an unknown action', { action: 'shrug', reason: 'why not' }, 'action'],
    ['an empty reason', { action: 'refund', reason: '   ' }, 'reason'],
    ['no reason', { action: 'refund' }, 'reason'],
  ])('refuses %s with 400 naming the field', async (_what, payload, field) => {
    const response = await decide(acting, refundedByApi.paymentId, payload);

    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toMatchObject({ code: 'invalid_request', field });
  });

  it('refuses any decision with 403 when the console is read-only, through the API and the form', async () => {
    const api = await decide(readOnly, refundedByApi.paymentId, { action: 'refund', reason: 'read-only' });
    const form = await readOnly.inject({
      method: 'POST',
      url: `/payments/${refundedByApi.paymentId}/decisions`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'action=refund&reason=read-only',
    });

    expect(api.statusCode).toBe(403);
    expect(api.json()).toMatchObject({ code: 'actions_disabled' });
    expect(form.statusCode).toBe(403);
  });

  it('refuses what cannot end the payment (409), an unknown payment (404), and answers 503 without a database', async () => {
    const notAllowed = await decide(acting, refundedByApi.paymentId, {
      action: 'recheck_charge',
      reason: 'is it charged?',
    });
    const unknown = await decide(acting, 'pay_nobody', { action: 'refund', reason: 'who?' });
    const withoutDatabase = await noDatabase.inject({
      method: 'GET',
      url: `/api/payments/${refundedByApi.paymentId}`,
    });
    const withoutDatabasePage = await noDatabase.inject({ method: 'GET', url: '/payments' });

    expect(notAllowed.statusCode).toBe(409);
    expect(notAllowed.json()).toMatchObject({ code: 'decision_not_allowed' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'payment_not_found' });
    expect(withoutDatabase.statusCode).toBe(503);
    expect(withoutDatabase.json()).toMatchObject({ code: 'no_database' });
    expect(withoutDatabasePage.statusCode).toBe(200);
    expect(withoutDatabasePage.body).toContain('no payments database');
  });

  it('refunds: the payment ends refunded, the customer is told, the audit trail has it, the gateway refunds once', async () => {
    // Act
    const response = await decide(acting, refundedByApi.paymentId, {
      action: 'refund',
      reason: 'the vendor is down all day',
    });
    const again = await decide(acting, refundedByApi.paymentId, {
      action: 'revend',
      reason: 'changed my mind',
    });

    // Assess
    expect(response.statusCode, response.body).toBe(202);
    const { decision } = response.json();
    expect(response.json()).toMatchObject({
      paymentId: refundedByApi.paymentId,
      executionArn: refundedByApi.executionArn,
      decision: { action: 'refund', operator: OPERATOR, reason: 'the vendor is down all day' },
    });
    // The execution has the first decision: the second is refused, whether it met the used token or the closed follow-up.
    expect(again.statusCode).toBe(409);
    expect(['decision_token_stale', 'payment_not_open']).toContain(again.json().code);

    expect(await env.waitUntilFinished(refundedByApi.executionArn)).toBe('SUCCEEDED');
    const ended = await detail(readOnly, refundedByApi.paymentId);
    expect(ended.payment).toMatchObject({ status: 'refunded', refundId: expect.any(String) });
    expect(ended.events.at(-1)).toMatchObject({
      type: 'refunded',
      fields: { refundId: ended.payment.refundId, amountPence: 2000 },
    });
    expect(ended.decisions).toEqual([
      expect.objectContaining({
        decisionId: decision.decisionId,
        action: 'refund',
        operator: OPERATOR,
        reason: 'the vendor is down all day',
        utrn: null,
      }),
    ]);
    expect(ended.followUp).toMatchObject({ open: false, closedAt: expect.any(String), allowedActions: [] });
    expect(ended.execution).toMatchObject({ status: 'SUCCEEDED' });
    expect(env.system.simulators.gateway.refundCount(ended.payment.gatewayChargeId ?? '')).toBe(1);

    const afterwards = await decide(acting, refundedByApi.paymentId, { action: 'refund', reason: 'again' });
    expect(afterwards.statusCode).toBe(409);
    expect(afterwards.json()).toMatchObject({ code: 'payment_not_open' });
    const open = (await acting.inject({ method: 'GET', url: '/api/follow-up' })).json();
    expect(open.openPayments.value.map((item: { paymentId: string }) => item.paymentId)).not.toContain(
      refundedByApi.paymentId,
    );
  });

  it('takes a decision from the page’s form: a mistake shows the page again, a decision comes back to it', async () => {
    const url = `/payments/${refundedByForm.paymentId}/decisions`;
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };

    // Act
    const mistaken = await acting.inject({ method: 'POST', url, headers, payload: 'action=refund&reason=' });
    const decided = await acting.inject({
      method: 'POST',
      url,
      headers,
      payload: new URLSearchParams({
        action: 'refund',
        reason: 'customer asked for the money back',
        decisionId: 'form-decision-1',
      }).toString(),
    });

    // Assess
    expect(mistaken.statusCode).toBe(400);
    expect(mistaken.headers['content-type']).toMatch(/^text\/html/);
    expect(mistaken.body).toContain('Not decided: reason');
    expect(decided.statusCode, decided.body).toBe(303);
    expect(decided.headers.location).toBe(
      `/payments/${refundedByForm.paymentId}?decided=form-decision-1&action=refund`,
    );
    expect(await env.waitUntilFinished(refundedByForm.executionArn)).toBe('SUCCEEDED');
    const page = await readOnly.inject({ method: 'GET', url: `/payments/${refundedByForm.paymentId}` });
    expect(page.body).toContain('customer asked for the money back');
    expect(page.body).toContain('data-decision="form-decision-1"');
  });
});

describe('redriving a dead-letter queue', () => {
  it('is refused for a queue that is not one (409), and when the console is read-only (403)', async () => {
    const notDeadLetter = await acting.inject({
      method: 'POST',
      url: '/api/follow-up/dead-letter-queues/PaymentFailure/redrive',
    });
    const readOnlyRedrive = await readOnly.inject({
      method: 'POST',
      url: '/api/follow-up/dead-letter-queues/VendingFailure-dlq/redrive',
    });

    expect(notDeadLetter.statusCode).toBe(409);
    expect(notDeadLetter.json()).toMatchObject({ code: 'not_a_dead_letter_queue' });
    expect(readOnlyRedrive.statusCode).toBe(403);
  });
});

describe('alerts', () => {
  it('lists the on-call alerts the console received, newest first', async () => {
    const response = await readOnly.inject({ method: 'GET', url: '/api/alerts' });

    expect(response.statusCode).toBe(200);
    const { status, alerts } = response.json();
    expect(status).toMatchObject({ state: 'listening', topicArn: env.system.onCallTopicArn });
    expect(alerts.map((alert: { paymentId: string }) => alert.paymentId)).toEqual(
      expect.arrayContaining([refundedByApi.paymentId, refundedByForm.paymentId]),
    );
    const publishedAt = alerts.map((alert: { publishedAt: string }) => alert.publishedAt);
    expect(publishedAt).toEqual([...publishedAt].sort().reverse());
  });
});

describe('reconciliation findings', () => {
  /** What the reconciliation task records (RECORD_RECONCILIATION_SQL), written here as the master user. */
  async function recordFindings(paymentId: string) {
    const rds = new RDSDataClient({
      endpoint: env.system.aws.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      await new DataApi(rds, env.system.masterDatabase).execute(
        `INSERT INTO reconciliation_findings (finding_id, kind, payment_id, reference, gateway_charge_id,
           amount_pence, payment_status, occurred_at, first_found_at, last_found_at, resolved_at)
         VALUES
           ('charge_without_payment:ch_sim_orphan', 'charge_without_payment', NULL, 'order-from-elsewhere',
             'ch_sim_orphan', 1500, NULL, now() - interval '3 hours', now() - interval '1 hour',
             now() - interval '5 minutes', NULL),
           ('charged_not_vended:' || :paymentId, 'charged_not_vended', :paymentId, NULL, 'ch_sim_stuck', 2000,
             'charged', now() - interval '4 hours', now() - interval '2 hours', now() - interval '5 minutes', NULL),
           ('charge_without_payment:ch_sim_settled', 'charge_without_payment', NULL, 'settled-since',
             'ch_sim_settled', 700, NULL, now() - interval '9 hours', now() - interval '8 hours',
             now() - interval '7 hours', now() - interval '6 hours')`,
        { paymentId },
      );
    } finally {
      rds.destroy();
    }
  }

  it('are listed in GET /api/follow-up and on the page, open ones only, oldest first', async () => {
    // Prepare
    await recordFindings(refundedByForm.paymentId);

    // Act
    const api = await readOnly.inject({ method: 'GET', url: '/api/follow-up' });
    const page = await readOnly.inject({ method: 'GET', url: '/follow-up' });
    const withoutDatabase = await noDatabase.inject({ method: 'GET', url: '/api/follow-up' });

    // Assess
    expect(api.statusCode, api.body).toBe(200);
    const { reconciliation } = api.json() as { reconciliation: { ok: true; value: OpenFinding[] } };
    expect(reconciliation.ok).toBe(true);
    expect(reconciliation.value).toEqual([
      {
        findingId: `charged_not_vended:${refundedByForm.paymentId}`,
        kind: 'charged_not_vended',
        paymentId: refundedByForm.paymentId,
        reference: null,
        gatewayChargeId: 'ch_sim_stuck',
        amountPence: 2000,
        paymentStatus: 'charged',
        occurredAt: expect.stringMatching(/Z$/),
        firstFoundAt: expect.stringMatching(/Z$/),
        lastFoundAt: expect.stringMatching(/Z$/),
      },
      expect.objectContaining({
        findingId: 'charge_without_payment:ch_sim_orphan',
        kind: 'charge_without_payment',
        paymentId: null,
        reference: 'order-from-elsewhere',
        gatewayChargeId: 'ch_sim_orphan',
        amountPence: 1500,
        paymentStatus: null,
      }),
    ]);
    const [stuck] = reconciliation.value;
    expect(Date.parse(stuck!.lastFoundAt) - Date.parse(stuck!.firstFoundAt)).toBeGreaterThan(60 * 60_000);

    expect(page.statusCode).toBe(200);
    const section = page.body.slice(page.body.indexOf('id="reconciliation-heading"'));
    expect(section).toContain('Reconciliation');
    const stuckRow = section.indexOf(`data-finding="charged_not_vended:${refundedByForm.paymentId}"`);
    const orphanRow = section.indexOf('data-finding="charge_without_payment:ch_sim_orphan"');
    expect(stuckRow).toBeGreaterThan(-1);
    expect(orphanRow).toBeGreaterThan(stuckRow);
    expect(section).toContain(`href="/payments/${refundedByForm.paymentId}"`);
    expect(section).toContain('Charged, not vended');
    expect(section).toContain('Charge without a payment');
    expect(section).toContain('<code>order-from-elsewhere</code>');
    expect(section).toContain('<code>ch_sim_orphan</code>');
    expect(section).toContain('£15.00');
    expect(page.body).not.toContain('ch_sim_settled');

    // Without a database the findings say why, and the rest of the list is still there.
    expect(withoutDatabase.statusCode).toBe(200);
    expect(withoutDatabase.json().reconciliation).toMatchObject({
      ok: false,
      problem: expect.stringContaining('no payments database'),
    });
    expect(withoutDatabase.json().queues.ok).toBe(true);
  });
});

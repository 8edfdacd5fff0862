/**
 * The operator console's API against the whole system in this process: payments made through the front-end
 * run the real PaymentToVend machine on the embedded AWS (with short retries), and the console reads them
 * through the AWS SDK as it would read a real account. What an operator relies on: the real reason each
 * execution failed or waits for a decision (a failed vend or an unconfirmed charge keeps its payment open in
 * AwaitDecision), telling declines from what needs an operator, finding an execution by its payment id or start
 * time, each state's story, and stop and redrive only when allowed.
 */
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionDetail, ExecutionPage, ExecutionRow } from './executions/executions-service.ts';
import {
  CARDS,
  type ConsoleSystem,
  FINISH_TIMEOUT_MS,
  METERS,
  startConsoleSystem,
} from './testing/console-system.ts';

const SETUP_TIMEOUT_MS = 120_000;

let env: ConsoleSystem;
let readOnly: FastifyInstance;
let acting: FastifyInstance;
type Payment = { paymentId: string; executionArn: string };
let flaky: Payment;
let vendorDown: Payment;
let rejected: Payment;
let declined: Payment;
/** The gateway never answered: the charge is unconfirmed. */
let unconfirmed: Payment;
/** Declined, to be redriven (the others keep their first outcome for the tests that read them). */
let toRedrive: Payment;
/** Waiting for a decision, to be stopped and redriven. */
let toStop: Payment;
let stateMachineArn: string;

beforeAll(async () => {
  env = await startConsoleSystem();
  stateMachineArn = env.system.stateMachineArn;
  [flaky, vendorDown, rejected, declined, unconfirmed, toRedrive, toStop] = await Promise.all([
    env.pay({ meterId: METERS.flaky }),
    env.pay({ meterId: METERS.vendorDown }),
    env.pay({ meterId: METERS.notForThisDevice }),
    env.pay({ meterId: METERS.vends, paymentToken: CARDS.declined }),
    env.pay({ meterId: METERS.vends, paymentToken: CARDS.gatewayDown }),
    env.pay({ meterId: METERS.vends, paymentToken: CARDS.declined }),
    env.pay({ meterId: METERS.notForThisDevice }),
  ]);
  // A failed vend and an unconfirmed charge do not end: their executions wait for an operator's decision.
  await Promise.all([
    ...[flaky, declined, toRedrive].map((payment) => env.waitUntilFinished(payment.executionArn)),
    ...[vendorDown, rejected, unconfirmed, toStop].map((payment) =>
      env.waitUntilAwaitingDecision(payment.executionArn),
    ),
  ]);
  readOnly = await env.buildConsole();
  acting = await env.buildConsole({ actionsEnabled: true });
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await env?.close();
});

function executionsUrl(query: Record<string, string> = {}, machineArn = stateMachineArn): string {
  const search = new URLSearchParams(query).toString();
  return `/api/state-machines/${encodeURIComponent(machineArn)}/executions${search === '' ? '' : `?${search}`}`;
}

async function list(query: Record<string, string> = {}): Promise<ExecutionPage> {
  const response = await readOnly.inject({ method: 'GET', url: executionsUrl(query) });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as ExecutionPage;
}

async function detail(app: FastifyInstance, executionArn: string): Promise<ExecutionDetail> {
  const response = await app.inject({
    method: 'GET',
    url: `/api/executions/${encodeURIComponent(executionArn)}`,
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as ExecutionDetail;
}

function rowOf(page: ExecutionPage, payment: Payment): ExecutionRow | undefined {
  return page.executions.find((row) => row.name === payment.paymentId);
}

describe('the executions list', () => {
  it('lists the state machines', async () => {
    // Act
    const response = await readOnly.inject({ method: 'GET', url: '/api/state-machines' });

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json().stateMachines).toContainEqual(
      expect.objectContaining({ name: 'PaymentToVend', stateMachineArn, type: 'STANDARD' }),
    );
  });

  it('shows a payment open for a decision as awaiting one, with the failure that led there as its reason', async () => {
    // Act
    const running = await list({ status: 'RUNNING', limit: '100' });

    // Assess: a vendor that stayed down, a meter that refused, a charge the gateway never confirmed.
    expect(rowOf(running, vendorDown)).toMatchObject({
      status: 'RUNNING',
      outcome: 'awaiting_decision',
      failure: { error: 'VendorUnavailable', stateName: 'Vend', eventType: 'TaskFailed' },
      declineReason: null,
      stopDate: null,
    });
    expect(rowOf(running, vendorDown)?.reason).toMatch(/^VendorUnavailable: .*503/);
    expect(rowOf(running, rejected)).toMatchObject({
      outcome: 'awaiting_decision',
      reason: 'VendRejected: NOT_FOR_THIS_DEVICE',
      failure: { error: 'VendRejected', cause: 'NOT_FOR_THIS_DEVICE', stateName: 'Vend' },
    });
    expect(rowOf(running, unconfirmed)).toMatchObject({
      outcome: 'awaiting_decision',
      failure: { error: 'PaymentGatewayUnavailable', stateName: 'Charge' },
    });
    // The charge Lambda's own message, not its JSON error envelope.
    expect(rowOf(running, unconfirmed)?.reason).toMatch(/^PaymentGatewayUnavailable: [^{]/);
    expect(rowOf(running, unconfirmed)?.reason).not.toContain('errorType');
    // None of them failed: they wait.
    const failed = await list({ status: 'FAILED', limit: '100' });
    for (const payment of [vendorDown, rejected, unconfirmed]) expect(rowOf(failed, payment)).toBeUndefined();
  });

  it('gives a failed execution the error and cause that ended it, and tells a decline from what needs an operator', async () => {
    // Act
    const failed = await list({ status: 'FAILED', limit: '100' });

    // Assess
    expect(rowOf(failed, declined)).toMatchObject({
      status: 'FAILED',
      outcome: 'charge_declined',
      declineReason: 'generic_decline',
      reason: 'generic_decline',
    });
    expect(failed.executions.every((row) => row.outcome === 'charge_declined')).toBe(true);
    expect(rowOf(failed, flaky)).toBeUndefined();

    const succeeded = await list({ status: 'SUCCEEDED', limit: '100' });
    expect(rowOf(succeeded, flaky)).toMatchObject({ outcome: 'succeeded', reason: null, failure: null });
  });

  it('finds an execution by its payment id, whole or in part', async () => {
    // Act
    const whole = await list({ name: rejected.paymentId });
    const part = await list({ name: rejected.paymentId.slice(4, 16).toUpperCase() });
    const none = await list({ name: 'pay_nothing_like_it' });

    // Assess
    expect(whole.executions.map((row) => row.name)).toEqual([rejected.paymentId]);
    expect(part.executions.map((row) => row.name)).toContain(rejected.paymentId);
    expect(none.executions).toEqual([]);
  });

  it('finds executions by when they started', async () => {
    // Prepare
    const started = (await detail(readOnly, flaky.executionArn)).execution.startDate;
    const before = new Date(Date.parse(started) - 60_000).toISOString();
    const after = new Date(Date.parse(started) + 60_000).toISOString();

    // Act
    const around = await list({ from: before, to: after, limit: '100' });
    const later = await list({ from: after });
    const earlier = await list({ to: before });

    // Assess
    for (const payment of [flaky, vendorDown, rejected, declined])
      expect(rowOf(around, payment)).toBeDefined();
    expect(later.executions).toEqual([]);
    expect(earlier.executions).toEqual([]);
  });

  it('pages through the executions, each once', async () => {
    // Act: a page of one at a time, unfiltered and while searching by name.
    const walk = async (query: Record<string, string>) => {
      const names: string[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 50; pages++) {
        const page: ExecutionPage = await list({
          ...query,
          limit: '1',
          ...(cursor === null ? {} : { cursor }),
        });
        names.push(...page.executions.map((row) => row.name));
        cursor = page.nextCursor;
        if (cursor === null) break;
      }
      return names;
    };
    const all = await walk({});
    const searched = await walk({ name: 'pay_' });

    // Assess
    for (const names of [all, searched]) {
      expect(new Set(names).size).toBe(names.length);
      for (const payment of [flaky, vendorDown, rejected, declined, toRedrive])
        expect(names).toContain(payment.paymentId);
    }
  });

  it('refuses a cursor it did not give and a status Step Functions does not have', async () => {
    const badCursor = await readOnly.inject({ method: 'GET', url: executionsUrl({ cursor: 'bm90LW91cnM' }) });
    const badStatus = await readOnly.inject({ method: 'GET', url: executionsUrl({ status: 'DONE' }) });
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json()).toMatchObject({ code: 'invalid_cursor' });
    expect(badStatus.statusCode).toBe(400);
    expect(badStatus.json()).toMatchObject({ code: 'invalid_request', field: 'status' });
  });
});

describe('one execution', () => {
  it('summarises each state of the flaky-vendor execution: Vend retried twice, then succeeded', async () => {
    // Act
    const { execution, states, history, stateMachine, transitions } = await detail(
      readOnly,
      flaky.executionArn,
    );

    // Assess
    expect(execution).toMatchObject({ status: 'SUCCEEDED', outcome: 'succeeded', name: flaky.paymentId });
    const vend = states.find((state) => state.name === 'Vend');
    expect(vend).toMatchObject({
      type: 'Task',
      status: 'succeeded',
      retries: 2,
      visits: 1,
      error: 'VendorUnavailable',
    });
    expect(vend?.attempts.map((attempt) => [attempt.outcome, attempt.error])).toEqual([
      ['failed', 'VendorUnavailable'],
      ['failed', 'VendorUnavailable'],
      ['succeeded', null],
    ]);
    expect(JSON.parse(vend?.output ?? '{}')).toMatchObject({
      vend: { utrn: expect.stringMatching(/^\d{20}$/) },
    });
    expect(vend?.enteredAt).toBeTruthy();
    expect(vend?.exitedAt).toBeTruthy();
    for (const state of states.filter((each) => each.name !== 'Vend')) {
      expect([state.name, state.status, state.retries]).toEqual([state.name, 'succeeded', 0]);
    }
    expect(states.map((state) => state.name)).not.toContain('RecordVendFailed');
    expect(transitions).toContainEqual({ from: 'Vend', to: 'NotifyCustomerVended', caught: false });

    expect(history[0]).toMatchObject({ id: 1, type: 'ExecutionStarted', stateName: null });
    expect(history.filter((row) => row.type === 'TaskFailed').map((row) => row.stateName)).toEqual([
      'Vend',
      'Vend',
    ]);
    for (const row of history.slice(1)) expect(row.previousEventId).not.toBeNull();
    expect(history.at(-1)?.type).toBe('ExecutionSucceeded');

    expect(JSON.parse(stateMachine.definition).States.Vend.Type).toBe('Task');
    expect(JSON.stringify({ execution, states, history })).not.toContain(CARDS.visa);
  });

  it('shows the rejected vend as caught, the customer told, and the execution waiting in AwaitDecision, linked to its payment', async () => {
    // Act
    const { execution, states, transitions } = await detail(readOnly, rejected.executionArn);
    const page = await readOnly.inject({
      method: 'GET',
      url: `/executions/${encodeURIComponent(rejected.executionArn)}`,
    });

    // Assess
    expect(execution).toMatchObject({
      status: 'RUNNING',
      outcome: 'awaiting_decision',
      error: null,
      stopDate: null,
      reason: 'VendRejected: NOT_FOR_THIS_DEVICE',
      failure: { stateName: 'Vend' },
    });
    expect(states.find((state) => state.name === 'Vend')).toMatchObject({
      status: 'caught',
      error: 'VendRejected',
      cause: 'NOT_FOR_THIS_DEVICE',
      retries: 0,
    });
    for (const name of [
      'RecordVendFailed',
      'PublishVendingFailure',
      'AlertOnCall',
      'NotifyCustomerVendFailed',
    ]) {
      expect(states.find((state) => state.name === name)?.status, name).toBe('succeeded');
    }
    expect(states.find((state) => state.name === 'AwaitDecision')).toMatchObject({
      status: 'running',
      exitedAt: null,
    });
    expect(transitions).toContainEqual({ from: 'Vend', to: 'RecordVendFailed', caught: true });
    expect(transitions).toContainEqual({
      from: 'NotifyCustomerVendFailed',
      to: 'AwaitDecision',
      caught: false,
    });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Waiting for an operator decision');
    expect(page.body).toContain(`href="/payments/${rejected.paymentId}"`);
    expect(page.body).toMatch(/<a class="node"[^>]*data-state="AwaitDecision" data-status="running"/);
  });

  it('lays out the graph of the machine the execution ran', async () => {
    // Act
    const response = await readOnly.inject({
      method: 'GET',
      url: `/api/executions/${encodeURIComponent(flaky.executionArn)}/graph`,
    });

    // Assess
    expect(response.statusCode).toBe(200);
    const graph = response.json() as { nodes: { stateName: string | null }[]; edges: { kind: string }[] };
    expect(graph.nodes.map((node) => node.stateName)).toContain('Vend');
    expect(graph.edges.map((edge) => edge.kind)).toEqual(
      expect.arrayContaining(['start', 'next', 'choice', 'catch', 'end']),
    );
  });

  it('answers an unknown execution with 404 and what is not an execution ARN with 400', async () => {
    const unknown = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:pay_unknown`;
    const missing = await readOnly.inject({
      method: 'GET',
      url: `/api/executions/${encodeURIComponent(unknown)}`,
    });
    const malformed = await readOnly.inject({ method: 'GET', url: '/api/executions/not-an-arn' });
    const page = await readOnly.inject({ method: 'GET', url: `/executions/${encodeURIComponent(unknown)}` });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'ExecutionDoesNotExist' });
    expect(malformed.statusCode).toBe(400);
    expect(page.statusCode).toBe(404);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
  });
});

describe('stop and redrive', () => {
  it('are refused while the console is read-only, and its page offers neither', async () => {
    // Act
    const stop = await readOnly.inject({
      method: 'POST',
      url: `/api/executions/${encodeURIComponent(toRedrive.executionArn)}/stop`,
      payload: {},
    });
    const redrive = await readOnly.inject({
      method: 'POST',
      url: `/api/executions/${encodeURIComponent(toRedrive.executionArn)}/redrive`,
    });
    const page = await readOnly.inject({
      method: 'GET',
      url: `/executions/${encodeURIComponent(toRedrive.executionArn)}`,
    });

    // Assess
    for (const response of [stop, redrive]) {
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ code: 'actions_disabled' });
    }
    expect(page.body).not.toContain('data-action=');
    expect(page.body).toContain('--enable-actions');
    const { execution } = await detail(readOnly, toRedrive.executionArn);
    expect(execution).toMatchObject({ status: 'FAILED', redriveCount: 0 });
  });

  it('stop a payment waiting for a decision, and redrive it: it waits again, for the same reason', async () => {
    // Prepare
    const url = `/api/executions/${encodeURIComponent(toStop.executionArn)}`;

    // Act
    const stop = await acting.inject({ method: 'POST', url: `${url}/stop`, payload: { cause: 'test stop' } });

    // Assess
    expect(stop.statusCode, stop.body).toBe(200);
    expect((await detail(acting, toStop.executionArn)).execution).toMatchObject({
      status: 'ABORTED',
      outcome: 'aborted',
      redriveStatus: 'REDRIVABLE',
    });

    // Act
    const redrive = await acting.inject({ method: 'POST', url: `${url}/redrive` });

    // Assess: AwaitDecision is entered again (a new token on the same follow-up row).
    expect(redrive.statusCode, redrive.body).toBe(200);
    await env.waitUntilAwaitingDecision(toStop.executionArn);
    const { execution, history } = await detail(acting, toStop.executionArn);
    expect(execution).toMatchObject({
      status: 'RUNNING',
      outcome: 'awaiting_decision',
      redriveCount: 1,
      reason: 'VendRejected: NOT_FOR_THIS_DEVICE',
    });
    expect(history.map((row) => row.type)).toContain('ExecutionRedriven');
  });

  it('stop a running execution and redrive it, when actions are enabled', async () => {
    // Prepare: an execution that waits an hour, so it is surely running when stopped.
    const { stateMachineArn: waiterArn } = await env.sfn.send(
      new CreateStateMachineCommand({
        name: 'OpsConsoleWaiter',
        definition: JSON.stringify({
          StartAt: 'WaitAnHour',
          States: { WaitAnHour: { Type: 'Wait', Seconds: 3600, Next: 'Done' }, Done: { Type: 'Succeed' } },
        }),
        roleArn: 'arn:aws:iam::000000000000:role/test',
      }),
    );
    const { executionArn } = await env.sfn.send(
      new StartExecutionCommand({ stateMachineArn: waiterArn, name: 'waiting-1', input: '{}' }),
    );
    const url = `/api/executions/${encodeURIComponent(executionArn!)}`;
    expect(
      (await acting.inject({ method: 'GET', url: `/executions/${encodeURIComponent(executionArn!)}` })).body,
    ).toContain('data-action="stop"');
    // Running, and not waiting for a decision: listed as running, with no reason.
    const waiters = await acting.inject({ method: 'GET', url: executionsUrl({}, waiterArn!) });
    expect((waiters.json() as ExecutionPage).executions).toEqual([
      expect.objectContaining({ name: 'waiting-1', outcome: 'running', reason: null, failure: null }),
    ]);

    // Act
    const stop = await acting.inject({ method: 'POST', url: `${url}/stop`, payload: { cause: 'test stop' } });

    // Assess
    expect(stop.statusCode, stop.body).toBe(200);
    const stopped = await detail(acting, executionArn!);
    expect(stopped.execution).toMatchObject({
      status: 'ABORTED',
      outcome: 'aborted',
      redriveStatus: 'REDRIVABLE',
    });
    expect(stopped.states.find((state) => state.name === 'WaitAnHour')?.status).toBe('aborted');
    expect(
      (await acting.inject({ method: 'GET', url: `/executions/${encodeURIComponent(executionArn!)}` })).body,
    ).toContain('data-action="redrive"');

    // Act
    const redrive = await acting.inject({ method: 'POST', url: `${url}/redrive` });

    // Assess
    expect(redrive.statusCode, redrive.body).toBe(200);
    expect((await detail(acting, executionArn!)).execution).toMatchObject({
      status: 'RUNNING',
      redriveCount: 1,
    });
    await acting.inject({ method: 'POST', url: `${url}/stop`, payload: {} });
  });

  it('redrive a declined payment, which fails again for the same reason: the decline is the gateway’s answer', async () => {
    // Act
    const redrive = await acting.inject({
      method: 'POST',
      url: `/api/executions/${encodeURIComponent(toRedrive.executionArn)}/redrive`,
    });

    // Assess
    expect(redrive.statusCode, redrive.body).toBe(200);
    await expect
      .poll(
        async () => {
          const described = await env.sfn.send(
            new DescribeExecutionCommand({ executionArn: toRedrive.executionArn }),
          );
          return [described.status, described.redriveCount];
        },
        { timeout: FINISH_TIMEOUT_MS, interval: 200 },
      )
      .toEqual(['FAILED', 1]);
    const { execution, history } = await detail(acting, toRedrive.executionArn);
    expect(execution).toMatchObject({
      redriveCount: 1,
      outcome: 'charge_declined',
      reason: 'generic_decline',
    });
    expect(history.map((row) => row.type)).toContain('ExecutionRedriven');
  });

  it('refuse what Step Functions refuses: a succeeded execution is not redriven', async () => {
    const response = await acting.inject({
      method: 'POST',
      url: `/api/executions/${encodeURIComponent(flaky.executionArn)}/redrive`,
    });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({ code: 'ExecutionNotRedrivable' });
  });
});

describe('what the console answers', () => {
  it('only its own pages and this machine: a foreign Host or another site’s request is refused, its own form is not', async () => {
    // Act
    const rebound = await acting.inject({
      method: 'GET',
      url: '/api/state-machines',
      headers: { host: 'attacker.example' },
    });
    const forged = await acting.inject({
      method: 'POST',
      url: `/api/executions/${encodeURIComponent(vendorDown.executionArn)}/redrive`,
      headers: { origin: 'https://attacker.example' },
    });
    const crossSite = await acting.inject({
      method: 'POST',
      url: `/api/executions/${encodeURIComponent(vendorDown.executionArn)}/redrive`,
      headers: { 'sec-fetch-site': 'cross-site' },
    });

    // A form on the console's own page, as a browser sends it under its `Referrer-Policy: no-referrer`.
    const ownForm = await acting.inject({
      method: 'POST',
      url: `/api/executions/${encodeURIComponent(flaky.executionArn)}/redrive`,
      headers: { 'sec-fetch-site': 'same-origin', origin: 'null' },
    });
    const opaque = await acting.inject({
      method: 'POST',
      url: `/api/executions/${encodeURIComponent(vendorDown.executionArn)}/redrive`,
      headers: { origin: 'null' },
    });

    // Assess
    expect(rebound.statusCode).toBe(403);
    expect(rebound.json()).toMatchObject({ code: 'host_not_allowed' });
    // Let through to Step Functions, which refuses to redrive a succeeded execution.
    expect(ownForm.statusCode).toBe(409);
    expect(ownForm.json()).toMatchObject({ code: 'ExecutionNotRedrivable' });
    for (const response of [forged, crossSite, opaque]) {
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ code: 'cross_site_request' });
    }
    expect((await detail(acting, vendorDown.executionArn)).execution.redriveCount).toBe(0);
  });

  it('documents its API at /docs', async () => {
    const response = await readOnly.inject({ method: 'GET', url: '/docs/json' });
    expect(response.statusCode).toBe(200);
    expect(Object.keys(response.json().paths)).toEqual(
      expect.arrayContaining([
        '/api/state-machines',
        '/api/state-machines/{stateMachineArn}/executions',
        '/api/executions/{executionArn}',
        '/api/executions/{executionArn}/graph',
        '/api/executions/{executionArn}/stop',
        '/api/executions/{executionArn}/redrive',
        '/api/queues',
      ]),
    );
  });

  it('shows the follow-up queues with what they hold', async () => {
    const response = await readOnly.inject({ method: 'GET', url: '/api/queues' });
    expect(response.statusCode).toBe(200);
    const queues = response.json().queues as {
      name: string;
      visible: number;
      deadLetterTarget: string | null;
    }[];
    expect(queues.find((queue) => queue.name === 'VendingFailure')).toMatchObject({
      deadLetterTarget: 'VendingFailure-dlq',
    });
    expect(queues.find((queue) => queue.name === 'VendingFailure')?.visible).toBeGreaterThanOrEqual(1);
  });

  it('serves pages: the lists with each reason, and the execution with its graph coloured', async () => {
    // Act
    const listPage = await readOnly.inject({
      method: 'GET',
      url: `/state-machines/${encodeURIComponent(stateMachineArn)}/executions?status=FAILED&name=`,
    });
    const runningPage = await readOnly.inject({
      method: 'GET',
      url: `/state-machines/${encodeURIComponent(stateMachineArn)}/executions?status=RUNNING`,
    });
    const executionPage = await readOnly.inject({
      method: 'GET',
      url: `/executions/${encodeURIComponent(flaky.executionArn)}`,
    });
    const home = await readOnly.inject({ method: 'GET', url: '/' });

    // Assess
    expect(listPage.statusCode).toBe(200);
    expect(listPage.body).toContain('generic_decline');
    expect(listPage.body).toContain('Card declined');
    expect(runningPage.statusCode).toBe(200);
    expect(runningPage.body).toMatch(
      new RegExp(`<tr data-execution="${rejected.paymentId}" data-outcome="awaiting_decision">`),
    );
    expect(runningPage.body).toContain('NOT_FOR_THIS_DEVICE');
    expect(runningPage.body).toContain('Waiting for an operator decision');
    expect(runningPage.body).toContain(`href="/payments/${rejected.paymentId}"`);
    expect(executionPage.statusCode).toBe(200);
    expect(executionPage.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(executionPage.body).toMatch(/<a class="node"[^>]*data-state="Vend" data-status="retried"/);
    expect(executionPage.body).toContain('retried ×2');
    expect(executionPage.body).toContain('class="edge edge-next taken"');
    expect(executionPage.body).not.toContain(CARDS.visa);
    expect(home.body).toContain('PaymentToVend');
  });
});

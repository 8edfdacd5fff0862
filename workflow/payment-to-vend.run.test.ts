/**
 * PaymentToVend run end to end on the embedded Step Functions, as synthesized from the construct (with short
 * retry intervals), through the real SFN client. Charge, notify, the queues, the topic and the meter-vending
 * consumer are in-process doubles that behave as the DESIGN.md fixtures describe:
 * payment tokens `tok_visa` (charged), `tok_chargeDeclined` (declined), `tok_gatewayOutage` (unavailable
 * once, then charged), `tok_gatewayDown` (always unavailable), `tok_chargedThenCrash` (charged and recorded,
 * then the task crashes every time), `tok_inProgress` (the first request with the key is still at the gateway
 * for the next four attempts, as after a crashed task); meters `VEND_OK` (vends), `VEND_FLAKY`
 * (vendor unavailable twice, then vends), `VEND_DOWN` (vendor stays down), `VEND_MADE_UNSEEN` (down as far
 * as the attempts saw, but asked before a refund the vendor says it vended), `VEND_UNKNOWABLE` (down, and cannot
 * say whether it vended), `VEND_REJECT` (the meter rejects the UTRN), `VEND_SILENT_ONCE` (the first message is lost: no answer, no heartbeat), `VEND_SILENT` (never
 * answered). The charge and meter-vending doubles record outcomes as the real tasks do, by payment. A payment
 * left open waits in AwaitDecision; the follow-up double keeps its token, as the follow_ups row does, and a test
 * decides with SendTaskSuccess, as the operator console does.
 *
 * The scenarios run side by side (`describe.concurrent`): each is a payment of its own, and most of their time
 * is the machine's whole-second retry intervals and heartbeats, which they can as well wait out together.
 */
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { Json } from '@payment-to-vend/embedded-aws';
import { InProcessIntegrations, StatesError, type TaskInvocation } from '@payment-to-vend/embedded-aws';
import { type EmbeddedStepFunctions, embeddedStepFunctions } from '@payment-to-vend/embedded-aws/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChargeResult,
  ChargeTaskRequestSchema,
  ConfirmVendRequestSchema,
  DECISIONS_BY_REASON,
  type Decision,
  DecisionSchema,
  FollowUpTaskRequestSchema,
  type NotifyCustomerRequest,
  NotifyCustomerRequestSchema,
  type PaymentFailureMessage,
  PaymentFailureMessageSchema,
  RecordUtrnRequestSchema,
  RecordVendFailedRequestSchema,
  type VendingFailureMessage,
  VendingFailureMessageSchema,
  type VendMessage,
  VendMessageSchema,
} from './contracts.ts';
import { LOCAL_RESOURCE_NAMES, localResources, synthesizeLocalDefinition } from './local-definition.ts';

const MAX_VEND_ATTEMPTS = 3;
/** Long enough that no test waits it out, except the one about the deadline, which shortens nothing: it waits. */
const DECISION_DEADLINE_SECONDS = 3;
const resources = localResources();

// ─── Doubles ─────────────────────────────────────────────────────────────────────────────────────────

/** Everything the machine sent, by payment; a message that breaks its contract fails the test. */
class Recorded {
  readonly notifications = new Map<string, NotifyCustomerRequest[]>();
  readonly vendMessages = new Map<string, VendMessage[]>();
  readonly paymentFailures = new Map<string, PaymentFailureMessage[]>();
  readonly vendingFailures = new Map<string, VendingFailureMessage[]>();
  readonly alerts: { topicArn: string; subject: unknown; message: string }[] = [];
  readonly chargeCalls = new Map<string, number>();
  /** What the charge double recorded per payment (charged, declined, unconfirmed). */
  readonly charges = new Map<string, ChargeResult>();
  /** The payments RecordVendFailed recorded as failed, with the error. */
  readonly vendFailuresRecorded = new Map<string, string>();
  /** The task tokens AwaitDecision handed the follow-up function, by payment, in order. */
  readonly decisionTokens = new Map<string, string[]>();
  /** The decisions RecordDecision recorded, by payment. */
  readonly decisions = new Map<string, Decision[]>();
  readonly refunds = new Map<string, number>();
  /** How often ConfirmVend asked the vendor, by payment. */
  readonly vendConfirmations = new Map<string, number>();
  /** Payments whose gateway is back for a recheck (it holds no charge of theirs). */
  readonly gatewayBack = new Set<string>();
  /** Meters whose vendor is back: `VEND_DOWN` vends once restored. */
  readonly vendorRestored = new Set<string>();

  add<T>(into: Map<string, T[]>, paymentId: string, item: T): void {
    into.set(paymentId, [...(into.get(paymentId) ?? []), item]);
  }
}

const recorded = new Recorded();
let sfn: EmbeddedStepFunctions;

function charge(parameters: Json): Json {
  const request = ChargeTaskRequestSchema.parse((parameters as { Payload: unknown }).Payload);
  if (request.action === 'refund') {
    recorded.refunds.set(request.paymentId, (recorded.refunds.get(request.paymentId) ?? 0) + 1);
    return lambdaResponse({ refundId: `re_${request.paymentId}`, amountPence: 2000 });
  }
  if (request.action === 'confirm' || request.action === 'recheck') {
    // As the charge task does: an outcome already recorded stands; a recheck of a gateway that is back and holds
    // no charge is a decline; otherwise it is unconfirmed.
    const known = recorded.charges.get(request.paymentId);
    const neverCharged =
      request.action === 'recheck' &&
      recorded.gatewayBack.has(request.paymentId) &&
      known?.outcome === 'unconfirmed';
    const result: ChargeResult = neverCharged
      ? { outcome: 'declined', chargeId: null, declineReason: 'no_charge_at_gateway' }
      : (known ?? { outcome: 'unconfirmed', chargeId: null, declineReason: null });
    recorded.charges.set(request.paymentId, result);
    return lambdaResponse(result);
  }
  const calls = (recorded.chargeCalls.get(request.paymentId) ?? 0) + 1;
  recorded.chargeCalls.set(request.paymentId, calls);
  if (request.paymentToken === 'tok_inProgress' && calls <= 4) {
    throw new StatesError(
      'PaymentGatewayRequestInProgress',
      JSON.stringify({ errorType: 'PaymentGatewayRequestInProgress', errorMessage: 'still working on it' }),
    );
  }
  const unavailable =
    request.paymentToken === 'tok_gatewayDown' ||
    (request.paymentToken === 'tok_gatewayOutage' && calls === 1);
  if (unavailable) {
    // A Lambda function's error reaches Step Functions by its errorType.
    throw new StatesError(
      'PaymentGatewayUnavailable',
      JSON.stringify({ errorType: 'PaymentGatewayUnavailable', errorMessage: 'gateway answered 503' }),
    );
  }
  const result: ChargeResult =
    request.paymentToken === 'tok_chargeDeclined'
      ? { outcome: 'declined', chargeId: null, declineReason: 'generic_decline' }
      : { outcome: 'charged', chargeId: `ch_${request.paymentId}`, declineReason: null };
  recorded.charges.set(request.paymentId, result);
  if (request.paymentToken === 'tok_chargedThenCrash') {
    throw new StatesError('Lambda.Unknown', 'The function crashed after recording the charge.');
  }
  return lambdaResponse(result);
}

function meterVending(parameters: Json): Json {
  const payload = (parameters as { Payload: { action?: unknown } }).Payload;
  if (payload.action === 'recordUtrn') {
    const request = RecordUtrnRequestSchema.parse(payload);
    return lambdaResponse({ utrn: request.utrn, creditPence: request.amountPence });
  }
  if (payload.action === 'confirmVend') {
    const { paymentId } = ConfirmVendRequestSchema.parse(payload);
    recorded.vendConfirmations.set(paymentId, (recorded.vendConfirmations.get(paymentId) ?? 0) + 1);
    switch (recorded.vendMessages.get(paymentId)?.[0]?.meterId) {
      case 'VEND_MADE_UNSEEN':
        return lambdaResponse({ status: 'vended', utrn: '55556666777788889999', creditPence: 2000 });
      case 'VEND_UNKNOWABLE':
        throw new StatesError(
          'VendorUnavailable',
          JSON.stringify({ errorType: 'VendorUnavailable', errorMessage: 'the vendor answered 503' }),
        );
      default:
        return lambdaResponse({ status: 'vend_failed', utrn: null, creditPence: null });
    }
  }
  const request = RecordVendFailedRequestSchema.parse(payload);
  recorded.vendFailuresRecorded.set(request.paymentId, request.failure.Error);
  // VEND_ANSWER_LOST: the first attempt vended and recorded it, but its answer never reached the machine.
  if (recorded.vendMessages.get(request.paymentId)?.[0]?.meterId === 'VEND_ANSWER_LOST') {
    return lambdaResponse({
      status: 'vended',
      utrn: '11112222333344445555',
      creditPence: request.amountPence,
    });
  }
  return lambdaResponse({ status: 'vend_failed', utrn: null, creditPence: null });
}

/** The follow-up function: AwaitDecision keeps the token; RecordDecision checks and records the decision. */
function followUp({ parameters, taskToken }: TaskInvocation): Json {
  const request = FollowUpTaskRequestSchema.parse((parameters as { Payload: unknown }).Payload);
  if (request.action === 'open') {
    expect(request.taskToken).toBe(taskToken);
    recorded.add(recorded.decisionTokens, request.paymentId, request.taskToken);
    return lambdaResponse({ opened: true });
  }
  const decision = DecisionSchema.safeParse(request.decision);
  const reason =
    recorded.charges.get(request.paymentId)?.outcome === 'unconfirmed' ? 'charge_unconfirmed' : 'vend_failed';
  const allowed: readonly string[] = DECISIONS_BY_REASON[reason];
  if (!decision.success || !allowed.includes(decision.data.action)) {
    throw new StatesError('DecisionRefused', JSON.stringify({ errorMessage: 'not a decision it can take' }));
  }
  recorded.add(recorded.decisions, request.paymentId, decision.data);
  const revends = (recorded.decisions.get(request.paymentId) ?? []).filter((d) => d.action === 'revend');
  return lambdaResponse({ action: decision.data.action, vendRound: revends.length + 1 });
}

function notify(parameters: Json): Json {
  const request = NotifyCustomerRequestSchema.parse((parameters as { Payload: unknown }).Payload);
  recorded.add(recorded.notifications, request.paymentId, request);
  return lambdaResponse({ recorded: true });
}

function lambdaResponse(payload: unknown): Json {
  return { ExecutedVersion: '$LATEST', Payload: payload as Json, StatusCode: 200 };
}

function queueNameOf(parameters: Json): string {
  return String((parameters as { QueueUrl: string }).QueueUrl)
    .split('/')
    .pop()!;
}

/** The meter-vending task: reads the message, answers the token later, as a queue consumer does. */
function vendingConsumer(message: VendMessage): void {
  const vendsSoFar = recorded.vendMessages.get(message.paymentId)?.length ?? 0;
  const answer = async () => {
    switch (message.meterId) {
      case 'VEND_SILENT_ONCE':
        if (vendsSoFar === 1) return; // lost: the heartbeat lapses
        return succeed();
      case 'VEND_SILENT':
        return;
      case 'VEND_FLAKY':
        return vendsSoFar <= 2 ? fail('VendorUnavailable', 'vendor answered 503') : succeed();
      case 'VEND_ANSWER_LOST':
        return vendsSoFar === 0 ? undefined : fail('VendorUnavailable', 'vendor answered 503');
      case 'VEND_DOWN':
      case 'VEND_MADE_UNSEEN':
      case 'VEND_UNKNOWABLE':
        if (recorded.vendorRestored.has(message.paymentId)) return succeed();
        return fail('VendorUnavailable', 'vendor answered 503');
      case 'VEND_REJECT':
        return fail('VendRejected', 'the meter rejected the UTRN: not for this device');
      default:
        return succeed();
    }
  };
  const succeed = () =>
    sfn.client.send(
      new SendTaskSuccessCommand({
        taskToken: message.taskToken,
        output: JSON.stringify({ utrn: '12345678901234567890', creditPence: message.amountPence }),
      }),
    );
  const fail = (error: string, cause: string) =>
    sfn.client.send(new SendTaskFailureCommand({ taskToken: message.taskToken, error, cause }));
  setImmediate(() => void answer());
}

function sendMessage(task: TaskInvocation): Json {
  const queue = queueNameOf(task.parameters);
  const body = (task.parameters as { MessageBody: unknown }).MessageBody;
  const { queues } = LOCAL_RESOURCE_NAMES;
  if (queue === queues.paymentSuccess) {
    const message = VendMessageSchema.parse(body);
    recorded.add(recorded.vendMessages, message.paymentId, message);
    vendingConsumer(message);
  } else if (queue === queues.paymentFailure) {
    const message = PaymentFailureMessageSchema.parse(body);
    recorded.add(recorded.paymentFailures, message.paymentId, message);
  } else if (queue === queues.vendingFailure) {
    const message = VendingFailureMessageSchema.parse(body);
    recorded.add(recorded.vendingFailures, message.paymentId, message);
  } else {
    throw new StatesError('SQS.QueueDoesNotExistException', `no queue ${queue}`);
  }
  return { MessageId: `m-${Math.random()}`, MD5OfMessageBody: 'not-computed-by-the-double' };
}

const integrations = new InProcessIntegrations()
  .handle('arn:aws:states:::lambda:invoke', (task) => {
    const { parameters } = task;
    const functionName = (parameters as { FunctionName: string }).FunctionName;
    if (functionName === resources.functions.charge) return charge(parameters);
    if (functionName === resources.functions.notify) return notify(parameters);
    if (functionName === resources.functions.meterVending) return meterVending(parameters);
    if (functionName === resources.functions.followUp) return followUp(task);
    throw new StatesError('Lambda.ResourceNotFoundException', `Function not found: ${functionName}`);
  })
  .handle('arn:aws:states:::sqs:sendMessage', sendMessage)
  .handle('arn:aws:states:::sqs:sendMessage.waitForTaskToken', sendMessage)
  .handle('arn:aws:states:::sns:publish', ({ parameters }) => {
    const { TopicArn, Subject, Message } = parameters as {
      TopicArn: string;
      Subject: unknown;
      Message: string;
    };
    recorded.alerts.push({ topicArn: TopicArn, subject: Subject, message: Message });
    return { MessageId: `sns-${recorded.alerts.length}` };
  });

let stateMachineArn: string;

beforeAll(async () => {
  sfn = await embeddedStepFunctions({ integrations });
  const definition = synthesizeLocalDefinition({
    props: {
      maxVendAttempts: MAX_VEND_ATTEMPTS,
      vendRetryIntervalSeconds: 1,
      vendBackoffRate: 1,
      vendMaxDelaySeconds: 1,
      vendHeartbeatSeconds: 2,
      vendTimeoutSeconds: 10,
      maxChargeAttempts: 2,
      chargeRetryIntervalSeconds: 1,
      decisionDeadlineSeconds: DECISION_DEADLINE_SECONDS,
    },
  });
  stateMachineArn = await sfn.createMachine(definition, { name: 'PaymentToVend' });
});

afterAll(async () => {
  await sfn.close();
});

let payments = 0;

/**
 * Pays as the front-end does (one execution per payment, named by its id) and waits for the end, or (`open`)
 * until the payment waits for an operator's decision.
 */
async function pay(paymentToken: string, meterId: string, { open = false } = {}) {
  payments += 1;
  const paymentId = `pay-${payments}`;
  const input = { paymentId, meterId, amountPence: 2000, paymentToken };
  const { executionArn } = await sfn.client.send(
    new StartExecutionCommand({ stateMachineArn, name: paymentId, input: JSON.stringify(input) }),
  );
  const execution = open
    ? await waitUntilOpen(paymentId, executionArn!)
    : await sfn.waitForEnd(executionArn!);
  return {
    paymentId,
    execution,
    history: async () =>
      (await sfn.client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events ??
      [],
    told: (recorded.notifications.get(paymentId) ?? []).map(({ paymentId: _, ...event }) => event),
    vendMessages: recorded.vendMessages.get(paymentId) ?? [],
    paymentFailures: recorded.paymentFailures.get(paymentId) ?? [],
    vendingFailures: recorded.vendingFailures.get(paymentId) ?? [],
    alerts: alertsAbout(paymentId),
  };
}

async function waitUntilOpen(paymentId: string, executionArn: string, tokens = 1) {
  for (;;) {
    const execution = await sfn.client.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING')
      throw new Error(`${paymentId} ended ${execution.status} before it waited`);
    if ((recorded.decisionTokens.get(paymentId)?.length ?? 0) >= tokens) return execution;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The alerts that name the payment: `pay-1` and not `pay-12`, which the tests running beside it may raise. */
function alertsAbout(paymentId: string) {
  const named = new RegExp(`\\b${paymentId}\\b`);
  return recorded.alerts.filter((alert) => named.test(alert.message));
}

let decisions = 0;

/** Hands an operator's decision to the waiting execution, as the console does, and waits for what follows. */
async function decide(
  run: Awaited<ReturnType<typeof pay>>,
  choice: Pick<Decision, 'action'> & Partial<Decision>,
  { until = 'end' }: { until?: 'end' | 'open again' } = {},
) {
  decisions += 1;
  const tokens = recorded.decisionTokens.get(run.paymentId) ?? [];
  const decision: Decision = {
    decisionId: `decision-${decisions}`,
    operator: 'ops@example.com',
    reason: 'the vendor confirmed the outage is over',
    decidedAt: new Date().toISOString(),
    ...choice,
  };
  await sfn.client.send(
    new SendTaskSuccessCommand({ taskToken: tokens.at(-1), output: JSON.stringify(decision) }),
  );
  const execution =
    until === 'end'
      ? await sfn.waitForEnd(run.execution.executionArn!)
      : await waitUntilOpen(run.paymentId, run.execution.executionArn!, tokens.length + 1);
  return {
    ...run,
    execution,
    told: (recorded.notifications.get(run.paymentId) ?? []).map(({ paymentId: _, ...e }) => e),
  };
}

// ─── Scenarios ───────────────────────────────────────────────────────────────────────────────────────

describe.concurrent('a payment that is charged', () => {
  it('is vended at the first attempt and the customer is told each step', async () => {
    // Act
    const run = await pay('tok_visa', 'VEND_OK');

    // Assess
    expect(run.execution.status).toBe('SUCCEEDED');
    expect(run.told).toEqual([
      { type: 'charged', amountPence: 2000 },
      { type: 'vend_requested', meterId: 'VEND_OK', maxAttempts: MAX_VEND_ATTEMPTS },
      { type: 'vended', utrn: '12345678901234567890', creditPence: 2000 },
    ]);
    expect(run.vendMessages).toEqual([
      expect.objectContaining({
        paymentId: run.paymentId,
        meterId: 'VEND_OK',
        amountPence: 2000,
        chargeId: `ch_${run.paymentId}`,
        attempt: 1,
        maxAttempts: MAX_VEND_ATTEMPTS,
      }),
    ]);
    expect(run.paymentFailures).toEqual([]);
    expect(run.vendingFailures).toEqual([]);
    expect(run.alerts).toEqual([]);
  });

  it('is vended after transient vendor failures, each attempt numbered in its message', async () => {
    // Act
    const run = await pay('tok_visa', 'VEND_FLAKY');

    // Assess
    expect(run.execution.status).toBe('SUCCEEDED');
    expect(run.vendMessages.map((message) => message.attempt)).toEqual([1, 2, 3]);
    expect(run.told.at(-1)).toEqual({ type: 'vended', utrn: '12345678901234567890', creditPence: 2000 });
    expect(run.alerts).toEqual([]);
  });

  it('is asked again when the meter-vending task goes quiet (heartbeat lapses)', async () => {
    // Act
    const run = await pay('tok_visa', 'VEND_SILENT_ONCE');

    // Assess
    expect(run.execution.status).toBe('SUCCEEDED');
    expect(run.vendMessages.map((message) => message.attempt)).toEqual([1, 2]);
    expect(run.told.map((event) => event.type)).toEqual(['charged', 'vend_requested', 'vended']);
  });

  it('is charged once the gateway has finished an earlier attempt it was still working on', async () => {
    // Act
    const run = await pay('tok_inProgress', 'VEND_OK');

    // Assess
    expect(run.execution.status).toBe('SUCCEEDED');
    expect(recorded.chargeCalls.get(run.paymentId)).toBe(5);
    expect(run.alerts).toEqual([]);
  });

  it('is charged after the gateway was unavailable once', async () => {
    // Act
    const run = await pay('tok_gatewayOutage', 'VEND_OK');

    // Assess
    expect(run.execution.status).toBe('SUCCEEDED');
    expect(recorded.chargeCalls.get(run.paymentId)).toBe(2);
    expect(run.told.map((event) => event.type)).toEqual(['charged', 'vend_requested', 'vended']);
  });
});

describe.concurrent('a payment that is not charged', () => {
  it('(declined) goes to PaymentFailure with the reason, the customer is told, nothing is vended', async () => {
    // Act
    const run = await pay('tok_chargeDeclined', 'VEND_OK');

    // Assess
    expect(run.execution.status).toBe('FAILED');
    expect(run.execution.error).toBe('ChargeDeclined');
    expect(recorded.chargeCalls.get(run.paymentId)).toBe(1); // a decline is never retried
    expect(run.paymentFailures).toEqual([
      { paymentId: run.paymentId, meterId: 'VEND_OK', amountPence: 2000, reason: 'generic_decline' },
    ]);
    expect(run.told).toEqual([{ type: 'charge_declined', reason: 'generic_decline' }]);
    expect(run.vendMessages).toEqual([]);
    expect(run.alerts).toEqual([]);
  });
});

describe.concurrent('a payment whose charge cannot be confirmed', () => {
  it('(gateway down throughout) is handed over for reconciliation, on-call paged, the customer told it was not confirmed, and it waits for a decision', async () => {
    // Act
    const run = await pay('tok_gatewayDown', 'VEND_OK', { open: true });

    // Assess
    expect(run.execution.status).toBe('RUNNING');
    expect(recorded.decisionTokens.get(run.paymentId)).toHaveLength(1);
    expect(recorded.chargeCalls.get(run.paymentId)).toBe(2);
    expect(run.paymentFailures).toEqual([
      {
        paymentId: run.paymentId,
        meterId: 'VEND_OK',
        amountPence: 2000,
        reason: 'charge_unconfirmed',
        failure: expect.objectContaining({ Error: 'PaymentGatewayUnavailable' }),
        executionArn: run.execution.executionArn,
      },
    ]);
    expect(run.alerts).toHaveLength(1);
    expect(run.alerts[0]?.message).toContain('could not be confirmed (PaymentGatewayUnavailable)');
    expect(recorded.charges.get(run.paymentId)?.outcome).toBe('unconfirmed');
    expect(run.told).toEqual([{ type: 'charge_unconfirmed' }]);
    expect(run.vendMessages).toEqual([]);
  });

  it('(the task recorded the charge, then kept crashing) goes on as charged, with no page', async () => {
    // Act
    const run = await pay('tok_chargedThenCrash', 'VEND_OK');

    // Assess
    expect(run.execution.status).toBe('SUCCEEDED');
    expect(run.told.map((event) => event.type)).toEqual(['charged', 'vend_requested', 'vended']);
    expect(run.paymentFailures).toEqual([]);
    expect(run.alerts).toEqual([]);
  });
});

describe.concurrent('the payment token', () => {
  it('reaches the Charge step and no state, message or history event after it', async () => {
    // Act
    const run = await pay('tok_visa', 'VEND_OK');
    const history = await run.history();

    // Assess
    const charging = history.findIndex(
      (event) => event.type === 'TaskScheduled' && event.taskScheduledEventDetails?.resource === 'invoke',
    );
    expect(JSON.stringify(history[charging])).toContain('tok_visa');
    const after = history.slice(charging + 1).map((event) => JSON.stringify(event));
    expect(after.filter((event) => event.includes('tok_visa'))).toEqual([]);
    expect(JSON.stringify(run.vendMessages)).not.toContain('tok_visa');
  });
});

describe.concurrent('a charged payment that cannot be vended', () => {
  it('when the vendor stays down: tried maxAttempts times, then followed up, on-call paged once, customer told, and open for a decision', async () => {
    // Act
    const run = await pay('tok_visa', 'VEND_DOWN', { open: true });

    // Assess
    expect(run.execution.status).toBe('RUNNING');
    expect(recorded.decisionTokens.get(run.paymentId)).toHaveLength(1);
    expect(run.vendMessages.map((message) => message.attempt)).toEqual([1, 2, 3]);
    expect(run.vendingFailures).toEqual([
      {
        paymentId: run.paymentId,
        meterId: 'VEND_DOWN',
        amountPence: 2000,
        chargeId: `ch_${run.paymentId}`,
        vendRound: 1,
        failure: { Error: 'VendorUnavailable', Cause: 'vendor answered 503' },
        executionArn: expect.stringContaining(`:${run.paymentId}`),
      },
    ]);
    expect(run.alerts).toHaveLength(1);
    expect(run.alerts[0]!.topicArn).toBe(resources.topics.onCall);
    expect(run.alerts[0]!.message).toContain('VendorUnavailable');
    expect(run.told.map((event) => event.type)).toEqual(['charged', 'vend_requested', 'vend_failed']);
    expect(run.told.at(-1)).toEqual({
      type: 'vend_failed',
      failure: { Error: 'VendorUnavailable', Cause: 'vendor answered 503' },
    });
    expect(recorded.vendFailuresRecorded.get(run.paymentId)).toBe('VendorUnavailable');
  });

  it('when an attempt vended but its answer was lost and the rest failed: the vend stands, nobody is paged', async () => {
    // Act
    const run = await pay('tok_visa', 'VEND_ANSWER_LOST');

    // Assess
    expect(run.execution.status).toBe('SUCCEEDED');
    expect(run.told.at(-1)).toEqual({ type: 'vended', utrn: '11112222333344445555', creditPence: 2000 });
    expect(run.told.map((event) => event.type)).not.toContain('vend_failed');
    expect(run.vendingFailures).toEqual([]);
    expect(run.alerts).toEqual([]);
  });

  it('when every attempt times out: the machine records the failed vend, follows up and pages', async () => {
    // Act
    const run = await pay('tok_visa', 'VEND_SILENT', { open: true });

    // Assess
    expect(run.execution.status).toBe('RUNNING');
    expect(run.vendMessages).toHaveLength(MAX_VEND_ATTEMPTS);
    // A missed heartbeat is recorded as States.Timeout, as on AWS.
    expect(recorded.vendFailuresRecorded.get(run.paymentId)).toBe('States.Timeout');
    expect(run.vendingFailures.map((message) => message.failure.Error)).toEqual(['States.Timeout']);
    expect(run.alerts).toHaveLength(1);
  });

  it('when the meter rejects the UTRN: not retried, followed up, on-call paged, customer told', async () => {
    // Act
    const run = await pay('tok_visa', 'VEND_REJECT', { open: true });

    // Assess
    expect(run.execution.status).toBe('RUNNING');
    expect(run.vendMessages).toHaveLength(1);
    expect(run.vendingFailures.map((message) => message.failure.Error)).toEqual(['VendRejected']);
    expect(run.alerts).toHaveLength(1);
    expect(run.told.at(-1)).toEqual({
      type: 'vend_failed',
      failure: { Error: 'VendRejected', Cause: 'the meter rejected the UTRN: not for this device' },
    });
  });
});

describe.concurrent("an open payment, ended by an operator's decision", () => {
  it('re-vended once the vendor is back: the same Vend again, then vended and the customer told', async () => {
    // Prepare
    const open = await pay('tok_visa', 'VEND_DOWN', { open: true });
    recorded.vendorRestored.add(open.paymentId);

    // Act
    const run = await decide(open, { action: 'revend' });

    // Assess
    expect(run.execution.status).toBe('SUCCEEDED');
    expect(recorded.decisions.get(run.paymentId)?.map((decision) => decision.action)).toEqual(['revend']);
    const vends = recorded.vendMessages.get(run.paymentId) ?? [];
    expect(vends.map((message) => message.attempt)).toEqual([1, 2, 3, 1]);
    expect(run.told.map((event) => event.type)).toEqual([
      'charged',
      'vend_requested',
      'vend_failed',
      'vended',
    ]);
  });

  it('re-vended while the vendor is still down: fails again, pages again, and waits for another decision', async () => {
    // Prepare
    const open = await pay('tok_visa', 'VEND_DOWN', { open: true });

    // Act
    const run = await decide(open, { action: 'revend' }, { until: 'open again' });

    // Assess
    expect(run.execution.status).toBe('RUNNING');
    expect(recorded.vendMessages.get(run.paymentId)).toHaveLength(2 * MAX_VEND_ATTEMPTS);
    const alerts = alertsAbout(run.paymentId);
    expect(alerts).toHaveLength(2);
    expect(alerts.map((alert) => /vend round (\d)/.exec(alert.message)?.[1])).toEqual(['1', '2']);
    const rounds = recorded.vendingFailures.get(run.paymentId)?.map((message) => message.vendRound);
    expect(rounds).toEqual([1, 2]);
  });

  it('with a UTRN the vendor gave by phone: recorded as the vend, the customer told the UTRN', async () => {
    // Prepare
    const open = await pay('tok_visa', 'VEND_REJECT', { open: true });

    // Act
    const run = await decide(open, { action: 'record_utrn', utrn: '98765432109876543210' });

    // Assess
    expect(run.execution.status).toBe('SUCCEEDED');
    expect(run.told.at(-1)).toEqual({ type: 'vended', utrn: '98765432109876543210', creditPence: 2000 });
  });

  it('refunded: the gateway refunds once, the customer is told `refunded`, and the execution succeeds', async () => {
    // Prepare
    const open = await pay('tok_visa', 'VEND_DOWN', { open: true });

    // Act
    const run = await decide(open, { action: 'refund' });

    // Assess
    expect(run.execution.status).toBe('SUCCEEDED');
    expect(recorded.refunds.get(run.paymentId)).toBe(1);
    expect(run.told.at(-1)).toEqual({ type: 'refunded', refundId: `re_${run.paymentId}`, amountPence: 2000 });
    const history = await run.history();
    expect(history.at(-2)).toMatchObject({
      type: 'SucceedStateExited',
      stateExitedEventDetails: { name: 'Refunded' },
    });
  });

  it('refund decided, but the vendor had vended after all: no refund, the customer told vended, on-call told why', async () => {
    // Prepare
    const open = await pay('tok_visa', 'VEND_MADE_UNSEEN', { open: true });

    // Act
    const run = await decide(open, { action: 'refund' });

    // Assess
    expect(run.execution.status).toBe('SUCCEEDED');
    expect(recorded.refunds.get(run.paymentId)).toBeUndefined();
    expect(recorded.vendConfirmations.get(run.paymentId)).toBe(1);
    expect(run.told.at(-1)).toEqual({ type: 'vended', utrn: '55556666777788889999', creditPence: 2000 });
    const alerts = alertsAbout(run.paymentId);
    expect(alerts.at(-1)?.subject).toBe('PaymentToVend: an operator decision could not be carried out');
    expect(alerts.at(-1)?.message).toContain(
      `The refund decision on payment ${run.paymentId} could not be carried out: the vendor had vended (UTRN 55556666777788889999)`,
    );
  });

  it('refund decided while the vendor cannot say whether it vended: no refund, on-call paged, and it waits again', async () => {
    // Prepare
    const open = await pay('tok_visa', 'VEND_UNKNOWABLE', { open: true });

    // Act
    const run = await decide(open, { action: 'refund' }, { until: 'open again' });

    // Assess
    expect(run.execution.status).toBe('RUNNING');
    expect(recorded.refunds.get(run.paymentId)).toBeUndefined();
    // The first ask and its retries.
    expect(recorded.vendConfirmations.get(run.paymentId)).toBe(4);
    const alerts = alertsAbout(run.paymentId);
    expect(alerts.at(-1)?.message).toContain(
      `The refund decision on payment ${run.paymentId} could not be carried out: VendorUnavailable. The payment is still open.`,
    );
  });

  it('refuses a decision the payment cannot take and waits for another', async () => {
    // Prepare
    const open = await pay('tok_visa', 'VEND_DOWN', { open: true });

    // Act
    const refused = await decide(open, { action: 'recheck_charge' }, { until: 'open again' });
    const run = await decide(refused, { action: 'refund' });

    // Assess
    expect(run.execution.status).toBe('SUCCEEDED');
    expect(recorded.decisions.get(run.paymentId)?.map((decision) => decision.action)).toEqual(['refund']);
  });

  it('an unconfirmed charge rechecked: the gateway still does not know, so it waits again without a page', async () => {
    // Prepare
    const open = await pay('tok_gatewayDown', 'VEND_OK', { open: true });

    // Act
    const run = await decide(open, { action: 'recheck_charge' }, { until: 'open again' });

    // Assess
    expect(run.execution.status).toBe('RUNNING');
    const alerts = alertsAbout(run.paymentId);
    expect(alerts).toHaveLength(1);
  });

  it('an unconfirmed charge rechecked once the gateway answers and holds no charge: declined, and the customer told', async () => {
    // Prepare
    const open = await pay('tok_gatewayDown', 'VEND_OK', { open: true });
    recorded.gatewayBack.add(open.paymentId);

    // Act
    const run = await decide(open, { action: 'recheck_charge' });

    // Assess
    expect(run.execution.status).toBe('FAILED');
    expect(run.execution.error).toBe('ChargeDeclined');
    expect(run.told.map((event) => event.type)).toEqual(['charge_unconfirmed', 'charge_declined']);
    expect(run.told.at(-1)).toEqual({ type: 'charge_declined', reason: 'no_charge_at_gateway' });
    const failures = recorded.paymentFailures.get(run.paymentId) ?? [];
    expect(failures.map((message) => message.reason)).toEqual(['charge_unconfirmed', 'no_charge_at_gateway']);
    expect(recorded.vendMessages.get(run.paymentId)).toBeUndefined();
  });

  it('nobody decides before the deadline: on-call is paged again and the payment waits anew', async () => {
    // Prepare
    const open = await pay('tok_visa', 'VEND_REJECT', { open: true });

    // Act: the deadline passes with no decision.
    await waitUntilOpen(open.paymentId, open.execution.executionArn!, 2);

    // Assess
    const escalations = alertsAbout(open.paymentId).filter((alert) => alert.message.includes('still open'));
    expect(escalations).toHaveLength(1);
    expect(escalations[0]?.subject).toBe('PaymentToVend: a payment still waits for an operator decision');
  });
});

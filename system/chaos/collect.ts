/**
 * Reads what the running system keeps about the run's payments, through the same public interfaces an operator
 * would use: the RDS Data API as the master user (every table), Step Functions (ListExecutions,
 * DescribeExecution, GetExecutionHistory), SQS (the follow-up queues, their dead-letter queues, and the run's
 * own queue subscribed to the OnCall topic) and the front-end (GET /api/payments/{id} with each status token).
 *
 * Also the run's alert queue: `subscribeToAlerts` creates it and subscribes it to the OnCall topic at the first
 * start, before any payment; SNS keeps the subscription across restarts.
 */
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import {
  DescribeExecutionCommand,
  type ExecutionListItem,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { DataApi } from '../../database/data-api.ts';
import type {
  AlertRecord,
  CustomerEvent,
  CustomerView,
  DbDecision,
  DbEvent,
  DbFollowUp,
  DbPayment,
  DbVend,
  ExecutionRecord,
} from './records.ts';
import type { ChaosSystemReady } from './system-process.ts';

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
/** The run's own queue on the OnCall topic. */
export const ALERTS_QUEUE = 'ChaosOnCallAlerts';
const PAGE = 500;

/** SDK clients for one start of the system (its endpoint stays the same across restarts). */
export class SystemClients {
  readonly sfn: SFNClient;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  readonly db: DataApi;
  readonly #rds: RDSDataClient;

  constructor(readonly ready: ChaosSystemReady) {
    const common = { endpoint: ready.awsEndpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 };
    this.sfn = new SFNClient({ ...common, disableHostPrefix: true });
    this.sqs = new SQSClient(common);
    this.sns = new SNSClient(common);
    this.#rds = new RDSDataClient(common);
    this.db = new DataApi(this.#rds, ready.masterDatabase);
  }

  destroy(): void {
    this.sfn.destroy();
    this.sqs.destroy();
    this.sns.destroy();
    this.#rds.destroy();
  }
}

/** Creates the run's alert queue and subscribes it to the OnCall topic (idempotent). */
export async function subscribeToAlerts(clients: SystemClients): Promise<string> {
  const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: ALERTS_QUEUE }));
  if (QueueUrl === undefined) throw new Error('CreateQueue gave no QueueUrl');
  const topicArn = clients.ready.onCallTopicArn;
  const queueArn = topicArn.replace(':sns:', ':sqs:').replace(/:[^:]+$/, `:${ALERTS_QUEUE}`);
  await clients.sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl,
      Attributes: {
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'sns.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: queueArn,
              Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
            },
          ],
        }),
      },
    }),
  );
  await clients.sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
  return QueueUrl;
}

const text = z.string();
const nullableText = z.string().nullable();

/** Every table's rows the audit reads, a page at a time. */
export async function readDatabase(db: DataApi) {
  const all = async <Row>(sql: string, row: z.ZodType<Row>): Promise<Row[]> => {
    const rows: Row[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await db.query(`${sql} LIMIT ${PAGE} OFFSET ${offset}`, {}, row);
      rows.push(...page);
      if (page.length < PAGE) return rows;
    }
  };
  const payments: DbPayment[] = (
    await all(
      'SELECT payment_id, meter_id, amount_pence, status, decline_reason, gateway_charge_id, refund_id FROM payments ORDER BY payment_id',
      z.object({
        payment_id: text,
        meter_id: text,
        amount_pence: z.number(),
        status: text,
        decline_reason: nullableText,
        gateway_charge_id: nullableText,
        refund_id: nullableText,
      }),
    )
  ).map((row) => ({
    paymentId: row.payment_id,
    meterId: row.meter_id,
    amountPence: row.amount_pence,
    status: row.status,
    declineReason: row.decline_reason,
    gatewayChargeId: row.gateway_charge_id,
    refundId: row.refund_id,
  }));
  const vends: DbVend[] = (
    await all(
      'SELECT payment_id, attempt, transaction_id, outcome, utrn, recorded_by_hand FROM vends ORDER BY payment_id, attempt',
      z.object({
        payment_id: text,
        attempt: z.number(),
        transaction_id: text,
        outcome: text,
        utrn: nullableText,
        recorded_by_hand: z.boolean(),
      }),
    )
  ).map((row) => ({
    paymentId: row.payment_id,
    attempt: row.attempt,
    transactionId: row.transaction_id,
    outcome: row.outcome,
    utrn: row.utrn,
    recordedByHand: row.recorded_by_hand,
  }));
  const events: DbEvent[] = (
    await all(
      'SELECT payment_id, seq, type FROM payment_events ORDER BY payment_id, seq',
      z.object({ payment_id: text, seq: z.number(), type: text }),
    )
  ).map((row) => ({ paymentId: row.payment_id, seq: row.seq, type: row.type }));
  const followUps: DbFollowUp[] = (
    await all(
      'SELECT payment_id, reason, task_token IS NOT NULL AS has_task_token, closed_at::text AS closed_at, escalations FROM follow_ups ORDER BY payment_id',
      z.object({
        payment_id: text,
        reason: text,
        has_task_token: z.boolean(),
        closed_at: nullableText,
        escalations: z.number(),
      }),
    )
  ).map((row) => ({
    paymentId: row.payment_id,
    reason: row.reason,
    hasTaskToken: row.has_task_token,
    closedAt: row.closed_at,
    escalations: row.escalations,
  }));
  const decisions: DbDecision[] = (
    await all(
      'SELECT decision_id, payment_id, action, utrn FROM decisions ORDER BY payment_id, recorded_at, decision_id',
      z.object({ decision_id: text, payment_id: text, action: text, utrn: nullableText }),
    )
  ).map((row) => ({
    decisionId: row.decision_id,
    paymentId: row.payment_id,
    action: row.action,
    utrn: row.utrn,
  }));
  return { payments, vends, events, followUps, decisions };
}

/** Each payment's status. */
export async function paymentStatuses(db: DataApi): Promise<Map<string, string>> {
  const rows = await db.query(
    'SELECT payment_id, status FROM payments',
    {},
    z.object({ payment_id: text, status: text }),
  );
  return new Map(rows.map((row) => [row.payment_id, row.status]));
}

/** The open follow-ups: the payments waiting for a decision, with the token that hands one over. */
export async function openFollowUps(
  db: DataApi,
): Promise<{ paymentId: string; reason: string; taskToken: string }[]> {
  const rows = await db.query(
    'SELECT payment_id, reason, task_token FROM follow_ups WHERE closed_at IS NULL AND task_token IS NOT NULL ORDER BY payment_id',
    {},
    z.object({ payment_id: text, reason: text, task_token: text }),
  );
  return rows.map((row) => ({ paymentId: row.payment_id, reason: row.reason, taskToken: row.task_token }));
}

/** Every execution of the state machine. */
export async function listExecutions(sfn: SFNClient, stateMachineArn: string, statusFilter?: 'RUNNING') {
  const executions: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new ListExecutionsCommand({
        stateMachineArn,
        maxResults: 1000,
        nextToken,
        ...(statusFilter ? { statusFilter } : {}),
      }),
    );
    executions.push(...(page.executions ?? []));
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return executions;
}

/** Every execution, with a failed one's error and a running one's current state. */
export async function readExecutions(sfn: SFNClient, stateMachineArn: string): Promise<ExecutionRecord[]> {
  const listed = await listExecutions(sfn, stateMachineArn);
  return mapLimited(listed, 4, async (execution): Promise<ExecutionRecord> => {
    const name = execution.name ?? '';
    const status = execution.status ?? 'UNKNOWN';
    if (status === 'RUNNING') {
      return { name, status, currentState: await currentStateOf(sfn, execution.executionArn ?? '') };
    }
    if (status === 'SUCCEEDED') return { name, status };
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: execution.executionArn }));
    return { name, status, error: described.error };
  });
}

/** The state a running execution is in: the last entered, or `after <state>` once left. */
export async function currentStateOf(sfn: SFNClient, executionArn: string): Promise<string | undefined> {
  const { events = [] } = await sfn.send(
    new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 40 }),
  );
  for (const event of events) {
    if (event.stateExitedEventDetails?.name) return `after ${event.stateExitedEventDetails.name}`;
    if (event.stateEnteredEventDetails?.name) return event.stateEnteredEventDetails.name;
  }
  return undefined;
}

/** The last events of an execution, one line each: for a stuck payment's report. */
export async function historyTail(sfn: SFNClient, executionArn: string, count = 12): Promise<string> {
  const { events = [] } = await sfn.send(
    new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: count }),
  );
  return events
    .reverse()
    .map((event) => {
      const state = event.stateEnteredEventDetails?.name ?? event.stateExitedEventDetails?.name ?? '';
      const failure = Object.entries(event).find(
        ([key, value]) => /(Failed|TimedOut)EventDetails$/.test(key) && value !== undefined,
      )?.[1] as { error?: string; cause?: string } | undefined;
      const at = event.timestamp?.toISOString().slice(11, 23) ?? '';
      return `${event.id} ${at} ${event.type} ${state}${failure ? ` ${failure.error}: ${failure.cause?.slice(0, 160)}` : ''}`.trimEnd();
    })
    .join('\n');
}

/** Receives every message a queue holds, leaving them invisible for hours (the run reads them once). */
export async function receiveAll(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (let empty = 0; empty < 3; ) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 43_200,
        WaitTimeSeconds: 0,
      }),
    );
    if (Messages.length === 0) empty++;
    else empty = 0;
    bodies.push(...Messages.map((message) => message.Body ?? ''));
  }
  return bodies;
}

/** How many messages a queue holds, visible or not. */
export async function messageCount(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** An SNS envelope as an alert; undefined when the body is not one. */
export function alertOf(body: string): AlertRecord | undefined {
  try {
    const envelope = JSON.parse(body) as { MessageId?: unknown; Subject?: unknown; Message?: unknown };
    if (typeof envelope.MessageId !== 'string' || typeof envelope.Message !== 'string') return undefined;
    return {
      messageId: envelope.MessageId,
      subject: typeof envelope.Subject === 'string' ? envelope.Subject : '',
      message: envelope.Message,
    };
  } catch {
    return undefined;
  }
}

export function parsedJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

/** What the customer sees: GET /api/payments/{id} with the payment's status token. */
export async function customerView(
  frontEndUrl: string,
  paymentId: string,
  statusToken: string,
): Promise<CustomerView> {
  try {
    const response = await fetch(`${frontEndUrl}/api/payments/${paymentId}`, {
      headers: { authorization: `Bearer ${statusToken}` },
      signal: AbortSignal.timeout(30_000),
    });
    const body = await response.text();
    if (response.status !== 200) return { error: `${response.status} ${body.slice(0, 200)}` };
    const parsed = JSON.parse(body) as { status: string; events: CustomerEvent[] };
    return { status: parsed.status, events: parsed.events };
  } catch (error) {
    return { error: String(error) };
  }
}

/** `work` over `items`, at most `limit` at a time, results in order. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!);
      }
    }),
  );
  return results;
}

/**
 * The payments side of the console: payments searched by id, meter or status; one payment as an operator needs
 * it (the customer's timeline, the charge, every vend attempt, the UTRN, the refund, its execution, the queue
 * messages and alerts about it, its follow-up and the audit trail); the payments open for a decision; and the
 * operator's decision on one (re-vend, record a UTRN, refund, recheck the charge).
 *
 * It reads the payments database as the console's own read-only role (database/operator-views.ts) and writes
 * nothing there: a decision goes to the execution waiting in AwaitDecision, with SendTaskSuccess on the task
 * token its follow-up row keeps, and the execution records it in the audit trail (its RecordDecision step)
 * before carrying it out.
 *
 * @example
 * const payments = new PaymentsService({ views, sfn, executions, queueMessages, alerts, operator: 'alice' });
 * const { decision } = await payments.decide('pay_1', { action: 'refund', reason: 'vendor down all week' });
 * // { decisionId: '…', action: 'refund', operator: 'alice', reason: 'vendor down all week', decidedAt: '…' }
 */
import { randomUUID } from 'node:crypto';
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  InvalidToken,
  SendTaskSuccessCommand,
  type SFNClient,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import type {
  OpenFollowUpItem,
  OperatorDecision,
  OperatorFollowUp,
  OperatorPayment,
  OperatorPaymentEvent,
  OperatorVendAttempt,
  OperatorViews,
  PaymentListItem,
  PaymentSearch,
} from '../../database/operator-views.ts';
import {
  type Decision,
  type DecisionAction,
  DecisionSchema,
  decisionsOpenTo,
} from '../../workflow/contracts.ts';
import type { Alert, AlertsFeed, AlertsStatus } from '../alerts/alerts-feed.ts';
import { OpsConsoleError } from '../errors.ts';
import { type ExecutionsService, executionArnOf } from '../executions/executions-service.ts';
import type { PeekedMessage, QueueMessages } from '../queues/queue-messages.ts';

/** The console was started without a payments database (no --database-cluster-arn / --database-secret-arn). */
export class OpsConsoleNoDatabaseError extends OpsConsoleError {
  constructor() {
    super(
      503,
      'no_database',
      'This console has no payments database: start it with --database-cluster-arn and --database-secret-arn (the payments_console role’s secret); npm start gives its own',
    );
    this.name = 'OpsConsoleNoDatabaseError';
  }
}

export class OpsConsolePaymentNotFoundError extends OpsConsoleError {
  constructor(paymentId: string) {
    super(404, 'payment_not_found', `There is no payment ${paymentId}`);
    this.name = 'OpsConsolePaymentNotFoundError';
  }
}

/**
 * A decision the payment cannot take now: it is not open (`payment_not_open`), the action does not end it
 * (`decision_not_allowed`), or the execution no longer waits on the token the console read
 * (`decision_token_stale`: the deadline passed and it waits anew, or someone else decided first).
 */
export class OpsConsoleDecisionConflictError extends OpsConsoleError {
  constructor(code: 'payment_not_open' | 'decision_not_allowed' | 'decision_token_stale', message: string) {
    super(409, code, message);
    this.name = 'OpsConsoleDecisionConflictError';
  }
}

/** A vend attempt, with the error it ended in (as the execution's history names it). */
export interface VendAttemptView extends OperatorVendAttempt {
  /** `VendorUnavailable`, `VendRejected: NOT_FOR_THIS_DEVICE`, or null for a vend. */
  readonly error: string | null;
}

/** A payment's follow-up as the console shows it: never its task token. */
export interface FollowUpView {
  readonly reason: OperatorFollowUp['reason'];
  readonly open: boolean;
  readonly executionArn: string | null;
  readonly openedAt: string;
  readonly deadlineAt: string;
  /** The deadline passed: on-call is paged again and the payment waits anew. */
  readonly overdue: boolean;
  readonly escalations: number;
  readonly closedAt: string | null;
  /** The decisions that can end it while it is open (decisionsOpenTo); empty once closed. */
  readonly allowedActions: DecisionAction[];
}

export interface PaymentDetail {
  readonly payment: OperatorPayment;
  readonly events: OperatorPaymentEvent[];
  readonly vends: VendAttemptView[];
  readonly followUp: FollowUpView | null;
  readonly decisions: OperatorDecision[];
  /** Its PaymentToVend execution (named by the payment id), when found. */
  readonly execution: { readonly executionArn: string; readonly status: string } | null;
  readonly queueMessages: {
    /** Whether PaymentFailure and VendingFailure were looked at (see queue-messages.ts: each look counts). */
    readonly sourceQueuesPeeked: boolean;
    readonly messages: PeekedMessage[];
    /** Queues holding messages the console did not look at. */
    readonly notLookedAt: string[];
    /** Why the queues could not be read, if they could not. */
    readonly problem: string | null;
  };
  readonly alerts: Alert[];
  readonly alertsStatus: AlertsStatus;
}

export interface DecisionRequest {
  readonly action: DecisionAction;
  readonly reason: string;
  readonly utrn?: string | undefined;
  /** The console's page gives each form one, so a form sent twice is one decision. */
  readonly decisionId?: string | undefined;
}

export interface PaymentsServiceOptions {
  readonly views: OperatorViews | undefined;
  readonly sfn: SFNClient;
  readonly executions: ExecutionsService;
  readonly queueMessages: QueueMessages;
  readonly alerts: AlertsFeed;
  /** Who the audit trail records as deciding. */
  readonly operator: string;
}

/** How long the list of state machines that may be PaymentToVend is kept. */
const MACHINES_TTL_MS = 60_000;

export class PaymentsService {
  readonly #views: OperatorViews | undefined;
  readonly #sfn: SFNClient;
  readonly #executions: ExecutionsService;
  readonly #queueMessages: QueueMessages;
  readonly #alerts: AlertsFeed;
  readonly operator: string;
  #machines: { readonly arns: Promise<string[]>; readonly at: number } | undefined;

  constructor(options: PaymentsServiceOptions) {
    this.#views = options.views;
    this.#sfn = options.sfn;
    this.#executions = options.executions;
    this.#queueMessages = options.queueMessages;
    this.#alerts = options.alerts;
    this.operator = options.operator;
  }

  /** Whether the console has a payments database to read. */
  get available(): boolean {
    return this.#views !== undefined;
  }

  async search(filters: PaymentSearch): Promise<PaymentListItem[]> {
    return this.#database().searchPayments(filters);
  }

  /** Oldest first. */
  async openFollowUps(): Promise<OpenFollowUpItem[]> {
    return this.#database().openFollowUps({ limit: 500 });
  }

  async detail(
    paymentId: string,
    { peekSourceQueues = false }: { peekSourceQueues?: boolean } = {},
  ): Promise<PaymentDetail> {
    const views = this.#database();
    const payment = await views.payment(paymentId);
    if (payment === undefined) throw new OpsConsolePaymentNotFoundError(paymentId);
    const [events, vends, followUp, decisions, queueMessages] = await Promise.all([
      views.events(paymentId),
      views.vends(paymentId),
      views.followUp(paymentId),
      views.decisions(paymentId),
      this.#queueMessagesAbout(paymentId, peekSourceQueues),
    ]);
    const execution = await this.#executionOf(paymentId, followUp?.executionArn ?? null);
    return {
      payment,
      events,
      vends: vends.map((vend) => ({ ...vend, error: vendErrorOf(vend) })),
      followUp: followUp === undefined ? null : followUpView(followUp, payment, decisions),
      decisions,
      execution,
      queueMessages,
      alerts: this.#alerts.recent({ paymentId }),
      alertsStatus: this.#alerts.status(),
    };
  }

  /**
   * Hands an operator's decision to the execution waiting on the payment (SendTaskSuccess on its follow-up's
   * token) and answers the decision as handed over, with the execution it went to; the execution records it
   * and carries it out.
   */
  async decide(
    paymentId: string,
    request: DecisionRequest,
  ): Promise<{ decision: Decision; executionArn: string | null }> {
    const views = this.#database();
    const payment = await views.payment(paymentId);
    if (payment === undefined) throw new OpsConsolePaymentNotFoundError(paymentId);
    const followUp = await views.followUp(paymentId);
    if (followUp === undefined || followUp.closedAt !== null || followUp.taskToken === null) {
      throw new OpsConsoleDecisionConflictError(
        'payment_not_open',
        `Payment ${paymentId} is ${payment.status}: it is not waiting for a decision`,
      );
    }
    const allowed = allowedActionsOf(followUp, payment, await views.decisions(paymentId));
    if (!allowed.includes(request.action)) {
      throw new OpsConsoleDecisionConflictError(
        'decision_not_allowed',
        `Payment ${paymentId} is open because ${describeReason(followUp.reason)}: ${request.action} cannot end it (it can take ${allowed.join(', ') || 'nothing now'})`,
      );
    }
    const decision = DecisionSchema.parse({
      decisionId: request.decisionId ?? randomUUID(),
      action: request.action,
      operator: this.operator,
      reason: request.reason,
      decidedAt: new Date().toISOString(),
      ...(request.utrn === undefined ? {} : { utrn: request.utrn }),
    });
    try {
      await this.#sfn.send(
        new SendTaskSuccessCommand({ taskToken: followUp.taskToken, output: JSON.stringify(decision) }),
      );
    } catch (error) {
      if (
        !(error instanceof TaskTimedOut || error instanceof TaskDoesNotExist || error instanceof InvalidToken)
      ) {
        throw error;
      }
      throw await this.#staleTokenConflict(paymentId, decision);
    }
    return { decision, executionArn: followUp.executionArn };
  }

  /** Why the token was no longer good, read again from the payment's follow-up. */
  async #staleTokenConflict(paymentId: string, decision: Decision): Promise<OpsConsoleDecisionConflictError> {
    const views = this.#database();
    const [now, decisions] = await Promise.all([views.followUp(paymentId), views.decisions(paymentId)]);
    const taken = decisions.find((each) => each.decisionId === decision.decisionId);
    if (taken !== undefined) {
      return new OpsConsoleDecisionConflictError(
        'payment_not_open',
        `This decision (${taken.action}) was already handed over and recorded at ${taken.recordedAt}`,
      );
    }
    if (now !== undefined && now.closedAt === null && now.taskToken !== null) {
      return new OpsConsoleDecisionConflictError(
        'decision_token_stale',
        `Payment ${paymentId} waits for a decision anew (its deadline passed and on-call was paged again, ${now.escalations} time(s) so far): nothing was decided; decide again`,
      );
    }
    return new OpsConsoleDecisionConflictError(
      'decision_token_stale',
      `Payment ${paymentId} no longer waits for this decision: another decision reached it first, or it is being carried out. Reload the payment to see where it is`,
    );
  }

  #database(): OperatorViews {
    if (this.#views === undefined) throw new OpsConsoleNoDatabaseError();
    return this.#views;
  }

  async #queueMessagesAbout(
    paymentId: string,
    peekSourceQueues: boolean,
  ): Promise<PaymentDetail['queueMessages']> {
    try {
      const queues = await this.#queueMessages.followUpQueues({ peekSourceQueues });
      return {
        sourceQueuesPeeked: peekSourceQueues,
        messages: queues.flatMap((queue) =>
          queue.messages.filter(
            (message) => message.paymentId === paymentId || message.body.includes(paymentId),
          ),
        ),
        notLookedAt: queues.filter((queue) => !queue.peeked && queue.visible > 0).map((queue) => queue.name),
        problem: null,
      };
    } catch (error) {
      return {
        sourceQueuesPeeked: false,
        messages: [],
        notLookedAt: [],
        problem: error instanceof Error ? `${error.name}: ${error.message}` : 'The queues could not be read',
      };
    }
  }

  /** The payment's execution: the follow-up names it; else the PaymentToVend machine's execution by its name. */
  async #executionOf(paymentId: string, known: string | null): Promise<PaymentDetail['execution']> {
    const candidates = known !== null ? [known] : await this.#candidateExecutionArns(paymentId);
    for (const executionArn of candidates) {
      try {
        const { status } = await this.#sfn.send(new DescribeExecutionCommand({ executionArn }));
        return { executionArn, status: status ?? 'UNKNOWN' };
      } catch (error) {
        if (error instanceof ExecutionDoesNotExist) continue;
        // Not allowed, or unreachable: the link still leads to it.
        return { executionArn, status: 'UNKNOWN' };
      }
    }
    return null;
  }

  async #candidateExecutionArns(paymentId: string): Promise<string[]> {
    if (this.#machines === undefined || Date.now() - this.#machines.at > MACHINES_TTL_MS) {
      const arns = this.#executions
        .stateMachines()
        .then((machines) =>
          machines
            .filter((machine) => /^paymenttovend/.test(machine.name.toLowerCase().replace(/[^a-z0-9]/g, '')))
            .map((machine) => machine.stateMachineArn),
        );
      arns.catch(() => {
        this.#machines = undefined;
      });
      this.#machines = { arns, at: Date.now() };
    }
    const machines = await this.#machines.arns.catch(() => [] as string[]);
    return machines.flatMap((arn) => {
      const executionArn = executionArnOf(arn, paymentId);
      return executionArn === undefined ? [] : [executionArn];
    });
  }
}

/** What can end an open follow-up: by why it is open, and only while the payment still has that status. */
function allowedActionsOf(
  followUp: Pick<OperatorFollowUp, 'reason' | 'closedAt'>,
  payment: Pick<OperatorPayment, 'status'>,
  decisions: readonly Pick<OperatorDecision, 'action'>[],
): DecisionAction[] {
  if (followUp.closedAt !== null || payment.status !== followUp.reason) return [];
  return [
    ...decisionsOpenTo(
      followUp.reason,
      decisions.map((decision) => decision.action),
    ),
  ];
}

function followUpView(
  followUp: OperatorFollowUp,
  payment: OperatorPayment,
  decisions: readonly OperatorDecision[],
): FollowUpView {
  const open = followUp.closedAt === null;
  return {
    reason: followUp.reason,
    open,
    executionArn: followUp.executionArn,
    openedAt: followUp.openedAt,
    deadlineAt: followUp.deadlineAt,
    overdue: open && Date.parse(followUp.deadlineAt) <= Date.now(),
    escalations: followUp.escalations,
    closedAt: followUp.closedAt,
    allowedActions: allowedActionsOf(followUp, payment, decisions),
  };
}

function vendErrorOf(vend: OperatorVendAttempt): string | null {
  if (vend.outcome === 'rejected') return `VendRejected: ${vend.rejectionCode ?? 'unknown'}`;
  if (vend.outcome === 'vendor_unavailable') return 'VendorUnavailable';
  return null;
}

function describeReason(reason: OperatorFollowUp['reason']): string {
  return reason === 'vend_failed' ? 'its vend failed' : 'its charge is unconfirmed';
}

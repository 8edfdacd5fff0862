/**
 * The PaymentToVend state machine: a card payment becomes credit on a prepayment meter, and the customer
 * hears about every step.
 *
 * ```
 * SetAsidePaymentToken ─▶ Charge ─▶ ChargeOutcome
 *   Charge's Catch (retries exhausted) ─▶ ConfirmCharge ─▶ ChargeOutcome (the charge as recorded)
 * ChargeOutcome
 *   ├ declined    ─▶ PublishPaymentFailure ─▶ NotifyCustomerChargeDeclined ─▶ ChargeDeclined (Fail)
 *   ├ unconfirmed ─▶ PublishChargeUnconfirmed ─▶ AlertOnCallChargeUnconfirmed ─▶ NotifyCustomerChargeUnconfirmed
 *   │                ─▶ AwaitDecision
 *   └ charged     ─▶ NotifyCustomerCharged ─▶ NotifyCustomerVendRequested ─▶ Vend
 * Vend (sqs:sendMessage.waitForTaskToken to PaymentSuccess; Retry on transient vendor errors and timeouts)
 *   ├ vended ─▶ NotifyCustomerVended ─▶ Vended (Succeed)
 *   └ Catch ─▶ RecordVendFailed (asks the vendor first: a vend made with its answer lost stands) ─▶ VendRecorded
 *                ├ vended after all (an attempt's answer was lost) ─▶ VendedAfterAll ─▶ NotifyCustomerVended …
 *                └ otherwise ─▶ PublishVendingFailure ─▶ AlertOnCall ─▶ NotifyCustomerVendFailed ─▶ AwaitDecision
 * AwaitDecision (lambda:invoke.waitForTaskToken: the follow-up row keeps the token for the operator console)
 *   ├ deadline passed ─▶ EscalateOpenPayment (page again) ─▶ AwaitDecision
 *   └ decision ─▶ RecordDecision (audit trail; DecisionRefused ─▶ AwaitDecision) ─▶ Decision
 * Decision
 *   ├ revend         ─▶ Vend (the same transaction id: the vendor never vends twice)
 *   ├ record_utrn    ─▶ RecordUtrnByHand ─▶ NotifyCustomerVended ─▶ Vended (Succeed)
 *   ├ refund         ─▶ ConfirmVend (ask the vendor) ─▶ VendedBeforeRefund
 *   │                    ├ vended after all ─▶ AlertOnCallRefundNotMade ─▶ VendedAfterAll ─▶ NotifyCustomerVended …
 *   │                    └ otherwise ─▶ Refund ─▶ NotifyCustomerRefunded ─▶ Refunded (Succeed)
 *   └ recheck_charge ─▶ RecheckCharge ─▶ RecheckOutcome (charged ─▶ NotifyCustomerCharged …, declined ─▶
 *                       PublishPaymentFailure …, still unconfirmed ─▶ AwaitDecision)
 *   a decision that cannot be carried out ─▶ AlertOnCallDecisionFailed ─▶ AwaitDecision
 * ```
 * A payment whose vend failed, or whose charge is unconfirmed, stays open until an operator's decision ends it
 * (DESIGN.md, "Operators"): the execution waits in AwaitDecision, pages on-call again each time the deadline
 * passes, and ends only as vended, refunded, or declined (a recheck finding no charge).
 *
 * The machine decides; the tasks act, and the task that learns a fact records it (the payment's status moves
 * in the charge and meter-vending tasks; NotifyCustomer only tells the customer). Every message and
 * notification carries the `paymentId`, the idempotency key of every side effect, so a retried step is
 * harmless. The customer hears about each vend
 * retry from the meter-vending task, which reads `attempt` (1-based, from `$$.State.RetryCount`) and
 * `maxAttempts` in the Vend message: Step Functions runs no state between the attempts of a Retry.
 * The message shapes are in `contracts.ts`.
 *
 * The same construct is synthesized by the CDK app for AWS and, with placeholder resources at the embedded
 * AWS's fixed ARNs, by `npm run workflow:asl` into `payment-to-vend.asl.json` for local runs
 * (see `local-definition.ts`).
 *
 * @example
 * const workflow = new PaymentToVend(this, 'PaymentToVend', {
 *   functions: { charge: chargeFunction, notify: notifyFunction, meterVending: meterVendingFunction },
 *   queues: { paymentSuccess, paymentFailure, vendingFailure },
 *   topics: { onCall: onCallTopic },
 *   maxVendAttempts: 4,
 *   logs: { destination: logGroup, level: sfn.LogLevel.ALL },
 *   tracingEnabled: true,
 * });
 * workflow.stateMachine.grantTaskResponse(meterVendingFunction); // SendTaskSuccess/Failure/Heartbeat
 */
import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { CHARGE_UNCONFIRMED, type NotificationType } from './contracts.ts';

/**
 * Error names the tasks report and Retry/Catch match on: a Lambda's error class sets `this.name` to one of
 * these; the meter-vending task passes them as `error` to SendTaskFailure.
 */
export const WorkflowErrors = {
  /** The payment gateway could not be reached or answered 5xx: retried (same idempotency key). */
  paymentGatewayUnavailable: 'PaymentGatewayUnavailable',
  /** The gateway is still working on an earlier attempt with the same key: asked again until it is done. */
  paymentGatewayRequestInProgress: 'PaymentGatewayRequestInProgress',
  /** The vending vendor could not be reached or failed transiently: retried (same transaction id). */
  vendorUnavailable: 'VendorUnavailable',
  /** The vendor or the meter refused the vend (e.g. the UTRN is not for this device): never retried. */
  vendRejected: 'VendRejected',
  /** An operator's decision the payment cannot take: never retried; the payment waits for another. */
  decisionRefused: 'DecisionRefused',
} as const;

/** The page's subject when an operator's decision could not be carried out, whatever stopped it. */
const DECISION_NOT_CARRIED_OUT_SUBJECT = 'PaymentToVend: an operator decision could not be carried out';

/** Retries of the Refund step after its first attempt (its waits grow from chargeRetryIntervalSeconds to 30 s). */
const REFUND_RETRIES = 6;

/** The errors the Fail states end an execution with. */
export const WorkflowOutcomes = {
  chargeDeclined: 'ChargeDeclined',
} as const;

/** The names of the states an operator's decision goes through, which the console and its tests look for. */
export const DecisionStates = {
  /** Waits for the decision: its task token is on the payment's follow-up row. */
  awaitDecision: 'AwaitDecision',
  recordDecision: 'RecordDecision',
} as const;

export interface PaymentToVendProps {
  readonly functions: {
    /** tasks/charge: charges the card through the gateway (idempotency key = paymentId). */
    readonly charge: IFunction;
    /** tasks/notify: appends a customer event to payment_events. */
    readonly notify: IFunction;
    /** tasks/meter-vending: records a vend that failed after the retries, or a UTRN recorded by hand. */
    readonly meterVending: IFunction;
    /** tasks/follow-up: keeps an open payment's task token for the console, and records the decision. */
    readonly followUp: IFunction;
  };
  readonly queues: {
    /** Read by the meter-vending task; each message carries a task token. */
    readonly paymentSuccess: IQueue;
    /** Declined or failed charges, for follow-up. */
    readonly paymentFailure: IQueue;
    /** Vends that could not be completed, for follow-up. */
    readonly vendingFailure: IQueue;
  };
  readonly topics: {
    /** Pages the on-call operators. */
    readonly onCall: ITopic;
  };
  /** Vend attempts in all, the first included. @default 4 */
  readonly maxVendAttempts?: number;
  /** Wait before the first vend retry (IntervalSeconds). @default 5 */
  readonly vendRetryIntervalSeconds?: number;
  /** Multiplier of the wait at each further retry (BackoffRate). @default 2 */
  readonly vendBackoffRate?: number;
  /** Cap on any one wait between vend attempts (MaxDelaySeconds). @default 60 */
  readonly vendMaxDelaySeconds?: number;
  /**
   * The Vend step's HeartbeatSeconds. Step Functions starts this clock when it sends the message, not when the
   * meter-vending task picks it up, so it must cover the time a message may wait in a PaymentSuccess backlog
   * as well as the gap between heartbeats; the task heartbeats at pickup (which also proves the token still
   * open before it calls the vendor) and every 20 s while the vendor answers. A vend whose task died is
   * retried this long after its last heartbeat. @default 300
   */
  readonly vendHeartbeatSeconds?: number;
  /**
   * One vend attempt may take at most this (TimeoutSeconds), queue wait included: the backlog the heartbeat
   * allows, plus the vendor call. @default 600
   */
  readonly vendTimeoutSeconds?: number;
  /** Charge attempts in all when the gateway is unavailable, the first included. @default 3 */
  readonly maxChargeAttempts?: number;
  /** Wait before the first charge retry. @default 2 */
  readonly chargeRetryIntervalSeconds?: number;
  /**
   * How long an open payment waits for an operator's decision before on-call is paged again (AwaitDecision's
   * TimeoutSeconds); every further wait is as long. @default 14400 (4 hours)
   */
  readonly decisionDeadlineSeconds?: number;
  /**
   * How long a payment may stay open, waiting for decisions, before its execution times out (which pages
   * on-call; a redrive waits again). Counted into the execution's timeout. @default 30
   */
  readonly decisionWindowDays?: number;
  /** @default - generated by CloudFormation */
  readonly stateMachineName?: string;
  /** Execution logging to CloudWatch Logs. @default - no logging */
  readonly logs?: sfn.LogOptions;
  /** X-Ray tracing. @default false */
  readonly tracingEnabled?: boolean;
  /**
   * The execution's TimeoutSeconds: an execution still running after this is stuck, and Step Functions ends it
   * TIMED_OUT (which pages on-call). It may not be shorter than the longest the states and their retries can
   * take, or it would cut short an execution that is still going to end well.
   * @default that longest, plus a margin (see `retryBudgetSeconds`)
   */
  readonly executionTimeoutSeconds?: number;
}

/** The defaults of the optional numeric props, as the generated ASL uses them. */
export const PAYMENT_TO_VEND_DEFAULTS = {
  maxVendAttempts: 4,
  vendRetryIntervalSeconds: 5,
  vendBackoffRate: 2,
  vendMaxDelaySeconds: 60,
  vendHeartbeatSeconds: 300,
  vendTimeoutSeconds: 600,
  maxChargeAttempts: 3,
  chargeRetryIntervalSeconds: 2,
  decisionDeadlineSeconds: 14_400,
  decisionWindowDays: 30,
} as const;

export class PaymentToVend extends Construct {
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: PaymentToVendProps) {
    super(scope, id);
    const settings = { ...PAYMENT_TO_VEND_DEFAULTS, ...definedOnly(props) };
    checkSettings(settings);
    const { charge, notify } = props.functions;

    /** A NotifyCustomer step: one event type, the payment id, and the event's own fields. */
    const notifyCustomer = (id: string, type: NotificationType, fields: Record<string, unknown>) => {
      const step = new tasks.LambdaInvoke(this, id, {
        lambdaFunction: notify,
        payload: sfn.TaskInput.fromObject({
          paymentId: sfn.JsonPath.stringAt('$.paymentId'),
          type,
          ...fields,
        }),
        // The notification changes nothing the next states read.
        resultPath: sfn.JsonPath.DISCARD,
      });
      retryPassingFailures(step);
      return step;
    };

    /** A page to the on-call operators: a subject and a message built from the execution's state. */
    const pageOnCall = (id: string, subject: string, message: string) => {
      const page = new tasks.SnsPublish(this, id, {
        topic: props.topics.onCall,
        subject,
        message: sfn.TaskInput.fromText(message),
        resultPath: sfn.JsonPath.DISCARD,
      });
      retryPassingFailures(page);
      return page;
    };

    // ─── Waiting for an operator ──────────────────────────────────────────────────────────────────

    // A payment whose vend failed, or whose charge is unconfirmed, waits here for an operator's decision. The
    // follow-up function keeps the token on the payment's follow-up row, where the console finds it and hands
    // over the decision (SendTaskSuccess). When the deadline passes nobody has decided: on-call is paged again
    // and the payment waits anew (the row counts the escalations).
    const awaitDecision = new tasks.LambdaInvoke(this, DecisionStates.awaitDecision, {
      lambdaFunction: props.functions.followUp,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({
        action: 'open',
        paymentId: sfn.JsonPath.stringAt('$.paymentId'),
        taskToken: sfn.JsonPath.taskToken,
        executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
        deadlineSeconds: settings.decisionDeadlineSeconds,
      }),
      taskTimeout: sfn.Timeout.duration(Duration.seconds(settings.decisionDeadlineSeconds)),
      resultPath: '$.decision',
    });
    retryPassingFailures(awaitDecision);
    const escalate = pageOnCall(
      'EscalateOpenPayment',
      'PaymentToVend: a payment still waits for an operator decision',
      sfn.JsonPath.format(
        'Payment {} ({} pence, meter {}) is still open: nobody has decided how to end it. Decide in the operator console (Follow-up). Execution {}.',
        sfn.JsonPath.stringAt('$.paymentId'),
        sfn.JsonPath.stringAt('$.amountPence'),
        sfn.JsonPath.stringAt('$.meterId'),
        sfn.JsonPath.stringAt('$$.Execution.Id'),
      ),
    );
    awaitDecision.addCatch(escalate, { errors: [sfn.Errors.TIMEOUT], resultPath: '$.decisionTimeout' });
    escalate.next(awaitDecision);

    // The decision goes into the audit trail before it is carried out; one the payment cannot take is refused
    // (never retried) and the payment waits for another.
    const recordDecision = new tasks.LambdaInvoke(this, DecisionStates.recordDecision, {
      lambdaFunction: props.functions.followUp,
      payload: sfn.TaskInput.fromObject({
        action: 'recordDecision',
        paymentId: sfn.JsonPath.stringAt('$.paymentId'),
        decision: sfn.JsonPath.objectAt('$.decision'),
      }),
      resultSelector: {
        action: sfn.JsonPath.stringAt('$.Payload.action'),
        vendRound: sfn.JsonPath.numberAt('$.Payload.vendRound'),
      },
      resultPath: '$.decided',
    });
    retryPassingFailures(recordDecision, [WorkflowErrors.decisionRefused]);
    recordDecision.addCatch(awaitDecision, {
      errors: [WorkflowErrors.decisionRefused],
      resultPath: '$.decisionRefused',
    });
    awaitDecision.next(recordDecision);

    // ─── Charge ───────────────────────────────────────────────────────────────────────────────────

    // The payment token stands for a card: it goes to the Charge step alone, read from the execution's input,
    // and is dropped here so that no later state's input, queue message or history event carries it (a
    // Catch hands on the state's own input, so the token must be gone before Charge, not after it).
    const setAsidePaymentToken = new sfn.Pass(this, 'SetAsidePaymentToken', {
      parameters: {
        paymentId: sfn.JsonPath.stringAt('$.paymentId'),
        meterId: sfn.JsonPath.stringAt('$.meterId'),
        amountPence: sfn.JsonPath.numberAt('$.amountPence'),
        // Re-vends decided by an operator start further rounds of vend attempts (see VendAgain).
        vendRound: 1,
      },
    });

    const chargeResult = {
      outcome: sfn.JsonPath.stringAt('$.Payload.outcome'),
      chargeId: sfn.JsonPath.stringAt('$.Payload.chargeId'),
      declineReason: sfn.JsonPath.stringAt('$.Payload.declineReason'),
    };
    const chargeStep = new tasks.LambdaInvoke(this, 'Charge', {
      lambdaFunction: charge,
      payload: sfn.TaskInput.fromObject({
        action: 'charge',
        paymentId: sfn.JsonPath.stringAt('$.paymentId'),
        meterId: sfn.JsonPath.stringAt('$.meterId'),
        amountPence: sfn.JsonPath.numberAt('$.amountPence'),
        paymentToken: sfn.JsonPath.stringAt('$$.Execution.Input.paymentToken'),
      }),
      resultSelector: chargeResult,
      resultPath: '$.charge',
    });
    // A decline is an answer, not an error: it comes back as `outcome`, so it is never retried. The gateway
    // being unavailable, the task crashing and Lambda throttling are retried: the gateway replays a charge it
    // already made for the same idempotency key (the paymentId), so a retry never charges twice. (The construct
    // adds a Retry of Lambda's service errors too, as AWS's LambdaInvoke does by default.)
    chargeStep.addRetry({
      errors: [WorkflowErrors.paymentGatewayUnavailable, 'Lambda.Unknown', 'Lambda.TooManyRequestsException'],
      interval: Duration.seconds(settings.chargeRetryIntervalSeconds),
      maxAttempts: settings.maxChargeAttempts - 1,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    // An attempt that died while the gateway still worked on its charge (a crashed task, a restart) leaves the
    // retry to find the key in progress. That is not an outage: the gateway answers within its own timeout, so
    // keep asking, for longer than the gateway takes, rather than call the charge unconfirmed.
    chargeStep.addRetry({
      errors: [WorkflowErrors.paymentGatewayRequestInProgress],
      interval: Duration.seconds(settings.chargeRetryIntervalSeconds),
      maxAttempts: 10,
      backoffRate: 1.5,
      maxDelay: Duration.seconds(20),
      jitterStrategy: sfn.JitterType.FULL,
    });

    // A charge whose outcome is still unknown after the retries (the gateway never answered, or the task kept
    // failing) may have taken the money. Before anyone is paged the charge task confirms it: a charge it
    // recorded before it crashed stands, and otherwise it asks the gateway what it did under the payment's
    // reference; a definite answer goes on as charged or declined, and only a still-unknown one is recorded as
    // unconfirmed, for reconciliation.
    const confirmCharge = new tasks.LambdaInvoke(this, 'ConfirmCharge', {
      lambdaFunction: charge,
      payload: sfn.TaskInput.fromObject({
        action: 'confirm',
        paymentId: sfn.JsonPath.stringAt('$.paymentId'),
        chargeError: sfn.JsonPath.stringAt('$.chargeFailure.Error'),
      }),
      resultSelector: chargeResult,
      resultPath: '$.charge',
    });
    retryPassingFailures(confirmCharge);
    chargeStep.addCatch(confirmCharge, { errors: [sfn.Errors.ALL], resultPath: '$.chargeFailure' });

    // Unconfirmed: handed over for reconciliation with the gateway (PaymentFailure, with the error), on-call is
    // paged, and the customer is told the payment is not confirmed yet and not to pay again.
    const publishChargeUnconfirmed = new tasks.SqsSendMessage(this, 'PublishChargeUnconfirmed', {
      queue: props.queues.paymentFailure,
      messageBody: sfn.TaskInput.fromObject({
        paymentId: sfn.JsonPath.stringAt('$.paymentId'),
        meterId: sfn.JsonPath.stringAt('$.meterId'),
        amountPence: sfn.JsonPath.numberAt('$.amountPence'),
        reason: CHARGE_UNCONFIRMED,
        failure: sfn.JsonPath.objectAt('$.chargeFailure'),
        executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
      }),
      resultPath: sfn.JsonPath.DISCARD,
    });
    retryPassingFailures(publishChargeUnconfirmed);
    // Should even the recording fail, the money may still have been taken: reconcile and page all the same.
    confirmCharge.addCatch(publishChargeUnconfirmed, {
      errors: [sfn.Errors.ALL],
      resultPath: '$.recordingFailure',
    });
    const unconfirmed = publishChargeUnconfirmed
      .next(
        pageOnCall(
          'AlertOnCallChargeUnconfirmed',
          'PaymentToVend: a charge could not be confirmed',
          sfn.JsonPath.format(
            'Payment {} ({} pence) for meter {}: the charge could not be confirmed ({}); the card may have been charged. Execution {}. Reconcile with the gateway by idempotency key {}, then decide in the operator console (Follow-up): the payment stays open until then.',
            sfn.JsonPath.stringAt('$.paymentId'),
            sfn.JsonPath.stringAt('$.amountPence'),
            sfn.JsonPath.stringAt('$.meterId'),
            sfn.JsonPath.stringAt('$.chargeFailure.Error'),
            sfn.JsonPath.stringAt('$$.Execution.Id'),
            sfn.JsonPath.stringAt('$.paymentId'),
          ),
        ),
      )
      .next(notifyCustomer('NotifyCustomerChargeUnconfirmed', 'charge_unconfirmed', {}))
      .next(awaitDecision);

    const publishPaymentFailure = new tasks.SqsSendMessage(this, 'PublishPaymentFailure', {
      queue: props.queues.paymentFailure,
      messageBody: sfn.TaskInput.fromObject({
        paymentId: sfn.JsonPath.stringAt('$.paymentId'),
        meterId: sfn.JsonPath.stringAt('$.meterId'),
        amountPence: sfn.JsonPath.numberAt('$.amountPence'),
        reason: sfn.JsonPath.stringAt('$.charge.declineReason'),
      }),
      resultPath: sfn.JsonPath.DISCARD,
    });
    retryPassingFailures(publishPaymentFailure);

    const declined = publishPaymentFailure
      .next(
        notifyCustomer('NotifyCustomerChargeDeclined', 'charge_declined', {
          reason: sfn.JsonPath.stringAt('$.charge.declineReason'),
        }),
      )
      .next(
        new sfn.Fail(this, 'ChargeDeclined', {
          error: WorkflowOutcomes.chargeDeclined,
          cause:
            'The payment did not go through; the customer was told and PaymentFailure has it for follow-up.',
        }),
      );

    // ─── Vend ─────────────────────────────────────────────────────────────────────────────────────

    const vend = new tasks.SqsSendMessage(this, 'Vend', {
      queue: props.queues.paymentSuccess,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      messageBody: sfn.TaskInput.fromObject({
        taskToken: sfn.JsonPath.taskToken,
        paymentId: sfn.JsonPath.stringAt('$.paymentId'),
        meterId: sfn.JsonPath.stringAt('$.meterId'),
        amountPence: sfn.JsonPath.numberAt('$.amountPence'),
        chargeId: sfn.JsonPath.stringAt('$.charge.chargeId'),
        // RetryCount is 0 at the first attempt; the message says which attempt this is, from 1.
        attempt: sfn.JsonPath.mathAdd(sfn.JsonPath.numberAt('$$.State.RetryCount'), 1),
        maxAttempts: settings.maxVendAttempts,
        vendRound: sfn.JsonPath.numberAt('$.vendRound'),
      }),
      heartbeatTimeout: sfn.Timeout.duration(Duration.seconds(settings.vendHeartbeatSeconds)),
      taskTimeout: sfn.Timeout.duration(Duration.seconds(settings.vendTimeoutSeconds)),
      resultSelector: {
        utrn: sfn.JsonPath.stringAt('$.utrn'),
        creditPence: sfn.JsonPath.numberAt('$.creditPence'),
      },
      resultPath: '$.vend',
    });
    // Only what may succeed next time is retried: the vendor being down and a task that went quiet.
    // A rejected UTRN (VendRejected) and anything else go straight to the Catch.
    vend.addRetry({
      errors: [WorkflowErrors.vendorUnavailable, sfn.Errors.TIMEOUT, 'States.HeartbeatTimeout'],
      interval: Duration.seconds(settings.vendRetryIntervalSeconds),
      maxAttempts: settings.maxVendAttempts - 1,
      backoffRate: settings.vendBackoffRate,
      maxDelay: Duration.seconds(settings.vendMaxDelaySeconds),
      jitterStrategy: sfn.JitterType.FULL,
    });

    /** RecordVendFailed's and ConfirmVend's answer: the payment's status, and its vend when one was made. */
    const vendRecordedResult = {
      status: sfn.JsonPath.stringAt('$.Payload.status'),
      utrn: sfn.JsonPath.stringAt('$.Payload.utrn'),
      creditPence: sfn.JsonPath.numberAt('$.Payload.creditPence'),
    };
    // The meter-vending task records vend_failed itself when it learns it (a rejection, or the vendor down at
    // the last attempt); a vend that ran out of time is learned here, so the machine has it recorded.
    const recordVendFailed = new tasks.LambdaInvoke(this, 'RecordVendFailed', {
      lambdaFunction: props.functions.meterVending,
      payload: sfn.TaskInput.fromObject({
        action: 'recordVendFailed',
        paymentId: sfn.JsonPath.stringAt('$.paymentId'),
        amountPence: sfn.JsonPath.numberAt('$.amountPence'),
        failure: sfn.JsonPath.objectAt('$.vendFailure'),
      }),
      resultSelector: vendRecordedResult,
      resultPath: '$.vendRecorded',
    });
    retryPassingFailures(recordVendFailed);

    const publishVendingFailure = new tasks.SqsSendMessage(this, 'PublishVendingFailure', {
      queue: props.queues.vendingFailure,
      messageBody: sfn.TaskInput.fromObject({
        paymentId: sfn.JsonPath.stringAt('$.paymentId'),
        meterId: sfn.JsonPath.stringAt('$.meterId'),
        amountPence: sfn.JsonPath.numberAt('$.amountPence'),
        chargeId: sfn.JsonPath.stringAt('$.charge.chargeId'),
        vendRound: sfn.JsonPath.numberAt('$.vendRound'),
        // The whole error output: Cause is absent when a task fails without one (and after some timeouts).
        failure: sfn.JsonPath.objectAt('$.vendFailure'),
        executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
      }),
      resultPath: sfn.JsonPath.DISCARD,
    });
    retryPassingFailures(publishVendingFailure);

    const alertOnCall = pageOnCall(
      'AlertOnCall',
      'PaymentToVend: a paid top-up could not be vended',
      sfn.JsonPath.format(
        'Payment {} ({} pence) was charged but meter {} could not be credited (vend round {}): {}. Execution {}. Decide in the operator console (Follow-up): re-vend, record a UTRN or refund; the payment stays open until then.',
        sfn.JsonPath.stringAt('$.paymentId'),
        sfn.JsonPath.stringAt('$.amountPence'),
        sfn.JsonPath.stringAt('$.meterId'),
        sfn.JsonPath.stringAt('$.vendRound'),
        sfn.JsonPath.stringAt('$.vendFailure.Error'),
        sfn.JsonPath.stringAt('$$.Execution.Id'),
      ),
    );

    // A failure to record must not keep on-call and the customer from hearing of the failed vend.
    recordVendFailed.addCatch(publishVendingFailure, {
      errors: [sfn.Errors.ALL],
      resultPath: '$.recordingFailure',
    });
    const vendFailed = publishVendingFailure
      .next(alertOnCall)
      .next(
        notifyCustomer('NotifyCustomerVendFailed', 'vend_failed', {
          failure: sfn.JsonPath.objectAt('$.vendFailure'),
        }),
      )
      .next(awaitDecision);
    // Every failure that is left after the retries (rejections included) ends here, so nobody is left
    // not knowing.
    vend.addCatch(recordVendFailed, { errors: [sfn.Errors.ALL], resultPath: '$.vendFailure' });

    const notifyVended = notifyCustomer('NotifyCustomerVended', 'vended', {
      utrn: sfn.JsonPath.stringAt('$.vend.utrn'),
      creditPence: sfn.JsonPath.numberAt('$.vend.creditPence'),
    });
    notifyVended.next(new sfn.Succeed(this, 'Vended'));
    // An attempt can vend and its answer be lost (a crash, a dropped connection) while the attempts after it
    // fail: the payment records the vend, and it stands. Only a vend that did not happen is followed up.
    const vendStands = sfn.Condition.and(
      sfn.Condition.stringEquals('$.vendRecorded.status', 'vended'),
      sfn.Condition.isString('$.vendRecorded.utrn'),
    );
    const vendedAfterAll = new sfn.Pass(this, 'VendedAfterAll', {
      parameters: {
        utrn: sfn.JsonPath.stringAt('$.vendRecorded.utrn'),
        creditPence: sfn.JsonPath.numberAt('$.vendRecorded.creditPence'),
      },
      resultPath: '$.vend',
    });
    vendedAfterAll.next(notifyVended);
    recordVendFailed.next(
      new sfn.Choice(this, 'VendRecorded').when(vendStands, vendedAfterAll).otherwise(vendFailed),
    );
    const charged = notifyCustomer('NotifyCustomerCharged', 'charged', {
      amountPence: sfn.JsonPath.numberAt('$.amountPence'),
    })
      .next(
        notifyCustomer('NotifyCustomerVendRequested', 'vend_requested', {
          meterId: sfn.JsonPath.stringAt('$.meterId'),
          maxAttempts: settings.maxVendAttempts,
        }),
      )
      .next(vend)
      .next(notifyVended);

    const chargeOutcome = new sfn.Choice(this, 'ChargeOutcome')
      .when(sfn.Condition.stringEquals('$.charge.outcome', 'charged'), charged)
      .when(sfn.Condition.stringEquals('$.charge.outcome', 'declined'), declined)
      .when(sfn.Condition.stringEquals('$.charge.outcome', 'unconfirmed'), unconfirmed);
    // No Otherwise: an outcome outside the contract fails the execution (States.NoChoiceMatched) for an
    // operator to look at, rather than telling the customer something that may be untrue.
    confirmCharge.next(chargeOutcome);
    const definition = setAsidePaymentToken.next(chargeStep).next(chargeOutcome);

    // ─── An operator's decision ───────────────────────────────────────────────────────────────────

    // A decision that could not be carried out (the gateway refused the refund, the UTRN is another payment's)
    // pages on-call with the error and leaves the payment open for another decision.
    const decisionFailed = pageOnCall(
      'AlertOnCallDecisionFailed',
      DECISION_NOT_CARRIED_OUT_SUBJECT,
      sfn.JsonPath.format(
        'The {} decision on payment {} could not be carried out: {}. The payment is still open. Execution {}.',
        sfn.JsonPath.stringAt('$.decided.action'),
        sfn.JsonPath.stringAt('$.paymentId'),
        sfn.JsonPath.stringAt('$.decisionFailure.Error'),
        sfn.JsonPath.stringAt('$$.Execution.Id'),
      ),
    );
    decisionFailed.next(awaitDecision);
    const carryOut = <T extends sfn.TaskStateBase>(step: T): T => {
      step.addCatch(decisionFailed, { errors: [sfn.Errors.ALL], resultPath: '$.decisionFailure' });
      return step;
    };

    const recordUtrnByHand = carryOut(
      new tasks.LambdaInvoke(this, 'RecordUtrnByHand', {
        lambdaFunction: props.functions.meterVending,
        payload: sfn.TaskInput.fromObject({
          action: 'recordUtrn',
          paymentId: sfn.JsonPath.stringAt('$.paymentId'),
          amountPence: sfn.JsonPath.numberAt('$.amountPence'),
          utrn: sfn.JsonPath.stringAt('$.decision.utrn'),
        }),
        resultSelector: {
          utrn: sfn.JsonPath.stringAt('$.Payload.utrn'),
          creditPence: sfn.JsonPath.numberAt('$.Payload.creditPence'),
        },
        resultPath: '$.vend',
      }),
    );
    retryPassingFailures(recordUtrnByHand, ['PaymentNotOpen']);

    // The gateway replays a refund it already made for the same key, so a retry never refunds twice.
    const refund = carryOut(
      new tasks.LambdaInvoke(this, 'Refund', {
        lambdaFunction: charge,
        payload: sfn.TaskInput.fromObject({
          action: 'refund',
          paymentId: sfn.JsonPath.stringAt('$.paymentId'),
        }),
        resultSelector: {
          refundId: sfn.JsonPath.stringAt('$.Payload.refundId'),
          amountPence: sfn.JsonPath.numberAt('$.Payload.amountPence'),
        },
        resultPath: '$.refund',
      }),
    );
    // An operator is waiting on it and the key makes every attempt safe: a refund is asked for more often than a
    // charge, so that a gateway's short outage and a lost answer together do not send the payment back to them.
    refund.addRetry({
      errors: [WorkflowErrors.paymentGatewayUnavailable, 'Lambda.Unknown', 'Lambda.TooManyRequestsException'],
      interval: Duration.seconds(settings.chargeRetryIntervalSeconds),
      maxAttempts: REFUND_RETRIES,
      backoffRate: 2,
      maxDelay: Duration.seconds(30),
      jitterStrategy: sfn.JitterType.FULL,
    });
    refund
      .next(
        notifyCustomer('NotifyCustomerRefunded', 'refunded', {
          refundId: sfn.JsonPath.stringAt('$.refund.refundId'),
          amountPence: sfn.JsonPath.numberAt('$.refund.amountPence'),
        }),
      )
      .next(new sfn.Succeed(this, 'Refunded'));

    // A vend can have been made at the vendor with its answer lost, every later attempt failing: the payment then
    // shows no vend while the meter has the credit. Before the money goes back the vendor is asked; a vend it
    // made is recorded and stands, no refund is made, and on-call hears that the decision was overtaken.
    const confirmVend = carryOut(
      new tasks.LambdaInvoke(this, 'ConfirmVend', {
        lambdaFunction: props.functions.meterVending,
        payload: sfn.TaskInput.fromObject({
          action: 'confirmVend',
          paymentId: sfn.JsonPath.stringAt('$.paymentId'),
        }),
        resultSelector: vendRecordedResult,
        resultPath: '$.vendRecorded',
      }),
    );
    confirmVend.addRetry({
      errors: [WorkflowErrors.vendorUnavailable],
      interval: Duration.seconds(settings.vendRetryIntervalSeconds),
      maxAttempts: 3,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    retryPassingFailures(confirmVend);
    const refundOvertaken = pageOnCall(
      'AlertOnCallRefundNotMade',
      DECISION_NOT_CARRIED_OUT_SUBJECT,
      sfn.JsonPath.format(
        'The refund decision on payment {} could not be carried out: the vendor had vended (UTRN {}), its answer lost, so meter {} has the credit. Nothing was refunded; the payment ends vended and the customer is told. Execution {}.',
        sfn.JsonPath.stringAt('$.paymentId'),
        sfn.JsonPath.stringAt('$.vendRecorded.utrn'),
        sfn.JsonPath.stringAt('$.meterId'),
        sfn.JsonPath.stringAt('$$.Execution.Id'),
      ),
    );
    refundOvertaken.next(vendedAfterAll);
    confirmVend.next(
      new sfn.Choice(this, 'VendedBeforeRefund').when(vendStands, refundOvertaken).otherwise(refund),
    );

    // Asks the gateway again: a definite answer goes on as the first one would have (now including "no charge
    // under this reference": declined); still unknown waits again (without paging: on-call already knows).
    const recheckCharge = carryOut(
      new tasks.LambdaInvoke(this, 'RecheckCharge', {
        lambdaFunction: charge,
        payload: sfn.TaskInput.fromObject({
          action: 'recheck',
          paymentId: sfn.JsonPath.stringAt('$.paymentId'),
          // The error that left it unconfirmed, which the payment keeps.
          chargeError: sfn.JsonPath.stringAt('$.chargeFailure.Error'),
        }),
        resultSelector: chargeResult,
        resultPath: '$.charge',
      }),
    );
    retryPassingFailures(recheckCharge);
    recheckCharge.next(
      new sfn.Choice(this, 'RecheckOutcome')
        .when(sfn.Condition.stringEquals('$.charge.outcome', 'charged'), charged)
        .when(sfn.Condition.stringEquals('$.charge.outcome', 'declined'), declined)
        .otherwise(awaitDecision),
    );

    // A re-vend is another round of the same Vend (RetryCount starts again at 0): the round keeps the attempts
    // the meter-vending task records apart from the earlier rounds'.
    const vendAgain = new sfn.Pass(this, 'VendAgain', {
      inputPath: '$.decided.vendRound',
      resultPath: '$.vendRound',
    });
    vendAgain.next(vend);
    recordDecision.next(
      new sfn.Choice(this, 'Decision')
        .when(sfn.Condition.stringEquals('$.decided.action', 'revend'), vendAgain)
        .when(
          sfn.Condition.stringEquals('$.decided.action', 'record_utrn'),
          recordUtrnByHand.next(notifyVended),
        )
        .when(sfn.Condition.stringEquals('$.decided.action', 'refund'), confirmVend)
        .when(sfn.Condition.stringEquals('$.decided.action', 'recheck_charge'), recheckCharge),
    );

    const budgetSeconds = retryBudgetSeconds(definition.startState, {
      decisionStates: [DecisionStates.awaitDecision],
      decisionWindowSeconds: settings.decisionWindowDays * 24 * 60 * 60,
    });
    const executionTimeoutSeconds = props.executionTimeoutSeconds ?? withMargin(budgetSeconds);
    if (!Number.isInteger(executionTimeoutSeconds) || executionTimeoutSeconds < budgetSeconds) {
      throw new Error(
        `PaymentToVend: executionTimeoutSeconds must be a whole number of at least ${Math.ceil(budgetSeconds)} (the longest the retries can take), got ${executionTimeoutSeconds}`,
      );
    }

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: Duration.seconds(executionTimeoutSeconds),
      comment: 'PaymentToVend: card payment to smart-meter credit (see workflow/payment-to-vend.ts)',
      ...(props.stateMachineName !== undefined ? { stateMachineName: props.stateMachineName } : {}),
      ...(props.logs !== undefined ? { logs: props.logs } : {}),
      ...(props.tracingEnabled !== undefined ? { tracingEnabled: props.tracingEnabled } : {}),
    });
  }
}

/**
 * Telling the customer, publishing follow-ups and paging must not be lost to a passing failure (an SQS or SNS
 * error, a notify Lambda that crashed or timed out): each is safe to repeat, as the event log and the queues'
 * consumers dedupe by paymentId.
 */
function retryPassingFailures(task: sfn.TaskStateBase, final: readonly string[] = []): void {
  // Errors that are answers, not passing failures: matched first, and never retried.
  if (final.length > 0) task.addRetry({ errors: [...final], maxAttempts: 0 });
  task.addRetry({
    errors: [sfn.Errors.TASKS_FAILED],
    interval: Duration.seconds(1),
    maxAttempts: 3,
    backoffRate: 2,
    jitterStrategy: sfn.JitterType.FULL,
  });
}

/** The construct's numeric settings (each prop of PAYMENT_TO_VEND_DEFAULTS). */
export type PaymentToVendSettings = { -readonly [K in keyof typeof PAYMENT_TO_VEND_DEFAULTS]: number };
type Settings = PaymentToVendSettings;

function definedOnly(props: PaymentToVendProps): Partial<Settings> {
  const settings: Partial<Settings> = {};
  for (const key of Object.keys(PAYMENT_TO_VEND_DEFAULTS) as (keyof Settings)[]) {
    const value = props[key];
    if (value !== undefined) settings[key] = value;
  }
  return settings;
}

function checkSettings(settings: Settings): void {
  const wholeAtLeast = (name: keyof Settings, minimum: number) => {
    const value = settings[name];
    if (!Number.isInteger(value) || value < minimum) {
      throw new Error(`PaymentToVend: ${name} must be a whole number of at least ${minimum}, got ${value}`);
    }
  };
  wholeAtLeast('maxVendAttempts', 1);
  wholeAtLeast('maxChargeAttempts', 1);
  wholeAtLeast('vendRetryIntervalSeconds', 1);
  wholeAtLeast('chargeRetryIntervalSeconds', 1);
  wholeAtLeast('vendMaxDelaySeconds', 1);
  wholeAtLeast('vendHeartbeatSeconds', 1);
  wholeAtLeast('vendTimeoutSeconds', 1);
  if (!(settings.vendBackoffRate >= 1)) {
    throw new Error(`PaymentToVend: vendBackoffRate must be at least 1, got ${settings.vendBackoffRate}`);
  }
  // Step Functions refuses a HeartbeatSeconds that is not below TimeoutSeconds.
  if (settings.vendHeartbeatSeconds >= settings.vendTimeoutSeconds) {
    throw new Error(
      `PaymentToVend: vendHeartbeatSeconds (${settings.vendHeartbeatSeconds}) must be less than vendTimeoutSeconds (${settings.vendTimeoutSeconds})`,
    );
  }
}

// ─── Execution timeout ────────────────────────────────────────────────────────────────────────────

/**
 * The longest one attempt of a Task state with no TimeoutSeconds of its own can take: a Lambda invoke lasts at
 * most its function's timeout (the task Lambdas' longest is 60 s; infra's tests hold them to this), an SQS or
 * SNS call a few seconds.
 */
export const UNTIMED_TASK_ATTEMPT_SECONDS = 60;

/** States that wait for a person rather than for a system, and how long a payment may spend in them. */
export interface DecisionWait {
  /** The states that wait for an operator's decision (their TimeoutSeconds is a reminder, not a bound). */
  readonly decisionStates: readonly string[];
  /** How long a payment may stay open, waiting for decisions, in all. */
  readonly decisionWindowSeconds: number;
}

/**
 * The longest an execution can run while every state does what it is meant to: the most expensive path from
 * `start` to an end, each Task state on it costing every attempt its Retry allows at the longest an attempt
 * can take (its TimeoutSeconds, else `UNTIMED_TASK_ATTEMPT_SECONDS`), plus the longest wait before each retry
 * (IntervalSeconds × BackoffRate^n, capped at MaxDelaySeconds; full jitter only shortens it). Each retrier of a
 * state counts in full, since each keeps its own count of attempts.
 *
 * A state waiting for an operator's decision costs the whole decision window: a person, not a retry, bounds it.
 * The only loops allowed go through such a state (a re-vend that fails again waits for another decision); a
 * loop's way back counts nothing, as what a decision sets off happens inside the window (whose margin, a tenth
 * of it, covers a re-vend decided at its very end).
 *
 * With the defaults the longest path is a charge whose outcome stays unknown but turns out charged, then a
 * vend that runs out of attempts, and the wait for a decision: Charge → ConfirmCharge → NotifyCustomerCharged
 * → NotifyCustomerVendRequested → Vend → RecordVendFailed → PublishVendingFailure → AlertOnCall →
 * NotifyCustomerVendFailed → AwaitDecision (the window) → RecordDecision → Refund → …. Vend alone is
 * maxVendAttempts × vendTimeoutSeconds + the waits between them (5 + 10 + 20 s, each under
 * vendMaxDelaySeconds): 2,435 s; Charge is its three retriers (gateway unavailable, request in progress,
 * Lambda's service errors); each notify, record, publish and page step is its passing-failure retries and
 * Lambda's service errors.
 *
 * Computed from the states rather than written out, so a state or retrier added later is counted too.
 */
export function retryBudgetSeconds(
  start: sfn.State,
  decisions: DecisionWait = { decisionStates: [], decisionWindowSeconds: 0 },
): number {
  const states = new Map<string, StateJson>();
  for (const state of sfn.State.findReachableStates(start, { includeErrorHandlers: true })) {
    states.set(state.stateId, state.toStateJson() as StateJson);
  }
  const longest = new Map<string, number>();
  const path: string[] = [];
  const longestFrom = (name: string): number => {
    const known = longest.get(name);
    if (known !== undefined) return known;
    const onPath = path.indexOf(name);
    if (onPath >= 0) {
      // A loop: counted once, if a decision bounds it.
      if (path.slice(onPath).some((step) => decisions.decisionStates.includes(step))) return 0;
      throw new Error(
        `PaymentToVend: ${name} can be reached again, so no execution timeout bounds its retries`,
      );
    }
    const state = states.get(name);
    if (state === undefined) throw new Error(`PaymentToVend: no state ${name}`);
    path.push(name);
    const next = [state.Next, state.Default, ...(state.Choices ?? []).map((choice) => choice.Next)]
      .concat((state.Catch ?? []).map((catcher) => catcher.Next))
      .filter((candidate): candidate is string => candidate !== undefined);
    const own = decisions.decisionStates.includes(name)
      ? decisions.decisionWindowSeconds
      : stateBudgetSeconds(name, state);
    const total = own + Math.max(0, ...next.map(longestFrom));
    path.pop();
    longest.set(name, total);
    return total;
  };
  return longestFrom(start.stateId);
}

/** The parts of a state's ASL the budget reads. */
interface StateJson {
  readonly Type: string;
  readonly Resource?: string;
  readonly TimeoutSeconds?: number;
  readonly Seconds?: number;
  readonly Next?: string;
  readonly Default?: string;
  readonly Choices?: readonly { readonly Next?: string }[];
  readonly Catch?: readonly { readonly Next: string }[];
  readonly Retry?: readonly {
    readonly IntervalSeconds?: number;
    readonly MaxAttempts?: number;
    readonly BackoffRate?: number;
    readonly MaxDelaySeconds?: number;
  }[];
}

function stateBudgetSeconds(name: string, state: StateJson): number {
  switch (state.Type) {
    case 'Pass':
    case 'Choice':
    case 'Succeed':
    case 'Fail':
      return 0;
    case 'Wait':
      if (state.Seconds === undefined) break;
      return state.Seconds;
    case 'Task': {
      // A task that waits for a callback or a job has no bound but its own TimeoutSeconds.
      const waits = /\.(waitForTaskToken|sync)/.test(state.Resource ?? '');
      if (state.TimeoutSeconds === undefined && waits) break;
      const attemptSeconds = state.TimeoutSeconds ?? UNTIMED_TASK_ATTEMPT_SECONDS;
      let total = attemptSeconds;
      for (const retrier of state.Retry ?? []) {
        // The ASL defaults: 3 attempts, 1 s, doubling.
        const retries = retrier.MaxAttempts ?? 3;
        for (let retry = 0; retry < retries; retry += 1) {
          const wait = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** retry;
          total += Math.min(wait, retrier.MaxDelaySeconds ?? Number.POSITIVE_INFINITY) + attemptSeconds;
        }
      }
      return total;
    }
  }
  throw new Error(
    `PaymentToVend: cannot bound how long ${name} (${state.Type}) takes; set executionTimeoutSeconds`,
  );
}

/**
 * The budget plus a tenth, and at least five minutes, for what the attempts' bounds leave out (Step Functions'
 * own scheduling between states, a Lambda's cold start before its timeout starts), in whole minutes.
 */
function withMargin(budgetSeconds: number): number {
  const margin = Math.max(budgetSeconds / 10, 300);
  return Math.ceil((budgetSeconds + margin) / 60) * 60;
}

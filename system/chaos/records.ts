/**
 * Everything a chaos run collects once the system has settled, from every party that keeps a record of a
 * payment: the clients (what they sent and were answered), the customer's view (GET /api/payments/{id}), the
 * database (every table, read as the master user), the executions, the gateway's and the vendor's journals,
 * the follow-up queues and the on-call alerts. Plain data: the auditor (audit.ts) is a pure function of it, so
 * its rules can be tested on a doctored record set without a system.
 */
import type { GatewayChargeRecord, GatewayRefundRecord } from '../../simulators/payment-gateway.ts';
import type { VendRecord } from '../../simulators/vending-vendor.ts';
import type { CardPlacement, MeterScenario, TopUpBody } from './plan.ts';

/** A top-up as its client saw it. */
export interface ClientPayment {
  readonly index: number;
  readonly idempotencyKey: string;
  readonly body: TopUpBody;
  readonly meterScenario: MeterScenario;
  /** Every 202 the key was answered: the first, and any answer to the same key and body sent again. */
  readonly answers: readonly { readonly paymentId: string; readonly statusToken: string }[];
  /** Answers other than 202, 429 and 5xx (a valid top-up refused). */
  readonly refusals: readonly { readonly status: number; readonly body: string }[];
  /** Requests sent with the key, the ones that got no answer included. */
  readonly requests: number;
}

export interface CardProbeResult {
  readonly index: number;
  readonly placement: CardPlacement;
  /** The status of the answer (0: none came). */
  readonly status: number;
}

/** GET /api/payments/{id} with the payment's status token: what its customer sees. */
export type CustomerView =
  | {
      readonly status: string;
      readonly events: readonly CustomerEvent[];
    }
  | { readonly error: string };

export interface CustomerEvent {
  readonly seq: number;
  readonly type: string;
  readonly [field: string]: unknown;
}

export interface DbPayment {
  readonly paymentId: string;
  readonly meterId: string;
  readonly amountPence: number;
  readonly status: string;
  readonly declineReason: string | null;
  readonly gatewayChargeId: string | null;
  readonly refundId: string | null;
}

export interface DbVend {
  readonly paymentId: string;
  readonly attempt: number;
  readonly transactionId: string;
  readonly outcome: string;
  readonly utrn: string | null;
  readonly recordedByHand: boolean;
}

export interface DbEvent {
  readonly paymentId: string;
  readonly seq: number;
  readonly type: string;
}

export interface DbFollowUp {
  readonly paymentId: string;
  readonly reason: string;
  readonly hasTaskToken: boolean;
  readonly closedAt: string | null;
  readonly escalations: number;
}

export interface DbDecision {
  readonly decisionId: string;
  readonly paymentId: string;
  readonly action: string;
  readonly utrn: string | null;
}

export interface ExecutionRecord {
  /** The payment id. */
  readonly name: string;
  readonly status: string;
  /** A failed execution's error (ChargeDeclined for a decline). */
  readonly error?: string | undefined;
  /** A running execution's state: the last one entered (`after <state>` once it has been left). */
  readonly currentState?: string | undefined;
}

/** One SNS publish to the on-call topic, as the run's own subscribed queue received it. */
export interface AlertRecord {
  /** SNS's id of the publish: the same for each delivery of one publish. */
  readonly messageId: string;
  readonly subject: string;
  readonly message: string;
}

/** A decision the run (as the operator) handed over with SendTaskSuccess. */
export interface DecisionSent {
  readonly paymentId: string;
  readonly decisionId: string;
  readonly action: string;
  readonly utrn?: string | undefined;
}

export interface ChaosRecords {
  readonly seed: number;
  readonly clients: readonly ClientPayment[];
  readonly cardProbes: readonly CardProbeResult[];
  readonly customerViews: Readonly<Record<string, CustomerView>>;
  readonly database: {
    readonly payments: readonly DbPayment[];
    readonly vends: readonly DbVend[];
    readonly events: readonly DbEvent[];
    readonly followUps: readonly DbFollowUp[];
    readonly decisions: readonly DbDecision[];
  };
  readonly executions: readonly ExecutionRecord[];
  readonly gateway: {
    readonly charges: readonly GatewayChargeRecord[];
    readonly refunds: readonly GatewayRefundRecord[];
  };
  readonly vendor: { readonly vends: readonly VendRecord[] };
  readonly queues: {
    /** The bodies of the PaymentFailure messages, each delivery. */
    readonly paymentFailure: readonly unknown[];
    /** The bodies of the VendingFailure messages, each delivery. */
    readonly vendingFailure: readonly unknown[];
    /** Messages in each dead-letter queue that holds any. */
    readonly deadLettered: readonly {
      readonly queue: string;
      readonly count: number;
      readonly paymentIds: readonly string[];
    }[];
  };
  /** Every delivery to the run's own queue subscribed to the OnCall topic. */
  readonly alerts: readonly AlertRecord[];
  readonly decisionsSent: readonly DecisionSent[];
  /** Decisions the run could not hand over (no open follow-up with a token that took it, in time). */
  readonly decisionsNotHandedOver: readonly (DecisionSent & { readonly error: string })[];
  /** Whether the run decided the open payments (then an open one has been looked at by an operator). */
  readonly decisionsMade: boolean;
  /** Where the scan found a status token or a card number (secrets-scan.ts). */
  readonly secretsFound: readonly string[];
}

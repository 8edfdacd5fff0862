/**
 * The chaos run's checker: a pure function of the records every party keeps (records.ts), holding each
 * accepted payment to the system's promises. Each broken promise is a violation naming the payment and the rule.
 *
 * Settled, for a payment, means one final (or final-for-now) outcome that every record agrees on:
 * - vended (the execution SUCCEEDED), refunded (SUCCEEDED), charge_declined (FAILED with ChargeDeclined), or
 * - open for an operator: vend_failed or charge_unconfirmed, the execution RUNNING in AwaitDecision with the
 *   payment's follow-up row open and holding its task token.
 * Anything else (accepted, charged, an execution running elsewhere, ended otherwise) is stuck.
 *
 * The rules, per payment:
 * - one charge at most at the gateway (under the payment id as its idempotency key), and exactly one succeeded
 *   when the payment says the money was taken (vended, vend_failed, refunded), with the id and amount it records;
 *   none succeeded for a declined payment;
 * - one vend at most at the vendor (transaction id = payment id), and exactly one when the payment is vended
 *   (unless an operator recorded the vendor's UTRN by hand, when there is none), with the UTRN the payment and
 *   the customer were given; none for a payment that is not vended;
 * - one refund at most, and exactly one when the payment is refunded, of the whole charge, and none otherwise;
 * - the customer's events: seq 1..n without gaps, each once, in an order the machine can produce, ending in the
 *   event of the payment's status, and the same in the database as over the API;
 * - follow-up messages and on-call alerts where due: a declined payment one PaymentFailure message and no alert;
 *   an unconfirmed charge one PaymentFailure message and one alert; each failed round of vend attempts one
 *   VendingFailure message and one alert; each missed decision deadline one alert; a vended payment none.
 *   A missing one is a violation, and so is one where none is due. More than one where one is due is counted as a
 *   duplicate, not a violation: the steps that send them run at least once (a step in flight at a kill -9 runs
 *   again after the restart), and the design has their readers dedupe by paymentId (ARCHITECTURE.md). SNS's own
 *   redeliveries of one publish (the same MessageId) are counted apart from duplicate publishes;
 * - decisions: each one handed over is recorded once; a refund ends refunded and a UTRN recorded by hand ends
 *   vended; no decision fails to be carried out;
 * - the outcome fits the card and meter (a declining card is never charged, a good card never declined).
 * And for the run: every top-up accepted, replays answered alike, card data refused and kept nowhere, nothing
 * dead-lettered, no charge, vend, execution, message or alert that belongs to no payment of the run.
 *
 * @example
 * const { violations, outcomes } = auditChaos(records);
 * // violations: [{ paymentId: 'pay_…', rule: 'charged-twice', detail: '2 succeeded charges at the gateway: …' }]
 */
import type { GatewayChargeRecord } from '../../simulators/payment-gateway.ts';
import { NO_CHARGE_AT_GATEWAY } from '../../workflow/contracts.ts';
import type { AlertRecord, ChaosRecords, CustomerEvent, DbDecision } from './records.ts';

export interface Violation {
  /** The payment it is about; absent for what concerns the run as a whole. */
  readonly paymentId?: string | undefined;
  /** The client's index of that payment in the seed's plan. */
  readonly index?: number | undefined;
  readonly rule: string;
  readonly detail: string;
}

/** How the accepted payments ended. */
export interface Outcomes {
  vended: number;
  /** Of the vended: by a UTRN an operator recorded by hand. */
  vendedByHand: number;
  refunded: number;
  declined: number;
  /** Open for an operator's decision (final for now). */
  openVendFailed: number;
  openChargeUnconfirmed: number;
  /** Neither final nor open: stuck. */
  stuck: number;
  notAccepted: number;
}

export interface AuditResult {
  readonly payments: number;
  readonly outcomes: Outcomes;
  readonly violations: readonly Violation[];
  /** Deliveries beyond the one due, allowed by the design (at-least-once steps), counted for the report. */
  readonly duplicates: {
    readonly alerts: number;
    readonly paymentFailureMessages: number;
    readonly vendingFailureMessages: number;
    /** SNS deliveries of a publish already delivered (the same MessageId). */
    readonly alertRedeliveries: number;
  };
  /** Decisions that could not be carried out (on-call paged, the payment waited for another): allowed. */
  readonly decisionsNotCarriedOut: number;
  /** What is worth knowing but breaks no promise. */
  readonly notes: readonly string[];
}

/** The on-call alerts' subjects (workflow/payment-to-vend.ts), told apart by their wording. */
export const ALERT_KINDS = {
  vendFailed: 'could not be vended',
  chargeUnconfirmed: 'charge could not be confirmed',
  escalation: 'still waits for an operator decision',
  decisionFailed: 'could not be carried out',
} as const;
type AlertKind = keyof typeof ALERT_KINDS;

/** What the gateway answers each declining test card with, as the payment's decline reason. */
const DECLINING_CARDS: Readonly<Record<string, string>> = {
  tok_chargeDeclined: 'generic_decline',
  tok_insufficientFunds: 'insufficient_funds',
  tok_lostCard: 'lost_card',
  tok_stolenCard: 'stolen_card',
  tok_expiredCard: 'expired_card',
  tok_bogus: 'invalid_payment_token',
};
/** Cards the gateway charges (at once, after a delay, after an outage, or with the answer lost). */
const CHARGING_CARDS = new Set([
  'tok_visa',
  'tok_mastercard',
  'tok_slow',
  'tok_answerLost',
  'tok_gatewayOutage',
]);

/** The statuses in which the money was taken. */
const MONEY_TAKEN = new Set(['vended', 'vend_failed', 'refunded']);
/** The statuses of a payment open for an operator, and the follow-up reason each has. */
const OPEN = new Set(['vend_failed', 'charge_unconfirmed']);

/** The event each settled status ends on. */
const FINAL_EVENT: Readonly<Record<string, string>> = {
  vended: 'vended',
  refunded: 'refunded',
  charge_declined: 'charge_declined',
  vend_failed: 'vend_failed',
  charge_unconfirmed: 'charge_unconfirmed',
};

/** Which event may follow which: the paths of the state machine (vend_retrying only in the first round). */
const NEXT_EVENTS: Readonly<Record<string, readonly string[]>> = {
  accepted: ['charged', 'charge_declined', 'charge_unconfirmed'],
  charge_unconfirmed: ['charged', 'charge_declined'],
  charged: ['vend_requested'],
  vend_requested: ['vend_retrying', 'vended', 'vend_failed'],
  vend_retrying: ['vend_retrying', 'vended', 'vend_failed'],
  vend_failed: ['vended', 'refunded'],
  vended: [],
  refunded: [],
  charge_declined: [],
};

const PAYMENT_ID = /\bpay_[A-Za-z0-9]+/;

export function auditChaos(records: ChaosRecords): AuditResult {
  const violations: Violation[] = [];
  const notes: string[] = [];
  let decisionsNotCarriedOut = 0;
  const duplicates = {
    alerts: 0,
    paymentFailureMessages: 0,
    vendingFailureMessages: 0,
    alertRedeliveries: 0,
  };
  const outcomes: Outcomes = {
    vended: 0,
    vendedByHand: 0,
    refunded: 0,
    declined: 0,
    openVendFailed: 0,
    openChargeUnconfirmed: 0,
    stuck: 0,
    notAccepted: 0,
  };

  // ─── The clients ──────────────────────────────────────────────────────────────────────────────
  const ours = new Map<
    string,
    { index: number; token: string; body: ChaosRecords['clients'][number]['body'] }
  >();
  for (const client of records.clients) {
    const first = client.answers[0];
    if (first === undefined) {
      outcomes.notAccepted++;
      violations.push({
        index: client.index,
        rule: 'not-accepted',
        detail: `top-up #${client.index} (${client.body.paymentToken}, meter ${client.body.meterId}) was never accepted after ${client.requests} requests${client.refusals.length > 0 ? `: ${client.refusals.map((refusal) => `${refusal.status} ${refusal.body.slice(0, 200)}`).join('; ')}` : ''}`,
      });
      continue;
    }
    const differing = client.answers.filter(
      (answer) => answer.paymentId !== first.paymentId || answer.statusToken !== first.statusToken,
    );
    if (differing.length > 0) {
      violations.push({
        paymentId: first.paymentId,
        index: client.index,
        rule: 'replay-differs',
        detail: `the same Idempotency-Key and body were answered with another payment: ${differing.map((answer) => answer.paymentId).join(', ')}`,
      });
    }
    if (client.refusals.length > 0) {
      violations.push({
        paymentId: first.paymentId,
        index: client.index,
        rule: 'top-up-refused',
        detail: `a valid top-up was refused: ${client.refusals.map((refusal) => `${refusal.status} ${refusal.body.slice(0, 200)}`).join('; ')}`,
      });
    }
    if (ours.has(first.paymentId)) {
      violations.push({
        paymentId: first.paymentId,
        index: client.index,
        rule: 'payment-shared',
        detail: `two Idempotency-Keys were given the same payment (#${ours.get(first.paymentId)?.index} and #${client.index})`,
      });
    }
    ours.set(first.paymentId, { index: client.index, token: first.statusToken, body: client.body });
  }
  for (const probe of records.cardProbes) {
    if (probe.status !== 400) {
      violations.push({
        rule: 'card-data-not-refused',
        detail: `card probe #${probe.index} (a card number in the ${probe.placement}) was answered ${probe.status || 'nothing'}, not 400`,
      });
    }
  }

  // ─── Indexes ──────────────────────────────────────────────────────────────────────────────────
  const group = <T>(items: readonly T[], key: (item: T) => string | undefined) => {
    const map = new Map<string, T[]>();
    for (const item of items) {
      const k = key(item);
      if (k === undefined) continue;
      const list = map.get(k);
      if (list) list.push(item);
      else map.set(k, [item]);
    }
    return map;
  };
  const { database } = records;
  const paymentsById = group(database.payments, (payment) => payment.paymentId);
  const dbVendsByPayment = group(database.vends, (vend) => vend.paymentId);
  const dbEventsByPayment = group(database.events, (event) => event.paymentId);
  const followUpsByPayment = group(database.followUps, (followUp) => followUp.paymentId);
  const decisionsByPayment = group(database.decisions, (decision) => decision.paymentId);
  const executionsByName = group(records.executions, (execution) => execution.name);
  const chargesByReference = group(records.gateway.charges, (charge) => charge.reference);
  const refundsByCharge = group(records.gateway.refunds, (refund) => refund.charge);
  const vendorVendsByTransaction = group(records.vendor.vends, (vend) => vend.transactionId);
  const paymentIdOf = (body: unknown) =>
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { paymentId?: unknown }).paymentId === 'string'
      ? (body as { paymentId: string }).paymentId
      : undefined;
  const paymentFailuresByPayment = group(records.queues.paymentFailure, paymentIdOf);
  const vendingFailuresByPayment = group(records.queues.vendingFailure, paymentIdOf);
  // One alert per publish: SNS may deliver a publish more than once (at least once across a kill).
  const publishes = new Map<string, AlertRecord>();
  for (const alert of records.alerts) {
    if (publishes.has(alert.messageId)) duplicates.alertRedeliveries++;
    else publishes.set(alert.messageId, alert);
  }
  const alertsByPayment = group([...publishes.values()], (alert) => PAYMENT_ID.exec(alert.message)?.[0]);
  const sentDecisionIds = new Set(records.decisionsSent.map((decision) => decision.decisionId));

  // ─── What belongs to no payment of the run ────────────────────────────────────────────────────
  const strays: [string, Iterable<string>, string][] = [
    ['unknown-payment', paymentsById.keys(), 'a payment row'],
    ['unknown-execution', executionsByName.keys(), 'an execution'],
    ['stray-charge', chargesByReference.keys(), 'a gateway charge'],
    ['stray-vend', vendorVendsByTransaction.keys(), 'a vendor vend'],
    [
      'stray-message',
      [...paymentFailuresByPayment.keys(), ...vendingFailuresByPayment.keys()],
      'a follow-up message',
    ],
    ['stray-alert', alertsByPayment.keys(), 'an on-call alert'],
  ];
  for (const [rule, ids, what] of strays) {
    for (const id of new Set(ids)) {
      if (!ours.has(id))
        violations.push({
          paymentId: id,
          rule,
          detail: `${what} for ${id}, which no client of the run was given`,
        });
    }
  }
  const unattributed = [...publishes.values()].filter((alert) => PAYMENT_ID.exec(alert.message) === null);
  for (const alert of unattributed) {
    violations.push({
      rule: 'stray-alert',
      detail: `an on-call alert naming no payment: ${alert.subject}: ${alert.message.slice(0, 200)}`,
    });
  }
  for (const decision of database.decisions) {
    if (!sentDecisionIds.has(decision.decisionId)) {
      violations.push({
        paymentId: decision.paymentId,
        rule: 'unknown-decision',
        detail: `decision ${decision.decisionId} (${decision.action}) was recorded, but the run never made it`,
      });
    }
  }
  for (const decision of records.decisionsNotHandedOver) {
    violations.push({
      paymentId: decision.paymentId,
      rule: 'decision-not-handed-over',
      detail: `decision ${decision.decisionId} (${decision.action}) could not be handed over: ${decision.error}`,
    });
  }
  for (const queue of records.queues.deadLettered) {
    violations.push({
      paymentId: queue.paymentIds[0],
      rule: 'dead-lettered',
      detail: `${queue.count} message(s) in ${queue.queue}${queue.paymentIds.length > 0 ? ` (${queue.paymentIds.join(', ')})` : ''}`,
    });
  }
  for (const where of records.secretsFound) {
    violations.push({ rule: 'secret-kept', detail: where });
  }

  // ─── Each payment ─────────────────────────────────────────────────────────────────────────────
  for (const [paymentId, client] of ours) {
    const violation = (rule: string, detail: string) =>
      violations.push({ paymentId, index: client.index, rule, detail });
    const rows = paymentsById.get(paymentId) ?? [];
    const payment = rows[0];
    if (payment === undefined) {
      outcomes.stuck++;
      violation('payment-missing', 'accepted (202) but the database has no payment row');
      continue;
    }
    const { status } = payment;
    const amount = client.body.amountPence;
    if (payment.meterId !== client.body.meterId || payment.amountPence !== amount) {
      violation(
        'payment-differs',
        `the row says meter ${payment.meterId}, ${payment.amountPence} pence; the client sent meter ${client.body.meterId}, ${amount} pence`,
      );
    }

    const decisions = decisionsByPayment.get(paymentId) ?? [];
    const revends = decisions.filter((decision) => decision.action === 'revend').length;
    const dbVended = (dbVendsByPayment.get(paymentId) ?? []).filter((vend) => vend.outcome === 'vended');
    const byHand = dbVended.some((vend) => vend.recordedByHand);

    // The outcome.
    switch (status) {
      case 'vended':
        outcomes.vended++;
        if (byHand) outcomes.vendedByHand++;
        break;
      case 'refunded':
        outcomes.refunded++;
        break;
      case 'charge_declined':
        outcomes.declined++;
        break;
      case 'vend_failed':
        outcomes.openVendFailed++;
        break;
      case 'charge_unconfirmed':
        outcomes.openChargeUnconfirmed++;
        break;
      default:
        outcomes.stuck++;
    }

    // The execution.
    const executions = executionsByName.get(paymentId) ?? [];
    const execution = executions[0];
    const running =
      execution === undefined
        ? 'none'
        : `${execution.status}${execution.error ? ` (${execution.error})` : ''}${execution.currentState ? ` in ${execution.currentState}` : ''}`;
    if (!(status in FINAL_EVENT)) {
      violation('stuck', `the payment is still ${status}; its execution: ${running}`);
    } else if (execution === undefined) {
      violation('no-execution', `the payment is ${status} but has no execution`);
    } else {
      const fits =
        status === 'vended' || status === 'refunded'
          ? execution.status === 'SUCCEEDED'
          : status === 'charge_declined'
            ? execution.status === 'FAILED' && execution.error === 'ChargeDeclined'
            : execution.status === 'RUNNING' && execution.currentState === 'AwaitDecision';
      if (!fits) {
        violation(
          execution.status === 'RUNNING' ? 'stuck' : 'execution-differs',
          `the payment is ${status} but its execution is ${running}`,
        );
      }
    }

    // The follow-up row.
    const followUp = followUpsByPayment.get(paymentId)?.[0];
    const openRow = followUp !== undefined && followUp.closedAt === null;
    if (OPEN.has(status)) {
      if (!openRow || !followUp.hasTaskToken || followUp.reason !== status) {
        violation(
          'follow-up-missing',
          `the payment is ${status}, open for a decision, but its follow-up row is ${followUp === undefined ? 'absent' : `${followUp.closedAt === null ? 'open' : 'closed'}, reason ${followUp.reason}, ${followUp.hasTaskToken ? 'with' : 'without'} a task token`}`,
        );
      }
    } else if (openRow) {
      violation('follow-up-left-open', `the payment is ${status} but its follow-up row is still open`);
    }

    // The gateway: charges and refunds.
    const charges = chargesByReference.get(paymentId) ?? [];
    const succeeded = charges.filter((charge) => charge.status === 'succeeded');
    const describe = (list: readonly GatewayChargeRecord[]) =>
      list.map((charge) => `${charge.id} (${charge.status}, key ${charge.idempotencyKey})`).join(', ');
    if (succeeded.length > 1) {
      violation(
        'charged-twice',
        `${succeeded.length} succeeded charges at the gateway: ${describe(succeeded)}`,
      );
    } else if (charges.length > 1) {
      violation('charge-records', `${charges.length} charges at the gateway: ${describe(charges)}`);
    }
    for (const charge of charges) {
      if (charge.idempotencyKey !== paymentId) {
        violation(
          'charge-key',
          `charge ${charge.id} was made under the idempotency key ${charge.idempotencyKey}, not the payment id`,
        );
      }
      if (charge.amountPence !== amount) {
        violation(
          'charge-amount',
          `charge ${charge.id} is of ${charge.amountPence} pence; the top-up was ${amount}`,
        );
      }
    }
    const charge = succeeded[0];
    if (MONEY_TAKEN.has(status)) {
      if (charge === undefined) {
        violation(
          'charge-missing',
          `the payment is ${status} but the gateway has no succeeded charge for it`,
        );
      } else if (payment.gatewayChargeId !== charge.id) {
        violation(
          'charge-id-differs',
          `the payment records charge ${payment.gatewayChargeId}; the gateway made ${charge.id}`,
        );
      }
    } else if (status === 'charge_declined' && charge !== undefined) {
      violation('declined-but-charged', `the payment is declined but the gateway charged ${charge.id}`);
    } else if (status === 'charge_unconfirmed' && charge !== undefined) {
      const rechecked = decisions.some((decision) => decision.action === 'recheck_charge');
      if (records.decisionsMade && rechecked) {
        violation(
          'unconfirmed-but-charged',
          `the charge was rechecked on an operator's decision, yet is still unconfirmed while the gateway has ${charge.id}`,
        );
      } else {
        notes.push(
          `${paymentId}: unconfirmed, and the gateway has ${charge.id}; a recheck_charge decision would find it`,
        );
      }
    }
    const refunds = charges.flatMap((each) => refundsByCharge.get(each.id) ?? []);
    if (refunds.length > 1) {
      violation(
        'refunded-twice',
        `${refunds.length} refunds at the gateway: ${refunds.map((refund) => refund.id).join(', ')}`,
      );
    }
    if (status === 'refunded') {
      const refund = refunds[0];
      if (refund === undefined)
        violation('refund-missing', 'the payment is refunded but the gateway made no refund');
      else {
        if (refund.id !== payment.refundId)
          violation(
            'refund-differs',
            `the payment records refund ${payment.refundId}; the gateway made ${refund.id}`,
          );
        if (refund.amountPence !== amount)
          violation(
            'refund-amount',
            `refund ${refund.id} gave back ${refund.amountPence} of ${amount} pence`,
          );
      }
    } else if (refunds.length > 0) {
      violation(
        'refund-not-recorded',
        `the payment is ${status} but the gateway refunded it (${refunds.map((refund) => refund.id).join(', ')})`,
      );
    }

    // The vendor, and the vends the database records.
    const vendorVends = vendorVendsByTransaction.get(paymentId) ?? [];
    if (vendorVends.length > 1) violation('vended-twice', `${vendorVends.length} vends at the vendor`);
    if (dbVended.length > 1) violation('vended-twice', `${dbVended.length} vended rows in vends`);
    const customerView = records.customerViews[paymentId];
    const events: readonly CustomerEvent[] =
      customerView !== undefined && 'events' in customerView ? customerView.events : [];
    const vendedEvent = events.find((event) => event.type === 'vended');
    const vendorVend = vendorVends[0];
    if (status === 'vended') {
      const shownUtrn = vendedEvent?.utrn;
      const recorded = dbVended[0];
      if (byHand) {
        const decided = decisions.find((decision) => decision.action === 'record_utrn');
        if (decided === undefined || decided.utrn !== recorded?.utrn || shownUtrn !== recorded?.utrn) {
          violation(
            'utrn-differs',
            `vended by hand: the decision's UTRN ${decided?.utrn}, the vend row's ${recorded?.utrn}, the customer's ${String(shownUtrn)}`,
          );
        }
        if (vendorVend !== undefined) {
          violation(
            'credited-twice',
            `a UTRN was recorded by hand, and the vendor vended too (${vendorVend.utrn})`,
          );
        }
      } else if (vendorVend === undefined) {
        violation('vend-missing', 'the payment is vended but the vendor made no vend for it');
      } else {
        if (recorded?.utrn !== vendorVend.utrn || shownUtrn !== vendorVend.utrn) {
          violation(
            'utrn-differs',
            `the vendor's UTRN ${vendorVend.utrn}, the vend row's ${recorded?.utrn}, the customer's ${String(shownUtrn)}`,
          );
        }
        if (vendorVend.creditPence !== amount || vendedEvent?.creditPence !== amount) {
          violation(
            'credit-differs',
            `${amount} pence paid; the vendor credited ${vendorVend.creditPence}, the customer was told ${String(vendedEvent?.creditPence)}`,
          );
        }
      }
    } else {
      if (vendorVend !== undefined) {
        violation(
          'credited-but-not-vended',
          `the vendor vended it (UTRN ${vendorVend.utrn}) but the payment is ${status}`,
        );
      }
      if (dbVended.length > 0)
        violation('vend-not-shown', `a vended row is recorded but the payment is ${status}`);
    }

    // The customer's events.
    if (customerView === undefined || 'error' in customerView) {
      violation(
        'status-unreadable',
        `GET /api/payments/${paymentId} with its status token: ${customerView === undefined ? 'not read' : customerView.error}`,
      );
    } else {
      if (customerView.status !== status) {
        violation('status-differs', `the customer is shown ${customerView.status}; the payment is ${status}`);
      }
      checkEvents(events, status, amount, payment, violation);
      const dbEvents = [...(dbEventsByPayment.get(paymentId) ?? [])].sort((a, b) => a.seq - b.seq);
      const shown = events.map((event) => `${event.seq}:${event.type}`).join(' ');
      const stored = dbEvents.map((event) => `${event.seq}:${event.type}`).join(' ');
      if (shown !== stored)
        violation('events-differ', `the customer is shown [${shown}]; the database holds [${stored}]`);
    }

    // The outcome fits the card.
    const card = client.body.paymentToken;
    const declineReason = DECLINING_CARDS[card];
    if (declineReason !== undefined) {
      if (
        MONEY_TAKEN.has(status) ||
        (status === 'charge_declined' && payment.declineReason !== declineReason)
      ) {
        violation(
          'outcome-unlike-card',
          `${card} should be declined (${declineReason}) but the payment is ${status}${payment.declineReason ? ` (${payment.declineReason})` : ''}`,
        );
      }
    } else if (
      CHARGING_CARDS.has(card) &&
      status === 'charge_declined' &&
      !foundNeverCharged(status, payment.declineReason, decisions)
    ) {
      violation(
        'outcome-unlike-card',
        `${card} is charged by the gateway, but the payment was declined (${payment.declineReason})`,
      );
    } else if (
      card === 'tok_gatewayDown' &&
      status !== 'charge_unconfirmed' &&
      !foundNeverCharged(status, payment.declineReason, decisions)
    ) {
      violation(
        'outcome-unlike-card',
        `${card}: the gateway never answers, so the charge stays unconfirmed, but the payment is ${status}`,
      );
    }

    // Follow-up messages and on-call alerts.
    const everUnconfirmed = events.some((event) => event.type === 'charge_unconfirmed');
    const everVendFailed = events.some((event) => event.type === 'vend_failed');
    const vendedByRound = status === 'vended' && !byHand;
    const failedRounds = !everVendFailed ? 0 : vendedByRound ? revends : revends + 1;
    const paymentFailures = paymentFailuresByPayment.get(paymentId) ?? [];
    const reasonOf = (body: unknown) => (body as { reason?: unknown }).reason;
    const unconfirmedMessages = paymentFailures.filter((body) => reasonOf(body) === 'charge_unconfirmed');
    const declineMessages = paymentFailures.filter((body) => reasonOf(body) !== 'charge_unconfirmed');
    const count = (what: string, observed: number, due: number, duplicatesOf: keyof typeof duplicates) => {
      if (observed < due)
        violation(
          `${what}-missing`,
          `${due} due, ${observed} sent (status ${status}, ${failedRounds} failed vend round(s))`,
        );
      else if (due === 0 && observed > 0)
        violation(`${what}-unexpected`, `${observed} sent, none due (status ${status})`);
      else duplicates[duplicatesOf] += observed - due;
    };
    count(
      'payment-failure-message',
      unconfirmedMessages.length,
      everUnconfirmed ? 1 : 0,
      'paymentFailureMessages',
    );
    count(
      'payment-failure-message',
      declineMessages.length,
      status === 'charge_declined' ? 1 : 0,
      'paymentFailureMessages',
    );
    for (const body of declineMessages) {
      if (status === 'charge_declined' && reasonOf(body) !== payment.declineReason) {
        violation(
          'payment-failure-message-differs',
          `the PaymentFailure message says ${String(reasonOf(body))}; the payment ${payment.declineReason}`,
        );
      }
    }
    const vendingFailures = vendingFailuresByPayment.get(paymentId) ?? [];
    count('vending-failure-message', vendingFailures.length, failedRounds, 'vendingFailureMessages');
    // Each failed round is told once, deduplicable by (paymentId, vendRound): a repeat is one round told again.
    const roundsTold = vendingFailures.map((body) => (body as { vendRound?: unknown }).vendRound);
    checkRounds('vending-failure-message-rounds', roundsTold, failedRounds, violation);
    const alerts = alertsByPayment.get(paymentId) ?? [];
    const alertsOf = (kind: AlertKind) =>
      alerts.filter(
        (alert) => alert.subject.includes(ALERT_KINDS[kind]) || alert.message.includes(ALERT_KINDS[kind]),
      ).length;
    count('vend-failed-alert', alertsOf('vendFailed'), failedRounds, 'alerts');
    const roundsPaged = alerts
      .filter((alert) => alert.message.includes(ALERT_KINDS.vendFailed))
      .map((alert) => Number(/\(vend round (\d+)\)/.exec(alert.message)?.[1]));
    checkRounds('vend-failed-alert-rounds', roundsPaged, failedRounds, violation);
    count('charge-unconfirmed-alert', alertsOf('chargeUnconfirmed'), everUnconfirmed ? 1 : 0, 'alerts');
    count('escalation-alert', alertsOf('escalation'), followUp?.escalations ?? 0, 'alerts');
    // A decision that could not be carried out (the gateway kept refusing the refund, ...) pages on-call and the
    // payment waits for another: due at most once per decision of that action that did not end the payment.
    const failedDecisionAlerts = alerts.filter((alert) => alert.message.includes(ALERT_KINDS.decisionFailed));
    for (const action of new Set(decisions.map((decision) => decision.action))) {
      const made = decisions.filter((decision) => decision.action === action).length;
      const ended = endedBy(action, status, byHand, decisions.at(-1)?.action) ? 1 : 0;
      const paged = failedDecisionAlerts.filter((alert) =>
        alert.message.includes(`The ${action} decision`),
      ).length;
      if (paged > made - ended) {
        violation(
          'decision-failed-alert-unexpected',
          `${paged} alert(s) that a ${action} decision could not be carried out, for ${made} ${action} decision(s) of which ${ended} ended the payment`,
        );
      } else if (paged > 0) {
        decisionsNotCarriedOut += paged;
        notes.push(
          `${paymentId}: ${paged} ${action} decision(s) could not be carried out, on-call was paged, and the payment waited for another (${status} in the end)`,
        );
      }
      if (
        decisions.at(-1)?.action === action &&
        ended === 0 &&
        paged === 0 &&
        (action === 'refund' || action === 'record_utrn')
      ) {
        violation(
          'decision-not-carried-out',
          `the last decision was ${action}, the payment is ${status}, and nobody was paged`,
        );
      }
    }
    const unattributedFailures = failedDecisionAlerts.filter(
      (alert) => !decisions.some((decision) => alert.message.includes(`The ${decision.action} decision`)),
    );
    if (unattributedFailures.length > 0) {
      violation(
        'decision-failed-alert-unexpected',
        `${unattributedFailures.length} alert(s) about a decision the payment never had: ${unattributedFailures.map((alert) => alert.message.slice(0, 160)).join(' | ')}`,
      );
    }

    checkDecisions(
      records.decisionsSent.filter((decision) => decision.paymentId === paymentId),
      decisions,
      violation,
    );
  }

  return { payments: ours.size, outcomes, violations, duplicates, decisionsNotCarriedOut, notes };
}

function checkEvents(
  events: readonly CustomerEvent[],
  status: string,
  amount: number,
  payment: { readonly declineReason: string | null; readonly refundId: string | null },
  violation: (rule: string, detail: string) => void,
): void {
  const listed = events.map((event) => `${event.seq}:${event.type}`).join(' ');
  events.forEach((event, position) => {
    if (event.seq !== position + 1)
      violation('events-gap', `seq ${event.seq} at position ${position + 1}: [${listed}]`);
  });
  const keys = events.map((event) =>
    event.type === 'vend_retrying' ? `vend_retrying:${String(event.attempt)}` : event.type,
  );
  const repeated = keys.filter((key, position) => keys.indexOf(key) !== position);
  if (repeated.length > 0)
    violation('event-duplicate', `${[...new Set(repeated)].join(', ')} told more than once: [${listed}]`);
  if (events[0]?.type !== 'accepted')
    violation('events-order', `the first event is not accepted: [${listed}]`);
  let lastAttempt = 1;
  for (let position = 1; position < events.length; position++) {
    const previous = events[position - 1]!.type;
    const event = events[position]!;
    if (!(NEXT_EVENTS[previous] ?? []).includes(event.type)) {
      violation('events-order', `${event.type} after ${previous}: [${listed}]`);
    }
    if (event.type === 'vend_retrying') {
      const attempt = Number(event.attempt);
      if (!(attempt > lastAttempt))
        violation(
          'events-order',
          `vend_retrying attempt ${attempt} after attempt ${lastAttempt}: [${listed}]`,
        );
      lastAttempt = attempt;
    }
  }
  const expectedLast = FINAL_EVENT[status];
  if (expectedLast !== undefined && events.at(-1)?.type !== expectedLast) {
    violation(
      'events-end',
      `the payment is ${status} but the customer's last event is ${events.at(-1)?.type}: [${listed}]`,
    );
  }
  for (const event of events) {
    if (event.type === 'charged' && event.amountPence !== amount) {
      violation('event-differs', `charged tells ${String(event.amountPence)} pence of ${amount}`);
    }
    if (event.type === 'charge_declined' && event.reason !== payment.declineReason) {
      violation(
        'event-differs',
        `charge_declined tells ${String(event.reason)}; the payment says ${payment.declineReason}`,
      );
    }
    if (event.type === 'refunded' && (event.refundId !== payment.refundId || event.amountPence !== amount)) {
      violation(
        'event-differs',
        `refunded tells ${String(event.refundId)}, ${String(event.amountPence)} pence; the payment says ${payment.refundId}, ${amount}`,
      );
    }
    if (event.type === 'vended' && !/^\d{20}$/.test(String(event.utrn))) {
      violation('event-differs', `vended tells the UTRN ${String(event.utrn)}`);
    }
  }
}

/** Whether a decision of this action, the payment's last, ended it as the payment now stands. */
/** The rounds of vend attempts told about are exactly 1…failedRounds, each at least once (repeats are duplicates). */
function checkRounds(
  rule: string,
  told: readonly unknown[],
  failedRounds: number,
  violation: (rule: string, detail: string) => void,
): void {
  // Too few or too many are named by the counts; here, enough were told, but of the wrong rounds.
  if (failedRounds === 0 || told.length < failedRounds) return;
  const distinct = [...new Set(told)].sort();
  const due = Array.from({ length: failedRounds }, (_, index) => index + 1);
  if (JSON.stringify(distinct) !== JSON.stringify(due)) {
    violation(rule, `rounds told ${JSON.stringify(distinct)}; rounds failed ${JSON.stringify(due)}`);
  }
}

/**
 * A charge left unconfirmed that an operator's recheck found nowhere at the gateway: declined, whatever the card
 * would have done had a request reached the gateway (the gateway's records say whether it did: declined-but-charged).
 */
function foundNeverCharged(
  status: string,
  declineReason: string | null,
  decisions: readonly { readonly action: string }[],
): boolean {
  return (
    status === 'charge_declined' &&
    declineReason === NO_CHARGE_AT_GATEWAY &&
    decisions.some((decision) => decision.action === 'recheck_charge')
  );
}

function endedBy(action: string, status: string, byHand: boolean, lastAction: string | undefined): boolean {
  if (lastAction !== action) return false;
  switch (action) {
    case 'refund':
      return status === 'refunded';
    case 'record_utrn':
      return status === 'vended' && byHand;
    case 'revend':
      return status === 'vended' && !byHand;
    case 'recheck_charge':
      return status !== 'charge_unconfirmed';
    default:
      return false;
  }
}

function checkDecisions(
  sent: readonly { readonly decisionId: string; readonly action: string }[],
  recorded: readonly DbDecision[],
  violation: (rule: string, detail: string) => void,
): void {
  for (const decision of sent) {
    const times = recorded.filter((each) => each.decisionId === decision.decisionId).length;
    if (times !== 1)
      violation(
        'decision-not-recorded',
        `decision ${decision.decisionId} (${decision.action}) was handed over and recorded ${times} times`,
      );
  }
}

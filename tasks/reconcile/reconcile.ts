/**
 * Reconciliation (issue #11): compares what the gateway took with what the payments record, on a schedule
 * (EventBridge, every 15 minutes on AWS; `npm run reconcile` locally), and records what it finds for the
 * operator console's follow-up list:
 * - **charged_not_vended**: a payment whose money was taken (`charged`, or `vend_failed`) that is neither vended
 *   nor refunded nor open for an operator's decision, for longer than the threshold. The workflow keeps a failed
 *   vend open for a decision, so such a payment fell through: an execution that ended or was lost, a payment
 *   from before follow-ups existed.
 * - **charge_without_payment**: a succeeded charge, not refunded in full, that the gateway made in the window
 *   (the last `lookbackHours`, up to `thresholdMinutes` ago) and that no payment records: its reference is no
 *   payment of ours, or that payment does not record this charge (unconfirmed, declined, another charge).
 * Charges and payments younger than the threshold are left to the workflow, which may still be recording them.
 *
 * A run records all its findings in one statement (database/reconciliation.ts): found again, a finding is
 * brought up to date rather than added twice; no longer found where the run looked in full, it is resolved.
 * Nothing is changed on a payment and nobody is told: an operator decides. A run that cannot read the gateway
 * or the database throws and records nothing; the next run (or EventBridge's retry) does it again.
 *
 * Logs one line per run, with counts only: no payment token or card data ever reaches it (the gateway's listing
 * carries none, and the client keeps none of what the gateway shows of the card).
 *
 * @example
 * const reconcile = createReconcile({ gateway, records, logger });
 * await reconcile({}); // or EventBridge's scheduled event; { thresholdMinutes, lookbackHours } to override
 * // { chargedNotVended: 1, chargeWithoutPayment: 0, resolved: 2 }
 */
import { z } from 'zod';
import type { Finding, ReconciliationRecords } from '../../database/reconciliation.ts';
import type { TaskLogger } from '../shared/logger.ts';
import type { GatewayChargeListing, ListedGatewayCharge } from '../shared/payment-gateway/client.ts';

/**
 * How long a payment may stay charged but not vended, or a charge unrecorded, before it is a finding. Longer
 * than the longest vend the workflow allows (4 attempts of up to 10 minutes each, with backoff between them:
 * about 41 minutes with the default settings), so a vend still being retried is not reported.
 */
export const DEFAULT_THRESHOLD_MINUTES = 60;
/** How far back the gateway's charges are read: a missed run, or a weekend's outage of this task, is covered. */
export const DEFAULT_LOOKBACK_HOURS = 48;
/** Charges per page of the gateway's listing: the most it gives. */
export const CHARGES_PER_PAGE = 100;
/**
 * Pages read per run at most (20,000 charges). A window with more is read only in part: its findings are
 * recorded, but none of the window's earlier findings is resolved on that run.
 */
export const MAX_CHARGE_PAGES = 200;
/** Charged-but-not-vended payments recorded per run at most; with more, none of that kind is resolved. */
export const MAX_CHARGED_NOT_VENDED = 1000;

/**
 * What a run is asked: optionally another threshold or window. EventBridge's scheduled event carries its own
 * fields (`id`, `time`, `detail-type`, ...), which are ignored.
 */
export const ReconcileRequestSchema = z
  .object({
    thresholdMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .optional(),
    lookbackHours: z
      .number()
      .int()
      .min(1)
      .max(31 * 24)
      .optional(),
  })
  .loose()
  .refine(
    ({ thresholdMinutes = DEFAULT_THRESHOLD_MINUTES, lookbackHours = DEFAULT_LOOKBACK_HOURS }) =>
      lookbackHours * 60 > thresholdMinutes,
    { message: 'the lookback must be longer than the threshold' },
  );

/** What a run found, and how many earlier findings it resolved. */
export interface ReconciliationSummary {
  readonly chargedNotVended: number;
  readonly chargeWithoutPayment: number;
  readonly resolved: number;
}

export interface ReconcileDependencies {
  readonly gateway: GatewayChargeListing;
  readonly records: ReconciliationRecords;
  readonly logger: TaskLogger;
  /** The clock (tests). */
  readonly now?: () => Date;
}

export function createReconcile({ gateway, records, logger, now = () => new Date() }: ReconcileDependencies) {
  return async function reconcile(event: unknown): Promise<ReconciliationSummary> {
    const request = ReconcileRequestSchema.parse(event ?? {});
    const thresholdMinutes = request.thresholdMinutes ?? DEFAULT_THRESHOLD_MINUTES;
    const lookbackHours = request.lookbackHours ?? DEFAULT_LOOKBACK_HOURS;
    const at = now().getTime();
    const window = {
      start: new Date(at - lookbackHours * 3_600_000),
      end: new Date(at - thresholdMinutes * 60_000),
    };

    const listed = await chargesIn(gateway, window);
    const chargeWithoutPayment = await chargesNoPaymentRecords(records, listed.charges);
    const stuck = await records.chargedNotVended({
      olderThanMinutes: thresholdMinutes,
      limit: MAX_CHARGED_NOT_VENDED + 1,
    });
    const chargedNotVended: Finding[] = stuck.slice(0, MAX_CHARGED_NOT_VENDED).map((payment) => ({
      kind: 'charged_not_vended',
      paymentId: payment.paymentId,
      gatewayChargeId: payment.gatewayChargeId,
      amountPence: payment.amountPence,
      paymentStatus: payment.status,
      occurredAt: payment.since,
    }));
    const complete = { chargedNotVended: stuck.length <= MAX_CHARGED_NOT_VENDED, charges: listed.complete };

    const recorded = await records.recordRun({
      findings: [...chargedNotVended, ...chargeWithoutPayment],
      chargeWindow: window,
      complete,
    });

    const summary: ReconciliationSummary = {
      chargedNotVended: chargedNotVended.length,
      chargeWithoutPayment: chargeWithoutPayment.length,
      resolved: recorded.resolved,
    };
    const line = {
      ...summary,
      opened: recorded.opened,
      chargesListed: listed.charges.length,
      window: { start: window.start.toISOString(), end: window.end.toISOString() },
      thresholdMinutes,
    };
    if (complete.chargedNotVended && complete.charges) {
      logger.info('reconciled the gateway with the payments', line);
    } else {
      logger.warn('reconciled the gateway with the payments in part: some findings were left unresolved', {
        ...line,
        complete,
      });
    }
    return summary;
  };
}

/** Every charge the gateway made in the window, page by page, up to MAX_CHARGE_PAGES pages. */
async function chargesIn(
  gateway: GatewayChargeListing,
  window: { readonly start: Date; readonly end: Date },
): Promise<{ readonly charges: ListedGatewayCharge[]; readonly complete: boolean }> {
  const charges: ListedGatewayCharge[] = [];
  let startingAfter: string | undefined;
  for (let page = 0; page < MAX_CHARGE_PAGES; page += 1) {
    const { charges: listed, hasMore } = await gateway.listCharges({
      createdAfter: window.start,
      createdBefore: window.end,
      limit: CHARGES_PER_PAGE,
      ...(startingAfter === undefined ? {} : { startingAfter }),
    });
    charges.push(...listed);
    const last = listed.at(-1);
    if (!hasMore || last === undefined) return { charges, complete: true };
    startingAfter = last.chargeId;
  }
  return { charges, complete: false };
}

/**
 * The succeeded charges still holding money (not refunded in full) that no payment records: the payment their
 * reference names does not exist, or does not record this charge. Each charge once.
 */
async function chargesNoPaymentRecords(
  records: ReconciliationRecords,
  charges: readonly ListedGatewayCharge[],
): Promise<Finding[]> {
  const held = [...new Map(charges.map((charge) => [charge.chargeId, charge])).values()].filter(
    (charge) => charge.status === 'succeeded' && charge.amountPence > charge.amountRefundedPence,
  );
  if (held.length === 0) return [];
  const payments = new Map(
    (await records.recordedCharges(held.map((charge) => charge.reference))).map((payment) => [
      payment.paymentId,
      payment,
    ]),
  );
  return held
    .filter((charge) => payments.get(charge.reference)?.gatewayChargeId !== charge.chargeId)
    .map((charge) => {
      const payment = payments.get(charge.reference);
      return {
        kind: 'charge_without_payment',
        paymentId: payment?.paymentId ?? null,
        reference: charge.reference,
        gatewayChargeId: charge.chargeId,
        amountPence: charge.amountPence - charge.amountRefundedPence,
        paymentStatus: payment?.status ?? null,
        occurredAt: charge.createdAt,
      };
    });
}

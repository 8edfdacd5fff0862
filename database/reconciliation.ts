/**
 * What the reconciliation task (tasks/reconcile/) reads and records, as its own database role
 * (`payments_reconcile`, migration 0007): the payments whose money was taken but that are neither vended, nor
 * refunded, nor open for an operator's decision; what the payments named by the gateway's charges record of
 * their charge; and each run's findings in `reconciliation_findings`, where the operator console's follow-up
 * list reads them (OPEN_RECONCILIATION_FINDINGS_SQL, as `payments_console`).
 *
 * A run's findings are recorded in one statement (RECORD_RECONCILIATION_SQL): found ones are added or brought up
 * to date, and open ones the run no longer finds are resolved, so running it again changes nothing but
 * `last_found_at`, and two runs never leave a finding twice. It moves no payment and tells no customer: what a
 * finding needs, an operator decides.
 *
 * @example
 * const records = new DataApiReconciliationRecords(new DataApi(new RDSDataClient({}), reconcileTarget));
 * const stuck = await records.chargedNotVended({ olderThanMinutes: 60, limit: 1000 });
 * await records.recordRun({ findings, chargeWindow: { start, end }, complete: { chargedNotVended: true, charges: true } });
 * // { found: 2, opened: 1, resolved: 1 }
 */
import { z } from 'zod';
import { type DataApi, isoTimestampOf } from './data-api.ts';
import { PAYMENT_STATUSES, type PaymentStatus } from './schema.ts';

/** What a finding says: the payment is charged but not vended, or the gateway has a charge no payment records. */
export const FINDING_KINDS = ['charged_not_vended', 'charge_without_payment'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/**
 * Payments whose money was taken (`charged`, or `vend_failed`) and that nobody is dealing with: not vended, not
 * refunded, no follow-up open for an operator's decision, and so for longer than the threshold, counted from
 * the later of the payment's last change and its follow-up's closing (a re-vend decided a minute ago is still
 * running). Oldest first.
 * Parameters: thresholdMinutes (longValue), limit (longValue).
 * Columns: payment_id, amount_pence, status, gateway_charge_id, since.
 */
export const CHARGED_NOT_VENDED_SQL = `SELECT p.payment_id, p.amount_pence, p.status, p.gateway_charge_id,
  greatest(p.updated_at, f.closed_at) AS since
FROM payments p
LEFT JOIN follow_ups f ON f.payment_id = p.payment_id
WHERE p.status IN ('charged', 'vend_failed')
  AND (f.payment_id IS NULL OR f.closed_at IS NOT NULL)
  AND p.updated_at < now() - CAST(:thresholdMinutes AS integer) * interval '1 minute'
  AND greatest(p.updated_at, f.closed_at) < now() - CAST(:thresholdMinutes AS integer) * interval '1 minute'
ORDER BY since, p.payment_id
LIMIT :limit`;

/**
 * What the payments with these ids record of their charge; ids that are no payment give no row.
 * Parameters: paymentIds (a JSON array of strings; typeHint JSON).
 * Columns: payment_id, status, gateway_charge_id.
 */
export const PAYMENT_CHARGES_SQL = `SELECT payment_id, status, gateway_charge_id
FROM payments
WHERE payment_id IN (SELECT jsonb_array_elements_text(CAST(:paymentIds AS jsonb)))`;

/**
 * One run's findings, in one statement:
 * - each finding given is added, or brought up to date with `last_found_at` now; one resolved before is open
 *   again, found anew (`first_found_at` now). A finding given twice is recorded once.
 * - each open finding the run did not give is resolved, where the run looked for it: a charged_not_vended one
 *   when the run read every such payment (`paymentsComplete`); a charge_without_payment one when its charge was
 *   made inside the window the run read in full (`chargesComplete`, `windowStart` inclusive, `windowEnd`
 *   exclusive), or, wherever its charge lies, once a payment records that charge.
 * The two touch different rows (given and not given), so they never meet in one statement.
 * Parameters: findings (a JSON array of { kind, payment_id, reference, gateway_charge_id, amount_pence,
 * payment_status, occurred_at }; typeHint JSON), paymentsComplete, chargesComplete (booleanValue), windowStart,
 * windowEnd (ISO 8601).
 * Columns: found, opened (found that were not open before), resolved.
 */
export const RECORD_RECONCILIATION_SQL = `WITH found AS (
  SELECT DISTINCT ON (finding_id) *
  FROM (
    SELECT
      given.kind || ':' || CASE given.kind WHEN 'charged_not_vended' THEN given.payment_id
        ELSE given.gateway_charge_id END AS finding_id,
      given.kind, given.payment_id, given.reference, given.gateway_charge_id, given.amount_pence,
      given.payment_status, given.occurred_at
    FROM jsonb_to_recordset(CAST(:findings AS jsonb)) AS given (kind text, payment_id text, reference text,
      gateway_charge_id text, amount_pence integer, payment_status text, occurred_at timestamptz)
  ) AS findings
  ORDER BY finding_id
), recorded AS (
  INSERT INTO reconciliation_findings AS finding
    (finding_id, kind, payment_id, reference, gateway_charge_id, amount_pence, payment_status, occurred_at)
  SELECT finding_id, kind, payment_id, reference, gateway_charge_id, amount_pence, payment_status, occurred_at
  FROM found
  ON CONFLICT (finding_id) DO UPDATE SET
    payment_id = excluded.payment_id,
    reference = excluded.reference,
    gateway_charge_id = excluded.gateway_charge_id,
    amount_pence = excluded.amount_pence,
    payment_status = excluded.payment_status,
    occurred_at = excluded.occurred_at,
    first_found_at = CASE WHEN finding.resolved_at IS NULL THEN finding.first_found_at ELSE now() END,
    last_found_at = now(),
    resolved_at = NULL
  RETURNING finding.first_found_at = now() AS opened
), resolved AS (
  UPDATE reconciliation_findings AS finding SET resolved_at = now()
  WHERE finding.resolved_at IS NULL
    AND NOT EXISTS (SELECT 1 FROM found WHERE found.finding_id = finding.finding_id)
    AND CASE finding.kind
      WHEN 'charged_not_vended' THEN CAST(:paymentsComplete AS boolean)
      ELSE (
        CAST(:chargesComplete AS boolean)
          AND finding.occurred_at >= CAST(:windowStart AS timestamptz)
          AND finding.occurred_at < CAST(:windowEnd AS timestamptz)
      ) OR EXISTS (SELECT 1 FROM payments WHERE payments.gateway_charge_id = finding.gateway_charge_id)
    END
  RETURNING finding.finding_id
)
SELECT
  (SELECT count(*) FROM recorded) AS found,
  (SELECT count(*) FROM recorded WHERE opened) AS opened,
  (SELECT count(*) FROM resolved) AS resolved`;

/**
 * The operator console's follow-up list: the open findings, oldest first, as `payments_console` (which may read
 * every column of reconciliation_findings, and write none).
 * Parameters: limit (longValue).
 * Columns: finding_id, kind, payment_id, reference, gateway_charge_id, amount_pence, payment_status,
 * occurred_at, first_found_at, last_found_at.
 */
export const OPEN_RECONCILIATION_FINDINGS_SQL = `SELECT finding_id, kind, payment_id, reference, gateway_charge_id,
  amount_pence, payment_status, occurred_at, first_found_at, last_found_at
FROM reconciliation_findings
WHERE resolved_at IS NULL
ORDER BY first_found_at, finding_id
LIMIT :limit`;

/** A payment whose money was taken and that nobody is dealing with (CHARGED_NOT_VENDED_SQL). */
export interface ChargedNotVendedPayment {
  readonly paymentId: string;
  readonly amountPence: number;
  readonly status: PaymentStatus;
  readonly gatewayChargeId: string | null;
  /** ISO 8601: since when it has waited. */
  readonly since: string;
}

/** What a payment records of its charge. */
export interface RecordedCharge {
  readonly paymentId: string;
  readonly status: PaymentStatus;
  readonly gatewayChargeId: string | null;
}

/** One thing a run found. */
export type Finding =
  | {
      readonly kind: 'charged_not_vended';
      readonly paymentId: string;
      readonly gatewayChargeId: string | null;
      readonly amountPence: number;
      readonly paymentStatus: PaymentStatus;
      /** ISO 8601: since when the payment has waited. */
      readonly occurredAt: string;
    }
  | {
      readonly kind: 'charge_without_payment';
      /** The payment the charge's reference names, or null when it names none. */
      readonly paymentId: string | null;
      readonly reference: string;
      readonly gatewayChargeId: string;
      readonly amountPence: number;
      readonly paymentStatus: PaymentStatus | null;
      /** ISO 8601: when the gateway made the charge. */
      readonly occurredAt: string;
    };

/** A run's findings, with what it looked at: only what it read in full can resolve a finding it did not make. */
export interface ReconciliationRun {
  readonly findings: readonly Finding[];
  /** The window of the gateway's charges it read: start inclusive, end exclusive. */
  readonly chargeWindow: { readonly start: Date; readonly end: Date };
  /** Whether it read every charged-but-not-vended payment, and every charge in the window. */
  readonly complete: { readonly chargedNotVended: boolean; readonly charges: boolean };
}

export interface RecordedRun {
  /** Findings the run made (each once). */
  readonly found: number;
  /** Of those, the ones not open before: new, or found again after they were resolved. */
  readonly opened: number;
  /** Open findings the run no longer made, now resolved. */
  readonly resolved: number;
}

/** An open finding, as the console's follow-up list shows it (OPEN_RECONCILIATION_FINDINGS_SQL). */
export interface OpenFinding {
  readonly findingId: string;
  readonly kind: FindingKind;
  readonly paymentId: string | null;
  readonly reference: string | null;
  readonly gatewayChargeId: string | null;
  readonly amountPence: number;
  readonly paymentStatus: PaymentStatus | null;
  readonly occurredAt: string;
  readonly firstFoundAt: string;
  readonly lastFoundAt: string;
}

/** What the reconciliation task reads and records. */
export interface ReconciliationRecords {
  /** Payments charged but not vended, refunded or open for follow-up, for longer than the threshold, oldest first. */
  chargedNotVended(request: {
    readonly olderThanMinutes: number;
    readonly limit: number;
  }): Promise<ChargedNotVendedPayment[]>;
  /** What the payments with these ids record of their charge; ids that are no payment are left out. */
  recordedCharges(paymentIds: readonly string[]): Promise<RecordedCharge[]>;
  /** Records a run's findings and resolves the open ones it no longer made, in one statement. */
  recordRun(run: ReconciliationRun): Promise<RecordedRun>;
}

/** Payment ids per PAYMENT_CHARGES_SQL: well within the Data API's request size. */
const PAYMENT_IDS_PER_STATEMENT = 500;

const ChargedNotVendedRowSchema = z.object({
  payment_id: z.string(),
  amount_pence: z.number().int(),
  status: z.enum(PAYMENT_STATUSES),
  gateway_charge_id: z.string().nullable(),
  since: z.string(),
});
const RecordedChargeRowSchema = z.object({
  payment_id: z.string(),
  status: z.enum(PAYMENT_STATUSES),
  gateway_charge_id: z.string().nullable(),
});
const RecordedRunRowSchema = z.object({
  found: z.number().int(),
  opened: z.number().int(),
  resolved: z.number().int(),
});
export const OpenFindingRowSchema = z.object({
  finding_id: z.string(),
  kind: z.enum(FINDING_KINDS),
  payment_id: z.string().nullable(),
  reference: z.string().nullable(),
  gateway_charge_id: z.string().nullable(),
  amount_pence: z.number().int(),
  payment_status: z.enum(PAYMENT_STATUSES).nullable(),
  occurred_at: z.string(),
  first_found_at: z.string(),
  last_found_at: z.string(),
});

export class DataApiReconciliationRecords implements ReconciliationRecords {
  readonly #db: DataApi;

  constructor(db: DataApi) {
    this.#db = db;
  }

  async chargedNotVended({
    olderThanMinutes,
    limit,
  }: {
    readonly olderThanMinutes: number;
    readonly limit: number;
  }): Promise<ChargedNotVendedPayment[]> {
    const rows = await this.#db.query(
      CHARGED_NOT_VENDED_SQL,
      { thresholdMinutes: olderThanMinutes, limit },
      ChargedNotVendedRowSchema,
    );
    return rows.map((row) => ({
      paymentId: row.payment_id,
      amountPence: row.amount_pence,
      status: row.status,
      gatewayChargeId: row.gateway_charge_id,
      since: isoTimestampOf(row.since),
    }));
  }

  async recordedCharges(paymentIds: readonly string[]): Promise<RecordedCharge[]> {
    const unique = [...new Set(paymentIds)];
    const recorded: RecordedCharge[] = [];
    for (let from = 0; from < unique.length; from += PAYMENT_IDS_PER_STATEMENT) {
      const rows = await this.#db.query(
        PAYMENT_CHARGES_SQL,
        { paymentIds: { json: unique.slice(from, from + PAYMENT_IDS_PER_STATEMENT) } },
        RecordedChargeRowSchema,
      );
      for (const row of rows) {
        recorded.push({
          paymentId: row.payment_id,
          status: row.status,
          gatewayChargeId: row.gateway_charge_id,
        });
      }
    }
    return recorded;
  }

  async recordRun({ findings, chargeWindow, complete }: ReconciliationRun): Promise<RecordedRun> {
    const [row] = await this.#db.query(
      RECORD_RECONCILIATION_SQL,
      {
        findings: { json: findings.map(findingRowOf) },
        paymentsComplete: complete.chargedNotVended,
        chargesComplete: complete.charges,
        windowStart: chargeWindow.start.toISOString(),
        windowEnd: chargeWindow.end.toISOString(),
      },
      RecordedRunRowSchema,
    );
    return row ?? { found: 0, opened: 0, resolved: 0 };
  }
}

/** An open finding from a row of OPEN_RECONCILIATION_FINDINGS_SQL, its times in ISO 8601. */
export function openFindingOf(row: z.infer<typeof OpenFindingRowSchema>): OpenFinding {
  return {
    findingId: row.finding_id,
    kind: row.kind,
    paymentId: row.payment_id,
    reference: row.reference,
    gatewayChargeId: row.gateway_charge_id,
    amountPence: row.amount_pence,
    paymentStatus: row.payment_status,
    occurredAt: isoTimestampOf(row.occurred_at),
    firstFoundAt: isoTimestampOf(row.first_found_at),
    lastFoundAt: isoTimestampOf(row.last_found_at),
  };
}

/** A finding as RECORD_RECONCILIATION_SQL reads it from its JSON parameter. */
function findingRowOf(finding: Finding) {
  return {
    kind: finding.kind,
    payment_id: finding.paymentId,
    reference: finding.kind === 'charge_without_payment' ? finding.reference : null,
    gateway_charge_id: finding.gatewayChargeId,
    amount_pence: finding.amountPence,
    payment_status: finding.paymentStatus,
    occurred_at: finding.occurredAt,
  };
}

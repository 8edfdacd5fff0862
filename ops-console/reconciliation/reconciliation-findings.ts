/**
 * The reconciliation task's open findings (tasks/reconcile/, database/reconciliation.ts), as the console's
 * follow-up list shows them: payments charged but not vended that nobody is dealing with, and charges the
 * gateway made that no payment records, oldest first. Read through the Data API as the console's own role
 * (`payments_console` may read reconciliation_findings, and write nothing): the console only shows them; what a
 * finding needs, an operator decides, and the next run resolves a finding it no longer makes.
 *
 * @example
 * const findings = new ReconciliationFindings({ db: new DataApi(rdsData, consoleTarget) });
 * await findings.open(); // [{ kind: 'charge_without_payment', reference: '…', gatewayChargeId: 'ch_sim_…', ... }]
 */
import type { DataApi } from '../../database/data-api.ts';
import {
  OPEN_RECONCILIATION_FINDINGS_SQL,
  type OpenFinding,
  OpenFindingRowSchema,
  openFindingOf,
} from '../../database/reconciliation.ts';
import { OpsConsoleNoDatabaseError } from '../payments/payments-service.ts';

/** Findings shown at most: far more than a healthy system ever has open. */
export const MAX_FINDINGS = 500;

export class ReconciliationFindings {
  readonly #db: DataApi | undefined;

  constructor({ db }: { db: DataApi | undefined }) {
    this.#db = db;
  }

  /** The open findings, oldest first (by when a run first found them). */
  async open({ limit = MAX_FINDINGS }: { limit?: number } = {}): Promise<OpenFinding[]> {
    if (this.#db === undefined) throw new OpsConsoleNoDatabaseError();
    const rows = await this.#db.query(
      OPEN_RECONCILIATION_FINDINGS_SQL,
      { limit: Math.min(Math.max(Math.trunc(limit), 1), MAX_FINDINGS) },
      OpenFindingRowSchema,
    );
    return rows.map(openFindingOf);
  }
}

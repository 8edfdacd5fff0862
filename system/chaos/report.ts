/**
 * The chaos run's report as text: each violation (naming the payment and the seed that reproduces the run),
 * what did not settle, notes, and one summary line of counts.
 */
import type { Violation } from './audit.ts';
import type { ChaosReport } from './run.ts';

const SHOWN_VIOLATIONS = 60;

/** The command that runs the same plan again. */
export function reproduceCommand(
  report: Pick<ChaosReport, 'payments' | 'killsPlanned' | 'seed' | 'concurrency'>,
): string {
  return `npm run chaos -- --payments ${report.payments} --kills ${report.killsPlanned} --seed ${report.seed} --concurrency ${report.concurrency}`;
}

export function formatReport(report: ChaosReport): string {
  const lines: string[] = [];
  const { audit } = report;
  if (report.unsettled.length > 0) {
    lines.push('', `not settled (${report.unsettled.length}):`);
    for (const each of report.unsettled.slice(0, 20)) lines.push(`  ${each}`);
  }
  if (audit.notes.length > 0) {
    lines.push('', `notes (${audit.notes.length}):`);
    for (const note of audit.notes.slice(0, 20)) lines.push(`  ${note}`);
  }
  if (audit.violations.length > 0) {
    const byRule = new Map<string, number>();
    for (const violation of audit.violations)
      byRule.set(violation.rule, (byRule.get(violation.rule) ?? 0) + 1);
    lines.push('', 'violations by rule:');
    for (const [rule, count] of [...byRule].sort((a, b) => b[1] - a[1]))
      lines.push(`  ${String(count).padStart(5)}  ${rule}`);
    lines.push(
      '',
      `violations: ${audit.violations.length}${audit.violations.length > SHOWN_VIOLATIONS ? `, the first ${SHOWN_VIOLATIONS}` : ''}`,
    );
    for (const violation of audit.violations.slice(0, SHOWN_VIOLATIONS))
      lines.push(`  ${formatViolation(violation)}`);
    const shown = Object.entries(report.histories).slice(0, 3);
    for (const [paymentId, history] of shown) {
      lines.push(
        '',
        `execution history of ${paymentId}:`,
        ...history.split('\n').map((line) => `    ${line}`),
      );
    }
    if (Object.keys(report.histories).length > shown.length && report.runDir !== undefined) {
      lines.push(
        '',
        `the histories of ${Object.keys(report.histories).length} payments: ${report.runDir}/histories.txt`,
      );
    }
    lines.push('', `reproduce (the same payments, faults and kill plan): ${reproduceCommand(report)}`);
  }
  if (report.runDir !== undefined) lines.push('', `the run's data, logs and records: ${report.runDir}`);
  lines.push('', summaryLine(report));
  return lines.join('\n');
}

export function formatViolation(violation: Violation): string {
  const who =
    violation.paymentId === undefined
      ? violation.index === undefined
        ? 'run'
        : `top-up #${violation.index}`
      : `${violation.paymentId}${violation.index === undefined ? '' : ` (#${violation.index})`}`;
  return `${who}: [${violation.rule}] ${violation.detail}`;
}

/**
 * The run in one line.
 *
 * @example
 * // chaos PASS seed=1 payments=40 accepted=40 vended=24 by-hand=1 refunded=2 declined=9 open=5 (vend_failed 0, charge_unconfirmed 5) stuck=0 kills=4 (charge-at-gateway 2, …; 1 without its moment) faults=31 (…) decisions=6 card-probes=2/2 duplicates=0 violations=0 time=98.3s
 */
export function summaryLine(report: ChaosReport): string {
  const { audit } = report;
  const { outcomes } = audit;
  const passed = audit.violations.length === 0 && report.unsettled.length === 0;
  const kills = new Map<string, number>();
  for (const kill of report.kills) kills.set(kill.moment, (kills.get(kill.moment) ?? 0) + 1);
  const unmet = report.kills.filter((kill) => !kill.met).length;
  const faults = Object.entries(report.faults);
  const duplicates = audit.duplicates;
  const duplicateCount =
    duplicates.alerts + duplicates.paymentFailureMessages + duplicates.vendingFailureMessages;
  const byRule = new Map<string, number>();
  for (const violation of audit.violations) byRule.set(violation.rule, (byRule.get(violation.rule) ?? 0) + 1);
  const first = audit.violations[0];
  return (
    `chaos ${passed ? 'PASS' : 'FAIL'} seed=${report.seed} payments=${report.payments} accepted=${audit.payments}` +
    ` vended=${outcomes.vended} by-hand=${outcomes.vendedByHand} refunded=${outcomes.refunded} declined=${outcomes.declined}` +
    ` open=${outcomes.openVendFailed + outcomes.openChargeUnconfirmed} (vend_failed ${outcomes.openVendFailed}, charge_unconfirmed ${outcomes.openChargeUnconfirmed})` +
    ` stuck=${outcomes.stuck} unsettled=${report.unsettled.length}` +
    ` kills=${report.kills.length} (${[...kills].map(([moment, count]) => `${moment} ${count}`).join(', ')}; ${unmet} without its moment)` +
    ` faults=${faults.reduce((sum, [, count]) => sum + count, 0)} (${faults.map(([kind, count]) => `${kind} ${count}`).join(', ')})` +
    ` decisions=${report.decisionsHandedOver} (${audit.decisionsNotCarriedOut} not carried out, paged)` +
    ` card-probes=${report.cardProbes.refused}/${report.cardProbes.sent}-refused` +
    ` duplicates=${duplicateCount} (alerts ${duplicates.alerts}, PaymentFailure ${duplicates.paymentFailureMessages}, VendingFailure ${duplicates.vendingFailureMessages}; SNS redeliveries ${duplicates.alertRedeliveries})` +
    ` violations=${audit.violations.length}${byRule.size > 0 ? ` (${[...byRule].map(([rule, count]) => `${rule}×${count}`).join(', ')})` : ''}` +
    `${first === undefined ? '' : ` first: ${formatViolation(first).slice(0, 160)}`}` +
    ` time=${(report.durationMs / 1000).toFixed(1)}s`
  );
}

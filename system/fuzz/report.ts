/**
 * The fuzzer's report as text: counts per kind, the cross-payment probes, the logs, the idle sockets and
 * memory, then each violation with the command that sends its request again, and one summary line.
 */
import { FUZZ_KINDS } from './fuzz-case.ts';
import type { FuzzReport, KindTally, Violation } from './fuzzer.ts';
import { mib } from './idle-sockets.ts';

const SHOWN_VIOLATIONS = 40;
const SHOWN_NOTES = 5;

export function formatReport(report: FuzzReport): string {
  const lines: string[] = [];
  const only = report.only === undefined ? '' : ` (only request #${report.only})`;
  lines.push(
    `fuzz: seed ${report.seed}, ${report.requests} requests${only}, ${report.sockets} idle sockets`,
    '',
  );

  const columns = [
    'sent',
    'refused',
    'accepted',
    '5xx',
    'no answer',
    'other',
    'leaks',
    'violations',
    'seconds',
  ];
  const width = Math.max(...FUZZ_KINDS.map((kind) => kind.length), 'total'.length) + 2;
  const row = (name: string, tally: KindTally) =>
    name.padEnd(width) +
    [
      tally.sent,
      tally.refused,
      tally.accepted,
      tally.serverErrors,
      tally.noAnswer,
      tally.other,
      tally.leaks,
      tally.violations,
      (tally.ms / 1000).toFixed(1),
    ]
      .map((value, i) => String(value).padStart(columns[i]!.length + 2))
      .join('');
  lines.push('kind'.padEnd(width) + columns.map((column) => column.padStart(column.length + 2)).join(''));
  for (const kind of FUZZ_KINDS) lines.push(row(kind, report.tallies[kind]));
  lines.push(row('total', totals(report)));
  lines.push(
    '',
    '(refused: a 4xx, a handshake refused, or a socket the server closed on a bad frame; accepted: a 2xx where',
    ' the request is valid, or a socket kept open until the client closed it)',
    '',
    `refusals naming the field: ${report.fields.named} of ${report.fields.expected} (and ${report.fields.unnamed} of Fastify's own, for JSON that does not parse or a media type, naming none)`,
    `refused exactly as an unknown payment: ${report.asUnknown.matched} of ${report.asUnknown.probes} probes`,
    `time: ${seconds(report.phasesMs.setUp)} set-up (three real payments), ${seconds(report.phasesMs.requests)} for ${report.sent} requests, ${seconds(report.phasesMs.idleSockets)} for the idle sockets`,
    `log lines: ${report.logs.lines} (${report.logs.errorLines} at error level), ${report.logs.leaks} holding a card number or a status token`,
  );
  const idle = report.idleSockets;
  if (idle) {
    const growth = idle.after.heapUsed - idle.baseline.heapUsed;
    lines.push(
      `idle sockets: ${idle.opened} of ${idle.requested} held at once (server connections ${idle.connectionsBefore.tcp} → ${idle.connectionsWhileOpen.tcp} → ${idle.connectionsAfter.tcp}, WebSockets ${idle.connectionsBefore.websockets} → ${idle.connectionsWhileOpen.websockets} → ${idle.connectionsAfter.websockets})`,
      `memory (heapUsed${idle.forcedGc ? ' after a forced GC' : ', no forced GC'}): ${mib(idle.baseline.heapUsed)} before, ${mib(idle.peak.heapUsed)} with them open, ${mib(idle.after.heapUsed)} after they closed (${growth >= 0 ? '+' : ''}${mib(growth)}, ${mib(idle.allowedGrowthBytes)} allowed); rss ${mib(idle.baseline.rss)} → ${mib(idle.peak.rss)} → ${mib(idle.after.rss)}`,
    );
  }
  if (report.logLines !== undefined) {
    lines.push(
      '',
      `what the front-end logged for request #${report.only}:`,
      ...report.logLines.map((line) => `  ${line}`),
    );
  }
  if (report.notes.length > 0) {
    lines.push('', `hostile input repeated back (not a failure): ${report.notes.length}, e.g.`);
    for (const note of report.notes.slice(0, SHOWN_NOTES))
      lines.push(`  #${note.index} ${note.kind} (${note.variant}): ${note.detail}`);
  }
  if (report.violations.length > 0) {
    lines.push('', 'violations by kind and rule:');
    for (const [group, count] of groupedViolations(report.violations)) {
      lines.push(`  ${String(count).padStart(5)}  ${group}`);
    }
    lines.push(
      '',
      `violations: ${report.violations.length}${report.violations.length > SHOWN_VIOLATIONS ? `, the first ${SHOWN_VIOLATIONS}` : ''}`,
    );
    for (const violation of report.violations.slice(0, SHOWN_VIOLATIONS))
      lines.push(...formatViolation(violation));
  }
  lines.push('', summaryLine(report));
  return lines.join('\n');
}

export function formatViolation(violation: Violation): string[] {
  const where =
    violation.index === undefined
      ? violation.kind
      : `#${violation.index} ${violation.kind} (${violation.variant})`;
  const lines = [`  ${where}: [${violation.rule}] ${violation.detail}`];
  if (violation.request) lines.push(`      request: ${violation.request}`);
  if (violation.answer) lines.push(`      answer:  ${violation.answer}`);
  if (violation.index !== undefined)
    lines.push(`      replay:  npm run fuzz -- --seed ${violation.seed} --only ${violation.index}`);
  return lines;
}

/**
 * The run in one line.
 *
 * @example
 * // fuzz PASS seed=42 requests=2000 sockets=200 refused=1901 accepted=99 5xx=0 leaks=0 as-unknown=180/180 heap=+0.4MiB violations=0 time=21.3s
 */
export function summaryLine(report: FuzzReport): string {
  const total = totals(report);
  const idle = report.idleSockets;
  const heap = idle
    ? ` heap=${idle.after.heapUsed >= idle.baseline.heapUsed ? '+' : ''}${mib(idle.after.heapUsed - idle.baseline.heapUsed).replace(' ', '')}`
    : '';
  const leaks = total.leaks + report.logs.leaks - countLogLeaksCharged(report);
  const byRule = new Map<string, number>();
  for (const violation of report.violations)
    byRule.set(violation.rule, (byRule.get(violation.rule) ?? 0) + 1);
  const rules =
    byRule.size === 0 ? '' : ` (${[...byRule].map(([rule, count]) => `${rule}×${count}`).join(', ')})`;
  const first = report.violations.find((violation) => violation.index !== undefined) ?? report.violations[0];
  const firstShown =
    first === undefined
      ? ''
      : ` first: ${first.kind}${first.index === undefined ? '' : ` #${first.index}`} [${first.rule}]`;
  return (
    `fuzz ${report.passed ? 'PASS' : 'FAIL'} seed=${report.seed} requests=${report.sent}/${report.requests} sockets=${idle?.opened ?? 0}/${report.sockets}` +
    ` refused=${total.refused} accepted=${total.accepted} 5xx=${total.serverErrors} no-answer=${total.noAnswer} leaks=${leaks}` +
    ` as-unknown=${report.asUnknown.matched}/${report.asUnknown.probes}${heap} violations=${report.violations.length}${rules}${firstShown}` +
    ` time=${seconds(report.durationMs).replace(' ', '')}`
  );
}

/** Violations counted by kind, variant (numbers and digit forms aside) and rule, most first. */
function groupedViolations(violations: readonly Violation[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const violation of violations) {
    const variant = (violation.variant ?? '')
      .replace(/\((ASCII|Unicode) digits, ([^)]*)\)/, (_, digits: string, separators: string) =>
        digits === 'ASCII' && !separators.startsWith('U+') ? '(ASCII)' : '(not all ASCII)',
      )
      .replace(/\d+/g, 'N');
    const group = `${violation.kind}${variant ? ` (${variant})` : ''}: ${violation.rule}`;
    counts.set(group, (counts.get(group) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function totals(report: FuzzReport): KindTally {
  const total: KindTally = {
    sent: 0,
    refused: 0,
    accepted: 0,
    serverErrors: 0,
    noAnswer: 0,
    other: 0,
    leaks: 0,
    violations: 0,
    ms: 0,
  };
  for (const kind of FUZZ_KINDS) {
    const tally = report.tallies[kind];
    for (const key of Object.keys(total) as Array<keyof KindTally>) total[key] += tally[key];
  }
  return total;
}

/** Log leaks already counted against a kind (so the summary counts each leak once). */
function countLogLeaksCharged(report: FuzzReport): number {
  return report.violations.filter(
    (violation) => violation.rule === 'log-leak' && violation.index !== undefined,
  ).length;
}

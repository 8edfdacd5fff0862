/**
 * What needs an operator, oldest first: the payments open for a decision (why, how long, the deadline and how
 * often on-call was paged again), the reconciliation task's open findings (money taken and not vended, charges
 * no payment records), the PaymentFailure and VendingFailure messages, and each dead-letter queue with its
 * messages and a redrive back to the queues they came from (when the console may act).
 */
import type { OpenFollowUpItem } from '../../database/operator-views.ts';
import type { FindingKind, OpenFinding } from '../../database/reconciliation.ts';
import type { FollowUpQueue } from '../queues/queue-messages.ts';
import { durationOf, executionPath, timeOf } from './format.ts';
import { html, type Markup } from './html.ts';
import { type PageContext, page } from './layout.ts';
import { openReasonWord, paymentPath, paymentStatusWord, poundsOf } from './payment-format.ts';
import { messagesTable } from './payment-page.ts';

export type Part<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problem: string };

export interface FollowUpPageData {
  readonly openPayments: Part<readonly OpenFollowUpItem[]>;
  readonly reconciliation: Part<readonly OpenFinding[]>;
  readonly queues: Part<readonly FollowUpQueue[]>;
  readonly peekSourceQueues: boolean;
  /** A redrive just started (after the form's redirect). */
  readonly redriven?: string | undefined;
  readonly now?: Date;
}

export function followUpPage(context: PageContext, data: FollowUpPageData): Markup {
  const now = data.now ?? new Date();
  const body = html`<h1>Follow-up</h1>
<p class="hint">What needs an operator, oldest first.</p>
${data.redriven === undefined ? '' : html`<p class="notice" role="status">Redriving ${data.redriven}: its messages are moving back to the queues they came from.</p>`}
<section aria-labelledby="open-heading">
  <h2 id="open-heading">Payments waiting for a decision</h2>
  ${data.openPayments.ok ? openTable(data.openPayments.value, now) : html`<p class="problem" role="alert">${data.openPayments.problem}</p>`}
</section>
<section aria-labelledby="reconciliation-heading" id="reconciliation">
  <h2 id="reconciliation-heading">Reconciliation</h2>
  <p class="hint">What the reconciliation task (every 15 minutes on AWS; <code>npm run reconcile</code> locally) found and has not found resolved since: money taken that nobody is crediting or refunding, and charges the gateway made that no payment records.</p>
  ${data.reconciliation.ok ? findingsTable(data.reconciliation.value, now) : html`<p class="problem" role="alert">${data.reconciliation.problem}</p>`}
</section>
<section aria-labelledby="queues-heading">
  <h2 id="queues-heading">Queues</h2>
  ${
    data.queues.ok
      ? queuesSection(context, data.queues.value, data.peekSourceQueues)
      : html`<p class="problem" role="alert">${data.queues.problem}</p>`
  }
</section>`;
  return page(context, { title: 'Follow-up', body, current: '/follow-up' });
}

function openTable(items: readonly OpenFollowUpItem[], now: Date): Markup {
  if (items.length === 0) return html`<p>No payment is waiting for a decision.</p>`;
  return html`<div class="table-scroll"><table class="open-payments">
<caption class="visually-hidden">Payments waiting for a decision, oldest first</caption>
<thead><tr><th scope="col">Payment</th><th scope="col">Why</th><th scope="col">Waiting</th><th scope="col">Deadline (UTC)</th><th scope="col" class="number">Escalations</th><th scope="col">Meter</th><th scope="col" class="number">Amount</th><th scope="col">Execution</th></tr></thead>
<tbody>${items.map((item) => {
    const overdue = Date.parse(item.deadlineAt) <= now.getTime();
    return html`<tr data-payment="${item.paymentId}" data-reason="${item.reason}"${overdue ? html` class="attention"` : ''}>
<th scope="row"><a href="${paymentPath(item.paymentId)}">${item.paymentId}</a></th>
<td>${openReasonWord(item.reason)}</td>
<td>${durationOf(now.getTime() - Date.parse(item.openedAt))} <span class="hint">since ${timeOf(item.openedAt)}</span></td>
<td>${timeOf(item.deadlineAt)}${overdue ? html` <span class="overdue">passed</span>` : ''}</td>
<td class="number">${item.escalations}</td>
<td>${item.meterId}</td>
<td class="number">${poundsOf(item.amountPence)}</td>
<td>${item.executionArn === null ? '' : html`<a href="${executionPath(item.executionArn)}">execution</a>`}</td>
</tr>`;
  })}</tbody>
</table></div>`;
}

const FINDING_WORDS: Record<FindingKind, string> = {
  charged_not_vended: 'Charged, not vended',
  charge_without_payment: 'Charge without a payment',
};

function findingsTable(findings: readonly OpenFinding[], now: Date): Markup {
  if (findings.length === 0) return html`<p>No open findings.</p>`;
  return html`<div class="table-scroll"><table class="findings">
<caption class="visually-hidden">Open reconciliation findings, oldest first</caption>
<thead><tr><th scope="col">Finding</th><th scope="col">Payment or charge</th><th scope="col" class="number">Amount</th><th scope="col">Since (UTC)</th><th scope="col">First found (UTC)</th><th scope="col">Last found (UTC)</th></tr></thead>
<tbody>${findings.map(
    (finding) => html`<tr data-finding="${finding.findingId}" data-kind="${finding.kind}">
<th scope="row">${FINDING_WORDS[finding.kind] ?? finding.kind}</th>
<td>${whatItIsAbout(finding)}</td>
<td class="number">${poundsOf(finding.amountPence)}</td>
<td>${timeOf(finding.occurredAt)} <span class="hint">(${durationOf(now.getTime() - Date.parse(finding.occurredAt))} ago)</span></td>
<td>${timeOf(finding.firstFoundAt)}</td>
<td>${timeOf(finding.lastFoundAt)}</td>
</tr>`,
  )}</tbody>
</table></div>`;
}

/** The payment (a link, with its status when found), and the charge: its reference and the gateway's id. */
function whatItIsAbout(finding: OpenFinding): Markup {
  const payment =
    finding.paymentId === null
      ? ''
      : html`<a href="${paymentPath(finding.paymentId)}">${finding.paymentId}</a>${finding.paymentStatus === null ? '' : html` <span class="hint">${paymentStatusWord(finding.paymentStatus)}</span>`}`;
  const charge = [
    finding.kind === 'charge_without_payment' && finding.reference !== null
      ? html`reference <code>${finding.reference}</code>`
      : '',
    finding.gatewayChargeId === null ? '' : html`charge <code>${finding.gatewayChargeId}</code>`,
  ].filter((part) => part !== '');
  return html`${payment}${payment !== '' && charge.length > 0 ? html`<br>` : ''}${charge.length === 0 ? '' : html`<span class="charge">${charge.map((part, index) => html`${index > 0 ? ', ' : ''}${part}`)}</span>`}`;
}

function queuesSection(
  context: PageContext,
  queues: readonly FollowUpQueue[],
  peekSourceQueues: boolean,
): Markup {
  if (queues.length === 0) return html`<p>There are no follow-up or dead-letter queues here.</p>`;
  const unlooked = queues.filter((queue) => !queue.peeked && queue.visible > 0);
  return html`${
    unlooked.length > 0 && !peekSourceQueues
      ? html`<p class="hint">${unlooked.map((queue) => queue.name).join(' and ')} ${unlooked.length === 1 ? 'holds' : 'hold'} messages not looked at: each look counts one receive of each message, and after the queue’s maxReceiveCount a message moves to its dead-letter queue. <a href="/follow-up?peekSourceQueues=true#queues-heading">Look at them</a>.</p>`
      : ''
  }
${queues.map((queue) => queueSection(context, queue))}`;
}

function queueSection(context: PageContext, queue: FollowUpQueue): Markup {
  const id = `queue-${queue.name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const task = queue.lastMoveTask;
  return html`<section class="queue" id="${id}" data-queue="${queue.name}" data-kind="${queue.kind}" aria-labelledby="${id}-heading">
  <h3 id="${id}-heading">${queue.name} <span class="hint">${queue.kind === 'dead_letter' ? 'dead-letter queue' : 'follow-up queue'}</span></h3>
  <p>${queue.visible} waiting, ${queue.inFlight} in flight${queue.delayed > 0 ? `, ${queue.delayed} delayed` : ''}.${
    queue.kind === 'dead_letter' && queue.sourceQueues.length > 0
      ? ` Takes what ${queue.sourceQueues.join(' and ')} could not deliver.`
      : ''
  }${queue.maxReceiveCount === null ? '' : ` A message moves to ${queue.deadLetterTarget} after ${queue.maxReceiveCount} receives.`}</p>
  ${queue.kind === 'dead_letter' ? redrive(context, queue) : ''}
  ${
    task === null
      ? ''
      : html`<p class="hint">Last redrive: ${task.status}, ${task.moved}${task.toMove === null ? '' : ` of ${task.toMove}`} moved${task.startedAt === null ? '' : html`, started ${timeOf(task.startedAt)}`}${task.failureReason === null ? '' : `: ${task.failureReason}`}.</p>`
  }
  ${queue.note === null ? '' : html`<p class="hint">${queue.note}</p>`}
  ${queue.peeked ? messagesTable(queue.messages, `Messages on ${queue.name}, oldest first`) : ''}
</section>`;
}

function redrive(context: PageContext, queue: FollowUpQueue): Markup | string {
  if (queue.visible === 0 || queue.sourceQueues.length === 0) return '';
  if (!context.actionsEnabled) {
    return html`<p class="read-only-note">Read-only: start the console with <code>--enable-actions</code> to redrive ${queue.name}.</p>`;
  }
  return html`<form class="redrive" method="post" action="/follow-up/dead-letter-queues/${encodeURIComponent(queue.name)}/redrive" data-confirm="Move every message on ${queue.name} back to ${queue.sourceQueues.join(' and ')}?">
  <button type="submit">Redrive to ${queue.sourceQueues.join(' and ')}</button>
</form>`;
}

/**
 * One payment as an operator needs it: what it is (charge, UTRN, refund, its execution), why it is open and the
 * decisions that can end it (forms, shown only when the console may act), the customer's timeline, every vend
 * attempt with its error, the audit trail, and the queue messages and on-call alerts about it.
 *
 * The decision forms post to /payments/{id}/decisions (a plain form: no script needed) and come back here; each
 * form carries a decision id of its own, so sending the same form twice hands over one decision.
 */
import { randomUUID } from 'node:crypto';
import type { OperatorDecision, OperatorPaymentEvent } from '../../database/operator-views.ts';
import type { DecisionAction } from '../../workflow/contracts.ts';
import type { Alert } from '../alerts/alerts-feed.ts';
import type { FollowUpView, PaymentDetail, VendAttemptView } from '../payments/payments-service.ts';
import type { PeekedMessage } from '../queues/queue-messages.ts';
import { statusBadge } from './badges.ts';
import { durationOf, executionPath, prettyJson, timeOf } from './format.ts';
import { html, type Markup } from './html.ts';
import { type PageContext, page } from './layout.ts';
import {
  ACTION_WORDS,
  actionWord,
  openReasonWord,
  paymentPath,
  paymentStatusBadge,
  poundsOf,
} from './payment-format.ts';

export interface PaymentPageOptions {
  /** Who decisions are recorded as taken by. */
  readonly operator: string;
  /** A decision just handed over (after the form's redirect). */
  readonly decided?: { readonly decisionId: string; readonly action: string } | undefined;
  /** Why the decision just sent was refused, with what the operator typed. */
  readonly problem?: { readonly message: string; readonly form: DecisionFormValues } | undefined;
  readonly now?: Date;
}

/** A decision form's fields as the operator sent them. */
export interface DecisionFormValues {
  readonly action?: string | undefined;
  readonly reason?: string | undefined;
  readonly utrn?: string | undefined;
}

export function paymentPage(
  context: PageContext,
  detail: PaymentDetail,
  options: PaymentPageOptions,
): Markup {
  const { payment } = detail;
  const now = options.now ?? new Date();
  const body = html`<div class="payment" data-payment="${payment.paymentId}">
<nav class="breadcrumbs" aria-label="Breadcrumbs"><ol>
  <li><a href="/payments">Payments</a></li>
  <li aria-current="page">${payment.paymentId}</li>
</ol></nav>
<h1><span class="visually-hidden">Payment </span>${payment.paymentId} ${paymentStatusBadge(payment.status)}</h1>
<p class="arn"><a href="/api/payments/${encodeURIComponent(payment.paymentId)}">as JSON</a></p>
${options.decided === undefined ? '' : html`<p class="notice" role="status">Your decision (${actionWord(options.decided.action)}, <code>${options.decided.decisionId}</code>) was handed to the execution, which records it in the audit trail and carries it out. <a href="${paymentPath(payment.paymentId)}">Reload</a> to see where it is.</p>`}
${facts(detail)}
${followUpSection(context, detail, options, now)}

<section aria-labelledby="timeline-heading">
  <h2 id="timeline-heading">What the customer was told</h2>
  ${timeline(detail.events)}
</section>

<section aria-labelledby="charge-heading">
  <h2 id="charge-heading">Charge</h2>
  <dl class="facts compact">
    <div><dt>Gateway charge</dt><dd>${payment.gatewayChargeId === null ? '–' : html`<code>${payment.gatewayChargeId}</code>`}</dd></div>
    <div><dt>Decline reason</dt><dd>${payment.declineReason ?? '–'}</dd></div>
    <div><dt>Unconfirmed by</dt><dd>${payment.chargeError ?? '–'}</dd></div>
  </dl>
</section>

<section aria-labelledby="vends-heading">
  <h2 id="vends-heading">Vend attempts</h2>
  ${vendsTable(detail.vends)}
</section>

<section aria-labelledby="audit-heading">
  <h2 id="audit-heading">Audit trail</h2>
  ${auditTable(detail.decisions)}
</section>

<section aria-labelledby="messages-heading">
  <h2 id="messages-heading">Queue messages about it</h2>
  ${queueMessages(detail)}
</section>

<section aria-labelledby="alerts-heading">
  <h2 id="alerts-heading">On-call alerts about it</h2>
  ${alertsAbout(detail)}
</section>
</div>`;
  return page(context, { title: `Payment ${payment.paymentId}`, body, current: '/payments' });
}

function facts({ payment, execution }: PaymentDetail): Markup {
  return html`<dl class="facts">
  <div><dt>Meter</dt><dd><a href="/payments?meterId=${encodeURIComponent(payment.meterId)}">${payment.meterId}</a></dd></div>
  <div><dt>Amount</dt><dd>${poundsOf(payment.amountPence)}</dd></div>
  <div><dt>Paid (UTC)</dt><dd>${timeOf(payment.createdAt)}</dd></div>
  <div><dt>Last changed (UTC)</dt><dd>${timeOf(payment.updatedAt)}</dd></div>
  <div><dt>UTRN</dt><dd>${payment.utrn === null ? '–' : html`<code class="utrn">${payment.utrn}</code>`}</dd></div>
  <div><dt>Refund</dt><dd>${payment.refundId === null ? '–' : html`<code>${payment.refundId}</code>`}</dd></div>
  <div class="fact-wide"><dt>Execution</dt><dd>${
    execution === null
      ? 'Not found'
      : html`<a href="${executionPath(execution.executionArn)}">${payment.paymentId}</a> ${statusBadge(execution.status)}`
  }</dd></div>
</dl>`;
}

function followUpSection(
  context: PageContext,
  detail: PaymentDetail,
  options: PaymentPageOptions,
  now: Date,
): Markup | string {
  const { followUp } = detail;
  if (followUp === null) return '';
  const heading = followUp.open ? 'Open: waiting for a decision' : 'Follow-up (closed)';
  return html`<section class="follow-up-section${followUp.open ? ' open' : ''}" aria-labelledby="follow-up-heading" id="follow-up">
  <h2 id="follow-up-heading">${heading}</h2>
  <dl class="facts compact">
    <div><dt>Why</dt><dd>${openReasonWord(followUp.reason)}</dd></div>
    <div><dt>Opened (UTC)</dt><dd>${timeOf(followUp.openedAt)}${followUp.open ? html` <span class="hint">(${durationOf(now.getTime() - Date.parse(followUp.openedAt))} ago)</span>` : ''}</dd></div>
    <div><dt>Deadline (UTC)</dt><dd>${timeOf(followUp.deadlineAt)}${followUp.overdue ? html` <span class="overdue">passed</span>` : ''}</dd></div>
    <div><dt>Escalations</dt><dd>${followUp.escalations}</dd></div>
    ${followUp.closedAt === null ? '' : html`<div><dt>Closed (UTC)</dt><dd>${timeOf(followUp.closedAt)}</dd></div>`}
  </dl>
  ${followUp.open ? decisions(context, detail.payment.paymentId, detail.payment.amountPence, followUp, options) : ''}
</section>`;
}

function decisions(
  context: PageContext,
  paymentId: string,
  amountPence: number,
  followUp: FollowUpView,
  options: PaymentPageOptions,
): Markup {
  const problem =
    options.problem === undefined
      ? ''
      : html`<p class="problem" role="alert" id="decision-problem">Not decided: ${options.problem.message}</p>`;
  if (!context.actionsEnabled) {
    return html`<p class="read-only-note" id="decisions">Read-only: start the console with <code>--enable-actions</code> (or <code>OPS_ENABLE_ACTIONS=true npm start</code>) to decide: ${followUp.allowedActions.map(actionWord).join(', ')}.</p>`;
  }
  if (followUp.allowedActions.length === 0) {
    return html`<p class="hint" id="decisions">No decision can end it now: the payment has moved on. Reload to see where it is.</p>`;
  }
  return html`<div id="decisions">
${problem}
<p class="hint">Deciding as <strong>${options.operator}</strong>: the audit trail records who, when, what and why.</p>
<div class="decisions">${followUp.allowedActions.map((action) =>
    decisionForm(
      paymentId,
      amountPence,
      action,
      options.problem?.form.action === action ? options.problem.form : {},
    ),
  )}</div>
</div>`;
}

function decisionForm(
  paymentId: string,
  amountPence: number,
  action: DecisionAction,
  values: DecisionFormValues,
): Markup {
  const words = ACTION_WORDS[action];
  const id = `decide-${action}`;
  const label = action === 'refund' ? `Refund ${poundsOf(amountPence)}` : words.label;
  return html`<form class="decision" method="post" action="/payments/${encodeURIComponent(paymentId)}/decisions" data-confirm="${label} for ${paymentId}? This cannot be undone." aria-labelledby="${id}-heading">
  <h3 id="${id}-heading">${words.label}</h3>
  <p class="hint">${words.help}</p>
  <input type="hidden" name="action" value="${action}">
  <input type="hidden" name="decisionId" value="${randomUUID()}">
  ${
    action === 'record_utrn'
      ? html`<div class="field"><label for="${id}-utrn">UTRN (20 digits)</label>
  <input id="${id}-utrn" name="utrn" required pattern="[0-9]{20}" inputmode="numeric" maxlength="20" autocomplete="off" value="${values.utrn ?? ''}"></div>`
      : ''
  }
  <div class="field"><label for="${id}-reason">Why (kept in the audit trail)</label>
  <textarea id="${id}-reason" name="reason" required maxlength="1000" rows="2">${values.reason ?? ''}</textarea></div>
  <button type="submit"${action === 'refund' ? html` class="danger"` : ''}>${label}</button>
</form>`;
}

function timeline(events: readonly OperatorPaymentEvent[]): Markup {
  if (events.length === 0) return html`<p>No events.</p>`;
  return html`<div class="table-scroll"><table class="timeline">
<caption class="visually-hidden">Customer events, in order</caption>
<thead><tr><th scope="col" class="number">#</th><th scope="col">Event</th><th scope="col">At (UTC)</th><th scope="col">Details</th></tr></thead>
<tbody>${events.map(
    (
      event,
    ) => html`<tr data-event="${event.type}"${event.type === 'vend_failed' || event.type === 'charge_unconfirmed' ? html` class="attention"` : ''}>
<td class="number">${event.seq}</td>
<th scope="row">${event.type}</th>
<td>${timeOf(event.at)}</td>
<td>${Object.entries(event.fields).map(
      ([key, value]) =>
        html`<span class="field-value"><span class="field-name">${key}</span> <code>${typeof value === 'string' ? value : JSON.stringify(value)}</code></span> `,
    )}</td>
</tr>`,
  )}</tbody>
</table></div>`;
}

function vendsTable(vends: readonly VendAttemptView[]): Markup {
  if (vends.length === 0) return html`<p>No vend attempt was recorded.</p>`;
  return html`<div class="table-scroll"><table class="vends">
<caption class="visually-hidden">Vend attempts, in order</caption>
<thead><tr><th scope="col" class="number">Attempt</th><th scope="col">Outcome</th><th scope="col">Error</th><th scope="col">UTRN</th><th scope="col">Transaction</th><th scope="col">At (UTC)</th></tr></thead>
<tbody>${vends.map(
    (vend) => html`<tr${vend.error === null ? '' : html` class="event-failed"`}>
<td class="number">${vend.attempt}</td>
<td>${vend.outcome}${vend.recordedByHand ? html` <span class="hint">(recorded by hand)</span>` : ''}</td>
<td>${vend.error ?? ''}</td>
<td>${vend.utrn === null ? '' : html`<code class="utrn">${vend.utrn}</code>`}</td>
<td><code>${vend.transactionId}</code></td>
<td>${timeOf(vend.createdAt)}</td>
</tr>`,
  )}</tbody>
</table></div>`;
}

function auditTable(decisions: readonly OperatorDecision[]): Markup {
  if (decisions.length === 0) return html`<p>No decision has been taken on this payment.</p>`;
  return html`<div class="table-scroll"><table class="audit">
<caption class="visually-hidden">Decisions taken on this payment, oldest first</caption>
<thead><tr><th scope="col">Decided (UTC)</th><th scope="col">Decision</th><th scope="col">By</th><th scope="col">Why</th><th scope="col">UTRN</th><th scope="col">Recorded (UTC)</th></tr></thead>
<tbody>${decisions.map(
    (decision) => html`<tr data-decision="${decision.decisionId}">
<td>${timeOf(decision.decidedAt)}</td>
<th scope="row">${actionWord(decision.action)}</th>
<td>${decision.operator}</td>
<td class="reason-text">${decision.reason}</td>
<td>${decision.utrn === null ? '' : html`<code class="utrn">${decision.utrn}</code>`}</td>
<td>${timeOf(decision.recordedAt)}</td>
</tr>`,
  )}</tbody>
</table></div>`;
}

function queueMessages({ payment, queueMessages: found }: PaymentDetail): Markup {
  const lookFurther =
    found.sourceQueuesPeeked || found.notLookedAt.length === 0
      ? ''
      : html`<p class="hint">Not looked at: ${found.notLookedAt.join(', ')} (each look counts one receive of each message, and after the queue’s maxReceiveCount a message moves to its dead-letter queue). <a href="${paymentPath(payment.paymentId, { peekSourceQueues: 'true' })}#messages-heading">Look there too</a>.</p>`;
  return html`${found.problem === null ? '' : html`<p class="problem" role="alert">The queues could not be read: ${found.problem}</p>`}
${messagesTable(found.messages, 'Queue messages about this payment')}
${lookFurther}`;
}

/** Messages with their queue, when sent and how often received, and the body (task tokens redacted). */
export function messagesTable(messages: readonly PeekedMessage[], caption: string): Markup {
  if (messages.length === 0) return html`<p>None found.</p>`;
  return html`<div class="table-scroll"><table class="messages">
<caption class="visually-hidden">${caption}</caption>
<thead><tr><th scope="col">Queue</th><th scope="col">Sent (UTC)</th><th scope="col" class="number">Received</th><th scope="col">Payment</th><th scope="col">Body</th></tr></thead>
<tbody>${messages.map(
    (message) => html`<tr data-message="${message.messageId}">
<td>${message.queueName}</td>
<td>${timeOf(message.sentAt)}</td>
<td class="number">${message.receiveCount}</td>
<td>${message.paymentId === null ? '' : html`<a href="${paymentPath(message.paymentId)}">${message.paymentId}</a>`}</td>
<td><details><summary>${summaryOf(message.body)}</summary><pre>${prettyJson(message.body)}</pre></details></td>
</tr>`,
  )}</tbody>
</table></div>`;
}

function summaryOf(body: string): string {
  try {
    const value = JSON.parse(body) as { failure?: { Error?: unknown; Cause?: unknown }; reason?: unknown };
    if (typeof value.failure?.Error === 'string') {
      return typeof value.failure.Cause === 'string'
        ? `${value.failure.Error}: ${value.failure.Cause.slice(0, 120)}`
        : value.failure.Error;
    }
    if (typeof value.reason === 'string') return value.reason;
  } catch {
    // Not JSON: its start.
  }
  return body.length > 80 ? `${body.slice(0, 80)}…` : body;
}

function alertsAbout({ alerts, alertsStatus }: PaymentDetail): Markup {
  const note =
    alertsStatus.state === 'listening'
      ? ''
      : html`<p class="hint">${alertsStatus.note ?? `Alerts: ${alertsStatus.state}.`}</p>`;
  return html`${note}${alertsList(alerts)}`;
}

export function alertsList(alerts: readonly Alert[]): Markup {
  if (alerts.length === 0) return html`<p>None since the console started following the on-call topic.</p>`;
  return html`<ol class="alerts">${alerts.map(
    (alert) => html`<li class="alert" data-alert="${alert.messageId}">
  <p class="alert-head">${timeOf(alert.publishedAt)} <strong>${alert.subject ?? '(no subject)'}</strong>${
    alert.paymentId === null ? '' : html` · <a href="${paymentPath(alert.paymentId)}">${alert.paymentId}</a>`
  }</p>
  <p class="alert-message">${alert.message}</p>
</li>`,
  )}</ol>`;
}

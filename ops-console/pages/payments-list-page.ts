/**
 * The payments search: by payment id (whole or in part), meter and status, newest first. A plain GET form, so
 * every search is a link an operator can share.
 */
import type { PaymentListItem } from '../../database/operator-views.ts';
import { PAYMENT_STATUSES } from '../../database/schema.ts';
import { timeOf } from './format.ts';
import { html, type Markup } from './html.ts';
import { type PageContext, page } from './layout.ts';
import {
  openReasonWord,
  paymentPath,
  paymentStatusBadge,
  paymentStatusWord,
  poundsOf,
} from './payment-format.ts';

export interface PaymentSearchForm {
  readonly paymentId?: string | undefined;
  readonly meterId?: string | undefined;
  readonly status?: string | undefined;
  readonly limit?: string | undefined;
}

export function paymentsListPage(
  context: PageContext,
  {
    form,
    result,
    problem,
  }: { form: PaymentSearchForm; result: readonly PaymentListItem[] | null; problem: string | null },
): Markup {
  const body = html`<h1>Payments</h1>
<form class="filters" method="get" action="/payments" role="search" aria-label="Search payments">
  <div class="field"><label for="search-payment">Payment id</label>
    <input id="search-payment" type="search" name="paymentId" value="${form.paymentId ?? ''}" placeholder="pay_…" maxlength="80" autocomplete="off" spellcheck="false"></div>
  <div class="field"><label for="search-meter">Meter (MPAN or MPRN)</label>
    <input id="search-meter" type="search" name="meterId" value="${form.meterId ?? ''}" inputmode="numeric" maxlength="13" autocomplete="off"></div>
  <div class="field"><label for="search-status">Status</label>
    <select id="search-status" name="status">
      <option value="">Any</option>
      ${PAYMENT_STATUSES.map(
        (status) =>
          html`<option value="${status}"${form.status === status ? ' selected' : ''}>${paymentStatusWord(status)}</option>`,
      )}
    </select></div>
  <div class="field"><label for="search-limit">Show</label>
    <select id="search-limit" name="limit">${['25', '100', '500'].map(
      (size) => html`<option${(form.limit ?? '25') === size ? ' selected' : ''}>${size}</option>`,
    )}</select></div>
  <div class="filter-buttons"><button type="submit">Search</button> <a href="/payments">Clear</a></div>
</form>
${problem === null ? '' : html`<p class="problem" role="alert">${problem}</p>`}
${result === null ? '' : resultTable(result)}`;
  return page(context, { title: 'Payments', body, current: '/payments' });
}

function resultTable(payments: readonly PaymentListItem[]): Markup {
  if (payments.length === 0) return html`<p class="summary" role="status">No payments match.</p>`;
  return html`<p class="summary" role="status">${payments.length} payment${payments.length === 1 ? '' : 's'}, newest first.</p>
<div class="table-scroll"><table class="payments">
<caption class="visually-hidden">Payments, newest first</caption>
<thead><tr><th scope="col">Payment</th><th scope="col">Status</th><th scope="col">Open for a decision</th><th scope="col">Meter</th><th scope="col" class="number">Amount</th><th scope="col">Paid (UTC)</th></tr></thead>
<tbody>${payments.map(
    (
      payment,
    ) => html`<tr data-payment="${payment.paymentId}"${payment.openFor === null ? '' : html` class="attention"`}>
<th scope="row"><a href="${paymentPath(payment.paymentId)}">${payment.paymentId}</a></th>
<td>${paymentStatusBadge(payment.status)}</td>
<td>${payment.openFor === null ? '' : html`<span class="follow-up">${openReasonWord(payment.openFor)}</span>`}</td>
<td>${payment.meterId}</td>
<td class="number">${poundsOf(payment.amountPence)}</td>
<td>${timeOf(payment.createdAt)}</td>
</tr>`,
  )}</tbody>
</table></div>`;
}

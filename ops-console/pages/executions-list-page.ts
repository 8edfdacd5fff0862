/**
 * A state machine's executions: filters (status, name, start dates), the real reason each one failed, and
 * a link to each. A plain GET form, so every search is a link an operator can share.
 */
import type { ExecutionPage, StateMachineItem } from '../executions/executions-service.ts';
import { EXECUTION_STATUSES, OUTCOME_DESCRIPTIONS } from '../executions/outcomes.ts';
import { outcomeBadge, statusBadge, statusWord } from './badges.ts';
import { reasonText } from './execution-page.ts';
import { durationOf, executionPath, executionsPath, timeOf } from './format.ts';
import { html, type Markup } from './html.ts';
import { type PageContext, page } from './layout.ts';
import { paymentPath } from './payment-format.ts';

type MachineNamed = Pick<StateMachineItem, 'stateMachineArn' | 'name'>;

/** The form's fields as the operator typed them (dates as `datetime-local`, in UTC). */
export interface ListFormValues {
  readonly status?: string | undefined;
  readonly name?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly limit?: string | undefined;
}

export function executionsListPage(
  context: PageContext,
  {
    machine,
    form,
    result,
    problem,
    cursor,
  }: {
    machine: MachineNamed;
    form: ListFormValues;
    result: ExecutionPage | null;
    problem: string | null;
    cursor: string | undefined;
  },
): Markup {
  const query = { status: form.status, name: form.name, from: form.from, to: form.to, limit: form.limit };
  const body = html`<nav class="breadcrumbs" aria-label="Breadcrumbs"><ol>
  <li><a href="/">State machines</a></li>
  <li aria-current="page">${machine.name}</li>
</ol></nav>
<h1>${machine.name} executions</h1>
<nav class="status-tabs" aria-label="Executions by status"><ul>
  <li><a href="${executionsPath(machine.stateMachineArn, { ...query, status: undefined })}"${form.status ? '' : html` aria-current="true"`}>All</a></li>
  ${EXECUTION_STATUSES.map(
    (status) =>
      html`<li><a href="${executionsPath(machine.stateMachineArn, { ...query, status })}"${form.status === status ? html` aria-current="true"` : ''}>${statusWord(status)}</a></li>`,
  )}
</ul></nav>
<form class="filters" method="get" action="${executionsPath(machine.stateMachineArn)}" role="search" aria-label="Search executions">
  <div class="field"><label for="filter-status">Status</label>
    <select id="filter-status" name="status">
      <option value="">Any</option>
      ${EXECUTION_STATUSES.map(
        (status) =>
          html`<option value="${status}"${form.status === status ? ' selected' : ''}>${statusWord(status)}</option>`,
      )}
    </select></div>
  <div class="field"><label for="filter-name">Name (payment id)</label>
    <input id="filter-name" type="search" name="name" value="${form.name ?? ''}" placeholder="pay_…" maxlength="80" autocomplete="off" spellcheck="false"></div>
  <div class="field"><label for="filter-from">Started from (UTC)</label>
    <input id="filter-from" type="datetime-local" name="from" value="${form.from ?? ''}" step="1"></div>
  <div class="field"><label for="filter-to">Started until (UTC)</label>
    <input id="filter-to" type="datetime-local" name="to" value="${form.to ?? ''}" step="1"></div>
  <div class="field"><label for="filter-limit">Per page</label>
    <select id="filter-limit" name="limit">${['25', '50', '100'].map(
      (size) => html`<option${(form.limit ?? '25') === size ? ' selected' : ''}>${size}</option>`,
    )}</select></div>
  <div class="filter-buttons"><button type="submit">Search</button> <a href="${executionsPath(machine.stateMachineArn)}">Clear</a></div>
</form>
${problem === null ? '' : html`<p class="problem" role="alert">${problem}</p>`}
${result === null ? '' : resultTable(machine, result, query, cursor)}`;
  return page(context, { title: `${machine.name} executions`, body });
}

function resultTable(
  machine: MachineNamed,
  result: ExecutionPage,
  query: Record<string, string | undefined>,
  cursor: string | undefined,
): Markup {
  const count = result.executions.length;
  const summary =
    count === 0
      ? 'No executions match.'
      : `${count} execution${count === 1 ? '' : 's'}${cursor === undefined ? '' : ' (a later page)'}.`;
  return html`<p class="summary" role="status">${summary}${
    result.scanLimitReached
      ? html` Looked at ${result.scanned} executions without filling the page: <a href="${executionsPath(machine.stateMachineArn, { ...query, cursor: result.nextCursor ?? undefined })}">search further</a>.`
      : ''
  }</p>
${
  count === 0
    ? ''
    : html`<div class="table-scroll"><table class="executions">
<caption class="visually-hidden">${machine.name} executions, newest first</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Outcome</th><th scope="col">Reason</th><th scope="col">Started (UTC)</th><th scope="col" class="number">Duration</th><th scope="col" class="number">Redrives</th></tr></thead>
<tbody>${result.executions.map(
        (execution) => html`<tr data-execution="${execution.name}" data-outcome="${execution.outcome}">
<th scope="row"><a href="${executionPath(execution.executionArn)}">${execution.name}</a></th>
<td>${statusBadge(execution.status)}</td>
<td>${outcomeBadge(execution.outcome)}${OUTCOME_DESCRIPTIONS[execution.outcome].needsFollowUp ? html`<span class="visually-hidden"> (needs follow-up)</span>` : ''}${
          execution.outcome === 'awaiting_decision'
            ? html` <a class="decide-link" href="${paymentPath(execution.name)}">decide<span class="visually-hidden"> on payment ${execution.name}</span></a>`
            : ''
        }</td>
<td class="reason" title="${execution.reason ?? ''}"><div class="clamp">${execution.reason === null ? '' : reasonText(execution, executionPath(execution.executionArn))}</div></td>
<td>${timeOf(execution.startDate)}</td>
<td class="number">${execution.durationMs === null ? 'running' : durationOf(execution.durationMs)}</td>
<td class="number">${execution.redriveCount}</td>
</tr>`,
      )}</tbody>
</table></div>`
}
<nav class="pager" aria-label="Pages">${cursor === undefined ? '' : html`<a href="${executionsPath(machine.stateMachineArn, query)}">First page</a>`}${
    result.nextCursor !== null && !result.scanLimitReached
      ? html` <a href="${executionsPath(machine.stateMachineArn, { ...query, cursor: result.nextCursor })}" rel="next">Next page</a>`
      : ''
  }</nav>`;
}

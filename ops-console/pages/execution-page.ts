/**
 * One execution's page: what happened and why, the graph with the path taken, each state's details, the
 * event history and the definition. While the execution runs, the page reloads its live parts (console.js);
 * they are the elements marked `data-live`, each with an id.
 */
import type { ExecutionDetail, ExecutionRow } from '../executions/executions-service.ts';
import type { GraphLayout } from '../executions/graph.ts';
import type { HistoryRow, StateAttempt, StateSummary } from '../executions/history.ts';
import { OUTCOME_DESCRIPTIONS, readableCause } from '../executions/outcomes.ts';
import { outcomeBadge, statusBadge } from './badges.ts';
import { durationOf, executionPath, executionsPath, prettyJson, stateAnchor, timeOf } from './format.ts';
import { DISPLAY_LEGEND, displayOf, graphSvg } from './graph-svg.ts';
import { html, type Markup } from './html.ts';
import { type PageContext, page } from './layout.ts';
import { paymentPath } from './payment-format.ts';

export interface ExecutionPageOptions {
  readonly pollIntervalMs: number;
}

export function executionPage(
  context: PageContext,
  detail: ExecutionDetail,
  layout: GraphLayout,
  options: ExecutionPageOptions,
): Markup {
  const { execution, stateMachine } = detail;
  const running = execution.status === 'RUNNING' || execution.status === 'PENDING_REDRIVE';
  const body = html`<div class="execution" data-live-url="${executionPath(execution.executionArn)}" data-running="${String(running)}" data-poll-ms="${options.pollIntervalMs}">
<nav class="breadcrumbs" aria-label="Breadcrumbs"><ol>
  <li><a href="/">State machines</a></li>
  <li><a href="${executionsPath(stateMachine.stateMachineArn)}">${stateMachine.name}</a></li>
  <li aria-current="page">${execution.name}</li>
</ol></nav>
<h1><span class="visually-hidden">Execution </span>${execution.name}</h1>
<p class="arn"><code>${execution.executionArn}</code> · <a href="/api/executions/${encodeURIComponent(execution.executionArn)}">as JSON</a></p>
<p id="live-status" class="visually-hidden" role="status" data-live>${execution.name}: ${execution.status.toLowerCase()}</p>
${facts(detail)}
${actions(context, detail)}

<section class="graph-section" aria-labelledby="graph-heading">
  <h2 id="graph-heading">Graph</h2>
  ${legend()}
  <div class="graph-layout">
    <div class="graph-scroll" id="graph" data-live>${graphSvg({
      layout,
      states: detail.states,
      transitions: detail.transitions,
      title: `Graph of ${stateMachine.name}, coloured by how each state went in ${execution.name}`,
    })}</div>
    <aside class="state-panel" id="state-panel" aria-labelledby="state-panel-heading" aria-live="polite">
      <h3 id="state-panel-heading">Step details</h3>
      <p class="hint">Select a state in the graph to see its input, output, error and timing.</p>
    </aside>
  </div>
</section>

<section aria-labelledby="states-heading">
  <h2 id="states-heading">States</h2>
  ${statesTable(detail.states)}
  <h3>Each state's input, output and attempts</h3>
  <div id="state-details" class="state-details" data-live>${detail.states.map((state) => stateDetails(state))}</div>
</section>

<section aria-labelledby="history-heading">
  <h2 id="history-heading">Event history</h2>
  ${historyTable(detail.history, execution.startDate)}
</section>

<section aria-labelledby="io-heading">
  <h2 id="io-heading">Input and output</h2>
  <div id="io" class="io" data-live>
    <details><summary>Execution input</summary><pre>${prettyJson(execution.input)}</pre></details>
    ${execution.output === null ? '' : html`<details><summary>Execution output</summary><pre>${prettyJson(execution.output)}</pre></details>`}
  </div>
</section>

<section aria-labelledby="definition-heading">
  <h2 id="definition-heading">Definition</h2>
  <details><summary>${stateMachine.name}'s definition as this execution ran it${stateMachine.revisionId === null ? '' : ` (revision ${stateMachine.revisionId})`}</summary><pre>${prettyJson(stateMachine.definition)}</pre></details>
</section>
</div>`;
  return page(context, { title: execution.name, body });
}

function facts(detail: ExecutionDetail): Markup {
  const { execution } = detail;
  const outcome = OUTCOME_DESCRIPTIONS[execution.outcome];
  const current = detail.states.filter((state) => state.status === 'running').map((state) => state.name);
  return html`<dl class="facts" id="facts" data-live>
  <div><dt>Status</dt><dd>${statusBadge(execution.status)}</dd></div>
  <div><dt>Outcome</dt><dd>${outcomeBadge(execution.outcome)}${outcome.needsFollowUp ? html` <span class="follow-up">needs follow-up</span>` : ''}</dd></div>
  ${
    execution.outcome === 'awaiting_decision'
      ? html`<div class="fact-wide"><dt>Payment</dt><dd><a href="${paymentPath(execution.name)}" data-payment-link>Payment ${execution.name}</a>: <span class="hint">its page has the decisions that end it (re-vend, record a UTRN, refund, recheck the charge) and the audit trail</span></dd></div>`
      : ''
  }
  ${current.length === 0 ? '' : html`<div><dt>Now in</dt><dd>${current.join(', ')}</dd></div>`}
  <div><dt>Started (UTC)</dt><dd>${timeOf(execution.startDate)}</dd></div>
  <div><dt>Stopped (UTC)</dt><dd>${timeOf(execution.stopDate)}</dd></div>
  <div><dt>Duration</dt><dd>${execution.durationMs === null ? 'running' : durationOf(execution.durationMs)}</dd></div>
  <div><dt>Redrives</dt><dd>${execution.redriveCount}${execution.redriveDate === null ? '' : html` (last ${timeOf(execution.redriveDate)})`}</dd></div>
  ${
    execution.reason === null
      ? ''
      : html`<div class="fact-wide"><dt>Reason</dt><dd class="reason">${reasonText(execution, '')}</dd></div>`
  }
  ${
    execution.error === null
      ? ''
      : html`<div class="fact-wide"><dt>Ended with</dt><dd><code>${execution.error}</code>${execution.cause === null ? '' : html` <span class="cause">${execution.cause}</span>`}</dd></div>`
  }
</dl>`;
}

/**
 * The failing step's error and cause, and a link to that step's details (on the execution's page: `page` is
 * its path, or '' on the page itself).
 */
export function reasonText(execution: ExecutionRow, page: string): Markup {
  if (execution.outcome === 'charge_declined' && execution.declineReason !== null) {
    return html`<code>${execution.declineReason}</code> <span class="cause">(the gateway's decline code)</span>`;
  }
  const failure = execution.failure;
  if (failure === null) return html`${execution.reason}`;
  const cause = readableCause(failure.cause);
  return html`<code>${failure.error}</code>${cause === null ? '' : html`: <span class="cause">${cause}</span>`}${failure.stateName === null ? '' : html` <span class="where">in <a href="${page}#${stateAnchor(failure.stateName)}">${failure.stateName}</a></span>`}`;
}

function actions(context: PageContext, detail: ExecutionDetail): Markup {
  const { execution } = detail;
  const arn = encodeURIComponent(execution.executionArn);
  if (!context.actionsEnabled) {
    return html`<p class="actions read-only-note" id="actions" data-live>Read-only: start the console with <code>--enable-actions</code> (or <code>OPS_ENABLE_ACTIONS=true npm start</code>) to stop or redrive executions.</p>`;
  }
  const canStop = execution.status === 'RUNNING';
  const canRedrive = execution.redriveStatus === 'REDRIVABLE';
  return html`<div class="actions" id="actions" data-live>
  ${canStop ? html`<button type="button" class="danger" data-action="stop" data-url="/api/executions/${arn}/stop" data-confirm="Stop ${execution.name}? The step in progress is abandoned; the execution ends ABORTED.">Stop execution</button>` : ''}
  ${canRedrive ? html`<button type="button" data-action="redrive" data-url="/api/executions/${arn}/redrive" data-confirm="Redrive ${execution.name}? It restarts from the step that did not succeed.">Redrive execution</button>` : ''}
  ${!canStop && !canRedrive ? html`<p class="hint">Nothing to do: ${execution.redriveStatusReason ?? 'this execution can be neither stopped nor redriven'}.</p>` : ''}
  <p class="action-status" role="status"></p>
  <noscript><p>Stopping and redriving need JavaScript.</p></noscript>
</div>`;
}

function legend(): Markup {
  return html`<ul class="legend" aria-label="What the colours mean">${DISPLAY_LEGEND.map(
    (entry) =>
      html`<li><span class="swatch" data-status="${entry.status}" aria-hidden="true"></span>${entry.label}</li>`,
  )}<li><span class="swatch swatch-path" aria-hidden="true"></span>Path taken</li><li><span class="swatch swatch-catch" aria-hidden="true"></span>Catch (dashed)</li></ul>`;
}

function statesTable(states: readonly StateSummary[]): Markup {
  return html`<div class="table-scroll" id="states" data-live><table class="states">
<caption class="visually-hidden">Each state entered, with how it went</caption>
<thead><tr><th scope="col">State</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col" class="number">Retries</th><th scope="col">Entered</th><th scope="col" class="number">Duration</th><th scope="col">Error</th></tr></thead>
<tbody>${states.map((state) => {
    const display = displayOf(state);
    return html`<tr data-state="${state.name}">
<th scope="row"><a href="#${stateAnchor(state.name)}">${state.name}</a>${state.visits > 1 ? html` <span class="visits">(${state.visits} visits)</span>` : ''}</th>
<td>${state.type}</td>
<td><span class="state-status" data-status="${display.status}">${display.text.replace(/:.*$/, '')}</span></td>
<td class="number">${state.retries}${state.totalRetries !== state.retries ? html` <span class="visits">(${state.totalRetries} in all)</span>` : ''}</td>
<td>${timeOf(state.enteredAt)}</td>
<td class="number">${state.exitedAt === null && state.status === 'running' ? 'running' : durationOf(state.durationMs)}</td>
<td>${state.error === null ? '' : html`<code>${state.error}</code>${state.status === 'succeeded' || state.status === 'running' ? html` <span class="visits">(retried)</span>` : ''}`}</td>
</tr>`;
  })}</tbody>
</table></div>`;
}

/** A state's details: shown in the panel when its node is selected, and readable here without script. */
function stateDetails(state: StateSummary): Markup {
  const display = displayOf(state);
  return html`<details class="state-detail" id="${stateAnchor(state.name)}" data-state="${state.name}">
<summary><span class="state-name">${state.name}</span> <span class="state-status" data-status="${display.status}">${display.text}</span></summary>
<div class="state-detail-body">
<dl class="facts compact">
  <div><dt>Type</dt><dd>${state.type}</dd></div>
  <div><dt>Status</dt><dd>${display.text}</dd></div>
  <div><dt>Entered</dt><dd>${timeOf(state.enteredAt)}</dd></div>
  <div><dt>Left</dt><dd>${timeOf(state.exitedAt)}</dd></div>
  <div><dt>Duration</dt><dd>${state.exitedAt === null && state.status === 'running' ? 'running' : durationOf(state.durationMs)}</dd></div>
  <div><dt>Retries</dt><dd>${state.retries}${state.visits > 1 ? ` (entered ${state.visits} times; ${state.totalRetries} retries in all)` : ''}</dd></div>
  ${state.error === null ? '' : html`<div class="fact-wide"><dt>${errorLabel(state)}</dt><dd><code>${state.error}</code></dd></div>`}
  ${state.cause === null ? '' : html`<div class="fact-wide"><dt>Cause</dt><dd class="cause">${state.cause}</dd></div>`}
</dl>
${state.attempts.length > 1 || state.attempts.some((attempt) => attempt.outcome === 'failed') ? attemptsList(state.attempts) : ''}
<h4>Input</h4>
<pre>${state.input === null ? '(none)' : prettyJson(state.input)}</pre>
<h4>Output</h4>
<pre>${state.output === null ? (state.status === 'running' ? '(none yet)' : '(none)') : prettyJson(state.output)}</pre>
</div>
</details>`;
}

/** A state that got through after retries still shows what it retried, as such. */
function errorLabel(state: StateSummary): string {
  return state.status === 'succeeded' || state.status === 'running' ? 'Error retried' : 'Error';
}

/** Each attempt on a line: when, how long, and how it ended; a cause repeated from the attempt before is not. */
function attemptsList(attempts: readonly StateAttempt[]): Markup {
  return html`<h4>Attempts</h4>
<ol class="attempts">${attempts.map((attempt, index) => {
    const took =
      attempt.endedAt === null
        ? 'running'
        : durationOf(Date.parse(attempt.endedAt) - Date.parse(attempt.scheduledAt));
    const sameCause = index > 0 && attempts[index - 1]?.cause === attempt.cause;
    return html`<li data-outcome="${attempt.outcome}"><span class="attempt-when">${timeOf(attempt.scheduledAt)}, ${took}:</span> <strong>${attempt.outcome}</strong>${attempt.error === null ? '' : html` <code>${attempt.error}</code>`}${attempt.endedBy !== null && attempt.outcome === 'failed' && attempt.endedBy !== 'TaskFailed' ? html` <span class="visits">(${attempt.endedBy})</span>` : ''}${attempt.cause === null || sameCause ? '' : html`<br><span class="cause">${attempt.cause}</span>`}</li>`;
  })}</ol>`;
}

function historyTable(rows: readonly HistoryRow[], startDate: string): Markup {
  const start = Date.parse(startDate);
  return html`<div class="table-scroll" id="history" data-live><table class="history">
<caption class="visually-hidden">Every event of the execution, in order</caption>
<thead><tr><th scope="col" class="number">ID</th><th scope="col">Type</th><th scope="col">State</th><th scope="col">Time</th><th scope="col" class="number">Since start</th><th scope="col">Details</th></tr></thead>
<tbody>${rows.map(
    (
      row,
    ) => html`<tr id="event-${row.id}" class="event${/(Failed|TimedOut|Aborted)$/.test(row.type) ? ' event-failed' : ''}">
<td class="number">${row.id}</td>
<td>${row.type}</td>
<td>${row.stateName === null ? '' : html`<a href="#${stateAnchor(row.stateName)}">${row.stateName}</a>`}</td>
<td>${timeOf(row.timestamp)}</td>
<td class="number">${durationOf(Date.parse(row.timestamp) - start)}</td>
<td>${eventDetails(row)}</td>
</tr>`,
  )}</tbody>
</table></div>`;
}

function eventDetails(row: HistoryRow): Markup | string {
  const entries = Object.entries(row.details).filter(([key]) => key !== 'name' && !key.endsWith('Details'));
  if (entries.length === 0) return '';
  const short = shortDetail(row.details);
  return html`<details data-event="${row.id}"><summary>${short}</summary><pre>${prettyDetails(row.details)}</pre></details>`;
}

/** What to see without opening an event: its error, or the resource it called. */
function shortDetail(details: Record<string, unknown>): string {
  if (typeof details.error === 'string') {
    const cause = typeof details.cause === 'string' ? `: ${details.cause}` : '';
    return `${details.error}${cause}`.slice(0, 120);
  }
  if (typeof details.resourceType === 'string')
    return `${details.resourceType}:${String(details.resource ?? '')}`;
  if (typeof details.output === 'string') return 'output';
  if (typeof details.input === 'string') return 'input';
  return 'details';
}

function prettyDetails(details: Record<string, unknown>): string {
  const expanded: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details)) {
    if (typeof value === 'string' && (key === 'input' || key === 'output' || key === 'parameters')) {
      try {
        expanded[key] = JSON.parse(value);
        continue;
      } catch {
        // keep the text
      }
    }
    expanded[key] = value;
  }
  return JSON.stringify(expanded, null, 2);
}

/**
 * The console's front page: the state machines, each with links to its executions by status, and the queues
 * follow-ups arrive on, with their depths. Either part may fail on its own (say, no permission for SQS).
 */
import type { StateMachineItem } from '../executions/executions-service.ts';
import type { QueueDepth } from '../queues/queues-service.ts';
import { executionsPath, timeOf } from './format.ts';
import { html, type Markup } from './html.ts';
import { type PageContext, page } from './layout.ts';

export type Loaded<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problem: string };

export function homePage(
  context: PageContext,
  {
    machines,
    queues,
  }: { machines: Loaded<readonly StateMachineItem[]>; queues: Loaded<readonly QueueDepth[]> },
): Markup {
  const body = html`<h1>State machines</h1>
${machines.ok ? machinesTable(machines.value) : html`<p class="problem" role="alert">${machines.problem}</p>`}
<h2>Queues</h2>
<p class="hint">Follow-ups wait on these; a message on a dead-letter queue (<code>-dlq</code>) is one that could not be handled.</p>
${queues.ok ? queuesTable(queues.value) : html`<p class="problem" role="alert">${queues.problem}</p>`}`;
  return page(context, { title: 'State machines', body });
}

function machinesTable(machines: readonly StateMachineItem[]): Markup {
  if (machines.length === 0) return html`<p>There are no state machines here.</p>`;
  return html`<div class="table-scroll"><table class="machines">
<caption class="visually-hidden">State machines</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Created (UTC)</th><th scope="col">Executions</th></tr></thead>
<tbody>${machines.map(
    (machine) => html`<tr>
<th scope="row"><a href="${executionsPath(machine.stateMachineArn)}">${machine.name}</a></th>
<td>${machine.type}</td>
<td>${timeOf(machine.creationDate)}</td>
<td>${
      machine.type === 'EXPRESS'
        ? html`<span class="hint">Express executions are not listed by Step Functions</span>`
        : html`<ul class="inline-links">
  <li><a href="${executionsPath(machine.stateMachineArn)}">All</a></li>
  <li><a href="${executionsPath(machine.stateMachineArn, { status: 'RUNNING' })}">Running</a></li>
  <li><a href="${executionsPath(machine.stateMachineArn, { status: 'FAILED' })}">Failed</a></li>
  <li><a href="${executionsPath(machine.stateMachineArn, { status: 'TIMED_OUT' })}">Timed out</a></li>
  <li><a href="${executionsPath(machine.stateMachineArn, { status: 'ABORTED' })}">Aborted</a></li>
</ul>`
    }</td>
</tr>`,
  )}</tbody>
</table></div>`;
}

function queuesTable(queues: readonly QueueDepth[]): Markup {
  if (queues.length === 0) return html`<p>There are no queues here.</p>`;
  return html`<div class="table-scroll"><table class="queues">
<caption class="visually-hidden">Queues and how many messages each holds</caption>
<thead><tr><th scope="col">Queue</th><th scope="col" class="number">Waiting</th><th scope="col" class="number">In flight</th><th scope="col" class="number">Delayed</th><th scope="col">Dead letters go to</th></tr></thead>
<tbody>${queues.map(
    (queue) => html`<tr${queue.name.endsWith('-dlq') && queue.visible > 0 ? html` class="attention"` : ''}>
<th scope="row">${queue.name}</th>
<td class="number">${queue.visible}</td>
<td class="number">${queue.inFlight}</td>
<td class="number">${queue.delayed}</td>
<td>${queue.deadLetterTarget ?? ''}</td>
</tr>`,
  )}</tbody>
</table></div>`;
}

/**
 * The state machine's graph as SVG, from the layout ELK made (executions/graph.ts) and what the execution
 * did: each state coloured by how it went (succeeded, retried with a count badge, caught, failed, running,
 * stopped, not reached), and the transitions taken drawn as the path. Every state is a link to its details,
 * so it can be reached and opened with the keyboard; the colours always come with words.
 */
import type { GraphEdge, GraphLayout, GraphNode } from '../executions/graph.ts';
import { GRAPH_METRICS, shorten } from '../executions/graph.ts';
import type { StateSummary, Transition } from '../executions/history.ts';
import { stateAnchor } from './format.ts';
import { html, type Markup } from './html.ts';

export type NodeDisplay =
  | 'succeeded'
  | 'retried'
  | 'caught'
  | 'failed'
  | 'running'
  | 'aborted'
  | 'not-reached';

export interface StateDisplay {
  readonly status: NodeDisplay;
  /** What the node says under its name: `↻ retried ×2`, `✗ failed: VendorUnavailable`. */
  readonly text: string;
  readonly retries: number;
}

/** How one state went, in words and as the class the colours hang on. */
export function displayOf(summary: StateSummary | undefined): StateDisplay {
  if (summary === undefined) return { status: 'not-reached', text: 'not reached', retries: 0 };
  const { retries, error } = summary;
  switch (summary.status) {
    case 'succeeded':
      return retries > 0
        ? { status: 'retried', text: `↻ retried ×${retries}`, retries }
        : { status: 'succeeded', text: '✓ succeeded', retries };
    case 'caught':
      return { status: 'caught', text: `↪ caught: ${error ?? 'error'}`, retries };
    case 'failed':
      return { status: 'failed', text: `✗ failed: ${error ?? 'error'}`, retries };
    case 'running':
      return { status: 'running', text: retries > 0 ? `● running, retry ${retries}` : '● running', retries };
    case 'aborted':
      return { status: 'aborted', text: '■ stopped here', retries };
  }
}

export const DISPLAY_LEGEND: readonly { readonly status: NodeDisplay; readonly label: string }[] = [
  { status: 'succeeded', label: 'Succeeded' },
  { status: 'retried', label: 'Succeeded after retries (×count)' },
  { status: 'caught', label: 'Failed, caught by a Catch' },
  { status: 'failed', label: 'Failed' },
  { status: 'running', label: 'Running' },
  { status: 'aborted', label: 'Stopped' },
  { status: 'not-reached', label: 'Not reached' },
];

export interface GraphDrawing {
  readonly layout: GraphLayout;
  readonly states: readonly StateSummary[];
  readonly transitions: readonly Transition[];
  readonly title: string;
}

export function graphSvg({ layout, states, transitions, title }: GraphDrawing): Markup {
  const byName = new Map(states.map((state) => [state.name, state]));
  // A state left through its Catch took the Catch edge, not its Next, even where both lead to the same state.
  const taken = new Set(
    transitions.map((transition) => `${transition.from}\u0000${transition.to}\u0000${transition.caught}`),
  );
  const isTaken = (edge: GraphEdge) =>
    taken.has(`${edge.fromState}\u0000${edge.toState}\u0000${edge.kind === 'catch'}`);
  const compounds = layout.nodes.filter((node) => node.compound);
  const leaves = layout.nodes.filter((node) => !node.compound);
  // The path is drawn last among the edges, over the others where they overlap.
  const edges = [...layout.edges].sort((a, b) => Number(isTaken(a)) - Number(isTaken(b)));

  return html`<svg xmlns="http://www.w3.org/2000/svg" class="graph" viewBox="0 0 ${layout.width} ${layout.height}" width="${layout.width}" height="${layout.height}" role="group" aria-label="${title}">
<defs>
  <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path class="arrow" d="M0,0 L10,5 L0,10 z"/></marker>
  <marker id="arrow-taken" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path class="arrow arrow-taken" d="M0,0 L10,5 L0,10 z"/></marker>
  <marker id="arrow-caught" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path class="arrow arrow-caught" d="M0,0 L10,5 L0,10 z"/></marker>
</defs>
${compounds.map((node) => compoundNode(node, byName.get(node.stateName ?? '')))}
${edges.map((edge) => edgePath(edge, isTaken(edge)))}
${leaves.map((node) => leafNode(node, byName.get(node.stateName ?? '')))}
${edges.filter((edge) => edge.label !== null && edge.labelBox !== null).map((edge) => edgeLabel(edge, isTaken(edge)))}
</svg>`;
}

function edgePath(edge: GraphEdge, taken: boolean): Markup {
  const [first, ...rest] = edge.points;
  if (first === undefined) return html``;
  const d = `M${first.x},${first.y}${rest.map((point) => ` L${point.x},${point.y}`).join('')}`;
  const marker = taken ? (edge.kind === 'catch' ? 'arrow-caught' : 'arrow-taken') : 'arrow';
  const describe = `${edge.fromState} to ${edge.toState}${edge.label === null ? '' : ` (${edge.title ?? edge.label})`}${taken ? ', taken' : ''}`;
  return html`<g class="edge edge-${edge.kind}${taken ? ' taken' : ''}" data-from="${edge.fromState}" data-to="${edge.toState}"><title>${describe}</title><path d="${d}" marker-end="url(#${marker})"/></g>
`;
}

function edgeLabel(edge: GraphEdge, taken: boolean): Markup {
  const box = edge.labelBox!;
  return html`<g class="edge-label edge-label-${edge.kind}${taken ? ' taken' : ''}" aria-hidden="true">${edge.title === null ? '' : html`<title>${edge.title}</title>`}<rect x="${box.x - 2}" y="${box.y - 1}" width="${box.width + 4}" height="${box.height + 2}" rx="3"/><text x="${box.x + box.width / 2}" y="${box.y + box.height - 4}" text-anchor="middle">${edge.label}</text></g>
`;
}

function leafNode(node: GraphNode, summary: StateSummary | undefined): Markup {
  if (node.kind === 'start' || node.kind === 'end') {
    return html`<g class="terminal terminal-${node.kind}"><rect x="${node.x}" y="${node.y}" width="${node.width}" height="${node.height}" rx="${node.height / 2}"/><text x="${node.x + node.width / 2}" y="${node.y + node.height / 2 + 4}" text-anchor="middle">${node.label}</text></g>
`;
  }
  const display = displayOf(summary);
  const { x, y, width, height } = node;
  const maxChars = Math.floor((width - 24) / 6.4);
  const detail = [node.stateType, node.detail].filter(Boolean).join(' · ');
  return html`<a class="node" href="#${stateAnchor(node.label)}" data-state="${node.stateName}" data-status="${display.status}" aria-label="${node.label}, ${node.stateType ?? 'state'}: ${display.text}">
<title>${node.label} (${detail}): ${display.text}</title>
<rect class="node-box" x="${x}" y="${y}" width="${width}" height="${height}" rx="6"/>
<text class="node-name" x="${x + 12}" y="${y + 20}">${shorten(node.label, Math.floor((width - 24) / GRAPH_METRICS.nameCharWidth))}</text>
<text class="node-detail" x="${x + 12}" y="${y + 36}">${shorten(detail, maxChars)}</text>
<text class="node-status" x="${x + 12}" y="${y + 53}">${shorten(display.text, maxChars)}</text>
${display.retries > 0 ? badge(x + width, y, display.retries) : ''}
</a>
`;
}

function compoundNode(node: GraphNode, summary: StateSummary | undefined): Markup {
  if (node.kind === 'branch') {
    return html`<g class="branch"><rect x="${node.x}" y="${node.y}" width="${node.width}" height="${node.height}" rx="6"/><text x="${node.x + 10}" y="${node.y + 18}">${node.label}</text></g>
`;
  }
  const display = displayOf(summary);
  return html`<a class="node compound" href="#${stateAnchor(node.label)}" data-state="${node.stateName}" data-status="${display.status}" aria-label="${node.label}, ${node.stateType ?? 'state'}: ${display.text}">
<title>${node.label} (${node.stateType}): ${display.text}</title>
<rect class="node-box" x="${node.x}" y="${node.y}" width="${node.width}" height="${node.height}" rx="8"/>
<text class="node-name" x="${node.x + 12}" y="${node.y + 20}">${node.label}</text>
<text class="node-status" x="${node.x + node.width - 12}" y="${node.y + 20}" text-anchor="end">${node.stateType} · ${display.text}</text>
${display.retries > 0 ? badge(node.x + node.width, node.y, display.retries) : ''}
</a>
`;
}

/** A pill on the node's top right corner: how many times it was retried. */
function badge(right: number, top: number, retries: number): Markup {
  const text = `×${retries}`;
  const width = 14 + text.length * 7;
  return html`<g class="badge" aria-hidden="true"><rect x="${right - width + 6}" y="${top - 9}" width="${width}" height="18" rx="9"/><text x="${right - width / 2 + 6}" y="${top + 4}" text-anchor="middle">${text}</text></g>`;
}

/** How the pages write times, durations, JSON and anchors. Times are UTC, and say so. */
import { html, type Markup } from './html.ts';

/** `2026-12-02 10:15:39.397` in a `<time>`, with the full ISO time as its tooltip. */
export function timeOf(iso: string | null): Markup | string {
  if (iso === null) return '–';
  return html`<time datetime="${iso}" title="${iso}">${iso.replace('T', ' ').replace(/Z$/, '')}</time>`;
}

/** `850 ms`, `4.2 s`, `3 min 12 s`, `2 h 5 min`. */
export function durationOf(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

/** JSON text indented for reading; text that is not JSON as it is. */
export function prettyJson(text: string | null): string {
  if (text === null) return '';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/**
 * An element id for a state's details: readable for ordinary names (`state-Vend`), and distinct for any two
 * names (state names may hold spaces and any Unicode).
 */
export function stateAnchor(name: string): string {
  return `state-${encodeURIComponent(name.replaceAll('_', '__')).replaceAll('%', '_')}`;
}

export function executionPath(executionArn: string): string {
  return `/executions/${encodeURIComponent(executionArn)}`;
}

export function executionsPath(
  stateMachineArn: string,
  query: Record<string, string | undefined> = {},
): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query))
    if (value !== undefined && value !== '') search.set(key, value);
  const text = search.toString();
  return `/state-machines/${encodeURIComponent(stateMachineArn)}/executions${text === '' ? '' : `?${text}`}`;
}

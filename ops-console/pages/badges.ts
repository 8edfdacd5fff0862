/** An execution's status and outcome as small labelled badges; the words carry the meaning, colour helps. */
import {
  type EXECUTION_STATUSES,
  type ExecutionOutcome,
  OUTCOME_DESCRIPTIONS,
} from '../executions/outcomes.ts';
import { html, type Markup } from './html.ts';

const STATUS_WORDS: Record<(typeof EXECUTION_STATUSES)[number], string> = {
  RUNNING: 'Running',
  SUCCEEDED: 'Succeeded',
  FAILED: 'Failed',
  TIMED_OUT: 'Timed out',
  ABORTED: 'Aborted',
  PENDING_REDRIVE: 'Pending redrive',
};

export function statusWord(status: string): string {
  return STATUS_WORDS[status as keyof typeof STATUS_WORDS] ?? status;
}

export function statusBadge(status: string): Markup {
  return html`<span class="badge-status" data-status="${status}">${statusWord(status)}</span>`;
}

export function outcomeBadge(outcome: ExecutionOutcome): Markup {
  return html`<span class="badge-outcome" data-outcome="${outcome}">${OUTCOME_DESCRIPTIONS[outcome].label}</span>`;
}

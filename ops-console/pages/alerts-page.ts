/**
 * The on-call alerts as they arrive (the console's own subscription to the on-call topic), newest first, each
 * linked to the payment it is about; or why there are none (no topic, no permission to subscribe).
 */
import type { Alert, AlertsStatus } from '../alerts/alerts-feed.ts';
import { html, type Markup } from './html.ts';
import { type PageContext, page } from './layout.ts';
import { alertsList } from './payment-page.ts';

const STATE_WORDS: Record<AlertsStatus['state'], string> = {
  starting: 'Subscribing to the on-call topic…',
  listening: 'Following the on-call topic',
  no_topic: 'No on-call topic found',
  not_permitted: 'Not permitted to follow the on-call topic',
  failed: 'Could not follow the on-call topic',
  stopped: 'Stopped',
};

export function alertsPage(
  context: PageContext,
  { status, alerts }: { status: AlertsStatus; alerts: readonly Alert[] },
): Markup {
  const body = html`<h1>Alerts</h1>
<p class="alerts-status" data-state="${status.state}">${STATE_WORDS[status.state]}${
    status.topicArn === null ? '' : html` <code>${status.topicArn}</code>`
  } through the console’s own queue <code>${status.queueName}</code>. <a href="/alerts">Refresh</a></p>
${status.note === null ? '' : html`<p class="${status.state === 'listening' ? 'hint' : 'problem'}" role="status">${status.note}</p>`}
<p class="hint">Newest first; the most recent 200 since the console started (and any its queue held from before).</p>
${alertsList(alerts)}`;
  return page(context, { title: 'Alerts', body, current: '/alerts' });
}

/**
 * The page shell every console page shares: the header saying which AWS the console reads and whether it may
 * act, the sections' navigation, and the console's stylesheet and script.
 */
import { html, type Interpolation, type Markup } from './html.ts';

export interface PageContext {
  /** Where the console reads: an endpoint, or `AWS eu-west-2 (profile ops)`. */
  readonly target: string;
  readonly actionsEnabled: boolean;
}

/** The console's sections. */
const SECTIONS: readonly { readonly href: string; readonly label: string }[] = [
  { href: '/', label: 'State machines' },
  { href: '/payments', label: 'Payments' },
  { href: '/follow-up', label: 'Follow-up' },
  { href: '/alerts', label: 'Alerts' },
  { href: '/docs', label: 'API' },
];

export function page(
  context: PageContext,
  { title, body, current = '/' }: { title: string; body: Interpolation; current?: string },
): Markup {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Operator console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/console.css">
<script src="/assets/console.js" defer></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/">Payment-to-vend · operator console</a>
  <nav aria-label="Sections">
    <ul>${SECTIONS.map(
      (section) =>
        html`<li><a href="${section.href}"${section.href === current ? html` aria-current="page"` : ''}>${section.label}</a></li>`,
    )}</ul>
  </nav>
  <p class="target">Reading <code>${context.target}</code>
    ${
      context.actionsEnabled
        ? html`<span class="mode mode-actions">Actions enabled</span>`
        : html`<span class="mode mode-read-only" title="Start the console with --enable-actions to stop or redrive executions, or decide on payments">Read-only</span>`
    }</p>
</header>
<main id="main">
${body}
</main>
</body>
</html>
`;
}

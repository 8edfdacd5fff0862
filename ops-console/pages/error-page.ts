/** What a page shows when it cannot show what was asked for. */
import { html, type Markup } from './html.ts';
import { type PageContext, page } from './layout.ts';

export function errorPage(
  context: PageContext,
  { statusCode, message }: { statusCode: number; message: string },
): Markup {
  const title =
    statusCode === 404 ? 'Not found' : statusCode < 500 ? 'Cannot do that' : 'Something went wrong';
  return page(context, {
    title,
    body: html`<h1>${title}</h1><p class="problem" role="alert">${message}</p><p><a href="/">Back to the state machines</a></p>`,
  });
}

/** What an execution holds (names, inputs, errors) is text on a page, never markup. */
import { describe, expect, it } from 'vitest';
import { html, raw } from './html.ts';

describe('html', () => {
  it('escapes what it interpolates', () => {
    const name = '<script>alert("x")</script>&\'';
    expect(String(html`<td title="${name}">${name}</td>`)).toBe(
      '<td title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</td>',
    );
  });

  it('keeps markup it made, joins lists and leaves out nothing-values', () => {
    const cells = ['a', 'b<'].map((text) => html`<td>${text}</td>`);
    expect(String(html`<tr>${cells}${null}${undefined}${false}${raw('<td></td>')}${0}</tr>`)).toBe(
      '<tr><td>a</td><td>b&lt;</td><td></td>0</tr>',
    );
  });
});

/**
 * HTML from template literals, escaped by default: every interpolated value is text unless it is already
 * markup made here (`html`…`` or `raw()`), so nothing an execution holds (names, inputs, errors) can become markup.
 *
 * @example
 * const row = html`<td>${execution.name}</td>`;
 * const page = html`<table>${rows}</table>`; // arrays are joined
 * String(page);
 */

export class Markup {
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  toString(): string {
    return this.#text;
  }
}

/** A value interpolated into `html`: text, a number, markup, nothing, or a list of these. */
export type Interpolation = Markup | string | number | boolean | null | undefined | readonly Interpolation[];

export function html(strings: TemplateStringsArray, ...values: readonly Interpolation[]): Markup {
  let text = strings[0] ?? '';
  values.forEach((value, index) => {
    text += render(value) + (strings[index + 1] ?? '');
  });
  return new Markup(text);
}

/** Markup trusted as is: only for text this code wrote itself. */
export function raw(text: string): Markup {
  return new Markup(text);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character] ?? character);
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Markup) return value.toString();
  if (Array.isArray(value)) return value.map((each) => render(each)).join('');
  return escapeHtml(String(value));
}

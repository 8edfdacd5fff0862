/**
 * What must never come back in an answer or reach a log line: every card number the fuzzer sent, every status
 * token it was given or forged, and which payment each token and id belongs to. Looked for in any disguise the
 * server might give them: percent-encoded, JSON-escaped, in other scripts' digits, split by separators, or cut
 * short (a piece of a token as long as {@link TOKEN_PIECE} is a token).
 *
 * @example
 * const secrets = new SecretIndex();
 * secrets.addCard('4000056655665556');
 * secrets.cardsIn('{"message":"4000 0566 5566 5556"}'); // ['4000056655665556']
 */
import { asciiDigitsOf } from './card-numbers.ts';

/** Characters of a status token (base64url) a text must hold in a row to be holding a token. */
export const TOKEN_PIECE = 20;
const MIN_CARD_DIGITS = 13;
const MAX_CARD_DIGITS = 19;

const TOKEN_RUN = /[A-Za-z0-9_-]{20,}/g;
const PAYMENT_ID = /pay_[0-9a-f]{32}/g;
const METER_ID = /(?<![0-9])[0-9]{13}(?![0-9])/g;
const PERCENT_ENCODED = /(?:%[0-9A-Fa-f]{2})+/g;
const JSON_UNICODE_ESCAPE = /\\u([0-9A-Fa-f]{4})/g;
const LATIN1_ABOVE_ASCII = /[\u0080-\u00ff]/;
const BEYOND_LATIN1 = /[\u0100-\u{10ffff}]/u;

/** Whose a token or an id is: a real payment's (`payment A`), or a forged one's. */
export type Owner = string;

export class SecretIndex {
  readonly #cards = new Set<string>();
  readonly #tokenPieces = new Map<string, Owner>();
  readonly #paymentIds = new Map<string, Owner>();
  readonly #meterIds = new Map<string, Owner>();

  /** A card number sent, as ASCII digits. */
  addCard(digits: string): void {
    this.#cards.add(digits);
  }

  /** A status token, real or forged, and whose it is. */
  addToken(token: string, owner: Owner): void {
    for (let at = 0; at + TOKEN_PIECE <= token.length; at += 1) {
      const piece = token.slice(at, at + TOKEN_PIECE);
      if (!this.#tokenPieces.has(piece)) this.#tokenPieces.set(piece, owner);
    }
  }

  addPayment(paymentId: string, owner: Owner, meterId?: string): void {
    this.#paymentIds.set(paymentId, owner);
    if (meterId !== undefined) this.#meterIds.set(meterId, owner);
  }

  get cardCount(): number {
    return this.#cards.size;
  }

  /** The card numbers sent that `text` holds, in any formatting. */
  cardsIn(text: string): string[] {
    const found = new Set<string>();
    for (const view of readings(text)) {
      // Separators and scripts aside, a card is its digits in a row: look at the digits alone.
      const digits = asciiDigitsOf(view).replace(/[^0-9]/g, '');
      for (let at = 0; at + MIN_CARD_DIGITS <= digits.length; at += 1) {
        for (
          let length = MIN_CARD_DIGITS;
          length <= MAX_CARD_DIGITS && at + length <= digits.length;
          length += 1
        ) {
          const candidate = digits.slice(at, at + length);
          if (this.#cards.has(candidate)) found.add(candidate);
        }
      }
    }
    return [...found];
  }

  /** Whose status tokens (or pieces of them) `text` holds. */
  tokenOwnersIn(text: string): Owner[] {
    const owners = new Set<Owner>();
    for (const view of readings(text)) {
      for (const [run] of view.matchAll(TOKEN_RUN)) {
        for (let at = 0; at + TOKEN_PIECE <= run.length; at += 1) {
          const owner = this.#tokenPieces.get(run.slice(at, at + TOKEN_PIECE));
          if (owner !== undefined) owners.add(owner);
        }
      }
    }
    return [...owners];
  }

  /** The known payments whose id or meter `text` names, by owner. */
  paymentsNamedIn(text: string): Array<{ owner: Owner; value: string }> {
    const named: Array<{ owner: Owner; value: string }> = [];
    for (const [id] of text.matchAll(PAYMENT_ID)) {
      const owner = this.#paymentIds.get(id);
      if (owner !== undefined) named.push({ owner, value: id });
    }
    for (const [meterId] of text.matchAll(METER_ID)) {
      const owner = this.#meterIds.get(meterId);
      if (owner !== undefined) named.push({ owner, value: meterId });
    }
    return named;
  }
}

/**
 * `text` as it is, and as a reader would decode it: percent-decoded, JSON escapes undone, and UTF-8 that was
 * read as latin1 (as Node reads header bytes) read again as UTF-8.
 */
function readings(text: string): string[] {
  const views = [text];
  if (LATIN1_ABOVE_ASCII.test(text) && !BEYOND_LATIN1.test(text)) {
    const reread = Buffer.from(text, 'latin1').toString('utf8');
    if (reread !== text) views.push(reread);
  }
  const percentDecoded = text.replace(PERCENT_ENCODED, (encoded) => {
    try {
      return decodeURIComponent(encoded);
    } catch {
      return encoded;
    }
  });
  if (percentDecoded !== text) views.push(percentDecoded);
  const unescaped = text.replace(JSON_UNICODE_ESCAPE, (_, hex: string) =>
    String.fromCharCode(parseInt(hex, 16)),
  );
  if (unescaped !== text) views.push(unescaped);
  return views;
}

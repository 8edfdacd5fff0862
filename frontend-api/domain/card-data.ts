/**
 * Card data must never reach this server: the page sends gateway tokens only. A request that carries a
 * card number (13–19 digits, spaces or dashes allowed, passing the Luhn check) or a field named like a card
 * number or security code is refused, and the offending value is never echoed, logged or stored.
 */

const CARD_FIELD_NAME =
  /^(cvv2?|cvc2?|cv2|csc|cid|securitycode|cardsecuritycode|cardnumber|cardno|pan|primaryaccountnumber|cardverificationvalue)$/;
const DIGIT_RUN = /\d(?:[ -]?\d){12,18}/g;

/** Whether `digits` (digits only) passes the Luhn check. */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** Whether a string holds something shaped like a card number. */
export function containsCardNumber(text: string): boolean {
  for (const match of text.matchAll(DIGIT_RUN)) {
    const digits = match[0].replace(/[ -]/g, '');
    if (digits.length >= 13 && digits.length <= 19 && passesLuhn(digits)) return true;
  }
  return false;
}

/**
 * The path of the first field in `value` that carries card data, or undefined. `meterId` is exempt from the
 * 13-digit case only: an MPAN core is 13 digits and passes Luhn one time in ten.
 *
 * @example
 * findCardData({ meterId: '1600123456785', paymentToken: '4242 4242 4242 4242' }); // 'paymentToken'
 * findCardData({ card: { cvv: '123' } }); // 'card.cvv'
 */
export function findCardData(value: unknown, path: readonly string[] = []): string | undefined {
  if (typeof value === 'string') {
    const field = path.at(-1);
    const candidate = field === 'meterId' && /^\d{13}$/.test(value) ? '' : value;
    return containsCardNumber(candidate) ? path.join('.') || '(body)' : undefined;
  }
  if (typeof value === 'number') return findCardData(String(value), path);
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findCardData(item, [...path, String(index)]);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const normalised = key.toLowerCase().replace(/[^a-z0-9]/g, '');
      if (CARD_FIELD_NAME.test(normalised)) return [...path, key].join('.');
      const found = findCardData(item, [...path, key]);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

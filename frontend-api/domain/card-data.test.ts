import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { containsCardNumber, findCardData, withoutCardNumbers } from './card-data.ts';
import { newPaymentId } from './payment-id.ts';
import { newStatusToken } from './status-token.ts';

describe('card numbers', () => {
  it.each([
    ['plain', '4000056655665556'],
    ['spaced', '4000 0566 5566 5556'],
    ['dashed', '4000-0566-5566-5556'],
    ['dotted', '4000.0566.5566.5556'],
    ['slashed', '4000/0566/5566/5556'],
    ['underscored', '4000_0566_5566_5556'],
    ['double-spaced', '4000  0566 5566 5556'],
    ['no-break-spaced', '4000\u00a00566\u00a05566\u00a05556'],
    ['em- and ideographic-spaced', '4000\u20030566\u30005566\u202f5556'],
    ['zero-width-spaced', '4000\u200b0566\u200b5566\u200b5556'],
    ['en-dashed', '4000\u20130566\u20135566\u20135556'],
    ['full-width', '４０００ ０５６６ ５５６６ ５５５６'],
    ['Arabic-Indic', '٤٠٠٠٠٥٦٦٥٥٦٦٥٥٥٦'],
    ['Devanagari', '४००००५६६५५६६५५५६'],
    ['mathematical bold', '𝟒𝟎𝟎𝟎𝟎𝟓𝟔𝟔𝟓𝟓𝟔𝟔𝟓𝟓𝟓𝟔'],
    ['in words', 'my card is 4000 0566 5566 5556, thanks'],
    ['after a prefix', 'tok_4000056655665556'],
    ['glued to letters', 'card4000056655665556'],
    ['followed by expiry and security code', '4000 0566 5566 5556 12/27 123'],
    ['followed by a security code', '4000056655665556 123'],
    ['American Express, 15 digits', '3782 822463 10005'],
    ['19 digits', '6011 0009 9013 9424 009'],
  ])('finds a card number written %s', (_case, text) => {
    // Act
    const found = containsCardNumber(text);

    // Assess
    expect(found).toBe(true);
  });

  it.each([
    ['a gateway token', 'tok_visa'],
    ['an MPAN core that fails Luhn', '1600123456785'],
    ['an ISO timestamp', '2026-11-24T10:15:30.123Z'],
    ['a seq', '12'],
    ['a UTRN, 20 digits', '12345678901234567890'],
    ['a card number with a wrong check digit', '4000 0566 5566 5557'],
    ['12 digits', '4000 0566 5566'],
    ['an IPv4 address', '203.0.113.195'],
    [
      'a user agent',
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0.6099.109 Safari/537.36',
    ],
  ])('does not take %s for a card number', (_case, text) => {
    // Act
    const found = containsCardNumber(text);

    // Assess
    expect(found).toBe(false);
  });

  it('never takes a generated payment id, status token, UUID or trace id for a card number', () => {
    // Prepare: hexadecimal ids hold a Luhn-passing run of 13+ digits about one time in 500
    const identifiers = Array.from({ length: 5_000 }, () => [
      newPaymentId(),
      newStatusToken(),
      randomUUID(),
      `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
      `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`,
    ]).flat();

    // Act
    const taken = identifiers.filter(containsCardNumber);

    // Assess
    expect(taken).toEqual([]);
  });

  it('replaces card numbers, and only them, for a log line', () => {
    // Act
    const logged = withoutCardNumbers('/api/payments/4000056655665556/x/4000.0566.5566.5556/pay_1234');

    // Assess
    expect(logged).toBe('/api/payments/[card number]/x/[card number]/pay_1234');
  });
});

describe('card data in a request body', () => {
  it.each([
    [{ paymentToken: 'tok_visa', meterId: '1600123456785', amountPence: 2000 }, undefined],
    [{ meterId: '4000056655665' }, undefined],
    [{ meterId: '4000 0566 5566 5556' }, 'meterId'],
    [{ paymentToken: '4000_0566_5566_5556' }, 'paymentToken'],
    [{ paymentToken: 4000056655665556 }, 'paymentToken'],
    [{ extra: [{ note: 'card 378282246310005' }] }, 'extra.0.note'],
    [{ 'security-code': '999' }, 'security-code'],
    [{ CVC: '123' }, 'CVC'],
    [{ card: { '4000056655665556': 'x' } }, 'card'],
    [{ '4000056655665556': 'x' }, 'body'],
    ['4000056655665556', 'body'],
  ])('finds card data in %j at %s', (body, field) => {
    expect(findCardData(body)).toBe(field);
  });

  it('walks a body nested 50,000 deep without overflowing the stack', () => {
    // Prepare
    let body: unknown = { paymentToken: '4000056655665556' };
    for (let depth = 0; depth < 50_000; depth += 1) body = [body];

    // Act
    const field = findCardData(body);

    // Assess
    expect(field).toBe(`${'0.'.repeat(50_000)}paymentToken`);
  });
});

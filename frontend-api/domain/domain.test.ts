import { describe, expect, it } from 'vitest';
import { findCardData, passesLuhn } from './card-data.ts';
import { isValidMpanCore } from './mpan.ts';
import { hashStatusToken, newStatusToken, statusTokenMatches } from './status-token.ts';

describe('domain rules', () => {
  it.each([
    ['1600123456785', true],
    ['9901000000017', true],
    ['1600123456786', false],
    ['160012345678', false],
  ])('MPAN core %s valid: %s', (core, valid) => {
    expect(isValidMpanCore(core)).toBe(valid);
  });

  it.each([
    [{ paymentToken: 'tok_visa', meterId: '1600123456785', amountPence: 2000 }, undefined],
    [{ paymentToken: '4242-4242-4242-4242' }, 'paymentToken'],
    [{ extra: [{ note: 'card 378282246310005' }] }, 'extra.0.note'],
    [{ 'security-code': '999' }, 'security-code'],
    [{ CVC: '123' }, 'CVC'],
  ])('finds card data in %j at %s', (body, field) => {
    expect(findCardData(body)).toBe(field);
  });

  it('checks Luhn and status tokens', () => {
    const token = newStatusToken();
    expect(passesLuhn('4242424242424242')).toBe(true);
    expect(passesLuhn('4242424242424241')).toBe(false);
    expect(statusTokenMatches(token, hashStatusToken(token))).toBe(true);
    expect(statusTokenMatches(`${token}x`, hashStatusToken(token))).toBe(false);
  });
});

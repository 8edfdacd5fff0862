import { describe, expect, it } from 'vitest';
import { TEST_CARD_DIGITS } from './test-card.ts';

describe('TEST_CARD_DIGITS', () => {
  it.each([
    '4000056655665556',
    '/api/payments/4000056655665556%ZZ',
    '4000 0566 5566 5556',
    '4000  0566',
    '4000.0566.5566.5556',
    '4000/0566/5566/5556',
    '4000%200566%205566%205556',
    '4000\u00a00566',
    '4000\u00e2\u0080\u00930566', // an en dash's UTF-8 bytes read as Latin-1
    '４０００',
    '%34%30%30%30%30%35%36%36',
  ])('finds the test card in %j', (text) => {
    expect(text).toMatch(TEST_CARD_DIGITS);
  });

  it.each(['"responseTime":25.166884000005666', '"responseTime":0.84000056655665556123', 'pay_24000a0566b'])(
    'does not take %j for the card',
    (text) => {
      expect(text).not.toMatch(TEST_CARD_DIGITS);
    },
  );
});

import { describe, expect, it } from 'vitest';
import { isValidMpanCore, mpanCheckDigit, testMpan, withCheckDigit } from './mpan.ts';
import { isUtrn, utrnFor } from './utrn.ts';

describe('MPAN core check digit', () => {
  it('weights the twelve digits by the primes 3…43 (skipping 11), then takes mod 11 mod 10', () => {
    // Prepare: 9·3 + 9·5 + 0·7 + 1·13 + 1·43 = 128; 128 mod 11 = 7
    const firstTwelve = '990100000001';

    // Act
    const digit = mpanCheckDigit(firstTwelve);

    // Assess
    expect(digit).toBe(7);
  });

  it('gives 0 when the sum leaves remainder 10 (mod 11 then mod 10)', () => {
    // Prepare: 1·3 + 1·7 = 10; 10 mod 11 = 10; 10 mod 10 = 0
    const firstTwelve = '101000000000';

    // Act
    const digit = mpanCheckDigit(firstTwelve);

    // Assess
    expect(digit).toBe(0);
  });

  it.each([
    ['1200000000011', true],
    ['1600123456785', true],
    ['9901000000017', true],
    ['9901000000018', false],
    ['990100000001', false],
    ['99010000000170', false],
    ['990100000001x', false],
    ['', false],
  ])('isValidMpanCore(%j) is %s', (core, valid) => {
    expect(isValidMpanCore(core)).toBe(valid);
  });

  it('builds valid test MPANs whose digits after 99 name the scenario', () => {
    // Act
    const cores = ['01', '02', '03', '09'].map((scenario) => testMpan(scenario));

    // Assess
    expect(cores).toEqual(['9901000000017', '9902000000019', '9903000000010', '9909000000011']);
    expect(cores.every(isValidMpanCore)).toBe(true);
  });

  it('gives different meters for one scenario by serial', () => {
    // Act
    const first = testMpan('03', 1);
    const second = testMpan('03', 42);

    // Assess
    expect(second).not.toBe(first);
    expect(second.startsWith('9903')).toBe(true);
    expect(isValidMpanCore(second)).toBe(true);
  });

  it.each([['1'], ['123'], ['ab']])('refuses scenario %j', (scenario) => {
    expect(() => testMpan(scenario)).toThrow(RangeError);
  });

  it('appends the check digit to any twelve digits', () => {
    expect(isValidMpanCore(withCheckDigit('230000000001'))).toBe(true);
    expect(() => withCheckDigit('23000000000')).toThrow(RangeError);
  });
});

describe('UTRNs', () => {
  it('are 20 digits, stable for a transaction, different across transactions', () => {
    // Act
    const first = utrnFor('pay_1', '1200000000011');
    const again = utrnFor('pay_1', '1200000000011');
    const other = utrnFor('pay_2', '1200000000011');

    // Assess
    expect(isUtrn(first)).toBe(true);
    expect(again).toBe(first);
    expect(other).not.toBe(first);
  });

  it('recognises only exactly 20 digits', () => {
    expect(isUtrn('12345678901234567890')).toBe(true);
    expect(isUtrn('1234567890123456789')).toBe(false);
    expect(isUtrn('1234 5678 9012 3456 7890')).toBe(false);
  });
});

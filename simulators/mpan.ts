/**
 * MPAN cores: the 13-digit identifier of a UK electricity meter point (the bottom line of the full MPAN).
 * The last digit checks the first twelve: multiply each by the primes 3, 5, 7, 13, 17, 19, 23, 29, 31, 37,
 * 41, 43 in turn (11 is skipped), add the products, and take the sum modulo 11, then modulo 10.
 *
 * Test meters: no distributor uses cores starting `99`, so the vending vendor simulator reads the next two
 * digits of such a core as a scenario (see `vending-vendor.ts`). `testMpan('01')` builds one.
 */

const WEIGHTS = [3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43] as const;

/**
 * The check digit for the first twelve digits of an MPAN core.
 *
 * @example
 * mpanCheckDigit('990100000001'); // 7, so '9901000000017' is a valid core
 */
export function mpanCheckDigit(firstTwelve: string): number {
  if (!/^\d{12}$/.test(firstTwelve)) throw new RangeError('an MPAN core check digit needs exactly 12 digits');
  let sum = 0;
  for (let i = 0; i < WEIGHTS.length; i += 1) sum += Number(firstTwelve.charCodeAt(i) - 48) * WEIGHTS[i]!;
  return (sum % 11) % 10;
}

/**
 * Whether `value` is a 13-digit MPAN core whose check digit is right.
 *
 * @example
 * isValidMpanCore('9901000000017'); // true
 * isValidMpanCore('9901000000018'); // false: wrong check digit
 */
export function isValidMpanCore(value: string): boolean {
  return /^\d{13}$/.test(value) && mpanCheckDigit(value.slice(0, 12)) === Number(value[12]);
}

/**
 * Appends the check digit to twelve digits, giving a valid MPAN core.
 *
 * @example
 * withCheckDigit('160012345678'); // '1600123456785'
 */
export function withCheckDigit(firstTwelve: string): string {
  return `${firstTwelve}${mpanCheckDigit(firstTwelve)}`;
}

/**
 * A valid test MPAN core for a vendor scenario: `99`, the two scenario digits, an 8-digit serial (so tests
 * can have several meters with one behaviour), and the check digit.
 *
 * @example
 * testMpan('01');      // '9901000000017': fails transiently twice, then vends
 * testMpan('03', 42);  // '9903000000429': another "not for this device" meter
 */
export function testMpan(scenario: string, serial = 1): string {
  if (!/^\d{2}$/.test(scenario)) throw new RangeError('a test MPAN scenario is two digits, such as "01"');
  if (!Number.isInteger(serial) || serial < 0 || serial > 99_999_999)
    throw new RangeError('a test MPAN serial is an integer from 0 to 99999999');
  return withCheckDigit(`99${scenario}${String(serial).padStart(8, '0')}`);
}

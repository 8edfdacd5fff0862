/**
 * MPAN cores: the 13-digit identifier of a UK electricity meter point. The last digit checks the first
 * twelve: each is multiplied by the primes 3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43 (11 is skipped), the
 * products are added, and the sum is taken modulo 11, then modulo 10. The front-end's own copy of the rule:
 * `local/` (where the simulators keep theirs) is not shipped.
 */
const WEIGHTS = [3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43] as const;

/**
 * Whether `value` is a 13-digit MPAN core with the right check digit.
 *
 * @example
 * isValidMpanCore('1600123456785'); // true
 * isValidMpanCore('1600123456786'); // false: wrong check digit
 */
export function isValidMpanCore(value: string): boolean {
  if (!/^\d{13}$/.test(value)) return false;
  let sum = 0;
  for (let i = 0; i < WEIGHTS.length; i += 1) sum += (value.charCodeAt(i) - 48) * WEIGHTS[i]!;
  return (sum % 11) % 10 === value.charCodeAt(12) - 48;
}

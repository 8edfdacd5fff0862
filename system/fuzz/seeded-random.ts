/**
 * The fuzzer's only source of chance: the same seed gives the same requests, so any failure can be replayed
 * from the seed it prints.
 *
 * A Weyl sequence (a counter stepped by an odd constant) scrambled by MurmurHash3's 32-bit finaliser: every
 * state is visited once per 2^32 draws and neighbouring seeds give unrelated streams.
 *
 * @example
 * const random = seededRandom(42);
 * random.int(1, 6); // the same on every run with seed 42
 */
export interface SeededRandom {
  /** In [0, 1). */
  next(): number;
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number;
  chance(probability: number): boolean;
  pick<T>(choices: readonly T[]): T;
  /** `length` lowercase ASCII letters. */
  letters(length: number): string;
  bytes(length: number): Buffer;
}

const GOLDEN_GAMMA = 0x9e3779b9;

export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const next = () => {
    state = (state + GOLDEN_GAMMA) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 16), 0x85ebca6b);
    mixed = Math.imul(mixed ^ (mixed >>> 13), 0xc2b2ae35);
    mixed ^= mixed >>> 16;
    return (mixed >>> 0) / 2 ** 32;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    chance: (probability) => next() < probability,
    pick: (choices) => {
      if (choices.length === 0) throw new Error('pick from an empty list');
      return choices[int(0, choices.length - 1)]!;
    },
    letters: (length) => String.fromCharCode(...Array.from({ length }, () => int(97, 122))),
    bytes: (length) => Buffer.from(Array.from({ length }, () => int(0, 255))),
  };
}

/**
 * The run's requests, from its seed: each is a kind drawn by weight, then a variant of that kind. Drawing
 * never depends on the server's answers, so case N of a seed is the same request on every run (with the ids
 * and tokens of that run's real payments in it), and `--only N` can send it alone.
 *
 * @example
 * const cases = createCaseGenerator(42, targets);
 * const first = cases.next(0);
 */

import { deepJson, encodings, malformedJson, oversizedBodies, wrongTypes } from './body-cases.ts';
import {
  type CaseDraft,
  FUZZ_KINDS,
  type FuzzCase,
  type FuzzKind,
  type ProbeTargets,
  RequestKit,
} from './fuzz-case.ts';
import { duplicateHeaders, oversizedHeaders, wrongMethods } from './header-cases.ts';
import { crossPaymentProbes, validControls } from './payment-cases.ts';
import { seededRandom } from './seeded-random.ts';
import { socketHandshakes, socketMessages, socketOrigins } from './socket-cases.ts';
import { cardNumbers, injections, prototypeKeys } from './value-cases.ts';

/** Each kind's share of the requests, in percent. Card numbers get most: they may be anywhere. */
export const KIND_WEIGHTS: Readonly<Record<FuzzKind, number>> = {
  'malformed-json': 7,
  'deep-json': 5,
  'wrong-types': 9,
  encoding: 8,
  'oversized-body': 4,
  'oversized-headers': 4,
  'card-number': 16,
  injection: 8,
  'prototype-keys': 5,
  'duplicate-headers': 5,
  'wrong-method': 6,
  'ws-handshake': 4,
  'ws-origin': 3,
  'ws-messages': 4,
  'cross-payment': 8,
  'valid-control': 4,
};

const GENERATORS: Readonly<Record<FuzzKind, (kit: RequestKit) => CaseDraft>> = {
  'malformed-json': malformedJson,
  'deep-json': deepJson,
  'wrong-types': wrongTypes,
  encoding: encodings,
  'oversized-body': oversizedBodies,
  'oversized-headers': oversizedHeaders,
  'card-number': cardNumbers,
  injection: injections,
  'prototype-keys': prototypeKeys,
  'duplicate-headers': duplicateHeaders,
  'wrong-method': wrongMethods,
  'ws-handshake': socketHandshakes,
  'ws-origin': socketOrigins,
  'ws-messages': socketMessages,
  'cross-payment': crossPaymentProbes,
  'valid-control': validControls,
};

export interface CaseGenerator {
  /** The case numbered `index`; call with 0, 1, 2, ... in turn. */
  next(index: number): FuzzCase;
}

export function createCaseGenerator(seed: number, targets: ProbeTargets): CaseGenerator {
  const random = seededRandom(seed);
  const kit = new RequestKit(random, targets);
  const totalWeight = FUZZ_KINDS.reduce((sum, kind) => sum + KIND_WEIGHTS[kind], 0);
  const drawKind = (): FuzzKind => {
    let draw = random.next() * totalWeight;
    for (const kind of FUZZ_KINDS) {
      draw -= KIND_WEIGHTS[kind];
      if (draw < 0) return kind;
    }
    return FUZZ_KINDS[FUZZ_KINDS.length - 1]!;
  };
  return {
    next(index) {
      const kind = drawKind();
      const draft = GENERATORS[kind](kit);
      return {
        ...draft,
        index,
        kind,
        cards: draft.cards ?? [],
        forgedTokens: draft.forgedTokens ?? [],
      } as FuzzCase;
    },
  };
}

/**
 * What a chaos run does, drawn from its seed before it starts: the payments (card, meter, amount, the client's
 * Idempotency-Key, whether the client sends it again after its answer), the requests carrying card data, the
 * moments the system is killed, the simulators' fault plan and the state machine's timings. The same seed gives
 * the same plan; the decisions an operator takes on open payments are drawn, in payment order, from a stream of
 * their own (`decisionRandom`).
 *
 * What the seed cannot fix is timing: the kills fall at seeded points of the run (after so many payments were
 * accepted, after so long up, and when a charge or vend is in flight if one comes), but what else is in flight
 * at that instant depends on the machine. A violation is reported with its seed; running that seed again
 * replays the same traffic, faults and kill plan, and usually (not always) the same interleaving.
 *
 * @example
 * const plan = planChaos({ payments: 40, kills: 4, seed: 1 });
 * plan.payments[0]; // { index: 0, idempotencyKey: 'chaos-…', body: { meterId, amountPence, paymentToken }, ... }
 */
import type { FaultPlanOptions, FaultRule } from '../../simulators/faults.ts';
import { testMpan } from '../../simulators/mpan.ts';
import type { LocalTuning } from '../../workflow/local-definition.ts';
import { type SeededRandom, seededRandom } from '../fuzz/seeded-random.ts';

/** A top-up as the client sends it (POST /api/payments). */
export interface TopUpBody {
  readonly meterId: string;
  readonly amountPence: number;
  readonly paymentToken: string;
}

/** What the vendor simulator does with a meter: README's test meters, by the two digits after `99`. */
export type MeterScenario =
  | 'vends'
  | 'fails-twice'
  | 'outage'
  | 'rejects'
  | 'slow'
  /** A valid core outside the test range (not `99…`): vends. */
  | 'other';

export interface PlannedPayment {
  readonly index: number;
  /** Letters only: a run of digits in a header could pass for a card number, which the front-end refuses. */
  readonly idempotencyKey: string;
  readonly body: TopUpBody;
  readonly meterScenario: MeterScenario;
  /** The client sends the same key and body once more after its 202, as a client that lost the answer would. */
  readonly sendAgain: boolean;
}

/** Where a request carries a card number: each must be refused (400) and the number kept nowhere. */
export type CardPlacement = 'body' | 'header' | 'path' | 'query';

export interface CardProbe {
  readonly index: number;
  readonly placement: CardPlacement;
  readonly cardNumber: string;
  /** Sent once this many payments have been sent. */
  readonly afterPayments: number;
}

/**
 * The moment a kill waits for (at most `KILL_MOMENT_WAIT_MS`; past that it kills anyway):
 * - charge-at-gateway: a charge request is at the gateway, not yet answered (a slow card, or a slow answer);
 * - charge-unanswered: the gateway has made a charge and is holding its answer (a timeout fault): the charge is
 *   made and the system does not know;
 * - vend-at-vendor: a vend request is at the vendor;
 * - refund-at-gateway: a refund request is at the gateway (in the decisions phase);
 * - anywhere: at once.
 */
export type KillMoment =
  | 'charge-at-gateway'
  | 'charge-unanswered'
  | 'vend-at-vendor'
  | 'refund-at-gateway'
  | 'anywhere';

export interface PlannedKill {
  readonly index: number;
  /** `traffic`: while payments are sent; `decisions`: while operators' decisions are handed over. */
  readonly phase: 'traffic' | 'decisions';
  /**
   * Not before this many payments were accepted (traffic) or this many decisions handed over (decisions), as a
   * fraction of all of them: spreads the kills over the run.
   */
  readonly afterFraction: number;
  /** Not before the system has been up this long since its last start. */
  readonly minUptimeMs: number;
  readonly moment: KillMoment;
}

export interface ChaosPlan {
  readonly seed: number;
  readonly payments: readonly PlannedPayment[];
  readonly cardProbes: readonly CardProbe[];
  readonly kills: readonly PlannedKill[];
  readonly faults: FaultPlanOptions;
}

/** How long a kill waits for its moment before killing anyway. */
export const KILL_MOMENT_WAIT_MS = 4_000;
/** tok_slow's delay at the gateway: long enough for a kill to land while the charge is being made. */
export const SLOW_CARD_DELAY_MS = 3_000;
/** A slow fault's delay before the gateway handles a charge. */
const SLOW_CHARGE_FAULT_MS = 2_500;

/** Luhn-valid test card numbers, as issuers publish them for testing: sent where card data must be refused. */
export const PROBE_CARD_NUMBERS = ['4000056655665556', '4242424242424242', '5555555555554444'] as const;

/** The cards (test tokens), weighted: mostly good cards, every README scenario present. */
const CARDS: readonly (readonly [string, number])[] = [
  ['tok_visa', 40],
  ['tok_mastercard', 8],
  ['tok_slow', 9],
  ['tok_answerLost', 5],
  ['tok_gatewayOutage', 6],
  ['tok_chargeDeclined', 5],
  ['tok_insufficientFunds', 4],
  ['tok_lostCard', 2],
  ['tok_stolenCard', 2],
  ['tok_expiredCard', 2],
  ['tok_gatewayDown', 3],
  ['tok_bogus', 2],
];

/** The meters, weighted, by what the vendor does with them. */
const METERS: readonly (readonly [MeterScenario, number])[] = [
  ['vends', 42],
  ['fails-twice', 12],
  ['outage', 10],
  ['rejects', 12],
  ['slow', 14],
  ['other', 10],
];

/** The rejection scenarios (README: 9903… to 9908…). */
const REJECTING = ['03', '04', '05', '06', '07', '08'] as const;
/** Valid MPAN cores outside the test range. */
const OTHER_METERS = ['1600123456785', '1200000000011'] as const;

/** The machine's timings for the run: dev's, with shorter waits so a run settles in minutes. */
export const CHAOS_WORKFLOW_TUNING: LocalTuning = {
  // Dev's settings (infra/lib/environments.ts).
  maxVendAttempts: 5,
  // A vend in flight at a kill is retried after this (dev: 300 s). Above the meter-vending task's own heartbeat
  // (every 20 s while the vendor answers) and the vendor client's 20 s timeout, as dev's is, so a slow vendor
  // ends in the client's timeout (VendorUnavailable) rather than the step's heartbeat timeout.
  vendHeartbeatSeconds: 45,
  vendTimeoutSeconds: 120,
  vendRetryIntervalSeconds: 1,
  vendMaxDelaySeconds: 8,
  chargeRetryIntervalSeconds: 1,
};

/**
 * The plan for a seed. With `decide` (the default), a fifth of the kills fall while operators' decisions are
 * handed over; without, all fall in the traffic.
 */
export function planChaos(options: {
  payments: number;
  kills: number;
  seed: number;
  decide?: boolean;
}): ChaosPlan {
  const random = seededRandom(options.seed);
  const payments = Array.from({ length: options.payments }, (_, index) => plannedPayment(random, index));
  const probeCount = options.payments === 0 ? 0 : Math.max(1, Math.ceil(options.payments / 25));
  const placements: readonly CardPlacement[] = ['body', 'header', 'path', 'query'];
  const cardProbes = Array.from({ length: probeCount }, (_, index) => ({
    index,
    placement: placements[index % placements.length]!,
    cardNumber: random.pick(PROBE_CARD_NUMBERS),
    afterPayments: Math.floor(((index + 0.5) * options.payments) / probeCount),
  }));
  const decisionKills =
    options.decide === false || options.kills < 2 ? 0 : Math.max(1, Math.round(options.kills / 5));
  const trafficKills = options.kills - decisionKills;
  const kills: PlannedKill[] = [];
  for (let index = 0; index < trafficKills; index++) {
    kills.push({
      index,
      phase: 'traffic',
      afterFraction: (index + random.next() * 0.5) / Math.max(1, trafficKills),
      minUptimeMs: random.int(300, 2_500),
      moment: pickWeighted(random, [
        ['charge-at-gateway', 35],
        ['charge-unanswered', 15],
        ['vend-at-vendor', 25],
        ['anywhere', 25],
      ]),
    });
  }
  for (let index = 0; index < decisionKills; index++) {
    kills.push({
      index: trafficKills + index,
      phase: 'decisions',
      afterFraction: (index + random.next() * 0.5) / decisionKills,
      minUptimeMs: random.int(300, 2_500),
      moment: pickWeighted(random, [
        ['refund-at-gateway', 30],
        ['vend-at-vendor', 40],
        ['anywhere', 30],
      ]),
    });
  }
  return { seed: options.seed, payments, cardProbes, kills, faults: chaosFaultPlan(options.seed) };
}

/**
 * The simulators' fault plan for a seed: `SIMULATOR_FAULTS` JSON (README, "Faults"). Every POST that keeps a
 * promise (charges, refunds, vends) risks each fault, the charge search and the vend lookup 5xx bursts and drops;
 * the outage control is left alone (the audit reads the simulators' journals, not their APIs).
 */
export function chaosFaultPlan(seed: number): FaultPlanOptions {
  const rules: FaultRule[] = [];
  for (const [simulator, path] of [
    ['gateway', '/v1/charges'],
    ['gateway', '/v1/refunds'],
    ['vendor', '/v1/vends'],
  ] as const) {
    const on = { simulator, method: 'POST', path } as const;
    rules.push(
      { fault: 'error', ...on, probability: 0.04, burst: 2 },
      { fault: 'drop', ...on, probability: 0.05 },
      { fault: 'timeout', ...on, probability: 0.03 },
      {
        fault: 'slow',
        ...on,
        probability: 0.06,
        ...(path === '/v1/charges' ? { delayMs: SLOW_CHARGE_FAULT_MS } : {}),
      },
    );
  }
  // The read-only questions the tasks ask when an answer was lost (the gateway's charge search, the vendor's vend
  // lookup) fail too: a failed question must leave the outcome unknown, never decide it.
  for (const [simulator, pathPrefix] of [
    ['gateway', '/v1/charges'],
    ['vendor', '/v1/vends/'],
  ] as const) {
    const on = { simulator, method: 'GET', pathPrefix } as const;
    rules.push(
      { fault: 'error', ...on, probability: 0.05, burst: 2 },
      { fault: 'drop', ...on, probability: 0.03 },
    );
  }
  return { seed, rules };
}

/** The operators' stream: one draw per decision, in payment order, so a seed decides the same way again. */
export function decisionRandom(seed: number): SeededRandom {
  return seededRandom((seed ^ 0x5eed_dec1) >>> 0);
}

function plannedPayment(random: SeededRandom, index: number): PlannedPayment {
  const paymentToken = pickWeighted(random, CARDS);
  const meterScenario = pickWeighted(random, METERS);
  // A meter of its own for each payment with a test scenario: ending one outage ends no other payment's.
  const serial = index + 1;
  const meterId = (() => {
    switch (meterScenario) {
      case 'vends':
        return testMpan('00', serial);
      case 'fails-twice':
        return testMpan('01', serial);
      case 'outage':
        return testMpan('02', serial);
      case 'rejects':
        return testMpan(random.pick(REJECTING), serial);
      case 'slow':
        return testMpan('09', serial);
      case 'other':
        return random.pick(OTHER_METERS);
    }
  })();
  return {
    index,
    idempotencyKey: `chaos-${random.letters(32)}`,
    body: { meterId, amountPence: random.int(10, 175) * 100, paymentToken },
    meterScenario,
    sendAgain: random.chance(0.1),
  };
}

function pickWeighted<T>(random: SeededRandom, choices: readonly (readonly [T, number])[]): T {
  const total = choices.reduce((sum, [, weight]) => sum + weight, 0);
  let draw = random.next() * total;
  for (const [choice, weight] of choices) {
    draw -= weight;
    if (draw < 0) return choice;
  }
  return choices[choices.length - 1]![0];
}

/** The vendor scenario of a test meter (`99xx…`), or undefined for any other meter. */
export function meterScenarioCode(meterId: string): string | undefined {
  return /^99(\d\d)/.exec(meterId)?.[1];
}

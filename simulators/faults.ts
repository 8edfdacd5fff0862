/**
 * The simulators' fault plan: the ways a real party's front door misbehaves, off unless asked for. Each
 * request the simulator server receives is matched against the plan's rules, in order; the first rule that
 * fires decides its fate:
 * - `drop`: the request is handled (and what it did is in the journal), then the connection is destroyed
 *   without an answer: the client cannot tell whether anything happened.
 * - `slow`: the request waits `delayMs` before it is handled, then is answered as usual.
 * - `error`: the request is answered 5xx (`status`, default 503) in the party's own error format without
 *   being handled, and so are the next `burst - 1` requests the rule matches: nothing was done.
 * - `timeout`: the request is handled, then the answer is held until the client gives up (or `holdMs` passes)
 *   and the connection is destroyed: a client's timeout after the party committed.
 *
 * Faults keep each party's promises, because they sit in front of it: a request dropped or timed out after
 * it was handled was committed, so a retry with the same idempotency key or transaction id gets the committed
 * answer replayed; a 5xx did nothing, so a retry runs afresh.
 *
 * Randomness is seeded, so the same seed and the same order of requests fault the same requests.
 *
 * @example
 * const plan = new FaultPlan({ seed: 42, rules: [{ fault: 'drop', simulator: 'gateway', path: '/v1/charges', times: 1 }] });
 * plan.decide({ simulator: 'gateway', method: 'POST', path: '/v1/charges' }); // { kind: 'drop' }
 * plan.decide({ simulator: 'gateway', method: 'POST', path: '/v1/charges' }); // undefined
 */
import { z } from 'zod';

export const FAULT_KINDS = ['drop', 'slow', 'error', 'timeout'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const DEFAULT_SLOW_DELAY_MS = 1_500;
/** Past the task clients' timeouts (10 s for the gateway, 20 s for the vendor: tasks/shared/config.ts). */
const DEFAULT_HOLD_MS = 30_000;

export const FaultRuleSchema = z.strictObject({
  fault: z.enum(FAULT_KINDS),
  /** Which simulator, by where it is mounted: `gateway` or `vendor`; default both. */
  simulator: z.enum(['gateway', 'vendor']).optional(),
  /** Such as `POST`; default any. */
  method: z
    .string()
    .regex(/^[A-Za-z]+$/)
    .transform((method) => method.toUpperCase())
    .optional(),
  /** The path below the simulator's mount, exactly: `/v1/charges`, `/v1/refunds`, `/v1/vends`; default any. */
  path: z.string().startsWith('/').optional(),
  /** The path below the mount starts with this: `/v1/vends/` is every vend lookup; default any. */
  pathPrefix: z.string().startsWith('/').optional(),
  /** The chance that a matching request is faulted, drawn from the seeded generator; default 1. */
  probability: z.number().min(0).max(1).optional(),
  /** Matching requests let through before the rule may fire; default 0. */
  after: z.number().int().nonnegative().optional(),
  /** The most requests this rule faults; default no limit. */
  times: z.number().int().positive().optional(),
  /** `slow`: how long a request waits before it is handled; default 1500 ms. */
  delayMs: z.number().int().nonnegative().optional(),
  /** `timeout`: the longest an answer is held for a client that has not given up; default 30 s. */
  holdMs: z.number().int().nonnegative().optional(),
  /** `error`: how many matching requests in a row one firing answers 5xx; default 1. */
  burst: z.number().int().positive().optional(),
  /** `error`: the status; default 503. */
  status: z.number().int().min(500).max(599).optional(),
});

export const FaultPlanOptionsSchema = z.strictObject({
  /** Seeds the generator `probability` draws from; default 1. */
  seed: z.number().int().optional(),
  /** Default: DEFAULT_FAULT_RULES, a little of every fault on every POST. */
  rules: z.array(FaultRuleSchema).optional(),
});

export type FaultRule = z.input<typeof FaultRuleSchema>;
export type FaultPlanOptions = z.input<typeof FaultPlanOptionsSchema>;

/** What the server does to one request. */
export type Fault =
  | { readonly kind: 'drop' }
  | { readonly kind: 'slow'; readonly delayMs: number }
  | { readonly kind: 'error'; readonly status: number }
  | { readonly kind: 'timeout'; readonly holdMs: number };

/** The request as the plan sees it: which simulator, the method, the path below the mount. */
export interface FaultTarget {
  readonly simulator: string;
  readonly method: string;
  readonly path: string;
}

/**
 * The plan of `SIMULATOR_FAULTS=seed:<n>`: every POST (charges, refunds, vends: the requests with promises to
 * keep) risks each fault; GETs are left alone. About a quarter of POSTs meet a fault, most of them in 5xx
 * bursts of three: enough for every retry path to run within a few top-ups.
 */
export const DEFAULT_FAULT_RULES: readonly FaultRule[] = [
  { fault: 'error', method: 'POST', probability: 0.05, burst: 3 },
  { fault: 'drop', method: 'POST', probability: 0.05 },
  { fault: 'timeout', method: 'POST', probability: 0.02 },
  { fault: 'slow', method: 'POST', probability: 0.05 },
];

type ParsedRule = z.output<typeof FaultRuleSchema>;

interface RuleState {
  readonly rule: ParsedRule;
  matched: number;
  faulted: number;
  /** Requests still owed a 5xx by the burst under way. */
  burstLeft: number;
}

/**
 * Decides, request by request, which fault (if any) the simulator server applies.
 *
 * @example
 * const plan = new FaultPlan({ seed: 7 }); // DEFAULT_FAULT_RULES
 */
export class FaultPlan {
  readonly #rules: RuleState[];
  readonly #random: () => number;

  constructor(options: FaultPlanOptions) {
    const parsed = FaultPlanOptionsSchema.parse(options);
    const rules = parsed.rules ?? DEFAULT_FAULT_RULES.map((rule) => FaultRuleSchema.parse(rule));
    this.#rules = rules.map((rule) => ({ rule, matched: 0, faulted: 0, burstLeft: 0 }));
    this.#random = seededRandom(parsed.seed ?? 1);
  }

  /** The fault for this request, or undefined to serve it as usual. Counts the request against the rules. */
  decide(target: FaultTarget): Fault | undefined {
    const matching = this.#rules.filter((state) => matches(state.rule, target));
    // A burst under way takes the request before any rule draws: its requests come in a row.
    const bursting = matching.find((state) => state.burstLeft > 0 && !exhausted(state));
    if (bursting) {
      bursting.burstLeft--;
      bursting.faulted++;
      return faultOf(bursting.rule);
    }
    for (const state of matching) {
      state.matched++;
      if (state.matched <= (state.rule.after ?? 0) || exhausted(state)) continue;
      const probability = state.rule.probability ?? 1;
      if (probability < 1 && this.#random() >= probability) continue;
      state.faulted++;
      if (state.rule.fault === 'error') state.burstLeft = (state.rule.burst ?? 1) - 1;
      return faultOf(state.rule);
    }
    return undefined;
  }
}

/**
 * Reads `SIMULATOR_FAULTS`: unset, empty or `off` → no faults; `seed:<n>` → DEFAULT_FAULT_RULES seeded with n;
 * a JSON object → `{ seed?, rules? }` as `startSimulators({ faults })` takes it. Anything else throws, naming
 * the forms, so a typo never runs the system without the faults its user asked for.
 *
 * @example
 * faultPlanFromEnv('seed:42'); // { seed: 42 }
 * faultPlanFromEnv('{"rules":[{"fault":"drop","path":"/v1/vends","times":1}]}');
 */
export function faultPlanFromEnv(value: string | undefined): FaultPlanOptions | undefined {
  const text = value?.trim() ?? '';
  if (text === '' || text === 'off') return undefined;
  const seed = /^seed:(-?\d+)$/.exec(text);
  if (seed) return { seed: Number(seed[1]) };
  const usage =
    'SIMULATOR_FAULTS must be empty, "off", "seed:<integer>" or a JSON object { "seed"?, "rules"? } (README: "Faults")';
  if (!text.startsWith('{')) throw new Error(`${usage}; got ${JSON.stringify(text)}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${usage}; its JSON does not parse: ${(error as Error).message}`);
  }
  const parsed = FaultPlanOptionsSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${usage}; ${z.prettifyError(parsed.error)}`);
  return json as FaultPlanOptions;
}

function matches(rule: ParsedRule, target: FaultTarget): boolean {
  return (
    (rule.simulator === undefined || rule.simulator === target.simulator) &&
    (rule.method === undefined || rule.method === target.method.toUpperCase()) &&
    (rule.path === undefined || rule.path === target.path) &&
    (rule.pathPrefix === undefined || target.path.startsWith(rule.pathPrefix))
  );
}

function exhausted(state: RuleState): boolean {
  return state.rule.times !== undefined && state.faulted >= state.rule.times;
}

function faultOf(rule: ParsedRule): Fault {
  switch (rule.fault) {
    case 'drop':
      return { kind: 'drop' };
    case 'slow':
      return { kind: 'slow', delayMs: rule.delayMs ?? DEFAULT_SLOW_DELAY_MS };
    case 'error':
      return { kind: 'error', status: rule.status ?? 503 };
    case 'timeout':
      return { kind: 'timeout', holdMs: rule.holdMs ?? DEFAULT_HOLD_MS };
  }
}

/**
 * Numbers in [0, 1) from a seed: Marsaglia's xorshift32 (shifts 13, 17, 5). Reproducible runs need only a
 * good spread, not unpredictability. The seed is scrambled and the first draws thrown away because xorshift's
 * state must not be 0, and neighbouring seeds would otherwise start with neighbouring numbers.
 */
function seededRandom(seed: number): () => number {
  let state = (Math.imul(seed, 0x2545f491) ^ 0x6c8e9cf5) >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
  for (let warmUp = 0; warmUp < 8; warmUp++) next();
  return next;
}

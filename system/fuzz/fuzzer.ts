/**
 * The fuzzer's core: against a running front-end, make a few real payments, learn how an unknown payment is
 * refused, send the seed's hostile requests one at a time (watching every log line as it is written), hold
 * and release many idle sockets while sampling memory, and report every violation with the seed and the
 * request number that reproduce it.
 *
 * @example
 * const report = await runFuzz(target, { requests: 2_000, seed: 42, sockets: 200 });
 * if (!report.passed) process.exitCode = 1;
 */
import { createCaseGenerator } from './case-generator.ts';
import {
  type CheckContext,
  checkHttpCase,
  checkLogLine,
  checkSocketCase,
  excerpt,
  logLevelOf,
  mask,
  type Verdict,
} from './checker.ts';
import { FUZZ_KINDS, type FuzzCase, type FuzzKind, type RealPayment, RequestKit } from './fuzz-case.ts';
import { holdIdleSockets, type IdleSocketsReport, type OpenConnections } from './idle-sockets.ts';
import { exchange, type HttpAnswer, type RawRequest, requestBytes } from './raw-http.ts';
import { runSocketSession } from './raw-websocket.ts';
import { SecretIndex } from './secrets.ts';
import { seededRandom } from './seeded-random.ts';

/** What the fuzzer needs of the system under fuzz: where it listens, and what it logs. */
export interface FuzzTarget {
  readonly port: number;
  /** An Origin the events socket allows. */
  readonly allowedOrigin: string;
  /** Calls `listener` with every log line the front-end writes from now on; returns the unsubscribe. */
  onLogLine(listener: (line: string) => void): () => void;
  /** The connections the front-end holds now. */
  openConnections(): Promise<OpenConnections>;
}

export interface FuzzOptions {
  readonly requests: number;
  readonly seed: number;
  /** Idle sockets to hold at once (0: none). */
  readonly sockets: number;
  /** Send only this request (after the set-up), to replay one failure. */
  readonly only?: number;
  /** How long one request may take to be answered. */
  readonly requestTimeoutMs?: number;
  /** How long the whole run may take; what is left unsent by then is a violation. */
  readonly budgetMs?: number;
  /** How far above its baseline the heap may stay after the idle sockets close (idle-sockets.ts has the default). */
  readonly allowedGrowthBytes?: number;
}

export type ViolationKind = FuzzKind | 'set-up' | 'idle-sockets' | 'liveness' | 'run';

export interface Violation {
  readonly kind: ViolationKind;
  readonly seed: number;
  /** The request's number: `--seed <seed> --only <index>` sends it again. */
  readonly index?: number;
  readonly variant?: string;
  readonly rule: string;
  readonly detail: string;
  /** The request, secrets masked. */
  readonly request?: string;
  readonly answer?: string;
}

export interface KindTally {
  sent: number;
  /** 4xx, a refused handshake, or a socket the server closed on a bad frame. */
  refused: number;
  /** 2xx, or a socket that stayed open until we closed it. */
  accepted: number;
  serverErrors: number;
  noAnswer: number;
  other: number;
  leaks: number;
  violations: number;
  /** Time spent on this kind's requests. */
  ms: number;
}

export interface FuzzReport {
  readonly seed: number;
  readonly requests: number;
  readonly sent: number;
  readonly sockets: number;
  readonly only?: number;
  readonly durationMs: number;
  /** How long each phase took. */
  readonly phasesMs: { readonly setUp: number; readonly requests: number; readonly idleSockets: number };
  readonly tallies: Readonly<Record<FuzzKind, KindTally>>;
  readonly violations: readonly Violation[];
  /** Not failures: hostile input an answer repeated back. */
  readonly notes: readonly Violation[];
  /**
   * Refusals that must name a field (a body field, a header, `path`, `query`) and how many did; and Fastify's
   * own refusals (unparseable JSON, an unknown media type), which may name none.
   */
  readonly fields: { readonly expected: number; readonly named: number; readonly unnamed: number };
  /** Probes that must be refused exactly as an unknown payment is, and how many were. */
  readonly asUnknown: { readonly probes: number; readonly matched: number };
  readonly logs: { readonly lines: number; readonly errorLines: number; readonly leaks: number };
  readonly idleSockets?: IdleSocketsReport;
  /** With `only`: what the front-end logged for that request, masked. */
  readonly logLines?: readonly string[];
  readonly passed: boolean;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
const DEFAULT_BUDGET_MS = 10 * 60_000;
const LIVENESS_EVERY = 500;
/** Meters of the real payments: valid MPAN cores no hostile request uses. */
const REAL_METERS = ['1200000000011', '1200000000146', '1200000000369'] as const;
const SETTLE_PAYMENTS_MS = 10_000;
const KEPT_CONNECTION_WAIT_MS = 200;

export async function runFuzz(target: FuzzTarget, options: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  const deadline = Date.now() + (options.budgetMs ?? DEFAULT_BUDGET_MS);
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const { seed } = options;
  const { port } = target;
  const host = `127.0.0.1:${port}`;
  const secrets = new SecretIndex();
  const violations: Violation[] = [];
  const notes: Violation[] = [];
  const tallies = Object.fromEntries(FUZZ_KINDS.map((kind) => [kind, emptyTally()])) as Record<
    FuzzKind,
    KindTally
  >;
  const logs = { lines: 0, errorLines: 0, leaks: 0 };
  const asUnknown = { probes: 0, matched: 0 };
  const fields = { expected: 0, named: 0, unnamed: 0 };
  let sent = 0;
  /** Whom a log line is charged to: the request in flight, or the phase. */
  let inFlight: Pick<Violation, 'kind' | 'index' | 'variant' | 'request'> = { kind: 'set-up' };

  const replayLog: string[] = [];
  const stopListening = target.onLogLine((line) => {
    logs.lines += 1;
    if (options.only !== undefined && inFlight.index === options.only) replayLog.push(excerpt(line, 400));
    if (logLevelOf(line) >= 50) logs.errorLines += 1;
    for (const finding of checkLogLine(line, secrets)) {
      logs.leaks += 1;
      violations.push({
        ...inFlight,
        seed,
        rule: finding.rule,
        detail: finding.detail,
        answer: `log: ${excerpt(line, 240)}`,
      });
      if (inFlight.index !== undefined && isFuzzKind(inFlight.kind)) {
        tallies[inFlight.kind].leaks += 1;
        tallies[inFlight.kind].violations += 1;
      }
    }
  });
  const problem = (kind: ViolationKind, rule: string, detail: string) =>
    violations.push({ kind, seed, rule, detail });

  let idleSockets: IdleSocketsReport | undefined;
  const phasesMs = { setUp: 0, requests: 0, idleSockets: 0 };
  let phaseStarted = performance.now();
  const endPhase = (phase: keyof typeof phasesMs) => {
    const now = performance.now();
    phasesMs[phase] = now - phaseStarted;
    phaseStarted = now;
  };
  try {
    const setUpKit = new RequestKit(seededRandom(seed ^ 0x5e7), {
      host,
      allowedOrigin: target.allowedOrigin,
      payments: [],
    });
    const payments = await makeRealPayments(port, host, setUpKit, timeoutMs, (detail) =>
      problem('set-up', 'set-up', detail),
    );
    for (const payment of payments) {
      secrets.addToken(payment.statusToken, payment.label);
      secrets.addPayment(payment.paymentId, payment.label, payment.meterId);
    }
    const context: CheckContext = {
      host,
      secrets,
      payments,
      unknownAnswers: await referenceAnswers(port, host, setUpKit, timeoutMs, (detail) =>
        problem('set-up', 'set-up', detail),
      ),
    };
    const prototypeBefore = prototypeShape();
    endPhase('setUp');
    const generator = createCaseGenerator(seed, { host, allowedOrigin: target.allowedOrigin, payments });

    for (let index = 0; index < options.requests; index += 1) {
      const fuzzCase = generator.next(index);
      if (options.only !== undefined && index !== options.only) continue;
      if (Date.now() > deadline) {
        problem(
          'run',
          'budget',
          `the run's time ran out with ${options.requests - index} requests unsent, from #${index}`,
        );
        break;
      }
      for (const card of fuzzCase.cards) secrets.addCard(card);
      for (const token of fuzzCase.forgedTokens) secrets.addToken(token, 'a forged token');
      const request = describeRequest(fuzzCase.request);
      inFlight = { kind: fuzzCase.kind, index, variant: fuzzCase.variant, request };

      const caseStarted = performance.now();
      const connectionsBefore = (await target.openConnections()).tcp;
      const verdict = await perform(fuzzCase, context, port, host, timeoutMs);
      sent += 1;
      // Log lines of this request are written as its answer goes out: let them land before the next one starts.
      await nextTurn();
      await nextTurn();
      const connectionsKept = await connectionsLeftOver(target, connectionsBefore);

      if (verdict.created) {
        secrets.addToken(verdict.created.statusToken, `the payment of request #${index}`);
        secrets.addPayment(verdict.created.paymentId, `the payment of request #${index}`);
      }
      const tally = tallies[fuzzCase.kind];
      tally.sent += 1;
      tally.ms += performance.now() - caseStarted;
      countOutcome(tally, verdict);
      const record = {
        kind: fuzzCase.kind,
        seed,
        index,
        variant: fuzzCase.variant,
        request,
        answer: verdict.summary,
      };
      for (const finding of verdict.findings) {
        violations.push({ ...record, rule: finding.rule, detail: finding.detail });
        tally.violations += 1;
        if (finding.rule === 'leak') tally.leaks += 1;
      }
      for (const note of verdict.notes) notes.push({ ...record, rule: note.rule, detail: note.detail });
      if (verdict.fieldNamed === 'none') fields.unnamed += 1;
      else if (verdict.fieldNamed !== undefined) {
        fields.expected += 1;
        if (verdict.fieldNamed === 'named') fields.named += 1;
      }
      if (fuzzCase.expect.asUnknown !== undefined) {
        asUnknown.probes += 1;
        if (!verdict.findings.some((finding) => finding.rule === 'not-as-unknown')) asUnknown.matched += 1;
      }
      if (connectionsKept > 0) {
        violations.push({
          ...record,
          rule: 'connection-kept',
          detail: `the server still holds ${connectionsKept} connection(s) of this request ${KEPT_CONNECTION_WAIT_MS} ms after the client closed it`,
        });
        tally.violations += 1;
      }
      if (prototypeShape() !== prototypeBefore) {
        violations.push({
          ...record,
          rule: 'prototype-polluted',
          detail: `Object.prototype changed: ${prototypeShape()}`,
        });
        tally.violations += 1;
      }
      if ((index + 1) % LIVENESS_EVERY === 0) {
        const alive = await stillServing(port, host, timeoutMs);
        if (alive !== undefined) problem('liveness', 'liveness', `after request #${index}: ${alive}`);
      }
    }

    endPhase('requests');
    if (options.sockets > 0 && options.only === undefined) {
      inFlight = { kind: 'idle-sockets' };
      idleSockets = await holdIdleSockets({
        port,
        host,
        allowedOrigin: target.allowedOrigin,
        payments,
        count: options.sockets,
        seed,
        timeoutMs,
        openConnections: () => target.openConnections(),
        ...(options.allowedGrowthBytes === undefined
          ? {}
          : { allowedGrowthBytes: options.allowedGrowthBytes }),
      });
      for (const detail of idleSockets.problems) problem('idle-sockets', 'idle-sockets', detail);
    }
    endPhase('idleSockets');
    inFlight = { kind: 'liveness' };
    const alive = await stillServing(port, host, timeoutMs, payments[0]);
    if (alive !== undefined) problem('liveness', 'liveness', `at the end: ${alive}`);
    await pause(200);
  } finally {
    stopListening();
  }

  return {
    seed,
    requests: options.requests,
    sent,
    sockets: options.sockets,
    ...(options.only === undefined ? {} : { only: options.only }),
    durationMs: performance.now() - started,
    phasesMs,
    tallies,
    violations,
    notes,
    fields,
    asUnknown,
    logs,
    ...(idleSockets ? { idleSockets } : {}),
    ...(options.only === undefined ? {} : { logLines: replayLog }),
    passed: violations.length === 0,
  };
}

async function perform(
  fuzzCase: FuzzCase,
  context: CheckContext,
  port: number,
  host: string,
  timeoutMs: number,
): Promise<Verdict> {
  if (fuzzCase.type === 'socket') {
    const session = await runSocketSession({
      port,
      handshake: requestBytes(fuzzCase.request, host),
      frames: fuzzCase.frames,
      finish: fuzzCase.finish,
      maskKey: fuzzCase.maskKey,
      timeoutMs,
      awaitMessages: fuzzCase.expect.minMessages ?? 0,
    });
    return checkSocketCase(fuzzCase, session, context);
  }
  let before: HttpAnswer | undefined;
  if (fuzzCase.before !== undefined) {
    const first = await exchange({ port, bytes: requestBytes(fuzzCase.before, host), timeoutMs });
    if (first.outcome === 'answered') {
      before = first.answer;
      const accepted = acceptedIn(first.answer);
      if (accepted) {
        context.secrets.addToken(accepted.statusToken, `the payment of request #${fuzzCase.index} (first)`);
        context.secrets.addPayment(accepted.paymentId, `the payment of request #${fuzzCase.index} (first)`);
      }
    }
  }
  const answer = await exchange({
    port,
    bytes: requestBytes(fuzzCase.request, host),
    timeoutMs,
    head: fuzzCase.request.method === 'HEAD',
  });
  return checkHttpCase(fuzzCase, answer, context, before);
}

/**
 * Three payments made as a customer makes them, so probes have real ids and tokens to misuse. Without them
 * (a front-end that refuses even these), placeholders keep the run going and the set-up is a violation.
 */
async function makeRealPayments(
  port: number,
  host: string,
  kit: RequestKit,
  timeoutMs: number,
  problem: (detail: string) => void,
): Promise<RealPayment[]> {
  const payments: RealPayment[] = [];
  for (const [i, meterId] of REAL_METERS.entries()) {
    const label = `payment ${String.fromCharCode(65 + i)}`;
    const body = JSON.stringify({ meterId, amountPence: 2_000 + i, paymentToken: 'tok_visa' });
    const result = await exchange({ port, bytes: requestBytes(kit.post(body), host), timeoutMs });
    const accepted = result.outcome === 'answered' ? acceptedIn(result.answer) : undefined;
    if (accepted) {
      payments.push({ label, meterId, ...accepted });
    } else {
      problem(
        `could not make ${label}: ${result.outcome === 'answered' ? `${result.answer.status} ${excerpt(result.answer.body.toString('utf8'))}` : result.outcome}`,
      );
      payments.push({ label, meterId, paymentId: kit.unknownPaymentId(), statusToken: kit.forgedToken() });
    }
  }
  // Let them move on from `accepted`, so their events (and whatever they hold) are there to be leaked.
  const until = Date.now() + SETTLE_PAYMENTS_MS;
  for (const payment of payments) {
    while (Date.now() < until) {
      const status = await exchange({
        port,
        bytes: requestBytes(kit.getPayment(payment.paymentId, `Bearer ${payment.statusToken}`), host),
        timeoutMs,
      });
      if (status.outcome !== 'answered' || status.answer.status !== 200) break;
      const events = (JSON.parse(status.answer.body.toString('utf8')) as { events?: unknown[] }).events ?? [];
      if (events.length >= 4) break;
      await pause(200);
    }
  }
  return payments;
}

/** The answers to a request for a payment that does not exist, on GET and on the socket: the probes' yardstick. */
async function referenceAnswers(
  port: number,
  host: string,
  kit: RequestKit,
  timeoutMs: number,
  problem: (detail: string) => void,
): Promise<CheckContext['unknownAnswers']> {
  const ask = async (where: string, request: RawRequest) => {
    const result = await exchange({ port, bytes: requestBytes(request, host), timeoutMs });
    if (result.outcome !== 'answered') {
      problem(`an unknown payment (${where}) got no answer: ${result.outcome}`);
      return undefined;
    }
    if (result.answer.status !== 404) {
      problem(
        `an unknown payment (${where}) was answered ${result.answer.status}, not 404: ${excerpt(result.answer.body.toString('utf8'))}`,
      );
    }
    return result.answer;
  };
  const http = await ask('GET', kit.getPayment(kit.unknownPaymentId(), `Bearer ${kit.forgedToken()}`));
  const socket = await ask(
    'socket',
    kit.upgrade(kit.eventsTarget(kit.unknownPaymentId(), kit.forgedToken())),
  );
  return { ...(http ? { http } : {}), ...(socket ? { socket } : {}) };
}

/** Undefined while the front-end still serves /health (and a real payment's status); else what is wrong. */
async function stillServing(
  port: number,
  host: string,
  timeoutMs: number,
  payment?: RealPayment,
): Promise<string | undefined> {
  const health = await exchange({
    port,
    bytes: requestBytes({ method: 'GET', target: '/health', headers: [] }, host),
    timeoutMs,
  });
  if (health.outcome !== 'answered' || health.answer.status !== 200) {
    return `GET /health: ${health.outcome === 'answered' ? health.answer.status : health.outcome}`;
  }
  if (payment === undefined) return undefined;
  const request: RawRequest = {
    method: 'GET',
    target: `/api/payments/${payment.paymentId}`,
    headers: [['Authorization', `Bearer ${payment.statusToken}`]],
  };
  const status = await exchange({ port, bytes: requestBytes(request, host), timeoutMs });
  if (status.outcome !== 'answered' || status.answer.status !== 200) {
    return `GET ${payment.label}: ${status.outcome === 'answered' ? status.answer.status : status.outcome}`;
  }
  return undefined;
}

function acceptedIn(answer: HttpAnswer): { paymentId: string; statusToken: string } | undefined {
  if (answer.status !== 202) return undefined;
  try {
    const body = JSON.parse(answer.body.toString('utf8')) as { paymentId?: unknown; statusToken?: unknown };
    return typeof body.paymentId === 'string' && typeof body.statusToken === 'string'
      ? { paymentId: body.paymentId, statusToken: body.statusToken }
      : undefined;
  } catch {
    return undefined;
  }
}

/** The request on one line, secrets masked: enough to recognise it; `--only` sends it again exactly. */
export function describeRequest(request: RawRequest): string {
  const shorten = (text: string, length: number) =>
    text.length > length ? `${text.slice(0, length)}…(${text.length} chars)` : text;
  const headers = request.headers.map(
    ([name, value]) => `${name}: ${JSON.stringify(shorten(value.toString(), 60)).slice(1, -1)}`,
  );
  const shown = headers.length > 8 ? [...headers.slice(0, 6), `…(${headers.length} headers)`] : headers;
  let body = '';
  if (request.body !== undefined)
    body = ` body(${request.body.length} B) ${JSON.stringify(shorten(request.body.toString('utf8'), 120))}`;
  if (request.chunks !== undefined)
    body = ` chunked body(${request.chunks.reduce((sum, chunk) => sum + chunk.length, 0)} B)`;
  return mask(
    `${JSON.stringify(request.method).slice(1, -1)} ${shorten(request.target, 120)} [${shown.join('; ')}]${body}`,
  );
}

/**
 * How many more connections the server holds than before the request, once it has had a moment to notice that
 * the client closed its own: each request has its own connection, and nothing should outlive it.
 */
async function connectionsLeftOver(target: FuzzTarget, before: number): Promise<number> {
  const until = Date.now() + KEPT_CONNECTION_WAIT_MS;
  for (;;) {
    const now = (await target.openConnections()).tcp;
    if (now <= before || Date.now() >= until) return Math.max(0, now - before);
    await pause(10);
  }
}

function countOutcome(tally: KindTally, verdict: Verdict): void {
  if (verdict.outcome === 'refused') tally.refused += 1;
  else if (verdict.outcome === 'accepted') tally.accepted += 1;
  else if (verdict.outcome === 'server-error') tally.serverErrors += 1;
  else if (verdict.outcome === 'no-answer') tally.noAnswer += 1;
  else tally.other += 1;
}

function emptyTally(): KindTally {
  return {
    sent: 0,
    refused: 0,
    accepted: 0,
    serverErrors: 0,
    noAnswer: 0,
    other: 0,
    leaks: 0,
    violations: 0,
    ms: 0,
  };
}

function isFuzzKind(kind: ViolationKind): kind is FuzzKind {
  return (FUZZ_KINDS as readonly string[]).includes(kind);
}

/** What a polluted prototype would change: its own names, and a name a pollution would likely add. */
function prototypeShape(): string {
  const probe = {} as Record<string, unknown>;
  return `${Object.getOwnPropertyNames(Object.prototype).sort().join(',')}|${String(probe.polluted)}`;
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A chaos run: the whole system (system-process.ts) started as `npm start` starts it, a seeded mix of top-ups
 * sent through its HTTP API by clients that resend when an answer is lost, the gateway and vendor simulators
 * misbehaving by a seeded fault plan, and the system killed with -9 at seeded moments and started again on its
 * data directory and ports. Once everything has settled, the open payments are decided as an operator would
 * (refund, end the vendor's outage and re-vend, record the vendor's UTRN, recheck the charge), under more kills,
 * and settle again. Then every record is collected (collect.ts), the data directory and logs are scanned for
 * card numbers and status tokens (scan.ts), and the auditor (audit.ts) holds each payment to the promises.
 *
 * Phases:
 * 1. traffic: payment j is sent once the kills planned before it are done, so the kills spread over the
 *    traffic; kill i waits until its share of payments is accepted, the system has been up its seeded while,
 *    and then (for at most KILL_MOMENT_WAIT_MS) for its moment: a charge at the gateway, a charge made but not
 *    answered, a vend at the vendor.
 * 2. settle: until every payment is final or waits for a decision (bounded by `settleSeconds`).
 * 3. decisions (unless `decide` is false): up to two rounds, each deciding every open payment (drawn from the
 *    seed's decision stream), with the decisions phase's kills; then settle again.
 * 4. collect, scan, audit.
 *
 * @example
 * const report = await runChaos({ payments: 40, kills: 4, seed: 1 });
 * report.audit.violations; // []
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import type { FaultKind } from '../../simulators/faults.ts';
import { synthesizeLocalDefinition } from '../../workflow/local-definition.ts';
import type { SeededRandom } from '../fuzz/seeded-random.ts';
import { type AuditResult, auditChaos } from './audit.ts';
import {
  ALERTS_QUEUE,
  alertOf,
  customerView,
  historyTail,
  listExecutions,
  mapLimited,
  messageCount,
  openFollowUps,
  parsedJson,
  paymentStatuses,
  readDatabase,
  readExecutions,
  receiveAll,
  SystemClients,
  subscribeToAlerts,
} from './collect.ts';
import {
  type CardProbe,
  CHAOS_WORKFLOW_TUNING,
  type ChaosPlan,
  decisionRandom,
  KILL_MOMENT_WAIT_MS,
  type KillMoment,
  type PlannedKill,
  type PlannedPayment,
  PROBE_CARD_NUMBERS,
  planChaos,
  SLOW_CARD_DELAY_MS,
} from './plan.ts';
import type {
  AlertRecord,
  CardProbeResult,
  ChaosRecords,
  ClientPayment,
  CustomerView,
  DecisionSent,
} from './records.ts';
import { scanForSecrets } from './scan.ts';
import { type ObservedSimulators, simulatorRecordsIn, startObservedSimulators } from './simulators.ts';
import { SystemControl, snapshotCode } from './system-control.ts';

export interface ChaosOptions {
  readonly payments: number;
  readonly kills: number;
  readonly seed: number;
  /** Clients sending top-ups at once; default 6. */
  readonly concurrency?: number;
  /** Where the run keeps everything (the system's DATA_DIR is its `data/`, the logs its `logs/`); must be empty. Default: a new temporary folder. */
  readonly runDir?: string;
  /** Keep the run's folder after a run without violations (it is always kept after one with violations). */
  readonly keep?: boolean;
  /** The longest each settling may take; default 300 s. */
  readonly settleSeconds?: number;
  /** Decide the open payments as an operator would (default true). */
  readonly decide?: boolean;
  /** Progress lines; default none. */
  readonly log?: (line: string) => void;
}

export interface KillRecord {
  readonly index: number;
  readonly phase: PlannedKill['phase'];
  readonly moment: KillMoment;
  /** Whether the moment came (false: killed anyway after KILL_MOMENT_WAIT_MS). */
  readonly met: boolean;
  /** Since the run began. */
  readonly atMs: number;
  readonly restartMs: number;
}

export interface ChaosReport {
  readonly seed: number;
  readonly payments: number;
  readonly killsPlanned: number;
  readonly concurrency: number;
  readonly kills: readonly KillRecord[];
  readonly faults: Readonly<Record<FaultKind, number>>;
  readonly decisionsHandedOver: number;
  readonly cardProbes: { readonly sent: number; readonly refused: number };
  readonly audit: AuditResult;
  /** Payments not settled when a settling ran out of time, with their executions' last events. */
  readonly unsettled: readonly string[];
  /** The execution histories of (up to ten of) the payments with violations, one event a line. */
  readonly histories: Readonly<Record<string, string>>;
  readonly durationMs: number;
  readonly startTimesMs: readonly number[];
  /** Where the run's data and logs are, when kept. */
  readonly runDir: string | undefined;
}

const FINAL = new Set(['vended', 'refunded', 'charge_declined']);
const OPEN = new Set(['vend_failed', 'charge_unconfirmed']);
/** The longest a client waits for one answer before it sends the request again. */
const REQUEST_TIMEOUT_MS = 30_000;
const DECISION_ROUNDS = 2;

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const began = Date.now();
  const log = options.log ?? (() => {});
  const decide = options.decide ?? true;
  const concurrency = options.concurrency ?? 6;
  const settleMs = (options.settleSeconds ?? 300) * 1000;
  const plan = planChaos({ payments: options.payments, kills: options.kills, seed: options.seed, decide });

  const givenRunDir = options.runDir !== undefined;
  const runDir = givenRunDir
    ? resolve(options.runDir!)
    : mkdtempSync(join(tmpdir(), `payment-to-vend-chaos-${options.seed}-`));
  if (givenRunDir) {
    if (existsSync(runDir) && readdirSync(runDir).length > 0) {
      throw new Error(`--data-dir ${runDir} is not empty: a chaos run starts from nothing`);
    }
    mkdirSync(runDir, { recursive: true });
  }
  const dataDir = join(runDir, 'data');
  const logsDir = join(runDir, 'logs');
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(logsDir, { recursive: true });
  const definitionFile = join(runDir, 'payment-to-vend.asl.json');
  writeFileSync(definitionFile, JSON.stringify(synthesizeLocalDefinition({ props: CHAOS_WORKFLOW_TUNING })));
  writeFileSync(join(runDir, 'simulator-faults.json'), JSON.stringify(plan.faults));

  const simulators = await startObservedSimulators({
    dataDir,
    faults: plan.faults,
    slowCardDelayMs: SLOW_CARD_DELAY_MS,
  });
  const [awsPort, frontEndPort] = await freePorts(2);
  const codeDir = join(runDir, 'code');
  const control = new SystemControl({
    runDir,
    logsDir,
    codeDir: snapshotCode(codeDir),
    system: {
      dataDir,
      awsPort: awsPort!,
      frontEndPort: frontEndPort!,
      gatewayUrl: simulators.gatewayUrl,
      vendorUrl: simulators.vendorUrl,
      definitionFile,
    },
  });
  log(
    `chaos: seed ${plan.seed}, ${plan.payments.length} payments, ${plan.kills.length} kills; run folder ${runDir}`,
  );
  log(`chaos: simulator faults SIMULATOR_FAULTS='${JSON.stringify(plan.faults)}'`);
  let clients: SystemClients | undefined;
  let simulatorsOpen = true;
  try {
    // The first start also proves the code copied is whole: a copy taken while someone was half-way through an
    // edit is taken again, a little later.
    let ready: Awaited<ReturnType<SystemControl['start']>>;
    for (let attempt = 1; ; attempt++) {
      try {
        ready = await control.start();
        break;
      } catch (error) {
        if (attempt >= 6) throw error;
        log(
          `chaos: the system did not start from its copied code; copying it again in 20 s (${String(error).split('\n')[0]})`,
        );
        await sleep(20_000);
        rmSync(codeDir, { recursive: true, force: true });
        snapshotCode(codeDir);
      }
    }
    log(
      `chaos: the system is up in ${control.startTimesMs[0]} ms (${ready.frontEndUrl}, embedded AWS ${ready.awsEndpoint})`,
    );
    clients = new SystemClients(ready);
    const alertsQueueUrl = await subscribeToAlerts(clients);
    const run = new Run({ plan, control, clients, simulators, log, began, concurrency });

    // 1. Traffic, under kills.
    await run.traffic();
    log(
      `chaos: traffic done at ${seconds(Date.now() - began)}: ${run.acceptedCount()} of ${plan.payments.length} accepted, ${run.kills.length} kills`,
    );
    // 2. Settle.
    const unsettled: string[] = [];
    unsettled.push(...(await run.settle(settleMs)));
    // 3. Decisions, under kills.
    if (decide) {
      for (let round = 1; round <= DECISION_ROUNDS; round++) {
        const handed = await run.decisions(round);
        if (handed === 0 && round > 1) break;
        unsettled.splice(0, unsettled.length, ...(await run.settle(settleMs)));
      }
    }
    // Kills planned but not yet made (a decisions phase with nothing left to decide) still happen.
    await run.remainingKills();
    if (run.kills.length > 0) unsettled.splice(0, unsettled.length, ...(await run.settle(settleMs)));

    // 4. Collect, scan, audit.
    await run.alertsDelivered(alertsQueueUrl);
    const collected = await run.collect(alertsQueueUrl);
    // A first audit while the system is still up, on the simulators' records in memory, to keep the histories of
    // the executions of the payments it finds wrong, for the report.
    const suspects = auditChaos({
      ...collected,
      gateway: { charges: simulators.gateway.charges(), refunds: simulators.gateway.refunds() },
      vendor: { vends: simulators.vendor.vends() },
      decisionsSent: run.decisionsSent,
      decisionsNotHandedOver: run.decisionsNotHandedOver,
      decisionsMade: decide,
      secretsFound: [],
    }).violations.flatMap((violation) => (violation.paymentId === undefined ? [] : [violation.paymentId]));
    const histories = await run.histories([...new Set(suspects)].slice(0, 10));
    await control.kill();
    clients.destroy();
    clients = undefined;
    await simulators.close();
    simulatorsOpen = false;
    const simulatorRecords = await simulatorRecordsIn(dataDir);
    log(`chaos: scanning ${runDir} for card numbers and status tokens...`);
    const statusTokens = collected.clients.flatMap((client) =>
      client.answers.slice(0, 1).map((answer) => answer.statusToken),
    );
    const secretsFound = scanForSecrets(
      { dataDir, logFiles: control.logFiles },
      { statusTokens, cardNumbers: PROBE_CARD_NUMBERS },
    );
    const records: ChaosRecords = {
      ...collected,
      gateway: { charges: simulatorRecords.charges, refunds: simulatorRecords.refunds },
      vendor: { vends: simulatorRecords.vends },
      decisionsSent: run.decisionsSent,
      decisionsNotHandedOver: run.decisionsNotHandedOver,
      decisionsMade: decide,
      secretsFound,
    };
    writeFileSync(
      join(runDir, 'histories.txt'),
      Object.entries(histories)
        .map(([paymentId, history]) => `== ${paymentId}\n${history}\n`)
        .join('\n'),
    );
    // For whoever looks into a violation; the status tokens are the customers' secrets, so they stay out.
    writeFileSync(
      join(runDir, 'records.json'),
      JSON.stringify({
        ...records,
        clients: records.clients.map((client) => ({
          ...client,
          answers: client.answers.map((answer) => ({ ...answer, statusToken: '[not kept]' })),
        })),
      }),
    );
    const audit = auditChaos(records);
    const clean = audit.violations.length === 0 && unsettled.length === 0;
    const keep = !clean || options.keep === true || givenRunDir;
    if (!keep) rmSync(runDir, { recursive: true, force: true });
    return {
      seed: plan.seed,
      payments: plan.payments.length,
      killsPlanned: plan.kills.length,
      concurrency,
      kills: run.kills,
      faults: simulators.faultsInjected(),
      decisionsHandedOver: run.decisionsSent.length,
      cardProbes: {
        sent: collected.cardProbes.length,
        refused: collected.cardProbes.filter((probe) => probe.status === 400).length,
      },
      audit,
      unsettled,
      histories,
      durationMs: Date.now() - began,
      startTimesMs: control.startTimesMs,
      runDir: keep ? runDir : undefined,
    };
  } finally {
    clients?.destroy();
    await control.kill();
    if (simulatorsOpen) await simulators.close();
  }
}

/** The state of one run, shared by its clients, its killer and its operator. */
class Run {
  readonly kills: KillRecord[] = [];
  readonly decisionsSent: DecisionSent[] = [];
  readonly decisionsNotHandedOver: (DecisionSent & { error: string })[] = [];
  readonly #plan: ChaosPlan;
  readonly #control: SystemControl;
  readonly #clients: SystemClients;
  readonly #simulators: ObservedSimulators;
  readonly #log: (line: string) => void;
  readonly #began: number;
  readonly #concurrency: number;
  readonly #payments: ClientState[];
  readonly #probes: CardProbeResult[] = [];
  readonly #decisionRandom: SeededRandom;
  #killsDone = 0;
  /** Payments whose client is done with its first send (accepted, or refused for good). */
  #paymentsDone = 0;
  /** Decisions the operator is done with (handed over or not). */
  #decisionsDone = 0;
  #progressWaiters: (() => void)[] = [];
  #decisionsHandedOver = 0;
  #decisionNumber = 0;

  constructor(options: {
    plan: ChaosPlan;
    control: SystemControl;
    clients: SystemClients;
    simulators: ObservedSimulators;
    log: (line: string) => void;
    began: number;
    concurrency: number;
  }) {
    this.#plan = options.plan;
    this.#control = options.control;
    this.#clients = options.clients;
    this.#simulators = options.simulators;
    this.#log = options.log;
    this.#began = options.began;
    this.#concurrency = options.concurrency;
    this.#payments = options.plan.payments.map((planned) => ({
      planned,
      answers: [],
      refusals: [],
      requests: 0,
    }));
    this.#decisionRandom = decisionRandom(options.plan.seed);
  }

  acceptedCount(): number {
    return this.#payments.filter((payment) => payment.answers.length > 0).length;
  }

  // ─── Traffic ──────────────────────────────────────────────────────────────────────────────────

  async traffic(): Promise<void> {
    const payments = this.#plan.payments;
    const kills = this.#plan.kills.filter((kill) => kill.phase === 'traffic');
    const probes = [...this.#plan.cardProbes];
    let next = 0;
    const client = async () => {
      while (next < payments.length) {
        const index = next++;
        // The kills planned before this payment come first, so that kills and payments interleave.
        const gate = Math.floor((index * kills.length) / payments.length);
        await this.#until(() => this.#killsDone >= gate);
        await this.#topUp(this.#payments[index]!);
        while (probes.length > 0 && probes[0]!.afterPayments <= index) await this.#probe(probes.shift()!);
      }
    };
    const killer = async () => {
      for (const kill of kills) {
        const threshold = Math.floor(kill.afterFraction * payments.length);
        await this.#until(() => this.#paymentsDone >= threshold);
        await this.#kill(kill);
      }
    };
    await Promise.all([...Array.from({ length: this.#concurrency }, client), killer()]);
    for (const probe of probes) await this.#probe(probe);
  }

  /** POST /api/payments until it is answered 202 (or refused), resending the same key and body as a client does. */
  async #topUp(state: ClientState): Promise<void> {
    const { planned } = state;
    const send = async (): Promise<void> => {
      for (let attempt = 0; ; attempt++) {
        await this.#control.whenUp();
        state.requests++;
        const answer = await this.#post(planned);
        if (answer.status === 202) {
          const { paymentId, statusToken } = JSON.parse(answer.body) as {
            paymentId: string;
            statusToken: string;
          };
          state.answers.push({ paymentId, statusToken });
          return;
        }
        if (answer.status >= 400 && answer.status < 500 && answer.status !== 429) {
          state.refusals.push({ status: answer.status, body: answer.body });
          if (state.refusals.length >= 3) return;
        }
        // No answer (the system is down or was killed mid-request), 5xx or 429: the same request again.
        await sleep(Math.min(2_000, 100 * 2 ** Math.min(attempt, 4)));
      }
    };
    await send();
    this.#paymentsDone++;
    this.#progress();
    if (planned.sendAgain && state.answers.length > 0) await send();
  }

  async #post(planned: PlannedPayment): Promise<{ status: number; body: string }> {
    try {
      const response = await fetch(`${this.#control.ready.frontEndUrl}/api/payments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'Idempotency-Key': planned.idempotencyKey },
        body: JSON.stringify(planned.body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      return { status: response.status, body: await response.text() };
    } catch {
      return { status: 0, body: '' };
    }
  }

  /** A request carrying a card number: it must be refused (400) whatever part carries it. */
  async #probe(probe: CardProbe): Promise<void> {
    const spaced = probe.cardNumber.replace(/(\d{4})(?=\d)/g, '$1 ');
    const topUp = { meterId: '1200000000011', amountPence: 2000, paymentToken: 'tok_visa' };
    const key = `chaos-probe-${'abcdefghijklmnopqrstuvwxyz'.slice(0, 10 + (probe.index % 16))}`;
    for (let attempt = 0; attempt < 20; attempt++) {
      await this.#control.whenUp();
      const base = this.#control.ready.frontEndUrl;
      const post = (headers: Record<string, string>, body: unknown) =>
        fetch(`${base}/api/payments`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      try {
        const response = await (() => {
          switch (probe.placement) {
            case 'body':
              return post({ 'Idempotency-Key': key }, { ...topUp, paymentToken: spaced });
            case 'header':
              return post({ 'Idempotency-Key': probe.cardNumber }, topUp);
            case 'path':
              return fetch(`${base}/api/payments/${probe.cardNumber}`, {
                signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
              });
            case 'query':
              return fetch(`${base}/api/payments/pay_x?token=${probe.cardNumber}`, {
                signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
              });
          }
        })();
        await response.text();
        if (response.status >= 500 || response.status === 429) continue;
        this.#probes.push({ index: probe.index, placement: probe.placement, status: response.status });
        return;
      } catch {
        await sleep(200);
      }
    }
    this.#probes.push({ index: probe.index, placement: probe.placement, status: 0 });
  }

  // ─── Kills ────────────────────────────────────────────────────────────────────────────────────

  async #kill(kill: PlannedKill): Promise<void> {
    await this.#control.whenUp();
    await this.#until(() => this.#control.uptimeMs() >= kill.minUptimeMs, 10);
    const inMoment = this.#moment(kill.moment);
    const deadline = Date.now() + KILL_MOMENT_WAIT_MS;
    while (!inMoment() && Date.now() < deadline) await sleep(5);
    // Checked and killed in one turn of the event loop: nothing can answer in between.
    const met = inMoment();
    const atMs = Date.now() - this.#began;
    const killed = this.#control.kill();
    await killed;
    const restarting = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#control.start();
        break;
      } catch (error) {
        // A start that failed is a finding in its own right, but one retry tells a busy port from a broken start.
        if (attempt >= 3) throw error;
        this.#log(
          `chaos: the system did not start again (attempt ${attempt}): ${String(error).slice(0, 2_000)}`,
        );
        await sleep(2_000);
      }
    }
    const restartMs = Date.now() - restarting;
    this.kills.push({ index: kill.index, phase: kill.phase, moment: kill.moment, met, atMs, restartMs });
    this.#killsDone++;
    this.#log(
      `chaos: kill ${this.kills.length}/${this.#plan.kills.length} at ${seconds(atMs)} (${new Date(this.#began + atMs).toISOString().slice(11, 23)}; ${kill.moment}${met ? '' : ', moment not met'}), ${this.acceptedCount()} accepted, ${this.#decisionsHandedOver} decisions; up again in ${seconds(restartMs)}`,
    );
    this.#progress();
  }

  #moment(moment: KillMoment): () => boolean {
    const simulators = this.#simulators;
    switch (moment) {
      case 'charge-at-gateway':
        return () => simulators.inFlight('charge');
      case 'charge-unanswered':
        return () => simulators.chargeUnanswered();
      case 'vend-at-vendor':
        return () => simulators.inFlight('vend');
      case 'refund-at-gateway':
        return () => simulators.inFlight('refund');
      case 'anywhere':
        return () => true;
    }
  }

  /** The kills planned that have not happened (the decisions phase's, when nothing was left to decide). */
  async remainingKills(): Promise<void> {
    const done = new Set(this.kills.map((kill) => kill.index));
    for (const kill of this.#plan.kills) if (!done.has(kill.index)) await this.#kill(kill);
  }

  // ─── Settling ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Waits until every accepted payment is final (its execution ended) or open (its execution waiting in
   * AwaitDecision, its follow-up row open); answers what is still unsettled when `timeoutMs` runs out.
   */
  async settle(timeoutMs: number): Promise<string[]> {
    const started = Date.now();
    const ours = new Set(
      this.#payments.flatMap((payment) => payment.answers.slice(0, 1).map((answer) => answer.paymentId)),
    );
    let unsettled: { paymentId: string; why: string }[] = [];
    for (;;) {
      unsettled = await this.#whileUp(async () => {
        const running = new Set(
          (await listExecutions(this.#clients.sfn, this.#control.ready.stateMachineArn, 'RUNNING')).map(
            (execution) => execution.name,
          ),
        );
        const open = new Set((await openFollowUps(this.#clients.db)).map((row) => row.paymentId));
        const statuses = await paymentStatuses(this.#clients.db);
        const waiting: { paymentId: string; why: string }[] = [];
        for (const paymentId of ours) {
          const status = statuses.get(paymentId) ?? 'missing';
          if (FINAL.has(status) && !running.has(paymentId)) continue;
          if (OPEN.has(status) && running.has(paymentId) && open.has(paymentId)) continue;
          waiting.push({
            paymentId,
            why: `${status}, execution ${running.has(paymentId) ? 'running' : 'not running'}, follow-up ${open.has(paymentId) ? 'open' : 'not open'}`,
          });
        }
        return waiting;
      });
      if (unsettled.length === 0) {
        this.#log(`chaos: settled in ${seconds(Date.now() - started)}`);
        return [];
      }
      if (Date.now() - started > timeoutMs) break;
      await sleep(1_000);
    }
    this.#log(`chaos: ${unsettled.length} payment(s) not settled after ${seconds(timeoutMs)}`);
    const arnOf = (paymentId: string) =>
      `${this.#control.ready.stateMachineArn.replace(':stateMachine:', ':execution:')}:${paymentId}`;
    return mapLimited(unsettled, 2, async ({ paymentId, why }) => {
      const tail = await this.#whileUp(() => historyTail(this.#clients.sfn, arnOf(paymentId))).catch(
        (error: unknown) => String(error),
      );
      return `${paymentId} (${why}); its execution's last events:\n${tail.replace(/^/gm, '    ')}`;
    });
  }

  // ─── Decisions ────────────────────────────────────────────────────────────────────────────────

  /** One round: every open payment decided (as drawn from the seed), under the decisions phase's kills. */
  async decisions(round: number): Promise<number> {
    const open = await this.#whileUp(() => openFollowUps(this.#clients.db));
    const byPaymentId = new Map(
      this.#payments.flatMap((payment) =>
        payment.answers.slice(0, 1).map((answer) => [answer.paymentId, payment] as const),
      ),
    );
    const todo = open
      .filter((row) => byPaymentId.has(row.paymentId))
      .sort(
        (a, b) => byPaymentId.get(a.paymentId)!.planned.index - byPaymentId.get(b.paymentId)!.planned.index,
      );
    const kills = round === 1 ? this.#plan.kills.filter((kill) => kill.phase === 'decisions') : [];
    this.#log(`chaos: decisions round ${round}: ${todo.length} open payment(s)`);
    if (todo.length === 0) return 0;
    const firstKill = this.#killsDone;
    const doneBefore = this.#decisionsDone;
    const decided = todo.map((row) => ({
      row,
      decision: this.#draw(row.reason, byPaymentId.get(row.paymentId)!.planned),
    }));
    let next = 0;
    let handed = 0;
    const operator = async () => {
      while (next < decided.length) {
        const index = next++;
        const gate = Math.floor((index * kills.length) / decided.length);
        await this.#until(() => this.#killsDone - firstKill >= gate);
        const { row, decision } = decided[index]!;
        if (await this.#handOver(row.paymentId, row.reason, decision)) handed++;
        this.#decisionsDone++;
        this.#progress();
      }
    };
    const killer = async () => {
      for (const kill of kills) {
        const threshold = Math.floor(kill.afterFraction * decided.length);
        await this.#until(() => this.#decisionsDone - doneBefore >= threshold);
        await this.#kill(kill);
      }
    };
    await Promise.all([operator(), operator(), killer()]);
    return handed;
  }

  /** What an operator decides for an open payment: drawn from the seed's decision stream, in payment order. */
  #draw(reason: string, planned: PlannedPayment): PlannedDecision {
    const random = this.#decisionRandom;
    const decisionId = `chaos_${this.#plan.seed}_${++this.#decisionNumber}`;
    if (reason === 'charge_unconfirmed') return { decisionId, action: 'recheck_charge', endOutage: false };
    const roll = random.next();
    switch (planned.meterScenario) {
      case 'rejects':
        // The meter will refuse any UTRN the vendor issues: refund, or (the vendor having sorted it out by
        // phone) record the UTRN it gave.
        return roll < 0.5
          ? { decisionId, action: 'refund', endOutage: false }
          : { decisionId, action: 'record_utrn', endOutage: false, utrn: twentyDigits(random) };
      case 'outage':
        return roll < 0.75
          ? { decisionId, action: 'revend', endOutage: true }
          : { decisionId, action: 'refund', endOutage: false };
      default:
        return roll < 0.8
          ? { decisionId, action: 'revend', endOutage: false }
          : { decisionId, action: 'refund', endOutage: false };
    }
  }

  /**
   * Hands a decision to the waiting execution (SendTaskSuccess on the follow-up row's token), as the console
   * does, again until it is recorded: across a kill its answer may be lost, or the token replaced.
   */
  async #handOver(paymentId: string, reason: string, decision: PlannedDecision): Promise<boolean> {
    const sent: DecisionSent = {
      paymentId,
      decisionId: decision.decisionId,
      action: decision.action,
      ...(decision.utrn === undefined ? {} : { utrn: decision.utrn }),
    };
    const planned = this.#payments.find((payment) => payment.answers[0]?.paymentId === paymentId)!.planned;
    if (decision.endOutage) {
      // The vendor's outage for this meter ends (the simulator's own control, as README has it).
      const response = await fetch(
        `${this.#simulators.vendorUrl}/simulator/outages/${planned.body.meterId}/end`,
        { method: 'POST' },
      );
      await response.text();
    }
    const output = JSON.stringify({
      decisionId: decision.decisionId,
      action: decision.action,
      operator: 'chaos-run',
      reason: `chaos run seed ${this.#plan.seed}: ${reason}, ${decision.action}`,
      decidedAt: new Date().toISOString(),
      ...(decision.utrn === undefined ? {} : { utrn: decision.utrn }),
    });
    let lastError = 'no open follow-up row';
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const state = await this.#whileUp(async () => {
        const recorded = await this.#clients.db.query(
          'SELECT decision_id FROM decisions WHERE decision_id = :decisionId',
          { decisionId: decision.decisionId },
          zDecisionRow,
        );
        if (recorded.length > 0) return 'recorded' as const;
        const row = (await openFollowUps(this.#clients.db)).find((each) => each.paymentId === paymentId);
        return row?.taskToken;
      });
      if (state === 'recorded') {
        this.decisionsSent.push(sent);
        this.#decisionsHandedOver++;
        return true;
      }
      if (state !== undefined) {
        try {
          await this.#clients.sfn.send(new SendTaskSuccessCommand({ taskToken: state, output }));
        } catch (error) {
          lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        }
      }
      // Recorded by the execution's RecordDecision step: looked for on the next turn.
      await sleep(300);
    }
    this.decisionsNotHandedOver.push({ ...sent, error: lastError });
    return false;
  }

  /** The histories of these payments' executions, one event a line. */
  async histories(paymentIds: readonly string[]): Promise<Record<string, string>> {
    const arnOf = (paymentId: string) =>
      `${this.#control.ready.stateMachineArn.replace(':stateMachine:', ':execution:')}:${paymentId}`;
    const histories = await mapLimited(paymentIds, 2, async (paymentId) => {
      const history = await this.#whileUp(() => historyTail(this.#clients.sfn, arnOf(paymentId), 1000)).catch(
        (error: unknown) => String(error),
      );
      return [paymentId, history] as const;
    });
    return Object.fromEntries(histories);
  }

  // ─── Collecting ───────────────────────────────────────────────────────────────────────────────

  /** Waits until the alerts queue has stopped growing: SNS delivers after the publish is acknowledged. */
  async alertsDelivered(alertsQueueUrl: string): Promise<void> {
    let last = -1;
    for (let quiet = 0; quiet < 3; ) {
      const count = await this.#whileUp(() => messageCount(this.#clients.sqs, alertsQueueUrl));
      quiet = count === last ? quiet + 1 : 0;
      last = count;
      await sleep(1_000);
    }
  }

  async collect(
    alertsQueueUrl: string,
  ): Promise<
    Omit<
      ChaosRecords,
      'gateway' | 'vendor' | 'decisionsSent' | 'decisionsNotHandedOver' | 'decisionsMade' | 'secretsFound'
    >
  > {
    const ready = this.#control.ready;
    const { sfn, sqs, db } = this.#clients;
    this.#log('chaos: collecting the records...');
    const database = await this.#whileUp(() => readDatabase(db));
    const executions = await this.#whileUp(() => readExecutions(sfn, ready.stateMachineArn));
    const accepted = this.#payments.flatMap((payment) => payment.answers.slice(0, 1));
    const views = await mapLimited(accepted, 6, async (answer) => {
      const view = await this.#whileUp(() =>
        customerView(ready.frontEndUrl, answer.paymentId, answer.statusToken),
      );
      return [answer.paymentId, view] as const;
    });
    const customerViews: Record<string, CustomerView> = Object.fromEntries(views);
    const queueUrl = (name: string) => {
      const url = ready.queueUrls[name];
      if (url === undefined) throw new Error(`no queue ${name}`);
      return url;
    };
    const paymentFailure = (await this.#whileUp(() => receiveAll(sqs, queueUrl('PaymentFailure')))).map(
      parsedJson,
    );
    const vendingFailure = (await this.#whileUp(() => receiveAll(sqs, queueUrl('VendingFailure')))).map(
      parsedJson,
    );
    const deadLettered: { queue: string; count: number; paymentIds: string[] }[] = [];
    for (const name of Object.keys(ready.queueUrls).filter((each) => each.endsWith('-dlq'))) {
      const bodies = await this.#whileUp(() => receiveAll(sqs, queueUrl(name)));
      if (bodies.length > 0) {
        deadLettered.push({
          queue: name,
          count: bodies.length,
          paymentIds: [...new Set(bodies.flatMap((body) => /\bpay_[A-Za-z0-9]+/.exec(body)?.[0] ?? []))],
        });
      }
    }
    const alerts = (await this.#whileUp(() => receiveAll(sqs, alertsQueueUrl)))
      .map(alertOf)
      .filter((alert): alert is AlertRecord => alert !== undefined);
    this.#log(
      `chaos: ${database.payments.length} payments, ${executions.length} executions, ${paymentFailure.length} PaymentFailure and ${vendingFailure.length} VendingFailure messages, ${alerts.length} alert deliveries (queue ${ALERTS_QUEUE})`,
    );
    const clients: ClientPayment[] = this.#payments.map((state) => ({
      index: state.planned.index,
      idempotencyKey: state.planned.idempotencyKey,
      body: state.planned.body,
      meterScenario: state.planned.meterScenario,
      answers: state.answers,
      refusals: state.refusals,
      requests: state.requests,
    }));
    return {
      seed: this.#plan.seed,
      clients,
      cardProbes: this.#probes,
      customerViews,
      database,
      executions,
      queues: { paymentFailure, vendingFailure, deadLettered },
      alerts,
    };
  }

  // ─── Plumbing ─────────────────────────────────────────────────────────────────────────────────

  /** Runs a call against the system, again after a restart when the system is (or goes) down meanwhile. */
  async #whileUp<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await this.#control.whenUp();
      try {
        return await call();
      } catch (error) {
        if (attempt >= 30) throw error;
        await sleep(Math.min(2_000, 100 * 2 ** Math.min(attempt, 4)));
      }
    }
  }

  #progress(): void {
    for (const waiter of this.#progressWaiters.splice(0)) waiter();
  }

  /** Resolves once `condition` holds: looked at on each progress (a payment accepted, a kill) and every `everyMs`. */
  async #until(condition: () => boolean, everyMs = 50): Promise<void> {
    while (!condition()) {
      await new Promise<void>((done) => {
        const timer = setTimeout(done, everyMs);
        this.#progressWaiters.push(() => {
          clearTimeout(timer);
          done();
        });
      });
    }
  }
}

interface ClientState {
  readonly planned: PlannedPayment;
  readonly answers: { paymentId: string; statusToken: string }[];
  readonly refusals: { status: number; body: string }[];
  requests: number;
}

interface PlannedDecision {
  readonly decisionId: string;
  readonly action: 'revend' | 'record_utrn' | 'refund' | 'recheck_charge';
  /** End the vendor's outage for the meter first (a 9902… meter). */
  readonly endOutage: boolean;
  readonly utrn?: string;
}

const zDecisionRow = z.object({ decision_id: z.string() });

function twentyDigits(random: SeededRandom): string {
  return Array.from({ length: 20 }, () => String(random.int(0, 9))).join('');
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((done, fail) => {
          const server = createServer();
          server.once('error', fail);
          server.listen(0, '127.0.0.1', () => done(server));
        }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  });
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  return ports;
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * The gateway and vendor simulators for a chaos run, in the chaos process (not in the system it kills): their
 * journals in `<dataDir>/simulators`, as `npm start` keeps them, the run's fault plan in front of them, and
 * watched, so that a kill can wait for a charge or a vend to be in flight:
 * - a request is "at" a simulator while its handler runs (a tok_slow charge, a 9909… meter's vend) or while
 *   a slow fault holds it before the handler (the handler still runs after the client is gone: a charge made
 *   while the system is dead);
 * - a charge is "unanswered" while a timeout fault holds the answer of a charge the gateway has made.
 * It counts the faults the plan injected, by kind.
 *
 * What `startSimulators` builds, with the same parts: the simulators opened on their journals and served by
 * `startSimulatorServer` under `/gateway` and `/vendor`.
 */
import {
  type Fault,
  type FaultKind,
  FaultPlan,
  type FaultPlanOptions,
  type FaultTarget,
} from '../../simulators/faults.ts';
import { PaymentGatewaySimulator } from '../../simulators/payment-gateway.ts';
import {
  type Simulator,
  type SimulatorRequest,
  type SimulatorResponse,
  startSimulatorServer,
} from '../../simulators/server.ts';
import { simulatorsJournalDir } from '../../simulators/start-simulators.ts';
import { VendingVendorSimulator } from '../../simulators/vending-vendor.ts';

/** The POSTs the run watches: each keeps a promise (a charge, a refund, a vend). */
export type WatchedRequest = 'charge' | 'refund' | 'vend';

export interface ObservedSimulators {
  readonly gatewayUrl: string;
  readonly vendorUrl: string;
  readonly gateway: PaymentGatewaySimulator;
  readonly vendor: VendingVendorSimulator;
  /** Whether a request of this kind is at its simulator now, not yet answered. */
  inFlight(kind: WatchedRequest): boolean;
  /** Whether the gateway holds the answer of a charge it has made (a timeout fault). */
  chargeUnanswered(): boolean;
  /** The faults injected so far, by kind. */
  faultsInjected(): Readonly<Record<FaultKind, number>>;
  close(): Promise<void>;
}

/** How long after a timeout fault is decided the held charge is taken as made (its handler takes milliseconds). */
const COMMITTED_AFTER_MS = 250;

function watchedOf(simulator: string, method: string, path: string): WatchedRequest | undefined {
  if (method.toUpperCase() !== 'POST') return undefined;
  if (simulator === 'gateway' && path === '/v1/charges') return 'charge';
  if (simulator === 'gateway' && path === '/v1/refunds') return 'refund';
  if (simulator === 'vendor' && path === '/v1/vends') return 'vend';
  return undefined;
}

/** A fault plan that also notes what it decided: the counts, and the slow and held requests still pending. */
class WatchedFaultPlan extends FaultPlan {
  readonly injected: Record<FaultKind, number> = { drop: 0, slow: 0, error: 0, timeout: 0 };
  /** Per watched kind: when each slow-faulted request stops waiting and reaches its handler. */
  readonly slowUntil: Record<WatchedRequest, number[]> = { charge: [], refund: [], vend: [] };
  /** Per watched kind: when each timeout-faulted request was decided, oldest first, until its answer is gone. */
  readonly held: Record<WatchedRequest, number[]> = { charge: [], refund: [], vend: [] };

  override decide(target: FaultTarget): Fault | undefined {
    const fault = super.decide(target);
    if (fault === undefined) return undefined;
    this.injected[fault.kind]++;
    const watched = watchedOf(target.simulator, target.method, target.path);
    if (watched !== undefined) {
      if (fault.kind === 'slow') this.slowUntil[watched].push(Date.now() + fault.delayMs);
      if (fault.kind === 'timeout') this.held[watched].push(Date.now());
    }
    return fault;
  }
}

/** Counts the requests of each watched kind inside the simulator's handler. */
function watchedSimulator(
  inner: Simulator,
  mount: 'gateway' | 'vendor',
  active: Record<WatchedRequest, number>,
): Simulator {
  return {
    name: inner.name,
    errorResponse: (status, code, message) => inner.errorResponse(status, code, message),
    unavailable: (status) => inner.unavailable(status),
    close: () => inner.close(),
    async handle(request: SimulatorRequest): Promise<SimulatorResponse> {
      const watched = watchedOf(mount, request.method, request.path);
      if (watched !== undefined) active[watched]++;
      try {
        return await inner.handle(request);
      } finally {
        if (watched !== undefined) active[watched]--;
      }
    },
  };
}

export async function startObservedSimulators(options: {
  readonly dataDir: string;
  readonly faults: FaultPlanOptions;
  readonly slowCardDelayMs: number;
}): Promise<ObservedSimulators> {
  const journalDir = simulatorsJournalDir(options.dataDir);
  const gateway = await PaymentGatewaySimulator.open({ journalDir, slowDelayMs: options.slowCardDelayMs });
  const vendor = await VendingVendorSimulator.open({ journalDir });
  const plan = new WatchedFaultPlan(options.faults);
  const active: Record<WatchedRequest, number> = { charge: 0, refund: 0, vend: 0 };
  const server = await startSimulatorServer({
    port: 0,
    faults: plan,
    mounts: [
      { prefix: '/gateway', simulator: watchedSimulator(gateway, 'gateway', active) },
      { prefix: '/vendor', simulator: watchedSimulator(vendor, 'vendor', active) },
    ],
    // A held answer is gone once its request is logged (the client gave up, and the connection was destroyed).
    logger: (entry) => {
      if (entry.fault !== 'timeout') return;
      // `path` is the whole path here, such as /gateway/v1/charges.
      const [, mount = '', ...below] = entry.path.split('/');
      const watched = watchedOf(mount, entry.method, `/${below.join('/')}`);
      if (watched !== undefined) plan.held[watched].shift();
    },
  });
  const pending = (times: number[], test: (time: number, now: number) => boolean) => {
    const now = Date.now();
    // A request whose handler threw is never logged: what is older than any hold could be is forgotten.
    while (times.length > 0 && now - times[0]! > 60_000) times.shift();
    return times.some((time) => test(time, now));
  };
  return {
    gatewayUrl: `${server.url}/gateway`,
    vendorUrl: `${server.url}/vendor`,
    gateway,
    vendor,
    inFlight: (kind) =>
      active[kind] > 0 ||
      pending(plan.slowUntil[kind], (until, now) => until > now) ||
      pending(plan.held[kind], () => true),
    chargeUnanswered: () => pending(plan.held.charge, (decided, now) => now - decided >= COMMITTED_AFTER_MS),
    faultsInjected: () => ({ ...plan.injected }),
    async close() {
      await server.close();
      await Promise.all([gateway.closeJournal(), vendor.closeJournal()]);
    },
  };
}

/** The simulators' records as their journals in `dataDir` keep them: opened, read and closed. */
export async function simulatorRecordsIn(dataDir: string) {
  const journalDir = simulatorsJournalDir(dataDir);
  const gateway = await PaymentGatewaySimulator.open({ journalDir });
  const vendor = await VendingVendorSimulator.open({ journalDir });
  try {
    return { charges: gateway.charges(), refunds: gateway.refunds(), vends: vendor.vends() };
  } finally {
    await Promise.all([gateway.closeJournal(), vendor.closeJournal()]);
  }
}

/**
 * Both simulators on one port: the payment gateway under `/gateway`, the vending vendor under `/vendor`.
 * Task Lambdas reach them by URL, as they would reach the real providers:
 * `PAYMENT_GATEWAY_URL=http://127.0.0.1:4100/gateway`, `VENDING_VENDOR_URL=http://127.0.0.1:4100/vendor`.
 *
 * With a `dataDir` their state is kept in `<dataDir>/simulators/` (one journal each) and survives kill -9, as a
 * real gateway's and vendor's would: a charge or vend acknowledged before a crash is replayed after it, never
 * made again. Without one (tests), it lives in memory for the life of the process.
 *
 * @example
 * const simulators = await startSimulators({ port: 0, vendor: { slowDelayMs: 50 } });
 * await fetch(`${simulators.gatewayUrl}/v1/charges`, { method: 'POST', headers: { 'Idempotency-Key': id }, body });
 * simulators.gateway.chargeCount(id); // 1
 * await simulators.close();
 */
import { join } from 'node:path';
import { FaultPlan, type FaultPlanOptions } from './faults.ts';
import { type PaymentGatewayOptions, PaymentGatewaySimulator } from './payment-gateway.ts';
import { type SimulatorLogger, startSimulatorServer } from './server.ts';
import { type VendingVendorOptions, VendingVendorSimulator } from './vending-vendor.ts';

/** The port `npm start` should use unless `SIMULATORS_PORT` says otherwise. */
export const DEFAULT_SIMULATORS_PORT = 4100;

export interface SimulatorsOptions {
  /** Default 4100; 0 picks a free port (tests). */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** The system's data directory: the simulators keep their journals in its `simulators/` folder. Default null: in memory. */
  readonly dataDir?: string | null;
  readonly gateway?: PaymentGatewayOptions;
  readonly vendor?: VendingVendorOptions;
  /**
   * Faults to apply in front of both simulators (dropped answers, slow answers, 5xx bursts, timeouts after
   * commit): see faults.ts. Default none. `npm start` reads it from `SIMULATOR_FAULTS`.
   */
  readonly faults?: FaultPlanOptions;
  /** One entry per request (simulator, method, path, status, fault); no bodies. Default: silent. */
  readonly logger?: SimulatorLogger;
}

export interface RunningSimulators {
  /** Such as http://127.0.0.1:4100 */
  readonly url: string;
  readonly port: number;
  /** Base URL of the payment gateway, such as http://127.0.0.1:4100/gateway */
  readonly gatewayUrl: string;
  /** Base URL of the vending vendor, such as http://127.0.0.1:4100/vendor */
  readonly vendorUrl: string;
  readonly gateway: PaymentGatewaySimulator;
  readonly vendor: VendingVendorSimulator;
  /** Forgets all charges and vends (in the data directory too). */
  reset(): void;
  close(): Promise<void>;
}

/** Where the simulators keep their journals in a data directory. */
export function simulatorsJournalDir(dataDir: string): string {
  return join(dataDir, 'simulators');
}

export async function startSimulators(options: SimulatorsOptions = {}): Promise<RunningSimulators> {
  const journalDir = options.dataDir ? simulatorsJournalDir(options.dataDir) : null;
  // Parsed before anything opens, so a bad plan leaves no journal open behind it.
  const faults = options.faults === undefined ? undefined : new FaultPlan(options.faults);
  const gateway = await PaymentGatewaySimulator.open({ ...options.gateway, journalDir });
  let vendor: VendingVendorSimulator;
  try {
    vendor = await VendingVendorSimulator.open({ ...options.vendor, journalDir });
  } catch (error) {
    await gateway.closeJournal();
    throw error;
  }
  const closeJournals = async () => {
    await Promise.all([gateway.closeJournal(), vendor.closeJournal()]);
  };
  let server: Awaited<ReturnType<typeof startSimulatorServer>>;
  try {
    server = await startSimulatorServer({
      port: options.port ?? DEFAULT_SIMULATORS_PORT,
      ...(options.host === undefined ? {} : { host: options.host }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(faults === undefined ? {} : { faults }),
      mounts: [
        { prefix: '/gateway', simulator: gateway },
        { prefix: '/vendor', simulator: vendor },
      ],
    });
  } catch (error) {
    await closeJournals();
    throw error;
  }
  return {
    url: server.url,
    port: server.port,
    gatewayUrl: `${server.url}/gateway`,
    vendorUrl: `${server.url}/vendor`,
    gateway,
    vendor,
    reset: () => {
      gateway.reset();
      vendor.reset();
    },
    close: async () => {
      await server.close();
      await closeJournals();
    },
  };
}

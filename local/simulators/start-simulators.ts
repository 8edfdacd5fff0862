/**
 * Both simulators on one port: the payment gateway under `/gateway`, the vending vendor under `/vendor`.
 * Task Lambdas reach them by URL, as they would reach the real providers:
 * `PAYMENT_GATEWAY_URL=http://127.0.0.1:4100/gateway`, `VENDING_VENDOR_URL=http://127.0.0.1:4100/vendor`.
 * State lives in memory for the life of the process (idempotency holds within a run).
 *
 * @example
 * const simulators = await startSimulators({ port: 0, vendor: { slowDelayMs: 50 } });
 * await fetch(`${simulators.gatewayUrl}/v1/charges`, { method: 'POST', headers: { 'Idempotency-Key': id }, body });
 * simulators.gateway.chargeCount(id); // 1
 * await simulators.close();
 */
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
  readonly gateway?: PaymentGatewayOptions;
  readonly vendor?: VendingVendorOptions;
  /** One entry per request (simulator, method, path, status); no bodies. Default: silent. */
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
  /** Forgets all charges and vends. */
  reset(): void;
  close(): Promise<void>;
}

export async function startSimulators(options: SimulatorsOptions = {}): Promise<RunningSimulators> {
  const gateway = new PaymentGatewaySimulator(options.gateway);
  const vendor = new VendingVendorSimulator(options.vendor);
  const server = await startSimulatorServer({
    port: options.port ?? DEFAULT_SIMULATORS_PORT,
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    mounts: [
      { prefix: '/gateway', simulator: gateway },
      { prefix: '/vendor', simulator: vendor },
    ],
  });
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
    close: () => server.close(),
  };
}

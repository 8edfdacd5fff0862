/**
 * The HTTP plumbing the simulators share: one node:http server that mounts each simulator under a path
 * prefix (`/gateway`, `/vendor`), reads bodies with a size limit, labels every response with
 * `X-Simulator: <name>`, and answers unknown paths with a JSON 404.
 *
 * A simulator is plain logic (`handle` takes a parsed request and returns status, headers and body bytes),
 * so the same object serves HTTP and the in-process API tests use.
 *
 * A fault plan (faults.ts) sits here, in front of the simulators, as a real party's load balancer and network
 * sit in front of it: a fault never changes what a simulator did, only whether and when its answer arrives.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Fault, FaultKind, FaultPlan } from './faults.ts';

/** What a simulator is given for one HTTP request; `path` is relative to the simulator's prefix. */
export interface SimulatorRequest {
  /** Also sent back as the `Request-Id` response header. */
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A simulator's answer; `body` is sent as given (JSON bodies are encoded once, so replays are exact). */
export interface SimulatorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** A response as a journal keeps it, to be replayed after a restart. */
export interface KeptResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The body as UTF-8 text: bodies are JSON.stringify's output, so the bytes come back exactly. */
  readonly body: string;
}

/** The journal's form of a response. */
export function keepResponse(response: SimulatorResponse): KeptResponse {
  return { status: response.status, headers: response.headers, body: response.body.toString('utf8') };
}

/** A kept response, as it was first sent. */
export function keptResponse(kept: KeptResponse): SimulatorResponse {
  return { status: kept.status, headers: kept.headers, body: Buffer.from(kept.body, 'utf8') };
}

export interface Simulator {
  /** Sent as `X-Simulator` on every response. */
  readonly name: string;
  handle(request: SimulatorRequest): Promise<SimulatorResponse>;
  /** An error in this simulator's own error format, for what the server refuses itself (413, 500). */
  errorResponse(status: number, code: string, message: string): SimulatorResponse;
  /**
   * This party's answer when its front door fails before the request reaches it (a fault plan's 5xx): its own
   * "unavailable, nothing was done, retry" error, with the given status.
   */
  unavailable(status: number): SimulatorResponse;
  /** Ends pending slow answers, so a server can close without waiting for them. */
  close(): void;
}

/** One entry per request, without bodies or headers: card tokens and PAN-like input never reach a log. */
export type SimulatorLogger = (entry: {
  readonly simulator: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** The fault the plan applied, when it applied one; for `drop` and `timeout`, `status` was never sent. */
  readonly fault?: FaultKind;
}) => void;

export interface Mount {
  /** Such as '/gateway'; a request for `/gateway/v1/charges` reaches the simulator as `/v1/charges`. */
  readonly prefix: string;
  readonly simulator: Simulator;
}

export interface RunningSimulatorServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Both simulators' bodies are small JSON objects; anything larger is refused with 413. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * Builds a JSON response.
 *
 * @example
 * return jsonResponse(402, { error: { type: 'card_error', code: 'card_declined' } });
 */
export function jsonResponse(
  status: number,
  value: unknown,
  headers: Readonly<Record<string, string>> = {},
): SimulatorResponse {
  return {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: Buffer.from(JSON.stringify(value)),
  };
}

/** The same answer with more headers (an idempotency key's, say). */
export function withHeaders(
  response: SimulatorResponse,
  headers: Readonly<Record<string, string>>,
): SimulatorResponse {
  return { ...response, headers: { ...response.headers, ...headers } };
}

/**
 * Waits `ms` milliseconds, or rejects as soon as `signal` aborts (the simulator is closing).
 *
 * @example
 * await delay(2000, closing.signal);
 */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Error('simulator closed'));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('simulator closed'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Starts one HTTP server for the given simulators and resolves once it listens.
 *
 * @example
 * const server = await startSimulatorServer({ port: 0, mounts: [{ prefix: '/gateway', simulator: gateway }] });
 * await fetch(`${server.url}/gateway/v1/charges/ch_sim_1`);
 * await server.close();
 */
export async function startSimulatorServer(options: {
  readonly port: number;
  readonly host?: string;
  readonly mounts: readonly Mount[];
  readonly logger?: SimulatorLogger;
  /** Faults to apply in front of the simulators; default none. */
  readonly faults?: FaultPlan;
}): Promise<RunningSimulatorServer> {
  const host = options.host ?? '127.0.0.1';
  const log = options.logger ?? (() => {});
  const closing = new AbortController();
  const server = createServer((req, res) => {
    // A client that hangs up mid-answer is not the simulator's problem.
    req.on('error', () => {});
    res.on('error', () => {});
    serve(req, res, options.mounts, log, options.faults, closing.signal).catch(() => {
      // A slow answer cut short by close(), or a journal that could not be written: either way no answer may
      // go out, and the client's retry is what finds out what was kept.
      res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    port,
    close: async () => {
      closing.abort();
      for (const mount of options.mounts) mount.simulator.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  mounts: readonly Mount[],
  log: SimulatorLogger,
  faults: FaultPlan | undefined,
  closing: AbortSignal,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://simulator');
  const mount = mounts.find((m) => url.pathname === m.prefix || url.pathname.startsWith(`${m.prefix}/`));
  const method = req.method ?? 'GET';
  if (!mount) {
    send(res, jsonResponse(404, notFound(url.pathname, mounts)));
    return;
  }
  const name = mount.simulator.name;
  res.setHeader('X-Simulator', name);
  const requestId = `req_sim_${randomUUID().replaceAll('-', '')}`;
  res.setHeader('Request-Id', requestId);
  const path = url.pathname.slice(mount.prefix.length) || '/';
  const body = await readBody(req);
  const fault: Fault | undefined = faults?.decide({ simulator: mount.prefix.slice(1), method, path });
  const logged = (status: number) =>
    log({ simulator: name, method, path: url.pathname, status, ...(fault ? { fault: fault.kind } : {}) });

  if (fault?.kind === 'error') {
    const response = mount.simulator.unavailable(fault.status);
    send(res, response);
    logged(response.status);
    return;
  }
  if (fault?.kind === 'slow') await delay(fault.delayMs, closing);
  const response =
    body === 'too-large'
      ? mount.simulator.errorResponse(
          413,
          'body_too_large',
          `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`,
        )
      : await mount.simulator.handle({
          requestId,
          method,
          path,
          query: url.searchParams,
          headers: req.headers,
          body,
        });
  if (fault?.kind === 'drop' || fault?.kind === 'timeout') {
    // handle() returns only once the simulator's journal holds what it did: the answer alone is lost, and a
    // retry gets it replayed.
    if (fault.kind === 'timeout') await untilClientGivesUp(res, fault.holdMs, closing);
    res.destroy();
    logged(response.status);
    return;
  }
  send(res, response);
  logged(response.status);
}

/** Resolves once the client hangs up, `holdMs` passes or the server closes, whichever comes first. */
function untilClientGivesUp(res: ServerResponse, holdMs: number, closing: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed || closing.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      res.off('close', done);
      closing.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, holdMs);
    res.once('close', done);
    closing.addEventListener('abort', done, { once: true });
  });
}

function notFound(path: string, mounts: readonly Mount[]) {
  return {
    code: 'route_not_found',
    message: `Nothing at ${path}. Simulators here: ${mounts.map((m) => `${m.prefix} (${m.simulator.name})`).join(', ')}.`,
  };
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, response: SimulatorResponse): void {
  if (res.destroyed) return;
  res.writeHead(response.status, { ...response.headers, 'Content-Length': String(response.body.length) });
  res.end(response.body);
}

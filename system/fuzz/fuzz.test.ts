/**
 * `npm run fuzz` in small: a fixed seed against the whole system finds nothing wrong; and the fuzzer finds
 * what is planted in stand-in front-ends (a 500, an echo of the request in the answer and the log, connections
 * never let go), so it cannot pass by failing to look.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCardNumber, luhnValidNumber, passesLuhn } from './card-numbers.ts';
import { createCaseGenerator } from './case-generator.ts';
import { mask } from './checker.ts';
import { FUZZ_KINDS, type ProbeTargets } from './fuzz-case.ts';
import { describeRequest, type FuzzReport, type FuzzTarget, runFuzz } from './fuzzer.ts';
import { formatViolation, summaryLine } from './report.ts';
import { SecretIndex } from './secrets.ts';
import { seededRandom } from './seeded-random.ts';
import { type SystemUnderFuzz, startSystemUnderFuzz } from './system-under-fuzz.ts';

const SEED = 20261124;

function violationsOf(report: FuzzReport): string[] {
  return report.violations.map((violation) => formatViolation(violation).join('\n'));
}

describe('the fuzzer against the whole system', () => {
  let system: SystemUnderFuzz;

  beforeAll(async () => {
    system = await startSystemUnderFuzz();
  }, 90_000);

  afterAll(async () => {
    await system?.close();
  });

  // Every front-end defect the fuzzer found is fixed, each with its own test (replay any with
  // `npm run fuzz -- --seed 20261124 --only N`): sockets of refused WebSocket handshakes kept open (#8, #43), a
  // handshake upgraded on every path (#12), card numbers in headers written with non-ASCII digits or separators
  // (#170, #35), an unknown field's name quoted back (#162). A violation here is a new defect.
  it('finds no violation in 300 requests of every kind and 50 idle sockets from a fixed seed', async () => {
    // Act: 15 s for an answer rather than the command's 5 s, because this process shares two cores with the
    // rest of the suite. At a load average of 11, seven of the 50 WebSocket handshakes sent at once were still
    // unanswered after 5 s. A server that hangs still fails, only 10 s later.
    const report = await runFuzz(system, {
      requests: 300,
      seed: SEED,
      sockets: 50,
      requestTimeoutMs: 15_000,
    });

    // Assess
    expect(violationsOf(report)).toEqual([]);
    expect(report.sent).toBe(300);
    for (const kind of FUZZ_KINDS) expect(report.tallies[kind].sent, kind).toBeGreaterThan(0);
    expect(report.asUnknown.matched).toBe(report.asUnknown.probes);
    expect(report.idleSockets?.opened).toBe(50);
    expect(summaryLine(report)).toMatch(
      /^fuzz PASS seed=20261124 requests=300\/300 sockets=50\/50 .* 5xx=0 .* leaks=0 /,
    );
  }, 180_000);
});

/** A stand-in front-end on 127.0.0.1 whose answers and log lines the test decides. */
interface FakeFrontEnd extends FuzzTarget {
  close(): Promise<void>;
}

interface Received {
  readonly method: string;
  readonly url: string;
  readonly rawHeaders: readonly string[];
  readonly body: string;
}

async function fakeFrontEnd(
  answer: (request: Received) => { status: number; body: string },
  logLine: (request: Received) => string | undefined = () => undefined,
): Promise<FakeFrontEnd> {
  const listeners = new Set<(line: string) => void>();
  const handle = (request: Received) => {
    const line = logLine(request);
    if (line !== undefined) for (const listener of listeners) listener(line);
    const { status, body } = answer(request);
    return `HTTP/1.1 ${status} X\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
  };
  const received = (request: IncomingMessage, body: Buffer): Received => ({
    method: request.method ?? '',
    url: request.url ?? '',
    rawHeaders: request.rawHeaders,
    body: body.toString('utf8'),
  });
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      response.socket?.end(handle(received(request, Buffer.concat(chunks))));
    });
  });
  server.on('upgrade', (request: IncomingMessage, socket: Socket) => {
    socket.on('error', () => undefined);
    socket.end(handle(received(request, Buffer.alloc(0))));
  });
  server.on('clientError', (_error, socket: Socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return targetOf(server, listeners);
}

/** A stand-in that answers 404 and then never lets go of the connection, even once the client has. */
async function fakeFrontEndKeepingConnections(): Promise<FakeFrontEnd> {
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('data', () => {
      socket.write('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const target = targetOf(server, new Set());
  return {
    ...target,
    async close() {
      for (const socket of sockets) socket.destroy();
      await target.close();
    },
  };
}

function targetOf(server: Server | TcpServer, listeners: Set<(line: string) => void>): FakeFrontEnd {
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    allowedOrigin: 'http://127.0.0.1:3000',
    onLogLine(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    openConnections: () =>
      new Promise((resolve, reject) =>
        server.getConnections((error, tcp) => (error ? reject(error) : resolve({ tcp, websockets: 0 }))),
      ),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// Side by side: each runs against a stand-in of its own, and most of their time is the fuzzer's request
// timeouts, which they can as well wait out together.
describe.concurrent('the fuzzer catches what is planted', () => {
  it('a front-end that answers 500: a violation of each kind, named by seed and request', async () => {
    // Prepare
    const fake = await fakeFrontEnd(() => ({
      status: 500,
      body: '{"statusCode":500,"error":"Oops","message":"x"}',
    }));

    // Act
    const report = await runFuzz(fake, { requests: 60, seed: 7, sockets: 2, requestTimeoutMs: 2_000 });
    await fake.close();

    // Assess
    expect(report.passed).toBe(false);
    const serverErrors = report.violations.filter((violation) => violation.rule === 'server-error');
    expect(new Set(serverErrors.map((violation) => violation.kind)).size).toBeGreaterThan(8);
    for (const violation of serverErrors) {
      expect(violation).toMatchObject({ seed: 7, index: expect.any(Number), request: expect.any(String) });
      expect(formatViolation(violation).at(-1)).toBe(
        `      replay:  npm run fuzz -- --seed 7 --only ${violation.index}`,
      );
    }
    expect(report.violations.some((violation) => violation.kind === 'set-up')).toBe(true);
    expect(report.violations.some((violation) => violation.kind === 'idle-sockets')).toBe(true);
    expect(summaryLine(report)).toMatch(/^fuzz FAIL seed=7 requests=60\/60 .* 5xx=\d+ /);
  }, 60_000);

  it('a front-end that repeats the request in its answer and its log: card numbers and tokens leak', async () => {
    // Prepare
    const echo = (request: Received) =>
      `${request.method} ${request.url} ${request.rawHeaders.join(' ')} ${request.body}`;
    const fake = await fakeFrontEnd(
      (request) => ({
        status: 400,
        body: JSON.stringify({ statusCode: 400, error: 'Bad Request', message: echo(request) }),
      }),
      (request) => JSON.stringify({ level: 30, msg: 'incoming request', request: echo(request) }),
    );

    // Act
    const report = await runFuzz(fake, { requests: 120, seed: 12, sockets: 0, requestTimeoutMs: 2_000 });
    await fake.close();

    // Assess
    const details = (rule: string) =>
      report.violations.filter((violation) => violation.rule === rule).map((violation) => violation.detail);
    expect(details('leak')).toContainEqual(
      expect.stringMatching(/^a card number \(ending \d{4}\) came back$/),
    );
    expect(details('leak')).toContainEqual(expect.stringMatching(/^payment [ABC]'s status token came back$/));
    expect(details('log-leak')).toContainEqual(
      expect.stringMatching(/^a card number \(ending \d{4}\) in a log line$/),
    );
    expect(details('log-leak')).toContainEqual(expect.stringMatching(/status token in a log line$/));
    expect(details('not-as-unknown').length).toBeGreaterThan(0);
    // What is printed of a leak masks it.
    for (const violation of report.violations)
      expect(passesLuhnSomewhere(violation.answer ?? '')).toBe(false);
  }, 60_000);

  it('a front-end that never lets go of a connection', async () => {
    // Prepare
    const fake = await fakeFrontEndKeepingConnections();

    // Act
    const report = await runFuzz(fake, { requests: 10, seed: 3, sockets: 0, requestTimeoutMs: 1_000 });
    await fake.close();

    // Assess
    expect(
      report.violations.filter((violation) => violation.rule === 'connection-kept').length,
    ).toBeGreaterThan(0);
  }, 60_000);
});

describe('reproducing a run', () => {
  const targets: ProbeTargets = {
    host: '127.0.0.1:3000',
    allowedOrigin: 'http://127.0.0.1:3000',
    payments: ['A', 'B', 'C'].map((letter, i) => ({
      label: `payment ${letter}`,
      paymentId: `pay_${String(i).repeat(32)}`,
      statusToken: letter.repeat(43),
      meterId: '1200000000011',
    })),
  };
  const requestsOf = (seed: number, count: number) => {
    const cases = createCaseGenerator(seed, targets);
    return Array.from({ length: count }, (_, index) => {
      const fuzzCase = cases.next(index);
      return `${fuzzCase.kind} ${fuzzCase.variant} ${describeRequest(fuzzCase.request)} ${fuzzCase.request.body?.toString('base64') ?? ''}`;
    });
  };

  it('makes the same requests from the same seed, and others from another', () => {
    // Act
    const first = requestsOf(99, 500);
    const again = requestsOf(99, 500);
    const other = requestsOf(100, 500);

    // Assess
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it('draws every kind within a few hundred requests', () => {
    // Act
    const kinds = new Set(requestsOf(SEED, 300).map((request) => request.split(' ')[0]));

    // Assess
    expect([...kinds].sort()).toEqual([...FUZZ_KINDS].sort());
  });
});

describe('card numbers and secrets', () => {
  it.each([1, 2, 3, 4, 5])(
    'generates Luhn-valid numbers the index finds however written (seed %i)',
    (seed) => {
      // Prepare
      const random = seededRandom(seed);
      const secrets = new SecretIndex();
      const digits = luhnValidNumber(random);
      secrets.addCard(digits);
      const written = formatCardNumber(random, digits);

      // Act
      const views = [
        written,
        encodeURIComponent(written),
        JSON.stringify(written).replace(
          /[\u0080-\uffff]/g,
          (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
        ),
        Buffer.from(written, 'utf8').toString('latin1'),
      ];

      // Assess
      expect(passesLuhn(digits)).toBe(true);
      expect(digits).toMatch(/^[0-9]{13,19}$/);
      for (const view of views) expect(secrets.cardsIn(`{"message":"${view}"}`), view).toEqual([digits]);
      expect(mask(written)).toBe('[card number]');
    },
  );

  it('finds a status token, or a piece of one, and says whose', () => {
    // Prepare
    const secrets = new SecretIndex();
    const token = 'uBn7gfHsD4--NOi4BEU5RgLXfDbt2R2tg-rI6lB81LE';
    secrets.addToken(token, 'payment A');

    // Act
    const found = [
      secrets.tokenOwnersIn(`?token=${token}`),
      secrets.tokenOwnersIn(`x${token.slice(10, 31)}y`),
    ];
    const notFound = secrets.tokenOwnersIn(token.slice(0, 19));

    // Assess
    expect(found).toEqual([['payment A'], ['payment A']]);
    expect(notFound).toEqual([]);
  });
});

function passesLuhnSomewhere(text: string): boolean {
  return (text.match(/[0-9]{13,19}/g) ?? []).some(passesLuhn);
}

/**
 * Abuse of the events WebSocket: handshakes that are not WebSocket handshakes (or not to a socket path),
 * Origins outside the allowlist, and, on a socket opened for real, frames no client should send. The server
 * takes nothing from clients on this socket (`maxPayload` 1 KiB, every message ignored), so a valid message
 * is ignored and an invalid frame closes the socket with RFC 6455's code for what is wrong with it.
 */
import { formatCardNumber, luhnValidNumber } from './card-numbers.ts';
import type { CaseDraft, RequestKit } from './fuzz-case.ts';
import { clientFrame, OPCODE } from './raw-websocket.ts';

const MAX_PAYLOAD_BYTES = 1024;
const CLOSE = { normal: 1000, protocolError: 1002, invalidData: 1007, tooBig: 1009 } as const;

/** Handshakes that must be refused before any upgrade (4xx). */
export function socketHandshakes(kit: RequestKit): CaseDraft {
  const { random } = kit;
  const payment = kit.payment();
  const events = kit.eventsTarget(payment.paymentId, payment.statusToken);
  const refused = (variant: string, request: CaseDraft['request']): CaseDraft => ({
    type: 'http',
    variant,
    request,
    expect: {},
  });
  const variants: Array<() => CaseDraft> = [
    () => refused('no Sec-WebSocket-Key', kit.upgrade(events, { key: null })),
    () => {
      // None of these is 16 bytes in base64.
      const key = random.pick([
        '',
        'abc',
        'not base64!!',
        ...[8, 15, 17, 32].map((size) => random.bytes(size).toString('base64')),
      ]);
      return refused(`Sec-WebSocket-Key ${JSON.stringify(key)}`, kit.upgrade(events, { key }));
    },
    () => {
      const version = random.pick(['0', '7', '12', '14', '99', 'abc', '13, 8', '']);
      return refused(`Sec-WebSocket-Version ${JSON.stringify(version)}`, kit.upgrade(events, { version }));
    },
    () => refused('no Sec-WebSocket-Version', kit.upgrade(events, { version: null })),
    () => {
      const upgrade = random.pick(['h2c', 'websocket2', 'WebSocket/13', 'tls/1.0']);
      return refused(`Upgrade: ${upgrade}`, kit.upgrade(events, { upgrade }));
    },
    () => refused('Upgrade without Connection: upgrade', kit.upgrade(events, { connection: 'keep-alive' })),
    () =>
      refused(
        'a handshake with a Content-Encoding',
        kit.upgrade(events, { headers: [['Content-Encoding', 'gzip']] }),
      ),
    () =>
      refused(
        'a POST handshake',
        kit.upgrade(events, { method: 'POST', headers: [['Content-Length', '0']] }),
      ),
    () => {
      // A client that got the socket's path wrong: the handshake reaches a path that serves no socket.
      const target = random.pick([
        `/api/payments/${payment.paymentId}?token=${payment.statusToken}`,
        `/api/payments/${payment.paymentId}`,
        `/health?token=${payment.statusToken}`,
        '/',
        '/docs',
        `/api/events?token=${payment.statusToken}`,
        `/api/payments?token=${payment.statusToken}`,
      ]);
      return refused(
        `a handshake to ${target.replace(/\?.*/, '?token=…').replace(/pay_[0-9a-f]+/, '{paymentId}')}`,
        kit.upgrade(target, { headers: [['Authorization', `Bearer ${payment.statusToken}`]] }),
      );
    },
  ];
  return random.pick(variants)();
}

/** Origins the allowlist does not hold: refused with 403 before the token is even looked at. */
export function socketOrigins(kit: RequestKit): CaseDraft {
  const { random, targets } = kit;
  const allowed = targets.allowedOrigin;
  const payment = kit.payment();
  const origin = random.pick([
    'http://evil.example',
    'null',
    'http://127.0.0.1:1',
    `${allowed}/`,
    allowed.toUpperCase(),
    allowed.replace('http://', 'https://'),
    `${allowed}.evil.example`,
    `${allowed}, http://evil.example`,
    'file://',
    '',
    ' ',
    'http://localhost',
  ]);
  const twice = random.chance(0.15);
  const token = random.chance(0.8) ? payment.statusToken : kit.forgedToken();
  const request = kit.upgrade(kit.eventsTarget(payment.paymentId, token), {
    origin: twice ? allowed : origin,
    ...(twice ? { headers: [['Origin', random.pick([allowed, 'http://evil.example'])]] } : {}),
  });
  return {
    type: 'http',
    variant: twice ? 'Origin twice' : `Origin ${JSON.stringify(origin)}`,
    request,
    expect: { statuses: [403], code: 'origin_not_allowed' },
    forgedTokens: token === payment.statusToken ? [] : [token],
  };
}

/** Frames on a socket opened for real, with the payment's own token. */
export function socketMessages(kit: RequestKit): CaseDraft {
  const { random } = kit;
  const payment = kit.payment();
  const maskKey = kit.maskKey();
  const frame = (options: Omit<Parameters<typeof clientFrame>[0], 'maskKey'>) =>
    clientFrame({ ...options, maskKey });
  const text = (payload: string | Buffer) => frame({ opcode: OPCODE.text, payload: Buffer.from(payload) });
  const ignored = (
    variant: string,
    frames: Buffer[],
    options: { cards?: string[]; mayDropSocket?: boolean } = {},
  ): CaseDraft => ({
    type: 'socket',
    variant,
    request: kit.upgrade(kit.eventsTarget(payment.paymentId, payment.statusToken)),
    frames,
    finish: 'close',
    maskKey,
    expect: {
      statuses: [101],
      closeCodes: [CLOSE.normal],
      minMessages: 1,
      ownPayment: payment.label,
      ...(options.mayDropSocket ? { mayDropSocket: true } : {}),
    },
    cards: options.cards ?? [],
  });
  const closedWith = (variant: string, code: number, frames: Buffer[]): CaseDraft => ({
    type: 'socket',
    variant,
    request: kit.upgrade(kit.eventsTarget(payment.paymentId, payment.statusToken)),
    frames,
    finish: 'await-close',
    maskKey,
    // The server may drop the connection as it closes it: a refusal either way.
    expect: {
      statuses: [101],
      closeCodes: [code],
      mayDropSocket: true,
      minMessages: 1,
      ownPayment: payment.label,
    },
  });
  const variants: Array<() => CaseDraft> = [
    () => {
      const size = random.int(MAX_PAYLOAD_BYTES + 1, 64 * 1024);
      return closedWith(`a text message of ${size} bytes`, CLOSE.tooBig, [text(random.letters(size))]);
    },
    () => {
      const size = random.int(MAX_PAYLOAD_BYTES + 1, 64 * 1024);
      return closedWith(`a binary message of ${size} bytes`, CLOSE.tooBig, [
        frame({ opcode: OPCODE.binary, payload: random.bytes(size) }),
      ]);
    },
    () =>
      closedWith('a message fragmented past the limit', CLOSE.tooBig, [
        frame({ opcode: OPCODE.text, payload: Buffer.from(random.letters(600)), fin: false }),
        frame({ opcode: OPCODE.continuation, payload: Buffer.from(random.letters(600)), fin: false }),
        frame({ opcode: OPCODE.continuation, payload: Buffer.from('x') }),
      ]),
    () => {
      // The header claims 2^40 bytes; none follow.
      const header = Buffer.from([0x81, 0xff, 0, 0, 0x01, 0, 0, 0, 0, 0]);
      return closedWith('a frame declaring a terabyte', CLOSE.tooBig, [Buffer.concat([header, maskKey])]);
    },
    () =>
      ignored('a small binary message', [
        frame({ opcode: OPCODE.binary, payload: random.bytes(random.int(1, MAX_PAYLOAD_BYTES)) }),
      ]),
    () => {
      const digits = luhnValidNumber(random);
      return ignored('a card number in a message', [text(`card ${formatCardNumber(random, digits)}`)], {
        cards: [digits],
      });
    },
    () =>
      ignored('another payment’s status token in a message', [
        text(JSON.stringify({ token: kit.payment(payment).statusToken })),
      ]),
    () => {
      const count = random.int(100, 2_000);
      return ignored(
        `a flood of ${count} messages`,
        Array.from({ length: count }, () => text(random.letters(random.int(1, 64)))),
      );
    },
    () => {
      // ws answers each ping with a pong, and hangs up on a client with more than 60 pongs unsent.
      const count = random.int(50, 500);
      return ignored(
        `a flood of ${count} pings`,
        Array.from({ length: count }, () =>
          frame({ opcode: OPCODE.ping, payload: random.bytes(random.int(0, 125)) }),
        ),
        { mayDropSocket: true },
      );
    },
    () => {
      const bytes = random.pick([
        [0xc3, 0x28],
        [0xff],
        [0xed, 0xa0, 0x80],
        [0xc0, 0xaf],
        [0xf4, 0x90, 0x80, 0x80],
      ]);
      return closedWith('text that is not UTF-8', CLOSE.invalidData, [text(Buffer.from(bytes))]);
    },
    () =>
      closedWith('an unmasked frame', CLOSE.protocolError, [
        frame({ opcode: OPCODE.text, payload: Buffer.from('hi'), masked: false }),
      ]),
    () => {
      const opcode = random.pick([0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf]);
      return closedWith(`reserved opcode ${opcode}`, CLOSE.protocolError, [
        frame({ opcode, payload: Buffer.from('x') }),
      ]);
    },
    () => {
      const reserved = random.int(1, 7);
      return closedWith(`reserved bits ${reserved}`, CLOSE.protocolError, [
        frame({ opcode: OPCODE.text, payload: Buffer.from('x'), reserved }),
      ]);
    },
    () =>
      closedWith('a continuation with nothing to continue', CLOSE.protocolError, [
        frame({ opcode: OPCODE.continuation, payload: Buffer.from('x') }),
      ]),
    () =>
      closedWith('a ping longer than a control frame may be', CLOSE.protocolError, [
        frame({ opcode: OPCODE.ping, payload: random.bytes(random.int(126, 300)) }),
      ]),
    () =>
      closedWith('a fragmented ping', CLOSE.protocolError, [
        frame({ opcode: OPCODE.ping, payload: Buffer.from('x'), fin: false }),
      ]),
    () => {
      const code = random.pick([0, 999, 1004, 1005, 1006, 1015, 2999, 5000]);
      const payload = Buffer.alloc(2);
      payload.writeUInt16BE(code, 0);
      return closedWith(`a close with code ${code}`, CLOSE.protocolError, [
        frame({ opcode: OPCODE.close, payload }),
      ]);
    },
  ];
  return random.pick(variants)();
}

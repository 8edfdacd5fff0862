/**
 * WebSocket frames written by hand (RFC 6455 §5), so the fuzzer can send what no client library would: frames
 * without a mask, reserved opcodes and bits, text that is not UTF-8, control frames too long, floods. And a
 * session runner: after the handshake, send the frames, then either close normally or wait for the server to
 * close, and note every message and the close code it sent.
 *
 * @example
 * const frame = clientFrame({ opcode: OPCODE.text, payload: Buffer.from('hi'), maskKey: Buffer.alloc(4) });
 */
import { exchange, type HttpAnswer } from './raw-http.ts';

export const OPCODE = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

/** A client frame: masked unless told otherwise, as a client must (§5.3). */
export function clientFrame(options: {
  readonly opcode: number;
  readonly payload: Buffer;
  readonly maskKey: Buffer;
  readonly fin?: boolean;
  readonly masked?: boolean;
  /** The three reserved bits, as a number 0 to 7. */
  readonly reserved?: number;
}): Buffer {
  const { payload } = options;
  const masked = options.masked !== false;
  const first =
    ((options.fin === false ? 0 : 1) << 7) | ((options.reserved ?? 0) << 4) | (options.opcode & 0x0f);
  let lengthBytes: Buffer;
  if (payload.length < 126) {
    lengthBytes = Buffer.from([(masked ? 0x80 : 0) | payload.length]);
  } else if (payload.length < 65_536) {
    lengthBytes = Buffer.alloc(3);
    lengthBytes[0] = (masked ? 0x80 : 0) | 126;
    lengthBytes.writeUInt16BE(payload.length, 1);
  } else {
    lengthBytes = Buffer.alloc(9);
    lengthBytes[0] = (masked ? 0x80 : 0) | 127;
    lengthBytes.writeBigUInt64BE(BigInt(payload.length), 1);
  }
  if (!masked) return Buffer.concat([Buffer.from([first]), lengthBytes, payload]);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i += 1) body[i] = body[i]! ^ options.maskKey[i % 4]!;
  return Buffer.concat([Buffer.from([first]), lengthBytes, options.maskKey.subarray(0, 4), body]);
}

/** A close frame with `code` (and no reason). */
export function closeFrame(code: number, maskKey: Buffer): Buffer {
  const payload = Buffer.alloc(2);
  payload.writeUInt16BE(code, 0);
  return clientFrame({ opcode: OPCODE.close, payload, maskKey });
}

interface ServerFrame {
  readonly opcode: number;
  readonly payload: Buffer;
}

/** Reads server frames (unmasked) from a byte stream; `push` returns the frames now complete. */
export class FrameReader {
  #pending = Buffer.alloc(0);

  push(bytes: Buffer): ServerFrame[] {
    this.#pending = Buffer.concat([this.#pending, bytes]);
    const frames: ServerFrame[] = [];
    for (;;) {
      const frame = this.#next();
      if (!frame) return frames;
      frames.push(frame);
    }
  }

  #next(): ServerFrame | undefined {
    const bytes = this.#pending;
    if (bytes.length < 2) return undefined;
    const masked = (bytes[1]! & 0x80) !== 0;
    let length = bytes[1]! & 0x7f;
    let at = 2;
    if (length === 126) {
      if (bytes.length < 4) return undefined;
      length = bytes.readUInt16BE(2);
      at = 4;
    } else if (length === 127) {
      if (bytes.length < 10) return undefined;
      length = Number(bytes.readBigUInt64BE(2));
      at = 10;
    }
    const mask = masked ? bytes.subarray(at, at + 4) : undefined;
    if (masked) at += 4;
    if (bytes.length < at + length) return undefined;
    const payload = Buffer.from(bytes.subarray(at, at + length));
    if (mask) for (let i = 0; i < payload.length; i += 1) payload[i] = payload[i]! ^ mask[i % 4]!;
    this.#pending = bytes.subarray(at + length);
    return { opcode: bytes[0]! & 0x0f, payload };
  }
}

export interface SocketSession {
  /** The handshake's answer; `upgraded` when it was 101. */
  readonly handshake: HttpAnswer | undefined;
  readonly upgraded: boolean;
  /** Text messages the server sent. */
  readonly messages: readonly string[];
  /** The code of the server's close frame, if it sent one. */
  readonly closeCode: number | undefined;
  /** The connection ended (after a close frame or without one). */
  readonly ended: boolean;
  readonly timedOut: boolean;
  /** What came back when the handshake got no HTTP answer at all. */
  readonly unanswered?: 'closed' | 'timed-out';
}

/**
 * Opens a socket with `handshake`, sends `frames`, then `finish`: `'close'` sends a normal close (1000) and
 * waits for the server's, `'await-close'` waits for the server to close on its own.
 */
export async function runSocketSession(options: {
  readonly port: number;
  readonly handshake: Buffer;
  readonly frames: readonly Buffer[];
  readonly finish: 'close' | 'await-close';
  readonly maskKey: Buffer;
  readonly timeoutMs: number;
  /** Before sending frames, wait for this many messages (the payment's history), up to the timeout. */
  readonly awaitMessages?: number;
}): Promise<SocketSession> {
  const opened = await exchange({
    port: options.port,
    bytes: options.handshake,
    timeoutMs: options.timeoutMs,
    keepOpen: true,
  });
  if (opened.outcome !== 'answered') {
    return {
      handshake: undefined,
      upgraded: false,
      messages: [],
      closeCode: undefined,
      ended: true,
      timedOut: false,
      unanswered: opened.outcome,
    };
  }
  const socket = opened.socket;
  if (opened.answer.status !== 101 || socket === undefined) {
    return {
      handshake: opened.answer,
      upgraded: false,
      messages: [],
      closeCode: undefined,
      ended: true,
      timedOut: false,
    };
  }
  return new Promise((resolve) => {
    const messages: string[] = [];
    const reader = new FrameReader();
    let closeCode: number | undefined;
    let settled = false;
    const settle = (ended: boolean, timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ handshake: opened.answer, upgraded: true, messages, closeCode, ended, timedOut });
    };
    const timer = setTimeout(() => settle(false, true), options.timeoutMs);
    let sent = false;
    const send = () => {
      if (sent || settled) return;
      sent = true;
      for (const frame of options.frames) socket.write(frame);
      if (options.finish === 'close') socket.write(closeFrame(1000, options.maskKey));
    };
    const take = (bytes: Buffer) => {
      for (const frame of reader.push(bytes)) {
        if (frame.opcode === OPCODE.text) messages.push(frame.payload.toString('utf8'));
        if (frame.opcode === OPCODE.close) {
          closeCode = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : undefined;
          // Answer the close as a client must, then let the server end the connection.
          socket.end(
            closeFrame(closeCode === undefined || closeCode === 1005 ? 1000 : closeCode, options.maskKey),
          );
        }
      }
      if (!sent && messages.length >= (options.awaitMessages ?? 0)) send();
    };
    socket.on('data', take);
    socket.on('error', () => undefined);
    socket.on('close', () => settle(true, false));
    take(opened.rest);
    if (!sent) {
      // The history may be shorter than hoped: send anyway after a while.
      setTimeout(send, Math.min(1_000, options.timeoutMs / 3)).unref();
    }
  });
}

/**
 * Reading a request's body whole, bounded: shared by the JSON/REST-JSON server and S3's REST-XML protocol.
 * A body over the bound is refused; what is left of it is read and dropped, up to a second bound, so the
 * client can read the answer (hanging up mid-upload would reset the connection before it sees it).
 */
import type { IncomingMessage } from 'node:http';

/** The client hung up before its request was complete; there is no one to answer. */
export class ClientGone extends Error {}

export interface BodyLimit {
  /** The largest body accepted. */
  readonly maxBytes: number;
  /** The error a larger one is refused with, given its size (declared, or read so far). */
  readonly tooLarge: (bytes: number) => Error;
  /** After refusing a body, read and drop at most this much more of it before hanging up. */
  readonly drainBytes: number;
}

export function readBody(req: IncomingMessage, limit: BodyLimit): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > limit.maxBytes) {
    drain(req, limit.drainBytes);
    return Promise.reject(limit.tooLarge(declared));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (action: () => void) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      action();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit.maxBytes) {
        settle(() => {
          chunks.length = 0;
          drain(req, limit.drainBytes);
          reject(limit.tooLarge(size));
        });
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => settle(() => resolve(Buffer.concat(chunks, size))));
    req.once('close', () => {
      if (!req.complete) settle(() => reject(new ClientGone()));
    });
    req.once('error', () => settle(() => reject(new ClientGone())));
  });
}

/** Reads and drops the rest of a refused request's body, hanging up past `maxBytes`. */
export function drain(req: IncomingMessage, maxBytes: number): void {
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > maxBytes) req.socket?.destroy();
  });
  req.resume();
}

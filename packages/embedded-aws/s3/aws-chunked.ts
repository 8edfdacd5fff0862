/**
 * The `aws-chunked` content encoding S3 uploads may use (SigV4 streaming): the body is a series of chunks,
 * each `<size in hex>[;chunk-signature=<sig>]\r\n<bytes>\r\n`, ended by a chunk of size 0, optionally followed
 * by trailing headers (`x-amz-checksum-crc32:<base64>\r\n`) and an empty line. SDK v3 clients send streamed
 * bodies this way, with their checksum in the trailer (`x-amz-content-sha256:
 * STREAMING-UNSIGNED-PAYLOAD-TRAILER`, `x-amz-trailer: x-amz-checksum-crc32`); other clients sign each chunk
 * (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`). Signatures are not checked here, as no signature is.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { s3Errors } from './errors.ts';

export interface DecodedBody {
  readonly body: Buffer;
  /** Trailing headers, names in lowercase. */
  readonly trailers: Readonly<Record<string, string>>;
}

/** Whether a request's body is aws-chunked. */
export function isAwsChunked(headers: IncomingHttpHeaders): boolean {
  const encoding = headers['content-encoding'] ?? '';
  const sha = headers['x-amz-content-sha256'];
  return (
    encoding
      .split(',')
      .map((part) => part.trim().toLowerCase())
      .includes('aws-chunked') ||
    (typeof sha === 'string' && sha.startsWith('STREAMING-'))
  );
}

/** The Content-Encoding to keep with the object: the request's, without `aws-chunked`. */
export function storedContentEncoding(headers: IncomingHttpHeaders): string | undefined {
  const kept = (headers['content-encoding'] ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '' && part.toLowerCase() !== 'aws-chunked');
  return kept.length === 0 ? undefined : kept.join(', ');
}

const CRLF = Buffer.from('\r\n');

/**
 * The payload of an aws-chunked body and its trailers; IncompleteBody when the framing is cut short or broken,
 * or when `x-amz-decoded-content-length` disagrees with what the chunks hold.
 */
export function decodeAwsChunked(raw: Buffer, decodedLength: string | undefined): DecodedBody {
  const chunks: Buffer[] = [];
  let size = 0;
  let position = 0;
  for (;;) {
    const lineEnd = raw.indexOf(CRLF, position);
    if (lineEnd === -1) throw s3Errors.incompleteBody();
    const header = raw.toString('latin1', position, lineEnd);
    const sizeText = header.split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw s3Errors.incompleteBody();
    const chunkSize = Number.parseInt(sizeText, 16);
    position = lineEnd + CRLF.length;
    if (chunkSize === 0) break;
    if (position + chunkSize + CRLF.length > raw.length) throw s3Errors.incompleteBody();
    chunks.push(raw.subarray(position, position + chunkSize));
    size += chunkSize;
    position += chunkSize;
    if (!raw.subarray(position, position + CRLF.length).equals(CRLF)) throw s3Errors.incompleteBody();
    position += CRLF.length;
  }
  const trailers: Record<string, string> = {};
  for (const line of raw.toString('latin1', position).split('\r\n')) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw s3Errors.incompleteBody();
    trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  if (decodedLength !== undefined && Number(decodedLength) !== size) throw s3Errors.incompleteBody();
  return { body: Buffer.concat(chunks, size), trailers };
}

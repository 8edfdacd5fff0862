/**
 * Opaque page tokens for List* and GetExecutionHistory. A token names the listing it belongs to, so one
 * taken from another listing (or made up) is refused with InvalidToken, as AWS refuses it.
 */
import { InvalidToken } from './errors.ts';

export function encodePageToken(offset: number, listing: string): string {
  return Buffer.from(JSON.stringify({ o: offset, l: listing })).toString('base64');
}

export function decodePageToken(token: string, listing: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { o?: unknown; l?: unknown };
    if (typeof parsed.o === 'number' && Number.isInteger(parsed.o) && parsed.o >= 0 && parsed.l === listing)
      return parsed.o;
  } catch {
    // fall through: not one of ours
  }
  throw new InvalidToken(`Invalid Token: '${token}'`);
}

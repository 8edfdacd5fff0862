/**
 * The MD5 digests SQS returns with every message, computed exactly as SQS computes them so clients that check
 * them (the SDK v3 checks MD5OfMessageBody on SendMessage, SendMessageBatch and ReceiveMessage and throws on a
 * mismatch; the Java SDK also checks the attribute digest) accept our answers.
 *
 * MD5OfMessageBody: the MD5 of the body's UTF-8 bytes, as lowercase hex.
 *
 * MD5OfMessageAttributes (and MD5OfMessageSystemAttributes, the same over the system attributes): the
 * attributes sorted by name, and for each one, appended in this order:
 *   the name's UTF-8 length (4 bytes, big-endian) and bytes;
 *   the DataType's UTF-8 length and bytes;
 *   one transport byte: 1 for String and Number types (and their custom subtypes), 2 for Binary;
 *   the value's length and bytes: the StringValue's UTF-8 bytes, or the BinaryValue's raw bytes.
 */
import { createHash } from 'node:crypto';

/** A message attribute as the wire and the journal carry it: BinaryValue is base64. */
export interface MessageAttributeValue {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: string;
}

/**
 * @example
 * md5OfBody('hello'); // '5d41402abc4b2a76b9719d911017c592'
 */
export function md5OfBody(body: string): string {
  return createHash('md5').update(body, 'utf8').digest('hex');
}

/**
 * @example
 * md5OfAttributes({ city: { DataType: 'String', StringValue: 'Leeds' } });
 */
export function md5OfAttributes(attributes: Readonly<Record<string, MessageAttributeValue>>): string {
  const hash = createHash('md5');
  // SQS sorts by name in code-point order; JavaScript's default sort is UTF-16 order, which differs only
  // for names with characters above U+FFFF, and attribute names are restricted to ASCII.
  for (const name of Object.keys(attributes).sort()) {
    const value = attributes[name]!;
    hash.update(lengthPrefixed(Buffer.from(name, 'utf8')));
    hash.update(lengthPrefixed(Buffer.from(value.DataType, 'utf8')));
    if (value.BinaryValue !== undefined && isBinaryType(value.DataType)) {
      hash.update(Uint8Array.of(2));
      hash.update(lengthPrefixed(Buffer.from(value.BinaryValue, 'base64')));
    } else {
      hash.update(Uint8Array.of(1));
      hash.update(lengthPrefixed(Buffer.from(value.StringValue ?? '', 'utf8')));
    }
  }
  return hash.digest('hex');
}

/** `Binary` or `Binary.<custom>`. */
export function isBinaryType(dataType: string): boolean {
  return dataType === 'Binary' || dataType.startsWith('Binary.');
}

function lengthPrefixed(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + bytes.length);
  out.writeUInt32BE(bytes.length, 0);
  bytes.copy(out, 4);
  return out;
}

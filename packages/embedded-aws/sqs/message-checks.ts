/**
 * What SendMessage and SendMessageBatch check about a message before any queue is looked at: the body's
 * characters, the message attributes (at most 10, names, data types, values), AWSTraceHeader, the FIFO ids,
 * and the size counted against MaximumMessageSize (body plus every attribute's name, type and value bytes).
 *
 * The rules are the API reference's (SendMessage, MessageAttributeValue). The error texts follow what SQS is
 * reported to answer where known and are guesses otherwise; the error codes are SQS's.
 */
import { sqsErrors } from './errors.ts';
import { isBinaryType, type MessageAttributeValue, md5OfAttributes, md5OfBody } from './md5.ts';
import type { NewMessage } from './sqs-engine.ts';

/** SendMessage's input members that describe the message (also a SendMessageBatch entry's). */
export interface MessageInput {
  readonly MessageBody?: unknown;
  readonly DelaySeconds?: unknown;
  readonly MessageAttributes?: unknown;
  readonly MessageSystemAttributes?: unknown;
  readonly MessageDeduplicationId?: unknown;
  readonly MessageGroupId?: unknown;
}

/** A checked message and the digests SendMessage returns. */
export interface CheckedMessage {
  readonly message: NewMessage;
  readonly md5OfMessageAttributes?: string;
  readonly md5OfMessageSystemAttributes?: string;
}

const MAX_ATTRIBUTES = 10;
/** XML 1.0's characters: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are the point
const INVALID_BODY_CHARACTER = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;
/** Alphanumerics and punctuation, as the reference allows for group and deduplication ids. */
const FIFO_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

/**
 * Checks one message; throws the AwsError SQS would answer.
 *
 * @example
 * const { message } = checkMessage({ MessageBody: 'hello' });
 * message.md5; // '5d41402abc4b2a76b9719d911017c592'
 */
export function checkMessage(input: MessageInput): CheckedMessage {
  const body = input.MessageBody;
  if (body === undefined || body === null || body === '') throw sqsErrors.missingParameter('MessageBody');
  if (typeof body !== 'string') throw sqsErrors.serialization('MessageBody must be a string');
  const bad = INVALID_BODY_CHARACTER.exec(body);
  if (bad) {
    throw sqsErrors.invalidMessageContents(
      `Invalid binary character '#x${bad[0].codePointAt(0)!.toString(16).toUpperCase()}' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF`,
    );
  }
  let delaySeconds: number | undefined;
  if (input.DelaySeconds !== undefined && input.DelaySeconds !== null) {
    const delay = input.DelaySeconds;
    if (typeof delay !== 'number' || !Number.isInteger(delay))
      throw sqsErrors.serialization('DelaySeconds must be an integer');
    if (delay < 0 || delay > 900) {
      throw sqsErrors.invalidParameter('DelaySeconds', delay, 'DelaySeconds must be >= 0 and <= 900.');
    }
    delaySeconds = delay;
  }
  const attributes = checkAttributes(input.MessageAttributes, 'MessageAttributes');
  const system = checkSystemAttributes(input.MessageSystemAttributes);
  const groupId = fifoId(input.MessageGroupId, 'MessageGroupId');
  const deduplicationId = fifoId(input.MessageDeduplicationId, 'MessageDeduplicationId');
  let size = Buffer.byteLength(body, 'utf8');
  for (const [name, value] of Object.entries(attributes ?? {})) size += attributeSize(name, value);
  const md5OfMessageAttributes = attributes ? md5OfAttributes(attributes) : undefined;
  const md5OfMessageSystemAttributes = system ? md5OfAttributes(system) : undefined;
  return {
    message: {
      body,
      md5: md5OfBody(body),
      ...(attributes ? { attributes } : {}),
      ...(system ? { systemAttributes: system, md5OfSystemAttributes: md5OfMessageSystemAttributes! } : {}),
      size,
      ...(delaySeconds === undefined ? {} : { delaySeconds }),
      ...(groupId === undefined ? {} : { groupId }),
      ...(deduplicationId === undefined ? {} : { deduplicationId }),
    },
    ...(md5OfMessageAttributes ? { md5OfMessageAttributes } : {}),
    ...(md5OfMessageSystemAttributes ? { md5OfMessageSystemAttributes } : {}),
  };
}

function fifoId(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw sqsErrors.serialization(`${name} must be a string`);
  if (!FIFO_ID.test(value)) {
    throw sqsErrors.invalidParameter(
      name,
      value,
      `${name} can only include alphanumeric and punctuation characters. 1 to 128 in length.`,
    );
  }
  return value;
}

function attributeSize(name: string, value: MessageAttributeValue): number {
  const data =
    value.BinaryValue !== undefined
      ? Buffer.from(value.BinaryValue, 'base64').length
      : Buffer.byteLength(value.StringValue ?? '', 'utf8');
  return Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value.DataType, 'utf8') + data;
}

function checkAttributes(raw: unknown, member: string): Record<string, MessageAttributeValue> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw sqsErrors.serialization(`${member} must be a map`);
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length === 0) return undefined;
  if (entries.length > MAX_ATTRIBUTES) {
    throw sqsErrors.invalidParameterValue(
      `Number of message attributes [${entries.length}] exceeds the allowed maximum [${MAX_ATTRIBUTES}].`,
    );
  }
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of entries) {
    const lower = name.toLowerCase();
    if (
      !ATTRIBUTE_NAME.test(name) ||
      name.startsWith('.') ||
      name.endsWith('.') ||
      name.includes('..') ||
      lower.startsWith('aws.') ||
      lower.startsWith('amazon.')
    ) {
      throw sqsErrors.invalidParameterValue(
        `Message (user) attribute name '${name}' is invalid. The attribute name can contain A-Z, a-z, 0-9, underscore (_), hyphen (-), and period (.) characters. It can't start or end with a period, contain successive periods, or start with 'AWS.' or 'Amazon.'.`,
      );
    }
    out[name] = checkAttributeValue(name, value);
  }
  return out;
}

function checkAttributeValue(name: string, raw: unknown): MessageAttributeValue {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw sqsErrors.serialization(`The message attribute '${name}' must be an object`);
  }
  const value = raw as Record<string, unknown>;
  const dataType = value.DataType;
  if (typeof dataType !== 'string' || dataType.trim() === '') {
    throw sqsErrors.invalidParameterValue(
      `The message attribute '${name}' must contain non-empty message attribute type.`,
    );
  }
  const base = dataType.split('.')[0];
  if (base !== 'String' && base !== 'Number' && base !== 'Binary') {
    throw sqsErrors.invalidParameterValue(
      `The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`,
    );
  }
  if (dataType.length > 256) {
    throw sqsErrors.invalidParameterValue(
      `Message (user) attribute '${name}' type must be shorter than 256 bytes.`,
    );
  }
  if (value.StringListValues !== undefined || value.BinaryListValues !== undefined) {
    // Reserved for future use in the API reference; SQS refuses them.
    throw sqsErrors.invalidParameterValue(
      `Message (user) attribute '${name}' uses a list type, which is not supported.`,
    );
  }
  const stringValue = value.StringValue;
  const binaryValue = value.BinaryValue;
  if (isBinaryType(dataType)) {
    if (stringValue !== undefined && stringValue !== null) {
      throw sqsErrors.invalidParameterValue(
        `The message attribute '${name}' with type 'Binary' must use field 'Binary'.`,
      );
    }
    if (typeof binaryValue !== 'string' || binaryValue === '') {
      throw sqsErrors.invalidParameterValue(
        `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${dataType}'.`,
      );
    }
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(binaryValue))
      throw sqsErrors.serialization(`BinaryValue of '${name}' is not base64`);
    return { DataType: dataType, BinaryValue: binaryValue };
  }
  if (binaryValue !== undefined && binaryValue !== null) {
    throw sqsErrors.invalidParameterValue(
      `The message attribute '${name}' with type '${base}' must use field 'String'.`,
    );
  }
  if (typeof stringValue !== 'string' || stringValue === '') {
    throw sqsErrors.invalidParameterValue(
      `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${dataType}'.`,
    );
  }
  if (base === 'Number' && !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(stringValue.trim())) {
    throw sqsErrors.invalidParameterValue(
      `Can't cast the value of message (user) attribute '${name}' to a number.`,
    );
  }
  const bad = INVALID_BODY_CHARACTER.exec(stringValue);
  if (bad) {
    throw sqsErrors.invalidParameterValue(
      `Message (user) attribute '${name}' value contains invalid binary character '#x${bad[0].codePointAt(0)!.toString(16).toUpperCase()}'.`,
    );
  }
  return { DataType: dataType, StringValue: stringValue };
}

/** Only AWSTraceHeader exists, and it must be a String. */
function checkSystemAttributes(raw: unknown): Record<string, MessageAttributeValue> | undefined {
  const attributes = checkSystemShape(raw);
  if (attributes === undefined) return undefined;
  for (const [name, value] of Object.entries(attributes)) {
    if (name !== 'AWSTraceHeader') {
      throw sqsErrors.invalidParameterValue(`Message system attribute name '${name}' is invalid.`);
    }
    if (value.DataType !== 'String') {
      throw sqsErrors.invalidParameterValue(
        `Message system attribute '${name}' has an invalid type. The type must be 'String'.`,
      );
    }
  }
  return attributes;
}

function checkSystemShape(raw: unknown): Record<string, MessageAttributeValue> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw sqsErrors.serialization('MessageSystemAttributes must be a map');
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(raw as Record<string, unknown>))
    out[name] = checkAttributeValue(name, value);
  return Object.keys(out).length === 0 ? undefined : out;
}

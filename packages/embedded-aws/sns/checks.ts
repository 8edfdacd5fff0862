/**
 * Input checks of the embedded SNS, shared by its API and by Step Functions' `sns:publish` (whose parameters
 * are any JSON): names, ARNs, attributes, protocols and endpoints, and what Publish takes, with SNS's limits
 * and error codes.
 */
import { SnsError, snsErrors } from './errors.ts';
import type { MessageAttributeValue } from './notifications.ts';

/** Protocols the embedded SNS delivers to. */
export const DELIVERED_PROTOCOLS = ['sqs', 'http', 'https'] as const;
export type DeliveredProtocol = (typeof DELIVERED_PROTOCOLS)[number];

/** Protocols SNS has that nothing here can deliver to (no mail, phones, devices, Lambda or Firehose). */
const UNDELIVERED_PROTOCOLS = ['email', 'email-json', 'sms', 'application', 'lambda', 'firehose'];

/** SNS's limit on a message with its attributes. */
const MAX_MESSAGE_BYTES = 262_144;
const MAX_SUBJECT_CHARS = 99;

export interface CheckedPublish {
  readonly topicArn: string;
  readonly message: string;
  readonly subject?: string;
  readonly messageAttributes?: Readonly<Record<string, MessageAttributeValue>>;
  readonly messageStructure?: 'json';
}

/** Topic names: 1 to 256 letters, digits, hyphens and underscores. */
export function checkTopicName(name: unknown): string {
  if (name === undefined || name === null) throw snsErrors.missingParameter('name');
  if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,256}$/.test(name)) {
    throw snsErrors.invalidParameter('Topic Name');
  }
  return name;
}

/** An SNS ARN's shape (`arn:aws:sns:<region>:<account>:<topic>[:<subscription id>]`), as `parameter`. */
export function checkSnsArn(value: unknown, parameter: 'TopicArn' | 'SubscriptionArn'): string {
  if (value === undefined || value === null) {
    throw snsErrors.missingParameter(parameter.charAt(0).toLowerCase() + parameter.slice(1));
  }
  if (typeof value !== 'string') throw snsErrors.invalidParameter(parameter);
  const parts = value.split(':');
  if (parts.length < 6) {
    throw snsErrors.invalidParameter(parameter, `An ARN must have at least 6 elements, not ${parts.length}`);
  }
  const expected = parameter === 'TopicArn' ? 6 : 7;
  if (parts.length !== expected || parts[0] !== 'arn' || parts[2] !== 'sns' || parts.some((p) => p === '')) {
    throw snsErrors.invalidParameter(parameter);
  }
  return value;
}

/** Topic attributes kept and returned; none of them changes what the embedded SNS does. */
const TOPIC_ATTRIBUTES = new Set([
  'DisplayName',
  'Policy',
  'DeliveryPolicy',
  'KmsMasterKeyId',
  'SignatureVersion',
  'TracingConfig',
  'DataProtectionPolicy',
]);
const FEEDBACK_ATTRIBUTE =
  /^(HTTP|Firehose|Lambda|SQS|Application)(Success|Failure)Feedback(RoleArn|SampleRate)$/;

/** A topic attribute CreateTopic or SetTopicAttributes may set. */
export function checkTopicAttribute(name: string, value: string, parameter = 'AttributeName'): void {
  if (name === 'FifoTopic' || name === 'ContentBasedDeduplication') {
    if (value.toLowerCase() === 'true') {
      throw snsErrors.invalidParameter('Attributes', 'the embedded SNS has no FIFO topics');
    }
    return;
  }
  if (!TOPIC_ATTRIBUTES.has(name) && !FEEDBACK_ATTRIBUTE.test(name))
    throw snsErrors.invalidParameter(parameter);
  if (name === 'DisplayName' && value.length > 100) {
    throw snsErrors.invalidParameter('DisplayName', 'must be at most 100 characters');
  }
}

/** Subscription attributes that would change delivery in ways the embedded SNS does not implement. */
const UNSUPPORTED_SUBSCRIPTION_ATTRIBUTES = new Set([
  'FilterPolicy',
  'FilterPolicyScope',
  'DeliveryPolicy',
  'RedrivePolicy',
  'SubscriptionRoleArn',
  'ReplayPolicy',
]);

/** A subscription attribute; returns it as kept (`RawMessageDelivery` as `true` or `false`). */
export function checkSubscriptionAttribute(name: string, value: string, parameter = 'AttributeName'): string {
  if (name === 'RawMessageDelivery') {
    const lower = value.toLowerCase();
    if (lower !== 'true' && lower !== 'false') {
      throw snsErrors.invalidParameter(
        'Attributes',
        `RawMessageDelivery: Invalid value [${value}]. Must be true or false.`,
      );
    }
    return lower;
  }
  if (UNSUPPORTED_SUBSCRIPTION_ATTRIBUTES.has(name)) {
    // Accepting a filter or a redrive policy and then ignoring it would deliver what AWS would not.
    throw snsErrors.invalidParameter('Attributes', `${name} is not supported by the embedded SNS`);
  }
  throw snsErrors.invalidParameter(parameter);
}

/** Subscribe's protocol and endpoint, for a standard topic. */
export function checkSubscriptionTarget(
  protocol: unknown,
  endpoint: unknown,
): { protocol: DeliveredProtocol; endpoint: string } {
  if (protocol === undefined || protocol === null) throw snsErrors.missingParameter('protocol');
  if (typeof protocol !== 'string') throw snsErrors.invalidParameter('Protocol');
  if (UNDELIVERED_PROTOCOLS.includes(protocol)) {
    throw snsErrors.invalidParameter(
      'Protocol',
      `the embedded SNS delivers to sqs, http and https subscriptions only, not ${protocol}`,
    );
  }
  if (!(DELIVERED_PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new SnsError(
      'InvalidParameter',
      `Invalid parameter: Amazon SNS does not support this protocol string: ${protocol}`,
    );
  }
  if (typeof endpoint !== 'string' || endpoint === '') throw snsErrors.invalidParameter('Endpoint');
  if (protocol === 'sqs') {
    if (!/^arn:aws:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$/.test(endpoint)) {
      throw snsErrors.invalidParameter('SQS endpoint ARN');
    }
    if (endpoint.endsWith('.fifo')) {
      throw snsErrors.invalidParameter(
        'Endpoint',
        'FIFO SQS Queues can not be subscribed to standard SNS topics',
      );
    }
    return { protocol, endpoint };
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw snsErrors.invalidParameter('Endpoint', `${endpoint} is not a URL`);
  }
  if (url.protocol !== `${protocol}:` || url.hostname === '') {
    throw snsErrors.invalidParameter('Endpoint', `must be a ${protocol}:// URL for protocol ${protocol}`);
  }
  return { protocol: protocol as DeliveredProtocol, endpoint };
}

/**
 * What Publish takes, checked as SNS checks it. `input` has the SDK's shape (`TopicArn`, `Message`,
 * `MessageAttributes: { name: { DataType, StringValue | BinaryValue } }`, ...), BinaryValue in base64.
 */
export function checkPublish(input: Readonly<Record<string, unknown>>): CheckedPublish {
  if (input.PhoneNumber !== undefined && input.PhoneNumber !== null) {
    throw snsErrors.invalidParameter('PhoneNumber', 'the embedded SNS does not send SMS');
  }
  const target = input.TopicArn ?? input.TargetArn;
  if (target === undefined || target === null) {
    throw snsErrors.invalidParameter('TopicArn or TargetArn', 'no value for required parameter');
  }
  const topicArn = checkSnsArn(target, 'TopicArn');
  const message = input.Message;
  if (typeof message !== 'string' || message.length === 0) {
    throw new SnsError('InvalidParameter', 'Invalid parameter: Empty message');
  }
  const subject = checkSubject(input.Subject);
  const messageStructure = checkMessageStructure(input.MessageStructure, message);
  const messageAttributes = checkMessageAttributes(input.MessageAttributes);
  let size = Buffer.byteLength(message, 'utf8');
  for (const [name, value] of Object.entries(messageAttributes ?? {})) {
    size += Buffer.byteLength(name) + Buffer.byteLength(value.DataType);
    size +=
      value.BinaryValue !== undefined
        ? Buffer.from(value.BinaryValue, 'base64').length
        : Buffer.byteLength(value.StringValue ?? '');
  }
  if (size > MAX_MESSAGE_BYTES) throw new SnsError('InvalidParameter', 'Invalid parameter: Message too long');
  return {
    topicArn,
    message,
    ...(subject !== undefined ? { subject } : {}),
    ...(messageAttributes !== undefined ? { messageAttributes } : {}),
    ...(messageStructure !== undefined ? { messageStructure } : {}),
  };
}

/** Subjects are printable ASCII, under 100 characters, starting with a letter, digit or punctuation mark. */
function checkSubject(subject: unknown): string | undefined {
  if (subject === undefined || subject === null) return undefined;
  if (
    typeof subject !== 'string' ||
    subject.length === 0 ||
    subject.length > MAX_SUBJECT_CHARS ||
    !/^[\x21-\x7e][\x20-\x7e]*$/.test(subject)
  ) {
    throw snsErrors.invalidParameter('Subject');
  }
  return subject;
}

function checkMessageStructure(structure: unknown, message: string): 'json' | undefined {
  if (structure === undefined || structure === null) return undefined;
  if (structure !== 'json') throw snsErrors.invalidParameter('MessageStructure');
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    throw new SnsError(
      'InvalidParameter',
      'Invalid parameter: Message Structure - JSON message body failed to parse',
    );
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    typeof (parsed as { default?: unknown }).default !== 'string'
  ) {
    throw new SnsError(
      'InvalidParameter',
      'Invalid parameter: Message Structure - No default entry in JSON message body',
    );
  }
  return 'json';
}

function checkMessageAttributes(
  attributes: unknown,
): Readonly<Record<string, MessageAttributeValue>> | undefined {
  if (attributes === undefined || attributes === null) return undefined;
  if (typeof attributes !== 'object' || Array.isArray(attributes)) {
    throw snsErrors.invalidParameter('MessageAttributes');
  }
  const checked: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes)) {
    checked[name] = checkMessageAttribute(name, value);
  }
  return Object.keys(checked).length === 0 ? undefined : checked;
}

function checkMessageAttribute(name: string, value: unknown): MessageAttributeValue {
  const invalid = (reason: string) => snsErrors.invalidParameter('MessageAttributes', reason);
  if (
    !/^[A-Za-z0-9_.-]{1,256}$/.test(name) ||
    name.startsWith('.') ||
    name.endsWith('.') ||
    name.includes('..') ||
    /^(aws|amazon)\./i.test(name)
  ) {
    throw invalid(`Message attribute name '${name}' is not valid`);
  }
  if (typeof value !== 'object' || value === null)
    throw invalid(`The message attribute '${name}' has no value`);
  const { DataType, StringValue, BinaryValue } = value as Record<string, unknown>;
  const base = typeof DataType === 'string' ? DataType.split('.')[0] : undefined;
  if (typeof DataType !== 'string' || (base !== 'String' && base !== 'Number' && base !== 'Binary')) {
    throw invalid(
      `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
    );
  }
  if (base === 'Binary') {
    if (
      typeof BinaryValue !== 'string' ||
      BinaryValue === '' ||
      !/^[A-Za-z0-9+/]*={0,2}$/.test(BinaryValue)
    ) {
      throw invalid(
        `The message attribute '${name}' must contain a non-empty base64 BinaryValue for type Binary`,
      );
    }
    return { DataType, BinaryValue };
  }
  if (typeof StringValue !== 'string' || StringValue === '') {
    throw invalid(`The message attribute '${name}' must contain a non-empty StringValue for type ${base}`);
  }
  if (base === 'Number' && !Number.isFinite(Number(StringValue))) {
    throw invalid(`The message attribute '${name}' with type 'Number' must have a numeric value`);
  }
  if (DataType === 'String.Array' && !isJsonArray(StringValue)) {
    throw invalid(`The message attribute '${name}' with type 'String.Array' must be a JSON array`);
  }
  return { DataType, StringValue };
}

function isJsonArray(text: string): boolean {
  try {
    return Array.isArray(JSON.parse(text));
  } catch {
    return false;
  }
}

/**
 * Queue attributes: which names exist, their ranges and defaults, how a CreateQueue/SetQueueAttributes
 * request's values are checked and normalised, and how GetQueueAttributes reports them.
 *
 * Ranges and defaults are the SQS API reference's (CreateQueue, SetQueueAttributes). The error wording for a
 * bad value ("Invalid value for the parameter X.") and for an unknown name ("Unknown Attribute X.") is what
 * SQS is reported to answer; treat the exact text as a guess.
 */
import { sqsErrors } from './errors.ts';

/** Integer-valued attributes: [min, max, default]. */
const INTEGER_RANGES: Readonly<Record<string, readonly [number, number, number | undefined]>> = {
  DelaySeconds: [0, 900, 0],
  MaximumMessageSize: [1024, 1_048_576, 1_048_576],
  MessageRetentionPeriod: [60, 1_209_600, 345_600],
  ReceiveMessageWaitTimeSeconds: [0, 20, 0],
  VisibilityTimeout: [0, 43_200, 30],
  KmsDataKeyReusePeriodSeconds: [60, 86_400, undefined],
};

const BOOLEAN_ATTRIBUTES = new Set(['SqsManagedSseEnabled', 'FifoQueue', 'ContentBasedDeduplication']);
const FIFO_ONLY = new Set(['ContentBasedDeduplication', 'DeduplicationScope', 'FifoThroughputLimit']);
const FREE_TEXT = new Set(['Policy', 'KmsMasterKeyId', 'RedriveAllowPolicy']);

/** Names a CreateQueue or SetQueueAttributes request may set. */
export const SETTABLE_ATTRIBUTES: ReadonlySet<string> = new Set([
  ...Object.keys(INTEGER_RANGES),
  ...BOOLEAN_ATTRIBUTES,
  ...FIFO_ONLY,
  ...FREE_TEXT,
  'RedrivePolicy',
]);

/** Names only GetQueueAttributes reports. */
const COMPUTED_ATTRIBUTES = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesDelayed',
  'ApproximateNumberOfMessagesNotVisible',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
] as const;

/** Every name GetQueueAttributes accepts besides `All`. */
export const READABLE_ATTRIBUTES: ReadonlySet<string> = new Set([
  ...SETTABLE_ATTRIBUTES,
  ...COMPUTED_ATTRIBUTES,
]);

export interface RedrivePolicy {
  readonly deadLetterTargetArn: string;
  readonly maxReceiveCount: number;
}

export interface AttributeCheckContext {
  /** Creating (FifoQueue may be given) or setting (FifoQueue may not change). */
  readonly creating: boolean;
  readonly fifo: boolean;
  /** Whether a queue with this ARN exists and whether it is FIFO. */
  readonly queueByArn: (arn: string) => { readonly fifo: boolean } | undefined;
}

/**
 * Checks and normalises the attributes of a request; returns them as SQS will report them.
 *
 * @example
 * checkQueueAttributes({ VisibilityTimeout: '60' }, { creating: true, fifo: false, queueByArn: () => undefined });
 * // Map { 'VisibilityTimeout' => '60' }
 */
export function checkQueueAttributes(
  attributes: Readonly<Record<string, string>>,
  context: AttributeCheckContext,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, raw] of Object.entries(attributes)) {
    if (!SETTABLE_ATTRIBUTES.has(name) || (FIFO_ONLY.has(name) && !context.fifo)) {
      throw sqsErrors.invalidAttributeName(`Unknown Attribute ${name}.`);
    }
    const invalid = () => sqsErrors.invalidAttributeValue(`Invalid value for the parameter ${name}.`);
    const range = INTEGER_RANGES[name];
    if (range !== undefined) {
      if (!/^\s*-?\d+\s*$/.test(raw)) throw invalid();
      const value = Number(raw.trim());
      if (value < range[0] || value > range[1]) throw invalid();
      out.set(name, String(value));
    } else if (BOOLEAN_ATTRIBUTES.has(name)) {
      const value = raw.trim().toLowerCase();
      if (value !== 'true' && value !== 'false') throw invalid();
      if (name === 'FifoQueue') {
        if (!context.creating) throw invalid();
        if ((value === 'true') !== context.fifo) {
          throw sqsErrors.invalidParameterValue(
            'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.',
          );
        }
      }
      out.set(name, value);
    } else if (name === 'DeduplicationScope') {
      if (raw !== 'messageGroup' && raw !== 'queue') throw invalid();
      out.set(name, raw);
    } else if (name === 'FifoThroughputLimit') {
      if (raw !== 'perQueue' && raw !== 'perMessageGroupId') throw invalid();
      out.set(name, raw);
    } else if (name === 'RedrivePolicy') {
      // An empty value removes the policy.
      out.set(name, raw === '' ? '' : JSON.stringify(parseRedrivePolicy(raw, context)));
    } else if (name === 'Policy' || name === 'RedriveAllowPolicy') {
      if (raw !== '' && !isJsonObject(raw)) throw invalid();
      out.set(name, raw);
    } else {
      out.set(name, raw);
    }
  }
  return out;
}

function parseRedrivePolicy(raw: string, context: AttributeCheckContext): RedrivePolicy {
  const invalid = (reason: string) => sqsErrors.invalidParameter('RedrivePolicy', raw, reason);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalid('Redrive policy is not a valid JSON map.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalid('Redrive policy is not a valid JSON map.');
  }
  const policy = parsed as Record<string, unknown>;
  const target = policy.deadLetterTargetArn;
  if (typeof target !== 'string' || target === '') {
    throw invalid('Redrive policy does not contain mandatory attribute: deadLetterTargetArn.');
  }
  const count = policy.maxReceiveCount ?? 10;
  const countValue = typeof count === 'string' && /^\d+$/.test(count) ? Number(count) : count;
  if (
    typeof countValue !== 'number' ||
    !Number.isInteger(countValue) ||
    countValue < 1 ||
    countValue > 1000
  ) {
    throw invalid(
      `Invalid value for maxReceiveCount: ${String(count)}, valid values are from 1 to 1000 both inclusive.`,
    );
  }
  const dlq = context.queueByArn(target);
  if (dlq === undefined) throw invalid('Dead-letter target does not exist.');
  if (dlq.fifo !== context.fifo) {
    throw invalid(
      context.fifo
        ? 'Dead-letter queue for a FIFO queue must also be of type FIFO.'
        : 'Dead-letter queue for a standard queue must also be of type standard.',
    );
  }
  return { deadLetterTargetArn: target, maxReceiveCount: countValue };
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

/** The value of an integer attribute, falling back to its default. */
export function integerAttribute(attributes: ReadonlyMap<string, string>, name: string): number {
  const value = attributes.get(name);
  if (value !== undefined) return Number(value);
  return INTEGER_RANGES[name]?.[2] ?? 0;
}

/** The RedrivePolicy attribute parsed, or undefined when none is set. */
export function redrivePolicyOf(attributes: ReadonlyMap<string, string>): RedrivePolicy | undefined {
  const raw = attributes.get('RedrivePolicy');
  if (raw === undefined || raw === '') return undefined;
  return JSON.parse(raw) as RedrivePolicy;
}

/**
 * The attributes a queue reports for `All` when nothing was set: SQS's defaults. New queues get SSE-SQS
 * unless a KMS key is given (AWS's default since 2022).
 */
export function reportedSettableAttributes(
  attributes: ReadonlyMap<string, string>,
  fifo: boolean,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, [, , fallback]] of Object.entries(INTEGER_RANGES)) {
    if (name === 'KmsDataKeyReusePeriodSeconds') continue;
    out.set(name, attributes.get(name) ?? String(fallback));
  }
  const kms = attributes.get('KmsMasterKeyId');
  if (kms !== undefined && kms !== '') {
    out.set('KmsMasterKeyId', kms);
    out.set('KmsDataKeyReusePeriodSeconds', attributes.get('KmsDataKeyReusePeriodSeconds') ?? '300');
    out.set('SqsManagedSseEnabled', 'false');
  } else {
    out.set('SqsManagedSseEnabled', attributes.get('SqsManagedSseEnabled') ?? 'true');
  }
  for (const name of ['Policy', 'RedrivePolicy', 'RedriveAllowPolicy']) {
    const value = attributes.get(name);
    if (value !== undefined && value !== '') out.set(name, value);
  }
  if (fifo) {
    out.set('FifoQueue', 'true');
    out.set('ContentBasedDeduplication', attributes.get('ContentBasedDeduplication') ?? 'false');
    out.set('DeduplicationScope', attributes.get('DeduplicationScope') ?? 'queue');
    out.set('FifoThroughputLimit', attributes.get('FifoThroughputLimit') ?? 'perQueue');
  }
  return out;
}

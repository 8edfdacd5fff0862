/**
 * The SNS API actions the embedded SNS serves, over the query protocol's form parameters: each reads its
 * parameters (flattened as the SDK v3 and botocore send them: `Attributes.entry.1.key`, `Tags.member.1.Key`,
 * `MessageAttributes.entry.1.Value.StringValue`), calls the engine, and returns the result's members for
 * `query-protocol.ts` to write as XML. What a mutating action changed is journaled before it answers.
 */
import { checkSnsArn, checkTopicName } from './checks.ts';
import { snsErrors } from './errors.ts';
import type { SnsEngine, Subscription } from './sns-engine.ts';

/** The actions served; any other is InvalidAction. */
export const SNS_ACTIONS = [
  'CreateTopic',
  'DeleteTopic',
  'ListTopics',
  'GetTopicAttributes',
  'SetTopicAttributes',
  'Subscribe',
  'Unsubscribe',
  'ListSubscriptions',
  'ListSubscriptionsByTopic',
  'GetSubscriptionAttributes',
  'SetSubscriptionAttributes',
  'Publish',
] as const;
export type SnsAction = (typeof SNS_ACTIONS)[number];

export function isSnsAction(action: string): action is SnsAction {
  return (SNS_ACTIONS as readonly string[]).includes(action);
}

/**
 * A result's members, written in order: text as an element, a list of structures as `<member>`s, a map as
 * `<entry><key/><value/></entry>`s.
 */
export type ResultMembers = Record<string, string | readonly Record<string, string>[] | MapMember>;

/** A map member (Attributes), told apart from a list of structures. */
export class MapMember {
  constructor(readonly entries: Readonly<Record<string, string>>) {}
}

/** ListTopics, ListSubscriptions and ListSubscriptionsByTopic answer 100 at a time, as SNS does. */
const PAGE_SIZE = 100;

/**
 * Serves one action.
 *
 * @example
 * const members = await runSnsAction('CreateTopic', new URLSearchParams('Name=on-call'), sns);
 * // { TopicArn: 'arn:aws:sns:us-east-1:000000000000:on-call' }
 */
export async function runSnsAction(
  action: SnsAction,
  params: URLSearchParams,
  sns: SnsEngine,
): Promise<ResultMembers> {
  const members = HANDLERS[action](params, sns);
  await sns.flushed();
  return members;
}

const HANDLERS: Record<SnsAction, (params: URLSearchParams, sns: SnsEngine) => ResultMembers> = {
  CreateTopic(params, sns) {
    const name = checkTopicName(params.get('Name'));
    const topic = sns.createTopic(name, mapOf(params, 'Attributes'), tagsOf(params));
    return { TopicArn: topic.topicArn };
  },

  DeleteTopic(params, sns) {
    sns.deleteTopic(arnOf(params, 'TopicArn'));
    return {};
  },

  ListTopics(params, sns) {
    const arns = sns.topics().map((topic) => topic.topicArn);
    const { page, nextToken } = pageOf(arns, params.get('NextToken'));
    return { Topics: page.map((TopicArn) => ({ TopicArn })), ...nextToken };
  },

  GetTopicAttributes(params, sns) {
    return { Attributes: new MapMember(sns.topicAttributes(arnOf(params, 'TopicArn'))) };
  },

  SetTopicAttributes(params, sns) {
    const topicArn = arnOf(params, 'TopicArn');
    sns.setTopicAttribute(topicArn, required(params, 'AttributeName'), params.get('AttributeValue') ?? '');
    return {};
  },

  Subscribe(params, sns) {
    const topicArn = arnOf(params, 'TopicArn');
    const protocol = params.get('Protocol');
    if (protocol === null) throw snsErrors.missingParameter('protocol');
    const returnArn = params.get('ReturnSubscriptionArn');
    if (returnArn !== null && !/^(true|false)$/i.test(returnArn)) {
      throw snsErrors.invalidParameter('ReturnSubscriptionArn');
    }
    // Confirmed at once, so the ARN is returned with or without ReturnSubscriptionArn.
    const subscription = sns.subscribe(
      topicArn,
      protocol,
      params.get('Endpoint') ?? '',
      mapOf(params, 'Attributes'),
    );
    return { SubscriptionArn: subscription.subscriptionArn };
  },

  Unsubscribe(params, sns) {
    sns.unsubscribe(arnOf(params, 'SubscriptionArn'));
    return {};
  },

  ListSubscriptions(params, sns) {
    return subscriptionsPage(sns.subscriptions(), params, sns);
  },

  ListSubscriptionsByTopic(params, sns) {
    const topic = sns.topic(arnOf(params, 'TopicArn'));
    return subscriptionsPage(sns.subscriptions(topic.topicArn), params, sns);
  },

  GetSubscriptionAttributes(params, sns) {
    return {
      Attributes: new MapMember(sns.subscriptionAttributes(arnOf(params, 'SubscriptionArn'))),
    };
  },

  SetSubscriptionAttributes(params, sns) {
    const subscriptionArn = arnOf(params, 'SubscriptionArn');
    sns.setSubscriptionAttribute(
      subscriptionArn,
      required(params, 'AttributeName'),
      params.get('AttributeValue') ?? '',
    );
    return {};
  },

  Publish(params, sns) {
    const messageAttributes = messageAttributesOf(params);
    const input: Record<string, unknown> = {};
    for (const name of ['TopicArn', 'TargetArn', 'PhoneNumber', 'Message', 'Subject', 'MessageStructure']) {
      const value = params.get(name);
      if (value !== null) input[name] = value;
    }
    if (messageAttributes !== undefined) input.MessageAttributes = messageAttributes;
    return { MessageId: sns.publish(input).MessageId };
  },
};

function arnOf(params: URLSearchParams, name: 'TopicArn' | 'SubscriptionArn'): string {
  return checkSnsArn(params.get(name), name);
}

function required(params: URLSearchParams, name: string): string {
  const value = params.get(name);
  if (value === null) throw snsErrors.missingParameter(name.charAt(0).toLowerCase() + name.slice(1));
  return value;
}

function subscriptionsPage(all: Subscription[], params: URLSearchParams, sns: SnsEngine): ResultMembers {
  const byArn = new Map(all.map((s) => [s.subscriptionArn, s]));
  const { page, nextToken } = pageOf([...byArn.keys()], params.get('NextToken'));
  return {
    Subscriptions: page.map((arn) => {
      const subscription = byArn.get(arn)!;
      return {
        SubscriptionArn: subscription.subscriptionArn,
        Owner: sns.accountId,
        Protocol: subscription.protocol,
        Endpoint: subscription.endpoint,
        TopicArn: subscription.topicArn,
      };
    }),
    ...nextToken,
  };
}

/**
 * A page of ARNs in ARN order. The token is the last ARN of the page, so a page stays right when topics or
 * subscriptions come and go between calls.
 */
function pageOf(
  arns: readonly string[],
  token: string | null,
): { page: string[]; nextToken: { NextToken?: string } } {
  let after = '';
  if (token !== null) {
    after = Buffer.from(token, 'base64url').toString('utf8');
    if (!after.startsWith('arn:aws:sns:')) throw snsErrors.invalidParameter('NextToken');
  }
  const sorted = [...arns].sort().filter((arn) => arn > after);
  const page = sorted.slice(0, PAGE_SIZE);
  const more = sorted.length > PAGE_SIZE;
  return {
    page,
    nextToken: more ? { NextToken: Buffer.from(page.at(-1)!, 'utf8').toString('base64url') } : {},
  };
}

/** Indexes present under `<prefix>.<n>.` in order. */
function indexesOf(params: URLSearchParams, prefix: string): number[] {
  const found = new Set<number>();
  for (const key of params.keys()) {
    if (!key.startsWith(`${prefix}.`)) continue;
    const index = /^(\d+)\./.exec(key.slice(prefix.length + 1))?.[1];
    if (index !== undefined) found.add(Number(index));
  }
  return [...found].sort((a, b) => a - b);
}

/** A map parameter: `<name>.entry.<n>.key` / `.value`. */
function mapOf(params: URLSearchParams, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  const prefix = `${name}.entry`;
  for (const index of indexesOf(params, prefix)) {
    const key = params.get(`${prefix}.${index}.key`);
    if (key !== null) out[key] = params.get(`${prefix}.${index}.value`) ?? '';
  }
  return out;
}

/** `Tags.member.<n>.Key` / `.Value`. */
function tagsOf(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const index of indexesOf(params, 'Tags.member')) {
    const key = params.get(`Tags.member.${index}.Key`);
    if (key !== null) out[key] = params.get(`Tags.member.${index}.Value`) ?? '';
  }
  return out;
}

/** `MessageAttributes.entry.<n>.Name` and `.Value.DataType` / `.StringValue` / `.BinaryValue` (base64). */
function messageAttributesOf(params: URLSearchParams): Record<string, Record<string, string>> | undefined {
  const prefix = 'MessageAttributes.entry';
  const indexes = indexesOf(params, prefix);
  if (indexes.length === 0) return undefined;
  const out: Record<string, Record<string, string>> = {};
  for (const index of indexes) {
    const name = params.get(`${prefix}.${index}.Name`);
    if (name === null) throw snsErrors.invalidParameter('MessageAttributes', `entry ${index} has no Name`);
    const value: Record<string, string> = {};
    for (const field of ['DataType', 'StringValue', 'BinaryValue']) {
      const text = params.get(`${prefix}.${index}.Value.${field}`);
      if (text !== null) value[field] = text;
    }
    out[name] = value;
  }
  return out;
}

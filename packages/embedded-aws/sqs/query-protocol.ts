/**
 * SQS over the AWS query protocol: `POST /` with a form body (`Action=SendMessage&Version=2012-11-05&...`)
 * answered in XML. SQS still serves it, and clients older than the JSON protocol (late 2023) speak only it:
 * Debian 12's AWS CLI v2 (2.9.19, botocore's SQS model says `"protocol": "query"`), the SDK for JavaScript v2,
 * boto3 before 1.28.x. The message move actions (mid-2023) are here too, for the query-protocol clients that
 * know them; that CLI predates them (it has no `aws sqs start-message-move-task`).
 *
 * The front door (`../aws/server.ts`) parses every body as JSON, so this is attached in front of it: form
 * requests are answered here, everything else goes on to the server's own handler. Requests are translated to
 * the JSON protocol's input, served by the same `createSqsService`, and the output written as the query
 * protocol's XML (flattened lists and maps, `<Action>Response><Action>Result>`, `ErrorResponse`).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { AwsError } from '../aws/errors.ts';
import type { RequestContext } from '../aws/server.ts';
import { element, escapeXml, sendXml as send } from '../aws/xml.ts';
import type { SqsEngine } from './sqs-engine.ts';
import { createSqsService, SQS_ACTIONS } from './sqs-service.ts';

const XMLNS = 'http://queue.amazonaws.com/doc/2012-11-05/';
const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Puts the query protocol in front of a server made by `createAwsServer`. Call once, before `listen`.
 *
 * @example
 * const server = createAwsServer({ services: [createSqsService(sqs)] });
 * attachSqsQueryProtocol(server, sqs);
 * server.listen(4566, '127.0.0.1');
 */
export function attachSqsQueryProtocol(
  server: Server,
  engine: SqsEngine,
  options: { readonly maxBodyBytes?: number } = {},
): void {
  const service = createSqsService(engine);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const downstream = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!isQueryRequest(req)) {
      for (const listener of downstream) listener.call(server, req, res);
      return;
    }
    serveQuery(req, res, engine, service.handle.bind(service), maxBodyBytes).catch(() => res.destroy());
  });
}

function isQueryRequest(req: IncomingMessage): boolean {
  if (req.headers['x-amz-target'] !== undefined) return false;
  const type = req.headers['content-type'] ?? '';
  if (req.method === 'POST' && type.startsWith('application/x-www-form-urlencoded')) return true;
  return req.method === 'GET' && /[?&]Action=/.test(req.url ?? '');
}

async function serveQuery(
  req: IncomingMessage,
  res: ServerResponse,
  engine: SqsEngine,
  handle: (action: string, input: unknown, context: RequestContext) => Promise<unknown>,
  maxBodyBytes: number,
): Promise<void> {
  const requestId = randomUUID();
  res.on('error', () => {});
  let action = '';
  try {
    const body = await readBody(req, maxBodyBytes);
    const params = new URLSearchParams(body);
    const query = (req.url ?? '').split('?')[1];
    if (query)
      for (const [key, value] of new URLSearchParams(query)) if (!params.has(key)) params.set(key, value);
    action = params.get('Action') ?? '';
    if (!(SQS_ACTIONS as readonly string[]).includes(action)) {
      throw new AwsError('InvalidAction', `The action ${action} is not valid for this endpoint.`, {
        queryErrorCode: 'InvalidAction',
      });
    }
    // Older clients send the queue's URL as the request path instead of a QueueUrl parameter.
    if (!params.has('QueueUrl') && /^\/[^/?]+\/[^/?]+/.test(req.url ?? '')) {
      params.set('QueueUrl', (req.url ?? '').split('?')[0]!);
    }
    const context: RequestContext = {
      requestId,
      region: regionOf(req) ?? engine.region,
      accountId: engine.accountId,
    };
    const output = await handle(action, inputOf(action, params), context);
    send(res, 200, resultXml(action, output as Record<string, unknown>, requestId), requestId);
  } catch (error) {
    const aws =
      error instanceof AwsError
        ? error
        : new AwsError('InternalError', 'We encountered an internal error. Please try again.', {
            statusCode: 500,
          });
    const xml =
      `<?xml version="1.0"?><ErrorResponse xmlns="${XMLNS}"><Error><Type>${aws.fault}</Type>` +
      `<Code>${escapeXml(aws.queryErrorCode ?? aws.name)}</Code><Message>${escapeXml(aws.message)}</Message><Detail/></Error>` +
      `<RequestId>${requestId}</RequestId></ErrorResponse>`;
    send(res, aws.statusCode, xml, requestId);
  }
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(
          new AwsError('RequestEntityTooLarge', `Request size exceeds the limit of ${maxBytes} bytes`, {
            statusCode: 413,
          }),
        );
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

function regionOf(req: IncomingMessage): string | undefined {
  const authorization = req.headers.authorization;
  return authorization?.match(/Credential=[^/,\s]+\/\d{8}\/([a-z0-9-]+)\//)?.[1];
}

// ─── Form parameters → JSON-protocol input ──────────────────────────────────────────────────────────────

const INTEGER_MEMBERS = new Set([
  'DelaySeconds',
  'MaxNumberOfMessages',
  'VisibilityTimeout',
  'WaitTimeSeconds',
  'MaxResults',
  'MaxNumberOfMessagesPerSecond',
]);

/** Values of `<prefix>.1`, `<prefix>.2`, ... in order (flattened lists), trying each alias of the member. */
function listOf(params: URLSearchParams, prefixes: readonly string[]): string[] {
  for (const prefix of prefixes) {
    const out: string[] = [];
    for (let index = 1; params.has(`${prefix}.${index}`); index++)
      out.push(params.get(`${prefix}.${index}`)!);
    if (out.length > 0) return out;
  }
  return [];
}

/** Indexes present under `<prefix>.<n>.` (flattened maps and lists of structures). */
function indexesOf(params: URLSearchParams, prefix: string): number[] {
  const found = new Set<number>();
  for (const key of params.keys()) {
    const match = key.startsWith(`${prefix}.`) ? /^(\d+)\./.exec(key.slice(prefix.length + 1)) : null;
    if (match) found.add(Number(match[1]));
  }
  return [...found].sort((a, b) => a - b);
}

function mapOf(
  params: URLSearchParams,
  prefixes: readonly string[],
  keyName: string,
  valueName: string,
): Record<string, string> | undefined {
  for (const prefix of prefixes) {
    const indexes = indexesOf(params, prefix);
    if (indexes.length === 0) continue;
    const out: Record<string, string> = {};
    for (const index of indexes) {
      const key = params.get(`${prefix}.${index}.${keyName}`);
      if (key !== null) out[key] = params.get(`${prefix}.${index}.${valueName}`) ?? '';
    }
    return out;
  }
  return undefined;
}

function messageAttributesOf(params: URLSearchParams, prefix: string): Record<string, unknown> | undefined {
  const indexes = indexesOf(params, prefix);
  if (indexes.length === 0) return undefined;
  const out: Record<string, unknown> = {};
  for (const index of indexes) {
    const base = `${prefix}.${index}`;
    const name = params.get(`${base}.Name`);
    if (name === null) continue;
    const value: Record<string, string> = {};
    for (const field of ['DataType', 'StringValue', 'BinaryValue']) {
      const text = params.get(`${base}.Value.${field}`);
      if (text !== null) value[field] = text;
    }
    out[name] = value;
  }
  return out;
}

/** Scalars of a request or of a batch entry (`prefix` = `SendMessageBatchRequestEntry.1.`). */
function scalarsOf(
  params: URLSearchParams,
  prefix: string,
  names: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const value = params.get(`${prefix}${name}`);
    if (value === null) continue;
    out[name] = INTEGER_MEMBERS.has(name) && /^-?\d+$/.test(value) ? Number(value) : value;
  }
  return out;
}

const MESSAGE_SCALARS = ['MessageBody', 'DelaySeconds', 'MessageDeduplicationId', 'MessageGroupId'] as const;

function messageOf(params: URLSearchParams, prefix: string): Record<string, unknown> {
  const attributes = messageAttributesOf(params, `${prefix}MessageAttribute`);
  const system = messageAttributesOf(params, `${prefix}MessageSystemAttribute`);
  return {
    ...scalarsOf(params, prefix, MESSAGE_SCALARS),
    ...(attributes ? { MessageAttributes: attributes } : {}),
    ...(system ? { MessageSystemAttributes: system } : {}),
  };
}

function entriesOf(
  params: URLSearchParams,
  shape: string,
  read: (prefix: string) => Record<string, unknown>,
): unknown[] | undefined {
  for (const prefix of [shape, 'Entries']) {
    const indexes = indexesOf(params, prefix);
    if (indexes.length > 0) return indexes.map((index) => read(`${prefix}.${index}.`));
  }
  return params.has('Entries') ? [] : undefined;
}

function inputOf(action: string, params: URLSearchParams): Record<string, unknown> {
  const common = scalarsOf(params, '', [
    'QueueUrl',
    'QueueName',
    'QueueOwnerAWSAccountId',
    'QueueNamePrefix',
    'NextToken',
    'MaxResults',
    'ReceiptHandle',
    'VisibilityTimeout',
    'MaxNumberOfMessages',
    'WaitTimeSeconds',
    'ReceiveRequestAttemptId',
    'SourceArn',
    'DestinationArn',
    'MaxNumberOfMessagesPerSecond',
    'TaskHandle',
  ]);
  const attributes = mapOf(params, ['Attribute', 'Attributes'], 'Name', 'Value');
  switch (action) {
    case 'CreateQueue': {
      const tags = mapOf(params, ['Tag', 'tags', 'Tags'], 'Key', 'Value');
      return { ...common, ...(attributes ? { Attributes: attributes } : {}), ...(tags ? { tags } : {}) };
    }
    case 'SetQueueAttributes':
      return { ...common, ...(attributes ? { Attributes: attributes } : {}) };
    case 'GetQueueAttributes':
      return { ...common, AttributeNames: listOf(params, ['AttributeName', 'AttributeNames']) };
    case 'TagQueue':
      return { ...common, Tags: mapOf(params, ['Tag', 'Tags'], 'Key', 'Value') ?? {} };
    case 'UntagQueue':
      return { ...common, TagKeys: listOf(params, ['TagKey', 'TagKeys']) };
    case 'SendMessage':
      return { ...common, ...messageOf(params, '') };
    case 'SendMessageBatch':
      return {
        ...common,
        Entries: entriesOf(params, 'SendMessageBatchRequestEntry', (prefix) => ({
          ...scalarsOf(params, prefix, ['Id']),
          ...messageOf(params, prefix),
        })),
      };
    case 'ReceiveMessage':
      return {
        ...common,
        AttributeNames: listOf(params, ['AttributeName', 'AttributeNames']),
        MessageSystemAttributeNames: listOf(params, [
          'MessageSystemAttributeName',
          'MessageSystemAttributeNames',
        ]),
        MessageAttributeNames: listOf(params, ['MessageAttributeName', 'MessageAttributeNames']),
      };
    case 'DeleteMessageBatch':
      return {
        ...common,
        Entries: entriesOf(params, 'DeleteMessageBatchRequestEntry', (prefix) =>
          scalarsOf(params, prefix, ['Id', 'ReceiptHandle']),
        ),
      };
    case 'ChangeMessageVisibilityBatch':
      return {
        ...common,
        Entries: entriesOf(params, 'ChangeMessageVisibilityBatchRequestEntry', (prefix) =>
          scalarsOf(params, prefix, ['Id', 'ReceiptHandle', 'VisibilityTimeout']),
        ),
      };
    default:
      return common;
  }
}

// ─── JSON-protocol output → XML ─────────────────────────────────────────────────────────────────────────

const BATCH_RESULT_ENTRY: Readonly<Record<string, string>> = {
  SendMessageBatch: 'SendMessageBatchResultEntry',
  DeleteMessageBatch: 'DeleteMessageBatchResultEntry',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibilityBatchResultEntry',
};

function resultXml(action: string, output: Record<string, unknown>, requestId: string): string {
  return (
    `<?xml version="1.0"?><${action}Response xmlns="${XMLNS}"><${action}Result>${membersXml(action, output)}</${action}Result>` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
  );
}

function membersXml(action: string, members: Record<string, unknown>): string {
  let xml = '';
  for (const [name, value] of Object.entries(members)) {
    if (value === undefined || value === null) continue;
    if (name === 'Attributes') xml += pairsXml('Attribute', 'Name', 'Value', value as Record<string, string>);
    else if (name === 'Tags') xml += pairsXml('Tag', 'Key', 'Value', value as Record<string, string>);
    else if (name === 'QueueUrls' || name === 'queueUrls') {
      for (const url of value as string[]) xml += element('QueueUrl', url);
    } else if (name === 'Messages') {
      for (const message of value as Record<string, unknown>[])
        xml += `<Message>${membersXml(action, message)}</Message>`;
    } else if (name === 'MessageAttributes') {
      for (const [key, attribute] of Object.entries(value as Record<string, Record<string, string>>)) {
        let inner = '';
        for (const field of ['StringValue', 'BinaryValue', 'DataType']) {
          if (attribute[field] !== undefined) inner += element(field, attribute[field]!);
        }
        xml += `<MessageAttribute>${element('Name', key)}<Value>${inner}</Value></MessageAttribute>`;
      }
    } else if (name === 'Results') {
      for (const entry of value as Record<string, unknown>[]) {
        xml += `<ListMessageMoveTasksResultEntry>${membersXml(action, entry)}</ListMessageMoveTasksResultEntry>`;
      }
    } else if (name === 'Successful') {
      for (const entry of value as Record<string, unknown>[]) {
        xml += `<${BATCH_RESULT_ENTRY[action]}>${membersXml(action, entry)}</${BATCH_RESULT_ENTRY[action]}>`;
      }
    } else if (name === 'Failed') {
      for (const entry of value as Record<string, unknown>[]) {
        xml += `<BatchResultErrorEntry>${membersXml(action, entry)}</BatchResultErrorEntry>`;
      }
    } else {
      xml += element(name, String(value));
    }
  }
  return xml;
}

function pairsXml(
  wrapper: string,
  keyName: string,
  valueName: string,
  pairs: Record<string, string>,
): string {
  let xml = '';
  for (const [key, value] of Object.entries(pairs)) {
    xml += `<${wrapper}>${element(keyName, key)}${element(valueName, value)}</${wrapper}>`;
  }
  return xml;
}

/**
 * SNS over the AWS query protocol, the only protocol SNS speaks: `POST /` with a form body
 * (`Action=Publish&Version=2010-03-31&...`), or a GET with the parameters in the URL (an UnsubscribeURL),
 * answered in XML (`<PublishResponse><PublishResult>...`, `<ErrorResponse><Error><Type>Sender</Type>...`).
 * `@aws-sdk/client-sns` and every AWS CLI use it.
 *
 * SNS shares the embedded AWS's endpoint with SQS, whose own query protocol (`../sqs/query-protocol.ts`) is
 * attached to the same server; attach this one after it, so SNS sees requests first. A request is SNS's when
 * its SigV4 credential scope names `sns` (`Credential=<key>/<date>/<region>/sns/aws4_request`, as the SDK and
 * the CLI sign), or, unsigned, when its Action is one of SNS's; everything else (a scope naming another
 * service, another Action) goes on, untouched, to the handlers attached before. An unsigned form POST must be
 * read to find its Action; when it is not SNS's, the handlers after this one get a copy holding that body.
 */
import { randomUUID } from 'node:crypto';
import { IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { AwsError } from '../aws/errors.ts';
import { element, escapeXml, sendXml as send } from '../aws/xml.ts';
import { snsErrors } from './errors.ts';
import { isSnsAction, MapMember, type ResultMembers, runSnsAction, type SnsAction } from './sns-actions.ts';
import type { SnsEngine } from './sns-engine.ts';

const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';
/** A 256 KiB message, form-encoded (up to 3 bytes a byte), with its attributes. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;
/** Actions SNS answers without a `<…Result>` element. */
const NO_RESULT: ReadonlySet<SnsAction> = new Set([
  'DeleteTopic',
  'SetTopicAttributes',
  'Unsubscribe',
  'SetSubscriptionAttributes',
]);

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Puts SNS's query protocol in front of a server made by `createAwsServer` (after `attachSqsQueryProtocol`).
 * Give the engine's promise when it opens after the server listens: SNS requests wait for it.
 *
 * @example
 * attachSqsQueryProtocol(server, sqs);
 * attachSnsQueryProtocol(server, SnsEngine.open({ dataDir: null }));
 */
export function attachSnsQueryProtocol(server: Server, sns: SnsEngine | Promise<SnsEngine>): void {
  const engine = Promise.resolve(sns);
  // An engine that failed to open fails the requests that wait for it, nothing else.
  engine.catch(() => {});
  const downstream = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  const passOn = (req: IncomingMessage, res: ServerResponse) => {
    for (const listener of downstream) listener.call(server, req, res);
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const route = routeOf(req);
    if (route === 'elsewhere') {
      passOn(req, res);
      return;
    }
    serve(req, res, route === 'sns', engine, passOn).catch(() => res.destroy());
  });
}

/** Whose request this is, from its headers and URL alone; `unknown` when only its body can tell. */
function routeOf(req: IncomingMessage): 'sns' | 'elsewhere' | 'unknown' {
  if (req.headers['x-amz-target'] !== undefined) return 'elsewhere';
  const type = req.headers['content-type'] ?? '';
  const urlAction = new URLSearchParams(queryOf(req.url)).get('Action');
  const form = req.method === 'POST' && type.startsWith('application/x-www-form-urlencoded');
  if (!form && !(req.method === 'GET' && urlAction !== null)) return 'elsewhere';
  const service = signedServiceOf(req);
  if (service !== undefined) return service === 'sns' ? 'sns' : 'elsewhere';
  if (urlAction !== null) return isSnsAction(urlAction) ? 'sns' : 'elsewhere';
  return 'unknown';
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  known: boolean,
  engine: Promise<SnsEngine>,
  passOn: RequestListener,
): Promise<void> {
  const requestId = randomUUID();
  res.on('error', () => {});
  try {
    const body = await readBody(req);
    const params = new URLSearchParams(body.toString('utf8'));
    for (const [key, value] of new URLSearchParams(queryOf(req.url))) {
      if (!params.has(key)) params.set(key, value);
    }
    const action = params.get('Action');
    if (!known && (action === null || !isSnsAction(action))) {
      passOn(withBody(req, body), res);
      return;
    }
    if (action === null) throw snsErrors.missingAction();
    if (!isSnsAction(action)) throw snsErrors.invalidAction();
    const members = await runSnsAction(action, params, await engine);
    send(res, 200, resultXml(action, members, requestId), requestId);
  } catch (error) {
    const aws = error instanceof AwsError ? error : undefined;
    if (aws === undefined) {
      console.error(
        JSON.stringify({ level: 'error', message: 'SNS request failed', requestId, error: describe(error) }),
      );
    }
    const code = aws?.queryErrorCode ?? aws?.name ?? 'InternalError';
    const message = aws?.message ?? 'The request processing has failed because of an unknown error.';
    const xml =
      `<?xml version="1.0"?><ErrorResponse xmlns="${XMLNS}"><Error><Type>${aws?.fault ?? 'Receiver'}</Type>` +
      `<Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error>` +
      `<RequestId>${requestId}</RequestId></ErrorResponse>`;
    send(res, aws?.statusCode ?? 500, xml, requestId);
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(
          new AwsError('RequestEntityTooLarge', `Request size exceeds the limit of ${MAX_BODY_BYTES} bytes`, {
            statusCode: 413,
          }),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

/** A request that reads as `req` did, body included, for the handlers after this one. */
function withBody(req: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = new IncomingMessage(req.socket);
  copy.method = req.method;
  copy.url = req.url;
  copy.headers = req.headers;
  copy.rawHeaders = req.rawHeaders;
  copy.httpVersion = req.httpVersion;
  copy.httpVersionMajor = req.httpVersionMajor;
  copy.httpVersionMinor = req.httpVersionMinor;
  copy.push(body);
  copy.push(null);
  copy.complete = true;
  return copy;
}

/** The service named in `Credential=<key>/<date>/<region>/<service>/aws4_request`, when the request is signed. */
function signedServiceOf(req: IncomingMessage): string | undefined {
  return req.headers.authorization?.match(
    /Credential=[^/,\s]+\/\d{8}\/[a-z0-9-]+\/([a-z0-9-]+)\/aws4_request/,
  )?.[1];
}

function queryOf(url: string | undefined): string {
  const raw = url ?? '';
  const index = raw.indexOf('?');
  return index === -1 ? '' : raw.slice(index + 1);
}

// ─── XML ─────────────────────────────────────────────────────────────────────────────────────────────────

function resultXml(action: SnsAction, members: ResultMembers, requestId: string): string {
  const result = NO_RESULT.has(action) ? '' : `<${action}Result>${membersXml(members)}</${action}Result>`;
  return (
    `<?xml version="1.0"?><${action}Response xmlns="${XMLNS}">${result}` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
  );
}

function membersXml(members: ResultMembers): string {
  let xml = '';
  for (const [name, value] of Object.entries(members)) {
    if (typeof value === 'string') {
      xml += element(name, value);
    } else if (value instanceof MapMember) {
      let entries = '';
      for (const [key, text] of Object.entries(value.entries)) {
        entries += `<entry>${element('key', key)}${element('value', text)}</entry>`;
      }
      xml += `<${name}>${entries}</${name}>`;
    } else {
      let list = '';
      for (const structure of value) list += `<member>${membersXml(structure)}</member>`;
      xml += `<${name}>${list}</${name}>`;
    }
  }
  return xml;
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
}

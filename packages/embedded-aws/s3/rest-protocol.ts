/**
 * S3's REST-XML protocol over the embedded AWS's endpoint, path-style (clients set `forcePathStyle: true`):
 * `GET /` lists buckets, `/<bucket>` is a bucket and `/<bucket>/<key>` an object, the method picks the
 * operation, objects travel as raw bodies with their metadata in headers, and other answers are XML documents
 * in S3's namespace. Errors are S3's `<Error><Code>…</Code><Message>…</Message>…</Error>` with its statuses;
 * HEAD errors carry no body, so the SDK names them by status (`NotFound`), as with S3.
 *
 * Served: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, ListObjectsV2, PutObject,
 * GetObject (one byte range, response-* overrides), HeadObject, CopyObject, DeleteObject. Other operations
 * (sub-resources such as `?tagging`, `?uploads`, `?versioning`; ListObjects v1; POST) are answered
 * NotImplemented rather than misread as one of these.
 *
 * The server (`../aws/server.ts`) hands over every request signed for `s3` (SigV4 credential scope), whole.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { AwsError } from '../aws/errors.ts';
import { ClientGone, drain, readBody } from '../aws/request-body.ts';
import type { RequestContext, SignedHttpService } from '../aws/server.ts';
import { element, escapeXml } from '../aws/xml.ts';
import { decodeAwsChunked, isAwsChunked, storedContentEncoding } from './aws-chunked.ts';
import { checksumHeader, checksumOf, verifyChecksum, verifyContentMd5 } from './checksums.ts';
import { S3Error, s3Errors } from './errors.ts';
import type { ObjectHeaders } from './journal-records.ts';
import type { S3Engine, S3ObjectHead, S3ObjectSummary } from './s3-engine.ts';

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
/** After refusing an oversized body, read (and drop) at most this much more before hanging up. */
const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;

/** Query parameters naming sub-resources and operations not served here. */
const UNSUPPORTED_SUBRESOURCES = [
  'accelerate',
  'acl',
  'analytics',
  'attributes',
  'cors',
  'delete',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'legal-hold',
  'lifecycle',
  'logging',
  'metadataConfiguration',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'partNumber',
  'policy',
  'policyStatus',
  'publicAccessBlock',
  'renameObject',
  'replication',
  'requestPayment',
  'restore',
  'retention',
  'select',
  'session',
  'tagging',
  'torrent',
  'uploadId',
  'uploads',
  'versioning',
  'versions',
  'website',
];

/** GetObject's query parameters that override response headers (presigned URLs use them). */
const RESPONSE_OVERRIDES: Readonly<Record<string, string>> = {
  'response-content-type': 'Content-Type',
  'response-content-language': 'Content-Language',
  'response-expires': 'Expires',
  'response-cache-control': 'Cache-Control',
  'response-content-disposition': 'Content-Disposition',
  'response-content-encoding': 'Content-Encoding',
};

/**
 * The S3 handler for `createAwsServer`'s `signedServices`. Give the engine's promise when it opens later:
 * requests wait for it.
 *
 * @example
 * createAwsServer({ services: [], signedServices: [createS3Service(s3)] });
 * // new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials })
 */
export function createS3Service(engine: S3Engine | Promise<S3Engine>): SignedHttpService {
  const ready = Promise.resolve(engine);
  ready.catch(() => {});
  return {
    signingName: 's3',
    handle: async (req, res, context) => serve(req, res, context, await ready),
  };
}

interface S3Request {
  readonly method: string;
  readonly bucket: string | undefined;
  readonly key: string | undefined;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly context: RequestContext;
}

/** What an operation answers: a status, headers, and a body (none for HEAD). */
interface Answer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  context: RequestContext,
  engine: S3Engine,
): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const hostId = randomBytes(24).toString('base64');
  res.setHeader('x-amz-request-id', context.requestId);
  res.setHeader('x-amz-id-2', hostId);
  let resource = '/';
  let reading = false;
  try {
    const request = parseRequest(req, method, context);
    resource = `/${[request.bucket, request.key].filter((part) => part !== undefined).join('/')}`;
    // Every body is read whole (and bounded) first, also where an operation takes none: the connection
    // then stays usable for the client's next request.
    reading = true;
    const body = await readRequestBody(req, engine.maxObjectBytes);
    send(res, method, await operate(request, engine, body));
  } catch (error) {
    if (error instanceof ClientGone) return;
    const s3 = error instanceof AwsError ? error : s3Errors.internalError();
    if (s3 !== error) {
      console.error(
        JSON.stringify({
          level: 'error',
          message: 'S3 request failed',
          requestId: context.requestId,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        }),
      );
    }
    // Refused before its body was read: let the body go by, boundedly, so the answer can be read.
    if (!reading) drain(req, drainBytesFor(engine.maxObjectBytes));
    send(res, method, errorAnswer(s3, resource, context.requestId, hostId));
  }
}

function parseRequest(req: IncomingMessage, method: string, context: RequestContext): S3Request {
  const url = req.url ?? '/';
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const query = new URLSearchParams(queryAt === -1 ? '' : url.slice(queryAt + 1));
  const rest = path.replace(/^\/+/, '');
  const slash = rest.indexOf('/');
  const rawBucket = slash === -1 ? rest : rest.slice(0, slash);
  const rawKey = slash === -1 ? '' : rest.slice(slash + 1);
  return {
    method,
    bucket: rawBucket === '' ? undefined : decodePath(rawBucket),
    key: rawKey === '' ? undefined : decodePath(rawKey),
    query,
    headers: req.headers,
    context,
  };
}

function decodePath(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new S3Error('InvalidURI', "Couldn't parse the specified URI.", 400);
  }
}

// ─── Operations ──────────────────────────────────────────────────────────────────────────────────────────

async function operate(request: S3Request, engine: S3Engine, body: Buffer): Promise<Answer> {
  const { method, bucket, key, query } = request;
  const unsupported = UNSUPPORTED_SUBRESOURCES.find((name) => query.has(name));
  if (unsupported !== undefined) throw s3Errors.notImplemented(`?${unsupported}`);

  if (bucket === undefined) {
    if (method === 'GET') return listBuckets(request, engine);
    throw s3Errors.methodNotAllowed(method, 'SERVICE');
  }
  if (key === undefined) {
    switch (method) {
      case 'PUT':
        return createBucket(request, bucket, engine, body);
      case 'HEAD':
        return headBucket(bucket, engine);
      case 'DELETE':
        await engine.deleteBucket(bucket);
        return { status: 204 };
      case 'GET':
        if (query.has('location')) return bucketLocation(bucket, engine);
        if (query.get('list-type') === '2') return listObjectsV2(request, bucket, engine);
        throw s3Errors.notImplemented('ListObjects (version 1); use ListObjectsV2');
      case 'POST':
        throw s3Errors.notImplemented(`POST /${bucket}`);
      default:
        throw s3Errors.methodNotAllowed(method, 'BUCKET');
    }
  }
  checkVersionId(query);
  switch (method) {
    case 'PUT':
      if (request.headers['x-amz-copy-source'] !== undefined) return copyObject(request, bucket, key, engine);
      return putObject(request, bucket, key, engine, body);
    case 'GET':
      return getObject(request, bucket, key, engine);
    case 'HEAD':
      return { status: 200, headers: objectHeaders(engine.headObject(bucket, key), request, 'all') };
    case 'DELETE':
      await engine.deleteObject(bucket, key);
      return { status: 204 };
    case 'POST':
      throw s3Errors.notImplemented(`POST /${bucket}/${key}`);
    default:
      throw s3Errors.methodNotAllowed(method, 'OBJECT');
  }
}

function listBuckets(request: S3Request, engine: S3Engine): Answer {
  const { query } = request;
  const maxBuckets = query.get('max-buckets');
  if (maxBuckets !== null && !/^\d+$/.test(maxBuckets)) {
    throw s3Errors.invalidArgument('Invalid max-buckets', 'max-buckets', maxBuckets);
  }
  const result = engine.listBuckets({
    ...(query.has('prefix') ? { prefix: query.get('prefix')! } : {}),
    ...(maxBuckets === null ? {} : { maxBuckets: Math.max(1, Math.min(10_000, Number(maxBuckets))) }),
    ...(query.has('continuation-token') ? { continuationToken: query.get('continuation-token')! } : {}),
  });
  const buckets = result.buckets
    .map(
      (bucket) =>
        `<Bucket>${element('Name', bucket.name)}${element('CreationDate', bucket.createdAt.toISOString())}` +
        `${element('BucketRegion', bucket.region)}${element('BucketArn', bucketArn(bucket.name))}</Bucket>`,
    )
    .join('');
  return xmlAnswer(
    200,
    'ListAllMyBucketsResult',
    `${ownerXml(engine)}<Buckets>${buckets}</Buckets>` +
      optionalElement('ContinuationToken', result.continuationToken) +
      optionalElement('Prefix', result.prefix),
  );
}

async function createBucket(
  request: S3Request,
  bucket: string,
  engine: S3Engine,
  body: Buffer,
): Promise<Answer> {
  const region = request.context.region;
  const constraint = locationConstraintOf(body);
  if (constraint === '' && region !== 'us-east-1') throw s3Errors.illegalLocationConstraint('', region);
  if (constraint === 'us-east-1') throw s3Errors.invalidLocationConstraint(constraint);
  // The us-east-1 endpoint creates buckets in any region; a regional one only in its own.
  if (constraint !== '' && region !== 'us-east-1' && constraint !== region) {
    throw s3Errors.illegalLocationConstraint(constraint, region);
  }
  const created = await engine.createBucket(bucket, { region: constraint === '' ? 'us-east-1' : constraint });
  return {
    status: 200,
    headers: { Location: `/${created.name}`, 'x-amz-bucket-arn': bucketArn(created.name) },
  };
}

/** The LocationConstraint of a CreateBucketConfiguration body, '' when there is none. */
function locationConstraintOf(body: Buffer): string {
  const text = body.toString('utf8').trim();
  if (text === '') return '';
  if (!/<CreateBucketConfiguration[\s>][\s\S]*<\/CreateBucketConfiguration>\s*$/.test(text)) {
    throw s3Errors.malformedXml();
  }
  return /<LocationConstraint>([^<]*)<\/LocationConstraint>/.exec(text)?.[1]?.trim() ?? '';
}

function headBucket(bucket: string, engine: S3Engine): Answer {
  const found = engine.headBucket(bucket);
  return {
    status: 200,
    headers: {
      'x-amz-bucket-region': found.region,
      'x-amz-access-point-alias': 'false',
      'x-amz-bucket-arn': bucketArn(found.name),
    },
  };
}

function bucketLocation(bucket: string, engine: S3Engine): Answer {
  const { region } = engine.headBucket(bucket);
  // us-east-1 is answered as no constraint, as S3 answers it.
  const xml =
    region === 'us-east-1'
      ? `<LocationConstraint xmlns="${XMLNS}"/>`
      : `<LocationConstraint xmlns="${XMLNS}">${escapeXml(region)}</LocationConstraint>`;
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body: xmlDeclaration(xml) };
}

function listObjectsV2(request: S3Request, bucket: string, engine: S3Engine): Answer {
  const { query } = request;
  const encodingType = query.get('encoding-type');
  if (encodingType !== null && encodingType !== 'url') {
    throw s3Errors.invalidArgument(
      'Invalid Encoding Method specified in Request',
      'encoding-type',
      encodingType,
    );
  }
  const maxKeysText = query.get('max-keys');
  if (maxKeysText !== null && !/^\d+$/.test(maxKeysText)) {
    throw s3Errors.invalidArgument(
      'Provided max-keys not an integer or within integer range',
      'max-keys',
      maxKeysText,
    );
  }
  const fetchOwner = query.get('fetch-owner') === 'true';
  const result = engine.listObjects({
    bucket,
    ...(query.has('prefix') ? { prefix: query.get('prefix')! } : {}),
    ...(query.has('delimiter') ? { delimiter: query.get('delimiter')! } : {}),
    ...(maxKeysText === null ? {} : { maxKeys: Math.min(Number(maxKeysText), 1000) }),
    ...(query.has('continuation-token') ? { continuationToken: query.get('continuation-token')! } : {}),
    ...(query.has('start-after') ? { startAfter: query.get('start-after')! } : {}),
  });
  const encode = encodingType === 'url' ? urlEncodeKey : (text: string) => text;
  const owner = fetchOwner ? ownerXml(engine) : '';
  const contents = result.contents
    .map((object) => `<Contents>${objectSummaryXml(object, encode)}${owner}</Contents>`)
    .join('');
  const commonPrefixes = result.commonPrefixes
    .map((prefix) => `<CommonPrefixes>${element('Prefix', encode(prefix))}</CommonPrefixes>`)
    .join('');
  return xmlAnswer(
    200,
    'ListBucketResult',
    element('Name', result.bucket) +
      element('Prefix', encode(result.prefix)) +
      optionalElement('Delimiter', result.delimiter === undefined ? undefined : encode(result.delimiter)) +
      element('MaxKeys', String(result.maxKeys)) +
      element('KeyCount', String(result.keyCount)) +
      element('IsTruncated', String(result.isTruncated)) +
      optionalElement('EncodingType', encodingType ?? undefined) +
      optionalElement('ContinuationToken', result.continuationToken) +
      optionalElement('NextContinuationToken', result.nextContinuationToken) +
      optionalElement('StartAfter', result.startAfter === undefined ? undefined : encode(result.startAfter)) +
      contents +
      commonPrefixes,
  );
}

function objectSummaryXml(object: S3ObjectSummary, encode: (text: string) => string): string {
  return (
    element('Key', encode(object.key)) +
    element('LastModified', object.lastModified.toISOString()) +
    element('ETag', object.etag) +
    optionalElement('ChecksumAlgorithm', object.checksumAlgorithm) +
    (object.checksumAlgorithm === undefined ? '' : element('ChecksumType', 'FULL_OBJECT')) +
    element('Size', String(object.size)) +
    element('StorageClass', 'STANDARD')
  );
}

async function putObject(
  request: S3Request,
  bucket: string,
  key: string,
  engine: S3Engine,
  raw: Buffer,
): Promise<Answer> {
  const { headers } = request;
  let body = raw;
  let trailers: Readonly<Record<string, string>> = {};
  if (isAwsChunked(headers)) {
    ({ body, trailers } = decodeAwsChunked(raw, headerValue(headers, 'x-amz-decoded-content-length')));
  }
  const contentMd5 = headerValue(headers, 'content-md5');
  if (contentMd5 !== undefined) verifyContentMd5(body, contentMd5);
  const checksum = checksumOf(headers) ?? checksumOf(trailers);
  if (checksum !== undefined) verifyChecksum(body, checksum);
  const contentType = headerValue(headers, 'content-type');
  const stored = await engine.putObject({
    bucket,
    key,
    body,
    ...(contentType === undefined ? {} : { contentType }),
    metadata: metadataOf(headers),
    headers: storedHeadersOf(headers),
    ...(checksum === undefined ? {} : { checksum }),
  });
  return {
    status: 200,
    headers: {
      ETag: stored.etag,
      'x-amz-server-side-encryption': 'AES256',
      ...(stored.checksum === undefined
        ? {}
        : { [checksumHeader(stored.checksum)]: stored.checksum.value, 'x-amz-checksum-type': 'FULL_OBJECT' }),
    },
  };
}

async function copyObject(
  request: S3Request,
  bucket: string,
  key: string,
  engine: S3Engine,
): Promise<Answer> {
  const { headers } = request;
  const source = copySourceOf(headerValue(headers, 'x-amz-copy-source') ?? '');
  const directive = (headerValue(headers, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw s3Errors.invalidArgument('Unknown metadata directive.', 'x-amz-metadata-directive', directive);
  }
  const contentType = headerValue(headers, 'content-type');
  const copied = await engine.copyObject({
    sourceBucket: source.bucket,
    sourceKey: source.key,
    bucket,
    key,
    metadataDirective: directive,
    ...(contentType === undefined ? {} : { contentType }),
    metadata: metadataOf(headers),
    headers: storedHeadersOf(headers),
  });
  return xmlAnswer(
    200,
    'CopyObjectResult',
    element('ETag', copied.etag) +
      element('LastModified', copied.lastModified.toISOString()) +
      (copied.checksum === undefined
        ? ''
        : element('ChecksumType', 'FULL_OBJECT') +
          element(`Checksum${copied.checksum.algorithm}`, copied.checksum.value)),
    { 'x-amz-server-side-encryption': 'AES256' },
  );
}

/** `x-amz-copy-source`: `<bucket>/<key>` or `/<bucket>/<key>`, URL-encoded, maybe with `?versionId=`. */
function copySourceOf(header: string): { bucket: string; key: string } {
  const [path = '', version] = header.split('?');
  const decoded = decodePath(path).replace(/^\//, '');
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw s3Errors.invalidArgument('Invalid copy source object key', 'x-amz-copy-source', header);
  }
  if (version !== undefined) checkVersionId(new URLSearchParams(version));
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) };
}

function getObject(request: S3Request, bucket: string, key: string, engine: S3Engine): Answer {
  const object = engine.getObject(bucket, key);
  const range = rangeOf(headerValue(request.headers, 'range'), object.size);
  const headers = objectHeaders(object, request, range === undefined ? 'all' : 'part');
  for (const [parameter, header] of Object.entries(RESPONSE_OVERRIDES)) {
    const value = request.query.get(parameter);
    if (value !== null) headers[header] = value;
  }
  if (range === undefined) return { status: 200, headers, body: object.body };
  headers['Content-Range'] = `bytes ${range.start}-${range.end}/${object.size}`;
  headers['Content-Length'] = String(range.end - range.start + 1);
  return { status: 206, headers, body: object.body.subarray(range.start, range.end + 1) };
}

/**
 * One byte range of `Range: bytes=<first>-<last>`, `bytes=<first>-` or `bytes=-<suffix length>`; undefined
 * for none or one S3 ignores (malformed, or several ranges), InvalidRange when it is beyond the object.
 */
function rangeOf(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) throw s3Errors.invalidRange(size, header);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Number(last);
  if (end < start) return undefined;
  if (start >= size) throw s3Errors.invalidRange(size, header);
  return { start, end: Math.min(end, size - 1) };
}

/** The headers GetObject and HeadObject answer for an object (a checksum only for the whole object). */
function objectHeaders(
  object: S3ObjectHead,
  request: S3Request,
  scope: 'all' | 'part',
): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': object.contentType,
    'Content-Length': String(object.size),
    ETag: object.etag,
    'Last-Modified': object.lastModified.toUTCString(),
    'Accept-Ranges': 'bytes',
    'x-amz-server-side-encryption': 'AES256',
    'x-amz-storage-class': 'STANDARD',
  };
  const stored = object.headers;
  if (stored.cacheControl !== undefined) headers['Cache-Control'] = stored.cacheControl;
  if (stored.contentDisposition !== undefined) headers['Content-Disposition'] = stored.contentDisposition;
  if (stored.contentEncoding !== undefined) headers['Content-Encoding'] = stored.contentEncoding;
  if (stored.contentLanguage !== undefined) headers['Content-Language'] = stored.contentLanguage;
  if (stored.expires !== undefined) headers.Expires = stored.expires;
  for (const [name, value] of Object.entries(object.metadata))
    headers[`x-amz-meta-${name}`] = headerSafe(value);
  const checksumWanted = headerValue(request.headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED';
  if (object.checksum !== undefined && checksumWanted && scope === 'all') {
    headers[checksumHeader(object.checksum)] = object.checksum.value;
    headers['x-amz-checksum-type'] = 'FULL_OBJECT';
  }
  return headers;
}

/** Only the null version exists: no versioning here. */
function checkVersionId(query: URLSearchParams): void {
  const versionId = query.get('versionId');
  if (versionId !== null && versionId !== 'null') {
    throw s3Errors.invalidArgument('Invalid version id specified', 'versionId', versionId);
  }
}

// ─── Request headers ─────────────────────────────────────────────────────────────────────────────────────

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** User metadata: the `x-amz-meta-*` headers, named without the prefix (Node gives names in lowercase). */
function metadataOf(headers: IncomingHttpHeaders): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    if (name.startsWith('x-amz-meta-'))
      metadata[name.slice('x-amz-meta-'.length)] = headerValue(headers, name)!;
  }
  return metadata;
}

function storedHeadersOf(headers: IncomingHttpHeaders): ObjectHeaders {
  const cacheControl = headerValue(headers, 'cache-control');
  const contentDisposition = headerValue(headers, 'content-disposition');
  const contentEncoding = storedContentEncoding(headers);
  const contentLanguage = headerValue(headers, 'content-language');
  const expires = headerValue(headers, 'expires');
  return {
    ...(cacheControl === undefined ? {} : { cacheControl }),
    ...(contentDisposition === undefined ? {} : { contentDisposition }),
    ...(contentEncoding === undefined ? {} : { contentEncoding }),
    ...(contentLanguage === undefined ? {} : { contentLanguage }),
    ...(expires === undefined ? {} : { expires }),
  };
}

/** A metadata value as an HTTP header can carry it: non-ASCII text RFC 2047-encoded, as S3 answers it. */
function headerSafe(value: string): string {
  if (/^[\x20-\x7e\t]*$/.test(value)) return value;
  return `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

// ─── Request bodies ──────────────────────────────────────────────────────────────────────────────────────

/**
 * The whole body, refused with EntityTooLarge past what an object of `maxObjectBytes` takes (with room for
 * aws-chunked framing, which the engine's own check sees past).
 */
function readRequestBody(req: IncomingMessage, maxObjectBytes: number): Promise<Buffer> {
  const maxBytes = isAwsChunked(req.headers)
    ? maxObjectBytes + Math.max(1024 * 1024, maxObjectBytes / 8)
    : maxObjectBytes;
  const decoded = Number(req.headers['x-amz-decoded-content-length'] ?? Number.NaN);
  return readBody(req, {
    maxBytes,
    tooLarge: (bytes) => s3Errors.entityTooLarge(Number.isNaN(decoded) ? bytes : decoded, maxObjectBytes),
    drainBytes: drainBytesFor(maxObjectBytes),
  });
}

function drainBytesFor(maxObjectBytes: number): number {
  return Math.max(maxObjectBytes * 2, DRAIN_LIMIT_BYTES);
}

// ─── Responses ───────────────────────────────────────────────────────────────────────────────────────────

function send(res: ServerResponse, method: string, answer: Answer): void {
  if (res.headersSent || res.destroyed) return;
  const body = answer.body ?? '';
  const headers: Record<string, string> = { ...answer.headers };
  // A HEAD answer says how long the GET's body would be; it sends none.
  if (headers['Content-Length'] === undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
  res.writeHead(answer.status, headers);
  if (method === 'HEAD') res.end();
  else res.end(body);
}

function xmlAnswer(
  status: number,
  root: string,
  inner: string,
  headers: Record<string, string> = {},
): Answer {
  return {
    status,
    headers: { ...headers, 'Content-Type': 'application/xml' },
    body: xmlDeclaration(`<${root} xmlns="${XMLNS}">${inner}</${root}>`),
  };
}

/** S3's error document; a HEAD request gets the status alone, as from S3. */
function errorAnswer(error: AwsError, resource: string, requestId: string, hostId: string): Answer {
  const fields = Object.entries(error.fields)
    .map(([name, value]) => element(name, String(value)))
    .join('');
  const xml =
    `<Error>${element('Code', error.name)}${element('Message', error.message)}${fields}` +
    `${element('Resource', resource)}${element('RequestId', requestId)}${element('HostId', hostId)}</Error>`;
  return {
    status: error.statusCode,
    headers: { 'Content-Type': 'application/xml' },
    body: xmlDeclaration(xml),
  };
}

function xmlDeclaration(xml: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
}

function optionalElement(name: string, text: string | undefined): string {
  return text === undefined ? '' : element(name, text);
}

function ownerXml(engine: S3Engine): string {
  return `<Owner>${element('ID', canonicalUserId(engine.accountId))}</Owner>`;
}

/** S3 names owners by a 64-hex-digit canonical user ID; here it is derived from the account. */
function canonicalUserId(accountId: string): string {
  return createHash('sha256').update(`embedded-s3:${accountId}`).digest('hex');
}

function bucketArn(bucket: string): string {
  return `arn:aws:s3:::${bucket}`;
}

/** `encoding-type=url`: keys percent-encoded, with `/` kept and spaces as `+`, as S3 encodes them. */
function urlEncodeKey(text: string): string {
  return encodeURIComponent(text).replace(/%2F/g, '/').replace(/%20/g, '+');
}

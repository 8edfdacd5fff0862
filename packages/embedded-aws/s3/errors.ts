/**
 * The errors the embedded S3 answers with, named by S3's error codes (`NoSuchBucket`, `NoSuchKey`, ...), which
 * is what clients see: `err.name` in the SDK v3, `Error.Code` in the CLI, and the code a Step Functions
 * integration would report. Each carries the HTTP status S3 answers it with, and the extra elements S3 puts
 * in its `<Error>` document (`BucketName`, `Key`, ...) as `fields`.
 */
import { AwsError } from '../aws/errors.ts';

/**
 * An S3 error: `name` is its code; `fields` are further `<Error>` elements, written in their order.
 *
 * @example
 * throw new S3Error('NoSuchKey', 'The specified key does not exist.', 404, { Key: 'input.json' });
 */
export class S3Error extends AwsError {
  constructor(
    code: string,
    message: string,
    statusCode: number,
    fields: Readonly<Record<string, string>> = {},
  ) {
    super(code, message, { statusCode, fields });
  }
}

/**
 * The errors the engine and the REST protocol throw.
 *
 * @example
 * throw s3Errors.noSuchBucket('results');
 */
export const s3Errors = {
  noSuchBucket: (bucket: string) =>
    new S3Error('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: bucket }),
  noSuchKey: (key: string) =>
    new S3Error('NoSuchKey', 'The specified key does not exist.', 404, { Key: key }),
  bucketAlreadyOwnedByYou: (bucket: string) =>
    new S3Error(
      'BucketAlreadyOwnedByYou',
      'Your previous request to create the named bucket succeeded and you already own it.',
      409,
      { BucketName: bucket },
    ),
  bucketNotEmpty: (bucket: string) =>
    new S3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409, { BucketName: bucket }),
  invalidBucketName: (bucket: string) =>
    new S3Error('InvalidBucketName', 'The specified bucket is not valid.', 400, { BucketName: bucket }),
  keyTooLong: (key: string) =>
    new S3Error('KeyTooLongError', 'Your key is too long', 400, {
      Size: String(Buffer.byteLength(key)),
      MaxSizeAllowed: '1024',
    }),
  entityTooLarge: (size: number, maxBytes: number) =>
    new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', 400, {
      ProposedSize: String(size),
      MaxSizeAllowed: String(maxBytes),
    }),
  invalidDigest: (digest: string) =>
    new S3Error('InvalidDigest', 'The Content-MD5 you specified is not valid.', 400, {
      'Content-MD5': digest,
    }),
  badDigest: () =>
    new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.', 400),
  badChecksum: (algorithm: string) =>
    new S3Error('BadDigest', `The ${algorithm} you specified did not match the calculated checksum.`, 400),
  invalidChecksum: (header: string) =>
    new S3Error('InvalidRequest', `Value for ${header} header is invalid.`, 400),
  invalidRange: (size: number, range: string) =>
    new S3Error('InvalidRange', 'The requested range is not satisfiable', 416, {
      RangeRequested: range,
      ActualObjectSize: String(size),
    }),
  invalidArgument: (message: string, name?: string, value?: string) =>
    new S3Error(
      'InvalidArgument',
      message,
      400,
      name === undefined ? {} : { ArgumentName: name, ArgumentValue: value ?? '' },
    ),
  invalidRequest: (message: string) => new S3Error('InvalidRequest', message, 400),
  illegalLocationConstraint: (constraint: string, region: string) =>
    new S3Error(
      'IllegalLocationConstraintException',
      constraint === ''
        ? 'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.'
        : `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`,
      400,
      { Region: region },
    ),
  invalidLocationConstraint: (constraint: string) =>
    new S3Error('InvalidLocationConstraint', 'The specified location-constraint is not valid', 400, {
      LocationConstraint: constraint,
    }),
  malformedXml: () =>
    new S3Error(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
      400,
    ),
  incompleteBody: () =>
    new S3Error(
      'IncompleteBody',
      'You did not provide the number of bytes specified by the Content-Length HTTP header',
      400,
    ),
  methodNotAllowed: (method: string, resourceType: 'SERVICE' | 'BUCKET' | 'OBJECT') =>
    new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405, {
      Method: method,
      ResourceType: resourceType,
    }),
  notImplemented: (what: string) =>
    new S3Error(
      'NotImplemented',
      `A header or query you provided implies functionality that is not implemented: ${what}`,
      501,
    ),
  internalError: () =>
    new S3Error('InternalError', 'We encountered an internal error. Please try again.', 500),
};

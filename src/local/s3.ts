/**
 * The S3 stand-in: `@20minutes/s3rver` (path-style, verifies SigV4 signatures and presigned URL
 * expiry) on loopback, with the upload bucket and its CORS rules, plus what s3rver leaves out and
 * real S3 does, because the end-to-end tests rely on it:
 * - requests without any signature are refused (`AccessDenied`), like a bucket that blocks public access;
 * - a signed request carrying an `x-amz-*` header it did not sign is refused (`AccessDenied`,
 *   `HeadersNotSigned`): a presigned URL cannot gain unsigned user metadata;
 * - a body whose MD5 differs from a `Content-MD5` header, or whose SHA-256 differs from an
 *   `x-amz-checksum-sha256` header, is refused (`BadDigest`) and not stored (PutObject and UploadPart);
 * - object-created events carry the real S3 event name, including `ObjectCreated:CompleteMultipartUpload`;
 * - multipart uploads behave as in S3 (ListParts, ListMultipartUploads, AbortMultipartUpload, NoSuchUpload,
 *   part checks and `x-amz-mp-object-size` at completion): see s3-multipart.ts;
 * - the bucket is versioned: each write is staged and committed as a new version (`x-amz-version-id`, and
 *   `versionId` in the object-created event); `If-None-Match: *` (PutObject, CompleteMultipartUpload)
 *   answers 412 `PreconditionFailed` when the key exists, the first of concurrent conditional writes wins;
 *   an overwritten object's tags stay with the old version (the new one has none); a refused write
 *   (BadDigest) leaves the current object as it was; GetObject, HeadObject, Get/PutObjectTagging and
 *   DeleteObject take `versionId` (delete markers included): see s3-versions.ts; ListObjectVersions lists
 *   them: see s3-list-versions.ts;
 * - SigV4 canonical requests are built as S3 builds them (bucket paths with a trailing `/`, the query
 *   sorted by name and RFC 3986-encoded), so ListObjectsV2 and ListMultipartUploads verify: see s3-signature.ts;
 * - form uploads (POST) are judged by their policy before anything is stored: SigV4 signature over the
 *   base64 policy, expiry, every condition (`eq`, `starts-with`, `content-length-range`, `bucket`), every
 *   field covered, S3's error codes and messages: see s3-post-policy.ts;
 * - error documents are escaped once, as S3 escapes them (s3rver escapes them twice).
 *
 * Not emulated: Transfer Acceleration, bucket policies (the CDN stand-in applies the verification gate
 * itself), lifecycle rules, SigV2 POST forms, 409 `ConditionalRequestConflict`.
 * Each module's header lists its own limits.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, Server } from 'node:http';
import * as path from 'node:path';
import S3rver from '@20minutes/s3rver';
import AWSAccount from '@20minutes/s3rver/lib/models/account';
import S3Error from '@20minutes/s3rver/lib/models/error';
import { S3Client } from '@aws-sdk/client-s3';
import { close, listen, origin } from './net';
import { ObjectCreated, ObjectCreatedEventName, createSequencer } from './s3-events';
import { addListObjectVersions } from './s3-list-versions';
import { addMultipartEmulation } from './s3-multipart';
import { addPostPolicyChecks, isFormPost } from './s3-post-policy';
import { useS3CanonicalRequests } from './s3-signature';
import { addVersioning } from './s3-versions';
import { UploadCorsRule } from '../contract/delivery';

/** Credentials the S3 stand-in accepts (and the local signer signs with). */
export interface LocalCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The key pair s3rver knows out of the box. */
export const S3RVER_CREDENTIALS: LocalCredentials = Object.freeze({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });

/** Options of {@link startLocalS3}. */
export interface LocalS3Options {
  readonly host: string;
  /** 0 = ephemeral. */
  readonly port: number;
  readonly bucket: string;
  readonly region: string;
  /** The bucket's CORS rules (`uploadCorsRules(allowedOrigins)`); none = no CORS configuration. */
  readonly corsRules: readonly UploadCorsRule[];
  readonly credentials: LocalCredentials;
  /** Where objects are stored; the caller owns (and removes) it. */
  readonly directory: string;
  /** Called for every object created, synchronously, while the request is still being answered. */
  readonly onObjectCreated?: (created: ObjectCreated) => void;
  /** The option name that sets the port, for error messages. @default 'ports.s3' */
  readonly portOption?: string;
}

/** A running S3 stand-in. */
export interface LocalS3 {
  /** `http://host:port`: path-style endpoint (`${endpoint}/${bucket}/${key}`). */
  readonly endpoint: string;
  readonly port: number;
  readonly bucket: string;
  /** An S3 client for this endpoint with the accepted credentials (destroyed by `stop()`). */
  readonly client: S3Client;
  stop(): Promise<void>;
}

/** An S3 `CORSConfiguration` document for the given rules. */
export function corsConfigurationXml(rules: readonly UploadCorsRule[]): string {
  const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const tags = (tag: string, values: readonly string[]) => values.map((v) => `<${tag}>${esc(v)}</${tag}>`).join('');
  const body = rules.map((r) =>
    '<CORSRule>' +
      tags('AllowedOrigin', r.allowedOrigins) +
      tags('AllowedMethod', r.allowedMethods) +
      tags('AllowedHeader', r.allowedHeaders) +
      tags('ExposeHeader', r.exposedHeaders) +
      `<MaxAgeSeconds>${r.maxAgeSeconds}</MaxAgeSeconds>` +
    '</CORSRule>').join('');
  return `<?xml version="1.0" encoding="UTF-8"?><CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${body}</CORSConfiguration>`;
}

/** What s3rver's store returns for a GET (the fields read here). */
interface RangedObject {
  range?: unknown;
  size?: number | string;
  content: { destroy(): void } | null;
}

/** Koa context fields read here (s3rver's context is a Koa context). */
interface RequestContext extends S3rver.Context {
  /** `versionId`: the version the request created (set by the version layer). */
  readonly state: { account?: unknown; versionId?: string };
}

/** The store's operations (its helpers, called by these, are not guarded again). */
const GUARDED_STORE_METHODS: readonly string[] = [
  'listBuckets', 'getBucket', 'putBucket', 'deleteBucket', 'listObjects', 'existsObject', 'getObject', 'putObject',
  'copyObject', 'deleteObject', 'initiateUpload', 'putPart', 'putObjectMultipart', 'getSubresource', 'putSubresource',
  'deleteSubresource',
];

/** Directories of the stand-in's own beside the buckets (noncurrent versions, staged writes). */
const INTERNAL_DIRECTORY = /^\._S3rver_/;

/** Store methods that stay callable without a signature: CORS evaluation happens before authentication. */
function isPublicStoreCall(method: string, args: unknown[]): boolean {
  return method === 'getSubresource' && (args[2] === 'cors' || args[2] === 'website');
}


const escapeXml = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

// s3rver escapes error documents twice (`"` arrives as `&amp;quot;`): S3 escapes them once.
S3Error.prototype.toXML = function toXML(this: S3Error): string {
  const detail = Object.entries(this.detail ?? {}).map(([name, value]) => `<${name}>${escapeXml(String(value))}</${name}>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(this.code)}</Code><Message>${escapeXml(this.message)}</Message>${detail}</Error>`;
};

/** Starts the S3 stand-in with the bucket created and configured. */
export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  const { credentials } = options;
  let account: AWSAccount | undefined;
  if (AWSAccount.registry.get(credentials.accessKeyId) === undefined) {
    account = new AWSAccount(123456789012, 'local');
    account.createKeyPair(credentials.accessKeyId, credentials.secretAccessKey);
  }

  const s3rver = new S3rver({
    silent: true,
    directory: options.directory,
    vhostBuckets: false,
    allowMismatchedSignatures: false,
    configureBuckets: [
      {
        name: options.bucket,
        configs: options.corsRules.length > 0 ? [corsConfigurationXml(options.corsRules)] : [],
      },
    ],
  });
  s3rver.on('error', () => {
    // Errors are answered to the client as S3 XML errors; nothing to log here.
  });

  const requests = new AsyncLocalStorage<{ ctx: RequestContext; sourceIp: string }>();
  s3rver.middleware.unshift(async (ctx, next) => {
    // The peer address, read now: s3rver's events may fire after the socket is gone.
    const sourceIp = (ctx.ip || '127.0.0.1').replace(/^::ffff:/, '');
    return requests.run({ ctx: ctx as RequestContext, sourceIp }, next);
  });
  const currentRequest = () => requests.getStore()?.ctx;
  const stopCanonicalRequests = useS3CanonicalRequests(currentRequest);
  addMultipartEmulation(s3rver, currentRequest);
  addListObjectVersions(s3rver, addVersioning(s3rver, options.directory, currentRequest));
  const secretFor = (accessKeyId: string) => AWSAccount.registry.get(accessKeyId)?.accessKeys.get(accessKeyId);
  addPostPolicyChecks(s3rver, path.join(options.directory, '._S3rver_staging'), secretFor, currentRequest);
  guardStore(s3rver.store, currentRequest);

  const sequencer = createSequencer();
  s3rver.on('event', (event) => {
    const request = requests.getStore();
    const ctx = request?.ctx;
    for (const record of event.Records) {
      const eventName = objectCreatedName(record.eventName, ctx);
      if (!eventName || !options.onObjectCreated) continue;
      options.onObjectCreated({
        eventName,
        bucket: record.s3.bucket.name,
        key: record.s3.object.key,
        size: Number(record.s3.object.size ?? 0),
        eTag: (record.s3.object.eTag ?? '').replace(/"/g, ''),
        versionId: ctx?.state.versionId,
        sourceIp: request?.sourceIp ?? '127.0.0.1',
        time: new Date(record.eventTime),
        sequencer: sequencer(),
      });
    }
  });

  await s3rver.configureBuckets();
  const server: Server = createServer(s3rver.callback());
  const stopLogger = () => {
    s3rver.logger.exceptions.unhandle();
    s3rver.logger.close();
    stopCanonicalRequests();
  };
  let port: number;
  try {
    port = await listen(server, options.host, options.port, 'S3 (s3rver)', options.portOption ?? 'ports.s3');
  } catch (err) {
    stopLogger();
    account?.revokeAccessKey(credentials.accessKeyId);
    throw err;
  }
  const endpoint = origin(options.host, port);
  const client = localS3Client(endpoint, options.region, credentials);

  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    port,
    bucket: options.bucket,
    client,
    stop: () => (stopped ??= (async () => {
      client.destroy();
      await close(server);
      stopLogger();
      account?.revokeAccessKey(credentials.accessKeyId);
    })()),
  };
}

/** An S3 client for a local, path-style endpoint. Checksums only when required: s3rver knows no trailers. */
export function localS3Client(endpoint: string, region: string, credentials: LocalCredentials): S3Client {
  return new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { ...credentials },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Maps s3rver's event names to S3's (s3rver reports a completed multipart upload as `Post`). */
function objectCreatedName(name: string, ctx: RequestContext | undefined): ObjectCreatedEventName | undefined {
  switch (name) {
    case 'ObjectCreated:Put':
      return 'ObjectCreated:Put';
    case 'ObjectCreated:Copy':
      return 'ObjectCreated:Copy';
    case 'ObjectCreated:Post':
      return ctx && ctx.query.uploadId !== undefined ? 'ObjectCreated:CompleteMultipartUpload' : 'ObjectCreated:Post';
    default:
      return undefined;
  }
}

/**
 * The `x-amz-*` request headers a SigV4 request carries without signing them (S3 refuses such a request,
 * `AccessDenied` with `HeadersNotSigned`; `x-amz-content-sha256` excepted, as S3 does). A presigned URL
 * thus cannot gain user metadata (`x-amz-meta-*`) or any other `x-amz-*` setting its signer did not sign.
 */
function unsignedAmzHeaders(ctx: RequestContext): string[] {
  const fromQuery = ctx.query['X-Amz-SignedHeaders'];
  const fromHeader = /SignedHeaders=([^,\s]+)/.exec(ctx.get('authorization'))?.[1];
  const list = typeof fromQuery === 'string' ? fromQuery : fromHeader;
  if (list === undefined) return [];
  const signed = new Set(list.toLowerCase().split(';'));
  // s3rver copies the query's `X-Amz-*` parameters into the headers: those are signed as part of the query.
  const fromQueryString = new Set(Object.keys(ctx.query).map((name) => name.toLowerCase()));
  return Object.keys(ctx.headers)
    .filter((name) => !fromQueryString.has(name.toLowerCase()))
    .map((name) => name.toLowerCase())
    .filter((name) => name.startsWith('x-amz-') && name !== 'x-amz-content-sha256' && !signed.has(name))
    .sort();
}

/**
 * Adds the checks real S3 makes and s3rver does not, at the store (so that s3rver's CORS headers are
 * still set on the error response): an unsigned request is `AccessDenied`, a `Content-MD5` or an
 * `x-amz-checksum-sha256` that does not match the body is `BadDigest` (and the bytes are removed).
 */
function guardStore(store: S3rver.Store, currentRequest: () => RequestContext | undefined): void {
  const target = store as unknown as Record<string, unknown>;
  for (const name of GUARDED_STORE_METHODS) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    target[name] = function guarded(this: unknown, ...args: unknown[]) {
      const ctx = currentRequest();
      // A form upload (POST to the bucket itself) carries its signature in the form: its policy is judged
      // instead (s3-post-policy.ts). Any other request needs a signature, whatever its content type.
      if (ctx && ctx.method !== 'OPTIONS' && !ctx.state.account && !isPublicStoreCall(name, args) && !isFormPost(ctx)) {
        throw new S3Error('AccessDenied', 'Access Denied');
      }
      const unsigned = ctx && ctx.state.account && !isFormPost(ctx) ? unsignedAmzHeaders(ctx) : [];
      if (unsigned.length > 0) {
        throw new S3Error('AccessDenied', 'There were headers present in the request which were not signed', { HeadersNotSigned: unsigned.join(', ') });
      }
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  }

  const listBuckets = (target.listBuckets as () => Promise<Array<{ name: string }>>).bind(store);
  target.listBuckets = async () => (await listBuckets()).filter((b) => !INTERNAL_DIRECTORY.test(b.name));

  // Real S3 answers 416 InvalidRange to a ranged GET of an empty object; s3rver announces one byte it
  // never sends (the client then waits forever). Make the range unsatisfiable, as S3 does.
  const getObject = (target.getObject as (...a: unknown[]) => Promise<RangedObject | null>).bind(store);
  target.getObject = async (...args: unknown[]) => {
    const object = await getObject(...args);
    if (object?.range && Number(object.size) === 0) {
      object.content?.destroy();
      object.content = null;
    }
    return object;
  };

  const putContent = store.putContent.bind(store);
  store.putContent = async (objectPath: string, content: unknown): Promise<[number, string]> => {
    const result = await putContent(objectPath, content);
    const expected = currentRequest()?.get('content-md5');
    if (expected) {
      const actual = Buffer.from(result[1], 'hex').toString('base64');
      if (actual !== expected) {
        await rm(objectPath, { force: true });
        throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.', {
          ExpectedDigest: expected,
          CalculatedDigest: actual,
        });
      }
    }
    const expectedSha256 = currentRequest()?.get('x-amz-checksum-sha256');
    if (expectedSha256) {
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(objectPath)) hash.update(chunk as Buffer);
      const actual = hash.digest('base64');
      if (actual !== expectedSha256) {
        await rm(objectPath, { force: true });
        throw new S3Error('BadDigest', 'The SHA256 you specified did not match the calculated checksum.');
      }
    }
    return result;
  };
}

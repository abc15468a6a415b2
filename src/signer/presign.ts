/**
 * Presigned single PUT: the signer's one hand-written SigV4 path (node:crypto, signing key cached per
 * day), the hot path of every single upload. Everything else (multipart, Uppy, POST policies) is signed
 * by the AWS SDK's signers (request-presigner.ts).
 *
 * Why not the SDK here too: `getSignedUrl` + `PutObjectCommand` runs the flexible-checksum middleware,
 * which bakes an empty-body CRC32 into the URL (every real upload then fails). `S3RequestPresigner` /
 * `@smithy/signature-v4` produce the right URL; this module does exactly what they do for this one
 * request shape, and test/signer/presign-differential.test.ts holds its output to `S3RequestPresigner`'s.
 *
 * Semantics (identical to `S3RequestPresigner` with `signableHeaders` = the headers below):
 * - service `s3`, region = the bucket's region (also with Transfer Acceleration);
 * - the path is pre-encoded (RFC 3986 per key segment) and used as the canonical URI as-is, as S3 wants
 *   (no double encoding, no dot-segment normalisation);
 * - `content-type`, `content-length`, (when given) `content-md5` and `if-none-match: *` are signed as
 *   **headers**, with `host`, so S3 itself rejects a body of another type, length or digest, and refuses
 *   (412) to write over an object that exists: a replayed URL cannot replace a verified file; no checksum
 *   parameter;
 * - with a client-computed SHA-256, `x-amz-checksum-sha256` and `x-amz-sdk-checksum-algorithm: SHA256`
 *   are signed as headers too (S3 refuses a body with another SHA-256, `BadDigest`); never a checksum
 *   the signer computed (it has no body: that would be the empty body's);
 * - user metadata (`x-amz-meta-*`: the original filename, the app metadata) is signed as headers too, so
 *   S3 refuses another value or a missing one, and any unsigned `x-amz-*` header (`HeadersNotSigned`);
 * - query: `X-Amz-Algorithm`, `X-Amz-Content-Sha256=UNSIGNED-PAYLOAD`, `X-Amz-Credential`, `X-Amz-Date`,
 *   `X-Amz-Expires`, `X-Amz-Security-Token` (temporary credentials), `X-Amz-SignedHeaders`, then
 *   `X-Amz-Signature`;
 * - payload hash `UNSIGNED-PAYLOAD`; dates truncated to the second.
 */
import * as crypto from 'node:crypto';
import { SignerConfig, SignerCredentials } from './config';

/** Host of the S3 Transfer Acceleration endpoint (`${bucket}.` in front). */
export const ACCELERATE_HOST_SUFFIX = 's3-accelerate.amazonaws.com';

/** What to sign. */
export interface PresignPutInput {
  /** Object key (unencoded). */
  readonly key: string;
  /** Normalised content type: the client must send exactly this `Content-Type`. */
  readonly contentType: string;
  /** Exact body length in bytes. */
  readonly size: number;
  /** Base64 MD5 of the body; when given, `Content-MD5` is signed too. */
  readonly checksum?: string;
  /** Base64 SHA-256 of the body, computed by the client; when given, `x-amz-checksum-sha256` is signed too. */
  readonly checksumSha256?: string;
  /**
   * User metadata to sign as headers: lower-case `x-amz-meta-*` names to encoded (ASCII) values. S3 then
   * refuses another value, a missing one, and (unsigned) any other. @default - none
   */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Signing time. @default - now */
  readonly signingDate?: Date;
}

/** A presigned PUT. */
export interface PresignedPut {
  readonly url: string;
  /** Headers the client must send exactly (besides `host` and `content-length`, which it sets itself). */
  readonly headers: Readonly<Record<string, string>>;
  /** When the URL stops working. */
  readonly expiresAt: Date;
}

/** Signs PUTs for one configuration. Create once (it holds the signer), use per request. */
export interface PutPresigner {
  presignPut(input: PresignPutInput): Promise<PresignedPut>;
}

/** Where an object is written: scheme, host, optional port and the encoded path. */
export interface ObjectLocation {
  readonly protocol: 'https:' | 'http:';
  readonly hostname: string;
  readonly port?: number;
  /** Encoded path, starting with `/`. */
  readonly path: string;
}

/**
 * RFC 3986 percent-encoding of one path segment or query component: everything but the unreserved
 * characters `A-Z a-z 0-9 - . _ ~` is encoded (as SigV4's canonical URI requires).
 */
export function encodeRfc3986(value: string): string {
  return UNRESERVED_RE.test(value)
    ? value
    : encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const UNRESERVED_RE = /^[A-Za-z0-9\-._~]*$/;

/** An object key as a URL path: each `/`-separated segment encoded, separators kept. */
export function encodeKeyPath(key: string): string {
  return '/' + key.split('/').map(encodeRfc3986).join('/');
}

/**
 * The URL location of an object:
 * - with `config.endpoint` (local stack): path-style `${endpoint}/${bucket}/${key}`, acceleration ignored;
 * - with `policy.accelerate`: `https://${bucket}.s3-accelerate.amazonaws.com/${key}`;
 * - otherwise `https://${bucket}.s3.${region}.${urlSuffix}/${key}` (path-style on that host when the
 *   bucket name has dots, which the wildcard TLS certificate does not cover).
 */
export function objectLocation(config: SignerConfig, key: string): ObjectLocation {
  const base = bucketLocation(config);
  return { ...base, path: base.path + encodeKeyPath(key) };
}

/** {@link objectLocation} without the key: `path` is the (possibly empty) prefix of every object path. */
export function bucketLocation(config: SignerConfig): ObjectLocation {
  if (config.endpoint) {
    const endpoint = new URL(config.endpoint);
    return {
      protocol: endpoint.protocol === 'http:' ? 'http:' : 'https:',
      hostname: endpoint.hostname,
      ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
      path: `/${encodeRfc3986(config.bucket)}`,
    };
  }
  if (config.bucket.includes('.')) {
    return { protocol: 'https:', hostname: `s3.${config.region}.${config.urlSuffix}`, path: `/${config.bucket}` };
  }
  const hostname = config.policy.accelerate
    ? `${config.bucket}.${ACCELERATE_HOST_SUFFIX}`
    : `${config.bucket}.s3.${config.region}.${config.urlSuffix}`;
  return { protocol: 'https:', hostname, path: '' };
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const SERVICE = 's3';
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** SigV4 presigned URLs live at most a week. */
const MAX_PRESIGNED_TTL_SECONDS = 7 * 24 * 60 * 60;
const SIGNED_HEADERS = 'content-length;content-type;host;if-none-match';
const SIGNED_HEADERS_WITH_MD5 = 'content-length;content-md5;content-type;host;if-none-match';
/** `If-None-Match: *`: S3 writes the object only if the key has none (a conditional write). */
export const WRITE_ONCE_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'if-none-match': '*' });
const WRITE_ONCE_LINE = 'if-none-match:*\n';
/**
 * The `x-amz-*` headers sort after every other signed header, in this order: `x-amz-checksum-sha256`, the
 * user metadata (`x-amz-meta-*`, sorted), `x-amz-sdk-checksum-algorithm`.
 */
const SHA256_HEADER = 'x-amz-checksum-sha256';
const SHA256_ALGORITHM_HEADER = 'x-amz-sdk-checksum-algorithm';
/** S3's headers for a SHA-256 checksum: the value, and the algorithm (which S3 ignores when a value is given). */
export function sha256ChecksumHeaders(checksumSha256: string): Record<string, string> {
  return { [SHA256_HEADER]: checksumSha256, [SHA256_ALGORITHM_HEADER]: 'SHA256' };
}

/** What depends only on the credentials and the day: derived once, reused until either changes. */
interface SigningContext {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string | undefined;
  readonly shortDate: string;
  /** HMAC chain `AWS4${secret}` → date → region → `s3` → `aws4_request`. */
  readonly signingKey: Buffer;
  /** `${shortDate}/${region}/s3/aws4_request`. */
  readonly scope: string;
  /** Canonical query up to and including `X-Amz-Credential=...&X-Amz-Date=`. */
  readonly queryHead: string;
  /** `&X-Amz-Security-Token=...` or empty. */
  readonly tokenParam: string;
}

/** Caches the {@link SigningContext} of the last credentials and day (one per presigner). */
function signingContextCache(region: string): (credentials: SignerCredentials, shortDate: string) => SigningContext {
  let context: SigningContext | undefined;
  return (credentials, shortDate) => {
    validCredentials(credentials);
    const sessionToken = credentials.sessionToken || undefined;
    const cached = context;
    if (
      cached !== undefined && cached.shortDate === shortDate && cached.accessKeyId === credentials.accessKeyId &&
      cached.secretAccessKey === credentials.secretAccessKey && cached.sessionToken === sessionToken
    ) {
      return cached;
    }
    const scope = `${shortDate}/${region}/${SERVICE}/aws4_request`;
    let key = hmac(`AWS4${credentials.secretAccessKey}`, shortDate);
    key = hmac(key, region);
    key = hmac(key, SERVICE);
    key = hmac(key, 'aws4_request');
    context = {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken,
      shortDate,
      signingKey: key,
      scope,
      queryHead: `X-Amz-Algorithm=${ALGORITHM}&X-Amz-Content-Sha256=${UNSIGNED_PAYLOAD}`
        + `&X-Amz-Credential=${encodeRfc3986(`${credentials.accessKeyId}/${scope}`)}&X-Amz-Date=`,
      tokenParam: sessionToken !== undefined ? `&X-Amz-Security-Token=${encodeRfc3986(sessionToken)}` : '',
    };
    return context;
  };
}

/** Returns the credentials, or throws if they are not strings (a misconfigured environment). */
export function validCredentials(credentials: SignerCredentials): SignerCredentials {
  if (
    typeof credentials !== 'object' || credentials === null ||
    typeof credentials.accessKeyId !== 'string' || typeof credentials.secretAccessKey !== 'string'
  ) {
    throw new Error('The signer\'s credentials are not valid (accessKeyId and secretAccessKey must be strings)');
  }
  return credentials;
}

/** Throws unless `expiresIn` is a whole number of seconds SigV4 allows (at most a week). */
export function checkExpiry(expiresIn: number): void {
  if (!Number.isInteger(expiresIn) || expiresIn <= 0 || expiresIn > MAX_PRESIGNED_TTL_SECONDS) {
    throw new Error(`Presigned URLs must expire within ${MAX_PRESIGNED_TTL_SECONDS} seconds (got ${expiresIn})`);
  }
}

/** Creates the presigner for a configuration (once per configuration, not per request). */
export function createPutPresigner(config: SignerConfig): PutPresigner {
  const base = bucketLocation(config);
  const host = base.port !== undefined ? `${base.hostname}:${base.port}` : base.hostname;
  const origin = `${base.protocol}//${host}`;
  const expiresIn = config.policy.expiresInSeconds;
  const expiresParam = `&X-Amz-Expires=${expiresIn}`;
  const hostLine = `host:${canonicalHeaderValue(host)}\n`;
  const signingContext = signingContextCache(config.region);

  return {
    async presignPut(input: PresignPutInput): Promise<PresignedPut> {
      checkExpiry(expiresIn);
      // SigV4 dates have second precision: the URL expires `expiresIn` seconds after the truncated date.
      const signingTime = Math.floor((input.signingDate ?? new Date()).getTime() / 1000) * 1000;
      const longDate = amzDate(signingTime);
      const ctx = signingContext(config.credentials(), longDate.slice(0, 8));

      const path = base.path + encodeKeyPath(input.key);
      const hasMd5 = input.checksum !== undefined;
      const sha256 = input.checksumSha256;
      const metadata = input.metadata ? Object.keys(input.metadata).sort() : [];
      // The headers after `if-none-match`, in canonical (sorted) order.
      const amz: Array<[string, string]> = [
        ...(sha256 !== undefined ? [[SHA256_HEADER, sha256] as [string, string]] : []),
        ...metadata.map((name): [string, string] => [name, input.metadata![name]]),
        ...(sha256 !== undefined ? [[SHA256_ALGORITHM_HEADER, 'SHA256'] as [string, string]] : []),
      ];
      const signedHeaders = (hasMd5 ? SIGNED_HEADERS_WITH_MD5 : SIGNED_HEADERS) + amz.map(([name]) => `;${name}`).join('');
      // Parameter names sort as written here (canonical order), the signature goes last.
      const query = `${ctx.queryHead}${longDate}${expiresParam}${ctx.tokenParam}&X-Amz-SignedHeaders=${encodeRfc3986(signedHeaders)}`;
      const canonicalHeaders = `content-length:${input.size}\n`
        + (hasMd5 ? `content-md5:${canonicalHeaderValue(input.checksum as string)}\n` : '')
        + `content-type:${canonicalHeaderValue(input.contentType)}\n${hostLine}${WRITE_ONCE_LINE}`
        + amz.map(([name, value]) => `${name}:${canonicalHeaderValue(value)}\n`).join('');
      const canonicalRequest = `PUT\n${path}\n${query}\n${canonicalHeaders}\n${signedHeaders}\n${UNSIGNED_PAYLOAD}`;
      const stringToSign = `${ALGORITHM}\n${longDate}\n${ctx.scope}\n${sha256Hex(canonicalRequest)}`;
      const signature = crypto.createHmac('sha256', ctx.signingKey).update(stringToSign, 'utf8').digest('hex');

      // Clients must send these exactly; `content-length` they set from the body.
      const headers: Record<string, string> = {
        'content-type': input.contentType,
        ...(hasMd5 ? { 'content-md5': input.checksum as string } : {}),
        ...WRITE_ONCE_HEADERS,
        ...Object.fromEntries(amz),
      };
      return {
        url: `${origin}${path}?${query}&X-Amz-Signature=${signature}`,
        headers,
        expiresAt: new Date(signingTime + expiresIn * 1000),
      };
    },
  };
}

function hmac(key: string | Buffer, data: string): Buffer {
  return crypto.createHmac('sha256', key).update(data, 'utf8').digest();
}

/** Hex SHA-256 of a UTF-8 string: one-shot `crypto.hash` (Node ≥ 20.12) when there, else createHash. */
const sha256Hex: (data: string) => string = typeof crypto.hash === 'function'
  ? (data) => crypto.hash('sha256', data, 'hex')
  : (data) => crypto.createHash('sha256').update(data, 'utf8').digest('hex');

/** `20240506T070809Z` for a time in milliseconds (whole seconds). */
function amzDate(time: number): string {
  return new Date(time).toISOString().replace(/[-:]|\.\d{3}/g, '');
}

/** SigV4 header value canonicalisation: line breaks and runs of spaces/tabs become one space, trimmed. */
function canonicalHeaderValue(value: string): string {
  return /[\r\n\t]|^ | $| {2}/.test(value)
    ? value.replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').replace(/^ | $/g, '')
    : value;
}

/**
 * Presigned single PUT: pure computation (SigV4 query signing), no AWS API call.
 *
 * Built on `S3RequestPresigner` with a request we construct ourselves, not on client-s3 +
 * `getSignedUrl`: that path runs the flexible-checksum middleware, which bakes an empty-body CRC32
 * into the URL (every real upload then fails), and it is about ten times slower.
 *
 * `content-type`, `content-length` and (when given) `content-md5` are signed as headers, so S3
 * itself rejects a body of another type, length or digest.
 */
import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignerConfig } from './config';

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
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

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
  const keyPath = encodeKeyPath(key);
  if (config.endpoint) {
    const endpoint = new URL(config.endpoint);
    return {
      protocol: endpoint.protocol === 'http:' ? 'http:' : 'https:',
      hostname: endpoint.hostname,
      ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
      path: `/${encodeRfc3986(config.bucket)}${keyPath}`,
    };
  }
  if (config.bucket.includes('.')) {
    return { protocol: 'https:', hostname: `s3.${config.region}.${config.urlSuffix}`, path: `/${config.bucket}${keyPath}` };
  }
  const hostname = config.policy.accelerate
    ? `${config.bucket}.${ACCELERATE_HOST_SUFFIX}`
    : `${config.bucket}.s3.${config.region}.${config.urlSuffix}`;
  return { protocol: 'https:', hostname, path: keyPath };
}

/** Creates the presigner for a configuration (once per configuration, not per request). */
export function createPutPresigner(config: SignerConfig): PutPresigner {
  const presigner = new S3RequestPresigner({
    region: config.region,
    credentials: async () => config.credentials(),
    sha256: Hash.bind(null, 'sha256'),
  });
  const expiresIn = config.policy.expiresInSeconds;

  return {
    async presignPut(input: PresignPutInput): Promise<PresignedPut> {
      const location = objectLocation(config, input.key);
      // Clients must send these exactly; `content-length` they set from the body.
      const clientHeaders: Record<string, string> = { 'content-type': input.contentType };
      if (input.checksum !== undefined) {
        clientHeaders['content-md5'] = input.checksum;
      }
      const signed = new Set(['content-type', 'content-length', ...(input.checksum !== undefined ? ['content-md5'] : [])]);
      const request = new HttpRequest({
        method: 'PUT',
        protocol: location.protocol,
        hostname: location.hostname,
        ...(location.port !== undefined ? { port: location.port } : {}),
        path: location.path,
        headers: { ...clientHeaders, 'content-length': String(input.size) },
        query: {},
      });
      // SigV4 dates have second precision: the URL expires `expiresIn` seconds after the truncated date.
      const signingDate = new Date(Math.floor((input.signingDate ?? new Date()).getTime() / 1000) * 1000);
      const presigned = await presigner.presign(request, {
        expiresIn,
        signingDate,
        // The presigner marks content-type unsignable; signableHeaders overrides that so S3 enforces it.
        signableHeaders: signed,
        // Only x-amz-* headers are hoisted today; keep ours headers (signed, not query) whatever the SDK does next.
        unhoistableHeaders: new Set(signed),
      });
      const port = presigned.port !== undefined ? `:${presigned.port}` : '';
      return {
        url: `${presigned.protocol}//${presigned.hostname}${port}${presigned.path}?${formatQuery(presigned.query)}`,
        headers: clientHeaders,
        expiresAt: new Date(signingDate.getTime() + expiresIn * 1000),
      };
    },
  };
}

function formatQuery(query: Record<string, string | null | ReadonlyArray<string | null>> | undefined): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(query ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) {
      parts.push(v === null ? encodeRfc3986(name) : `${encodeRfc3986(name)}=${encodeRfc3986(v as string)}`);
    }
  }
  return parts.join('&');
}

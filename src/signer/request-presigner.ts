/**
 * Query-signed S3 requests (multipart, the Uppy route) and POST policies, signed by the AWS SDK's own
 * signers: `@smithy/signature-v4` with the options `S3RequestPresigner` uses for S3, and
 * `@aws-sdk/s3-presigned-post`. Off the single-upload hot path, so no hand-written SigV4 here; the
 * one hand-written path (the single PUT, presign.ts) is held to `S3RequestPresigner` by a differential test.
 */
import type * as HashNode from '@smithy/hash-node';
import type * as SigV4 from '@smithy/signature-v4';
import { SignerConfig } from './config';
import { bucketLocation, checkExpiry, encodeRfc3986, encodeKeyPath, validCredentials } from './presign';

/** A query-signed request of any S3 operation on one object (UploadPart, ListParts, ...). */
export interface PresignRequestInput {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Object key (unencoded). */
  readonly key: string;
  /** Operation parameters (`partNumber`, `uploadId`, `uploads` = ''), unencoded. */
  readonly query?: Readonly<Record<string, string>>;
  /**
   * Headers to sign besides `host` (lower-case names). `content-length` is signed but not returned in
   * `headers` (clients set it from the body).
   */
  readonly signedHeaders?: Readonly<Record<string, string>>;
  /** Lifetime in seconds, at most the policy's. @default - the policy's `expiresInSeconds` */
  readonly expiresIn?: number;
  /** @default - now */
  readonly signingDate?: Date;
}

/** A presigned request: the URL and the headers to send exactly. */
export interface PresignedRequest {
  readonly url: string;
  /** The signed headers a client must send (without `host` and `content-length`). */
  readonly headers: Readonly<Record<string, string>>;
  readonly expiresAt: Date;
}

/** What a POST policy allows. */
export interface PresignPostInput {
  /** The exact key. */
  readonly key: string;
  /** The exact `Content-Type`. */
  readonly contentType: string;
  /** Smallest and largest accepted body (`content-length-range`). */
  readonly minSize: number;
  readonly maxSize: number;
  /** Stored user metadata (`x-amz-meta-*` header names → values), each pinned by an `eq` condition. @default - none */
  readonly metadata?: Readonly<Record<string, string>>;
  /** @default - the policy's `expiresInSeconds` */
  readonly expiresIn?: number;
  /** @default - now */
  readonly signingDate?: Date;
}

/** A POST-policy (browser form) upload: POST `fields` then the `file` as multipart/form-data to `url`. */
export interface PresignedPost {
  /** The bucket's URL (the form action). */
  readonly url: string;
  /** Form fields, in order, before the file. */
  readonly fields: Readonly<Record<string, string>>;
  readonly expiresAt: Date;
}

/** Signs any single-object S3 request with SigV4 query parameters, and POST policies, for one configuration. */
export interface RequestPresigner {
  /** The form action URL of POST-policy uploads. */
  readonly bucketUrl: string;
  presign(input: PresignRequestInput): Promise<PresignedRequest>;
  presignPost(input: PresignPostInput): Promise<PresignedPost>;
}

/** `S3RequestPresigner` sends the payload hash as this query parameter (hoisted from the header). */
const SHA256_HEADER = 'X-Amz-Content-Sha256';
const ALGORITHM = 'AWS4-HMAC-SHA256';
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

export function createRequestPresigner(config: SignerConfig): RequestPresigner {
  const base = bucketLocation(config);
  const host = base.port !== undefined ? `${base.hostname}:${base.port}` : base.hostname;
  const origin = `${base.protocol}//${host}`;
  const bucketUrl = `${origin}${base.path}/`;
  const credentials = async () => validCredentials(config.credentials());
  let signer: SigV4.SignatureV4 | undefined;
  /** Built on first use: these requests are off the hot path, so the SDK signer adds nothing to the cold start. */
  function sigV4(): SigV4.SignatureV4 {
    if (signer) return signer;
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { SignatureV4 } = require('@smithy/signature-v4') as typeof SigV4;
    const { Hash } = require('@smithy/hash-node') as typeof HashNode;
    /* eslint-enable @typescript-eslint/no-require-imports */
    // The options `S3RequestPresigner` uses for S3: the path is pre-encoded, no checksum of an unknown body.
    return (signer = new SignatureV4({
      service: 's3',
      region: config.region,
      credentials,
      sha256: Hash.bind(null, 'sha256'),
      uriEscapePath: false,
      applyChecksum: false,
    }));
  }

  /** The SigV4 clock has second precision: the request expires `ttl` seconds after the truncated date. */
  function times(expiresIn: number | undefined, signingDate: Date | undefined) {
    const ttl = expiresIn ?? config.policy.expiresInSeconds;
    checkExpiry(ttl);
    const signingTime = Math.floor((signingDate ?? new Date()).getTime() / 1000) * 1000;
    return { ttl, signingTime, expiresAt: new Date(signingTime + ttl * 1000) };
  }

  return {
    bucketUrl,

    async presign(input) {
      const { ttl, signingTime, expiresAt } = times(input.expiresIn, input.signingDate);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(input.signedHeaders ?? {})) headers[name.toLowerCase()] = value;
      const names = new Set(Object.keys(headers));
      const path = base.path + encodeKeyPath(input.key);
      const signed = await sigV4().presign({
        method: input.method,
        protocol: base.protocol,
        hostname: base.hostname,
        ...(base.port !== undefined ? { port: base.port } : {}),
        path,
        headers: { ...headers, host, [SHA256_HEADER]: UNSIGNED_PAYLOAD },
        query: { ...input.query },
      }, { expiresIn: ttl, signingDate: new Date(signingTime), signableHeaders: names, unhoistableHeaders: new Set(names) });
      const query = Object.entries(signed.query ?? {})
        .map(([name, value]) => `${encodeRfc3986(name)}=${encodeRfc3986(String(value))}`)
        .join('&');
      const clientHeaders: Record<string, string> = {};
      for (const name of Object.keys(headers).sort()) {
        if (name !== 'content-length') clientHeaders[name] = headers[name];
      }
      return { url: `${origin}${path}?${query}`, headers: clientHeaders, expiresAt };
    },

    async presignPost(input) {
      const { signingTime, expiresAt } = times(input.expiresIn, input.signingDate);
      const signingDate = new Date(signingTime);
      const { accessKeyId, sessionToken } = await credentials();
      const longDate = signingDate.toISOString().replace(/[-:]|\.\d{3}/g, '');
      const auth: Record<string, string> = {
        'X-Amz-Algorithm': ALGORITHM,
        'X-Amz-Credential': `${accessKeyId}/${longDate.slice(0, 8)}/${config.region}/s3/aws4_request`,
        'X-Amz-Date': longDate,
        ...(sessionToken ? { 'X-Amz-Security-Token': sessionToken } : {}),
      };
      // The conditions `createPresignedPost` writes for these fields: each field pinned exactly.
      const conditions = [
        ['content-length-range', input.minSize, input.maxSize],
        { 'Content-Type': input.contentType },
        ...Object.entries(input.metadata ?? {}).map(([name, value]) => ({ [name]: value })),
        { bucket: config.bucket },
        ...Object.entries(auth).map(([name, value]) => ({ [name]: value })),
        { key: input.key },
      ];
      const policy = Buffer.from(JSON.stringify({ expiration: expiresAt.toISOString(), conditions })).toString('base64');
      // A POST policy's signature is the SigV4 signing key's HMAC of the base64 policy: the SDK signer's string signing.
      const signature = await sigV4().sign(policy, { signingDate });
      return {
        url: bucketUrl,
        fields: { 'Content-Type': input.contentType, ...input.metadata, 'bucket': config.bucket, ...auth, 'key': input.key, 'Policy': policy, 'X-Amz-Signature': signature },
        expiresAt,
      };
    },
  };
}

/**
 * The SDK-based ways of presigning the same PUT, for comparison with the signer's own path and as
 * independent references for its output:
 *
 * - {@link createS3RequestPresignerPut}: `S3RequestPresigner` (the differential test's reference) on a
 *   request we build (content-type/length/md5 signed as headers). Same inputs and output shape as
 *   `createPutPresigner`; the smoke test checks both produce the same signed request.
 * - {@link createSignatureV4Put}: `@smithy/signature-v4` `presign` directly (one layer below).
 * - {@link createGetSignedUrlPut}: what the usual samples do: `S3Client` + `PutObjectCommand` +
 *   `getSignedUrl`, with `requestChecksumCalculation: 'WHEN_REQUIRED'` (else the URL pins an
 *   empty-body CRC32) and content-type/length in the command.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl, S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { SignerConfig } from '../../src/signer/config';
import { encodeRfc3986, objectLocation, PresignedPut, PresignPutInput, PutPresigner } from '../../src/signer/presign';

type Query = Record<string, string | null | ReadonlyArray<string | null>> | undefined;

/** The request both SDK presigners sign: content-type, content-length, if-none-match (and content-md5) as headers. */
function buildRequest(
  config: SignerConfig,
  input: PresignPutInput,
): { request: HttpRequest; clientHeaders: Record<string, string>; signed: Set<string> } {
  const location = objectLocation(config, input.key);
  const clientHeaders: Record<string, string> = { 'content-type': input.contentType };
  if (input.checksum !== undefined) {
    clientHeaders['content-md5'] = input.checksum;
  }
  clientHeaders['if-none-match'] = '*';
  const signed = new Set(['content-type', 'content-length', 'if-none-match', ...(input.checksum !== undefined ? ['content-md5'] : [])]);
  const request = new HttpRequest({
    method: 'PUT',
    protocol: location.protocol,
    hostname: location.hostname,
    ...(location.port !== undefined ? { port: location.port } : {}),
    path: location.path,
    headers: { ...clientHeaders, 'content-length': String(input.size) },
    query: {},
  });
  return { request, clientHeaders, signed };
}

function truncatedDate(input: PresignPutInput): Date {
  return new Date(Math.floor((input.signingDate ?? new Date()).getTime() / 1000) * 1000);
}

function formatUrl(presigned: { protocol: string; hostname: string; port?: number; path: string; query?: Query }): string {
  const port = presigned.port !== undefined ? `:${presigned.port}` : '';
  const parts: string[] = [];
  for (const [name, value] of Object.entries(presigned.query ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) {
      parts.push(v === null ? encodeRfc3986(name) : `${encodeRfc3986(name)}=${encodeRfc3986(v as string)}`);
    }
  }
  return `${presigned.protocol}//${presigned.hostname}${port}${presigned.path}?${parts.join('&')}`;
}

/** `S3RequestPresigner` (wraps `SignatureV4MultiRegion`), on the request the signer's single PUT signs. */
export function createS3RequestPresignerPut(config: SignerConfig): PutPresigner {
  const presigner = new S3RequestPresigner({
    region: config.region,
    credentials: async () => config.credentials(),
    sha256: Hash.bind(null, 'sha256'),
  });
  const expiresIn = config.policy.expiresInSeconds;
  return {
    async presignPut(input: PresignPutInput): Promise<PresignedPut> {
      const { request, clientHeaders, signed } = buildRequest(config, input);
      const signingDate = truncatedDate(input);
      const presigned = await presigner.presign(request, {
        expiresIn,
        signingDate,
        signableHeaders: signed,
        unhoistableHeaders: new Set(signed),
      });
      return { url: formatUrl(presigned), headers: clientHeaders, expiresAt: new Date(signingDate.getTime() + expiresIn * 1000) };
    },
  };
}

/** `@smithy/signature-v4` directly, with the options `S3RequestPresigner` would pass for S3. */
export function createSignatureV4Put(config: SignerConfig): PutPresigner {
  const signer = new SignatureV4({
    service: 's3',
    region: config.region,
    credentials: async () => config.credentials(),
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: false,
    applyChecksum: false,
  });
  const expiresIn = config.policy.expiresInSeconds;
  return {
    async presignPut(input: PresignPutInput): Promise<PresignedPut> {
      const { request, clientHeaders, signed } = buildRequest(config, input);
      request.headers['X-Amz-Content-Sha256'] = 'UNSIGNED-PAYLOAD';
      request.headers.host = `${request.hostname}${request.port !== undefined ? `:${request.port}` : ''}`;
      const signingDate = truncatedDate(input);
      const presigned = await signer.presign(request, {
        expiresIn,
        signingDate,
        signableHeaders: signed,
        unhoistableHeaders: new Set(signed),
      });
      return { url: formatUrl(presigned), headers: clientHeaders, expiresAt: new Date(signingDate.getTime() + expiresIn * 1000) };
    },
  };
}

/** Presigns with `getSignedUrl(client, new PutObjectCommand(...))`, the path of the usual samples. */
export function createGetSignedUrlPut(config: SignerConfig): PutPresigner {
  const client = new S3Client({
    region: config.region,
    credentials: async () => config.credentials(),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    ...(config.endpoint ? { endpoint: config.endpoint, forcePathStyle: true } : {}),
    ...(config.policy.accelerate && !config.endpoint ? { useAccelerateEndpoint: true } : {}),
  });
  const expiresIn = config.policy.expiresInSeconds;
  return {
    async presignPut(input: PresignPutInput): Promise<PresignedPut> {
      const signingDate = truncatedDate(input);
      const command = new PutObjectCommand({
        Bucket: config.bucket,
        Key: input.key,
        ContentType: input.contentType,
        ContentLength: input.size,
        IfNoneMatch: '*',
        ...(input.checksum !== undefined ? { ContentMD5: input.checksum } : {}),
      });
      const url = await getSignedUrl(client, command, {
        expiresIn,
        signingDate,
        signableHeaders: new Set(['content-type', 'content-length', 'if-none-match', ...(input.checksum !== undefined ? ['content-md5'] : [])]),
      });
      const headers: Record<string, string> = { 'content-type': input.contentType };
      if (input.checksum !== undefined) {
        headers['content-md5'] = input.checksum;
      }
      headers['if-none-match'] = '*';
      return { url, headers, expiresAt: new Date(signingDate.getTime() + expiresIn * 1000) };
    },
  };
}

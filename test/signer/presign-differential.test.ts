/**
 * The single PUT is signed with node:crypto (no SDK on the hot path, see src/signer/presign.ts). This
 * test holds it to the AWS SDK's own presigner: for many generated requests, the URL must be exactly the
 * one `S3RequestPresigner` produces for the same request, signed headers and all. The other requests
 * (request-presigner.ts, `@smithy/signature-v4`) are held to `S3RequestPresigner` the same way.
 */
import { createHash } from 'node:crypto';
import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { testConfig, verifyPostPolicy } from './helpers';
import { encodeMetadataValue } from '../../src/contract/metadata';
import { SignerConfig } from '../../src/signer/config';
import { createPutPresigner, encodeKeyPath, objectLocation } from '../../src/signer/presign';
import { createRequestPresigner } from '../../src/signer/request-presigner';

/** Deterministic pseudo-random numbers in [0, 1) (SHA-256 of a counter), so a failure is reproducible. */
function rng(seed: number): () => number {
  let counter = seed;
  return () => createHash('sha256').update(String(counter++)).digest().readUInt32BE(0) / 2 ** 32;
}

const KEY_CHARS = ['a', 'Z', '0', '-', '_', '.', '~', ' ', '+', '=', '&', '%', '!', "'", '(', ')', '*', 'é', '日', '😀', ':', '@', ',', ';', '$'];
/** User-metadata headers: the filename and allow-listable app keys (some sorting before, some after the others). */
const META_NAMES = ['x-amz-meta-filename', 'x-amz-meta-a', 'x-amz-meta-album-id', 'x-amz-meta-zz-9', 'x-amz-meta-0', 'x-amz-meta-caption'];
const TOKEN_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=';

async function sdkUrl(
  config: SignerConfig, key: string, contentType: string, size: number, checksum: string | undefined, checksumSha256: string | undefined, date: Date,
  metadata: Record<string, string> = {},
) {
  const location = objectLocation(config, key);
  const presigner = new S3RequestPresigner({
    region: config.region, credentials: async () => config.credentials(), sha256: Hash.bind(null, 'sha256'),
  });
  const headers: Record<string, string> = {
    'content-type': contentType,
    'content-length': String(size),
    'host': location.hostname + (location.port ? `:${location.port}` : ''),
    'if-none-match': '*',
  };
  if (checksum) headers['content-md5'] = checksum;
  // As the SDK's PutObject sends a precalculated ChecksumSHA256 (the algorithm header with it).
  const sha256 = checksumSha256 ? { 'x-amz-checksum-sha256': checksumSha256, 'x-amz-sdk-checksum-algorithm': 'SHA256' } : {};
  Object.assign(headers, sha256, metadata);
  const signed = new Set(['content-type', 'content-length', 'if-none-match', ...(checksum ? ['content-md5'] : []), ...Object.keys(sha256), ...Object.keys(metadata)]);
  const request = new HttpRequest({
    method: 'PUT', protocol: location.protocol, hostname: location.hostname, port: location.port, path: location.path, headers, query: {},
  });
  const out = await presigner.presign(request, {
    expiresIn: config.policy.expiresInSeconds, signingDate: date, signableHeaders: signed, unhoistableHeaders: new Set(signed),
  });
  return new URL(`${out.protocol}//${out.hostname}${out.port ? `:${out.port}` : ''}${out.path}?${new URLSearchParams(out.query as Record<string, string>)}`);
}

test('our SigV4 URLs equal S3RequestPresigner\'s for 300 generated requests (with and without MD5 and SHA-256 checksums and user metadata)', async () => {
  const random = rng(20261121);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  for (let i = 0; i < 300; i++) {
    const key = `uploads/${Array.from({ length: 1 + Math.floor(random() * 3) }, () =>
      Array.from({ length: 1 + Math.floor(random() * 12) }, () => pick(KEY_CHARS)).join('')).join('/')}.png`;
    const token = random() < 0.2 ? undefined : Array.from({ length: 20 + Math.floor(random() * 400) }, () => pick([...TOKEN_CHARS])).join('');
    const config = testConfig({
      region: pick(['us-east-1', 'eu-west-1', 'ap-southeast-2', 'cn-north-1']),
      endpoint: random() < 0.25 ? 'http://127.0.0.1:4568' : undefined,
      credentials: () => ({ accessKeyId: `AKIA${i}`, secretAccessKey: `secret/${i}+${'x'.repeat(i % 40)}`, ...(token ? { sessionToken: token } : {}) }),
    }, { accelerate: random() < 0.5, expiresInSeconds: 1 + Math.floor(random() * 3600) });
    const contentType = pick(['image/png', 'image/jpeg', 'application/pdf', 'video/mp4']);
    const size = 1 + Math.floor(random() * 5 * 1024 ** 3);
    const digest = (bytes: number) => Buffer.from(Array.from({ length: bytes }, () => Math.floor(random() * 256))).toString('base64');
    const checksum = random() < 0.5 ? digest(16) : undefined;
    const checksumSha256 = random() < 0.5 ? digest(32) : undefined;
    const date = new Date(Date.UTC(2020, 0, 1) + Math.floor(random() * 10 * 365 * 24 * 3600) * 1000);
    // The filename and up to 10 app keys, in no particular order (the presigner sorts them), values encoded.
    const metadata: Record<string, string> = {};
    for (const name of META_NAMES) {
      if (random() < 0.3) metadata[name] = encodeMetadataValue(Array.from({ length: 1 + Math.floor(random() * 20) }, () => pick(KEY_CHARS)).join(''));
    }
    const withMetadata = Object.keys(metadata).length > 0 ? { metadata } : {};

    const presigned = await createPutPresigner(config)
      .presignPut({ key, contentType, size, checksum, checksumSha256, ...withMetadata, signingDate: date });
    const ours = new URL(presigned.url);
    const theirs = await sdkUrl(config, key, contentType, size, checksum, checksumSha256, date, metadata);
    // The client is told to send every signed header but host and content-length.
    expect(presigned.headers).toEqual({
      'content-type': contentType,
      'if-none-match': '*',
      ...(checksum ? { 'content-md5': checksum } : {}),
      ...(checksumSha256 ? { 'x-amz-checksum-sha256': checksumSha256, 'x-amz-sdk-checksum-algorithm': 'SHA256' } : {}),
      ...metadata,
    });

    const context = { i, key, region: config.region, endpoint: config.endpoint, accelerate: config.policy.accelerate };
    expect({ ...context, origin: ours.origin, path: ours.pathname }).toEqual({ ...context, origin: theirs.origin, path: theirs.pathname });
    expect({ ...context, query: Object.fromEntries(ours.searchParams) }).toEqual({ ...context, query: Object.fromEntries(theirs.searchParams) });
  }
});

test('the key path is encoded per segment (spaces as %20, not +)', () => {
  expect(encodeKeyPath('uploads/a b+c/é.png')).toBe('/uploads/a%20b%2Bc/%C3%A9.png');
});

test('the SDK-signed UploadPart / ListParts / Create / Complete / Abort URLs equal S3RequestPresigner\'s for 200 generated requests', async () => {
  const random = rng(4242);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  for (let i = 0; i < 200; i++) {
    const key = `uploads/${Array.from({ length: 1 + Math.floor(random() * 12) }, () => pick(KEY_CHARS)).join('')}.pdf`;
    const token = random() < 0.2 ? undefined : Array.from({ length: 20 + Math.floor(random() * 300) }, () => pick([...TOKEN_CHARS])).join('');
    const config = testConfig({
      region: pick(['us-east-1', 'eu-west-1', 'ap-southeast-2']),
      endpoint: random() < 0.25 ? 'http://127.0.0.1:4568' : undefined,
      credentials: () => ({ accessKeyId: `AKIA${i}`, secretAccessKey: `secret/${i}`, ...(token ? { sessionToken: token } : {}) }),
    }, { accelerate: random() < 0.5, expiresInSeconds: 1 + Math.floor(random() * 3600) });
    const uploadId = Array.from({ length: 10 + Math.floor(random() * 60) }, () => pick([...TOKEN_CHARS, '.', '_', '-'])).join('');
    const partNumber = String(1 + Math.floor(random() * 10_000));
    const [method, query, signedHeaders] = pick<[('PUT' | 'GET' | 'POST' | 'DELETE'), Record<string, string>, Record<string, string>]>([
      ['PUT', { partNumber, uploadId }, { 'content-length': String(1 + Math.floor(random() * 5 * 1024 ** 3)) }],
      ['PUT', { partNumber, uploadId }, {}],
      ['GET', { uploadId }, {}],
      ['POST', { uploads: '' }, { 'content-type': pick(['application/pdf', 'image/png']) }],
      ['POST', { uploadId }, { 'x-amz-mp-object-size': String(Math.floor(random() * 1e12)) }],
      ['POST', { uploadId }, { 'x-amz-mp-object-size': String(Math.floor(random() * 1e12)), 'if-none-match': '*' }],
      ['DELETE', { uploadId }, {}],
    ]);
    const date = new Date(Date.UTC(2020, 0, 1) + Math.floor(random() * 10 * 365 * 24 * 3600) * 1000);

    const ours = new URL((await createRequestPresigner(config).presign({ method, key, query, signedHeaders, signingDate: date })).url);

    const location = objectLocation(config, key);
    const host = location.hostname + (location.port ? `:${location.port}` : '');
    const presigner = new S3RequestPresigner({ region: config.region, credentials: async () => config.credentials(), sha256: Hash.bind(null, 'sha256') });
    const names = new Set(Object.keys(signedHeaders));
    const out = await presigner.presign(new HttpRequest({
      method,
      protocol: location.protocol,
      hostname: location.hostname,
      port: location.port,
      path: location.path,
      headers: { ...signedHeaders, host },
      query: { ...query },
    }), { expiresIn: config.policy.expiresInSeconds, signingDate: date, signableHeaders: names, unhoistableHeaders: new Set(names) });
    const theirs = new URL(`${out.protocol}//${out.hostname}${out.port ? `:${out.port}` : ''}${out.path}?${new URLSearchParams(out.query as Record<string, string>)}`);

    const context = { i, key, method, query };
    expect({ ...context, origin: ours.origin, path: ours.pathname }).toEqual({ ...context, origin: theirs.origin, path: theirs.pathname });
    expect({ ...context, query: Object.fromEntries(ours.searchParams) }).toEqual({ ...context, query: Object.fromEntries(theirs.searchParams) });
  }
});

// `@smithy/signature-v4` signs the POST policy (string signing); it is held to an independent node:crypto
// computation (the signature over the base64 policy with the SigV4 signing key) and S3's field rules.
test('POST policies: signature recomputed independently, every field covered by an exact condition', async () => {
  const random = rng(77);
  for (let i = 0; i < 50; i++) {
    const token = random() < 0.3 ? undefined : `tok/${i}+${'z'.repeat(i)}`;
    const config = testConfig({
      credentials: () => ({ accessKeyId: `AKIA${i}`, secretAccessKey: `s/${i}`, ...(token ? { sessionToken: token } : {}) }),
      endpoint: random() < 0.5 ? 'http://127.0.0.1:4568' : undefined,
    }, { expiresInSeconds: 1 + Math.floor(random() * 3600) });
    const size = 1 + Math.floor(random() * 1e9);
    const date = new Date(Date.UTC(2021, 0, 1) + Math.floor(random() * 1e9) * 1000);
    const post = await createRequestPresigner(config).presignPost({ key: `uploads/u/${i}.png`, contentType: 'image/png', minSize: size, maxSize: size, signingDate: date });
    const policy = verifyPostPolicy(post.fields as Record<string, string>, { secretAccessKey: `s/${i}`, region: config.region, bucket: config.bucket, now: date });
    expect(policy.conditions).toEqual(expect.arrayContaining([['content-length-range', size, size], { key: `uploads/u/${i}.png` }, { 'Content-Type': 'image/png' }]));
    expect(Date.parse(policy.expiration)).toBe(Math.floor(date.getTime() / 1000) * 1000 + config.policy.expiresInSeconds * 1000);
    expect(post.fields['X-Amz-Security-Token']).toBe(token);
    expect(post.url).toBe(config.endpoint ? `${config.endpoint}/${config.bucket}/` : `https://${config.bucket}.s3.${config.region}.amazonaws.com/`);
  }
});

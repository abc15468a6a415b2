/**
 * The signer signs with node:crypto (no SDK on the hot path, see src/signer/presign.ts). This test
 * holds it to the AWS SDK's own presigner: for many generated requests, the URL must be exactly the
 * one `S3RequestPresigner` produces for the same request, signed headers and all.
 */
import { createHash } from 'node:crypto';
import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { testConfig } from './helpers';
import { SignerConfig } from '../../src/signer/config';
import { createPutPresigner, encodeKeyPath, objectLocation } from '../../src/signer/presign';

/** Deterministic pseudo-random numbers in [0, 1) (SHA-256 of a counter), so a failure is reproducible. */
function rng(seed: number): () => number {
  let counter = seed;
  return () => createHash('sha256').update(String(counter++)).digest().readUInt32BE(0) / 2 ** 32;
}

const KEY_CHARS = ['a', 'Z', '0', '-', '_', '.', '~', ' ', '+', '=', '&', '%', '!', "'", '(', ')', '*', 'é', '日', '😀', ':', '@', ',', ';', '$'];
const TOKEN_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=';

async function sdkUrl(config: SignerConfig, key: string, contentType: string, size: number, checksum: string | undefined, date: Date) {
  const location = objectLocation(config, key);
  const presigner = new S3RequestPresigner({
    region: config.region, credentials: async () => config.credentials(), sha256: Hash.bind(null, 'sha256'),
  });
  const headers: Record<string, string> = {
    'content-type': contentType, 'content-length': String(size), 'host': location.hostname + (location.port ? `:${location.port}` : ''),
  };
  if (checksum) headers['content-md5'] = checksum;
  const signed = new Set(['content-type', 'content-length', ...(checksum ? ['content-md5'] : [])]);
  const request = new HttpRequest({
    method: 'PUT', protocol: location.protocol, hostname: location.hostname, port: location.port, path: location.path, headers, query: {},
  });
  const out = await presigner.presign(request, {
    expiresIn: config.policy.expiresInSeconds, signingDate: date, signableHeaders: signed, unhoistableHeaders: new Set(signed),
  });
  return new URL(`${out.protocol}//${out.hostname}${out.port ? `:${out.port}` : ''}${out.path}?${new URLSearchParams(out.query as Record<string, string>)}`);
}

test('our SigV4 URLs equal S3RequestPresigner\'s for 300 generated requests', async () => {
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
    const checksum = random() < 0.5 ? Buffer.from(Array.from({ length: 16 }, () => Math.floor(random() * 256))).toString('base64') : undefined;
    const date = new Date(Date.UTC(2020, 0, 1) + Math.floor(random() * 10 * 365 * 24 * 3600) * 1000);

    const ours = new URL((await createPutPresigner(config).presignPut({ key, contentType, size, checksum, signingDate: date })).url);
    const theirs = await sdkUrl(config, key, contentType, size, checksum, date);

    const context = { i, key, region: config.region, endpoint: config.endpoint, accelerate: config.policy.accelerate };
    expect({ ...context, origin: ours.origin, path: ours.pathname }).toEqual({ ...context, origin: theirs.origin, path: theirs.pathname });
    expect({ ...context, query: Object.fromEntries(ours.searchParams) }).toEqual({ ...context, query: Object.fromEntries(theirs.searchParams) });
  }
});

test('the key path is encoded per segment (spaces as %20, not +)', () => {
  expect(encodeKeyPath('uploads/a b+c/é.png')).toBe('/uploads/a%20b%2Bc/%C3%A9.png');
});

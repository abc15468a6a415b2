import { createHash } from 'node:crypto';
import {
  computeSigV4Signature,
  HELLO_MD5,
  queryParams,
  TEST_ACCESS_KEY_ID,
  TEST_BUCKET,
  TEST_NOW,
  TEST_REGION,
  TEST_SECRET_ACCESS_KEY,
  TEST_SESSION_TOKEN,
  testConfig,
} from './helpers';
import { createPutPresigner, encodeKeyPath, encodeRfc3986, objectLocation } from '../../src/signer/presign';

const KEY = 'uploads/alice/0b6f8a4e-3c1d-4f2a-9e7b-5d6c4b3a2f10.png';

function signedHeaders(url: string): string[] {
  return (queryParams(url).get('X-Amz-SignedHeaders') ?? '').split(';').sort();
}

describe('encoding', () => {
  test('encodeRfc3986 leaves only unreserved characters', () => {
    expect(encodeRfc3986("A-z0_9.~!*'() /+=é")).toBe('A-z0_9.~%21%2A%27%28%29%20%2F%2B%3D%C3%A9');
  });

  test('encodeKeyPath encodes each segment and keeps the separators', () => {
    expect(encodeKeyPath('up(loads)/~abc/x y.png')).toBe('/up%28loads%29/~abc/x%20y.png');
  });
});

describe('objectLocation', () => {
  test('regional virtual-hosted URL by default', () => {
    expect(objectLocation(testConfig(), KEY)).toEqual({
      protocol: 'https:',
      hostname: `${TEST_BUCKET}.s3.${TEST_REGION}.amazonaws.com`,
      path: `/${KEY}`,
    });
  });

  test('partition URL suffix', () => {
    expect(objectLocation(testConfig({ region: 'cn-north-1', urlSuffix: 'amazonaws.com.cn' }), KEY).hostname)
      .toBe(`${TEST_BUCKET}.s3.cn-north-1.amazonaws.com.cn`);
  });

  test('Transfer Acceleration host when enabled', () => {
    expect(objectLocation(testConfig({}, { accelerate: true }), KEY).hostname).toBe(`${TEST_BUCKET}.s3-accelerate.amazonaws.com`);
  });

  test('path-style against the local endpoint, acceleration ignored', () => {
    expect(objectLocation(testConfig({ endpoint: 'http://127.0.0.1:4568' }, { accelerate: true }), KEY)).toEqual({
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 4568,
      path: `/${TEST_BUCKET}/${KEY}`,
    });
  });

  test('path-style on the regional host for a dotted bucket name', () => {
    expect(objectLocation(testConfig({ bucket: 'my.bucket' }), KEY)).toEqual({
      protocol: 'https:',
      hostname: `s3.${TEST_REGION}.amazonaws.com`,
      path: `/my.bucket/${KEY}`,
    });
  });
});

describe('createPutPresigner', () => {
  const presigner = createPutPresigner(testConfig());

  test('signs host, content-length, content-type and if-none-match (write-once) as headers', async () => {
    const { url, headers } = await presigner.presignPut({ key: KEY, contentType: 'image/png', size: 12345, signingDate: TEST_NOW });

    expect(signedHeaders(url)).toEqual(['content-length', 'content-type', 'host', 'if-none-match']);
    expect(headers).toEqual({ 'content-type': 'image/png', 'if-none-match': '*' });
    expect(url.startsWith(`https://${TEST_BUCKET}.s3.${TEST_REGION}.amazonaws.com/${KEY}?`)).toBe(true);
  });

  test('signs content-md5 too when a checksum is given, and asks the client to send it', async () => {
    const { url, headers } = await presigner.presignPut({ key: KEY, contentType: 'image/png', size: 11, checksum: HELLO_MD5, signingDate: TEST_NOW });

    expect(signedHeaders(url)).toEqual(['content-length', 'content-md5', 'content-type', 'host', 'if-none-match']);
    expect(headers).toEqual({ 'content-type': 'image/png', 'content-md5': HELLO_MD5, 'if-none-match': '*' });
  });

  test('signs the client\'s SHA-256 as x-amz-checksum-sha256 (with the algorithm header), and asks the client to send both', async () => {
    const sha256 = createHash('sha256').update('hello world').digest('base64');
    const { url, headers } = await presigner.presignPut({ key: KEY, contentType: 'image/png', size: 11, checksumSha256: sha256, signingDate: TEST_NOW });

    expect(signedHeaders(url)).toEqual(['content-length', 'content-type', 'host', 'if-none-match', 'x-amz-checksum-sha256', 'x-amz-sdk-checksum-algorithm']);
    expect(headers).toEqual({ 'content-type': 'image/png', 'if-none-match': '*', 'x-amz-checksum-sha256': sha256, 'x-amz-sdk-checksum-algorithm': 'SHA256' });
    expect([...queryParams(url).keys()].filter((name) => /checksum/i.test(name))).toEqual([]);
  });

  test('carries the policy expiry, the credential scope, the date and the session token', async () => {
    const { url, expiresAt } = await presigner.presignPut({ key: KEY, contentType: 'image/png', size: 1, signingDate: TEST_NOW });
    const params = queryParams(url);

    expect(params.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(params.get('X-Amz-Expires')).toBe('300');
    expect(params.get('X-Amz-Credential')).toBe(`${TEST_ACCESS_KEY_ID}/20240506/${TEST_REGION}/s3/aws4_request`);
    expect(params.get('X-Amz-Date')).toBe('20240506T070809Z');
    expect(params.get('X-Amz-Security-Token')).toBe(TEST_SESSION_TOKEN);
    expect(params.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    // Truncated to the second, like the signature's date.
    expect(expiresAt.toISOString()).toBe('2024-05-06T07:13:09.000Z');
  });

  test('expiry follows the policy', async () => {
    const short = createPutPresigner(testConfig({}, { expiresInSeconds: 60 }));
    const { url, expiresAt } = await short.presignPut({ key: KEY, contentType: 'image/png', size: 1, signingDate: TEST_NOW });
    expect(queryParams(url).get('X-Amz-Expires')).toBe('60');
    expect(expiresAt.toISOString()).toBe('2024-05-06T07:09:09.000Z');
  });

  test('carries no checksum parameters (they would pin an empty body)', async () => {
    const { url } = await presigner.presignPut({ key: KEY, contentType: 'image/png', size: 1, checksum: HELLO_MD5, signingDate: TEST_NOW });
    const names = [...queryParams(url).keys()].map((name) => name.toLowerCase());

    expect(names.filter((name) => name.startsWith('x-amz-checksum') || name === 'x-amz-sdk-checksum-algorithm')).toEqual([]);
    expect(names.filter((name) => ['content-type', 'content-length', 'content-md5'].includes(name))).toEqual([]);
  });

  test('without a session token, no token parameter', async () => {
    const longTerm = createPutPresigner(testConfig({ credentials: () => ({ accessKeyId: 'AKID', secretAccessKey: 'secret' }) }));
    const { url } = await longTerm.presignPut({ key: KEY, contentType: 'image/png', size: 1, signingDate: TEST_NOW });
    expect(queryParams(url).has('X-Amz-Security-Token')).toBe(false);
  });

  test('acceleration changes the host, not the signing region', async () => {
    const accelerated = createPutPresigner(testConfig({}, { accelerate: true }));
    const { url } = await accelerated.presignPut({ key: KEY, contentType: 'image/png', size: 1, signingDate: TEST_NOW });

    expect(new URL(url).host).toBe(`${TEST_BUCKET}.s3-accelerate.amazonaws.com`);
    expect(queryParams(url).get('X-Amz-Credential')).toContain(`/${TEST_REGION}/s3/aws4_request`);
  });

  test('local endpoint: path-style URL whose host header includes the port', async () => {
    const local = createPutPresigner(testConfig({ endpoint: 'http://127.0.0.1:4568' }));
    const { url, headers } = await local.presignPut({ key: KEY, contentType: 'image/png', size: 5, signingDate: TEST_NOW });

    expect(url.startsWith(`http://127.0.0.1:4568/${TEST_BUCKET}/${KEY}?`)).toBe(true);
    expect(computeSigV4Signature('PUT', url, { ...headers, 'content-length': '5' }, TEST_SECRET_ACCESS_KEY))
      .toBe(queryParams(url).get('X-Amz-Signature'));
  });
});

describe('signature (recomputed independently with node:crypto)', () => {
  const presigner = createPutPresigner(testConfig());

  test('equals X-Amz-Signature for the request the client will send', async () => {
    // GIVEN a key with characters that must be percent-encoded
    const key = 'up(loads)/~abc/x y!.png';
    const { url, headers } = await presigner.presignPut({ key, contentType: 'image/png', size: 12345, signingDate: TEST_NOW });
    const signature = queryParams(url).get('X-Amz-Signature');

    // THEN
    expect(computeSigV4Signature('PUT', url, { ...headers, 'content-length': '12345' }, TEST_SECRET_ACCESS_KEY)).toBe(signature);
  });

  test('covers content-length, content-type, content-md5 and if-none-match', async () => {
    const { url, headers } = await presigner.presignPut({ key: KEY, contentType: 'image/png', size: 11, checksum: HELLO_MD5, signingDate: TEST_NOW });
    const signature = queryParams(url).get('X-Amz-Signature');
    const sent: Record<string, string> = { ...headers, 'content-length': '11' };

    expect(computeSigV4Signature('PUT', url, sent, TEST_SECRET_ACCESS_KEY)).toBe(signature);
    expect(computeSigV4Signature('PUT', url, { ...sent, 'content-length': '12' }, TEST_SECRET_ACCESS_KEY)).not.toBe(signature);
    expect(computeSigV4Signature('PUT', url, { ...sent, 'content-type': 'text/html' }, TEST_SECRET_ACCESS_KEY)).not.toBe(signature);
    expect(computeSigV4Signature('PUT', url, { ...sent, 'content-md5': 'AAAAAAAAAAAAAAAAAAAAAA==' }, TEST_SECRET_ACCESS_KEY)).not.toBe(signature);
    // Write-once: a request without `If-None-Match: *` (an overwrite) does not match the signature.
    const { 'if-none-match': _conditional, ...unconditional } = sent;
    expect(() => computeSigV4Signature('PUT', url, unconditional, TEST_SECRET_ACCESS_KEY)).toThrow(/signed header "if-none-match"/);
    expect(computeSigV4Signature('PUT', url, { ...sent, 'if-none-match': '"etag"' }, TEST_SECRET_ACCESS_KEY)).not.toBe(signature);
    expect(computeSigV4Signature('PUT', url, sent, 'another-secret')).not.toBe(signature);
  });

  test('a different size gives a different signature', async () => {
    const a = await presigner.presignPut({ key: KEY, contentType: 'image/png', size: 100, signingDate: TEST_NOW });
    const b = await presigner.presignPut({ key: KEY, contentType: 'image/png', size: 101, signingDate: TEST_NOW });
    expect(queryParams(a.url).get('X-Amz-Signature')).not.toBe(queryParams(b.url).get('X-Amz-Signature'));
  });
});

/**
 * Fault paths on the local stack, by stopping a stand-in mid-test: the real signer (its S3 calls through
 * @aws-sdk/client-s3, its quota through @aws-sdk/client-dynamodb) answers a 503 with a code, quickly,
 * instead of hanging or answering a 500.
 */
import type { ErrorResponse, MultipartUploadPlan } from '../../src/contract/signer-protocol';
import { LOCAL_USER_HEADER } from '../../src/local/http-api';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';

const MIB = 1024 * 1024;

async function call(stack: LocalStack, path: string, body: unknown, user = 'alice') {
  const started = Date.now();
  const res = await fetch(`${stack.signerUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [LOCAL_USER_HEADER]: user },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown> & Partial<ErrorResponse>;
  return { status: res.status, body: json, retryAfter: res.headers.get('retry-after'), ms: Date.now() - started };
}

describe('S3 unreachable: multipart routes answer 503 SERVICE_UNAVAILABLE', () => {
  let stack: LocalStack;
  const lines: string[] = [];
  beforeAll(async () => {
    stack = await startLocalStack({
      log: (l) => lines.push(l),
      verifyUploads: false,
      sendTestEvent: false,
      policy: { allowedContentTypes: ['image/png', 'application/pdf'], maxFileSize: 20 * MIB, multipartThreshold: 6 * MIB, partSize: 5 * MIB },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('create, parts, complete, abort and Uppy completion: 503 with code and retry-after, in seconds; single PUTs still sign', async () => {
    // GIVEN an upload created while S3 was up
    const created = await call(stack, '/uploads', { contentType: 'application/pdf', size: 8 * MIB });
    expect(created.status).toBe(200);
    const { key, uploadId } = created.body as unknown as MultipartUploadPlan;

    // WHEN the S3 stand-in goes away
    await stack.stopS3();
    lines.length = 0;

    // THEN every route that needs S3 says so, with a code, fast
    const attempts = [
      ['create', '/uploads', { contentType: 'application/pdf', size: 8 * MIB }],
      ['parts', '/uploads/multipart/parts', { key, uploadId, size: 8 * MIB }],
      ['complete', '/uploads/multipart/complete', { key, uploadId, size: 8 * MIB }],
      ['abort', '/uploads/multipart/abort', { key, uploadId }],
      ['uppy complete', '/uppy/sign', { method: 'POST', key, uploadId }],
    ] as const;
    for (const [name, path, body] of attempts) {
      const res = await call(stack, path, body);
      expect({ name, status: res.status, code: res.body.error?.code, retryAfter: res.retryAfter })
        .toEqual({ name, status: 503, code: 'SERVICE_UNAVAILABLE', retryAfter: '5' });
      expect(res.body.error?.message).toMatch(/S3 is temporarily unavailable/);
      expect(JSON.stringify(res.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|stack/i);
      expect(res.ms).toBeLessThan(8000);
    }
    expect(lines.filter((l) => /S3 unavailable/.test(l))).toHaveLength(attempts.length);

    // A single PUT needs no S3 call: still signed (the client's upload then fails at S3, not here).
    expect((await call(stack, '/uploads', { contentType: 'image/png', size: 100 })).status).toBe(200);
  });
});

describe('the upload quota on the local stack (dynalite)', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({
      log: () => undefined, verifyUploads: false, sendTestEvent: false, uploadQuota: { maxUploads: 2, windowSeconds: 3600 },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('two uploads per caller, then 429 with retry-after; another caller is unaffected', async () => {
    expect(stack.quotaTableName).toBe('direct-upload-quota');
    expect(stack.signerEnvironment.DIRECT_UPLOAD_QUOTA).toBe('{"table":"direct-upload-quota","maxUploads":2,"windowSeconds":3600}');
    for (let i = 0; i < 2; i++) expect((await call(stack, '/uploads', { contentType: 'image/png', size: 10 }, 'quota-a')).status).toBe(200);
    const refused = await call(stack, '/uploads', { contentType: 'image/png', size: 10 }, 'quota-a');
    expect({ status: refused.status, code: refused.body.error?.code }).toEqual({ status: 429, code: 'QUOTA_EXCEEDED' });
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(3600);
    expect((await call(stack, '/uploads', { contentType: 'image/png', size: 10 }, 'quota-b')).status).toBe(200);
  });

  test('DynamoDB stopped mid-test: 503 SERVICE_UNAVAILABLE, nothing signed (fail closed)', async () => {
    await stack.stopDynamoDb();
    const res = await call(stack, '/uploads', { contentType: 'image/png', size: 10 }, 'quota-c');
    expect({ status: res.status, code: res.body.error?.code, retryAfter: res.retryAfter }).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE', retryAfter: '5' });
    expect(res.body).not.toHaveProperty('url');
    expect(res.ms).toBeLessThan(8000);
  });
});

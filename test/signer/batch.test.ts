/**
 * Batch signing (`POST /uploads` with `{ files: [...] }`): the envelope's 400s, per-entry answers in order,
 * and every single-upload guarantee per entry: bounded bytes (each entry's own signed length), the caller's
 * scope for every key (an entry cannot name one), write-once, 4xx per bad entry, one quota unit per entry
 * (real DynamoDB store on dynalite), and a failing dependency answered 503 without being called again.
 */
import {
  call,
  computeSigV4Signature,
  DEFAULT_ARN,
  errorOf,
  iamAuthorizer,
  jwtAuthorizer,
  makeEvent,
  queryParams,
  TEST_BUCKET,
  TEST_NOW,
  TEST_REGION,
  TEST_SECRET_ACCESS_KEY,
  testConfig,
  verifyPostPolicy,
} from './helpers';
import type { BatchUploadRefused, BatchUploadResponse, BatchUploadResult, MultipartUploadPlan, PresignedUpload } from '../../src/contract/signer-protocol';
import { MAX_BATCH_FILES } from '../../src/contract/signer-protocol';
import { LocalDynamoDb, startLocalDynamoDb } from '../../src/local/dynamodb';
import { MAX_BATCH_BODY_BYTES, MAX_BATCH_SIGNING_MS, signBatch } from '../../src/signer/batch';
import { createSignerHandler, SignerHandlerOptions } from '../../src/signer/handler';
import { jsonResponse } from '../../src/signer/http';
import { scopeForIdentity } from '../../src/signer/identity';
import { MultipartStore } from '../../src/signer/multipart';
import { QuotaStore } from '../../src/signer/quota';
import { MAX_REQUEST_BODY_BYTES } from '../../src/signer/request';

const MIB = 1024 * 1024;
const POLICY = { auth: 'authorizer' as const, allowedContentTypes: ['image/png', 'application/pdf'], maxFileSize: 20 * MIB, multipartThreshold: 6 * MIB, partSize: 5 * MIB };

/** Creates multipart uploads in memory (S3 itself is exercised by test/local/batch.test.ts). */
function creatingStore(): MultipartStore & { created: string[] } {
  const created: string[] = [];
  return {
    created,
    create: async (key) => {
      created.push(key);
      return `upload-${created.length}`;
    },
    listParts: async () => [],
    listUploads: async () => [],
    complete: async () => undefined,
    abort: async () => true,
  };
}

let seq = 0;
function setup(options: SignerHandlerOptions = {}, config: Parameters<typeof testConfig>[0] = {}) {
  const store = creatingStore();
  const handler = createSignerHandler(testConfig(config, POLICY), {
    now: () => TEST_NOW, randomUUID: () => `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}`, log: () => undefined, multipartStore: store, ...options,
  });
  const as = (user: string, body: unknown, rawBody?: string) =>
    call(handler, makeEvent({ body, rawBody, authorizer: jwtAuthorizer({ sub: user }) }));
  return { handler, store, as };
}

const png = (size: number, extra: Record<string, unknown> = {}) => ({ contentType: 'image/png', size, ...extra });
const filesOf = (body: Record<string, unknown>) => (body as unknown as BatchUploadResponse).files;
const refused = (r: BatchUploadResult) => {
  if (r.ok) throw new Error(`expected a refusal, got ${JSON.stringify(r)}`);
  return r as BatchUploadRefused;
};
const signed = <T = PresignedUpload>(r: BatchUploadResult) => {
  if (!r.ok) throw new Error(`expected a signed entry, got ${JSON.stringify(r)}`);
  return r as unknown as T & { ok: true };
};

describe('the envelope', () => {
  test.each([
    ['files is not an array', { files: { contentType: 'image/png', size: 1 } }, /files must be an array/],
    ['files is null', { files: null }, /files must be an array/],
    ['files is empty', { files: [] }, /at least one/],
    [`more than ${MAX_BATCH_FILES} files`, { files: Array.from({ length: MAX_BATCH_FILES + 1 }, () => png(10)) }, /at most 100 upload requests \(got 101\)/],
    ['files beside single-request fields', { files: [png(10)], contentType: 'image/png', size: 10 }, /only "files"; move "contentType", "size"/],
  ])('400 INVALID_REQUEST when %s; nothing is signed', async (_name, body, message) => {
    const { as, store } = setup();
    const res = await as('alice', body);
    expect(res.status).toBe(400);
    expect(errorOf(res)).toEqual({ code: 'INVALID_REQUEST', message: expect.stringMatching(message) });
    expect(res.rawBody).not.toMatch(/X-Amz-/);
    expect(store.created).toEqual([]);
  });

  test('an unauthenticated batch is refused whole (401), before any entry is read', async () => {
    const { handler } = setup();
    const res = await call(handler, makeEvent({ body: { files: [png(10)] }, authorizer: jwtAuthorizer({}) }));
    expect(res.status).toBe(401);
    expect(res.rawBody).not.toMatch(/X-Amz-/);
  });

  test('a batch may exceed the single request\'s 8 KiB body limit, a single request still may not, and a batch is bounded too', async () => {
    const { as } = setup();
    const name = 'n'.repeat(200);
    const big = { files: Array.from({ length: 60 }, () => png(10, { filename: name })) };
    expect(JSON.stringify(big).length).toBeGreaterThan(MAX_REQUEST_BODY_BYTES);
    const ok = await as('alice', big);
    expect(ok.status).toBe(200);
    expect(filesOf(ok.body).every((f) => f.ok)).toBe(true);

    const single = await as('alice', undefined, JSON.stringify({ ...png(10), filename: name, pad: 'x'.repeat(MAX_REQUEST_BODY_BYTES) }));
    expect(single.status).toBe(413);
    expect(errorOf(single).message).toMatch(`at most ${MAX_REQUEST_BODY_BYTES} bytes`);

    const huge = await as('alice', undefined, JSON.stringify({ files: [png(10, { filename: 'x'.repeat(MAX_BATCH_BODY_BYTES) })] }));
    expect(huge.status).toBe(413);
    expect(errorOf(huge).message).toMatch(`at most ${MAX_BATCH_BODY_BYTES} bytes`);
  });
});

describe('per entry, every single-upload guarantee', () => {
  test('PUT, POST form and multipart entries are answered in order, each as its single request would be', async () => {
    const { as, store } = setup();
    const res = await as('alice', { files: [png(1000), png(2000, { method: 'POST' }), { contentType: 'application/pdf', size: 12 * MIB }, png(3000)] });
    expect(res.status).toBe(200);
    const [put, post, multipart, put2] = filesOf(res.body);
    const scope = `uploads/${scopeForIdentity('alice')}/`;

    const p = signed(put);
    expect(p.method).toBe('PUT');
    expect(p.headers).toMatchObject({ 'content-type': 'image/png', 'if-none-match': '*' });
    // The signature covers this entry's own length: S3 refuses any other (bounded bytes, per entry).
    const signatureWith = (u: PresignedUpload, length: number) => computeSigV4Signature('PUT', u.url, { ...u.headers, 'content-length': String(length) }, TEST_SECRET_ACCESS_KEY);
    expect(signatureWith(p, 1000)).toBe(queryParams(p.url).get('X-Amz-Signature'));
    expect(signatureWith(p, 3000)).not.toBe(queryParams(p.url).get('X-Amz-Signature'));
    const p2 = signed(put2);
    expect(signatureWith(p2, 3000)).toBe(queryParams(p2.url).get('X-Amz-Signature'));

    const f = signed(post);
    expect(f.method).toBe('POST');
    const policy = verifyPostPolicy(f.fields!, { secretAccessKey: TEST_SECRET_ACCESS_KEY, region: TEST_REGION, bucket: TEST_BUCKET, now: TEST_NOW });
    expect(policy.conditions).toContainEqual(['content-length-range', 2000, 2000]);
    expect(policy.conditions).toContainEqual({ key: f.key });

    const m = signed<MultipartUploadPlan>(multipart);
    expect(m.uploadId).toBe('upload-1');
    expect(m.parts.map((part) => part.size)).toEqual([5 * MIB, 5 * MIB, 2 * MIB]);
    expect(store.created).toEqual([m.key]);

    const keys = [p.key, f.key, m.key, signed(put2).key];
    for (const key of keys) expect(key.startsWith(scope)).toBe(true);
    expect(new Set(keys).size).toBe(4);
  });

  test('one bad entry is refused with its own 4xx; the others are signed', async () => {
    const { as } = setup();
    const res = await as('alice', {
      files: [
        png(10),
        png(21 * MIB, { method: 'PUT' }), // above maxFileSize
        { contentType: 'text/html', size: 10 },
        png(10, { key: 'uploads/someone-else/x.png' }), // an entry cannot choose its key
        null,
        [png(10)],
        { files: [png(10)] }, // no nesting
        png(-1),
        png(10),
      ],
    });
    expect(res.status).toBe(200);
    const files = filesOf(res.body);
    expect(files).toHaveLength(9);
    expect(files.map((f) => (f.ok ? 200 : refused(f).status))).toEqual([200, 413, 415, 400, 400, 400, 400, 400, 200]);
    expect(refused(files[1]).error.code).toBe('FILE_TOO_LARGE');
    expect(refused(files[2]).error.code).toBe('CONTENT_TYPE_NOT_ALLOWED');
    expect(refused(files[3]).error.message).toMatch(/Unknown field "key"/);
    expect(refused(files[6]).error.message).toMatch(/Unknown field "files"/);
    for (const f of files.filter((x) => !x.ok)) expect(JSON.stringify(f)).not.toMatch(/X-Amz-|"url"/);
  });

  test('keys are in each caller\'s own scope (the identity comes from the authorizer, not the body)', async () => {
    const { handler } = setup({}, {});
    const iam = createSignerHandler(testConfig({}, { ...POLICY, auth: 'iam' }), { now: () => TEST_NOW, log: () => undefined });
    const bob = await call(handler, makeEvent({ body: { files: [png(10), png(20)] }, authorizer: jwtAuthorizer({ sub: 'bob' }) }));
    const role = await call(iam, makeEvent({ body: { files: [png(10), png(20)] }, authorizer: iamAuthorizer(DEFAULT_ARN) }));
    for (const f of filesOf(bob.body)) expect(signed(f).key.startsWith(`uploads/${scopeForIdentity('bob')}/`)).toBe(true);
    for (const f of filesOf(role.body)) expect(signed(f).key.startsWith(`uploads/${scopeForIdentity(DEFAULT_ARN)}/`)).toBe(true);
  });

  test(`${MAX_BATCH_FILES} POST-form entries: the answer stays far below the 6 MB Lambda response limit`, async () => {
    const { as } = setup();
    const res = await as('alice', { files: Array.from({ length: MAX_BATCH_FILES }, (_, i) => png(1000 + i, { method: 'POST', filename: `photo-${i}.png` })) });
    expect(res.status).toBe(200);
    expect(filesOf(res.body).every((f) => f.ok)).toBe(true);
    const bytes = Buffer.byteLength(res.rawBody);
    // The HTTP API wraps the body in its JSON (escaping quotes): allow twice the size.
    expect(2 * bytes).toBeLessThan(6 * 1000 * 1000);
    process.stdout.write(`batch answer, ${MAX_BATCH_FILES} POST forms: ${bytes} bytes\n`);
  });
});

test('100 multipart entries of 100 part URLs each: the answer stays within its budget, the rest are answered BATCH_INCOMPLETE untried', async () => {
  // 5 GiB files in 16 MiB parts: each plan signs its first 100 part URLs (~1 KB each with a session token).
  const store = creatingStore();
  const big = createSignerHandler(testConfig({}, { ...POLICY, maxFileSize: 5 * 1024 * MIB, multipartThreshold: 100 * MIB, partSize: 16 * MIB }), {
    now: () => TEST_NOW, log: () => undefined, multipartStore: store,
  });
  const files5GiB = Array.from({ length: MAX_BATCH_FILES }, () => ({ contentType: 'application/pdf', size: 5 * 1024 * MIB }));
  const res = await call(big, makeEvent({ body: { files: files5GiB }, authorizer: jwtAuthorizer({ sub: 'ivy' }) }));
  expect(res.status).toBe(200);
  // The whole Lambda response (the body JSON-escaped inside it) fits the 6 MB limit.
  expect(Buffer.byteLength(JSON.stringify({ statusCode: res.status, headers: res.headers, body: res.rawBody }))).toBeLessThan(6 * 1000 * 1000);
  const files = filesOf(res.body);
  expect(files).toHaveLength(MAX_BATCH_FILES);
  const signedCount = files.filter((f) => f.ok).length;
  expect(signedCount).toBeGreaterThan(10);
  expect(signedCount).toBeLessThan(MAX_BATCH_FILES);
  // Signed first, then only refusals: S3 was asked exactly once per signed entry.
  expect(files.slice(0, signedCount).every((f) => f.ok)).toBe(true);
  expect(store.created).toHaveLength(signedCount);
  for (const f of files.slice(signedCount)) expect(refused(f)).toMatchObject({ status: 413, error: { code: 'BATCH_INCOMPLETE' } });
});

test('slow entries: after the time budget the rest are answered BATCH_INCOMPLETE untried, within the function timeout', async () => {
  let now = 0;
  const tried: unknown[] = [];
  // Each entry takes 3 s (a slow S3): the budget is passed after the third.
  const res = await signBatch({ files: [1, 2, 3, 4, 5] }, async (entry) => {
    tried.push(entry);
    now += 3000;
    return jsonResponse(200, { key: `k${String(entry)}` });
  }, () => now);
  expect(MAX_BATCH_SIGNING_MS).toBeLessThan(20_000 / 2);
  const files = filesOf(JSON.parse(res.body ?? '{}') as Record<string, unknown>);
  expect(tried).toEqual([1, 2, 3]);
  expect(files.map((f) => (f.ok ? 'ok' : refused(f).error.code))).toEqual(['ok', 'ok', 'ok', 'BATCH_INCOMPLETE', 'BATCH_INCOMPLETE']);
});

describe('quota: one unit per entry (DynamoDB on dynalite)', () => {
  let db: LocalDynamoDb;
  beforeAll(async () => {
    db = await startLocalDynamoDb({ host: '127.0.0.1', port: 0, region: 'eu-west-1', tableName: 'batch-quota', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  });
  afterAll(async () => {
    await db?.stop();
  });
  const quota = (maxUploads: number) => ({ quota: { table: 'batch-quota', maxUploads, windowSeconds: 60 }, dynamoDbEndpoint: db.endpoint });

  test('a batch of N consumes N; beyond the remaining quota the entries that fit are signed, in order, the rest get QUOTA_EXCEEDED with retryAfter', async () => {
    const { as } = setup({}, quota(4));
    const first = await as('dora', { files: [png(10), png(10)] });
    expect(filesOf(first.body).map((f) => f.ok)).toEqual([true, true]);
    // An invalid entry is refused before it is counted.
    const second = await as('dora', { files: [png(10), { contentType: 'text/html', size: 1 }, png(10), png(10), png(10)] });
    const files = filesOf(second.body);
    expect(files.map((f) => (f.ok ? 200 : refused(f).status))).toEqual([200, 415, 200, 429, 429]);
    expect(refused(files[3])).toMatchObject({ error: { code: 'QUOTA_EXCEEDED' }, retryAfter: expect.any(Number) });
    expect(refused(files[3]).retryAfter).toBeGreaterThan(0);
    // Spent: a single request is refused too, and another caller is not affected.
    expect((await as('dora', png(10))).status).toBe(429);
    expect(filesOf((await as('erin', { files: [png(10)] })).body)[0].ok).toBe(true);
  });

  test('a failing quota store fails closed: the first entry is 503, the rest too, and the store is not called again', async () => {
    let calls = 0;
    const failing: QuotaStore = {
      consume: async () => {
        calls++;
        throw new Error('connect ECONNREFUSED');
      },
    };
    const { as } = setup({ quotaStore: failing }, quota(10));
    const res = await as('alice', { files: [png(10), png(10), png(10)] });
    expect(filesOf(res.body).map((f) => refused(f).status)).toEqual([503, 503, 503]);
    expect(refused(filesOf(res.body)[2]).error.code).toBe('SERVICE_UNAVAILABLE');
    expect(calls).toBe(1);
    expect(res.rawBody).not.toMatch(/X-Amz-/);
  });
});

test('a failing S3 on a multipart entry answers it 503 and does not call S3 again; entries before it stay signed', async () => {
  let calls = 0;
  const store: MultipartStore = {
    ...creatingStore(),
    create: async () => {
      calls++;
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    },
  };
  const { as } = setup({ multipartStore: store });
  const big = { contentType: 'application/pdf', size: 12 * MIB };
  const res = await as('alice', { files: [png(10), big, big, png(10)] });
  expect(res.status).toBe(200);
  const files = filesOf(res.body);
  expect(files[0].ok).toBe(true);
  expect(files.slice(1).map((f) => refused(f).status)).toEqual([503, 503, 503]);
  expect(calls).toBe(1);
});

/**
 * Multipart and POST-policy uploads end to end on the local stack: the real signer (its S3 calls go
 * through @aws-sdk/client-s3 to the S3 stand-in), real presigned part URLs, real completion checks.
 * Small limits keep it fast: 6 MiB threshold, 5 MiB parts (S3's minimum), 20 MiB maximum.
 */
import { CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { drain, objectExists, recordsOf } from './helpers';
import type {
  CompletedUpload,
  ErrorResponse,
  MultipartUploadPlan,
  PresignedUpload,
  SignPartsResponse,
} from '../../src/contract/signer-protocol';
import { LOCAL_USER_HEADER } from '../../src/local/http-api';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import { decodeS3EventKey } from '../../src/local/s3-events';
import { loadSignerConfig } from '../../src/signer/config';
import { MultipartStore, sdkMultipartStore } from '../../src/signer/multipart';
import { verifyPostPolicy } from '../signer/helpers';

const MIB = 1024 * 1024;
let stack: LocalStack;
/** Every line the signer logged (faults would be here). */
const signerLog: string[] = [];
/** Runs between the signer's ListParts and its CompleteMultipartUpload (the race window), when set. */
let betweenListAndComplete: (() => Promise<void>) | undefined;
/** When set, the completion reaches S3 (which stores the object) but the signer sees this error instead of S3's answer. */
let completionAnswerLost: Error | undefined;

/** The signer's real SDK store against the stand-in, with a hook inside the completion route's race window. */
function racingStore(): MultipartStore {
  let inner: MultipartStore | undefined;
  const sdk = () => (inner ??= sdkMultipartStore(loadSignerConfig(stack.signerEnvironment)));
  return {
    create: (key, type, metadata, checksumAlgorithm) => sdk().create(key, type, metadata, checksumAlgorithm),
    listParts: (key, id) => sdk().listParts(key, id),
    listUploads: (key) => sdk().listUploads(key),
    abort: (key, id) => sdk().abort(key, id),
    complete: async (key, id, parts, size) => {
      await betweenListAndComplete?.();
      await sdk().complete(key, id, parts, size);
      const lost = completionAnswerLost;
      completionAnswerLost = undefined;
      if (lost) throw lost;
    },
    storedSize: (key) => sdk().storedSize(key),
  };
}

beforeAll(async () => {
  stack = await startLocalStack({
    log: (line) => signerLog.push(line),
    signer: { multipartStore: racingStore(), log: (line) => signerLog.push(line) },
    verifyUploads: false,
    policy: {
      allowedContentTypes: ['image/png', 'application/pdf'],
      maxFileSize: 20 * MIB,
      multipartThreshold: 6 * MIB,
      partSize: 5 * MIB,
    },
  });
  await drain(stack);
});

afterAll(async () => {
  await stack?.stop();
});

async function call<T>(path: string, body: unknown, user = 'alice'): Promise<{ status: number; body: T & Partial<ErrorResponse> }> {
  const res = await fetch(`${stack.signerUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [LOCAL_USER_HEADER]: user },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T & Partial<ErrorResponse> };
}

function file(size: number, seed = 7): Buffer {
  const buf = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4096) buf[i] = (i / 4096 + seed) % 251;
  buf.write('%PDF-1.7\n', 0);
  return buf;
}

async function plan(size: number, user = 'alice'): Promise<MultipartUploadPlan> {
  const res = await call<MultipartUploadPlan>('/uploads', { contentType: 'application/pdf', size }, user);
  if (res.status !== 200) throw new Error(JSON.stringify(res.body));
  return res.body;
}

async function putPart(url: string, bytes: Buffer): Promise<{ status: number; etag: string | null; text: string }> {
  const res = await fetch(url, { method: 'PUT', body: bytes });
  return { status: res.status, etag: res.headers.get('etag'), text: await res.text() };
}

const exists = (key: string): Promise<boolean> => objectExists(stack, key);

/** A failed call: the code, a message, and nothing signed. */
function expectRefused(res: { status: number; body: unknown }, status: number, code: string): void {
  expect({ status: res.status, code: (res.body as ErrorResponse).error?.code }).toEqual({ status, code });
  expect((res.body as ErrorResponse).error.message.length).toBeGreaterThan(10);
  expect(JSON.stringify(res.body)).not.toMatch(/X-Amz-Signature|"url"/);
}

test('happy path: plan, three signed parts, completion; S3 holds the exact bytes and the queue hears CompleteMultipartUpload', async () => {
  const bytes = file(12 * MIB + 123);
  const p = await plan(bytes.length);
  expect(p).toMatchObject({
    key: expect.stringMatching(new RegExp(`^uploads/alice/[0-9a-f-]{36}_${12 * MIB + 123}_${5 * MIB}\\.pdf$`)),
    uploadId: expect.any(String),
    partSize: 5 * MIB,
    partCount: 3,
    publicUrl: `${stack.cdnUrl}/${p.key}`,
  });
  expect(p.parts.map((x) => [x.partNumber, x.size])).toEqual([[1, 5 * MIB], [2, 5 * MIB], [3, 2 * MIB + 123]]);

  for (const part of p.parts) {
    const start = (part.partNumber - 1) * p.partSize;
    const res = await putPart(part.url, bytes.subarray(start, start + part.size));
    expect(res.status).toBe(200);
  }
  const done = await call<CompletedUpload>('/uploads/multipart/complete', { key: p.key, uploadId: p.uploadId, size: bytes.length });
  expect(done).toEqual({ status: 200, body: { key: p.key, size: bytes.length, publicUrl: p.publicUrl } });

  const head = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: p.key }));
  expect([head.ContentLength, head.ContentType]).toEqual([bytes.length, 'application/pdf']);
  await stack.flush();
  const records = recordsOf(await drain(stack));
  expect(records.map((r) => [r.eventName, decodeS3EventKey(r.s3.object.key), r.s3.object.size]))
    .toEqual([['ObjectCreated:CompleteMultipartUpload', p.key, bytes.length]]);
});

test('write-once: a second multipart upload to a completed key is refused at completion (409 OBJECT_EXISTS, S3 412) and aborted', async () => {
  // GIVEN a completed upload
  const bytes = file(7 * MIB, 5);
  const p = await plan(bytes.length);
  for (const part of p.parts) {
    const start = (part.partNumber - 1) * p.partSize;
    expect((await putPart(part.url, bytes.subarray(start, start + part.size))).status).toBe(200);
  }
  expect((await call('/uploads/multipart/complete', { key: p.key, uploadId: p.uploadId, size: bytes.length })).status).toBe(200);

  // WHEN another multipart upload for the same key (a replayed CreateMultipartUpload URL) is filled and completed
  const { UploadId: again } = await stack.s3.send(new CreateMultipartUploadCommand({ Bucket: stack.bucket, Key: p.key, ContentType: 'application/pdf' }));
  const other = file(7 * MIB, 9);
  const signed = await call<SignPartsResponse>('/uploads/multipart/parts', { key: p.key, uploadId: again, size: other.length });
  for (const part of signed.body.parts) {
    const start = (part.partNumber - 1) * p.partSize;
    expect((await putPart(part.url, other.subarray(start, start + part.size))).status).toBe(200);
  }
  const refused = await call('/uploads/multipart/complete', { key: p.key, uploadId: again, size: other.length });

  // THEN S3 refuses to complete onto the key, the upload is aborted, and the first bytes stay
  expectRefused(refused, 409, 'OBJECT_EXISTS');
  expectRefused(await call('/uploads/multipart/parts', { key: p.key, uploadId: again, size: other.length }), 404, 'UPLOAD_NOT_FOUND');
  const stored = await stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: p.key }));
  expect(Buffer.from(await stored.Body!.transformToByteArray()).equals(bytes)).toBe(true);
  await stack.flush();
  await drain(stack);
});

test('the parts route signs only the layout the upload was created with: another size is refused, no part beyond the file', async () => {
  const p = await plan(11 * MIB);
  expectRefused(await call('/uploads/multipart/parts', { key: p.key, uploadId: p.uploadId, size: 20 * MIB, partNumbers: [3] }), 400, 'INVALID_REQUEST');
  expectRefused(await call('/uploads/multipart/parts', { key: p.key, uploadId: p.uploadId, partNumbers: [4] }), 400, 'INVALID_PART_NUMBER');
  const all = await call<SignPartsResponse>('/uploads/multipart/parts', { key: p.key, uploadId: p.uploadId, partNumbers: [1, 2, 3] });
  expect(all.body.parts.reduce((sum, x) => sum + x.size, 0)).toBe(11 * MIB);
  // S3 refuses a full-size third part: the signed length is the file's remainder.
  expect((await putPart(all.body.parts[2].url, file(5 * MIB))).status).toBe(403);
  expect((await putPart(all.body.parts[2].url, file(MIB))).status).toBe(200);
  await call('/uploads/multipart/abort', { key: p.key, uploadId: p.uploadId });
});

test('a part of another length is refused by S3 (content-length is signed)', async () => {
  const p = await plan(11 * MIB);
  const res = await putPart(p.parts[0].url, file(5 * MIB + 1));
  expect(res.status).toBe(403);
  expect(res.text).toContain('SignatureDoesNotMatch');
  await call('/uploads/multipart/abort', { key: p.key, uploadId: p.uploadId });
});

test('resume: the parts route lists what S3 holds and signs the missing parts', async () => {
  const bytes = file(11 * MIB, 3);
  const p = await plan(bytes.length);
  expect((await putPart(p.parts[0].url, bytes.subarray(0, 5 * MIB))).status).toBe(200);

  const more = await call<SignPartsResponse>('/uploads/multipart/parts', { key: p.key, uploadId: p.uploadId, size: bytes.length });
  expect(more.status).toBe(200);
  expect(more.body.uploadedParts).toEqual([{ partNumber: 1, size: 5 * MIB, etag: expect.stringMatching(/^[0-9a-f]{32}$/) }]);
  expect(more.body.parts.map((x) => [x.partNumber, x.size])).toEqual([[2, 5 * MIB], [3, MIB]]);
  const chosen = await call<SignPartsResponse>('/uploads/multipart/parts', { key: p.key, uploadId: p.uploadId, size: bytes.length, partNumbers: [3] });
  expect(chosen.body.parts.map((x) => x.partNumber)).toEqual([3]);

  for (const part of more.body.parts) {
    const start = (part.partNumber - 1) * p.partSize;
    expect((await putPart(part.url, bytes.subarray(start, start + part.size))).status).toBe(200);
  }
  expect((await call('/uploads/multipart/complete', { key: p.key, uploadId: p.uploadId, size: bytes.length })).status).toBe(200);
  await stack.flush();
  await drain(stack);
});

describe('completion is refused, and the upload aborted, unless S3 holds exactly the layout', () => {
  test('a missing part: 409 PART_MISSING', async () => {
    const bytes = file(11 * MIB);
    const p = await plan(bytes.length);
    await putPart(p.parts[0].url, bytes.subarray(0, 5 * MIB));
    expectRefused(await call('/uploads/multipart/complete', { key: p.key, uploadId: p.uploadId, size: bytes.length }), 409, 'PART_MISSING');
    expectRefused(await call('/uploads/multipart/parts', { key: p.key, uploadId: p.uploadId, size: bytes.length }), 404, 'UPLOAD_NOT_FOUND');
    expect(await exists(p.key)).toBe(false);
  });

  test('an extra part (uploaded outside the plan): 409 PART_UNEXPECTED', async () => {
    const bytes = file(7 * MIB);
    const p = await plan(bytes.length);
    for (const part of p.parts) {
      const start = (part.partNumber - 1) * p.partSize;
      await putPart(part.url, bytes.subarray(start, start + part.size));
    }
    await stack.s3.send(new UploadPartCommand({ Bucket: stack.bucket, Key: p.key, UploadId: p.uploadId, PartNumber: 3, Body: file(10) }));
    expectRefused(await call('/uploads/multipart/complete', { key: p.key, uploadId: p.uploadId, size: bytes.length }), 409, 'PART_UNEXPECTED');
    expect(await exists(p.key)).toBe(false);
  });

  test('a total above maxFileSize (a part uploaded without a signed length): 413 FILE_TOO_LARGE', async () => {
    const p = await plan(11 * MIB);
    await stack.s3.send(new UploadPartCommand({ Bucket: stack.bucket, Key: p.key, UploadId: p.uploadId, PartNumber: 1, Body: file(21 * MIB) }));
    expectRefused(await call('/uploads/multipart/complete', { key: p.key, uploadId: p.uploadId, size: 11 * MIB }), 413, 'FILE_TOO_LARGE');
    expectRefused(await call('/uploads/multipart/abort', { key: p.key, uploadId: p.uploadId }), 404, 'UPLOAD_NOT_FOUND');
    expect(await exists(p.key)).toBe(false);
  });

  test('a part of the wrong size for the declared file (uploaded without a signed length): 409 PART_SIZE_MISMATCH', async () => {
    const p = await plan(11 * MIB);
    await putPart(p.parts[0].url, file(5 * MIB));
    await stack.s3.send(new UploadPartCommand({ Bucket: stack.bucket, Key: p.key, UploadId: p.uploadId, PartNumber: 2, Body: file(2 * MIB) }));
    await putPart(p.parts[2].url, file(MIB));
    expectRefused(await call('/uploads/multipart/complete', { key: p.key, uploadId: p.uploadId, size: 11 * MIB }), 409, 'PART_SIZE_MISMATCH');
    expect(await exists(p.key)).toBe(false);
  });
});

test('a part re-uploaded between the signer\'s listing and its completion: 409 PARTS_CHANGED, no 5xx, the upload intact and completable', async () => {
  const bytes = file(11 * MIB, 5);
  const p = await plan(bytes.length);
  const sendPart = (n: number, data: Buffer) => putPart(p.parts[n - 1].url, data);
  for (const part of p.parts) {
    const start = (part.partNumber - 1) * p.partSize;
    expect((await sendPart(part.partNumber, bytes.subarray(start, start + part.size))).status).toBe(200);
  }
  // Part 2 again, same length, other bytes: a new ETag after the signer listed the old one.
  const changed = Buffer.from(bytes.subarray(5 * MIB, 10 * MIB));
  changed[100] = (changed[100] + 1) % 256;
  betweenListAndComplete = async () => {
    betweenListAndComplete = undefined;
    expect((await sendPart(2, changed)).status).toBe(200);
  };
  signerLog.length = 0;
  expectRefused(await call('/uploads/multipart/complete', { key: p.key, uploadId: p.uploadId, size: bytes.length }), 409, 'PARTS_CHANGED');
  expect(signerLog).toEqual([]);
  expect(await exists(p.key)).toBe(false);

  // Nothing was lost: the upload still holds its three parts, and completing again stores them.
  const listed = await call<SignPartsResponse>('/uploads/multipart/parts', { key: p.key, uploadId: p.uploadId, size: bytes.length });
  expect(listed.body.uploadedParts.map((x) => [x.partNumber, x.size])).toEqual([[1, 5 * MIB], [2, 5 * MIB], [3, MIB]]);
  expect((await call('/uploads/multipart/complete', { key: p.key, uploadId: p.uploadId, size: bytes.length })).status).toBe(200);
  const stored = await stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: p.key }));
  const body = Buffer.from(await stored.Body!.transformToByteArray());
  expect(body.equals(Buffer.concat([bytes.subarray(0, 5 * MIB), changed, bytes.subarray(10 * MIB)]))).toBe(true);
  await stack.flush();
  await drain(stack);
});

test('a completion that outlasted its timeout: the 503 is retried and answered 200 (S3 stored it meanwhile), never 404 "start again"', async () => {
  const bytes = file(11 * MIB, 9);
  const p = await plan(bytes.length);
  for (const part of p.parts) {
    const start = (part.partNumber - 1) * p.partSize;
    expect((await putPart(part.url, bytes.subarray(start, start + part.size))).status).toBe(200);
  }
  // S3 assembles the object, but its answer does not reach the signer in time (the SDK's request timeout).
  completionAnswerLost = Object.assign(new Error('Request timed out'), { name: 'TimeoutError' });
  signerLog.length = 0;
  expectRefused(await call('/uploads/multipart/complete', { key: p.key, uploadId: p.uploadId, size: bytes.length }), 503, 'SERVICE_UNAVAILABLE');
  expect(await exists(p.key)).toBe(true);
  // The client retries the 503 (as the typed client does): the upload is gone because it completed.
  const again = await call<CompletedUpload>('/uploads/multipart/complete', { key: p.key, uploadId: p.uploadId, size: bytes.length });
  expect(again).toEqual({ status: 200, body: { key: p.key, size: bytes.length, publicUrl: p.publicUrl } });
  // A gone upload whose key holds nothing is still 404: only an object stored at the key counts.
  const other = await plan(7 * MIB);
  await call('/uploads/multipart/abort', { key: other.key, uploadId: other.uploadId });
  expectRefused(await call('/uploads/multipart/complete', { key: other.key, uploadId: other.uploadId, size: 7 * MIB }), 404, 'UPLOAD_NOT_FOUND');
  await stack.flush();
  await drain(stack);
});

describe('bad input: a 4xx with code and message, nothing signed, nothing created', () => {
  let p: MultipartUploadPlan;
  beforeAll(async () => {
    p = await plan(11 * MIB);
  });
  afterAll(async () => {
    await call('/uploads/multipart/abort', { key: p.key, uploadId: p.uploadId });
  });

  test('keys outside the caller\'s scope: 403 KEY_NOT_ALLOWED on every route', async () => {
    for (const key of [p.key.replace('/alice/', '/bob/'), `${p.key}/x`, 'uploads/alice/../bob/x.pdf', 'other/alice/x.pdf', 'uploads/alice/']) {
      for (const [path, extra] of [['parts', { size: 11 * MIB }], ['complete', { size: 11 * MIB }], ['abort', {}]] as const) {
        expectRefused(await call(`/uploads/multipart/${path}`, { key, uploadId: p.uploadId, ...extra }), 403, 'KEY_NOT_ALLOWED');
      }
    }
    // Bob cannot touch Alice's upload, even with its real key and id.
    expectRefused(await call('/uploads/multipart/abort', { key: p.key, uploadId: p.uploadId }, 'bob'), 403, 'KEY_NOT_ALLOWED');
    expectRefused(await call('/uppy/sign', { method: 'PUT', key: p.key, uploadId: p.uploadId, partNumber: 1 }, 'bob'), 403, 'KEY_NOT_ALLOWED');
  });

  test('unknown upload ids: 404 UPLOAD_NOT_FOUND (also an id used with another of the caller\'s keys)', async () => {
    const other = await plan(7 * MIB);
    for (const [key, uploadId] of [[p.key, 'f'.repeat(32)], [p.key, 'nope'], [other.key, p.uploadId]]) {
      expectRefused(await call('/uploads/multipart/parts', { key, uploadId }), 404, 'UPLOAD_NOT_FOUND');
      expectRefused(await call('/uploads/multipart/complete', { key, uploadId }), 404, 'UPLOAD_NOT_FOUND');
      expectRefused(await call('/uploads/multipart/abort', { key, uploadId }), 404, 'UPLOAD_NOT_FOUND');
    }
    await call('/uploads/multipart/abort', { key: other.key, uploadId: other.uploadId });
  });

  test('part numbers out of range: 400 INVALID_PART_NUMBER', async () => {
    for (const n of [0, -1, 4, 10_001]) {
      expectRefused(await call('/uploads/multipart/parts', { key: p.key, uploadId: p.uploadId, size: 11 * MIB, partNumbers: [n] }), 400, 'INVALID_PART_NUMBER');
    }
    expectRefused(await call('/uppy/sign', { method: 'PUT', key: p.key, uploadId: p.uploadId, partNumber: 10_001 }), 400, 'INVALID_PART_NUMBER');
  });

  test('malformed multipart requests: 400 INVALID_REQUEST / INVALID_JSON, 413 for sizes over the limit', async () => {
    const base = { key: p.key, uploadId: p.uploadId, size: 11 * MIB };
    const cases: Array<[unknown, number, string]> = [
      [[], 400, 'INVALID_JSON'],
      [{ ...base, extra: 1 }, 400, 'INVALID_REQUEST'],
      [{ ...base, key: 1 }, 400, 'INVALID_REQUEST'],
      [{ ...base, uploadId: '' }, 400, 'INVALID_REQUEST'],
      [{ ...base, uploadId: 'a b' }, 400, 'INVALID_REQUEST'],
      [{ ...base, size: 0 }, 400, 'INVALID_REQUEST'],
      [{ ...base, size: '1' }, 400, 'INVALID_REQUEST'],
      [{ ...base, size: 21 * MIB }, 413, 'FILE_TOO_LARGE'],
      [{ ...base, partNumbers: [] }, 400, 'INVALID_REQUEST'],
      [{ ...base, partNumbers: [1, 1] }, 400, 'INVALID_REQUEST'],
      [{ ...base, partNumbers: [1.5] }, 400, 'INVALID_REQUEST'],
      [{ ...base, partNumbers: Array.from({ length: 101 }, (_, i) => i + 1) }, 400, 'INVALID_REQUEST'],
    ];
    for (const [body, status, code] of cases) {
      expectRefused(await call('/uploads/multipart/parts', body), status, code);
    }
  });
});

test('POST policy mode: fields whose policy pins key, type and exact size; the form upload is stored', async () => {
  const bytes = file(3000);
  const res = await call<PresignedUpload>('/uploads', { contentType: 'application/pdf', size: bytes.length, method: 'POST' });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ method: 'POST', url: `${stack.s3Endpoint}/${stack.bucket}/`, key: expect.stringMatching(/^uploads\/alice\/.*\.pdf$/) });
  const fields = res.body.fields ?? {};
  const checked = verifyPostPolicy(fields, { secretAccessKey: stack.credentials.secretAccessKey, region: stack.region, bucket: stack.bucket });
  expect(checked.conditions).toEqual(expect.arrayContaining([
    { key: res.body.key }, { 'Content-Type': 'application/pdf' }, ['content-length-range', 3000, 3000], { bucket: stack.bucket },
  ]));
  expect(Date.parse(checked.expiration) - Date.now()).toBeLessThanOrEqual(stack.policy.expiresInSeconds * 1000);

  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  form.set('file', new Blob([bytes], { type: 'application/pdf' }));
  const upload = await fetch(res.body.url, { method: 'POST', body: form });
  expect(upload.status).toBe(204);
  const head = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: res.body.key }));
  expect([head.ContentLength, head.ContentType]).toEqual([3000, 'application/pdf']);
  await stack.flush();
  await drain(stack);
});

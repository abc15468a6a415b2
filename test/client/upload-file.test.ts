/**
 * The typed client against the local stack, from Node (global fetch, Blob, Uint8Array): single and
 * multipart uploads with byte-level progress, a retried part, resuming by listing parts, aborting, the
 * signer's refusals, its 429/503 retried after `retry-after`, and expired URLs signed again.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { uploadFile, UploadError, UploadProgress } from '../../src/client';
import { encodeFilename } from '../../src/contract/filename';
import { encodeMetadataValue } from '../../src/contract/metadata';
import { LOCAL_USER_HEADER } from '../../src/local/http-api';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import { drain, makePng, objectExists } from '../local/helpers';

const MIB = 1024 * 1024;
const POLICY = { allowedContentTypes: ['image/png', 'application/pdf'], maxFileSize: 20 * MIB, multipartThreshold: 6 * MIB, partSize: 5 * MIB };
let stack: LocalStack;
const auth = () => ({ [LOCAL_USER_HEADER]: 'carol' });

beforeAll(async () => {
  stack = await startLocalStack({
    log: () => undefined,
    verifyUploads: false,
    policy: POLICY,
    metadataKeys: ['album-id'],
  });
});

afterAll(async () => {
  await stack?.stop();
});

afterEach(async () => {
  await stack.flush();
  await drain(stack);
});

function pdf(size: number): Blob {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 1000) bytes[i] = i % 253;
  bytes.set([37, 80, 68, 70, 45], 0);
  return new Blob([bytes], { type: 'application/pdf' });
}

async function head(key: string) {
  const res = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }));
  return [res.ContentLength, res.ContentType];
}

/** A fetch that counts part PUTs and can fail or delay chosen ones (part 0: a single PUT). */
function countingFetch(
  fail: (partNumber: number, attempt: number) => 'network' | 'status' | undefined,
  signerUrl = stack.signerUrl,
  delayMs: (partNumber: number, attempt: number) => number = () => 0,
) {
  const attempts = new Map<number, number>();
  const signerCalls: Array<[string, number]> = [];
  const wrapped: typeof fetch = async (input, init) => {
    const url = String(input);
    if (url.startsWith(signerUrl)) {
      const res = await fetch(input, init);
      signerCalls.push([new URL(url).pathname, res.status]);
      return res;
    }
    if (init?.method === 'PUT') {
      const n = Number(/[?&]partNumber=(\d+)/.exec(url)?.[1] ?? 0);
      const attempt = (attempts.get(n) ?? 0) + 1;
      attempts.set(n, attempt);
      const failure = fail(n, attempt);
      if (failure === 'network') throw new TypeError('fetch failed');
      if (failure === 'status') return new Response('<Error><Code>InternalError</Code></Error>', { status: 500 });
      await new Promise((resolve) => setTimeout(resolve, delayMs(n, attempt)));
    }
    return fetch(input, init);
  };
  return { fetch: wrapped, attempts, signerCalls };
}

test('a small Uint8Array goes up in one PUT', async () => {
  const png = makePng(10, 10);
  const progress: UploadProgress[] = [];
  const result = await uploadFile(new Uint8Array(png), {
    signerUrl: stack.signerUrl, contentType: 'image/png', getAuthHeaders: auth, onProgress: (p) => progress.push(p),
  });
  expect(result).toEqual({ key: expect.stringMatching(/^uploads\/carol\/.*\.png$/), publicUrl: `${stack.cdnUrl}/${result.key}`, size: png.length });
  expect(await head(result.key)).toEqual([png.length, 'image/png']);
  expect(progress.at(-1)).toEqual({ uploadedBytes: png.length, totalBytes: png.length });
});

test('metadata is signed with the upload, single PUT and multipart alike, and stored with the object', async () => {
  const options = { signerUrl: stack.signerUrl, getAuthHeaders: auth, filename: 'Фото.png', metadata: { 'album-id': 'Ünï 42' } };
  const single = await uploadFile(new Uint8Array(makePng(3, 3)), { ...options, contentType: 'image/png' });
  const parts = await uploadFile(pdf(7 * MIB), { ...options, filename: 'big.pdf' });
  const stored = async (key: string) => (await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }))).Metadata;
  expect(await stored(single.key)).toEqual({ 'filename': encodeFilename('Фото.png'), 'album-id': encodeMetadataValue('Ünï 42') });
  expect(await stored(parts.key)).toEqual({ 'filename': 'big.pdf', 'album-id': encodeMetadataValue('Ünï 42') });
  await expect(uploadFile(new Uint8Array(makePng(3, 3)), { ...options, contentType: 'image/png', metadata: { other: 'x' } }))
    .rejects.toMatchObject({ name: 'UploadError', code: 'METADATA_NOT_ALLOWED', status: 400 });
});

test('a 13 MiB Blob goes up in parts, two at a time; a failing part is retried with backoff', async () => {
  const file = pdf(13 * MIB);
  const { fetch: flaky, attempts } = countingFetch((n, attempt) => (n === 2 && attempt === 1 ? 'network' : n === 3 && attempt < 3 ? 'status' : undefined));
  const progress: number[] = [];
  const result = await uploadFile(file, {
    signerUrl: stack.signerUrl,
    getAuthHeaders: auth,
    concurrency: 2,
    retryDelayMs: 10,
    fetch: flaky,
    onProgress: (p) => progress.push(p.uploadedBytes),
  });
  expect(await head(result.key)).toEqual([13 * MIB, 'application/pdf']);
  expect(Object.fromEntries(attempts)).toEqual({ 1: 1, 2: 2, 3: 3 });
  expect(progress).toEqual([...progress].sort((a, b) => a - b));
  expect(progress.at(-1)).toBe(13 * MIB);
});

test('progress is byte-level and strictly increasing, for one PUT and for parts summed', async () => {
  const single: number[] = [];
  await uploadFile(pdf(5 * MIB), { signerUrl: stack.signerUrl, getAuthHeaders: auth, onProgress: (p) => single.push(p.uploadedBytes) });
  const parts: number[] = [];
  await uploadFile(pdf(13 * MIB), {
    signerUrl: stack.signerUrl, getAuthHeaders: auth, concurrency: 3, onProgress: (p) => parts.push(p.uploadedBytes),
  });
  for (const [events, size] of [[single, 5 * MIB], [parts, 13 * MIB]] as const) {
    // 64 KiB chunks: one event per chunk taken by the network, at least.
    expect(events.length).toBeGreaterThan(size / (64 * 1024) / 2);
    expect(events.every((b, i) => i === 0 || b > events[i - 1])).toBe(true);
    expect(events.at(-1)).toBe(size);
  }
  // Three parts in flight at once: bytes are summed across parts before any part completes.
  expect(parts.filter((b) => b > 0 && b < 5 * MIB).length).toBeGreaterThan(10);
});

test('an interrupted multipart upload resumes: S3\'s parts are listed and only the others are sent', async () => {
  const file = pdf(16 * MIB);
  const first = countingFetch((n) => (n === 3 ? 'network' : undefined));
  const error = await uploadFile(file, {
    signerUrl: stack.signerUrl, getAuthHeaders: auth, concurrency: 1, retries: 1, retryDelayMs: 1, fetch: first.fetch,
  }).catch((err: unknown) => err);
  expect(error).toBeInstanceOf(UploadError);
  const resume = (error as UploadError).resume;
  expect(resume).toEqual({ key: expect.stringMatching(/^uploads\/carol\//), uploadId: expect.any(String) });

  const second = countingFetch(() => undefined);
  const result = await uploadFile(file, { signerUrl: stack.signerUrl, getAuthHeaders: auth, resume, fetch: second.fetch });
  expect(result.key).toBe(resume!.key);
  expect([...second.attempts.keys()].sort()).toEqual([3, 4]);
  expect(await head(result.key)).toEqual([16 * MIB, 'application/pdf']);
});

test('aborting stops the upload and aborts the multipart upload in S3', async () => {
  const controller = new AbortController();
  const { fetch: slow, signerCalls } = countingFetch((n) => {
    if (n === 2) controller.abort();
    return undefined;
  });
  const error = await uploadFile(pdf(12 * MIB), {
    signerUrl: stack.signerUrl, getAuthHeaders: auth, concurrency: 1, signal: controller.signal, fetch: slow,
  }).catch((err: unknown) => err);
  expect(error).toMatchObject({ name: 'UploadError', code: 'ABORTED' });
  expect(signerCalls).toEqual([['/uploads', 200], ['/uploads/multipart/abort', 200]]);
});

test('the signer\'s refusals surface as UploadError with its code', async () => {
  await expect(uploadFile(new Uint8Array([1, 2, 3]), { signerUrl: stack.signerUrl, contentType: 'text/html', getAuthHeaders: auth }))
    .rejects.toMatchObject({ code: 'CONTENT_TYPE_NOT_ALLOWED', status: 415 });
  await expect(uploadFile(pdf(21 * MIB), { signerUrl: stack.signerUrl, getAuthHeaders: auth }))
    .rejects.toMatchObject({ code: 'FILE_TOO_LARGE', status: 413 });
  await expect(uploadFile(pdf(10), { signerUrl: stack.signerUrl }))
    .rejects.toMatchObject({ status: 401 });
});

describe('signer throttling', () => {
  let limited: LocalStack;
  beforeAll(async () => {
    limited = await startLocalStack({ log: () => undefined, verifyUploads: false, policy: POLICY, uploadQuota: { maxUploads: 1, windowSeconds: 3 } });
  });
  afterAll(async () => {
    await limited?.stop();
  });

  test('a 429 QUOTA_EXCEEDED is retried after its retry-after, and the upload goes through', async () => {
    // Start at the beginning of a quota window, so that both uploads fall in it.
    await new Promise((resolve) => setTimeout(resolve, 3000 - (Date.now() % 3000) + 50));
    await uploadFile(pdf(1000), { signerUrl: limited.signerUrl, getAuthHeaders: auth });
    const { fetch: counting, signerCalls } = countingFetch(() => undefined, limited.signerUrl);
    const started = Date.now();
    const result = await uploadFile(pdf(1000), { signerUrl: limited.signerUrl, getAuthHeaders: auth, fetch: counting });
    expect(signerCalls).toEqual([['/uploads', 429], ['/uploads', 200]]);
    // retry-after is whole seconds to the next window (2 or 3 s here), waited for, not the 500 ms backoff.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(result.key).toMatch(/^uploads\/carol\//);
  });

  test('a retry-after longer than maxRetryDelayMs fails at once with the signer\'s code', async () => {
    const { fetch: counting, signerCalls } = countingFetch(() => undefined, limited.signerUrl);
    await new Promise((resolve) => setTimeout(resolve, 3000 - (Date.now() % 3000) + 50));
    await uploadFile(pdf(1000), { signerUrl: limited.signerUrl, getAuthHeaders: auth, fetch: counting });
    await expect(uploadFile(pdf(1000), { signerUrl: limited.signerUrl, getAuthHeaders: auth, fetch: counting, maxRetryDelayMs: 500 }))
      .rejects.toMatchObject({ code: 'QUOTA_EXCEEDED', status: 429 });
    expect(signerCalls).toEqual([['/uploads', 200], ['/uploads', 429]]);
  });

  test('a 503 SERVICE_UNAVAILABLE is retried a bounded number of times', async () => {
    await limited.stopDynamoDb();
    const { fetch: counting, signerCalls } = countingFetch(() => undefined, limited.signerUrl);
    const started = Date.now();
    await expect(uploadFile(pdf(1000), { signerUrl: limited.signerUrl, getAuthHeaders: auth, fetch: counting, retries: 1 }))
      .rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
    expect(signerCalls).toEqual([['/uploads', 503], ['/uploads', 503]]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4900); // the signer's retry-after: 5 s
  });
});

describe('expired URLs', () => {
  let shortLived: LocalStack;
  beforeAll(async () => {
    shortLived = await startLocalStack({ log: () => undefined, verifyUploads: false, policy: { ...POLICY, expiresInSeconds: 2 } });
  });
  afterAll(async () => {
    await shortLived?.stop();
  });

  test('an expired part URL is signed again and the upload continues', async () => {
    // Part 2's first attempt leaves after its URL expired; S3 refuses it (403 AccessDenied).
    const late3s = (n: number, attempt: number) => (n === 2 && attempt === 1 ? 3100 : 0);
    const { fetch: late, attempts, signerCalls } = countingFetch(() => undefined, shortLived.signerUrl, late3s);
    const result = await uploadFile(pdf(13 * MIB), { signerUrl: shortLived.signerUrl, getAuthHeaders: auth, concurrency: 3, fetch: late });
    expect(Object.fromEntries(attempts)).toEqual({ 1: 1, 2: 2, 3: 1 });
    expect(signerCalls.map(([route]) => route)).toEqual(['/uploads', '/uploads/multipart/parts', '/uploads/multipart/complete']);
    const res = await shortLived.s3.send(new HeadObjectCommand({ Bucket: shortLived.bucket, Key: result.key }));
    expect(res.ContentLength).toBe(13 * MIB);
  });

  test('an expired single PUT URL is signed again (a new key) and the upload goes through', async () => {
    const { fetch: late, attempts, signerCalls } = countingFetch(() => undefined, shortLived.signerUrl, (_n, attempt) => (attempt === 1 ? 3100 : 0));
    const result = await uploadFile(pdf(1000), { signerUrl: shortLived.signerUrl, getAuthHeaders: auth, fetch: late });
    expect(Object.fromEntries(attempts)).toEqual({ 0: 2 });
    expect(signerCalls).toEqual([['/uploads', 200], ['/uploads', 200]]);
    const res = await shortLived.s3.send(new HeadObjectCommand({ Bucket: shortLived.bucket, Key: result.key }));
    expect(res.ContentLength).toBe(1000);
  });
});

/** A fetch that records the PUTs to S3 and, with `flip` (for every PUT, or the nth ones), inverts one byte of the body on the way. */
function corruptingFetch(flip: boolean | ((n: number) => boolean)) {
  const puts: Array<{ key: string; signedHeaders: string; headers: Record<string, string> }> = [];
  const wrapped: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    if (init?.method !== 'PUT') return fetch(input, init);
    puts.push({
      key: decodeURIComponent(url.pathname.split('/').slice(2).join('/')),
      signedHeaders: url.searchParams.get('X-Amz-SignedHeaders') ?? '',
      headers: init.headers as Record<string, string>,
    });
    if (!(typeof flip === 'function' ? flip(puts.length - 1) : flip)) return fetch(input, init);
    let done = false;
    const body = (init.body as ReadableStream<Uint8Array>).pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (!done && chunk.length > 100) {
          chunk = Uint8Array.from(chunk);
          chunk[100] = 255 - chunk[100];
          done = true;
        }
        controller.enqueue(chunk);
      },
    }));
    return fetch(input, { ...init, body } as RequestInit);
  };
  return { fetch: wrapped, puts };
}

describe('integrity: checksum: true', () => {
  test('the client\'s SHA-256 is signed as x-amz-checksum-sha256, and S3 stores the bytes', async () => {
    const file = pdf(300_000);
    const { fetch: recording, puts } = corruptingFetch(false);
    const result = await uploadFile(file, { signerUrl: stack.signerUrl, getAuthHeaders: auth, checksum: true, fetch: recording });
    const sha256 = createHash('sha256').update(Buffer.from(await file.arrayBuffer())).digest('base64');
    expect(puts).toEqual([{
      key: result.key,
      signedHeaders: 'content-length;content-type;host;if-none-match;x-amz-checksum-sha256;x-amz-sdk-checksum-algorithm',
      headers: expect.objectContaining({ 'x-amz-checksum-sha256': sha256, 'x-amz-sdk-checksum-algorithm': 'SHA256' }),
    }]);
    expect(await head(result.key)).toEqual([300_000, 'application/pdf']);
  });

  test('a byte flipped on the way is refused by S3 (BadDigest) and nothing is stored; without checksum it would be', async () => {
    const guarded = corruptingFetch(true);
    await expect(uploadFile(pdf(300_000), { signerUrl: stack.signerUrl, getAuthHeaders: auth, checksum: true, fetch: guarded.fetch, retries: 0 }))
      .rejects.toMatchObject({ code: 'S3_ERROR', message: expect.stringContaining('S3 answered 400: BadDigest') });
    expect(await objectExists(stack, guarded.puts[0].key)).toBe(false);

    const unguarded = corruptingFetch(true);
    const stored = await uploadFile(pdf(300_000), { signerUrl: stack.signerUrl, getAuthHeaders: auth, fetch: unguarded.fetch, retries: 0 });
    expect(await objectExists(stack, stored.key)).toBe(true); // same length, same type: only the checksum catches it
  });

  test('above multipartThreshold it goes up in parts, each signed with its own SHA-256; the signer completes with them', async () => {
    const file = pdf(7 * MIB);
    const bytes = Buffer.from(await file.arrayBuffer());
    const { fetch: recording, puts } = corruptingFetch(false);
    const options = { signerUrl: stack.signerUrl, getAuthHeaders: auth, checksum: true, multipartThreshold: 6 * MIB };
    const result = await uploadFile(file, { ...options, fetch: recording });
    const sums = [bytes.subarray(0, 5 * MIB), bytes.subarray(5 * MIB)].map((part) => createHash('sha256').update(part).digest('base64'));
    expect(puts.map((p) => [p.signedHeaders, p.headers['x-amz-checksum-sha256']]).sort((a, b) => String(a[1]).localeCompare(String(b[1])))).toEqual(
      sums.map((sum) => ['content-length;host;x-amz-checksum-sha256;x-amz-sdk-checksum-algorithm', sum]).sort((a, b) => a[1].localeCompare(b[1])));
    expect(await head(result.key)).toEqual([7 * MIB, 'application/pdf']);
  });

  test('a part corrupted on the way is refused (BadDigest) and sent again; the upload completes with the exact bytes', async () => {
    const file = pdf(7 * MIB);
    const guarded = corruptingFetch((n) => n === 0);
    const options = { signerUrl: stack.signerUrl, getAuthHeaders: auth, checksum: true, multipartThreshold: 6 * MIB, concurrency: 1 };
    const result = await uploadFile(file, { ...options, fetch: guarded.fetch });
    expect(guarded.puts).toHaveLength(3); // part 1 twice (flipped, then intact), part 2 once
    const stored = await stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: result.key }));
    expect(Buffer.from(await stored.Body!.transformToByteArray()).equals(Buffer.from(await file.arrayBuffer()))).toBe(true);
  });
});

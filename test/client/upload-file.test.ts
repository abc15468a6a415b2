/**
 * The typed client against the local stack, from Node (global fetch, Blob, Uint8Array): single and
 * multipart uploads, a retried part, resuming by listing parts, aborting, and the signer's refusals.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { uploadFile, UploadError, UploadProgress } from '../../src/client';
import { LOCAL_USER_HEADER } from '../../src/local/http-api';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import { drain, makePng } from '../local/helpers';

const MIB = 1024 * 1024;
let stack: LocalStack;
const auth = () => ({ [LOCAL_USER_HEADER]: 'carol' });

beforeAll(async () => {
  stack = await startLocalStack({
    log: () => undefined,
    verifyUploads: false,
    policy: { allowedContentTypes: ['image/png', 'application/pdf'], maxFileSize: 20 * MIB, multipartThreshold: 6 * MIB, partSize: 5 * MIB },
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

/** A fetch that counts part PUTs and can fail chosen ones. */
function countingFetch(fail: (partNumber: number, attempt: number) => 'network' | 'status' | undefined) {
  const attempts = new Map<number, number>();
  const signerCalls: Array<[string, number]> = [];
  const wrapped: typeof fetch = async (input, init) => {
    const url = String(input);
    if (url.startsWith(stack.signerUrl)) {
      const res = await fetch(input, init);
      signerCalls.push([new URL(url).pathname, res.status]);
      return res;
    }
    const part = /[?&]partNumber=(\d+)/.exec(url)?.[1];
    if (part && init?.method === 'PUT') {
      const n = Number(part);
      const attempt = (attempts.get(n) ?? 0) + 1;
      attempts.set(n, attempt);
      const failure = fail(n, attempt);
      if (failure === 'network') throw new TypeError('fetch failed');
      if (failure === 'status') return new Response('<Error><Code>InternalError</Code></Error>', { status: 500 });
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

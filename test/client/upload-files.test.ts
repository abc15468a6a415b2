/**
 * `uploadFiles` against the local stack, from Node: a 100-file album costs one signer request (and 101
 * files two), every file goes up with its own progress, a refused file fails alone, a multipart file
 * rides in the same batch, and entries over the caller's quota fail alone with QUOTA_EXCEEDED.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { uploadFiles, UploadFileOutcome } from '../../src/client';
import { LOCAL_USER_HEADER } from '../../src/local/http-api';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import { drain, makePng } from '../local/helpers';

const MIB = 1024 * 1024;
const POLICY = { allowedContentTypes: ['image/png', 'application/pdf'], maxFileSize: 20 * MIB, multipartThreshold: 6 * MIB, partSize: 5 * MIB };
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    log: () => undefined, verifyUploads: false, policy: POLICY, uploadQuota: { maxUploads: 110, windowSeconds: 86_400 },
  });
});
afterAll(async () => {
  await stack?.stop();
});
afterEach(async () => {
  await stack.flush();
  await drain(stack);
});

/** A fetch that records every signer call (path and body's file count) and counts S3 requests. */
function recordingFetch() {
  const signer: Array<{ path: string; files: number | undefined; status: number }> = [];
  let s3 = 0;
  const wrapped: typeof fetch = async (input, init) => {
    const url = String(input);
    const res = await fetch(input, init);
    if (url.startsWith(stack.signerUrl)) {
      const body = JSON.parse(String(init?.body ?? '{}')) as { files?: unknown[] };
      signer.push({ path: new URL(url).pathname, files: body.files?.length, status: res.status });
    } else {
      s3++;
    }
    return res;
  };
  return { fetch: wrapped, signer, s3: () => s3 };
}

const ok = (o: UploadFileOutcome) => {
  if (!o.ok) throw new Error(`file failed: ${o.error.code} ${o.error.message}`);
  return o.result;
};

test('100 files: 1 signer request, 100 uploads, each file stored under the caller with its own progress', async () => {
  const files = Array.from({ length: 100 }, (_, i) => ({ file: new Uint8Array(makePng(2 + (i % 7), 2)), contentType: 'image/png', filename: `album-${i}.png` }));
  const recorder = recordingFetch();
  const last = new Map<number, number>();
  const outcomes = await uploadFiles(files, {
    signerUrl: stack.signerUrl,
    getAuthHeaders: () => ({ [LOCAL_USER_HEADER]: 'dave' }),
    fetch: recorder.fetch,
    fileConcurrency: 8,
    onProgress: (index, p) => last.set(index, p.uploadedBytes),
  });
  expect(recorder.signer).toEqual([{ path: '/uploads', files: 100, status: 200 }]);
  expect(recorder.s3()).toBe(100);
  const results = outcomes.map(ok);
  expect(new Set(results.map((r) => r.key)).size).toBe(100);
  for (const [i, r] of results.entries()) {
    expect(r.key).toMatch(/^uploads\/dave\/.*\.png$/);
    expect(r.size).toBe(files[i].file.length);
    expect(last.get(i)).toBe(files[i].file.length);
  }
  const head = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: results[42].key }));
  expect(head.ContentLength).toBe(files[42].file.length);
  expect(head.Metadata?.filename).toBe('album-42.png');
  process.stdout.write(`uploadFiles, 100 files: ${recorder.signer.length} signer request(s), ${recorder.s3()} S3 requests\n`);
});

test('101 files are signed in two requests (100 + 1)', async () => {
  const recorder = recordingFetch();
  const png = makePng(1, 1);
  const outcomes = await uploadFiles(Array.from({ length: 101 }, () => new Blob([new Uint8Array(png)], { type: 'image/png' })), {
    signerUrl: stack.signerUrl, getAuthHeaders: () => ({ [LOCAL_USER_HEADER]: 'erin' }), fetch: recorder.fetch,
  });
  expect(outcomes.every((o) => o.ok)).toBe(true);
  expect(recorder.signer.map((c) => c.files)).toEqual([100, 1]);
});

test('a refused file fails alone with the signer\'s code; a multipart file rides in the same batch', async () => {
  const recorder = recordingFetch();
  const big = new Uint8Array(13 * MIB);
  big.set([37, 80, 68, 70, 45], 0);
  const outcomes = await uploadFiles([
    { file: new Uint8Array(makePng(3, 3)), contentType: 'image/png' },
    { file: new Uint8Array([60, 104, 116, 109, 108, 62]), contentType: 'text/html' },
    new Blob([big], { type: 'application/pdf' }),
  ], { signerUrl: stack.signerUrl, getAuthHeaders: () => ({ [LOCAL_USER_HEADER]: 'fay' }), fetch: recorder.fetch });
  expect(ok(outcomes[0]).key).toMatch(/^uploads\/fay\//);
  expect(outcomes[1]).toMatchObject({ ok: false, error: { code: 'CONTENT_TYPE_NOT_ALLOWED', status: 415 } });
  expect(ok(outcomes[2]).size).toBe(13 * MIB);
  expect(recorder.signer.map((c) => c.path)).toEqual(['/uploads', '/uploads/multipart/complete']);
});

test('over the quota, the files that fit are uploaded and the rest fail alone with QUOTA_EXCEEDED', async () => {
  const png = makePng(1, 1);
  // 110 per day: 105 files leave 5 for the next batch of 8.
  const first = await uploadFiles(Array.from({ length: 105 }, () => new Blob([new Uint8Array(png)], { type: 'image/png' })), {
    signerUrl: stack.signerUrl, getAuthHeaders: () => ({ [LOCAL_USER_HEADER]: 'gus' }),
  });
  expect(first.every((o) => o.ok)).toBe(true);
  const recorder = recordingFetch();
  const second = await uploadFiles(Array.from({ length: 8 }, () => new Blob([new Uint8Array(png)], { type: 'image/png' })), {
    signerUrl: stack.signerUrl, getAuthHeaders: () => ({ [LOCAL_USER_HEADER]: 'gus' }), fetch: recorder.fetch,
  });
  expect(second.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'QUOTA_EXCEEDED', 'QUOTA_EXCEEDED', 'QUOTA_EXCEEDED']);
  // The retry-after (to the next day) is above maxRetryDelayMs: no second batch.
  expect(recorder.signer).toHaveLength(1);
});

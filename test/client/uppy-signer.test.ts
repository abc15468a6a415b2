/**
 * `uppySigner()` in Node: the chunk size it gives Uppy is one Uppy keeps and the signer accepts, for
 * every file size up to 5 TiB; what it sends on each request; and how it reads a refusal.
 */
import { uppySigner } from '../../src/client';
import { layoutWithPartSize } from '../../src/signer/multipart';

const MIB = 1024 * 1024;

/** `@uppy/aws-s3` 6.3's S3Uploader: max(getChunkSize, 5 MiB), raised to size / 10,000 beyond 10,000 parts. */
function uppyChunk(getChunkSize: (f: { size: number }) => number, size: number): number {
  let chunk = Math.max(getChunkSize({ size }), 5 * MIB);
  if (Math.ceil(size / chunk) > 10_000) chunk = Math.ceil(size / 10_000);
  return chunk;
}

function recorder(answer: { status: number; body: string }) {
  const sent: unknown[] = [];
  const fetchStub = (async (_url: string, init: { body: string }) => {
    sent.push(JSON.parse(init.body));
    return new Response(answer.body, { status: answer.status, headers: { 'content-type': 'application/json' } });
  }) as unknown as typeof fetch;
  return { sent, fetch: fetchStub };
}

test('the chunk size is the one Uppy uses, and a layout the signer accepts, from 1 byte to 5 TiB', () => {
  const { getChunkSize } = uppySigner({ signerUrl: 'http://signer' });
  for (const size of [1, 5 * MIB, 16 * MIB + 1, 160_000 * MIB, 160_000 * MIB + 1, 999_999 * MIB + 7, 5 * 1024 * 1024 * MIB]) {
    const chunk = getChunkSize({ size });
    expect(uppyChunk(getChunkSize, size)).toBe(chunk);
    expect(layoutWithPartSize(size, chunk)).toBeDefined();
  }
});

test('size, chunkSize, type and name go with CreateMultipartUpload; size and name with PutObject; nothing extra later', async () => {
  const { sent, fetch } = recorder({ status: 200, body: '{"url":"https://s3/x"}' });
  const s = uppySigner({ signerUrl: 'http://signer', fetch, partSize: 8 * MIB });
  const big = s.generateObjectKey({ name: 'DSC_0001', type: 'image/jpeg', size: 30 * MIB });
  const small = s.generateObjectKey({ name: 'a.png', type: 'image/png', size: 10 });
  await s.signRequest({ method: 'POST', key: big });
  await s.signRequest({ method: 'PUT', key: small, contentType: 'image/png' });
  await s.signRequest({ method: 'PUT', key: 'uploads/u/k_1_2.jpg', uploadId: 'u1', partNumber: 1 });
  expect(sent).toEqual([
    { method: 'POST', key: big, size: 30 * MIB, chunkSize: 8 * MIB, contentType: 'image/jpeg', filename: 'DSC_0001' },
    { method: 'PUT', key: small, contentType: 'image/png', size: 10, filename: 'a.png' },
    { method: 'PUT', key: 'uploads/u/k_1_2.jpg', uploadId: 'u1', partNumber: 1 },
  ]);
  expect(s.shouldUseMultipart({ size: 100 * MIB + 1 })).toBe(true);
  expect(s.shouldUseMultipart({ size: 100 * MIB })).toBe(false);
});

test.each([
  [401, '{"message":"Unauthorized"}', 'UNAUTHORIZED', 'UNAUTHORIZED: Unauthorized'],
  [413, '{"error":{"code":"FILE_TOO_LARGE","message":"size must be at most 20 MiB"}}', 'FILE_TOO_LARGE', 'FILE_TOO_LARGE: size must be at most 20 MiB'],
  [502, '<html>Bad Gateway</html>', 'SIGNER_ERROR', 'SIGNER_ERROR: The signer answered 502.'],
])('a refusal (HTTP %i) becomes an UploadError with a code and a message', async (status, body, code, message) => {
  const s = uppySigner({ signerUrl: 'http://signer', fetch: recorder({ status, body }).fetch });
  await expect(s.signRequest({ method: 'PUT', key: 'x', contentType: 'image/png' })).rejects.toMatchObject({ name: 'UploadError', code, status, message });
});

test('metadata (fixed, or from each file) goes with the two requests that start an upload, never with parts or completion', async () => {
  const { sent, fetch } = recorder({ status: 200, body: '{"url":"https://s3/x"}' });
  const s = uppySigner({ signerUrl: 'http://signer', fetch, metadata: (file) => ({ 'album-id': String(file.meta?.album) }) });
  const big = s.generateObjectKey({ name: 'a.pdf', type: 'application/pdf', size: 30 * MIB, meta: { album: 7 } });
  const small = s.generateObjectKey({ name: 'b.png', type: 'image/png', size: 10, meta: { album: 8 } });
  await s.signRequest({ method: 'POST', key: big });
  await s.signRequest({ method: 'PUT', key: small, contentType: 'image/png' });
  await s.signRequest({ method: 'PUT', key: big, uploadId: 'u1', partNumber: 1 });
  await s.signRequest({ method: 'POST', key: big, uploadId: 'u1' });
  expect(sent.map((b) => (b as { metadata?: unknown }).metadata)).toEqual([{ 'album-id': '7' }, { 'album-id': '8' }, undefined, undefined]);

  const fixed = recorder({ status: 200, body: '{"url":"https://s3/x"}' });
  const f = uppySigner({ signerUrl: 'http://signer', fetch: fixed.fetch, metadata: { tenant: 't1' } });
  await f.signRequest({ method: 'PUT', key: f.generateObjectKey({ name: 'c.png', type: 'image/png', size: 3 }), contentType: 'image/png' });
  expect(fixed.sent).toEqual([expect.objectContaining({ metadata: { tenant: 't1' } })]);
});

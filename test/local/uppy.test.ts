/**
 * Real Uppy (`@uppy/core` + `@uppy/aws-s3` 6, bundled with esbuild) in headless Chromium against the
 * local stack, through `POST /uppy/sign` with `uppySigner()` from cdk-direct-upload/client: a small image
 * goes up as one POST-policy form of its exact size, larger files in parts whose lengths S3 enforces.
 * Then the attacks of issue 10 by hand (Node, against the same S3 stand-in): a part longer than its
 * share, a replayed CreateMultipartUpload URL; and the README's plain `signRequest` when API Gateway
 * itself refuses.
 */
import { Server } from 'node:http';
import { HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { Browser } from 'playwright-core';
import { bundleForBrowser, drain, launchChromium, makePng, servePage } from './helpers';
import { uppySigner } from '../../src/client';
import { encodeFilename } from '../../src/contract/filename';
import { encodeMetadataValue } from '../../src/contract/metadata';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import { close } from '../../src/local/net';

const MIB = 1024 * 1024;
const PNG = makePng(40, 30);

/** The page's script: Uppy with `uppySigner` (or the README's plain signRequest), exposed as `window.runUppy`. */
const ENTRY = `
import Uppy from '@uppy/core';
import AwsS3 from '@uppy/aws-s3';
import { uppySigner } from './src/client';

window.runUppy = async ({ signerUrl, user, threshold, files, readme, metadata }) => {
  const uppy = new Uppy();
  const getAuthHeaders = () => ({ 'x-local-user': user });
  uppy.use(AwsS3, readme ? {
    shouldUseMultipart: (file) => file.size > threshold,
    // The README's signRequest (plus the local stack's identity header):
    async signRequest(request) {
      const res = await fetch(signerUrl + '/uppy/sign', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...getAuthHeaders() },
        body: JSON.stringify(request),
      });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(body.error?.message ?? body.message ?? 'signer answered ' + res.status);
      return body;
    },
  } : uppySigner({ signerUrl, getAuthHeaders, multipartThreshold: threshold, partSize: 5 * 1024 * 1024, ...(metadata ? { metadata } : {}) }));
  for (const f of files) {
    const bytes = f.bytes ? new Uint8Array(f.bytes) : new Uint8Array(f.size);
    if (!f.bytes) { for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (i / 4096) % 251; bytes.set(f.head ?? [37, 80, 68, 70, 45], 0); }
    uppy.addFile({ name: f.name, type: f.type, data: new Blob([bytes], { type: f.type }) });
  }
  const result = await uppy.upload();
  return {
    successful: (result?.successful ?? []).map((f) => ({ name: f.name, key: f.response?.body?.key, location: f.response?.body?.location })),
    failed: (result?.failed ?? []).map((f) => ({ name: f.name, error: String(f.error) })),
  };
};
`;

interface RunResult {
  successful: Array<{ name: string; key: string; location: string }>;
  failed: Array<{ name: string; error: string }>;
}

let stack: LocalStack;
let page: Server;
let pageUrl: string;
let browser: Browser;

beforeAll(async () => {
  ({ server: page, url: pageUrl } = await servePage(await bundleForBrowser(ENTRY, 'ts'), 'uppy'));
  stack = await startLocalStack({
    allowedOrigins: [pageUrl],
    log: () => undefined,
    verifyUploads: false,
    metadataKeys: ['album-id'],
    policy: { allowedContentTypes: ['image/png', 'image/jpeg', 'application/pdf'], maxFileSize: 20 * MIB, multipartThreshold: 6 * MIB, partSize: 5 * MIB },
  });
  await drain(stack);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (page) await close(page);
});

interface PageFile { name: string; type: string; bytes?: number[]; size?: number; head?: number[] }

async function runUppy(
  files: PageFile[], options: { user?: string; readme?: boolean; gatewayRefuses?: boolean; metadata?: Record<string, string> } = {},
): Promise<RunResult> {
  const context = await browser.newContext();
  try {
    const tab = await context.newPage();
    if (options.gatewayRefuses) {
      // What API Gateway itself answers when the authorizer refuses: no `error` object (no gateway runs here).
      await tab.route(`${stack.signerUrl}/uppy/sign`, (route) => route.fulfill({
        status: 401,
        contentType: 'application/json',
        body: '{"message":"Unauthorized"}',
        headers: { 'access-control-allow-origin': pageUrl },
      }));
    }
    await tab.goto(`${pageUrl}/`);
    await tab.waitForFunction('typeof window.runUppy === "function"');
    return await tab.evaluate(
      (args) => (globalThis as unknown as { runUppy: (a: unknown) => Promise<RunResult> }).runUppy(args),
      { signerUrl: stack.signerUrl, user: options.user ?? 'alice', threshold: 6 * MIB, files, readme: options.readme ?? false, metadata: options.metadata },
    );
  } finally {
    await context.close();
  }
}

const JPEG_HEAD = [0xff, 0xd8, 0xff, 0xe0];

test('a small image (one POST-policy form) and an 11 MiB PDF (three parts) land under the server-chosen keys', async () => {
  const result = await runUppy([
    { name: 'photo.png', type: 'image/png', bytes: [...PNG] },
    { name: 'big.pdf', type: 'application/pdf', size: 11 * MIB + 5 },
  ]);
  expect(result.failed).toEqual([]);
  const byName = Object.fromEntries(result.successful.map((f) => [f.name, f]));
  expect(byName['photo.png'].key).toMatch(/^uploads\/alice\/[0-9a-f-]{36}\.png$/);
  expect(byName['big.pdf'].key).toMatch(new RegExp(`^uploads/alice/[0-9a-f-]{36}_${11 * MIB + 5}_${5 * MIB}\\.pdf$`));
  expect(byName['photo.png'].location).toBe(`${stack.s3Endpoint}/${stack.bucket}/${byName['photo.png'].key}`);

  const png = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: byName['photo.png'].key }));
  expect([png.ContentLength, png.ContentType]).toEqual([PNG.length, 'image/png']);
  const pdf = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: byName['big.pdf'].key }));
  expect([pdf.ContentLength, pdf.ContentType]).toEqual([11 * MIB + 5, 'application/pdf']);
  await stack.flush();
  await drain(stack);
});

test('Uppy single (POST form) and Uppy multipart store the signed filename and uppySigner\'s metadata (CORS lets Chromium send them)', async () => {
  const result = await runUppy([
    { name: 'Фото 東京 #1.png', type: 'image/png', bytes: [...PNG] },
    { name: 'Отчёт 2026.pdf', type: 'application/pdf', size: 6 * MIB + 5 },
  ], { metadata: { 'album-id': 'Ünï 42' } });
  expect(result.failed).toEqual([]);
  const stored = await Promise.all(result.successful.map(async (f) =>
    [f.name, (await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: f.key }))).Metadata]));
  expect(Object.fromEntries(stored)).toEqual({
    'Фото 東京 #1.png': { 'filename': encodeFilename('Фото 東京 #1.png'), 'album-id': encodeMetadataValue('Ünï 42') },
    'Отчёт 2026.pdf': { 'filename': encodeFilename('Отчёт 2026.pdf'), 'album-id': encodeMetadataValue('Ünï 42') },
  });
  await stack.flush();
  await drain(stack);
});

test('a JPEG named DSC_0001 (no extension; Uppy sends no type at create) goes up in parts as image/jpeg', async () => {
  const result = await runUppy([{ name: 'DSC_0001', type: 'image/jpeg', size: 7 * MIB, head: JPEG_HEAD }]);
  expect(result.failed).toEqual([]);
  const key = result.successful[0].key;
  expect(key).toMatch(new RegExp(`^uploads/alice/[0-9a-f-]{36}_${7 * MIB}_${5 * MIB}\\.jpg$`));
  const head = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }));
  expect([head.ContentLength, head.ContentType]).toEqual([7 * MIB, 'image/jpeg']);
  await stack.flush();
  await drain(stack);
});

test('a file above maxFileSize is refused before a multipart upload is created', async () => {
  const result = await runUppy([{ name: 'huge.pdf', type: 'application/pdf', size: 20 * MIB + 1 }]);
  expect(result.successful).toEqual([]);
  expect(result.failed).toEqual([{ name: 'huge.pdf', error: expect.stringContaining('FILE_TOO_LARGE') }]);
  expect((await stack.s3.send(new ListMultipartUploadsCommand({ Bucket: stack.bucket, Prefix: 'uploads/alice/' }))).Uploads ?? []).toEqual([]);
  await stack.flush();
  expect(await drain(stack)).toEqual([]);
});

test('a type the policy refuses fails in Uppy, and nothing is stored', async () => {
  const result = await runUppy([{ name: 'page.html', type: 'text/html', bytes: [60, 104, 49, 62] }]);
  expect(result.successful).toEqual([]);
  expect(result.failed).toEqual([{ name: 'page.html', error: expect.stringContaining('CONTENT_TYPE_NOT_ALLOWED') }]);
  await stack.flush();
  expect(await drain(stack)).toEqual([]);
});

test('API Gateway refusing the call itself ({"message":"Unauthorized"}): uppySigner and the README\'s signRequest both fail with that message, not a TypeError', async () => {
  for (const readme of [false, true]) {
    const result = await runUppy([{ name: 'photo.png', type: 'image/png', bytes: [...PNG] }], { readme, gatewayRefuses: true });
    expect(result.failed).toEqual([{ name: 'photo.png', error: expect.stringContaining('Unauthorized') }]);
    expect(result.failed[0].error).not.toContain('TypeError');
  }
});

describe('attacks on the Uppy route by hand (Node, same S3 stand-in)', () => {
  const signer = () => uppySigner({ signerUrl: stack.signerUrl, getAuthHeaders: () => ({ 'x-local-user': 'mallory' }), partSize: 5 * MIB });
  const bytes = (n: number) => Buffer.alloc(n, 7);

  /** Uppy's first two steps: a key handle for the file, then CreateMultipartUpload with the signed URL. */
  interface Created { key: string; url: string; headers: Record<string, string>; uploadId: string }
  async function create(s: ReturnType<typeof signer>, size: number): Promise<Created> {
    const handle = s.generateObjectKey({ name: 'report.pdf', type: 'application/pdf', size });
    const signed = await s.signRequest({ method: 'POST', key: handle });
    const uploadId = await open(signed.url, signed.headers ?? {});
    return { key: signed.key!, url: signed.url, headers: signed.headers ?? {}, uploadId };
  }
  async function open(url: string, headers: Record<string, string>): Promise<string> {
    const res = await fetch(url, { method: 'POST', headers });
    const text = await res.text();
    expect(res.status).toBe(200);
    return /<UploadId>([^<]+)<\/UploadId>/.exec(text)![1];
  }
  const partUrl = async (s: ReturnType<typeof signer>, key: string, uploadId: string, partNumber: number) =>
    (await s.signRequest({ method: 'PUT', key, uploadId, partNumber })).url;
  const put = async (url: string, body: Buffer) => {
    const res = await fetch(url, { method: 'PUT', body });
    return { status: res.status, text: await res.text() };
  };
  const uploadsOf = async (key: string) =>
    ((await stack.s3.send(new ListMultipartUploadsCommand({ Bucket: stack.bucket, Prefix: key }))).Uploads ?? []).map((u) => u.UploadId);

  test('a part longer than its share is refused by S3; the exact share is stored', async () => {
    const s = signer();
    const { key, uploadId } = await create(s, 11 * MIB);
    // Issue 10: a 12 MiB part was accepted under a 6 MiB limit. Part 1's share is 5 MiB, part 3's is 1 MiB.
    expect((await put(await partUrl(s, key, uploadId, 1), bytes(12 * MIB))).status).toBe(403);
    expect((await put(await partUrl(s, key, uploadId, 3), bytes(5 * MIB))).text).toContain('SignatureDoesNotMatch');
    expect((await put(await partUrl(s, key, uploadId, 1), bytes(5 * MIB))).status).toBe(200);
    await expect(s.signRequest({ method: 'PUT', key, uploadId, partNumber: 4 })).rejects.toMatchObject({ code: 'INVALID_PART_NUMBER', status: 400 });
    await s.signRequest({ method: 'DELETE', key, uploadId }).then((r) => fetch(r.url, { method: 'DELETE' }));
  });

  test('a replayed create URL: its uploads are aborted before a part is signed, so they never hold bytes', async () => {
    const s = signer();
    const first = await create(s, 11 * MIB);
    const firstPart = await partUrl(s, first.key, first.uploadId, 1);
    // Replay the same signed CreateMultipartUpload twice: two more uploads for the same key.
    const replays = [await open(first.url, first.headers), await open(first.url, first.headers)];
    expect(await uploadsOf(first.key)).toHaveLength(3);
    // Asking for a part of one replay aborts every other upload of the key, the first one included...
    await partUrl(s, first.key, replays[0], 1);
    expect(await uploadsOf(first.key)).toEqual([replays[0]]);
    // ...so the part URL signed for the first upload no longer stores anything,
    const late = await put(firstPart, bytes(5 * MIB));
    expect([late.status, /<Code>([^<]+)/.exec(late.text)?.[1]]).toEqual([404, 'NoSuchUpload']);
    // and the aborted uploads get no part URL at all.
    for (const id of [first.uploadId, replays[1]]) {
      await expect(s.signRequest({ method: 'PUT', key: first.key, uploadId: id, partNumber: 1 })).rejects.toMatchObject({ code: 'UPLOAD_NOT_FOUND', status: 404 });
    }
    await s.signRequest({ method: 'DELETE', key: first.key, uploadId: replays[0] }).then((r) => fetch(r.url, { method: 'DELETE' }));
    expect(await uploadsOf(first.key)).toEqual([]);
  });

  test('without uppySigner\'s fields CreateMultipartUpload is refused with a 400 that names it', async () => {
    const res = await fetch(`${stack.signerUrl}/uppy/sign`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-local-user': 'mallory' }, body: JSON.stringify({ method: 'POST', key: 'x.pdf' }),
    });
    const body = await res.json() as { error: { code: string; message: string } };
    expect([res.status, body.error.code]).toEqual([400, 'INVALID_REQUEST']);
    expect(body.error.message).toContain('uppySigner');
  });
});

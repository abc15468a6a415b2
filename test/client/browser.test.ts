/**
 * The typed client in a real browser: `src/client` bundled with esbuild for a page on an allowed origin,
 * run in headless Chromium against the local stack (cross-origin signer and S3 calls, CORS included):
 * a small image as one PUT and a PDF large enough to go multipart, with progress; on a throttled
 * network, byte-level progress events (XHR upload events) for both; with `checksum: true`, a SHA-256
 * from Web Crypto that S3 checks (a byte flipped on the way is refused), per part for a multipart upload.
 */
import { createHash } from 'node:crypto';
import { Server } from 'node:http';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { Browser } from 'playwright-core';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import { close } from '../../src/local/net';
import { bundleForBrowser, drain, launchChromium, makePng, servePage } from '../local/helpers';

const MIB = 1024 * 1024;
const PNG = makePng(24, 16);

const ENTRY = `
import { uploadFile } from './src/client';
window.runClient = async ({ signerUrl, user, files }) => {
  const results = [];
  for (const f of files) {
    const bytes = f.bytes ? new Uint8Array(f.bytes) : new Uint8Array(f.size);
    if (!f.bytes) bytes.set([37, 80, 68, 70, 45], 0);
    const progress = [];
    const controller = new AbortController();
    try {
      const r = await uploadFile(new Blob([bytes], { type: f.type }), {
        signerUrl,
        getAuthHeaders: () => ({ 'x-local-user': user }),
        onProgress: (p) => {
          progress.push(p.uploadedBytes);
          if (f.abortAt !== undefined && p.uploadedBytes >= f.abortAt) controller.abort();
        },
        signal: controller.signal,
        checksum: f.checksum,
        multipartThreshold: f.multipartThreshold,
        retries: 0,
      });
      results.push({ name: f.name, key: r.key, progress });
    } catch (err) {
      results.push({ name: f.name, error: String(err && (err.code || err.message)), message: String(err && err.message), progress });
    }
  }
  return results;
};
`;

interface Result { name: string; key?: string; progress?: number[]; error?: string; message?: string }

let stack: LocalStack;
let page: Server;
let pageUrl: string;
let browser: Browser;

beforeAll(async () => {
  ({ server: page, url: pageUrl } = await servePage(await bundleForBrowser(ENTRY, 'ts'), 'client'));
  stack = await startLocalStack({
    allowedOrigins: [pageUrl],
    log: () => undefined,
    verifyUploads: false,
    policy: { allowedContentTypes: ['image/png', 'application/pdf'], maxFileSize: 20 * MIB, multipartThreshold: 6 * MIB, partSize: 5 * MIB },
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (page) await close(page);
});

/**
 * Runs the page's `runClient` in a fresh context; `uploadThroughput` (bytes/s) throttles the network,
 * `flipByte` inverts byte 100 of every PUT body on its way to S3.
 */
async function runClient(
  user: string, files: unknown[], uploadThroughput?: number, flipByte = false, puts?: Array<{ url: string; headers: Record<string, string> }>,
): Promise<Result[]> {
  const context = await browser.newContext();
  context.on('request', (request) => {
    if (request.method() === 'PUT' && request.url().startsWith(stack.s3Endpoint)) puts?.push({ url: request.url(), headers: request.headers() });
  });
  try {
    if (flipByte) {
      await context.route((url) => url.href.startsWith(stack.s3Endpoint), async (route) => {
        const body = route.request().postDataBuffer();
        if (route.request().method() !== 'PUT' || !body) return route.continue();
        const flipped = Buffer.from(body);
        flipped[100] = 255 - flipped[100];
        return route.continue({ postData: flipped });
      });
    }
    const tab = await context.newPage();
    await tab.goto(`${pageUrl}/`);
    await tab.waitForFunction('typeof window.runClient === "function"');
    if (uploadThroughput !== undefined) {
      const cdp = await context.newCDPSession(tab);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 5, downloadThroughput: -1, uploadThroughput });
    }
    return await tab.evaluate(
      (args) => (globalThis as unknown as { runClient: (a: unknown) => Promise<Result[]> }).runClient(args),
      { signerUrl: stack.signerUrl, user, files },
    );
  } finally {
    await context.close();
  }
}

test('uploadFile in Chromium: an image as one PUT and an 11 MiB PDF in parts, cross-origin, with progress', async () => {
  const results = await runClient('dora', [
    { name: 'photo.png', type: 'image/png', bytes: [...PNG] },
    { name: 'big.pdf', type: 'application/pdf', size: 11 * MIB + 3 },
    { name: 'page.html', type: 'text/html', bytes: [60, 104, 49, 62] },
  ]);
  const [png, pdf, html] = results;
  expect(png).toMatchObject({ name: 'photo.png', key: expect.stringMatching(/^uploads\/dora\/[0-9a-f-]{36}\.png$/) });
  expect(pdf).toMatchObject({ name: 'big.pdf', key: expect.stringMatching(/^uploads\/dora\/[0-9a-f-]{36}_11534339_5242880\.pdf$/) });
  expect(pdf.progress?.at(-1)).toBe(11 * MIB + 3);
  expect(html).toMatchObject({ name: 'page.html', error: 'CONTENT_TYPE_NOT_ALLOWED' });

  const storedPng = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: png.key }));
  expect([storedPng.ContentLength, storedPng.ContentType]).toEqual([PNG.length, 'image/png']);
  const storedPdf = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: pdf.key }));
  expect([storedPdf.ContentLength, storedPdf.ContentType]).toEqual([11 * MIB + 3, 'application/pdf']);
  await stack.flush();
  await drain(stack);
});

test('on a throttled network, progress comes in many strictly increasing byte counts, for one PUT and for parts', async () => {
  // 3 MiB/s up: the 2 MiB PUT takes ~0.7 s, the 7 MiB upload (two parts) ~2.3 s; Chromium reports upload
  // progress about every 100 ms.
  const results = await runClient('erin', [
    { name: 'one.pdf', type: 'application/pdf', size: 2 * MIB },
    { name: 'parts.pdf', type: 'application/pdf', size: 7 * MIB + 3 },
  ], 3 * MIB);
  for (const [r, size, atLeast] of [[results[0], 2 * MIB, 4], [results[1], 7 * MIB + 3, 10]] as const) {
    expect(r.error).toBeUndefined();
    const events = r.progress!;
    expect(events.every((b, i) => i === 0 || b > events[i - 1])).toBe(true);
    expect(events.filter((b) => b > 0 && b < size).length).toBeGreaterThanOrEqual(atLeast);
    expect(events.at(-1)).toBe(size);
  }
  await stack.flush();
  await drain(stack);
});

test('checksum: true in Chromium: Web Crypto\'s SHA-256 is signed and S3 stores the file; a byte flipped on the way is refused', async () => {
  const [good] = await runClient('fay', [{ name: 'sum.pdf', type: 'application/pdf', size: 300_000, checksum: true }]);
  expect(good.error).toBeUndefined();
  const stored = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: good.key }));
  expect(stored.ContentLength).toBe(300_000);

  const [flipped] = await runClient('fay', [{ name: 'sum.pdf', type: 'application/pdf', size: 300_000, checksum: true }], undefined, true);
  expect(flipped).toMatchObject({ error: 'S3_ERROR', message: expect.stringContaining('BadDigest') });
  // The control: the same flip without a checksum is stored (same length and type).
  const [unguarded] = await runClient('fay', [{ name: 'plain.pdf', type: 'application/pdf', size: 300_000 }], undefined, true);
  expect(unguarded.error).toBeUndefined();
  await stack.flush();
  await drain(stack);
});

test('checksum: true in Chromium above multipartThreshold: each part carries its Web Crypto SHA-256, signed; S3 stores the file', async () => {
  const size = 7 * MIB + 3;
  const file = { name: 'parts.pdf', type: 'application/pdf', size, checksum: true, multipartThreshold: 6 * MIB };
  const puts: Array<{ url: string; headers: Record<string, string> }> = [];
  const [good] = await runClient('fay', [file], undefined, false, puts);
  expect(good.error).toBeUndefined();
  const bytes = Buffer.alloc(size);
  bytes.set([37, 80, 68, 70, 45], 0);
  const sums = [bytes.subarray(0, 5 * MIB), bytes.subarray(5 * MIB)].map((part) => createHash('sha256').update(part).digest('base64'));
  const sent = puts.map((put) => ({
    partNumber: Number(new URL(put.url).searchParams.get('partNumber')),
    signedHeaders: new URL(put.url).searchParams.get('X-Amz-SignedHeaders'),
    checksum: put.headers['x-amz-checksum-sha256'],
  })).sort((a, b) => a.partNumber - b.partNumber);
  expect(sent).toEqual(sums.map((checksum, i) => ({
    partNumber: i + 1, signedHeaders: 'content-length;host;x-amz-checksum-sha256;x-amz-sdk-checksum-algorithm', checksum,
  })));
  const stored = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: good.key }));
  expect(stored.ContentLength).toBe(size);

  const [flipped] = await runClient('fay', [file], undefined, true);
  expect(flipped).toMatchObject({ error: 'S3_ERROR', message: expect.stringContaining('BadDigest') });
  await stack.flush();
  await drain(stack);
});

test('aborting in Chromium stops an XHR upload in flight, single PUT and parts', async () => {
  const started = Date.now();
  const results = await runClient('gus', [
    { name: 'one.pdf', type: 'application/pdf', size: 2 * MIB, abortAt: 1 },
    { name: 'parts.pdf', type: 'application/pdf', size: 7 * MIB + 3, abortAt: 1 },
  ], 1 * MIB);
  // At 1 MiB/s the two files would take 9 s; aborted at the first progress event, they stop early.
  expect(results.map((r) => r.error)).toEqual(['ABORTED', 'ABORTED']);
  expect(results.every((r) => (r.progress?.at(-1) ?? 0) < 2 * MIB)).toBe(true);
  expect(Date.now() - started).toBeLessThan(6000);
  await stack.flush();
  await drain(stack);
});

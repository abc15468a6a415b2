/**
 * The typed client in a real browser: `src/client` bundled with esbuild for a page on an allowed origin,
 * run in headless Chromium against the local stack (cross-origin signer and S3 calls, CORS included):
 * a small image as one PUT and a PDF large enough to go multipart, with progress.
 */
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
    try {
      const r = await uploadFile(new Blob([bytes], { type: f.type }), {
        signerUrl,
        getAuthHeaders: () => ({ 'x-local-user': user }),
        onProgress: (p) => progress.push(p.uploadedBytes),
      });
      results.push({ name: f.name, key: r.key, progress });
    } catch (err) {
      results.push({ name: f.name, error: String(err && (err.code || err.message)) });
    }
  }
  return results;
};
`;

interface Result { name: string; key?: string; progress?: number[]; error?: string }

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

test('uploadFile in Chromium: an image as one PUT and an 11 MiB PDF in parts, cross-origin, with progress', async () => {
  const context = await browser.newContext();
  let results: Result[];
  try {
    const tab = await context.newPage();
    await tab.goto(`${pageUrl}/`);
    await tab.waitForFunction('typeof window.runClient === "function"');
    results = await tab.evaluate(
      (args) => (globalThis as unknown as { runClient: (a: unknown) => Promise<Result[]> }).runClient(args),
      {
        signerUrl: stack.signerUrl,
        user: 'dora',
        files: [
          { name: 'photo.png', type: 'image/png', bytes: [...PNG] },
          { name: 'big.pdf', type: 'application/pdf', size: 11 * MIB + 3 },
          { name: 'page.html', type: 'text/html', bytes: [60, 104, 49, 62] },
        ],
      },
    );
  } finally {
    await context.close();
  }
  const [png, pdf, html] = results;
  expect(png).toMatchObject({ name: 'photo.png', key: expect.stringMatching(/^uploads\/dora\/[0-9a-f-]{36}\.png$/) });
  expect(pdf).toMatchObject({ name: 'big.pdf', key: expect.stringMatching(/^uploads\/dora\/[0-9a-f-]{36}_11534339_5242880\.pdf$/) });
  expect(pdf.progress?.at(-1)).toBe(11 * MIB + 3);
  expect(html).toEqual({ name: 'page.html', error: 'CONTENT_TYPE_NOT_ALLOWED' });

  const storedPng = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: png.key }));
  expect([storedPng.ContentLength, storedPng.ContentType]).toEqual([PNG.length, 'image/png']);
  const storedPdf = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: pdf.key }));
  expect([storedPdf.ContentLength, storedPdf.ContentType]).toEqual([11 * MIB + 3, 'application/pdf']);
  await stack.flush();
  await drain(stack);
});

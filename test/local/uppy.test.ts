/**
 * Real Uppy (`@uppy/core` + `@uppy/aws-s3` 6, bundled with esbuild) in headless Chromium against the
 * local stack, through `POST /uppy/sign` and the README's five-line `signRequest`: a small image goes
 * up as one POST-policy form, a larger file in parts; both land under the server-chosen keys.
 */
import { Server } from 'node:http';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { Browser } from 'playwright-core';
import { bundleForBrowser, drain, launchChromium, makePng, servePage } from './helpers';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import { close } from '../../src/local/net';

const MIB = 1024 * 1024;
const PNG = makePng(40, 30);

/** The page's script: Uppy with the README's signRequest, exposed as `window.runUppy`. */
const ENTRY = `
import Uppy from '@uppy/core';
import AwsS3 from '@uppy/aws-s3';

window.runUppy = async ({ signerUrl, user, threshold, files }) => {
  const uppy = new Uppy();
  uppy.use(AwsS3, {
    shouldUseMultipart: (file) => file.size > threshold,
    // The README's signRequest (plus the local stack's identity header):
    async signRequest(request) {
      const res = await fetch(signerUrl + '/uppy/sign', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-local-user': user },
        body: JSON.stringify(request),
      });
      if (!res.ok) throw new Error('signer: ' + res.status + ' ' + (await res.text()));
      return res.json();
    },
  });
  for (const f of files) {
    const bytes = f.bytes ? new Uint8Array(f.bytes) : new Uint8Array(f.size);
    if (!f.bytes) { for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (i / 4096) % 251; bytes.set([37, 80, 68, 70, 45], 0); }
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
  ({ server: page, url: pageUrl } = await servePage(await bundleForBrowser(ENTRY), 'uppy'));
  stack = await startLocalStack({
    allowedOrigins: [pageUrl],
    log: () => undefined,
    verifyUploads: false,
    policy: { allowedContentTypes: ['image/png', 'application/pdf'], maxFileSize: 20 * MIB, multipartThreshold: 6 * MIB, partSize: 5 * MIB },
  });
  await drain(stack);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (page) await close(page);
});

async function runUppy(files: Array<{ name: string; type: string; bytes?: number[]; size?: number }>, user = 'alice'): Promise<RunResult> {
  const context = await browser.newContext();
  try {
    const tab = await context.newPage();
    await tab.goto(`${pageUrl}/`);
    await tab.waitForFunction('typeof window.runUppy === "function"');
    return await tab.evaluate(
      (args) => (globalThis as unknown as { runUppy: (a: unknown) => Promise<RunResult> }).runUppy(args),
      { signerUrl: stack.signerUrl, user, threshold: 6 * MIB, files },
    );
  } finally {
    await context.close();
  }
}

test('a small image (one POST-policy form) and an 11 MiB PDF (three parts) land under the server-chosen keys', async () => {
  const result = await runUppy([
    { name: 'photo.png', type: 'image/png', bytes: [...PNG] },
    { name: 'big.pdf', type: 'application/pdf', size: 11 * MIB + 5 },
  ]);
  expect(result.failed).toEqual([]);
  const byName = Object.fromEntries(result.successful.map((f) => [f.name, f]));
  expect(byName['photo.png'].key).toMatch(/^uploads\/alice\/[0-9a-f-]{36}\.png$/);
  expect(byName['big.pdf'].key).toMatch(/^uploads\/alice\/[0-9a-f-]{36}\.pdf$/);
  expect(byName['photo.png'].location).toBe(`${stack.s3Endpoint}/${stack.bucket}/${byName['photo.png'].key}`);

  const png = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: byName['photo.png'].key }));
  expect([png.ContentLength, png.ContentType]).toEqual([PNG.length, 'image/png']);
  const pdf = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: byName['big.pdf'].key }));
  expect([pdf.ContentLength, pdf.ContentType]).toEqual([11 * MIB + 5, 'application/pdf']);
  await stack.flush();
  await drain(stack);
});

test('a type the policy refuses fails in Uppy, and nothing is stored', async () => {
  const result = await runUppy([{ name: 'page.html', type: 'text/html', bytes: [60, 104, 49, 62] }]);
  expect(result.successful).toEqual([]);
  expect(result.failed).toEqual([{ name: 'page.html', error: expect.stringContaining('CONTENT_TYPE_NOT_ALLOWED') }]);
  await stack.flush();
  expect(await drain(stack)).toEqual([]);
});

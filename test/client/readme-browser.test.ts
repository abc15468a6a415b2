/**
 * The README's browser, Uppy and local-development examples, run as written: test/client/readme-snippets.ts
 * holds them (test/readme.test.ts checks the README against it), bundled for a page that Chromium opens
 * against the local stack with the verifier on. The README's `authorization: Bearer <token>` headers are
 * mapped to the local stack's identity header on their way to the signer.
 */
import { Server } from 'node:http';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { Browser } from 'playwright-core';
import { LOCAL_USER_HEADER } from '../../src/local/http-api';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import { close } from '../../src/local/net';
import { bundleForBrowser, launchChromium, makePng, servePage } from '../local/helpers';

const MIB = 1024 * 1024;

const ENTRY = `
import AwsS3 from '@uppy/aws-s3';
import Uppy from '@uppy/core';
import * as readme from './test/client/readme-snippets';

window.runReadme = async ({ signerUrl, user, pngB64 }) => {
  const bytes = Uint8Array.from(atob(pngB64), (c) => c.charCodeAt(0));
  const png = () => new File([bytes], 'photo.png', { type: 'image/png' });
  const pdf = (size) => {
    const b = new Uint8Array(size);
    for (let i = 0; i < size; i += 4096) b[i] = (i / 4096) % 251;
    b.set([37, 80, 68, 70, 45], 0);
    b.set(new TextEncoder().encode('%%EOF\\n'), size - 6);
    return new File([b], 'doc.pdf', { type: 'application/pdf' });
  };
  const getAuthHeaders = () => ({ '${LOCAL_USER_HEADER}': user });
  const out = {};
  out.raw = await readme.rawProtocol(png(), signerUrl, user);
  out.five = await readme.fiveLines(png(), signerUrl, user);
  const fractions = [];
  out.progress = (await readme.withProgress(pdf(7 * 1024 * 1024 + 3), signerUrl, getAuthHeaders, { set: (f) => fractions.push(f) }, new AbortController())).key;
  out.fractions = fractions;
  const shown = [];
  await readme.untilVerified(png(), signerUrl, getAuthHeaders, (m) => shown.push(m));
  const html = new File([new TextEncoder().encode('<html><script>alert(1)</script></html>')], 'x.png', { type: 'image/png' });
  await readme.untilVerified(html, signerUrl, getAuthHeaders, (m) => shown.push(m));
  out.shown = shown;
  out.checksum = await readme.withChecksum(pdf(7 * 1024 * 1024 + 3), signerUrl, getAuthHeaders, 6 * 1024 * 1024);
  const input = document.createElement('input');
  input.type = 'file';
  const dt = new DataTransfer();
  dt.items.add(png());
  input.files = dt.files;
  out.prepared = await readme.withPrepare(input, signerUrl, getAuthHeaders);

  const uppy = readme.uppyWithSigner(signerUrl, user);
  readme.uppyPrepare(uppy);
  uppy.addFile({ name: 'photo.png', type: 'image/png', data: png() });
  const viaUppy = await uppy.upload();
  out.uppy = { keys: viaUppy.successful.map((f) => f.response.body.key), failed: viaUppy.failed.map((f) => String(f.error)) };
  const plain = new Uppy().use(AwsS3, { shouldUseMultipart: false, ...readme.uppySignRequest(signerUrl, user) });
  plain.addFile({ name: 'photo.png', type: 'image/png', data: png() });
  const viaPlain = await plain.upload();
  out.plain = { keys: viaPlain.successful.map((f) => f.response.body.key), failed: viaPlain.failed.map((f) => String(f.error)) };
  return out;
};
`;

interface Out {
  raw: string;
  five: { key: string; publicUrl: string };
  progress: string;
  fractions: number[];
  shown: string[];
  checksum: string;
  prepared: string;
  uppy: { keys: string[]; failed: string[] };
  plain: { keys: string[]; failed: string[] };
}

let stack: LocalStack;
let page: Server;
let pageUrl: string;
let browser: Browser;

beforeAll(async () => {
  ({ server: page, url: pageUrl } = await servePage(await bundleForBrowser(ENTRY, 'ts'), 'readme'));
  stack = await startLocalStack({
    allowedOrigins: [pageUrl],
    log: () => undefined,
    policy: { allowedContentTypes: ['image/png', 'image/webp', 'application/pdf'], maxFileSize: 20 * MIB, multipartThreshold: 6 * MIB, partSize: 5 * MIB },
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (page) await close(page);
});

async function stored(key: string): Promise<[number | undefined, string | undefined]> {
  const res = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }));
  return [res.ContentLength, res.ContentType];
}

test('every README browser and Uppy example runs in Chromium and does what the README says', async () => {
  const context = await browser.newContext();
  const partAttempts = new Map<string, number>();
  try {
    // The README's bearer token is the local caller's name.
    await context.route((url) => url.href.startsWith(stack.signerUrl), async (route) => {
      const headers = route.request().headers();
      const bearer = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
      return route.continue(bearer ? { headers: { ...headers, [LOCAL_USER_HEADER]: bearer } } : undefined);
    });
    // Part 2 of the first multipart upload fails on the network four times (the client's three retries
    // included): the progress example's catch resumes it.
    await context.route((url) => url.href.startsWith(stack.s3Endpoint) && url.searchParams.get('partNumber') === '2', async (route) => {
      const id = new URL(route.request().url()).searchParams.get('uploadId')!;
      const attempt = (partAttempts.get(id) ?? 0) + 1;
      partAttempts.set(id, attempt);
      return partAttempts.size === 1 && attempt <= 4 ? route.abort('failed') : route.continue();
    });
    const tab = await context.newPage();
    await tab.goto(`${pageUrl}/`);
    await tab.waitForFunction('typeof window.runReadme === "function"');
    const out = await tab.evaluate(
      (args) => (globalThis as unknown as { runReadme: (a: unknown) => Promise<Out> }).runReadme(args),
      { signerUrl: stack.signerUrl, user: 'rita', pngB64: makePng(48, 32).toString('base64') },
    );

    expect(await stored(out.raw)).toEqual([makePng(48, 32).length, 'image/png']);
    expect(out.five.key).toMatch(/^uploads\/rita\/[0-9a-f-]{36}\.png$/);
    expect(out.five.publicUrl).toBe(`${stack.cdnUrl}/${out.five.key}`);
    expect(await stored(out.progress)).toEqual([7 * MIB + 3, 'application/pdf']);
    expect([...partAttempts.values()][0]).toBe(5); // four failures, then the resumed upload's part 2
    expect(out.fractions.at(-1)).toBe(1);
    expect(out.shown).toEqual([expect.stringMatching(/^[A-Z_]+: /)]); // the verified PNG shows nothing, the HTML its reason
    expect(await stored(out.checksum)).toEqual([7 * MIB + 3, 'application/pdf']);
    expect(out.prepared).toMatch(/\.webp$/);
    expect((await stored(out.prepared))[1]).toBe('image/webp');
    expect(out.uppy).toEqual({ keys: [expect.stringMatching(/\.webp$/)], failed: [] });
    expect(out.plain).toEqual({ keys: [expect.stringMatching(/\.png$/)], failed: [] });
  } finally {
    await context.close();
  }
});

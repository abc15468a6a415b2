/**
 * The demo page in real headless Chromium (Debian's `chromium`, driven by playwright-core), used as a
 * person would: several files dropped at once on an allowed origin, each with thumbnail, size and
 * progress, then verified (served image, queue message) or rejected with the verifier's reason; the
 * prepare toggle strips GPS metadata; from an origin that is not allowed, CORS stops it (at the signer
 * and at the bucket). A screenshot of the page is kept in test/__output__/demo.png.
 */
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { Browser, BrowserContext, Page } from 'playwright-core';
import { drain, launchChromium, makePng, signFor } from './helpers';
import { DemoServer, startDemoServer } from '../../src/local/demo-server';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import { decodeS3EventKey } from '../../src/local/s3-events';

const PNG = makePng(48, 32, [220, 38, 38]);

/** The fields of an HTMLImageElement read here (the test's TypeScript has no DOM types). */
interface ImageElement {
  readonly currentSrc: string;
  readonly naturalWidth: number;
  readonly naturalHeight: number;
  readonly complete: boolean;
}

let stack: LocalStack;
let allowed: DemoServer;
let other: DemoServer;
let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  allowed = await startDemoServer();
  other = await startDemoServer({ consumeQueue: false }); // one consumer of the queue: the allowed page's server
  stack = await startLocalStack({ allowedOrigins: [allowed.url], log: () => undefined });
  allowed.use(stack);
  other.use(stack);
  await drain(stack); // the s3:TestEvent
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await allowed?.stop();
  await other?.stop();
  await stack?.stop();
});

beforeEach(async () => {
  context = await browser.newContext();
});

afterEach(async () => {
  await context.close();
});

const OUTPUT = path.join(__dirname, '..', '__output__');

async function openDemo(url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${url}/`);
  // The page's CSP forbids eval and inline scripts; playwright's evaluate goes through the debugger, not the page.
  await page.locator('#status:not([data-state="loading"])').waitFor();
  return page;
}

interface DroppedFile { readonly name: string; readonly type: string; readonly bytes: Buffer }

/** Drops the files on the drop zone, as a drag from the desktop does (a DataTransfer holding Files). */
async function dropFiles(page: Page, files: readonly DroppedFile[]): Promise<void> {
  const transfer = await page.evaluateHandle((list) => {
    const g = globalThis as unknown as {
      DataTransfer: new () => { items: { add(f: unknown): void } };
      File: new (parts: unknown[], name: string, o: { type: string }) => unknown;
    };
    const dt = new g.DataTransfer();
    for (const f of list) dt.items.add(new g.File([new Uint8Array(f.bytes)], f.name, { type: f.type }));
    return dt;
  }, files.map((f) => ({ name: f.name, type: f.type, bytes: [...f.bytes] })));
  await page.dispatchEvent('#drop', 'drop', { dataTransfer: transfer });
}

/** A card's fields once it has settled (done, rejected or error). */
async function settled(page: Page, name: string) {
  const card = page.locator('.upload', { has: page.locator('.name', { hasText: name }) });
  await card.locator('xpath=self::*[@data-state="done" or @data-state="rejected" or @data-state="error"]').waitFor({ timeout: 30_000 }).catch(async (err: Error) => {
    throw new Error(`${name}: still ${await card.getAttribute('data-state')} (${await card.locator('.state').textContent()}): ${err.message}`);
  });
  const text = async (sel: string) => (await card.locator(sel).textContent()) ?? '';
  const thumb = await card.locator('.thumb').evaluate((img: ImageElement) => img.currentSrc);
  return {
    card,
    state: (await card.getAttribute('data-state')) ?? '',
    stateText: await text('.state'),
    size: await text('.size'),
    percent: await text('.percent'),
    thumb,
    key: (await card.getAttribute('data-key')) ?? undefined,
  };
}

const HTML = Buffer.from('<!DOCTYPE html><html><body><script>alert(1)</script></body></html>');

test('several files dropped at once: each shows thumbnail, size, progress, then verified (image, queue message) or rejected with the reason', async () => {
  const page = await openDemo(allowed.url);
  expect((await status(page)).state).toBe('ready');
  const big = makePng(320, 200, [22, 163, 74]);
  // The files dropped together are signed in one batch request.
  const signed: string[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/uploads') signed.push(r.postData() ?? '');
  });
  await dropFiles(page, [
    { name: 'my photo+1 ü.png', type: 'image/png', bytes: PNG },
    { name: 'green.png', type: 'image/png', bytes: big },
    { name: 'not-a-photo.png', type: 'image/png', bytes: HTML },
  ]);
  const [red, green, fake] = [await settled(page, 'my photo+1'), await settled(page, 'green.png'), await settled(page, 'not-a-photo.png')];

  for (const [card, bytes, width, height] of [[red, PNG, 48, 32], [green, big, 320, 200]] as const) {
    expect(card).toMatchObject({
      state: 'done',
      stateText: expect.stringMatching(/^verified: uploads\/demo-user\/[0-9a-f-]{36}\.png$/),
      size: bytes.length < 1024 ? `${bytes.length} B` : `${(bytes.length / 1024).toFixed(1)} KiB`,
      percent: '100%',
      thumb: expect.stringMatching(/^blob:/),
    });
    // The served image comes from the CDN route, decoded at its real size; S3 holds exactly the bytes sent.
    const served = await card.card.locator('.served').evaluate((img: ImageElement) => ({ src: img.currentSrc, w: img.naturalWidth, h: img.naturalHeight }));
    expect(served).toEqual({ src: `${stack.cdnUrl}/${card.key}`, w: width, h: height });
    const head = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: card.key }));
    expect([head.ContentType, head.ContentLength]).toEqual(['image/png', bytes.length]);
    // Its queue message, as the page received it.
    const message = JSON.parse((await card.card.locator('.message').textContent()) ?? '') as { Records: Array<{ eventName: string; s3: { object: { key: string } } }> };
    expect(message.Records.map((r) => [r.eventName, decodeS3EventKey(r.s3.object.key)])).toEqual([['ObjectCreated:Put', card.key]]);
  }
  // The HTML renamed .png: stored, then rejected by the verifier, with its reason from the status route.
  expect(fake).toMatchObject({ state: 'rejected', percent: '100%', stateText: expect.stringMatching(/^rejected: ACTIVE_CONTENT: /) });
  expect(await fake.card.locator('.served').isHidden()).toBe(true);
  // What a user reads: a placeholder where no preview can be drawn, a one-line queue summary, the tally.
  expect(await fake.card.locator('.thumbbox').evaluate((box) => getComputedStyle(box, '::after').content)).toBe('"no preview"');
  expect(await red.card.locator('.queue summary').textContent()).toBe(`queue message: ObjectCreated:Put, ${PNG.length} B (show the notification)`);
  expect((await status(page)).text).toBe('3 files: 2 verified, 1 rejected. Drop more at any time.');
  expect(signed.map((body) => (JSON.parse(body) as { files?: unknown[] }).files?.length)).toEqual([3]);

  mkdirSync(OUTPUT, { recursive: true });
  await page.setViewportSize({ width: 1000, height: 900 });
  await page.screenshot({ path: path.join(OUTPUT, 'demo.png'), fullPage: true });
  await stack.flush();
  await drain(stack);
  await drain(stack, stack.rejectionQueueUrl);
});

/** A JPEG drawn by Chromium, with an Exif APP1 segment holding a GPS IFD inserted after its SOI marker. */
async function jpegWithGps(page: Page): Promise<Buffer> {
  const plain = Buffer.from(await page.evaluate(async () => {
    const g = globalThis as unknown as {
      OffscreenCanvas: new (w: number, h: number) => {
        getContext(t: '2d'): { fillStyle: string; fillRect(x: number, y: number, w: number, h: number): void };
        convertToBlob(o: { type: string }): Promise<{ arrayBuffer(): Promise<ArrayBuffer> }>;
      };
    };
    const canvas = new g.OffscreenCanvas(64, 48);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#d97706';
    ctx.fillRect(0, 0, 64, 48);
    return [...new Uint8Array(await (await canvas.convertToBlob({ type: 'image/jpeg' })).arrayBuffer())];
  }));
  // TIFF, little-endian: IFD0 with one entry (GPS IFD pointer, 0x8825) to a GPS IFD with GPSVersionID 2.2.0.0.
  const tiff = Buffer.from([
    0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x25, 0x88, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  ]);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, Math.floor((body.length + 2) / 256), (body.length + 2) % 256]), body]);
  return Buffer.concat([plain.subarray(0, 2), app1, plain.subarray(2)]);
}

test('the prepare toggle: prepareImage runs first, the page shows both sizes and that the GPS data is gone', async () => {
  const page = await openDemo(allowed.url);
  const jpeg = await jpegWithGps(page);
  await page.check('#prepare');
  await dropFiles(page, [{ name: 'holiday.jpg', type: 'image/jpeg', bytes: jpeg }]);
  const card = await settled(page, 'holiday.jpg');
  expect(card.state).toBe('done');
  const prep = card.card.locator('.prep');
  expect([await prep.getAttribute('data-gps-before'), await prep.getAttribute('data-gps-after')]).toEqual(['true', 'false']);
  expect(await prep.textContent()).toMatch(/^prepareImage: [\d.]+ (B|KiB) → [\d.]+ (B|KiB); before: Exif, GPS present; after: no Exif, no GPS$/);
  // What S3 holds is the prepared file: a JPEG without the Exif segment.
  const stored = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: card.key }));
  expect(stored.ContentType).toBe('image/jpeg');
  expect(stored.ContentLength).not.toBe(jpeg.length);
  await stack.flush();
  await drain(stack);
});

async function status(page: Page): Promise<{ state: string; text: string }> {
  const el = page.locator('#status');
  return { state: (await el.getAttribute('data-state')) ?? '', text: (await el.textContent()) ?? '' };
}

/** A PUT from the page's origin to S3 with a presigned URL made outside the browser. */
async function putFromPage(page: Page, url: string, headers: Record<string, string>): Promise<string> {
  return page.evaluate(async ({ u, h, bytes }) => {
    try {
      const res = await fetch(u, { method: 'PUT', headers: h, body: new Uint8Array(bytes) });
      return `status ${res.status}`;
    } catch (err) {
      return `blocked: ${(err as Error).name}`;
    }
  }, { u: url, h: headers, bytes: [...PNG] });
}

test('other origin: CORS blocks the signer call and the direct upload to the bucket', async () => {
  const page = await openDemo(other.url);
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  await dropFiles(page, [{ name: 'photo.png', type: 'image/png', bytes: PNG }]);
  const card = await settled(page, 'photo.png');
  expect([card.state, card.stateText]).toEqual(['error', expect.stringMatching(/^NETWORK_ERROR: /)]);
  // Chromium says why: the CORS policy, not the page's CSP or the network.
  expect(consoleErrors.some((t) => t.includes(stack.signerUrl) && /CORS policy/.test(t))).toBe(true);

  // Even with a valid presigned URL obtained elsewhere, the bucket's CORS rules stop the browser.
  const signed = await signFor(stack, PNG);
  expect(await putFromPage(page, signed.url, signed.headers ?? {})).toBe('blocked: TypeError');
  expect(consoleErrors.some((t) => t.includes(stack.s3Endpoint) && /CORS policy/.test(t))).toBe(true);
  await expect(stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: signed.key }))).rejects.toMatchObject({
    $metadata: { httpStatusCode: 404 },
  });
  await stack.flush();
  expect(await drain(stack)).toEqual([]);
});

/**
 * The demo page in real headless Chromium (Debian's `chromium`, driven by playwright-core): a
 * cross-origin upload from an allowed origin works end to end and the image renders from the CDN
 * route; from an origin that is not allowed, CORS stops it (at the signer and at the bucket).
 */
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
  other = await startDemoServer();
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

async function openDemo(url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${url}/`);
  // Locators, not string page functions: the page's CSP forbids eval (and the test has no DOM types).
  await page.locator('#status:not([data-state="loading"])').waitFor();
  return page;
}

/** Picks the file in the page and waits until the page reports success or failure. */
async function uploadInPage(page: Page, name: string, buffer: Buffer = PNG): Promise<{ state: string; text: string }> {
  await page.setInputFiles('#file', { name, mimeType: 'image/png', buffer });
  await page.locator('#status[data-state="done"], #status[data-state="error"]').waitFor({ timeout: 30_000 });
  return status(page);
}

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

test('allowed origin: the page uploads cross-origin, the image renders from the CDN route, the queue message arrives', async () => {
  const page = await openDemo(allowed.url);
  expect((await status(page)).state).toBe('ready');

  const result = await uploadInPage(page, 'my photo+1 ü.png');
  expect(result).toEqual({ state: 'done', text: expect.stringMatching(/^Done: uploads\/demo-user\/[0-9a-f-]{36}\.png$/) });

  // The image element shows the object from the CDN route, decoded at its real size.
  const image = await page.locator('#preview').evaluate((img: ImageElement) => ({
    src: img.currentSrc,
    width: img.naturalWidth,
    height: img.naturalHeight,
    complete: img.complete,
  }));
  expect(image).toEqual({ src: expect.stringMatching(new RegExp(`^${stack.cdnUrl}/uploads/demo-user/`)), width: 48, height: 32, complete: true });

  // S3 holds exactly the bytes the page sent, with the signed content type.
  const key = result.text.replace(/^Done: /, '');
  const head = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }));
  expect([head.ContentType, head.ContentLength]).toEqual(['image/png', PNG.length]);

  // The page shows the S3 event it received from the queue.
  const message = JSON.parse((await page.locator('#message').textContent()) ?? '') as { Records: Array<{ eventName: string; s3: { object: { key: string } } }> };
  expect(message.Records.map((r) => [r.eventName, decodeS3EventKey(r.s3.object.key)])).toEqual([['ObjectCreated:Put', key]]);

  // A direct PUT from this origin passes the bucket's CORS rules too.
  const signed = await signFor(stack, PNG);
  expect(await putFromPage(page, signed.url, signed.headers ?? {})).toBe('status 200');
  await stack.flush();
  await drain(stack);
});

test('allowed origin: a file the verifier rejects is reported with its reason, from POST /uploads/status', async () => {
  const page = await openDemo(allowed.url);
  const html = Buffer.from('<!DOCTYPE html><html><body><script>alert(1)</script></body></html>');
  expect(await uploadInPage(page, 'not-a-photo.png', html)).toEqual({ state: 'error', text: expect.stringMatching(/^Rejected by the verifier: ACTIVE_CONTENT: /) });
  await stack.flush();
  await drain(stack, stack.rejectionQueueUrl);
});

test('other origin: CORS blocks the signer call and the direct upload to the bucket', async () => {
  const page = await openDemo(other.url);
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  const result = await uploadInPage(page, 'photo.png');
  expect(result.state).toBe('error');
  expect(result.text).toMatch(/Could not reach the signer .*CORS/);
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

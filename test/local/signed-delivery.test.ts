/**
 * Signed delivery on the local stack, in real Chromium: the CDN route verifies CloudFront-style signatures
 * with the stack's public key; the real signer answers `POST /downloads` for the caller's verified keys.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { Browser, BrowserContext } from 'playwright-core';
import { drain, launchChromium, makePng, putSigned, signFor } from './helpers';
import { LOCAL_USER_HEADER } from '../../src/local/http-api';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import { signDownloadUrl } from '../../src/worker';

const PNG = makePng(3, 2);
let clock = Date.now();
let stack: LocalStack;
let browser: Browser;
let context: BrowserContext;
let aliceKey: string;

async function askDownload(key: unknown, user = 'alice'): Promise<{ status: number; body: { url?: string; expiresAt?: string; error?: { code: string } } }> {
  const res = await fetch(`${stack.signerUrl}/downloads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [LOCAL_USER_HEADER]: user },
    body: JSON.stringify({ key }),
  });
  return { status: res.status, body: await res.json() as never };
}

/**
 * Opens `url` in Chromium (a top-level navigation, as a user clicking a link) and returns the status. A
 * fresh browser context each time: the CDN's `Cache-Control: immutable` would otherwise let Chromium answer
 * from its own cache without asking the CDN.
 */
async function openInChromium(url: string): Promise<number> {
  const fresh = await browser.newContext();
  try {
    return (await (await fresh.newPage()).goto(url))?.status() ?? 0;
  } finally {
    await fresh.close();
  }
}

beforeAll(async () => {
  stack = await startLocalStack({
    log: () => undefined,
    signer: { now: () => new Date(clock) },
    signedDownloads: { expiresInSeconds: 60 },
  });
  await drain(stack); // the s3:TestEvent
  const upload = await signFor(stack, PNG);
  expect((await putSigned(upload.url, upload.headers!, PNG)).status).toBe(200);
  await stack.flush(); // verified and tagged
  aliceKey = upload.key;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

beforeEach(async () => {
  context = await browser.newContext();
});

afterEach(async () => {
  await context.close();
});

describe('signed delivery (local stack, Chromium)', () => {
  test('an unsigned GET is refused; the URL from POST /downloads is served', async () => {
    expect(await openInChromium(`${stack.cdnUrl}/${aliceKey}`)).toBe(403);
    const { status, body } = await askDownload(aliceKey);
    expect(status).toBe(200);
    expect(body.url).toMatch(new RegExp(`^${stack.cdnUrl}/${aliceKey}\\?Expires=\\d+&Signature=[A-Za-z0-9~_-]+&Key-Pair-Id=KLOCAL0000000001&Hash-Algorithm=SHA256$`));
    expect(Date.parse(body.expiresAt!) - clock).toBeGreaterThan(58_000);
    expect(Date.parse(body.expiresAt!) - clock).toBeLessThanOrEqual(60_000);
    const page = await context.newPage();
    const response = await page.goto(body.url!);
    expect(response?.status()).toBe(200);
    expect(Buffer.from(await response!.body()).equals(PNG)).toBe(true);
  });

  test('an expired signed URL is refused', async () => {
    const { body } = await askDownload(aliceKey);
    expect(await openInChromium(body.url!)).toBe(200);
    clock += 61_000;
    try {
      expect(await openInChromium(body.url!)).toBe(403);
    } finally {
      clock -= 61_000;
    }
  });

  test('another user\'s key: the signer refuses to sign it, and a signature for one key does not open another', async () => {
    const refused = await askDownload(aliceKey, 'bob');
    expect(refused.status).toBe(403);
    expect(refused.body.error?.code).toBe('KEY_NOT_ALLOWED');
    const bobs = await signFor(stack, PNG, {}, 'bob');
    expect((await putSigned(bobs.url, bobs.headers!, PNG)).status).toBe(200);
    await stack.flush();
    const { body } = await askDownload(bobs.key, 'bob');
    expect(await openInChromium(body.url!)).toBe(200);
    expect(await openInChromium(body.url!.replace(bobs.key, aliceKey))).toBe(403);
  });

  test('a URL signed with a key outside the trusted key group is refused; the backend\'s signDownloadUrl is served', async () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const expiresAt = new Date(clock + 60_000);
    const target = { baseUrl: stack.cdnUrl, key: aliceKey, keyPairId: stack.signedDownloads!.keyPairId, expiresAt };
    const forged = signDownloadUrl({ ...target, privateKey: stranger });
    expect(await openInChromium(forged)).toBe(403);
    const backend = signDownloadUrl({ ...target, privateKey: stack.signedDownloads!.privateKeyPem });
    expect(await openInChromium(backend)).toBe(200);
  });

  test('bad input gets 4xx codes: no key, a malformed key, an unknown or unverified object', async () => {
    expect((await askDownload(undefined)).body.error?.code).toBe('INVALID_REQUEST');
    expect((await askDownload(42)).status).toBe(400);
    expect((await askDownload('uploads/alice/../bob/x.png')).status).toBe(403);
    const missing = await askDownload('uploads/alice/00000000-0000-4000-8000-000000000000.png');
    expect(missing).toEqual({ status: 404, body: { error: expect.objectContaining({ code: 'OBJECT_NOT_FOUND' }) } });
    const pending = await signFor(stack, PNG);
    expect((await putSigned(pending.url, pending.headers!, PNG)).status).toBe(200);
    // before the verifier ran: not signed
    const unverified = await askDownload(pending.key);
    expect(unverified).toEqual({ status: 409, body: { error: expect.objectContaining({ code: 'NOT_VERIFIED' }) } });
  });
});

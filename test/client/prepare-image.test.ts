/**
 * `prepareImage` in real Chromium: a phone-like JPEG (written by Chromium's canvas, with a hand-built
 * APP1 Exif segment carrying GPS tags and Orientation=6 spliced in after SOI) comes out rotated, fitted
 * to the box, in the requested type, with no Exif/GPS left; a 24-megapixel photo is scaled down; the
 * prepared bytes pass the verifier, through `uploadFile({ prepare })` and through real Uppy (the
 * README's preprocessor). In Node it refuses with a clear error.
 */
import { Server } from 'node:http';
import { GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { Browser, Page } from 'playwright-core';
import { prepareImage, uploadFile } from '../../src/client';
import { VERIFIED_TAG } from '../../src/contract/queue-message';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import { close } from '../../src/local/net';
import { bundleForBrowser, drain, launchChromium, makePng, servePage } from '../local/helpers';

const ENTRY = `
import Uppy from '@uppy/core';
import AwsS3 from '@uppy/aws-s3';
import { prepareImage, uploadFile } from './src/client';
import { uppyPrepare } from './test/client/readme-snippets';

const toB64 = (blob) => new Promise((resolve) => {
  const reader = new FileReader();
  reader.onload = () => resolve(String(reader.result).split(',')[1]);
  reader.readAsDataURL(blob);
});
const fromB64 = (b64, type, name) => new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name, { type });

/** A JPEG from the canvas: 'halves' = left half red, right half blue; 'photo' = gradients and noise. */
async function drawJpeg(width, height, kind) {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d');
  if (kind === 'halves') {
    ctx.fillStyle = 'rgb(230, 20, 20)'; ctx.fillRect(0, 0, width / 2, height);
    ctx.fillStyle = 'rgb(20, 20, 230)'; ctx.fillRect(width / 2, 0, width / 2, height);
  } else {
    const g = ctx.createLinearGradient(0, 0, width, height);
    g.addColorStop(0, '#3a6'); g.addColorStop(0.5, '#fc3'); g.addColorStop(1, '#36c');
    ctx.fillStyle = g; ctx.fillRect(0, 0, width, height);
    for (let i = 0; i < 20000; i++) {
      ctx.fillStyle = 'hsl(' + (i * 37 % 360) + ', 70%, 50%)';
      ctx.fillRect((i * 7919) % width, (i * 104729) % height, 12, 12);
    }
  }
  return canvas.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
}

async function describeImage(blob) {
  const bitmap = await createImageBitmap(blob);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(bitmap, 0, 0);
  const at = (x, y) => Array.from(ctx.getImageData(Math.floor(x), Math.floor(y), 1, 1).data.slice(0, 3));
  const w = bitmap.width, h = bitmap.height;
  bitmap.close();
  return { width: w, height: h, top: at(w / 2, h / 4), bottom: at(w / 2, (3 * h) / 4), left: at(w / 4, h / 2), right: at((3 * w) / 4, h / 2) };
}

window.api = {
  makeJpeg: async (width, height) => toB64(await drawJpeg(width, height, 'halves')),
  describe: async (b64, type) => describeImage(fromB64(b64, type, 'x')),
  prepare: async (b64, type, name, options, withoutOffscreenCanvas) => {
    const input = fromB64(b64, type, name);
    const Offscreen = globalThis.OffscreenCanvas;
    try {
      if (withoutOffscreenCanvas) globalThis.OffscreenCanvas = undefined; // as in browsers that lack it
      const out = await prepareImage(input, options);
      globalThis.OffscreenCanvas = Offscreen;
      return { same: out === input, name: out.name, type: out.type, b64: await toB64(out), ...(await describeImage(out)) };
    } catch (err) {
      return { error: err.code, message: err.message };
    } finally {
      globalThis.OffscreenCanvas = Offscreen;
    }
  },
  bigPhoto: async (width, height) => {
    const photo = new File([await drawJpeg(width, height, 'photo')], 'IMG_0001.JPG', { type: 'image/jpeg' });
    const started = performance.now();
    const out = await prepareImage(photo, { maxWidth: 2048, maxHeight: 2048 });
    const ms = performance.now() - started;
    return { inputBytes: photo.size, outputBytes: out.size, ms, ...(await describeImage(out)) };
  },
  upload: async (b64, type, name, signerUrl, user, prepare) => {
    const r = await uploadFile(fromB64(b64, type, name), { signerUrl, getAuthHeaders: () => ({ 'x-local-user': user }), prepare });
    return r.key;
  },
  uppy: async (b64, type, name, signerUrl, user) => {
    const uppy = new Uppy();
    uppy.use(AwsS3, {
      shouldUseMultipart: false,
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
    uppyPrepare(uppy); // the README's preprocessor ("Preparing images on the device")
    uppy.addFile({ name, type, data: fromB64(b64, type, name) });
    const result = await uppy.upload();
    return { keys: (result?.successful ?? []).map((f) => f.response?.body?.key), failed: (result?.failed ?? []).map((f) => String(f.error)) };
  },
};
`;

// ---------------------------------------------------------------- the test image's Exif segment

/** Orientation (IFD0 tag 0x0112) and GPSInfo pointer (0x8825) to a GPS IFD with latitude and longitude. */
function exifApp1(orientation: number): Buffer {
  const tiff = Buffer.alloc(140);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4); // IFD0
  const entry = (at: number, tag: number, type: number, count: number, value: (b: Buffer, o: number) => void) => {
    tiff.writeUInt16BE(tag, at);
    tiff.writeUInt16BE(type, at + 2);
    tiff.writeUInt32BE(count, at + 4);
    value(tiff, at + 8);
  };
  tiff.writeUInt16BE(2, 8);
  entry(10, 0x0112, 3, 1, (b, o) => b.writeUInt16BE(orientation, o)); // SHORT
  entry(22, 0x8825, 4, 1, (b, o) => b.writeUInt32BE(38, o)); // LONG: GPS IFD at 38
  tiff.writeUInt32BE(0, 34);
  tiff.writeUInt16BE(4, 38);
  entry(40, 0x0001, 2, 2, (b, o) => b.write('N\0', o, 'latin1')); // GPSLatitudeRef
  entry(52, 0x0002, 5, 3, (b, o) => b.writeUInt32BE(92, o)); // GPSLatitude: 3 RATIONALs at 92
  entry(64, 0x0003, 2, 2, (b, o) => b.write('E\0', o, 'latin1')); // GPSLongitudeRef
  entry(76, 0x0004, 5, 3, (b, o) => b.writeUInt32BE(116, o)); // GPSLongitude: 3 RATIONALs at 116
  tiff.writeUInt32BE(0, 88);
  [[48, 1], [51, 1], [2400, 100], [2, 1], [17, 1], [4000, 100]].forEach(([n, d], i) => {
    tiff.writeUInt32BE(n, 92 + i * 8);
    tiff.writeUInt32BE(d, 96 + i * 8);
  });
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const header = Buffer.from([0xff, 0xe1, 0, 0]);
  header.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([header, body]);
}

/** The JPEG's marker segments before the scan (SOI … SOS). */
function jpegMarkers(jpeg: Buffer): number[] {
  expect([jpeg[0], jpeg[1]]).toEqual([0xff, 0xd8]);
  const markers: number[] = [];
  for (let at = 2; at + 4 <= jpeg.length;) {
    expect(jpeg[at]).toBe(0xff);
    const marker = jpeg[at + 1];
    markers.push(marker);
    if (marker === 0xda) break;
    at += 2 + jpeg.readUInt16BE(at + 2);
  }
  return markers;
}

const APP1 = 0xe1;
const GPS_LATITUDE = Buffer.from([0x00, 0x02, 0x00, 0x05, 0, 0, 0, 3]);

interface Prepared {
  same: boolean;
  name: string;
  type: string;
  b64: string;
  width: number;
  height: number;
  top: number[];
  bottom: number[];
  left: number[];
  right: number[];
  error?: string;
  message?: string;
}

const near = (rgb: number[], target: number[]) => rgb.every((v, i) => Math.abs(v - target[i]) < 40);
const RED = [230, 20, 20];
const BLUE = [20, 20, 230];

let stack: LocalStack;
let pageServer: Server;
let pageUrl: string;
let browser: Browser;
let tab: Page;
let phone: Buffer; // 64×32 as stored, Orientation=6 (shown 32×64), GPS tags

async function api<T>(name: string, ...args: unknown[]): Promise<T> {
  return tab.evaluate(
    ([fn, rest]) => (globalThis as unknown as { api: Record<string, (...a: unknown[]) => Promise<T>> }).api[fn as string](...(rest as unknown[])),
    [name, args] as const,
  );
}

beforeAll(async () => {
  ({ server: pageServer, url: pageUrl } = await servePage(await bundleForBrowser(ENTRY, 'ts'), 'prepare'));
  stack = await startLocalStack({
    allowedOrigins: [pageUrl],
    log: () => undefined,
    policy: { allowedContentTypes: ['image/jpeg', 'image/webp', 'image/png'], maxFileSize: 20 * 1024 * 1024 },
  });
  browser = await launchChromium();
  tab = await browser.newPage();
  await tab.goto(`${pageUrl}/`);
  await tab.waitForFunction('typeof window.api === "object"');
  const plain = Buffer.from(await api<string>('makeJpeg', 64, 32), 'base64');
  expect(jpegMarkers(plain)).not.toContain(APP1); // Chromium's encoder writes JFIF only
  phone = Buffer.concat([plain.subarray(0, 2), exifApp1(6), plain.subarray(2)]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (pageServer) await close(pageServer);
});

afterEach(async () => {
  await stack.flush();
  await drain(stack);
});

test('the test photo really carries GPS and Orientation=6: Chromium shows it rotated, 32×64, red on top', async () => {
  expect(jpegMarkers(phone)).toContain(APP1);
  expect(phone.includes(GPS_LATITUDE)).toBe(true);
  const shown = await api<Prepared>('describe', phone.toString('base64'), 'image/jpeg');
  expect([shown.width, shown.height]).toEqual([32, 64]);
  expect(near(shown.top, RED) && near(shown.bottom, BLUE)).toBe(true);
});

test.each([
  ['image/jpeg', 'with OffscreenCanvas', '.jpg', false],
  ['image/webp', 'with OffscreenCanvas', '.webp', false],
  ['image/jpeg', 'with a canvas element', '.jpg', true],
])('to %s, %s: rotated by its orientation, fitted in the box, no Exif or GPS left', async (type, _how, ext, withoutOffscreen) => {
  const out = await api<Prepared>('prepare', phone.toString('base64'), 'image/jpeg', 'IMG_1234.JPG', { maxWidth: 20, maxHeight: 30, type }, withoutOffscreen);
  expect(out.error).toBeUndefined();
  expect([out.type, out.name]).toEqual([type, `IMG_1234${ext}`]);
  // 32×64 as shown, scaled by min(20/32, 30/64): 15×30.
  expect([out.width, out.height]).toEqual([15, 30]);
  expect(near(out.top, RED) && near(out.bottom, BLUE)).toBe(true);
  const bytes = Buffer.from(out.b64, 'base64');
  if (type === 'image/jpeg') expect(jpegMarkers(bytes)).not.toContain(APP1);
  else expect(bytes.subarray(0, 4).toString('latin1') + bytes.subarray(8, 12).toString('latin1')).toBe('RIFFWEBP');
  for (const trace of ['Exif', 'EXIF', 'XMP', 'http://ns.adobe.com']) expect(bytes.includes(Buffer.from(trace, 'latin1'))).toBe(false);
  expect(bytes.includes(GPS_LATITUDE)).toBe(false);
});

test('a small image that fits and keeps its type is left alone; stripMetadata re-encodes it; nothing is upscaled', async () => {
  const alone = await api<Prepared>('prepare', phone.toString('base64'), 'image/jpeg', 'a.jpg', {});
  expect(alone.same).toBe(true);
  const stripped = await api<Prepared>('prepare', phone.toString('base64'), 'image/jpeg', 'a.jpg', { stripMetadata: true });
  expect(stripped.same).toBe(false);
  expect([stripped.width, stripped.height]).toEqual([32, 64]);
  expect(jpegMarkers(Buffer.from(stripped.b64, 'base64'))).not.toContain(APP1);
  const png = await api<Prepared>('prepare', makePng(24, 16).toString('base64'), 'image/png', 'b.png', { type: 'image/jpeg', maxWidth: 4000 });
  expect([png.type, png.width, png.height]).toEqual(['image/jpeg', 24, 16]);
});

test('what the browser cannot decode, or a type it cannot encode, is refused with a clear error', async () => {
  const html = Buffer.from('<script>alert(1)</script>').toString('base64');
  expect(await api<Prepared>('prepare', html, 'image/jpeg', 'x.jpg', {}))
    .toMatchObject({ error: 'IMAGE_NOT_DECODABLE', message: expect.stringContaining('x.jpg (image/jpeg) cannot be decoded') });
  expect(await api<Prepared>('prepare', phone.toString('base64'), 'image/jpeg', 'x.jpg', { type: 'image/gif' }))
    .toMatchObject({ error: 'INVALID_REQUEST', message: expect.stringContaining('type must be one of image/jpeg, image/webp, image/png') });
});

test('a 24-megapixel photo is scaled to 2048 px without running out of memory', async () => {
  const out = await api<{ inputBytes: number; outputBytes: number; ms: number; width: number; height: number }>('bigPhoto', 6000, 4000);
  expect([out.width, out.height]).toEqual([2048, 1365]);
  expect(out.outputBytes).toBeLessThan(out.inputBytes);
  // eslint-disable-next-line no-console
  console.log(`24 MP JPEG: ${out.inputBytes} → ${out.outputBytes} bytes in ${Math.round(out.ms)} ms`);
}, 60_000);

async function verifiedWithoutExif(key: string, type: string): Promise<void> {
  await stack.flush();
  const { TagSet } = await stack.s3.send(new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: key }));
  expect(TagSet).toEqual(expect.arrayContaining([{ Key: VERIFIED_TAG, Value: 'true' }]));
  const object = await stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
  expect(object.ContentType).toBe(type);
  const stored = Buffer.from(await object.Body!.transformToByteArray());
  expect(stored.includes(GPS_LATITUDE) || stored.includes(Buffer.from('Exif', 'latin1'))).toBe(false);
}

test('uploadFile({ prepare }) signs the prepared size and type; the verifier passes the bytes', async () => {
  const key = await api<string>('upload', phone.toString('base64'), 'image/jpeg', 'IMG_1234.JPG', stack.signerUrl, 'pat', { type: 'image/webp', stripMetadata: true });
  expect(key).toMatch(/^uploads\/pat\/[0-9a-f-]{36}\.webp$/);
  const head = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }));
  expect(head.ContentLength).toBeLessThan(phone.length);
  await verifiedWithoutExif(key, 'image/webp');
});

test('with real Uppy: the README\'s preprocessor prepares the photo, Uppy uploads it, the verifier passes it', async () => {
  const result = await api<{ keys: string[]; failed: string[] }>('uppy', phone.toString('base64'), 'image/jpeg', 'IMG_1234.JPG', stack.signerUrl, 'quinn');
  expect(result.failed).toEqual([]);
  expect(result.keys).toEqual([expect.stringMatching(/^uploads\/quinn\/[0-9a-f-]{36}\.webp$/)]);
  await verifiedWithoutExif(result.keys[0], 'image/webp');
});

test('in Node, prepareImage and uploadFile({ prepare }) refuse before anything is signed', async () => {
  await expect(prepareImage(new Blob([phone], { type: 'image/jpeg' }))).rejects.toMatchObject({ code: 'UNSUPPORTED_RUNTIME' });
  const calls: string[] = [];
  const counting: typeof fetch = (input, init) => {
    calls.push(String(input));
    return fetch(input, init);
  };
  await expect(uploadFile(new Blob([phone], { type: 'image/jpeg' }), { signerUrl: stack.signerUrl, prepare: {}, fetch: counting }))
    .rejects.toMatchObject({ code: 'UNSUPPORTED_RUNTIME' });
  expect(calls).toEqual([]);
});

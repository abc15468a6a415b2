/**
 * End-to-end on the local stack: `POST /uploads/status` and the client's `waitUntilVerified` against the
 * real signer, the S3 stand-in (versions, delete markers, ListObjectVersions) and the real verifier.
 */
import { makePng, putSigned, signFor } from './helpers';
import { uploadFile, UploadError } from '../../src/client';
import { LOCAL_USER_HEADER } from '../../src/local/http-api';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import { HTML, makeJpeg } from '../verifier/samples';

async function status(stack: LocalStack, key: string, user = 'alice') {
  const res = await fetch(`${stack.signerUrl}/uploads/status`, {
    method: 'POST', headers: { 'content-type': 'application/json', [LOCAL_USER_HEADER]: user }, body: JSON.stringify({ key }),
  });
  return { status: res.status, body: await res.json() as any };
}

async function upload(stack: LocalStack, body: Buffer, contentType = 'image/png'): Promise<string> {
  const signed = await signFor(stack, body, { contentType });
  const put = await putSigned(signed.url, signed.headers ?? {}, body);
  if (put.status !== 200) throw new Error(`upload failed: ${put.status} ${put.text}`);
  return signed.key;
}

describe('with the verifier', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ log: () => undefined });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('a verified upload reads verified with its public URL', async () => {
    const png = makePng(4, 4);
    const key = await upload(stack, png);
    await stack.flush();
    expect(await status(stack, key)).toEqual({
      status: 200, body: { key, state: 'verified', contentType: 'image/png', publicUrl: `${stack.cdnUrl}/${key}` },
    });
  });

  test('a rejected upload reads rejected with the verifier\'s reason, after the object was deleted', async () => {
    const key = await upload(stack, makeJpeg());
    await stack.flush();
    const res = await fetch(`${stack.cdnUrl}/${key}`);
    expect(res.status).not.toBe(200);
    expect(await status(stack, key)).toEqual({ status: 200, body: { key, state: 'rejected', reason: expect.stringMatching(/^CONTENT_MISMATCH: .+/) } });
  });

  test('another caller\'s key is 403 KEY_NOT_ALLOWED; a key never uploaded is 404 UPLOAD_NOT_FOUND', async () => {
    const key = await upload(stack, makePng(2, 2));
    expect(await status(stack, key, 'mallory')).toMatchObject({ status: 403, body: { error: { code: 'KEY_NOT_ALLOWED' } } });
    const signed = await signFor(stack, makePng(2, 2));
    expect(await status(stack, signed.key)).toMatchObject({ status: 404, body: { error: { code: 'UPLOAD_NOT_FOUND' } } });
  });

  test('uploadFile with waitUntilVerified resolves once verified, and rejects with UPLOAD_REJECTED and the reason otherwise', async () => {
    const options = { signerUrl: stack.signerUrl, getAuthHeaders: () => ({ [LOCAL_USER_HEADER]: 'alice' }), waitUntilVerified: true, timeout: 10_000 };
    const png = makePng(3, 3);
    const done = await uploadFile(png, { ...options, contentType: 'image/png' });
    expect((await status(stack, done.key)).body.state).toBe('verified');

    const refused = await uploadFile(HTML, { ...options, contentType: 'image/png' }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(UploadError);
    expect(refused).toMatchObject({ code: 'UPLOAD_REJECTED', message: expect.stringMatching(/^ACTIVE_CONTENT: /) });
  });
});

describe('without the verifier', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ log: () => undefined, verifyUploads: false });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('a stored upload stays pending; waitUntilVerified gives up with VERIFY_TIMEOUT, and an abort ends the wait', async () => {
    const png = makePng(2, 3);
    const key = await upload(stack, png);
    expect(await status(stack, key)).toEqual({ status: 200, body: { key, state: 'pending', contentType: 'image/png' } });

    const options = { signerUrl: stack.signerUrl, getAuthHeaders: () => ({ [LOCAL_USER_HEADER]: 'alice' }), contentType: 'image/png', waitUntilVerified: true };
    const started = Date.now();
    await expect(uploadFile(png, { ...options, timeout: 600 })).rejects.toMatchObject({ code: 'VERIFY_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(5000);

    const controller = new AbortController();
    const waiting = uploadFile(png, { ...options, timeout: 60_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

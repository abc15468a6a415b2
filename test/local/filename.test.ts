/**
 * End-to-end on the local stack: the original filename is signed as user metadata on the PUT and POST form
 * paths (S3 refuses another value), round-trips in any Unicode into the verified queue message, and names
 * the download in `Content-Disposition`.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { drain, makePng, putSigned, recordsOf, signFor } from './helpers';
import { decodeFilename, encodeFilename, sanitizeFilename } from '../../src/contract/filename';
import { DEFAULT_ALLOWED_CONTENT_TYPES } from '../../src/contract/upload-rules';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import { makePdf } from '../verifier/samples';

const NAME = 'Фото 東京 #1 + ü.jpg';
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ log: () => undefined, policy: { allowedContentTypes: [...DEFAULT_ALLOWED_CONTENT_TYPES, 'application/pdf'] } });
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(async () => {
  await stack.flush();
  await drain(stack);
});

async function cdnGet(key: string) {
  const res = await fetch(`${stack.cdnUrl}/${key}`);
  await res.arrayBuffer();
  return { status: res.status, disposition: res.headers.get('content-disposition') };
}

test('the encoding is plain ASCII, RFC 8187 value-chars, and round-trips a Unicode name', () => {
  const encoded = encodeFilename(NAME)!;
  expect(encoded).toBe('%D0%A4%D0%BE%D1%82%D0%BE%20%E6%9D%B1%E4%BA%AC%20#1%20+%20%C3%BC.jpg');
  expect(decodeFilename(encoded)).toBe(NAME);
  expect(sanitizeFilename('../..\\evil\u202e/\u0000 .hidden')).toBe('hidden');
  expect(decodeFilename('%ZZ')).toBeUndefined();
  expect(encodeFilename('é'.repeat(400))!.length).toBeLessThanOrEqual(1024);
});

test('PUT: signed as x-amz-meta-filename; S3 stores it; the queue message carries the decoded name', async () => {
  const png = makePng(4, 4);
  const signed = await signFor(stack, png, { filename: NAME });
  expect(signed.headers).toMatchObject({ 'x-amz-meta-filename': encodeFilename(NAME) });
  expect(signed.url).toContain('x-amz-meta-filename');
  expect((await putSigned(signed.url, signed.headers ?? {}, png)).status).toBe(200);
  const head = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: signed.key }));
  expect(decodeFilename(head.Metadata?.filename)).toBe(NAME);

  await stack.flush();
  const records = recordsOf(await drain(stack));
  expect(records.map((r) => (r as any).verification.filename)).toEqual([NAME]);
});

test('PUT: a tampered filename header is refused by S3 (it is signed), and nothing is stored', async () => {
  const png = makePng(4, 4);
  const signed = await signFor(stack, png, { filename: NAME });
  const put = await putSigned(signed.url, { ...signed.headers, 'x-amz-meta-filename': 'other.jpg' }, png);
  expect([put.status, put.code]).toEqual([403, 'SignatureDoesNotMatch']);
  expect((await cdnGet(signed.key)).status).not.toBe(200);
});

test('POST form: the filename is a field pinned by an eq condition; another value is refused', async () => {
  const png = makePng(3, 3);
  const signed = await signFor(stack, png, { method: 'POST', filename: NAME });
  const post = async (fields: Record<string, string>) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.set(name, value);
    form.set('file', new Blob([png], { type: 'image/png' }));
    return (await fetch(signed.url, { method: 'POST', body: form })).status;
  };
  expect(await post({ ...signed.fields, 'x-amz-meta-filename': 'other.jpg' })).toBe(403);
  expect(await post({ ...signed.fields! })).toBe(204);
  await stack.flush();
  expect(recordsOf(await drain(stack)).map((r) => (r as any).verification.filename)).toEqual([NAME]);
});

test('a download (non-inline type) is served as attachment; filename*=UTF-8\'\'<the original name>', async () => {
  const pdf = makePdf();
  const signed = await signFor(stack, pdf, { contentType: 'application/pdf', filename: 'Отчёт 2026.pdf' });
  expect((await putSigned(signed.url, signed.headers ?? {}, pdf)).status).toBe(200);
  await stack.flush();
  const served = await cdnGet(signed.key);
  expect(served).toEqual({ status: 200, disposition: `attachment; filename*=UTF-8''${encodeFilename('Отчёт 2026.pdf')}` });
  expect(decodeURIComponent(served.disposition!.split("''")[1])).toBe('Отчёт 2026.pdf');
});

/**
 * App context metadata end to end on the local stack (S3 stand-in verifying SigV4 and POST policies,
 * the real signer and verifier): on every path the allow-listed keys and the filename are stored as
 * signed user metadata, S3 refuses an upload that alters, drops or adds one, and the verified queue
 * message (and the worker's view of it) carries them decoded; the verifier rejects stored user metadata
 * beyond the allow-list, and its rejection record carries the filename and metadata.
 */
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { drain, makePng, objectExists, putSigned, recordsOf, requestUpload, signFor } from './helpers';
import { uppySigner } from '../../src/client';
import { encodeFilename } from '../../src/contract/filename';
import { encodeMetadataValue } from '../../src/contract/metadata';
import type { CompletedUpload, MultipartUploadPlan, PresignedUpload } from '../../src/contract/signer-protocol';
import { LOCAL_USER_HEADER } from '../../src/local/http-api';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import { parseUploadMessages } from '../../src/worker';

const MIB = 1024 * 1024;
const ORIGIN = 'https://app.example.com';
const NAME = 'Фото 東京 #1 + ü.pdf';
const CAPTION = 'Ünïcode ✓ 東京, 100% "quoted"';
const META = { 'album-id': '42', 'caption': CAPTION };
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    log: () => undefined,
    allowedOrigins: [ORIGIN],
    metadataKeys: ['album-id', 'caption'],
    policy: { allowedContentTypes: ['image/png', 'application/pdf'], maxFileSize: 20 * MIB, multipartThreshold: 6 * MIB, partSize: 5 * MIB },
  });
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(async () => {
  await stack.flush();
  await drain(stack);
  await drain(stack, stack.rejectionQueueUrl);
});

/** A PDF of `size` bytes the verifier accepts (signature and `%%EOF`). */
function pdf(size: number): Buffer {
  const head = Buffer.from('%PDF-1.4\n', 'latin1');
  const tail = Buffer.from('\n%%EOF\n', 'latin1');
  return Buffer.concat([head, Buffer.alloc(size - head.length - tail.length, 0x61), tail]);
}

/** The stored user metadata of a key (names without `x-amz-meta-`), as S3 returns it. */
async function storedMetadata(key: string): Promise<Record<string, string> | undefined> {
  return (await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }))).Metadata;
}

const ENCODED = { 'filename': encodeFilename(NAME)!, 'album-id': '42', 'caption': encodeMetadataValue(CAPTION) };

/** The verified message of one upload: its `verification` and the worker's parse of it. */
async function announced() {
  await stack.flush();
  const messages = await drain(stack);
  const records = recordsOf(messages) as Array<{ verification?: { filename?: string; metadata?: Record<string, string> } }>;
  const uploads = parseUploadMessages({ Records: messages.map((m) => ({ messageId: m.MessageId!, body: m.Body! })) })
    .flatMap((m) => (m.ok ? m.uploads : []));
  return { verifications: records.map((r) => r.verification), uploads };
}

async function expectAnnouncedWithMetadata(): Promise<void> {
  const { verifications, uploads } = await announced();
  expect(verifications).toEqual([expect.objectContaining({ status: 'verified', filename: NAME, metadata: META })]);
  expect(uploads.map((u) => [u.filename, u.metadata])).toEqual([[NAME, META]]);
}

describe('single PUT', () => {
  const sign = () => signFor(stack, makePng(4, 4), { filename: NAME, metadata: META });

  test('stored as signed x-amz-meta-*; the queue message and the worker carry it decoded', async () => {
    const png = makePng(4, 4);
    const signed = await signFor(stack, png, { filename: NAME, metadata: META });
    expect((await putSigned(signed.url, signed.headers!, png)).status).toBe(200);
    expect(await storedMetadata(signed.key)).toEqual({ ...ENCODED, filename: encodeFilename(NAME) });
    await expectAnnouncedWithMetadata();
    // For the workers, not for whoever fetches the file: the CDN serves no x-amz-meta-*.
    const served = await fetch(`${stack.cdnUrl}/${signed.key}`);
    await served.arrayBuffer();
    expect([served.status, [...served.headers.keys()].filter((h) => h.startsWith('x-amz-meta-'))]).toEqual([200, []]);
  });

  test.each([
    ['an altered value', (h: Record<string, string>) => ({ ...h, 'x-amz-meta-album-id': '43' }), 'SignatureDoesNotMatch'],
    ['a dropped value', ({ 'x-amz-meta-caption': _, ...h }: Record<string, string>) => h, 'SignatureDoesNotMatch'],
    ['an extra unsigned x-amz-meta-*', (h: Record<string, string>) => ({ ...h, 'x-amz-meta-owner': 'mallory' }), 'AccessDenied'],
  ])('%s is refused by S3, and nothing is stored', async (_, change, code) => {
    const signed = await sign();
    const put = await putSigned(signed.url, change(signed.headers!), makePng(4, 4));
    expect([put.status, put.code]).toEqual([403, code]);
    if (code === 'AccessDenied') expect(put.text).toContain('<HeadersNotSigned>x-amz-meta-owner</HeadersNotSigned>');
    expect(await objectExists(stack, signed.key)).toBe(false);
  });

  test('a browser may send the signed headers: the bucket\'s CORS rule allows x-amz-meta-<key> for each allow-listed key', async () => {
    const signed = await sign();
    const preflight = await fetch(signed.url, {
      method: 'OPTIONS',
      headers: { 'origin': ORIGIN, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type,if-none-match,x-amz-meta-album-id,x-amz-meta-caption,x-amz-meta-filename' },
    });
    expect(preflight.status).toBe(200);
    const other = await fetch(signed.url, {
      method: 'OPTIONS',
      headers: { 'origin': ORIGIN, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-amz-meta-owner' },
    });
    expect(other.status).toBe(403);
  });

  test('a key outside the allow-list is refused by the signer (400), nothing signed', async () => {
    const res = await requestUpload(stack, { contentType: 'image/png', size: 10, metadata: { owner: 'x' } });
    expect([res.status, res.body.error?.code]).toEqual([400, 'METADATA_NOT_ALLOWED']);
  });
});

describe('POST form', () => {
  async function post(fields: Record<string, string>, body: Buffer): Promise<number> {
    const signed = fields;
    const form = new FormData();
    for (const [name, value] of Object.entries(signed)) form.set(name, value);
    form.set('file', new Blob([body], { type: 'image/png' }));
    return (await fetch(`${stack.s3Endpoint}/${stack.bucket}/`, { method: 'POST', body: form })).status;
  }

  test('each key is a field pinned by its policy: altered, dropped or extra fields are refused; the exact form is stored', async () => {
    const png = makePng(3, 3);
    const signed = await signFor(stack, png, { method: 'POST', filename: NAME, metadata: META });
    const fields = signed.fields!;
    const { 'x-amz-meta-caption': _, ...dropped } = fields;
    expect(await post({ ...fields, 'x-amz-meta-album-id': '43' }, png)).toBe(403);
    expect(await post(dropped, png)).toBe(403);
    expect(await post({ ...fields, 'x-amz-meta-owner': 'mallory' }, png)).toBe(403);
    expect(await objectExists(stack, signed.key)).toBe(false);
    expect(await post(fields, png)).toBe(204);
    expect(await storedMetadata(signed.key)).toEqual(ENCODED);
    await expectAnnouncedWithMetadata();
  });
});

describe('native multipart', () => {
  const call = async <T>(path: string, body: unknown) => {
    const res = await fetch(`${stack.signerUrl}${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json', [LOCAL_USER_HEADER]: 'alice' }, body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() as T };
  };

  test('the signer creates the upload with the metadata; a part cannot add unsigned metadata; the completed object carries it', async () => {
    const bytes = pdf(6 * MIB + 100);
    const plan = (await call<MultipartUploadPlan>('/uploads', { contentType: 'application/pdf', size: bytes.length, filename: NAME, metadata: META })).body;
    expect(plan.partCount).toBe(2);
    const [first, second] = plan.parts;
    const extra = await fetch(first.url, { method: 'PUT', headers: { 'x-amz-meta-owner': 'mallory' }, body: bytes.subarray(0, first.size) });
    expect([extra.status, /<Code>([^<]+)/.exec(await extra.text())?.[1]]).toEqual([403, 'AccessDenied']);
    expect((await fetch(first.url, { method: 'PUT', body: bytes.subarray(0, first.size) })).status).toBe(200);
    expect((await fetch(second.url, { method: 'PUT', body: bytes.subarray(first.size) })).status).toBe(200);
    expect((await call<CompletedUpload>('/uploads/multipart/complete', { key: plan.key, uploadId: plan.uploadId })).status).toBe(200);
    expect(await storedMetadata(plan.key)).toEqual(ENCODED);
    await expectAnnouncedWithMetadata();
  });
});

describe('Uppy (uppySigner\'s signRequest, then the requests Uppy makes)', () => {
  const signer = () => uppySigner({ signerUrl: stack.signerUrl, getAuthHeaders: () => ({ [LOCAL_USER_HEADER]: 'alice' }), partSize: 5 * MIB, multipartThreshold: 6 * MIB, metadata: META });

  test('PutObject: filename and metadata are fields of the POST policy; an altered one is refused, the exact form stored', async () => {
    const s = signer();
    const png = makePng(5, 5);
    const handle = s.generateObjectKey({ name: NAME.replace('.pdf', '.png'), type: 'image/png', size: png.length });
    const signed = await s.signRequest({ method: 'PUT', key: handle, contentType: 'image/png' });
    const fields = signed.fields!;
    expect(fields).toMatchObject({ 'x-amz-meta-filename': encodeFilename(NAME.replace('.pdf', '.png')), 'x-amz-meta-album-id': '42' });
    const send = async (f: Record<string, string>) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(f)) form.set(name, value);
      form.set('file', new Blob([png], { type: 'image/png' }));
      return (await fetch(signed.url, { method: 'POST', body: form })).status;
    };
    expect(await send({ ...fields, 'x-amz-meta-filename': 'other.png' })).toBe(403);
    expect(await send(fields)).toBe(204);
    expect(await storedMetadata(signed.key!)).toEqual({ ...ENCODED, filename: encodeFilename(NAME.replace('.pdf', '.png')) });
    const { verifications } = await announced();
    expect(verifications).toEqual([expect.objectContaining({ filename: NAME.replace('.pdf', '.png'), metadata: META })]);
  });

  test('CreateMultipartUpload: filename and metadata are signed headers; altered, dropped or extra ones are refused; the completed object carries them', async () => {
    const s = signer();
    const bytes = pdf(6 * MIB + 100);
    const handle = s.generateObjectKey({ name: NAME, type: 'application/pdf', size: bytes.length });
    const signed = await s.signRequest({ method: 'POST', key: handle });
    const headers = signed.headers!;
    expect(headers).toMatchObject({ 'x-amz-meta-filename': encodeFilename(NAME), 'x-amz-meta-album-id': '42' });
    const open = async (h: Record<string, string>) => {
      const res = await fetch(signed.url, { method: 'POST', headers: h });
      const text = await res.text();
      return { status: res.status, code: /<Code>([^<]+)/.exec(text)?.[1], uploadId: /<UploadId>([^<]+)<\/UploadId>/.exec(text)?.[1] };
    };
    const { 'x-amz-meta-filename': _, ...dropped } = headers;
    expect(await open({ ...headers, 'x-amz-meta-album-id': '43' })).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    expect(await open(dropped)).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    expect(await open({ ...headers, 'x-amz-meta-owner': 'mallory' })).toMatchObject({ status: 403, code: 'AccessDenied' });
    const created = await open(headers);
    expect(created.status).toBe(200);
    const key = signed.key!;
    const uploadId = created.uploadId!;
    const etags: Array<{ PartNumber: number; ETag: string }> = [];
    for (const [partNumber, body] of [[1, bytes.subarray(0, 5 * MIB)], [2, bytes.subarray(5 * MIB)]] as const) {
      const part = await s.signRequest({ method: 'PUT', key, uploadId, partNumber });
      const res = await fetch(part.url, { method: 'PUT', body });
      expect(res.status).toBe(200);
      etags.push({ PartNumber: partNumber, ETag: res.headers.get('etag')! });
    }
    const complete = await s.signRequest({ method: 'POST', key, uploadId });
    const xml = `<CompleteMultipartUpload>${etags.map((p) => `<Part><PartNumber>${p.PartNumber}</PartNumber><ETag>${p.ETag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    expect((await fetch(complete.url, { method: 'POST', headers: complete.headers, body: xml })).status).toBe(200);
    expect(await storedMetadata(key)).toEqual(ENCODED);
    await expectAnnouncedWithMetadata();
  });
});

describe('the verifier', () => {
  test('rejects stored user metadata beyond the allow-list (UNEXPECTED_HEADERS); the rejection record carries filename and metadata', async () => {
    // Written with the stand-in's own full credentials: what a presigned request can no longer do.
    const key = 'uploads/alice/0b6f8a4e-3c1d-4f2a-9e7b-5d6c4b3a2f10.png';
    await stack.s3.send(new PutObjectCommand({
      Bucket: stack.bucket,
      Key: key,
      Body: makePng(2, 2),
      ContentType: 'image/png',
      Metadata: { ...ENCODED, owner: 'mallory' },
    }));
    await stack.flush();
    expect(recordsOf(await drain(stack))).toEqual([]);
    const rejections = (await drain(stack, stack.rejectionQueueUrl)).map((m) => JSON.parse(m.Body!));
    expect(rejections).toEqual([expect.objectContaining({
      rejection: { code: 'UNEXPECTED_HEADERS', message: expect.stringContaining('x-amz-meta-owner') },
      key,
      filename: NAME,
      metadata: META,
    })]);
    expect(rejections[0].rejection.message).not.toContain('x-amz-meta-caption');
  });
});

test('a signed PUT body for a key without metadata keeps working (no x-amz-meta-* signed)', async () => {
  const png = makePng(2, 2);
  const signed: PresignedUpload = await signFor(stack, png);
  expect(Object.keys(signed.headers!).filter((h) => h.startsWith('x-amz-meta-'))).toEqual([]);
  expect((await putSigned(signed.url, signed.headers!, png)).status).toBe(200);
});

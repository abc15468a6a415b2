/**
 * `POST /uppy/sign` and the multipart routes as pure handler calls (an in-memory MultipartStore stands
 * in for S3; the local-stack tests run the same routes against the S3 stand-in): what each Uppy
 * operation gets signed, and every malformed request refused with a code, a message, and no URL.
 */
import {
  call, CallResult, computeSigV4Signature, DEFAULT_ARN, errorOf, iamAuthorizer, makeEvent, PNG_UUID, queryParams,
  TEST_BUCKET, TEST_NOW, TEST_REGION, TEST_SECRET_ACCESS_KEY, testConfig, verifyPostPolicy,
} from './helpers';
import { SignerPolicy } from '../../src/contract/upload-rules';
import { createSignerHandler } from '../../src/signer/handler';
import { scopeForIdentity } from '../../src/signer/identity';
import { ListedPart, MultipartStore, partLayout, partLength, maxPartNumber } from '../../src/signer/multipart';

const MIB = 1024 * 1024;
const SCOPE = scopeForIdentity(DEFAULT_ARN);
const KEY = `uploads/${SCOPE}/${PNG_UUID}.png`;
/** A 25 MiB PNG in 5 MiB chunks: 5 parts. */
const LAYOUT_PNG_KEY = `uploads/${SCOPE}/${PNG_UUID}_${25 * MIB}_${5 * MIB}.png`;
/** The key the signer gives a 12 MiB + 7 B PDF sent in 5 MiB chunks: the layout is in the key. */
const LAYOUT_PDF_KEY = `uploads/${SCOPE}/${PNG_UUID}_${12 * MIB + 7}_${5 * MIB}.pdf`;

/** An in-memory S3 for multipart: uploads by id, with their key and parts. */
function memoryStore() {
  const uploads = new Map<string, { key: string; parts: ListedPart[] }>();
  const calls: string[] = [];
  let next = 1;
  const store: MultipartStore = {
    async create(key, contentType) {
      calls.push(`create ${key} ${contentType}`);
      const id = `upload-${next++}`;
      uploads.set(id, { key, parts: [] });
      return id;
    },
    async listParts(key, uploadId) {
      calls.push(`list ${uploadId}`);
      const u = uploads.get(uploadId);
      return u && u.key === key ? [...u.parts] : undefined;
    },
    async listUploads(key) {
      calls.push(`uploads ${key}`);
      return [...uploads.entries()].filter(([, u]) => u.key === key).map(([id]) => id);
    },
    async complete(_key, uploadId, parts, size) {
      calls.push(`complete ${uploadId} ${parts.length} ${size}`);
      uploads.delete(uploadId);
    },
    async abort(key, uploadId) {
      calls.push(`abort ${uploadId}`);
      const u = uploads.get(uploadId);
      if (!u || u.key !== key) return false;
      uploads.delete(uploadId);
      return true;
    },
    async storedSize(key) {
      calls.push(`stored ${key}`);
      return undefined;
    },
  };
  return { store, uploads, calls };
}

function setup(policy: Partial<SignerPolicy> = {}) {
  const memory = memoryStore();
  const handler = createSignerHandler(testConfig({}, { allowedContentTypes: ['image/png', 'application/pdf'], ...policy }), {
    now: () => TEST_NOW, randomUUID: () => PNG_UUID, log: () => undefined, multipartStore: memory.store,
  });
  const sign = (body: unknown, path = '/uppy/sign') =>
    call(handler, makeEvent({ path, body, authorizer: iamAuthorizer(DEFAULT_ARN) }));
  return { ...memory, sign };
}

function refused(result: CallResult, status: number, code: string): void {
  expect({ status: result.status, code: errorOf(result).code }).toEqual({ status, code });
  expect(errorOf(result).message.length).toBeGreaterThan(10);
  expect(result.rawBody).not.toMatch(/https?:\/\/|X-Amz-/);
}

describe('Uppy operations', () => {
  test('PutObject: a POST policy for the server\'s key, the exact type, 1 byte to maxFileSize', async () => {
    const { sign } = setup();
    const res = await sign({ method: 'PUT', key: 'a1b2-my photo.png', contentType: 'image/png' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ url: `https://${TEST_BUCKET}.s3.${TEST_REGION}.amazonaws.com/`, key: KEY });
    const fields = res.body.fields as Record<string, string>;
    expect(fields.key).toBe(KEY);
    const policy = verifyPostPolicy(fields, { secretAccessKey: TEST_SECRET_ACCESS_KEY, region: TEST_REGION, bucket: TEST_BUCKET, now: TEST_NOW });
    expect(policy.conditions).toEqual(expect.arrayContaining([
      { key: KEY }, { 'Content-Type': 'image/png' }, ['content-length-range', 1, 25 * MIB],
    ]));
    expect(policy.expiration).toBe('2024-05-06T07:13:09.000Z');
  });

  test('expiresIn may shorten the lifetime, never lengthen it', async () => {
    const { sign } = setup();
    const short = await sign({ method: 'PUT', key: 'x.png', contentType: 'image/png', expiresIn: 60 });
    const long = await sign({ method: 'PUT', key: 'x.png', contentType: 'image/png', expiresIn: 86_400 });
    const expiration = (r: CallResult) => verifyPostPolicy(r.body.fields as Record<string, string>,
      { secretAccessKey: TEST_SECRET_ACCESS_KEY, region: TEST_REGION, bucket: TEST_BUCKET, now: TEST_NOW }).expiration;
    expect([expiration(short), expiration(long)]).toEqual(['2024-05-06T07:09:09.000Z', '2024-05-06T07:13:09.000Z']);
  });

  test('PutObject with uppySigner\'s size: the POST policy pins that exact length; above maxFileSize, 413 and nothing signed', async () => {
    const { sign } = setup();
    const res = await sign({ method: 'PUT', key: 'a1b2-photo.png', contentType: 'image/png', size: 4321, filename: 'photo.png' });
    expect(res.status).toBe(200);
    const policy = verifyPostPolicy(res.body.fields as Record<string, string>,
      { secretAccessKey: TEST_SECRET_ACCESS_KEY, region: TEST_REGION, bucket: TEST_BUCKET, now: TEST_NOW });
    expect(policy.conditions).toEqual(expect.arrayContaining([['content-length-range', 4321, 4321]]));
    refused(await sign({ method: 'PUT', key: 'x.png', contentType: 'image/png', size: 25 * MIB + 1 }), 413, 'FILE_TOO_LARGE');
  });

  test('CreateMultipartUpload: the layout (size, chunk size) goes into the server\'s key; the type from contentType, filename or key is signed', async () => {
    const { sign, calls } = setup();
    const res = await sign({ method: 'POST', key: 'f00-big report.PDF', size: 12 * MIB + 7, chunkSize: 5 * MIB });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ url: expect.any(String), key: LAYOUT_PDF_KEY, headers: { 'content-type': 'application/pdf' } });
    const url = res.body.url as string;
    expect(queryParams(url).get('uploads')).toBe('');
    expect(queryParams(url).get('X-Amz-SignedHeaders')).toBe('content-type;host');
    expect(computeSigV4Signature('POST', url, { 'content-type': 'application/pdf' }, TEST_SECRET_ACCESS_KEY)).toBe(queryParams(url).get('X-Amz-Signature'));
    expect(calls).toEqual([]); // Uppy creates it itself with the URL
    const plan = { size: 12 * MIB + 7, chunkSize: 5 * MIB };
    // Uppy 6 sends no type at create; uppySigner sends the file's: a name without a known extension is fine.
    const noExtension = await sign({ method: 'POST', key: 'c0ffee-DSC_0001', contentType: 'image/png', filename: 'DSC_0001', ...plan });
    // The filename is signed as user metadata, a header Uppy sends with the create (issue 12).
    expect(noExtension.body.headers).toEqual({ 'content-type': 'image/png', 'x-amz-meta-filename': 'DSC_0001' });
    expect((await sign({ method: 'POST', key: 'c0ffee-x', filename: 'scan.pdf', ...plan })).body.headers)
      .toEqual({ 'content-type': 'application/pdf', 'x-amz-meta-filename': 'scan.pdf' });
    refused(await sign({ method: 'POST', key: 'page.html', ...plan }), 415, 'CONTENT_TYPE_NOT_ALLOWED');
    refused(await sign({ method: 'POST', key: 'noext', ...plan }), 415, 'CONTENT_TYPE_NOT_ALLOWED');
  });

  test('CreateMultipartUpload without uppySigner\'s fields, or with a layout S3 cannot complete or the limit forbids: refused, nothing signed', async () => {
    const { sign } = setup({ maxFileSize: 100 * MIB });
    const noPlan = await sign({ method: 'POST', key: 'f00-report.pdf' });
    refused(noPlan, 400, 'INVALID_REQUEST');
    expect(errorOf(noPlan).message).toContain('uppySigner');
    refused(await sign({ method: 'POST', key: 'f00-report.pdf', size: 12 * MIB }), 400, 'INVALID_REQUEST');
    refused(await sign({ method: 'POST', key: 'f00-report.pdf', size: 12 * MIB, chunkSize: 5 * MIB - 1 }), 400, 'INVALID_REQUEST');
    refused(await sign({ method: 'POST', key: 'f00-report.pdf', size: 12 * MIB, chunkSize: '5242880' }), 400, 'INVALID_REQUEST');
    refused(await sign({ method: 'POST', key: 'f00-report.pdf', size: 100 * MIB + 1, chunkSize: 5 * MIB }), 413, 'FILE_TOO_LARGE');
    refused(await sign({ method: 'POST', key: 'f00-report.pdf', size: 12 * MIB, chunkSize: 5 * MIB, uploadId: 'u' }), 400, 'INVALID_REQUEST');
  });

  test('UploadPart: signed with the exact content-length of that part of the key\'s layout', async () => {
    const { sign, uploads } = setup();
    uploads.set('abc', { key: LAYOUT_PDF_KEY, parts: [] });
    const lengths: Record<number, number> = { 1: 5 * MIB, 2: 5 * MIB, 3: 2 * MIB + 7 };
    for (const n of [1, 2, 3]) {
      const res = await sign({ method: 'PUT', key: LAYOUT_PDF_KEY, uploadId: 'abc', partNumber: n });
      expect(res.status).toBe(200);
      const url = res.body.url as string;
      expect(new URL(url).pathname).toBe(`/${LAYOUT_PDF_KEY}`);
      expect([queryParams(url).get('uploadId'), queryParams(url).get('partNumber')]).toEqual(['abc', String(n)]);
      expect(queryParams(url).get('X-Amz-SignedHeaders')).toBe('content-length;host');
      expect(computeSigV4Signature('PUT', url, { 'content-length': String(lengths[n]) }, TEST_SECRET_ACCESS_KEY)).toBe(queryParams(url).get('X-Amz-Signature'));
      expect(computeSigV4Signature('PUT', url, { 'content-length': String(lengths[n] + 1) }, TEST_SECRET_ACCESS_KEY)).not.toBe(queryParams(url).get('X-Amz-Signature'));
      expect(res.body.headers).toBeUndefined(); // browsers set content-length themselves
    }
    refused(await sign({ method: 'PUT', key: LAYOUT_PDF_KEY, uploadId: 'abc', partNumber: 4 }), 400, 'INVALID_PART_NUMBER');
    refused(await sign({ method: 'PUT', key: LAYOUT_PDF_KEY, uploadId: 'other', partNumber: 1 }), 404, 'UPLOAD_NOT_FOUND');
    // A key without a layout (not a multipart key of this signer) gets no part URL.
    uploads.set('plain', { key: KEY, parts: [] });
    refused(await sign({ method: 'PUT', key: KEY, uploadId: 'plain', partNumber: 1 }), 400, 'INVALID_REQUEST');
  });

  test('a replayed create URL: every other upload of the key is aborted before a part is signed, so at most one can hold parts', async () => {
    const { sign, uploads, calls } = setup();
    for (const id of ['first', 'replay-1', 'replay-2']) uploads.set(id, { key: LAYOUT_PDF_KEY, parts: [] });
    expect((await sign({ method: 'PUT', key: LAYOUT_PDF_KEY, uploadId: 'replay-1', partNumber: 1 })).status).toBe(200);
    expect(calls).toEqual([`uploads ${LAYOUT_PDF_KEY}`, 'abort first', 'abort replay-2']);
    expect([...uploads.keys()]).toEqual(['replay-1']);
    refused(await sign({ method: 'PUT', key: LAYOUT_PDF_KEY, uploadId: 'first', partNumber: 1 }), 404, 'UPLOAD_NOT_FOUND');
  });

  test('a create URL replayed many times: each part request aborts at most 10 others and signs nothing until they are gone', async () => {
    const { sign, uploads } = setup();
    for (let i = 0; i < 25; i++) uploads.set(`u${i}`, { key: LAYOUT_PDF_KEY, parts: [] });
    const ask = () => sign({ method: 'PUT', key: LAYOUT_PDF_KEY, uploadId: 'u24', partNumber: 1 });
    refused(await ask(), 409, 'UPLOAD_REPLAYED');
    expect(uploads.size).toBe(15);
    refused(await ask(), 409, 'UPLOAD_REPLAYED');
    expect(uploads.size).toBe(5);
    expect((await ask()).status).toBe(200);
    expect([...uploads.keys()]).toEqual(['u24']);
  });

  test('ListParts, AbortMultipartUpload: presigned for the caller\'s key with the upload id, no S3 call', async () => {
    const { sign, calls } = setup();
    for (const method of ['GET', 'DELETE'] as const) {
      const res = await sign({ method, key: LAYOUT_PDF_KEY, uploadId: 'abc' });
      expect(res.status).toBe(200);
      const url = res.body.url as string;
      expect(queryParams(url).get('uploadId')).toBe('abc');
      expect(computeSigV4Signature(method, url, {}, TEST_SECRET_ACCESS_KEY)).toBe(queryParams(url).get('X-Amz-Signature'));
      expect(res.body.headers).toBeUndefined();
    }
    expect(calls).toEqual([]);
  });

  test('CompleteMultipartUpload: signed with x-amz-mp-object-size = the key\'s size and if-none-match (write-once); parts other than the layout\'s, aborted and refused', async () => {
    const { sign, uploads, calls } = setup({ maxFileSize: 20 * MIB });
    const layoutParts = (): ListedPart[] => [
      { partNumber: 1, size: 5 * MIB, etag: 'a' }, { partNumber: 2, size: 5 * MIB, etag: 'b' }, { partNumber: 3, size: 2 * MIB + 7, etag: 'c' },
    ];
    uploads.set('ok', { key: LAYOUT_PDF_KEY, parts: layoutParts() });
    const ok = await sign({ method: 'POST', key: LAYOUT_PDF_KEY, uploadId: 'ok' });
    const size = String(12 * MIB + 7);
    expect(ok.body.headers).toEqual({ 'x-amz-mp-object-size': size, 'if-none-match': '*' });
    const url = ok.body.url as string;
    expect(queryParams(url).get('X-Amz-SignedHeaders')).toBe('host;if-none-match;x-amz-mp-object-size');
    expect(computeSigV4Signature('POST', url, { 'x-amz-mp-object-size': size, 'if-none-match': '*' }, TEST_SECRET_ACCESS_KEY)).toBe(queryParams(url).get('X-Amz-Signature'));

    uploads.set('big', { key: LAYOUT_PDF_KEY, parts: [...layoutParts().slice(0, 2), { partNumber: 3, size: 15 * MIB, etag: 'c' }] });
    refused(await sign({ method: 'POST', key: LAYOUT_PDF_KEY, uploadId: 'big' }), 413, 'FILE_TOO_LARGE');
    uploads.set('gap', { key: LAYOUT_PDF_KEY, parts: [layoutParts()[0], layoutParts()[2]] });
    refused(await sign({ method: 'POST', key: LAYOUT_PDF_KEY, uploadId: 'gap' }), 409, 'PART_MISSING');
    uploads.set('short', { key: LAYOUT_PDF_KEY, parts: [...layoutParts().slice(0, 2), { partNumber: 3, size: 2 * MIB, etag: 'c' }] });
    refused(await sign({ method: 'POST', key: LAYOUT_PDF_KEY, uploadId: 'short' }), 409, 'PART_SIZE_MISMATCH');
    uploads.set('empty', { key: LAYOUT_PDF_KEY, parts: [] });
    refused(await sign({ method: 'POST', key: LAYOUT_PDF_KEY, uploadId: 'empty' }), 409, 'PART_MISSING');
    refused(await sign({ method: 'POST', key: LAYOUT_PDF_KEY, uploadId: 'unknown' }), 404, 'UPLOAD_NOT_FOUND');
    expect(calls.filter((c) => c.startsWith('abort'))).toEqual(['abort big', 'abort gap', 'abort short', 'abort empty']);
    expect([...uploads.keys()]).toEqual(['ok']);
  });

  test('DeleteObject is refused unless enabled, and then only for the caller\'s keys', async () => {
    refused(await setup().sign({ method: 'DELETE', key: KEY }), 403, 'OPERATION_NOT_ALLOWED');
    const { sign } = setup({ allowDeleteObject: true });
    const res = await sign({ method: 'DELETE', key: KEY });
    expect(res.status).toBe(200);
    expect(computeSigV4Signature('DELETE', res.body.url as string, {}, TEST_SECRET_ACCESS_KEY)).toBe(queryParams(res.body.url as string).get('X-Amz-Signature'));
    refused(await sign({ method: 'DELETE', key: 'uploads/bob/x.png' }), 403, 'KEY_NOT_ALLOWED');
  });

  test('DeleteObject is never signed for anonymous callers, even when the environment enables it', async () => {
    const { sign } = setup({ auth: 'none', allowDeleteObject: true });
    refused(await sign({ method: 'DELETE', key: 'uploads/anonymous/x.png' }), 403, 'OPERATION_NOT_ALLOWED');
  });
});

describe('malformed Uppy requests: 4xx, code, message, nothing signed', () => {
  const cases: Array<[string, unknown, number, string]> = [
    ['not an object', 'PUT', 400, 'INVALID_JSON'],
    ['an array', [], 400, 'INVALID_JSON'],
    ['unknown field', { method: 'PUT', key: 'x.png', contentType: 'image/png', bytes: 3 }, 400, 'INVALID_REQUEST'],
    ['size on UploadPart', { method: 'PUT', key: LAYOUT_PNG_KEY, uploadId: 'u', partNumber: 1, size: 3 }, 400, 'INVALID_REQUEST'],
    ['chunkSize on PutObject', { method: 'PUT', key: 'x.png', contentType: 'image/png', chunkSize: 5 * MIB }, 400, 'INVALID_REQUEST'],
    ['a fractional size', { method: 'PUT', key: 'x.png', contentType: 'image/png', size: 1.5 }, 400, 'INVALID_REQUEST'],
    ['a filename with a control character', { method: 'PUT', key: 'x.png', contentType: 'image/png', filename: 'a\nb.png' }, 400, 'INVALID_REQUEST'],
    ['no method', { key: 'x.png' }, 400, 'INVALID_REQUEST'],
    ['bad method', { method: 'HEAD', key: 'x.png' }, 400, 'INVALID_REQUEST'],
    ['lower-case method', { method: 'put', key: 'x.png', contentType: 'image/png' }, 400, 'INVALID_REQUEST'],
    ['no key', { method: 'PUT', contentType: 'image/png' }, 400, 'INVALID_REQUEST'],
    ['empty key', { method: 'PUT', key: '', contentType: 'image/png' }, 400, 'INVALID_REQUEST'],
    ['numeric key', { method: 'PUT', key: 5, contentType: 'image/png' }, 400, 'INVALID_REQUEST'],
    ['PutObject without contentType', { method: 'PUT', key: 'x.png' }, 400, 'INVALID_REQUEST'],
    ['PutObject with a bad contentType', { method: 'PUT', key: 'x.png', contentType: 'png' }, 400, 'INVALID_REQUEST'],
    ['PutObject of a refused type', { method: 'PUT', key: 'x.svg', contentType: 'image/svg+xml' }, 415, 'CONTENT_TYPE_NOT_ALLOWED'],
    ['partNumber without uploadId', { method: 'PUT', key: KEY, partNumber: 1 }, 400, 'INVALID_REQUEST'],
    ['partNumber on GET', { method: 'GET', key: KEY, uploadId: 'u', partNumber: 1 }, 400, 'INVALID_REQUEST'],
    ['UploadPart without partNumber', { method: 'PUT', key: KEY, uploadId: 'u' }, 400, 'INVALID_REQUEST'],
    ['partNumber 0', { method: 'PUT', key: LAYOUT_PNG_KEY, uploadId: 'u', partNumber: 0 }, 400, 'INVALID_PART_NUMBER'],
    ['partNumber 10001', { method: 'PUT', key: LAYOUT_PNG_KEY, uploadId: 'u', partNumber: 10_001 }, 400, 'INVALID_PART_NUMBER'],
    ['partNumber beyond the layout\'s part count', { method: 'PUT', key: LAYOUT_PNG_KEY, uploadId: 'u', partNumber: 6 }, 400, 'INVALID_PART_NUMBER'],
    ['fractional partNumber', { method: 'PUT', key: KEY, uploadId: 'u', partNumber: 1.5 }, 400, 'INVALID_REQUEST'],
    ['string partNumber', { method: 'PUT', key: KEY, uploadId: 'u', partNumber: '1' }, 400, 'INVALID_REQUEST'],
    ['empty uploadId', { method: 'GET', key: KEY, uploadId: '' }, 400, 'INVALID_REQUEST'],
    ['uploadId with a space', { method: 'GET', key: KEY, uploadId: 'a b' }, 400, 'INVALID_REQUEST'],
    ['numeric uploadId', { method: 'DELETE', key: KEY, uploadId: 1 }, 400, 'INVALID_REQUEST'],
    ['contentType with uploadId', { method: 'PUT', key: KEY, uploadId: 'u', partNumber: 1, contentType: 'image/png' }, 400, 'INVALID_REQUEST'],
    ['GET without uploadId (GetObject)', { method: 'GET', key: KEY }, 400, 'INVALID_REQUEST'],
    ['negative expiresIn', { method: 'PUT', key: 'x.png', contentType: 'image/png', expiresIn: -1 }, 400, 'INVALID_REQUEST'],
    ['another caller\'s key', { method: 'GET', key: 'uploads/bob/x.png', uploadId: 'u' }, 403, 'KEY_NOT_ALLOWED'],
    ['a key outside the prefix', { method: 'PUT', key: 'other/x.png', uploadId: 'u', partNumber: 1 }, 403, 'KEY_NOT_ALLOWED'],
    ['a key climbing out of the scope', { method: 'DELETE', key: `uploads/${SCOPE}/../bob/x.png`, uploadId: 'u' }, 403, 'KEY_NOT_ALLOWED'],
    ['a nested key in the scope', { method: 'DELETE', key: `uploads/${SCOPE}/a/b.png`, uploadId: 'u' }, 403, 'KEY_NOT_ALLOWED'],
  ];
  test.each(cases)('%s', async (_name, body, status, code) => {
    const { sign, calls } = setup({ maxFileSize: 25 * MIB });
    refused(await sign(body), status, code);
    expect(calls).toEqual([]);
  });

  test('the routes only answer POST', async () => {
    const { calls } = setup();
    const handler = createSignerHandler(testConfig(), { log: () => undefined, multipartStore: memoryStore().store });
    for (const path of ['/uppy/sign', '/uploads/multipart/parts', '/uploads/multipart/complete', '/uploads/multipart/abort']) {
      const res = await call(handler, makeEvent({ method: 'GET', path, authorizer: iamAuthorizer(DEFAULT_ARN) }));
      refused(res, 405, 'METHOD_NOT_ALLOWED');
      expect(res.headers.allow).toBe('POST');
      refused(await call(handler, makeEvent({ path, body: {} })), 401, 'UNAUTHORIZED');
    }
    expect(calls).toEqual([]);
  });
});

describe('native multipart plan', () => {
  test('POST /uploads above the threshold creates the upload and signs the first parts with their lengths', async () => {
    const { sign, calls } = setup({ multipartThreshold: 10 * MIB, partSize: 5 * MIB, maxFileSize: 1024 * MIB });
    const res = await sign({ contentType: 'application/pdf', size: 600 * MIB + 1 }, '/uploads');
    expect(res.status).toBe(200);
    const key = `uploads/${SCOPE}/${PNG_UUID}_${600 * MIB + 1}_${5 * MIB}.pdf`;
    expect(res.body).toMatchObject({ key, uploadId: 'upload-1', partSize: 5 * MIB, partCount: 121 });
    const parts = res.body.parts as Array<{ partNumber: number; url: string; size: number }>;
    expect(parts.map((p) => p.partNumber)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    for (const p of parts.slice(0, 3)) {
      expect(queryParams(p.url).get('X-Amz-SignedHeaders')).toBe('content-length;host');
      expect(computeSigV4Signature('PUT', p.url, { 'content-length': String(p.size) }, TEST_SECRET_ACCESS_KEY)).toBe(queryParams(p.url).get('X-Amz-Signature'));
    }
    expect(calls).toEqual([`create ${key} application/pdf`]);
  });

  test('the parts route takes the layout from the key: another size gets no part URLs, parts beyond the layout none either', async () => {
    const { sign } = setup({ multipartThreshold: 10 * MIB, partSize: 5 * MIB, maxFileSize: 100 * MIB });
    const plan = await sign({ contentType: 'application/pdf', size: 11 * MIB }, '/uploads');
    const { key, uploadId } = plan.body as { key: string; uploadId: string };
    const parts = (body: Record<string, unknown>) => sign({ key, uploadId, ...body }, '/uploads/multipart/parts');
    // Declaring a larger file used to sign a full-size part 3 (and parts 4..20): 5 MiB more than the file.
    refused(await parts({ size: 100 * MIB, partNumbers: [3] }), 400, 'INVALID_REQUEST');
    refused(await parts({ partNumbers: [4] }), 400, 'INVALID_PART_NUMBER');
    const res = await parts({ partNumbers: [1, 2, 3] });
    expect((res.body.parts as Array<{ size: number }>).map((p) => p.size)).toEqual([5 * MIB, 5 * MIB, MIB]);
    expect((await parts({ size: 11 * MIB, partNumbers: [3] })).status).toBe(200);
    refused(await sign({ key: KEY, uploadId }, '/uploads/multipart/parts'), 400, 'INVALID_REQUEST');
    refused(await sign({ key, uploadId, size: 12 * MIB }, '/uploads/multipart/complete'), 400, 'INVALID_REQUEST');
  });
});

describe('native multipart completion races', () => {
  /** What S3's CompleteMultipartUpload throws (the SDK's shape) when a listed part was replaced or the upload went away. */
  const s3Error = (name: string) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: name === 'NoSuchUpload' ? 404 : 400 } });

  test.each([
    ['InvalidPart', 409, 'PARTS_CHANGED'],
    ['InvalidPartOrder', 409, 'PARTS_CHANGED'],
    ['NoSuchUpload', 404, 'UPLOAD_NOT_FOUND'],
  ])('S3 answering %s to the completion (a part re-uploaded, or the upload aborted, after the listing): %i %s, the upload left as it is, no fault logged', async (name, status, code) => {
    const lines: string[] = [];
    const memory = memoryStore();
    const store: MultipartStore = { ...memory.store, complete: async () => { throw s3Error(name); } };
    const handler = createSignerHandler(testConfig({}, { allowedContentTypes: ['application/pdf'], multipartThreshold: 10 * MIB, partSize: 5 * MIB }), {
      now: () => TEST_NOW, randomUUID: () => PNG_UUID, log: (line) => lines.push(line), multipartStore: store,
    });
    const post = (path: string, body: unknown) => call(handler, makeEvent({ path, body, authorizer: iamAuthorizer(DEFAULT_ARN) }));
    const plan = await post('/uploads', { contentType: 'application/pdf', size: 12 * MIB });
    const { key, uploadId } = plan.body as { key: string; uploadId: string };
    memory.uploads.get(uploadId)!.parts.push(
      { partNumber: 1, size: 5 * MIB, etag: 'a' }, { partNumber: 2, size: 5 * MIB, etag: 'b' }, { partNumber: 3, size: 2 * MIB, etag: 'c' });
    const res = await post('/uploads/multipart/complete', { key, uploadId, size: 12 * MIB });
    refused(res, status, code);
    expect(memory.calls.filter((c) => c.startsWith('abort'))).toEqual([]);
    expect(memory.uploads.get(uploadId)?.parts).toHaveLength(3);
    expect(lines).toEqual([]);
  });
});

describe('part layout', () => {
  const policy = testConfig().policy;
  test('the policy\'s part size, grown to whole MiB beyond 10,000 parts, never above 5 GiB', () => {
    expect(partLayout(100 * MIB, policy)).toEqual({ size: 100 * MIB, partSize: 16 * MIB, partCount: 7 });
    expect(partLayout(16 * MIB, policy).partCount).toBe(1);
    const huge = partLayout(5 * 1024 * 1024 * MIB, policy); // 5 TiB
    expect(huge.partSize).toBe(525 * MIB);
    expect(huge.partCount).toBeLessThanOrEqual(10_000);
    const atLimit = partLayout(10_000 * 16 * MIB + 1, policy);
    expect(atLimit.partCount).toBeLessThanOrEqual(10_000);
    expect(atLimit.partSize % MIB).toBe(0);
  });

  test('the parts add up to the file', () => {
    for (const size of [1, 16 * MIB - 1, 16 * MIB, 16 * MIB + 1, 999 * MIB + 7, 160_001 * MIB]) {
      const layout = partLayout(size, policy);
      let total = 0;
      for (let n = 1; n <= layout.partCount; n++) total += partLength(layout, n);
      expect(total).toBe(size);
      expect(partLength(layout, layout.partCount)).toBeGreaterThan(0);
    }
  });

  test('the largest Uppy part number still fits maxFileSize at 5 MiB per part', () => {
    expect(maxPartNumber(25 * MIB)).toBe(5);
    expect(maxPartNumber(25 * MIB + 1)).toBe(6);
    expect(maxPartNumber(5 * 1024 * 1024 * MIB)).toBe(10_000);
  });
});

/**
 * App context metadata on the signer's paths: only allow-listed keys, each signed as user metadata
 * (`x-amz-meta-<key>`: PUT header, POST `eq` condition, CreateMultipartUpload Metadata, Uppy PutObject
 * fields and CreateMultipartUpload headers) in the filename's ASCII encoding; anything else is a 400.
 */
import { computeSigV4Signature, iamAuthorizer, makeEvent, queryParams, recordingMultipartStore, TEST_SECRET_ACCESS_KEY, testConfig } from './helpers';
import { encodeFilename, FILENAME_HEADER, MAX_ENCODED_FILENAME } from '../../src/contract/filename';
import { decodeMetadataValue, encodeMetadataValue, MAX_METADATA_BYTES, MAX_METADATA_VALUE_LENGTH } from '../../src/contract/metadata';
import { createSignerHandler } from '../../src/signer/handler';

const ALICE = iamAuthorizer('arn:aws:iam::123456789012:user/alice', 'AIDAALICE');
const KEYS = ['album-id', 'caption'];
const CAPTION = 'Фото 東京 #1 + ü';
const META = { 'album-id': '42', 'caption': CAPTION };
const MIB = 1024 * 1024;

function setup(metadataKeys: string[] | undefined = KEYS) {
  const created: unknown[] = [];
  const store = recordingMultipartStore(created);
  const config = testConfig(metadataKeys ? { metadataKeys } : {}, { multipartThreshold: 10 * MIB, allowedContentTypes: ['image/jpeg', 'application/pdf'] });
  const handler = createSignerHandler(config, { multipartStore: store, log: () => undefined });
  const send = async (body: unknown, path = '/uploads') => {
    const res = await handler(makeEvent({ path, body, authorizer: ALICE }));
    return { status: res.statusCode, body: JSON.parse(res.body as string), raw: res.body as string };
  };
  return { send, created };
}

function policyOf(fields: Record<string, string>): { conditions: unknown[] } {
  return JSON.parse(Buffer.from(fields.Policy, 'base64').toString('utf8'));
}

test('the value encoding round-trips any Unicode and is plain ASCII', () => {
  const encoded = encodeMetadataValue(CAPTION);
  expect(encoded).toMatch(/^[\x21-\x7e]+$/);
  expect(decodeMetadataValue(encoded)).toBe(CAPTION);
  expect(decodeMetadataValue('%E6%9D')).toBeUndefined();
  expect(decodeMetadataValue('a b')).toBeUndefined();
});

test('the bounds fit S3\'s 2 KB of user metadata together with the longest filename', () => {
  const filename = FILENAME_HEADER.length + MAX_ENCODED_FILENAME;
  expect(filename + MAX_METADATA_BYTES).toBeLessThanOrEqual(2048);
  expect(MAX_METADATA_VALUE_LENGTH).toBeLessThanOrEqual(MAX_METADATA_BYTES);
});

test('PUT: each key is a signed header x-amz-meta-<key> with the encoded value, sorted among the signed headers', async () => {
  const { send } = setup();
  const { status, body } = await send({ contentType: 'image/jpeg', size: 100, filename: 'a.jpg', metadata: META });
  expect(status).toBe(200);
  expect(body.headers).toEqual({
    'content-type': 'image/jpeg',
    'if-none-match': '*',
    'x-amz-meta-filename': 'a.jpg',
    'x-amz-meta-album-id': '42',
    'x-amz-meta-caption': encodeMetadataValue(CAPTION),
  });
  const url = body.url as string;
  expect(queryParams(url).get('X-Amz-SignedHeaders'))
    .toBe('content-length;content-type;host;if-none-match;x-amz-meta-album-id;x-amz-meta-caption;x-amz-meta-filename');
  const signed = { ...body.headers, 'content-length': '100' };
  expect(computeSigV4Signature('PUT', url, signed, TEST_SECRET_ACCESS_KEY)).toBe(queryParams(url).get('X-Amz-Signature'));
  // Another value, or a missing one, is another signature: S3 refuses it.
  expect(computeSigV4Signature('PUT', url, { ...signed, 'x-amz-meta-album-id': '43' }, TEST_SECRET_ACCESS_KEY)).not.toBe(queryParams(url).get('X-Amz-Signature'));
});

test('PUT with a SHA-256: the checksum headers keep their canonical place around the metadata', async () => {
  const { send } = setup();
  const sha = Buffer.alloc(32, 7).toString('base64');
  const { body } = await send({ contentType: 'image/jpeg', size: 100, checksumSha256: sha, metadata: { caption: 'x' } });
  expect(queryParams(body.url).get('X-Amz-SignedHeaders'))
    .toBe('content-length;content-type;host;if-none-match;x-amz-checksum-sha256;x-amz-meta-caption;x-amz-sdk-checksum-algorithm');
  expect(computeSigV4Signature('PUT', body.url, { ...body.headers, 'content-length': '100' }, TEST_SECRET_ACCESS_KEY)).toBe(queryParams(body.url).get('X-Amz-Signature'));
});

test('POST form: each key is a field pinned by an eq condition', async () => {
  const { send } = setup();
  const { body } = await send({ contentType: 'image/jpeg', size: 100, method: 'POST', metadata: META });
  expect(body.fields).toMatchObject({ 'x-amz-meta-album-id': '42', 'x-amz-meta-caption': encodeMetadataValue(CAPTION) });
  expect(policyOf(body.fields).conditions).toEqual(expect.arrayContaining([
    { 'x-amz-meta-album-id': '42' }, { 'x-amz-meta-caption': encodeMetadataValue(CAPTION) },
  ]));
});

test('multipart: CreateMultipartUpload carries the keys (and the filename) as Metadata', async () => {
  const { send, created } = setup();
  expect((await send({ contentType: 'image/jpeg', size: 20 * MIB, filename: 'a.jpg', metadata: META })).status).toBe(200);
  expect(created).toEqual([expect.objectContaining({ metadata: { 'filename': 'a.jpg', 'album-id': '42', 'caption': encodeMetadataValue(CAPTION) } })]);
});

test('Uppy: PutObject pins filename and metadata as policy fields; CreateMultipartUpload signs them as headers', async () => {
  const { send } = setup();
  const put = await send({ method: 'PUT', key: 'x-a.jpg', contentType: 'image/jpeg', size: 100, filename: CAPTION, metadata: META }, '/uppy/sign');
  expect(put.status).toBe(200);
  expect(put.body.fields).toMatchObject({ 'x-amz-meta-filename': encodeFilename(CAPTION), 'x-amz-meta-album-id': '42' });
  expect(policyOf(put.body.fields).conditions).toEqual(expect.arrayContaining([
    { 'x-amz-meta-filename': encodeFilename(CAPTION) }, { 'x-amz-meta-album-id': '42' }, { 'x-amz-meta-caption': encodeMetadataValue(CAPTION) },
  ]));

  const create = await send({ method: 'POST', key: 'x-a.pdf', size: 12 * MIB, chunkSize: 5 * MIB, filename: 'report.pdf', metadata: { caption: CAPTION } }, '/uppy/sign');
  expect(create.status).toBe(200);
  expect(create.body.headers).toEqual({
    'content-type': 'application/pdf', 'x-amz-meta-caption': encodeMetadataValue(CAPTION), 'x-amz-meta-filename': 'report.pdf',
  });
  expect(queryParams(create.body.url).get('X-Amz-SignedHeaders')).toBe('content-type;host;x-amz-meta-caption;x-amz-meta-filename');
  expect(computeSigV4Signature('POST', create.body.url, create.body.headers, TEST_SECRET_ACCESS_KEY)).toBe(queryParams(create.body.url).get('X-Amz-Signature'));

  const part = await send({ method: 'PUT', key: create.body.key, uploadId: 'u', partNumber: 1, metadata: META }, '/uppy/sign');
  expect([part.status, part.body.error.code]).toEqual([400, 'INVALID_REQUEST']);
});

describe('refused with a 400 that names the problem, nothing signed', () => {
  // Every row names its allow-list: test.each passes `done` in place of a missing last argument.
  const cases: Array<[string, unknown, string, RegExp, string[]]> = [
    ['a key outside the allow-list', { other: 'x' }, 'METADATA_NOT_ALLOWED', /"other".*album-id, caption/, KEYS],
    ['any key when none is allowed', { 'album-id': '1' }, 'METADATA_NOT_ALLOWED', /allows no metadata keys \(metadataKeys\)/, []],
    ['the reserved filename key', { filename: 'x' }, 'METADATA_NOT_ALLOWED', /"filename"/, KEYS],
    ['not an object', ['42'], 'INVALID_REQUEST', /must be an object/, KEYS],
    ['a non-string value', { 'album-id': 42 }, 'INVALID_REQUEST', /metadata\.album-id must be a non-empty string/, KEYS],
    ['an empty value', { 'album-id': '' }, 'INVALID_REQUEST', /non-empty/, KEYS],
    ['a lone surrogate (no UTF-8 round trip)', { caption: 'a\ud800b' }, 'INVALID_REQUEST', /well-formed Unicode/, KEYS],
    ['a value above 512 encoded characters', { caption: 'é'.repeat(86) }, 'METADATA_TOO_LARGE', /516 characters encoded.*at most 512/, KEYS],
    ['more than 1000 bytes in all', { 'album-id': 'a'.repeat(500), 'caption': 'b'.repeat(500) }, 'METADATA_TOO_LARGE', /1037 bytes.*at most 1000/, KEYS],
  ];
  test.each(cases)('%s', async (_, metadata, code, message, keys) => {
    const { send } = setup(keys);
    for (const [path, body] of [
      ['/uploads', { contentType: 'image/jpeg', size: 100, metadata }],
      ['/uppy/sign', { method: 'PUT', key: 'x.jpg', contentType: 'image/jpeg', metadata }],
    ] as const) {
      const res = await send(body, path);
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 400, code });
      expect(res.body.error.message).toMatch(message);
      expect(res.raw).not.toMatch(/https?:\/\/|X-Amz-/);
    }
  });
});

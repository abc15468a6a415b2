/**
 * The original filename on the signer's paths: signed as user metadata (PUT header, POST `eq` condition,
 * CreateMultipartUpload Metadata), in the ASCII encoding of src/contract/filename.ts.
 */
import { iamAuthorizer, makeEvent, recordingMultipartStore, testConfig } from './helpers';
import { encodeFilename } from '../../src/contract/filename';
import { createSignerHandler } from '../../src/signer/handler';

const ALICE = iamAuthorizer('arn:aws:iam::123456789012:user/alice', 'AIDAALICE');
const NAME = 'Фото 東京 #1 + ü.jpg';

async function sign(body: Record<string, unknown>, created: unknown[] = []) {
  const handler = createSignerHandler(testConfig({}, { multipartThreshold: 10 * 1024 * 1024 }), { multipartStore: recordingMultipartStore(created) });
  const res = await handler(makeEvent({ body, authorizer: ALICE }));
  return { status: res.statusCode, body: JSON.parse(res.body as string) };
}

test('PUT: x-amz-meta-filename is a signed header with the encoded name', async () => {
  const { status, body } = await sign({ contentType: 'image/jpeg', size: 100, filename: NAME });
  expect(status).toBe(200);
  expect(body.headers['x-amz-meta-filename']).toBe(encodeFilename(NAME));
  expect(new URL(body.url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host;if-none-match;x-amz-meta-filename');
});

test('POST: the encoded name is a form field and an eq condition of the policy', async () => {
  const { body } = await sign({ contentType: 'image/jpeg', size: 100, filename: NAME, method: 'POST' });
  expect(body.fields['x-amz-meta-filename']).toBe(encodeFilename(NAME));
  const policy = JSON.parse(Buffer.from(body.fields.Policy, 'base64').toString('utf8'));
  expect(policy.conditions).toContainEqual({ 'x-amz-meta-filename': encodeFilename(NAME) });
});

test('multipart: CreateMultipartUpload carries the name as Metadata (stored with the completed object)', async () => {
  const created: unknown[] = [];
  const { status } = await sign({ contentType: 'image/jpeg', size: 20 * 1024 * 1024, filename: NAME }, created);
  expect(status).toBe(200);
  expect(created).toEqual([expect.objectContaining({ metadata: { filename: encodeFilename(NAME) } })]);
});

test('a name that sanitises to nothing (path and dots only) is not stored; no filename, no metadata', async () => {
  for (const body of [{ filename: '../..' }, {}]) {
    const signed = await sign({ contentType: 'image/jpeg', size: 100, ...body });
    expect(signed.status).toBe(200);
    expect(Object.keys(signed.body.headers)).not.toContain('x-amz-meta-filename');
  }
});

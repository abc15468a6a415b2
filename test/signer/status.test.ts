/**
 * `POST /uploads/status`: the caller's own keys only, one S3 read while pending or verified, every state and bad input.
 */
import { iamAuthorizer, makeEvent, testConfig, TEST_PUBLIC_BASE_URL } from './helpers';
import type { SignerPolicy } from '../../src/contract/upload-rules';
import { createSignerHandler } from '../../src/signer/handler';
import { DependencyUnavailableError } from '../../src/signer/multipart';
import type { KeyVersion, StatusStore } from '../../src/signer/status';

const ALICE = iamAuthorizer('arn:aws:iam::123456789012:user/alice', 'AIDAALICE');
const BOB = iamAuthorizer('arn:aws:iam::123456789012:user/bob', 'AIDABOB');

/** A bucket of key → versions (newest first) and version → tags; records every read. */
function store(keys: Record<string, Array<KeyVersion & { tags?: Record<string, string> }>>) {
  const calls: string[] = [];
  const status: StatusStore = {
    async versions(key) {
      calls.push(`ListObjectVersions ${key}`);
      return (keys[key] ?? []).map(({ versionId, deleteMarker, size }) => ({ versionId, deleteMarker, size }));
    },
    async tags(key, versionId) {
      calls.push(`GetObjectTagging ${key}@${versionId ?? 'current'}`);
      const version = versionId === undefined ? keys[key]?.[0] : (keys[key] ?? []).find((v) => v.versionId === versionId);
      return version?.deleteMarker ? undefined : version?.tags;
    },
  };
  return { calls, status };
}

async function setup(
  keys: (aliceKey: string) => Record<string, Array<KeyVersion & { tags?: Record<string, string> }>>,
  upload: Record<string, unknown> = { contentType: 'image/png', size: 10 },
  policy: Partial<SignerPolicy> = {},
) {
  // The caller's key comes from the signer itself (its scope is the caller's identity).
  const probe = createSignerHandler(testConfig({}, policy), { multipartStore: { create: async () => 'u', listParts: async () => [] } as never });
  const created = await probe(makeEvent({ body: upload, authorizer: ALICE }));
  const aliceKey = JSON.parse(created.body as string).key as string;
  const s = store(keys(aliceKey));
  const handler = createSignerHandler(testConfig({}, policy), { statusStore: s.status });
  const ask = async (body: unknown, authorizer: unknown = ALICE) => {
    const res = await handler(makeEvent({ path: '/uploads/status', body, authorizer }));
    return { status: res.statusCode, body: JSON.parse(res.body as string) };
  };
  return { aliceKey, ask, calls: s.calls };
}

describe('POST /uploads/status', () => {
  test('contentType: the allowed type the key\'s extension was chosen from (multipart keys too), without another S3 read', async () => {
    const untagged = (k: string) => ({ [k]: [{ versionId: 'v1', deleteMarker: false, size: 10, tags: {} }] });
    const pdf = await setup(untagged, { contentType: 'application/pdf', size: 200 * 1024 * 1024 }, { allowedContentTypes: ['image/png', 'application/pdf'], maxFileSize: 300 * 1024 * 1024 });
    expect(pdf.aliceKey).toMatch(/_\d+_\d+\.pdf$/);
    expect((await pdf.ask({ key: pdf.aliceKey })).body.contentType).toBe('application/pdf');
    expect(pdf.calls).toHaveLength(1);
    // Two allowed types without a known extension: the key cannot tell them apart, so none is claimed.
    const ambiguous = await setup(untagged, { contentType: 'application/x-a', size: 10 }, { allowedContentTypes: ['application/x-a', 'application/x-b'] });
    expect((await ambiguous.ask({ key: ambiguous.aliceKey })).body).toEqual({ key: ambiguous.aliceKey, state: 'pending' });
  });

  test('an untagged object is pending: one list and one tag read', async () => {
    const t = await setup((k) => ({ [k]: [{ versionId: 'v1', deleteMarker: false, size: 10, tags: {} }] }));
    expect(await t.ask({ key: t.aliceKey })).toEqual({ status: 200, body: { key: t.aliceKey, state: 'pending', contentType: 'image/png' } });
    expect(t.calls).toEqual([`GetObjectTagging ${t.aliceKey}@current`]);
  });

  test('a verified object answers its public URL', async () => {
    const t = await setup((k) => ({ [k]: [{ versionId: 'v1', deleteMarker: false, size: 10, tags: { 'direct-upload:verified': 'true', 'direct-upload:etag': 'e' } }] }));
    expect(await t.ask({ key: t.aliceKey })).toEqual({
      status: 200, body: { key: t.aliceKey, state: 'verified', contentType: 'image/png', publicUrl: `${TEST_PUBLIC_BASE_URL}/${t.aliceKey}` },
    });
  });

  test('a rejected version behind a delete marker answers rejected with the verifier\'s reason, in three reads', async () => {
    const t = await setup((k) => ({
      [k]: [
        { versionId: 'm1', deleteMarker: true, size: 0 },
        { versionId: 'v1', deleteMarker: false, size: 10, tags: { 'direct-upload:verified': 'false', 'direct-upload:rejected': 'CONTENT_MISMATCH', 'direct-upload:reason': 'CONTENT_MISMATCH: bytes are image/jpeg' } },
      ],
    }));
    expect(await t.ask({ key: t.aliceKey })).toEqual({
      status: 200, body: { key: t.aliceKey, state: 'rejected', reason: 'CONTENT_MISMATCH: bytes are image/jpeg' },
    });
    expect(t.calls).toEqual([`GetObjectTagging ${t.aliceKey}@current`, `ListObjectVersions ${t.aliceKey}`, `GetObjectTagging ${t.aliceKey}@v1`]);
  });

  test('a version its owner deleted (a delete marker, no rejection tags) and an unknown key are 404 UPLOAD_NOT_FOUND', async () => {
    const t = await setup((k) => ({ [k]: [{ versionId: 'm1', deleteMarker: true, size: 0 }, { versionId: 'v1', deleteMarker: false, size: 10, tags: {} }] }));
    expect(await t.ask({ key: t.aliceKey })).toMatchObject({ status: 404, body: { error: { code: 'UPLOAD_NOT_FOUND' } } });
    const other = t.aliceKey.replace(/[^/]+$/, 'ffffffff-ffff-4fff-8fff-ffffffffffff.png');
    expect(await t.ask({ key: other })).toMatchObject({ status: 404, body: { error: { code: 'UPLOAD_NOT_FOUND' } } });
  });

  test('another caller\'s key is 403 KEY_NOT_ALLOWED before any S3 read', async () => {
    const t = await setup((k) => ({ [k]: [{ versionId: 'v1', deleteMarker: false, size: 10, tags: {} }] }));
    expect(await t.ask({ key: t.aliceKey }, BOB)).toMatchObject({ status: 403, body: { error: { code: 'KEY_NOT_ALLOWED' } } });
    expect(t.calls).toEqual([]);
  });

  test.each([
    [{}, 400, 'INVALID_REQUEST'],
    [{ key: 42 }, 400, 'INVALID_REQUEST'],
    [{ key: 'k', extra: 1 }, 400, 'INVALID_REQUEST'],
    [[], 400, 'INVALID_JSON'],
  ])('bad body %j is %i %s', async (body, status, code) => {
    const t = await setup(() => ({}));
    expect(await t.ask(body)).toMatchObject({ status, body: { error: { code } } });
    expect(t.calls).toEqual([]);
  });

  test('S3 unreachable is 503 SERVICE_UNAVAILABLE', async () => {
    const t = await setup(() => ({}));
    const failing: StatusStore = {
      versions: async () => { throw new DependencyUnavailableError('S3', new Error('connect ECONNREFUSED')); },
      tags: async () => undefined,
    };
    const handler = createSignerHandler(testConfig(), { statusStore: failing, log: () => undefined });
    const res = await handler(makeEvent({ path: '/uploads/status', body: { key: t.aliceKey }, authorizer: ALICE }));
    expect({ status: res.statusCode, body: JSON.parse(res.body as string) }).toMatchObject({ status: 503, body: { error: { code: 'SERVICE_UNAVAILABLE' } } });
  });
});

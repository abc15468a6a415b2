/**
 * Property-based fuzzing of the multipart and Uppy routes, against the real S3 stand-in (ListParts,
 * completion and abort really reach it). Callers try other callers' keys, upload ids that do not exist,
 * part numbers out of range and hostile strings everywhere. Whatever comes in:
 * - never a 5xx, never a stack trace; a rejection carries a known `code` and a `message`, and no URL;
 * - nothing is signed for a key outside the caller's own scope;
 * - every URL that is signed points into the caller's own scope and verifies as SigV4 for S3.
 */
import fc from 'fast-check';
import { ErrorCodes, MULTIPART_ABORT_PATH, MULTIPART_COMPLETE_PATH, MULTIPART_PARTS_PATH, UPLOADS_PATH, UPPY_SIGN_PATH } from '../../src/contract/signer-protocol';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import { loadSignerConfig } from '../../src/signer/config';
import { createSignerHandler, SignerHandler } from '../../src/signer/handler';
import { scopeForIdentity } from '../../src/signer/identity';
import { makeEvent, jwtAuthorizer } from '../signer/helpers';

const KNOWN_CODES = new Set<string>(Object.values(ErrorCodes));
const CALLERS = ['alice', 'bob', 'auth0|mallory'];

let stack: LocalStack;
let handler: SignerHandler;
/** A real multipart upload of alice's, which the others try to hijack. */
let aliceKey: string;
let aliceUploadId: string;
const PLANNED_SIZE = 300 * 1024 * 1024;

beforeAll(async () => {
  stack = await startLocalStack({ log: () => undefined, verifyUploads: false, policy: { auth: 'authorizer', maxFileSize: 1024 ** 3 } });
  handler = createSignerHandler(loadSignerConfig(stack.signerEnvironment), { log: () => undefined });
  await planAliceUpload();
});

async function planAliceUpload(): Promise<void> {
  const plan = await handler(makeEvent({ path: UPLOADS_PATH, body: { contentType: 'image/png', size: PLANNED_SIZE }, authorizer: jwtAuthorizer({ sub: 'alice' }) }));
  const body = JSON.parse(plan.body ?? '{}');
  expect(plan.statusCode).toBe(200);
  aliceKey = body.key;
  aliceUploadId = body.uploadId;
  expect(aliceUploadId).toEqual(expect.any(String));
}

afterAll(async () => {
  await stack?.stop();
});

const nasty = fc.oneof(
  fc.string(),
  fc.constantFrom('../', 'uploads/../uploads/bob/x.png', 'uploads/alice', 'uploads/alice/', 'uploads//x', '\u0000', '\r\n', '😀', '%2F', ''),
);

test('multipart and Uppy routes: 3,000 hostile requests, no 5xx, nothing signed outside the caller\'s scope', async () => {
  const keyFor = (caller: string) => fc.oneof(
    { weight: 4, arbitrary: fc.constant('<alice>') },
    { weight: 3, arbitrary: fc.constant(`uploads/${scopeForIdentity(caller)}/00000000-0000-4000-8000-000000000000.png`) },
    fc.constantFrom('uploads/bob/x.png', 'other-prefix/alice/x.png', 'uploads/alice/a/b.png', 'uploads/~abc/x.png'),
    nasty,
  );
  const uploadId = fc.oneof({ weight: 4, arbitrary: fc.constant('<alice>') }, fc.constant('does-not-exist'), nasty);
  const partNumber = fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 20 }) },
    fc.integer({ min: -2, max: 10_002 }), fc.constantFrom(0, 1, 2, 10_000, 10_001, 1.5, '1'), fc.constant(undefined),
  );
  const callers = fc.oneof({ weight: 3, arbitrary: fc.constant('alice') }, fc.constantFrom(...CALLERS));
  const request = callers.chain((caller) => fc.record({
    caller: fc.constant(caller),
    path: fc.constantFrom(MULTIPART_PARTS_PATH, MULTIPART_COMPLETE_PATH, MULTIPART_ABORT_PATH, UPPY_SIGN_PATH, UPPY_SIGN_PATH),
    key: keyFor(caller),
    uploadId,
    partNumber,
    size: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, fc.constant(PLANNED_SIZE), fc.integer({ min: -1, max: 6 * 1024 ** 3 }), fc.constantFrom('1', null)),
    starts: fc.boolean(),
    chunkSize: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, fc.constant(16 * 1024 ** 2), fc.integer({ min: -1, max: 6 * 1024 ** 3 }), fc.constantFrom('1', null)),
    partNumbers: fc.oneof(fc.constant(undefined), fc.array(partNumber, { maxLength: 4 })),
    method: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('PUT', 'POST', 'GET') }, fc.constantFrom('DELETE', 'HEAD', 'put', '')),
    contentType: fc.oneof(fc.constant(undefined), fc.constantFrom('image/png', 'text/html', 'application/pdf'), nasty),
  }));

  const statuses = new Map<number, number>();
  let signedCount = 0;
  await fc.assert(fc.asyncProperty(request, async (r) => {
    const key = r.key === '<alice>' ? aliceKey : r.key;
    const id = r.uploadId === '<alice>' ? aliceUploadId : r.uploadId;
    const body = r.path === UPPY_SIGN_PATH
      ? (r.starts // PutObject / CreateMultipartUpload, as uppySigner sends them
        ? { method: r.method, key, contentType: r.contentType, size: r.size, chunkSize: r.chunkSize }
        : { method: r.method, key, uploadId: id, partNumber: r.partNumber, contentType: r.contentType })
      : { key, uploadId: id, size: r.size, partNumbers: r.partNumbers };
    const result = await handler(makeEvent({ path: r.path, body, authorizer: jwtAuthorizer({ sub: r.caller }) }));
    const status = result.statusCode ?? 0;
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    const text = result.body ?? '';
    expect({ path: r.path, status: status < 500 }).toEqual({ path: r.path, status: true });
    expect(text).not.toMatch(/\n\s+at /);
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const ownPrefix = `/${stack.bucket}/uploads/${scopeForIdentity(r.caller)}/`;
    if (status >= 400) {
      const error = parsed.error as { code?: string; message?: string };
      expect(KNOWN_CODES.has(String(error?.code))).toBe(true);
      expect(error?.message).toEqual(expect.any(String));
      expect(text).not.toContain('X-Amz-Signature');
      return;
    }
    // Something was signed or done: it is the caller's own key.
    const urls = collectUrls(parsed);
    for (const url of urls) {
      signedCount++;
      const u = new URL(url);
      const form = u.pathname === `/${stack.bucket}` || u.pathname === `/${stack.bucket}/`;
      expect(decodeURIComponent(u.pathname).startsWith(decodeURIComponent(ownPrefix)) || form).toBe(true);
      if (form) {
        // a POST-policy form: the key field must be the caller's own
        const fields = (parsed.fields ?? {}) as Record<string, string>;
        expect(`/${stack.bucket}/${fields.key}`.startsWith(ownPrefix)).toBe(true);
      }
    }
    const returnedKey = (parsed.key ?? '') as string;
    if (returnedKey) expect(returnedKey.startsWith(`uploads/${scopeForIdentity(r.caller)}/`)).toBe(true);
    // Only alice may touch alice's upload.
    if (key === aliceKey) expect(r.caller).toBe('alice');
    // Completion attempts and aborts end alice's upload: start a new one so later requests can still reach it.
    if (key === aliceKey && [MULTIPART_COMPLETE_PATH, MULTIPART_ABORT_PATH, UPPY_SIGN_PATH].includes(r.path)) await planAliceUpload();
  }), { numRuns: 3000, seed: 99 });

  // The generators reach both sides.
  expect(signedCount).toBeGreaterThan(200);
  expect([...statuses.keys()]).toEqual(expect.arrayContaining([200, 400, 403, 404]));
});

function collectUrls(value: unknown): string[] {
  if (typeof value === 'string') return /^https?:\/\//.test(value) && value.includes('X-Amz-Signature') ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(collectUrls);
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const own = typeof obj.url === 'string' && obj.fields ? [obj.url] : [];
    return [...own, ...Object.values(obj).flatMap(collectUrls)];
  }
  return [];
}

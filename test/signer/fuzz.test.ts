/**
 * Property-based fuzzing of the signer (fast-check): thousands of generated requests per run, hostile
 * bodies, methods, paths, headers and identities. Whatever comes in:
 * - never a 5xx, never a stack trace;
 * - a rejection always carries `{ error: { code, message } }` with a known code, and no URL;
 * - what is signed is allowed: an allowed type, a size within the limit, a key under the caller's
 *   own scope, with content-type and content-length signed as headers.
 */
import fc from 'fast-check';
import { COGNITO_ROLE_ARN, cognitoAuthorizer, DEFAULT_ARN, iamAuthorizer, jwtAuthorizer, makeEvent, queryParams, testConfig } from './helpers';
import { ErrorCodes } from '../../src/contract/signer-protocol';
import { createSignerHandler } from '../../src/signer/handler';
import { scopeForIdentity } from '../../src/signer/identity';

const KNOWN_CODES = new Set<string>(Object.values(ErrorCodes));
const MAX = 10 * 1024 * 1024;
const config = testConfig({}, { maxFileSize: MAX, allowedContentTypes: ['image/png', 'image/jpeg'] });
const jwtConfig = testConfig({}, { maxFileSize: MAX, allowedContentTypes: ['image/png', 'image/jpeg'], auth: 'authorizer' });

// Hostile strings: unicode, CRLF, NUL, path traversal, percent signs, very long runs.
const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('../', '..', '/', '\r\n', '\u0000', '%2e%2e%2f', '\u202e', '😀', '\\', 'uploads/other-user/x.png', ' ', ''),
  fc.array(fc.constantFrom('a', '/', '.', '\n', '\u0000', '%', '+', 'é'), { maxLength: 300 }).map((xs) => xs.join('')),
);
const contentType = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('image/png', 'image/jpeg', 'IMAGE/PNG', 'image/png; charset=utf-8', ' image/jpeg ') },
  fc.constantFrom('image/png', 'image/jpeg', 'IMAGE/PNG', 'image/png; charset=utf-8', ' image/png ', 'image/svg+xml', 'text/html',
    'image/*', 'image', '/png', 'image/png\r\nx-amz-acl: public-read', 'image/png\u0000', ''),
  nasty,
);
const size = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: MAX }) },
  fc.integer({ min: -10, max: 2 * MAX }),
  fc.constantFrom(0, 1, MAX, MAX + 1, 5 * 1024 ** 3 + 1, 5 * 1024 ** 4, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 1e308, -0),
  fc.double(),
  fc.constantFrom('100', '1e3', null, true, [], {}, '0x10'),
);
const checksum = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('base64')) },
  fc.base64String({ minLength: 24, maxLength: 24 }),
  fc.constantFrom('XrY7u+Ae7tCTyyK7j1rNww==', 'XrY7u+Ae7tCTyyK7j1rNww', '', '===', 'not-base64!!!!!!!!!!!!!!'),
  nasty,
  fc.integer(),
);
const uploadRequest = fc.record({
  contentType,
  size,
  filename: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, nasty, fc.integer()),
  checksum,
}, { requiredKeys: [] });
const body = fc.oneof(
  { weight: 6, arbitrary: uploadRequest.map((r) => JSON.stringify(r)) },
  { weight: 1, arbitrary: fc.record({ contentType, size, extra: nasty }).map((r) => JSON.stringify(r)) },
  { weight: 1, arbitrary: fc.json() },
  { weight: 1, arbitrary: nasty },
  { weight: 1, arbitrary: fc.string({ minLength: 8000, maxLength: 9000 }) },
);
const method = fc.oneof({ weight: 8, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'OPTIONS', 'post') });
const path = fc.oneof({ weight: 8, arbitrary: fc.constant('/uploads') }, { weight: 1, arbitrary: fc.constantFrom('/', '/uploads/', '/Uploads', '/uploads/../x', '/x') });
const requestContentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/json; charset=utf-8', 'multipart/form-data', '') },
);
const identity = fc.oneof(
  fc.constantFrom('alice', 'bob', 'auth0|1234', '../../etc', 'uploads/alice', '', '~x', 'a'.repeat(300)),
  nasty,
);

function check(
  result: { statusCode?: number; body?: string },
  expectedScope: string | undefined,
  sentContentType: unknown,
): void {
  const status = result.statusCode ?? 0;
  const text = result.body ?? '';
  expect(status).toBeGreaterThanOrEqual(200);
  expect(status).toBeLessThan(500);
  expect(text).not.toMatch(/\n\s+at /); // no stack trace
  const parsed = JSON.parse(text) as Record<string, unknown>;
  if (status !== 200) {
    const error = parsed.error as { code?: unknown; message?: unknown } | undefined;
    expect(KNOWN_CODES.has(String(error?.code))).toBe(true);
    expect(typeof error?.message).toBe('string');
    expect((error?.message as string).length).toBeGreaterThan(0);
    expect(parsed.url).toBeUndefined();
    expect(text).not.toContain('X-Amz-Signature');
    return;
  }
  // Signed: allowed type, bounded size, own scope, type and length signed as headers.
  const signedType = (parsed.headers as Record<string, string>)['content-type'];
  expect(['image/png', 'image/jpeg']).toContain(signedType);
  expect(String(sentContentType).toLowerCase()).toContain(signedType);
  expect(expectedScope).toBeDefined();
  expect(String(parsed.key).startsWith(`uploads/${expectedScope}/`)).toBe(true);
  expect(String(parsed.key)).toMatch(/^uploads\/[^/]+\/[0-9a-f-]{36}\.(png|jpg)$/);
  const query = queryParams(String(parsed.url));
  // A filename is signed as user metadata (x-amz-meta-filename), in its ASCII encoding.
  expect(query.get('X-Amz-SignedHeaders')).toMatch(/^content-length;(content-md5;)?content-type;host;if-none-match(;x-amz-meta-filename)?$/);
  const stored = (parsed.headers as Record<string, string>)['x-amz-meta-filename'];
  if (stored !== undefined) expect(stored).toMatch(/^[\x21-\x7e]{1,1024}$/);
  expect(query.get('X-Amz-Expires')).toBe('300');
  expect([...query.keys()].some((k) => /checksum/i.test(k))).toBe(false);
}

describe('fuzzed signer', () => {
  const iamHandler = createSignerHandler(config);
  const jwtHandler = createSignerHandler(jwtConfig);

  test('IAM callers: 6,000 hostile requests, no 5xx, nothing disallowed signed', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(fc.asyncProperty(method, path, requestContentType, body, fc.boolean(), async (m, p, ct, b, base64) => {
      const event = makeEvent({
        method: m,
        path: p,
        rawBody: base64 ? Buffer.from(b).toString('base64') : b,
        isBase64Encoded: base64,
        headers: ct ? { 'content-type': ct } : {},
        authorizer: iamAuthorizer(DEFAULT_ARN),
      });
      const sent = safeField(b, 'contentType');
      const result = await iamHandler(event);
      statuses.set(result.statusCode ?? 0, (statuses.get(result.statusCode ?? 0) ?? 0) + 1);
      check(result, scopeForIdentity(DEFAULT_ARN), sent);
    }), { numRuns: 6000, seed: 42 });
    // The generators reach both sides: many signed, and every kind of rejection.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(300);
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([200, 400, 404, 405, 413, 415]));
  });

  test('JWT callers with hostile identities: 4,000 requests, keys always in the caller\'s own scope', async () => {
    await fc.assert(fc.asyncProperty(identity, uploadRequest, async (sub, request) => {
      const event = makeEvent({ body: request, authorizer: jwtAuthorizer({ sub }) });
      const result = await jwtHandler(event);
      if (sub === '') {
        expect(result.statusCode).toBe(401);
      }
      check(result, sub === '' ? undefined : scopeForIdentity(sub), request.contentType);
      if (result.statusCode === 200) {
        // The scope is one safe segment: no traversal, no separator, never another caller's readable scope.
        const scope = String(JSON.parse(result.body ?? '{}').key).split('/')[1];
        expect(scope).not.toMatch(/^\.\.?$/);
        expect(scope).toMatch(/^(~[A-Za-z0-9_-]{22}|[A-Za-z0-9_-][A-Za-z0-9._-]{0,127})$/);
        if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/.test(sub)) expect(scope.startsWith('~')).toBe(true);
      }
    }), { numRuns: 4000, seed: 7 });
  });
});

describe('fuzzed caller isolation', () => {
  const deleting = createSignerHandler(testConfig({}, { allowedContentTypes: ['image/png'], allowDeleteObject: true }));
  const cognitoCaller = fc.record({
    identityPoolId: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('eu-west-1:p1', 'eu-west-1:p2') }, identity),
    identityId: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('eu-west-1:a', 'eu-west-1:b', 'eu-west-1:a:b') }, identity),
    authenticated: fc.boolean(),
    userArn: fc.constantFrom(COGNITO_ROLE_ARN, 'arn:aws:sts::123456789012:assumed-role/Cognito_UploadsAuth_Role/alice'),
  });

  test('Cognito callers with hostile ids: 3,000 pairs, another identity\'s key is never signed', async () => {
    let distinctPairs = 0;
    await fc.assert(fc.asyncProperty(cognitoCaller, cognitoCaller, async (a, b) => {
      const owner = await deleting(makeEvent({ body: { contentType: 'image/png', size: 10 }, authorizer: cognitoAuthorizer(a.identityId, a) }));
      if (a.identityPoolId === '' || a.identityId === '') {
        expect(owner.statusCode).toBe(401);
        return;
      }
      expect(owner.statusCode).toBe(200);
      const key = String(JSON.parse(owner.body ?? '{}').key);
      // Never the pool's shared role ARN, whatever the session is called.
      expect(key.startsWith(`uploads/${scopeForIdentity(a.userArn)}/`)).toBe(false);
      const other = await deleting(makeEvent({ path: '/uppy/sign', body: { method: 'DELETE', key }, authorizer: cognitoAuthorizer(b.identityId, b) }));
      const same = a.identityPoolId === b.identityPoolId && a.identityId === b.identityId;
      if (same) {
        expect(other.statusCode).toBe(200);
      } else {
        distinctPairs++;
        check(other, undefined, undefined);
        expect(other.statusCode).toBe(b.identityPoolId === '' || b.identityId === '' ? 401 : 403);
      }
    }), { numRuns: 3000, seed: 11 });
    expect(distinctPairs).toBeGreaterThan(1500);
  });
});

describe('fuzzed batches', () => {
  const jwtHandler = createSignerHandler(jwtConfig);
  const entry = fc.oneof(
    { weight: 6, arbitrary: uploadRequest },
    { weight: 1, arbitrary: fc.jsonValue() },
    { weight: 1, arbitrary: fc.record({ files: fc.array(uploadRequest, { maxLength: 2 }) }) },
  );

  test('1,000 hostile batches of 1 to 100 entries: every entry is answered as a single request would be, in the caller\'s scope', async () => {
    let signed = 0;
    await fc.assert(fc.asyncProperty(identity.filter((sub) => sub !== ''), fc.array(entry, { minLength: 1, maxLength: 100 }), async (sub, files) => {
      const result = await jwtHandler(makeEvent({ body: { files }, authorizer: jwtAuthorizer({ sub }) }));
      expect(result.statusCode).toBe(200);
      const answers = (JSON.parse(result.body ?? '{}') as { files: Array<Record<string, unknown>> }).files;
      expect(answers).toHaveLength(files.length);
      answers.forEach(({ ok, status, error, ...rest }, i) => {
        const single = ok ? { statusCode: 200, body: JSON.stringify(rest) } : { statusCode: Number(status), body: JSON.stringify({ error }) };
        check(single, scopeForIdentity(sub), (files[i] as { contentType?: unknown } | null)?.contentType);
        if (ok) signed++;
      });
    }), { numRuns: 1000, seed: 15 });
    expect(signed).toBeGreaterThan(500);
  });
});

function safeField(raw: string, field: string): unknown {
  try {
    const parsed: unknown = JSON.parse(raw);
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>)[field] : undefined;
  } catch {
    return undefined;
  }
}

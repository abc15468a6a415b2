import {
  call,
  CallResult,
  computeSigV4Signature,
  DEFAULT_ARN,
  errorOf,
  EventOptions,
  HELLO_MD5,
  iamAuthorizer,
  jwtAuthorizer,
  lambdaAuthorizer,
  makeEvent,
  PNG_UUID,
  queryParams,
  TEST_BUCKET,
  TEST_NOW,
  TEST_PUBLIC_BASE_URL,
  TEST_REGION,
  TEST_SECRET_ACCESS_KEY,
  testConfig,
  testEnv,
  uploadBody,
  UUID_RE,
} from './helpers';
import { POLICY_ENV } from '../../src/contract/environment';
import { ErrorCodes, PresignedUpload } from '../../src/contract/signer-protocol';
import { serializeSignerPolicy, SignerPolicy } from '../../src/contract/upload-rules';
import { SignerConfig } from '../../src/signer/config';
import { createSignerHandler, createSignerHandlerFromEnv, SignerHandlerOptions } from '../../src/signer/handler';
import { ANONYMOUS_SCOPE, scopeForIdentity } from '../../src/signer/identity';

const FIXED: SignerHandlerOptions = { now: () => TEST_NOW, randomUUID: () => PNG_UUID, log: () => undefined };

function handlerFor(policy: Partial<SignerPolicy> = {}, config: Partial<SignerConfig> = {}, options: SignerHandlerOptions = FIXED) {
  return createSignerHandler(testConfig(config, policy), options);
}

/** A POST /uploads by the default IAM caller, with `options` overriding. */
function post(options: EventOptions = {}) {
  return makeEvent({ body: uploadBody(), authorizer: iamAuthorizer(DEFAULT_ARN), ...options });
}

function upload(result: CallResult): PresignedUpload {
  if (result.status !== 200) throw new Error(`expected 200, got ${result.status} ${result.rawBody}`);
  return result.body as unknown as PresignedUpload;
}

/** Every response: JSON, never cached. */
function expectStandardHeaders(result: CallResult): void {
  expect(result.headers['content-type']).toBe('application/json');
  expect(result.headers['cache-control']).toBe('no-store');
}

/** Every error: the right status and code, a message, and nothing signed. */
function expectError(result: CallResult, status: number, code: string): void {
  expect({ status: result.status, code: errorOf(result).code }).toEqual({ status, code });
  expect(errorOf(result).message.length).toBeGreaterThan(10);
  expect(Object.keys(result.body)).toEqual(['error']);
  expect(result.rawBody).not.toMatch(/https?:\/\/|X-Amz-|"url"/);
  expectStandardHeaders(result);
}

describe('POST /uploads: success', () => {
  test('answers a presigned PUT for one object', async () => {
    const scope = scopeForIdentity(DEFAULT_ARN);
    const result = await call(handlerFor(), post());

    expect(result.status).toBe(200);
    expectStandardHeaders(result);
    const body = upload(result);
    expect(Object.keys(body).sort()).toEqual(['expiresAt', 'headers', 'key', 'method', 'publicUrl', 'url']);
    expect(body.key).toBe(`uploads/${scope}/${PNG_UUID}.png`);
    expect(body.method).toBe('PUT');
    expect(body.headers).toEqual({ 'content-type': 'image/png', 'if-none-match': '*' });
    expect(body.publicUrl).toBe(`${TEST_PUBLIC_BASE_URL}/uploads/${scope}/${PNG_UUID}.png`);
    expect(body.expiresAt).toBe('2024-05-06T07:13:09.000Z');
    expect(body.url.startsWith(`https://${TEST_BUCKET}.s3.${TEST_REGION}.amazonaws.com/${body.key}?`)).toBe(true);
  });

  test('the URL is signed for exactly what the client will send', async () => {
    const body = upload(await call(handlerFor(), post({ body: uploadBody({ size: 11, checksum: HELLO_MD5 }) })));
    const params = queryParams(body.url);

    expect(params.get('X-Amz-SignedHeaders')?.split(';').sort()).toEqual(['content-length', 'content-md5', 'content-type', 'host', 'if-none-match']);
    expect(params.get('X-Amz-Expires')).toBe('300');
    expect(params.get('X-Amz-Credential')).toMatch(new RegExp(`/20240506/${TEST_REGION}/s3/aws4_request$`));
    expect(body.headers).toEqual({ 'content-type': 'image/png', 'content-md5': HELLO_MD5, 'if-none-match': '*' });
    const sent = { ...body.headers, 'content-length': '11' };
    expect(computeSigV4Signature('PUT', body.url, sent, TEST_SECRET_ACCESS_KEY)).toBe(params.get('X-Amz-Signature'));
    expect(computeSigV4Signature('PUT', body.url, { ...sent, 'content-length': '12' }, TEST_SECRET_ACCESS_KEY))
      .not.toBe(params.get('X-Amz-Signature'));
  });

  test('X-Amz-Expires and expiresAt follow the policy', async () => {
    const body = upload(await call(handlerFor({ expiresInSeconds: 900 }), post()));
    expect(queryParams(body.url).get('X-Amz-Expires')).toBe('900');
    expect(body.expiresAt).toBe('2024-05-06T07:23:09.000Z');
  });

  test('the key extension comes from the content type, never from the filename', async () => {
    const png = upload(await call(handlerFor(), post({ body: uploadBody({ filename: 'evil.html' }) })));
    expect(png.key).toMatch(/\.png$/);
    const jpeg = upload(await call(handlerFor(), post({ body: uploadBody({ contentType: 'IMAGE/JPEG', filename: 'a.exe' }) })));
    expect(jpeg.key).toMatch(/\.jpg$/);
    // The name is kept as signed user metadata only.
    expect(jpeg.headers).toEqual({ 'content-type': 'image/jpeg', 'if-none-match': '*', 'x-amz-meta-filename': 'a.exe' });
  });

  test('a type without a known extension gets none', async () => {
    const body = upload(await call(handlerFor({ allowedContentTypes: ['image/x-custom'] }), post({ body: uploadBody({ contentType: 'image/x-custom' }) })));
    expect(body.key).toBe(`uploads/${scopeForIdentity(DEFAULT_ARN)}/${PNG_UUID}`);
  });

  test('every request gets a fresh random key by default', async () => {
    const handler = createSignerHandler(testConfig(), { log: () => undefined });
    const keys = await Promise.all([0, 1, 2].map(async () => upload(await call(handler, post())).key));
    expect(new Set(keys).size).toBe(3);
    for (const key of keys) {
      expect(key.split('/')[2].replace(/\.png$/, '')).toMatch(UUID_RE);
    }
  });

  test('uses the Transfer Acceleration host when enabled, the regional host otherwise', async () => {
    const accelerated = upload(await call(handlerFor({ accelerate: true }), post()));
    expect(new URL(accelerated.url).host).toBe(`${TEST_BUCKET}.s3-accelerate.amazonaws.com`);
    expect(queryParams(accelerated.url).get('X-Amz-Credential')).toContain(`/${TEST_REGION}/s3/`);
    const regional = upload(await call(handlerFor({ accelerate: false }), post()));
    expect(new URL(regional.url).host).toBe(`${TEST_BUCKET}.s3.${TEST_REGION}.amazonaws.com`);
  });

  test('with a local endpoint: path-style URL, acceleration ignored', async () => {
    const body = upload(await call(handlerFor({ accelerate: true }, { endpoint: 'http://localhost:4568' }), post()));
    expect(body.url.startsWith(`http://localhost:4568/${TEST_BUCKET}/${body.key}?`)).toBe(true);
  });

  test('accepts a base64-encoded body', async () => {
    const rawBody = Buffer.from(JSON.stringify(uploadBody())).toString('base64');
    expect((await call(handlerFor(), post({ rawBody, isBase64Encoded: true }))).status).toBe(200);
  });

  test('strips a named stage from the path', async () => {
    expect((await call(handlerFor(), post({ stage: 'prod', path: '/prod/uploads' }))).status).toBe(200);
  });
});

describe('scopes', () => {
  const prefix = 'tenant-a/uploads';

  async function keyFor(auth: SignerPolicy['auth'], authorizer: unknown, identityClaim = 'sub'): Promise<string> {
    const handler = handlerFor({ auth, prefix, identityClaim });
    return upload(await call(handler, post({ authorizer }))).key;
  }

  test('iam: under the prefix and the caller ARN\'s scope', async () => {
    const key = await keyFor('iam', iamAuthorizer(DEFAULT_ARN));
    expect(key).toBe(`${prefix}/${scopeForIdentity(DEFAULT_ARN)}/${PNG_UUID}.png`);
    expect(key.split('/')[2]).toMatch(/^~[A-Za-z0-9_-]{22}$/);
  });

  test('iam: falls back to the user id', async () => {
    expect(await keyFor('iam', iamAuthorizer(undefined, 'AIDAEXAMPLE'))).toBe(`${prefix}/AIDAEXAMPLE/${PNG_UUID}.png`);
  });

  test('authorizer: a readable JWT subject is used as-is', async () => {
    expect(await keyFor('authorizer', jwtAuthorizer({ sub: 'user-123' }))).toBe(`${prefix}/user-123/${PNG_UUID}.png`);
  });

  test('authorizer: an unsafe claim is hashed, so it cannot climb out of its scope', async () => {
    for (const sub of ['../../other', 'a/b', '..', 'x'.repeat(200)]) {
      const key = await keyFor('authorizer', jwtAuthorizer({ sub }));
      expect(key).toBe(`${prefix}/${scopeForIdentity(sub)}/${PNG_UUID}.png`);
      expect(key.split('/')).toHaveLength(4);
      expect(key.split('/')[2]).toMatch(/^~[A-Za-z0-9_-]{22}$/);
    }
  });

  test('authorizer: the configured claim of a Lambda authorizer', async () => {
    expect(await keyFor('authorizer', lambdaAuthorizer({ tenantUser: 'carol' }), 'tenantUser')).toBe(`${prefix}/carol/${PNG_UUID}.png`);
  });

  test('none: the anonymous scope', async () => {
    expect(await keyFor('none', undefined)).toBe(`${prefix}/${ANONYMOUS_SCOPE}/${PNG_UUID}.png`);
  });

  test('two identities never share a scope', async () => {
    const scopes = await Promise.all([
      keyFor('iam', iamAuthorizer('arn:aws:sts::1:assumed-role/R/alice')),
      keyFor('iam', iamAuthorizer('arn:aws:sts::1:assumed-role/R/bob')),
      keyFor('authorizer', jwtAuthorizer({ sub: 'alice' })),
      keyFor('authorizer', jwtAuthorizer({ sub: 'Alice' })),
      keyFor('authorizer', jwtAuthorizer({ sub: 'a/b' })),
      keyFor('authorizer', jwtAuthorizer({ sub: 'a:b' })),
    ].map(async (key) => (await key).split('/')[2]));
    expect(new Set(scopes).size).toBe(scopes.length);
  });

  test.each<[SignerPolicy['auth'], unknown]>([
    ['iam', undefined],
    ['iam', iamAuthorizer('', '')],
    ['iam', jwtAuthorizer({ sub: 'alice' })],
    ['authorizer', undefined],
    ['authorizer', jwtAuthorizer({ email: 'x@example.com' })],
    ['authorizer', jwtAuthorizer({ sub: '' })],
  ])('%s without an identity: 401 UNAUTHORIZED (authorizer %j)', async (auth, authorizer) => {
    expectError(await call(handlerFor({ auth }), post({ authorizer })), 401, ErrorCodes.UNAUTHORIZED);
  });
});

describe('bad input: the right 4xx, never a 5xx, never a URL', () => {
  const handler = handlerFor();

  test.each<[string, EventOptions, number, string]>([
    ['unknown path', { path: '/other' }, 404, ErrorCodes.NOT_FOUND],
    ['root path', { path: '/' }, 404, ErrorCodes.NOT_FOUND],
    ['trailing segment', { path: '/uploads/abc' }, 404, ErrorCodes.NOT_FOUND],
    ['GET /uploads', { method: 'GET' }, 405, ErrorCodes.METHOD_NOT_ALLOWED],
    ['PUT /uploads', { method: 'PUT' }, 405, ErrorCodes.METHOD_NOT_ALLOWED],
    ['OPTIONS /uploads', { method: 'OPTIONS' }, 405, ErrorCodes.METHOD_NOT_ALLOWED],
    ['body too large', { rawBody: JSON.stringify(uploadBody({ filename: 'x'.repeat(9000) })) }, 413, ErrorCodes.REQUEST_TOO_LARGE],
    ['text/plain body', { headers: { 'content-type': 'text/plain' } }, 415, ErrorCodes.UNSUPPORTED_MEDIA_TYPE],
    ['no body', { body: undefined, rawBody: undefined }, 400, ErrorCodes.INVALID_JSON],
    ['not JSON', { rawBody: '{"contentType":' }, 400, ErrorCodes.INVALID_JSON],
    ['a JSON array', { body: [uploadBody()] }, 400, ErrorCodes.INVALID_JSON],
    ['JSON null', { rawBody: 'null' }, 400, ErrorCodes.INVALID_JSON],
    ['unknown field', { body: uploadBody({ bucket: 'other' }) }, 400, ErrorCodes.INVALID_REQUEST],
    ['contentType missing', { body: { size: 1 } }, 400, ErrorCodes.INVALID_REQUEST],
    ['contentType not a string', { body: uploadBody({ contentType: ['image/png'] }) }, 400, ErrorCodes.INVALID_REQUEST],
    ['contentType malformed', { body: uploadBody({ contentType: 'png' }) }, 400, ErrorCodes.INVALID_REQUEST],
    ['contentType not allowed', { body: uploadBody({ contentType: 'text/html' }) }, 415, ErrorCodes.CONTENT_TYPE_NOT_ALLOWED],
    ['SVG', { body: uploadBody({ contentType: 'image/svg+xml' }) }, 415, ErrorCodes.CONTENT_TYPE_NOT_ALLOWED],
    ['size missing', { body: { contentType: 'image/png' } }, 400, ErrorCodes.INVALID_REQUEST],
    ['size a string', { body: uploadBody({ size: '1' }) }, 400, ErrorCodes.INVALID_REQUEST],
    ['size zero', { body: uploadBody({ size: 0 }) }, 400, ErrorCodes.INVALID_REQUEST],
    ['size fractional', { body: uploadBody({ size: 0.5 }) }, 400, ErrorCodes.INVALID_REQUEST],
    ['size huge', { rawBody: '{"contentType":"image/png","size":1e400}' }, 400, ErrorCodes.INVALID_REQUEST],
    ['size above the policy', { body: uploadBody({ size: 25 * 1024 * 1024 + 1 }) }, 413, ErrorCodes.FILE_TOO_LARGE],
    ['filename not a string', { body: uploadBody({ filename: {} }) }, 400, ErrorCodes.INVALID_REQUEST],
    ['filename too long', { body: uploadBody({ filename: 'x'.repeat(256) }) }, 400, ErrorCodes.INVALID_REQUEST],
    ['filename with a control character', { body: uploadBody({ filename: 'a\r\nb' }) }, 400, ErrorCodes.INVALID_REQUEST],
    ['checksum malformed', { body: uploadBody({ checksum: 'abc' }) }, 400, ErrorCodes.INVALID_CHECKSUM],
  ])('%s → %d %s', async (_name, options, status, code) => {
    expectError(await call(handler, post(options)), status, code);
  });

  test('405 says which method to use', async () => {
    const result = await call(handler, post({ method: 'GET' }));
    expect(result.headers.allow).toBe('POST');
  });

  test('413 FILE_TOO_LARGE above 5 GiB for a single PUT even when the policy allows more', async () => {
    const result = await call(handlerFor({ maxFileSize: 10 * 1024 ** 3 }), post({ body: uploadBody({ size: 5 * 1024 ** 3 + 1, method: 'PUT' }) }));
    expectError(result, 413, ErrorCodes.FILE_TOO_LARGE);
    expect(errorOf(result).message).toContain('5 GiB');
  });

  test('odd values in every field never produce a 5xx', async () => {
    const odd: unknown[] = [null, true, 0, -0, -1, 1.5, 1e308, '', ' ', '\u0000', 'x'.repeat(300), [], {}, ['image/png'], { toString: 'x' }];
    const log = jest.fn();
    const quiet = handlerFor({}, {}, { ...FIXED, log });
    for (const field of ['contentType', 'size', 'filename', 'checksum', 'constructor', 'toString']) {
      for (const value of odd) {
        const result = await call(quiet, post({ body: uploadBody({ [field]: value }) }));
        expect(result.status).toBeLessThan(500);
        if (result.status !== 200) expectError(result, result.status, errorOf(result).code);
      }
    }
    expect(log).not.toHaveBeenCalled();
  });
});

describe('faults', () => {
  test('a genuine fault: 500 INTERNAL_ERROR, one log line, no details in the body', async () => {
    // GIVEN credentials that cannot be read
    const log = jest.fn();
    const handler = handlerFor({}, {
      credentials: () => {
        throw new Error('credentials\nunavailable');
      },
    }, { ...FIXED, log });

    // WHEN
    const result = await call(handler, post());

    // THEN
    expectError(result, 500, ErrorCodes.INTERNAL_ERROR);
    expect(errorOf(result).message).toContain('req-0001');
    expect(result.rawBody).not.toMatch(/credentials|unavailable|at .*\.ts/);
    expect(log).toHaveBeenCalledTimes(1);
    const line = log.mock.calls[0][0] as string;
    expect(line).toContain('req-0001');
    expect(line).toContain('Error: credentials unavailable');
    expect(line).not.toContain('\n');
  });

  test('logs with console.error by default', async () => {
    const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const handler = createSignerHandler(testConfig({ credentials: () => { throw new Error('boom'); } }));
      expect((await call(handler, post())).status).toBe(500);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('createSignerHandlerFromEnv', () => {
  test('a valid environment: a working handler', async () => {
    const handler = createSignerHandlerFromEnv(testEnv(), FIXED);
    const body = upload(await call(handler, post()));
    expect(body.key).toBe(`uploads/${scopeForIdentity(DEFAULT_ARN)}/${PNG_UUID}.png`);
  });

  test('a broken environment: logs the reason once, then answers 500 to every request', async () => {
    // GIVEN
    const log = jest.fn();
    const handler = createSignerHandlerFromEnv(testEnv({ [POLICY_ENV]: serializeSignerPolicy({ ...testPolicyWithBadPrefix() }) }), { ...FIXED, log });
    expect(log).toHaveBeenCalledTimes(1);
    expect(log.mock.calls[0][0]).toMatch(/configuration error.*DIRECT_UPLOAD_POLICY has invalid fields: prefix/);

    // WHEN / THEN
    for (const event of [post(), post({ method: 'GET' }), post({ path: '/x' })]) {
      const result = await call(handler, event);
      expectError(result, 500, ErrorCodes.INTERNAL_ERROR);
      expect(errorOf(result).message).toMatch(/misconfigured/);
      expect(result.rawBody).not.toContain('DIRECT_UPLOAD');
    }
    expect(log).toHaveBeenCalledTimes(1);
  });
});

function testPolicyWithBadPrefix(): SignerPolicy {
  return { ...testConfig().policy, prefix: '/leading-slash' };
}

/**
 * The signer's dependency faults, through the real handler and the real S3 store (@aws-sdk/client-s3):
 * a hung S3 (accepts connections, never answers) costs a bounded time and ends in a 503 with a code;
 * S3 errors that are the request's or the deployment's fault stay 500s.
 */
import { createServer, Server, Socket } from 'node:net';
import { call, DEFAULT_ARN, errorOf, iamAuthorizer, makeEvent, testConfig } from './helpers';
import { createSignerHandler } from '../../src/signer/handler';
import { scopeForIdentity } from '../../src/signer/identity';
import { guardedStore, isUnavailable, MultipartStore, S3_SDK_TIMEOUTS } from '../../src/signer/multipart';

const MIB = 1024 * 1024;
const KEY = `uploads/${scopeForIdentity(DEFAULT_ARN)}/0b6f8a4e-3c1d-4f2a-9e7b-5d6c4b3a2f10_${8 * 1024 * 1024}_${5 * 1024 * 1024}.pdf`;
const policy = { allowedContentTypes: ['application/pdf'], multipartThreshold: 6 * MIB, partSize: 5 * MIB };
const event = (path: string, body: unknown) => makeEvent({ path, body, authorizer: iamAuthorizer(DEFAULT_ARN) });

describe('a hung S3 (connections accepted, never answered)', () => {
  let server: Server;
  const sockets = new Set<Socket>();
  let endpoint: string;
  beforeAll(async () => {
    server = createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  test('multipart create answers 503 SERVICE_UNAVAILABLE within the SDK budget, far inside the function timeout', async () => {
    const lines: string[] = [];
    const handler = createSignerHandler(testConfig({ endpoint }, policy), { log: (l) => lines.push(l) });
    const started = Date.now();
    const res = await call(handler, event('/uploads', { contentType: 'application/pdf', size: 8 * MIB }));
    const elapsed = Date.now() - started;
    expect({ status: res.status, code: errorOf(res).code }).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE' });
    // The call's budget (attempts and backoff included) bounds it, far below the Lambda timeout (20 s).
    expect(elapsed).toBeGreaterThanOrEqual(S3_SDK_TIMEOUTS.requestTimeout);
    expect(elapsed).toBeLessThan(S3_SDK_TIMEOUTS.callBudget + 1000);
    expect(lines).toEqual([expect.stringMatching(/S3 unavailable \(request req-0001\)/)]);
  }, 20_000);
});

describe('which S3 errors are "unavailable"', () => {
  const withStatus = (name: string, status?: number) =>
    Object.assign(new Error(name), { name, ...(status ? { $metadata: { httpStatusCode: status } } : {}) });

  test.each([
    ['no response (ECONNREFUSED, timeouts)', withStatus('TimeoutError'), true],
    ['500 InternalError', withStatus('InternalError', 500), true],
    ['503 SlowDown', withStatus('SlowDown', 503), true],
    ['429 throttling', withStatus('ThrottlingException', 429), true],
    ['403 AccessDenied (a deployment fault)', withStatus('AccessDenied', 403), false],
    ['400 InvalidRequest', withStatus('InvalidRequest', 400), false],
  ])('%s → %s', (_name, err, expected) => {
    expect(isUnavailable(err)).toBe(expected);
  });

  test('through the handler: unavailable → 503 with code; a 403 from S3 → 500 INTERNAL_ERROR (no detail leaked)', async () => {
    const failing = (err: Error): MultipartStore => ({
      create: async () => { throw err; },
      listParts: async () => { throw err; },
      listUploads: async () => { throw err; },
      complete: async () => { throw err; },
      abort: async () => { throw err; },
      storedSize: async () => { throw err; },
    });
    for (const [err, status, code] of [[withStatus('SlowDown', 503), 503, 'SERVICE_UNAVAILABLE'], [withStatus('AccessDenied', 403), 500, 'INTERNAL_ERROR']] as const) {
      const handler = createSignerHandler(testConfig({}, policy), { log: () => undefined, multipartStore: failing(err) });
      for (const [path, body] of [
        ['/uploads', { contentType: 'application/pdf', size: 8 * MIB }],
        ['/uploads/multipart/parts', { key: KEY, uploadId: 'u', size: 8 * MIB }],
        ['/uploads/multipart/complete', { key: KEY, uploadId: 'u', size: 8 * MIB }],
        ['/uploads/multipart/abort', { key: KEY, uploadId: 'u' }],
      ] as const) {
        const res = await call(handler, event(path, body));
        expect({ path, status: res.status, code: errorOf(res).code }).toEqual({ path, status, code });
        expect(res.rawBody).not.toMatch(/SlowDown|AccessDenied/);
      }
    }
  });

  test('guardedStore passes results and request errors through unchanged', async () => {
    const inner: MultipartStore = { create: async () => 'id', listParts: async () => undefined, listUploads: async () => [], complete: async () => undefined, abort: async () => false, storedSize: async () => 7 };
    const store = guardedStore(inner);
    await expect(store.create('k', 'image/png')).resolves.toBe('id');
    await expect(store.listParts('k', 'u')).resolves.toBeUndefined();
    await expect(store.abort('k', 'u')).resolves.toBe(false);
    await expect(store.storedSize('k')).resolves.toBe(7);
  });
});

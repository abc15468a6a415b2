/**
 * The per-caller upload quota through the real handler and the real DynamoDB store
 * (`@aws-sdk/client-dynamodb`), against dynalite started in-process on an ephemeral port.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  call,
  cognitoAuthorizer,
  DEFAULT_ARN,
  errorOf,
  iamAuthorizer,
  jwtAuthorizer,
  makeEvent,
  PNG_UUID,
  testConfig,
  TEST_NOW,
  testEnv,
  uploadBody,
} from './helpers';
import { parseQuotaSettings, QUOTA_ENV } from '../../src/contract/environment';
import { SignerPolicy } from '../../src/contract/upload-rules';
import { LocalDynamoDb, startLocalDynamoDb } from '../../src/local/dynamodb';
import { loadSignerConfig } from '../../src/signer/config';
import { createSignerHandler } from '../../src/signer/handler';
import { scopeForIdentity } from '../../src/signer/identity';
import { MultipartStore } from '../../src/signer/multipart';
import {
  QUOTA_COUNT_ATTRIBUTE,
  QUOTA_TTL_ATTRIBUTE,
  secondsUntilNextWindow,
  windowStart,
} from '../../src/signer/quota';

const MIB = 1024 * 1024;
const TABLE = 'quota-test';
let db: LocalDynamoDb;

beforeAll(async () => {
  db = await startLocalDynamoDb({
    host: '127.0.0.1',
    port: 0,
    region: 'eu-west-1',
    tableName: TABLE,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});
afterAll(async () => {
  await db?.stop();
});

/** A multipart store that only creates (the quota is checked before it is called). */
const creatingStore: MultipartStore = {
  create: async () => 'upload-1',
  listParts: async () => [],
  listUploads: async () => ['upload-1'],
  complete: async () => undefined,
  abort: async () => true,
  storedSize: async () => undefined,
};

let tableSeq = 0;
/** A handler with a quota on its own window key space (a fresh clock origin per test keeps tests apart). */
function setup(maxUploads: number, windowSeconds = 60, policy: Partial<SignerPolicy> = {}) {
  const clock = { now: new Date(TEST_NOW.getTime() + (++tableSeq) * 86_400_000) };
  const lines: string[] = [];
  const handler = createSignerHandler(
    testConfig({ quota: { table: TABLE, maxUploads, windowSeconds }, dynamoDbEndpoint: db.endpoint }, {
      auth: 'authorizer', allowedContentTypes: ['image/png', 'application/pdf'], multipartThreshold: 6 * MIB, partSize: 5 * MIB, ...policy,
    }),
    { now: () => clock.now, randomUUID: () => PNG_UUID, log: (l) => lines.push(l), multipartStore: creatingStore },
  );
  const as = (user: string, body: unknown = uploadBody(), path = '/uploads', sourceIp?: string) => {
    const event = makeEvent({ path, body, authorizer: policy.auth === 'none' ? undefined : jwtAuthorizer({ sub: user }) });
    if (sourceIp) (event.requestContext.http as { sourceIp: string }).sourceIp = sourceIp;
    return call(handler, event);
  };
  return { handler, clock, lines, as };
}

describe('settings and windows (pure)', () => {
  test('parseQuotaSettings reads the construct\'s JSON and names bad fields', () => {
    expect(parseQuotaSettings(undefined)).toBeUndefined();
    expect(parseQuotaSettings('{"table":"t-1","maxUploads":5,"windowSeconds":60}')).toEqual({ table: 't-1', maxUploads: 5, windowSeconds: 60 });
    expect(() => parseQuotaSettings('{')).toThrow(QUOTA_ENV);
    expect(() => parseQuotaSettings('{"table":"t-1","maxUploads":0,"windowSeconds":1.5}')).toThrow(/maxUploads.*windowSeconds/);
  });

  test('the signer reads the quota from its environment; a broken value is a configuration error naming the variable', () => {
    expect(loadSignerConfig(testEnv()).quota).toBeUndefined();
    expect(loadSignerConfig(testEnv({ [QUOTA_ENV]: '{"table":"quota-1","maxUploads":3,"windowSeconds":60}' })).quota)
      .toEqual({ table: 'quota-1', maxUploads: 3, windowSeconds: 60 });
    expect(() => loadSignerConfig(testEnv({ [QUOTA_ENV]: '{"table":"q","maxUploads":3,"windowSeconds":60}' })))
      .toThrow(/DIRECT_UPLOAD_QUOTA has invalid fields: table must be a DynamoDB table name/);
  });

  test('fixed windows: start and the retry-after to the next one', () => {
    const now = new Date('2024-05-06T07:08:09.250Z');
    expect(windowStart(now, 3600)).toBe(Date.parse('2024-05-06T07:00:00Z') / 1000);
    expect(secondsUntilNextWindow(now, 3600)).toBe(3600 - 8 * 60 - 9);
    expect(secondsUntilNextWindow(new Date('2024-05-06T07:59:59.999Z'), 3600)).toBe(1);
  });
});

describe('quota enforced by DynamoDB (dynalite)', () => {
  test('per caller: maxUploads succeed, the next is 429 QUOTA_EXCEEDED with retry-after, nothing signed', async () => {
    const { as, clock } = setup(3, 60);
    for (let i = 0; i < 3; i++) expect((await as('alice')).status).toBe(200);
    const refused = await as('alice');
    expect(refused.status).toBe(429);
    expect(errorOf(refused).code).toBe('QUOTA_EXCEEDED');
    expect(errorOf(refused).message).toMatch(/at most 3 upload\(s\) per minute/);
    expect(refused.headers['retry-after']).toBe(String(secondsUntilNextWindow(clock.now, 60)));
    expect(refused.rawBody).not.toMatch(/X-Amz-|"url"/);
  });

  test('callers are independent', async () => {
    const { as } = setup(1, 60);
    expect((await as('alice')).status).toBe(200);
    expect((await as('alice')).status).toBe(429);
    expect((await as('bob')).status).toBe(200);
    expect((await as('bob')).status).toBe(429);
  });

  test('per window: the next window starts a new count; the item carries a TTL', async () => {
    const { as, clock } = setup(2, 60);
    expect((await as('alice')).status).toBe(200);
    expect((await as('alice')).status).toBe(200);
    expect((await as('alice')).status).toBe(429);
    const start = windowStart(clock.now, 60);
    const item = await db.client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `alice#${start}` } } }));
    expect(item.Item?.[QUOTA_COUNT_ATTRIBUTE]).toEqual({ N: '2' });
    expect(item.Item?.[QUOTA_TTL_ATTRIBUTE]).toEqual({ N: String(start + 120) });

    clock.now = new Date((start + 60) * 1000);
    expect((await as('alice')).status).toBe(200);
  });

  test('atomic under concurrency: 20 parallel requests against a quota of 5 sign exactly 5', async () => {
    const { as } = setup(5, 3600);
    const results = await Promise.all(Array.from({ length: 20 }, () => as('carol')));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
  });

  test('every new upload counts (PUT, POST form, multipart create, Uppy PutObject and CreateMultipartUpload); parts and listings do not', async () => {
    const { as } = setup(5, 3600);
    expect((await as('dave', uploadBody({ method: 'PUT' }))).status).toBe(200);
    expect((await as('dave', uploadBody({ method: 'POST' }))).status).toBe(200);
    const plan = await as('dave', { contentType: 'application/pdf', size: 8 * MIB });
    expect(plan.body).toHaveProperty('uploadId', 'upload-1');
    expect((await as('dave', { method: 'PUT', key: 'a.png', contentType: 'image/png' }, '/uppy/sign')).status).toBe(200);
    expect((await as('dave', { method: 'POST', key: 'b.pdf', size: 8 * MIB, chunkSize: 5 * MIB }, '/uppy/sign')).status).toBe(200);
    // Quota used up: parts of an existing upload are still signed, new uploads are not.
    const key = plan.body.key as string;
    expect((await as('dave', { method: 'PUT', key, uploadId: 'upload-1', partNumber: 2 }, '/uppy/sign')).status).toBe(200);
    expect((await as('dave', { method: 'GET', key, uploadId: 'upload-1' }, '/uppy/sign')).status).toBe(200);
    expect((await as('dave', { key, uploadId: 'upload-1', size: 8 * MIB, partNumbers: [2] }, '/uploads/multipart/parts')).status).toBe(200);
    expect((await as('dave', { method: 'PUT', key: 'c.png', contentType: 'image/png' }, '/uppy/sign')).status).toBe(429);
    expect((await as('dave', { contentType: 'application/pdf', size: 8 * MIB })).status).toBe(429);
  });

  test('refused requests (bad input, disallowed type) do not count', async () => {
    const { as } = setup(1, 3600);
    expect((await as('erin', uploadBody({ contentType: 'text/html' }))).status).toBe(415);
    expect((await as('erin', uploadBody({ size: -1 }))).status).toBe(400);
    expect((await as('erin')).status).toBe(200);
  });

  test('anonymous callers share one scope, so they are counted per source IP', async () => {
    const { as } = setup(1, 3600, { auth: 'none' });
    expect((await as('', uploadBody(), '/uploads', '198.51.100.1')).status).toBe(200);
    expect((await as('', uploadBody(), '/uploads', '198.51.100.1')).status).toBe(429);
    expect((await as('', uploadBody(), '/uploads', '198.51.100.2')).status).toBe(200);
  });

  test('IAM callers are counted by their scope (principal ARN)', async () => {
    const handler = createSignerHandler(
      testConfig({ quota: { table: TABLE, maxUploads: 1, windowSeconds: 7 }, dynamoDbEndpoint: db.endpoint }),
      { now: () => new Date(TEST_NOW.getTime() + 999 * 86_400_000), log: () => undefined },
    );
    const ev = () => makeEvent({ body: uploadBody(), authorizer: iamAuthorizer(DEFAULT_ARN) });
    expect((await call(handler, ev())).status).toBe(200);
    expect((await call(handler, ev())).status).toBe(429);
    expect(scopeForIdentity(DEFAULT_ARN)).toMatch(/^~/); // hashed: the key is the scope, never the raw ARN
  });
});

describe('Cognito identity pool callers (IAM authorization)', () => {
  /** A handler with a quota of one upload per window, and a caller from a given pool identity and IP. */
  function cognitoSetup(windowSeconds: number) {
    const now = new Date(TEST_NOW.getTime() + (++tableSeq) * 86_400_000);
    const handler = createSignerHandler(
      testConfig({ quota: { table: TABLE, maxUploads: 1, windowSeconds }, dynamoDbEndpoint: db.endpoint }),
      { now: () => now, log: () => undefined },
    );
    return (identityId: string, authenticated: boolean, sourceIp = '198.51.100.1') => {
      const event = makeEvent({ body: uploadBody(), authorizer: cognitoAuthorizer(`eu-west-1:${identityId}`, { authenticated }) });
      (event.requestContext.http as { sourceIp: string }).sourceIp = sourceIp;
      return call(handler, event).then((r) => r.status);
    };
  }

  test('authenticated identities of one pool (one shared role ARN) are counted apart', async () => {
    const as = cognitoSetup(11);
    expect(await as('alice', true)).toBe(200);
    expect(await as('alice', true)).toBe(429);
    expect(await as('bob', true)).toBe(200);
  });

  test('unauthenticated identities, which anybody can mint, share the per-source-IP count of anonymous callers', async () => {
    const as = cognitoSetup(13);
    expect(await as('guest-1', false)).toBe(200);
    expect(await as('guest-2', false)).toBe(429);
    expect(await as('guest-3', false, '198.51.100.2')).toBe(200);
  });
});

describe('fail closed', () => {
  test('DynamoDB stopped mid-test: 503 SERVICE_UNAVAILABLE with code, message and retry-after, fast; logged once per request', async () => {
    const own = await startLocalDynamoDb({
      host: '127.0.0.1',
      port: 0,
      region: 'eu-west-1',
      tableName: TABLE,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const lines: string[] = [];
    const handler = createSignerHandler(
      testConfig({ quota: { table: TABLE, maxUploads: 10, windowSeconds: 60 }, dynamoDbEndpoint: own.endpoint }),
      { now: () => TEST_NOW, log: (l) => lines.push(l) },
    );
    const ev = () => makeEvent({ body: uploadBody(), authorizer: iamAuthorizer(DEFAULT_ARN) });
    expect((await call(handler, ev())).status).toBe(200);

    await own.stop();
    const started = Date.now();
    const res = await call(handler, ev());
    expect(Date.now() - started).toBeLessThan(5000);
    expect(res.status).toBe(503);
    expect(errorOf(res)).toEqual({ code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/upload quota service is temporarily unavailable/) });
    expect(res.headers['retry-after']).toBe('5');
    expect(res.rawBody).not.toMatch(/X-Amz-|"url"|ECONNREFUSED|127\.0\.0\.1/);
    expect(lines).toEqual([expect.stringMatching(/upload quota unavailable \(request req-0001\)/)]);
  });

  test('a broken counter (any error) refuses too: nothing is signed without the quota', async () => {
    const handler = createSignerHandler(
      testConfig({ quota: { table: TABLE, maxUploads: 10, windowSeconds: 60 } }),
      { log: () => undefined, quotaStore: { consume: async () => { throw new Error('AccessDeniedException'); } } },
    );
    const res = await call(handler, makeEvent({ body: uploadBody(), authorizer: iamAuthorizer(DEFAULT_ARN) }));
    expect({ status: res.status, code: errorOf(res).code }).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE' });
  });

  test('without a quota, no counter is ever called', async () => {
    const consume = jest.fn();
    const handler = createSignerHandler(testConfig(), { log: () => undefined, quotaStore: { consume } });
    expect((await call(handler, makeEvent({ body: uploadBody(), authorizer: iamAuthorizer(DEFAULT_ARN) }))).status).toBe(200);
    expect(consume).not.toHaveBeenCalled();
  });
});

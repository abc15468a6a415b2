import { corsResponseHeaders, localAuthorizerContext, normalizeResult, toHttpApiEvent } from '../../src/local/http-api';

describe('toHttpApiEvent', () => {
  const now = new Date('2026-11-21T15:40:59.123Z');

  test('builds the HTTP API payload format 2.0 event', () => {
    const event = toHttpApiEvent({
      method: 'post',
      url: '/uploads?a=1&a=2&b=x%20y',
      headers: { 'Content-Type': 'application/json', 'X-Local-User': 'alice', 'cookie': 'c1=1; c2=2', 'user-agent': 'ua', 'host': '127.0.0.1:3001' },
      body: Buffer.from('{"size":1}'),
      sourceIp: '127.0.0.1',
    }, { auth: 'authorizer', identityClaim: 'sub' }, now);

    expect(event).toEqual({
      version: '2.0',
      routeKey: 'POST /uploads',
      rawPath: '/uploads',
      rawQueryString: 'a=1&a=2&b=x%20y',
      cookies: ['c1=1', 'c2=2'],
      headers: { 'content-type': 'application/json', 'x-local-user': 'alice', 'user-agent': 'ua', 'host': '127.0.0.1:3001' },
      queryStringParameters: { a: '1,2', b: 'x y' },
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: '127.0.0.1:3001',
        domainPrefix: '127',
        http: { method: 'POST', path: '/uploads', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'ua' },
        requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        routeKey: 'POST /uploads',
        stage: '$default',
        time: '21/Nov/2026:15:40:59 +0000',
        timeEpoch: now.getTime(),
        authorizer: { jwt: { claims: { sub: 'alice' }, scopes: null } },
      },
      body: '{"size":1}',
      isBase64Encoded: false,
    });
  });

  test('binary bodies arrive base64-encoded; no body, no body field', () => {
    const binary = toHttpApiEvent({ method: 'PUT', url: '/x', headers: { 'content-type': 'image/png' }, body: Buffer.from([0, 1, 2]), sourceIp: '::1' }, { auth: 'none' });
    expect([binary.body, binary.isBase64Encoded]).toEqual(['AAEC', true]);
    const empty = toHttpApiEvent({ method: 'GET', url: '/x', headers: {}, body: Buffer.alloc(0), sourceIp: '::1' }, { auth: 'none' });
    expect('body' in empty).toBe(false);
    expect('queryStringParameters' in empty).toBe(false);
    expect(empty.isBase64Encoded).toBe(false);
  });
});

describe('localAuthorizerContext', () => {
  test('JWT claims under the policy\'s identity claim', () => {
    expect(localAuthorizerContext('u1', { auth: 'authorizer', identityClaim: 'email' })).toEqual({ jwt: { claims: { email: 'u1' }, scopes: null } });
  });
  test('an IAM principal with auth iam', () => {
    expect(localAuthorizerContext('u1', { auth: 'iam' })).toMatchObject({ iam: { userArn: 'arn:aws:iam::000000000000:user/u1', userId: 'u1' } });
  });
  test('nothing without a user or with auth none', () => {
    expect(localAuthorizerContext(undefined, { auth: 'authorizer' })).toBeUndefined();
    expect(localAuthorizerContext('u1', { auth: 'none' })).toBeUndefined();
  });
});

describe('corsResponseHeaders', () => {
  const cors = { allowOrigins: ['https://a.example'], allowMethods: ['POST'], allowHeaders: ['content-type'], maxAgeSeconds: 60 };
  test('allowed origin: echoed, with preflight details on preflight only', () => {
    expect(corsResponseHeaders('https://a.example', cors, true)).toEqual({
      'access-control-allow-origin': 'https://a.example',
      'vary': 'origin',
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'content-type',
      'access-control-max-age': '60',
    });
    expect(corsResponseHeaders('https://a.example', cors, false)).toEqual({ 'access-control-allow-origin': 'https://a.example', 'vary': 'origin' });
  });
  test('other or no origin: no CORS headers', () => {
    expect(corsResponseHeaders('https://b.example', cors, true)).toEqual({});
    expect(corsResponseHeaders(undefined, cors, false)).toEqual({});
  });
});

test('normalizeResult: a plain value becomes a 200 JSON body, as API Gateway does', () => {
  expect(normalizeResult('hi')).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: 'hi' });
  expect(normalizeResult({ statusCode: 204 })).toEqual({ statusCode: 204 });
});

import { iamAuthorizer, jwtAuthorizer, lambdaAuthorizer, makeEvent, testPolicy } from './helpers';
import { ANONYMOUS_SCOPE, callerScope, readIdentity, scopeForIdentity } from '../../src/signer/identity';
import { ErrorCodes } from '../../src/signer/protocol';

const HASHED_RE = /^~[A-Za-z0-9_-]{22}$/;

function contextWith(authorizer: unknown): unknown {
  return makeEvent({ authorizer }).requestContext;
}

describe('scopeForIdentity', () => {
  test.each(['alice', 'user_42', 'a-b.c', '0', 'x'.repeat(128)])('keeps the safe identity %s as-is', (identity) => {
    expect(scopeForIdentity(identity)).toBe(identity);
  });

  test.each([
    'arn:aws:sts::123456789012:assumed-role/Uploader/alice',
    'AROAEXAMPLE:session',
    '.',
    '..',
    '.hidden',
    'x'.repeat(129),
    'a/b',
    'a b',
    'émile',
    '~abc',
    '',
  ])('hashes the unsafe identity %j', (identity) => {
    expect(scopeForIdentity(identity)).toMatch(HASHED_RE);
  });

  test('is deterministic', () => {
    const arn = 'arn:aws:iam::123456789012:user/bob';
    expect(scopeForIdentity(arn)).toBe(scopeForIdentity(arn));
  });

  test('matches base64url(sha256(identity)), first 22 characters', () => {
    // printf 'a/b' | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | cut -c1-22
    expect(scopeForIdentity('a/b')).toBe('~wUzdwDP2S53qgOpnXPKAoB');
  });

  test('never gives two distinct identities the same scope', () => {
    const identities = [
      'alice', 'Alice', 'bob', 'a/b', 'a:b', 'a b', 'arn:aws:sts::1:assumed-role/R/alice', 'arn:aws:sts::1:assumed-role/R/bob',
      '~alice', '.', '..', 'x'.repeat(128), 'x'.repeat(129), 'x'.repeat(130),
    ];
    const scopes = identities.map(scopeForIdentity);
    expect(new Set(scopes).size).toBe(identities.length);
  });
});

describe('readIdentity', () => {
  const iam = testPolicy({ auth: 'iam' });
  const jwt = testPolicy({ auth: 'authorizer', identityClaim: 'sub' });

  test('iam: the caller ARN, else the user id', () => {
    expect(readIdentity(contextWith(iamAuthorizer('arn:aws:iam::1:user/a', 'AIDA1')), iam)).toBe('arn:aws:iam::1:user/a');
    expect(readIdentity(contextWith(iamAuthorizer(undefined, 'AIDA1')), iam)).toBe('AIDA1');
    expect(readIdentity(contextWith(iamAuthorizer('', '')), iam)).toBeUndefined();
    expect(readIdentity(contextWith(undefined), iam)).toBeUndefined();
  });

  test('iam mode ignores JWT claims', () => {
    expect(readIdentity(contextWith(jwtAuthorizer({ sub: 'alice' })), iam)).toBeUndefined();
  });

  test('authorizer: the configured JWT claim', () => {
    expect(readIdentity(contextWith(jwtAuthorizer({ sub: 'alice', email: 'a@example.com' })), jwt)).toBe('alice');
    expect(readIdentity(contextWith(jwtAuthorizer({ sub: 'alice', email: 'a@example.com' })), { ...jwt, identityClaim: 'email' }))
      .toBe('a@example.com');
    expect(readIdentity(contextWith(jwtAuthorizer({ sub: 12345 })), jwt)).toBe('12345');
  });

  test('authorizer: the Lambda authorizer context key', () => {
    expect(readIdentity(contextWith(lambdaAuthorizer({ sub: 'carol' })), jwt)).toBe('carol');
    expect(readIdentity(contextWith(lambdaAuthorizer({ userId: 'dave' })), { ...jwt, identityClaim: 'userId' })).toBe('dave');
  });

  test.each([
    ['no authorizer', undefined],
    ['claim absent', jwtAuthorizer({ email: 'a@example.com' })],
    ['claim empty', jwtAuthorizer({ sub: '' })],
    ['claim is a list', jwtAuthorizer({ sub: ['a', 'b'] })],
    ['claim is a boolean', jwtAuthorizer({ sub: true })],
    ['claim is an object', lambdaAuthorizer({ sub: { id: 'x' } })],
    ['claims not an object', { jwt: { claims: 'sub' } }],
    ['claim only inherited', { jwt: { claims: Object.create({ sub: 'mallory' }) as object } }],
  ])('authorizer: undefined when %s', (_name, authorizer) => {
    expect(readIdentity(contextWith(authorizer), jwt)).toBeUndefined();
  });
});

describe('callerScope', () => {
  test('none: always the anonymous scope, whatever the request says', () => {
    const policy = testPolicy({ auth: 'none' });
    expect(callerScope(contextWith(undefined), policy)).toEqual({ ok: true, value: ANONYMOUS_SCOPE });
    expect(callerScope(contextWith(jwtAuthorizer({ sub: 'alice' })), policy)).toEqual({ ok: true, value: ANONYMOUS_SCOPE });
  });

  test('iam: the hashed ARN', () => {
    const arn = 'arn:aws:sts::123456789012:assumed-role/Uploader/alice';
    expect(callerScope(contextWith(iamAuthorizer(arn)), testPolicy({ auth: 'iam' }))).toEqual({ ok: true, value: scopeForIdentity(arn) });
  });

  test.each(['iam', 'authorizer'] as const)('%s: 401 UNAUTHORIZED without an identity', (auth) => {
    const outcome = callerScope(contextWith(undefined), testPolicy({ auth }));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.rejection.status).toBe(401);
    expect(outcome.rejection.code).toBe(ErrorCodes.UNAUTHORIZED);
    expect(outcome.rejection.message).toMatch(/authenticate/);
  });
});

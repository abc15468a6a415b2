import { COGNITO_ROLE_ARN, cognitoAuthorizer, iamAuthorizer, jwtAuthorizer, lambdaAuthorizer, makeEvent, testPolicy } from './helpers';
import { ErrorCodes } from '../../src/contract/signer-protocol';
import { ANONYMOUS_SCOPE, callerScope, readIdentity, resolveCaller, scopeForIdentity } from '../../src/signer/identity';

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

describe('Cognito identity pool callers (IAM authorization)', () => {
  const iam = testPolicy({ auth: 'iam' });
  const scopeOf = (authorizer: unknown): string => {
    const outcome = callerScope(contextWith(authorizer), iam);
    if (!outcome.ok) throw new Error(`refused: ${outcome.rejection.message}`);
    return outcome.value;
  };
  const ALICE = 'eu-west-1:11111111-1111-4111-8111-111111111111';
  const BOB = 'eu-west-1:22222222-2222-4222-8222-222222222222';

  test('every identity of a pool arrives with the same role session ARN, yet gets its own scope', () => {
    expect(readIdentity(contextWith(cognitoAuthorizer(ALICE)), iam)).not.toBe(COGNITO_ROLE_ARN);
    expect(scopeOf(cognitoAuthorizer(ALICE))).not.toBe(scopeOf(cognitoAuthorizer(BOB)));
    expect(scopeOf(cognitoAuthorizer(ALICE))).not.toBe(scopeForIdentity(COGNITO_ROLE_ARN));
  });

  test('the session name does not matter: a classic-flow caller naming its session after another identity stays in its own scope', () => {
    const chosen = 'arn:aws:sts::123456789012:assumed-role/Cognito_UploadsAuth_Role/alice';
    expect(scopeOf(cognitoAuthorizer(BOB, { userArn: chosen }))).toBe(scopeOf(cognitoAuthorizer(BOB)));
    expect(scopeOf(cognitoAuthorizer(BOB, { userArn: chosen }))).not.toBe(scopeOf(cognitoAuthorizer(ALICE, { userArn: chosen })));
  });

  test('the same identity id in two pools gets two scopes', () => {
    const otherPool = 'eu-west-1:4f3c2b1a-0000-4000-8000-000000000002';
    expect(scopeOf(cognitoAuthorizer(ALICE))).not.toBe(scopeOf(cognitoAuthorizer(ALICE, { identityPoolId: otherPool })));
  });

  test('unambiguous: no split of pool and identity id collides with another', () => {
    const scopes = [
      scopeOf(cognitoAuthorizer('b:c', { identityPoolId: 'a' })),
      scopeOf(cognitoAuthorizer('c', { identityPoolId: 'a:b' })),
      scopeOf(cognitoAuthorizer('a', { identityPoolId: 'b' })),
      scopeOf(cognitoAuthorizer('b', { identityPoolId: 'a' })),
    ];
    expect(new Set(scopes).size).toBe(scopes.length);
  });

  test('hashed, never readable: an unauthenticated identity id is a bearer credential and keys are public', () => {
    for (const authenticated of [true, false]) {
      const scope = scopeOf(cognitoAuthorizer(ALICE, { authenticated }));
      expect(scope).toMatch(HASHED_RE);
      expect(scope).not.toContain('11111111');
    }
  });

  test('authenticated and unauthenticated identities keep their own scope (an identity keeps its id when it signs in)', () => {
    expect(scopeOf(cognitoAuthorizer(ALICE, { authenticated: false }))).toBe(scopeOf(cognitoAuthorizer(ALICE)));
    expect(scopeOf(cognitoAuthorizer(ALICE, { authenticated: false }))).not.toBe(scopeOf(cognitoAuthorizer(BOB, { authenticated: false })));
  });

  test.each([
    ['no identity id', { amr: ['authenticated'], identityPoolId: 'eu-west-1:p' }],
    ['an empty identity id', { amr: ['authenticated'], identityId: '', identityPoolId: 'eu-west-1:p' }],
    ['no pool id', { amr: ['authenticated'], identityId: 'eu-west-1:i' }],
    ['a numeric identity id', { amr: ['authenticated'], identityId: 7, identityPoolId: 'eu-west-1:p' }],
    ['not an object', 'eu-west-1:i'],
  ])('a Cognito identity with %s: 401, never the shared role ARN', (_name, cognitoIdentity) => {
    const authorizer = { iam: { ...(iamAuthorizer(COGNITO_ROLE_ARN) as { iam: object }).iam, cognitoIdentity } };
    expect(readIdentity(contextWith(authorizer), iam)).toBeUndefined();
    const outcome = callerScope(contextWith(authorizer), iam);
    expect(outcome.ok ? outcome.value : outcome.rejection.status).toBe(401);
  });

  test('IAM users and role sessions keep their scopes (the ARN), so existing uploads stay reachable', () => {
    for (const arn of ['arn:aws:iam::123456789012:user/alice', 'arn:aws:sts::123456789012:assumed-role/Uploader/alice']) {
      expect(scopeOf(iamAuthorizer(arn))).toBe(scopeForIdentity(arn));
    }
  });
});

describe('resolveCaller: the scope and the quota subject', () => {
  const ALICE = 'eu-west-1:11111111-1111-4111-8111-111111111111';
  const BOB = 'eu-west-1:22222222-2222-4222-8222-222222222222';
  const fromIp = (authorizer: unknown, sourceIp: string): unknown => {
    const context = contextWith(authorizer) as { http: { sourceIp: string } };
    context.http.sourceIp = sourceIp;
    return context;
  };
  const resolved = (authorizer: unknown, policy = testPolicy({ auth: 'iam' }), sourceIp = '192.0.2.1') => {
    const outcome = resolveCaller(fromIp(authorizer, sourceIp), policy);
    if (!outcome.ok) throw new Error(`refused: ${outcome.rejection.message}`);
    return outcome.value;
  };

  test('callers who cannot mint identities are counted by their scope', () => {
    for (const authorizer of [iamAuthorizer('arn:aws:iam::1:user/a'), cognitoAuthorizer(ALICE)]) {
      const caller = resolved(authorizer);
      expect(caller.quotaSubject).toBe(caller.scope);
    }
    const jwt = resolved(jwtAuthorizer({ sub: 'alice' }), testPolicy({ auth: 'authorizer' }));
    expect(jwt).toEqual({ scope: 'alice', quotaSubject: 'alice' });
  });

  test('unauthenticated Cognito identities (anybody can mint one) are counted like anonymous callers: per source IP', () => {
    const alice = resolved(cognitoAuthorizer(ALICE, { authenticated: false }), undefined, '198.51.100.7');
    const bob = resolved(cognitoAuthorizer(BOB, { authenticated: false }), undefined, '198.51.100.7');
    expect(alice.scope).not.toBe(bob.scope);
    expect(alice.quotaSubject).toBe(bob.quotaSubject);
    expect(alice.quotaSubject).toBe(`${ANONYMOUS_SCOPE}@198.51.100.7`);
    expect(resolved(cognitoAuthorizer(ALICE, { authenticated: false }), undefined, '198.51.100.8').quotaSubject).not.toBe(alice.quotaSubject);
  });

  test('an identity whose amr does not say "authenticated" counts as unauthenticated', () => {
    const authorizer = cognitoAuthorizer(ALICE) as { iam: { cognitoIdentity: { amr: unknown } } };
    for (const amr of [[], null, 'authenticated', ['cognito-idp.eu-west-1.amazonaws.com/x']]) {
      authorizer.iam.cognitoIdentity.amr = amr;
      expect(resolved(authorizer).quotaSubject).toBe(`${ANONYMOUS_SCOPE}@192.0.2.1`);
    }
  });

  test('anonymous callers: one scope, counted per source IP', () => {
    expect(resolved(undefined, testPolicy({ auth: 'none' }), '203.0.113.9'))
      .toEqual({ scope: ANONYMOUS_SCOPE, quotaSubject: `${ANONYMOUS_SCOPE}@203.0.113.9` });
  });
});

/**
 * Who is calling, and the key segment ("scope") their uploads live under.
 *
 * The identity comes from the HTTP API (payload v2) authorizer context, per the policy's auth mode,
 * and only from values the caller cannot choose:
 * - IAM, Cognito identity pool credentials: the pool id and identity id (every identity of a pool
 *   arrives as the same `assumed-role/<Role>/CognitoIdentityCredentials` ARN, so the ARN is no identity);
 * - IAM, any other principal: the principal ARN (`userArn`). For role sessions the session name is
 *   part of it and is chosen by whoever calls AssumeRole: the role's trust policy must pin it (README);
 * - JWT / Lambda authorizer: the claim or context key `identityClaim`.
 * A caller without an identity is refused (401) unless the policy is anonymous: there is no shared
 * fallback scope.
 */
import * as crypto from 'node:crypto';
import { accept, Outcome, reject } from './http';
import { ErrorCodes } from '../contract/signer-protocol';
import { SignerPolicy } from '../contract/upload-rules';

/** The scope of every caller when the policy allows anonymous uploads (`auth: 'none'`). */
export const ANONYMOUS_SCOPE = 'anonymous';

/** An identity usable as-is as a key segment: S3-safe characters, not `.`/`..`, at most 128 characters. */
const READABLE_SCOPE_RE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/** Marks a hashed scope; it is not in {@link READABLE_SCOPE_RE}, so hashed and readable scopes never collide. */
export const HASHED_SCOPE_MARKER = '~';
const HASHED_SCOPE_LENGTH = 22;

/**
 * The key segment for an identity: the identity itself when it is a safe segment, otherwise
 * `~` + the first 22 characters of base64url(sha256(identity)). Deterministic.
 */
export function scopeForIdentity(identity: string): string {
  if (READABLE_SCOPE_RE.test(identity)) {
    return identity;
  }
  const digest = sha256Base64url(identity);
  return HASHED_SCOPE_MARKER + digest.slice(0, HASHED_SCOPE_LENGTH);
}

/** One-shot `crypto.hash` (Node ≥ 20.12) where available: less than half the cost of createHash per request. */
const sha256Base64url: (data: string) => string = typeof crypto.hash === 'function'
  ? (data) => crypto.hash('sha256', data, 'base64url')
  : (data) => crypto.createHash('sha256').update(data, 'utf8').digest('base64url');

/** A caller as the signer sees it: where its keys live and what the upload quota counts. */
export interface Caller {
  /** The key segment of the caller's uploads: `<prefix>/<scope>/<uuid><ext>`. */
  readonly scope: string;
  /**
   * What the quota counts: the scope, or `anonymous@<source IP>` for callers who can become a new
   * caller at will (anonymous ones, unauthenticated Cognito identities), whose scope would bound nothing.
   */
  readonly quotaSubject: string;
}

/** An identity read from the authorizer context; `mintable` when anybody can obtain a new one at will. */
interface Principal {
  readonly identity: string;
  readonly mintable: boolean;
}

/** Marks the identity string of a Cognito identity; never the start of an IAM ARN, user id or role id. */
const COGNITO_IDENTITY_TAG = 'cognito-identity';

/**
 * Reads the caller's identity from an HTTP API (payload v2) request context, or undefined when the
 * authorizer did not provide one. `auth: 'none'` has no identity (see {@link resolveCaller}).
 */
export function readIdentity(
  requestContext: unknown,
  policy: Pick<SignerPolicy, 'auth' | 'identityClaim'>,
): string | undefined {
  return readPrincipal(requestContext, policy)?.identity;
}

function readPrincipal(requestContext: unknown, policy: Pick<SignerPolicy, 'auth' | 'identityClaim'>): Principal | undefined {
  const authorizer = field(requestContext, 'authorizer');
  switch (policy.auth) {
    case 'iam': {
      const iam = field(authorizer, 'iam');
      const cognito = field(iam, 'cognitoIdentity');
      if (cognito !== undefined && cognito !== null) return cognitoPrincipal(cognito);
      const identity = identityValue(field(iam, 'userArn')) ?? identityValue(field(iam, 'userId'));
      return identity === undefined ? undefined : { identity, mintable: false };
    }
    case 'authorizer': {
      const claims = field(field(authorizer, 'jwt'), 'claims');
      const identity = identityValue(field(claims, policy.identityClaim))
        ?? identityValue(field(field(authorizer, 'lambda'), policy.identityClaim));
      return identity === undefined ? undefined : { identity, mintable: false };
    }
    default:
      return undefined;
  }
}

/**
 * A Cognito identity: pool id and identity id, JSON-encoded so that no two pairs give one string.
 * Anything short of both ids is no identity (401), never the pool's shared role ARN. Only an `amr`
 * naming `authenticated` makes it non-mintable: GetId hands anybody a new unauthenticated identity.
 */
function cognitoPrincipal(cognito: unknown): Principal | undefined {
  const pool = field(cognito, 'identityPoolId');
  const id = field(cognito, 'identityId');
  if (typeof pool !== 'string' || pool.length === 0 || typeof id !== 'string' || id.length === 0) return undefined;
  const amr = field(cognito, 'amr');
  const authenticated = Array.isArray(amr) && amr.includes('authenticated');
  return { identity: JSON.stringify([COGNITO_IDENTITY_TAG, pool, id]), mintable: !authenticated };
}

/**
 * The caller: {@link ANONYMOUS_SCOPE} for `auth: 'none'`, else the scope of the identity the
 * authorizer provided, else a 401 rejection. Mintable identities and anonymous callers are counted
 * per source IP (weak against address rotation; the route throttle still bounds the total).
 */
export function resolveCaller(
  requestContext: unknown,
  policy: Pick<SignerPolicy, 'auth' | 'identityClaim'>,
): Outcome<Caller> {
  if (policy.auth === 'none') {
    return accept({ scope: ANONYMOUS_SCOPE, quotaSubject: perSourceIp(requestContext) });
  }
  const principal = readPrincipal(requestContext, policy);
  if (principal === undefined) {
    const source = policy.auth === 'iam'
      ? 'IAM authorization (sign the request with SigV4)'
      : `the authorizer (claim "${policy.identityClaim}")`;
    return reject(401, ErrorCodes.UNAUTHORIZED, `No caller identity was provided by ${source}; authenticate and retry.`);
  }
  const scope = scopeForIdentity(principal.identity);
  return accept({ scope, quotaSubject: principal.mintable ? perSourceIp(requestContext) : scope });
}

/** The caller's scope alone (see {@link resolveCaller}). */
export function callerScope(
  requestContext: unknown,
  policy: Pick<SignerPolicy, 'auth' | 'identityClaim'>,
): Outcome<string> {
  const caller = resolveCaller(requestContext, policy);
  return caller.ok ? accept(caller.value.scope) : caller;
}

function perSourceIp(requestContext: unknown): string {
  const ip = field(field(requestContext, 'http'), 'sourceIp');
  return `${ANONYMOUS_SCOPE}@${typeof ip === 'string' && ip.length > 0 ? ip : 'unknown'}`;
}

/** A property of an object-like value, or undefined. Never reads inherited properties. */
function field(value: unknown, name: string): unknown {
  if (typeof value !== 'object' || value === null || !Object.prototype.hasOwnProperty.call(value, name)) {
    return undefined;
  }
  return (value as Record<string, unknown>)[name];
}

/** Non-empty strings and finite numbers (some IdPs send numeric ids) are identities; nothing else is. */
function identityValue(value: unknown): string | undefined {
  if (typeof value === 'string') {
    return value.length > 0 ? value : undefined;
  }
  if (typeof value === 'number' && Number.isFinite(value)) {
    return String(value);
  }
  return undefined;
}

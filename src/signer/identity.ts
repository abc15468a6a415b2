/**
 * Who is calling, and the key segment ("scope") their uploads live under.
 *
 * The identity comes from the HTTP API (payload v2) authorizer context, per the policy's auth mode.
 * A caller without an identity is refused (401) unless the policy is anonymous: there is no shared
 * fallback scope.
 */
import * as crypto from 'node:crypto';
import { accept, Outcome, reject } from './http';
import { ErrorCodes } from './protocol';
import { UploadPolicy } from '../policy';

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

/**
 * Reads the caller's identity from an HTTP API (payload v2) request context, or undefined when the
 * authorizer did not provide one. `auth: 'none'` has no identity (see {@link callerScope}).
 */
export function readIdentity(
  requestContext: unknown,
  policy: Pick<UploadPolicy, 'auth' | 'identityClaim'>,
): string | undefined {
  const authorizer = field(requestContext, 'authorizer');
  switch (policy.auth) {
    case 'iam': {
      const iam = field(authorizer, 'iam');
      return identityValue(field(iam, 'userArn')) ?? identityValue(field(iam, 'userId'));
    }
    case 'authorizer': {
      const claims = field(field(authorizer, 'jwt'), 'claims');
      return identityValue(field(claims, policy.identityClaim))
        ?? identityValue(field(field(authorizer, 'lambda'), policy.identityClaim));
    }
    default:
      return undefined;
  }
}

/**
 * The caller's scope: {@link ANONYMOUS_SCOPE} for `auth: 'none'`, else the scope of the identity the
 * authorizer provided, else a 401 rejection.
 */
export function callerScope(
  requestContext: unknown,
  policy: Pick<UploadPolicy, 'auth' | 'identityClaim'>,
): Outcome<string> {
  if (policy.auth === 'none') {
    return accept(ANONYMOUS_SCOPE);
  }
  const identity = readIdentity(requestContext, policy);
  if (identity === undefined) {
    const source = policy.auth === 'iam'
      ? 'IAM authorization (sign the request with SigV4)'
      : `the authorizer (claim "${policy.identityClaim}")`;
    return reject(401, ErrorCodes.UNAUTHORIZED, `No caller identity was provided by ${source}; authenticate and retry.`);
  }
  return accept(scopeForIdentity(identity));
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

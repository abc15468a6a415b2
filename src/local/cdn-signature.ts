/**
 * The local CDN's check of CloudFront signed URLs (canned policy), as a distribution with a trusted key
 * group does it: the request must carry `Expires`, `Signature` and `Key-Pair-Id` of a trusted key, the
 * signature must verify over the canned policy of the URL without those parameters, and `Expires` must
 * be in the future. SHA-256 with `Hash-Algorithm=SHA256`, SHA-1 otherwise.
 */
import { createVerify, KeyObject } from 'node:crypto';
import { cannedPolicy, SIGNED_URL_PARAMETERS } from '../worker/sign-download';

/** Why a request is refused, or undefined when its signature is valid. */
export function signedUrlProblem(resourceOrigin: string, rawUrl: string, trustedKeys: ReadonlyMap<string, KeyObject>, now: Date): string | undefined {
  const queryAt = rawUrl.indexOf('?');
  const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
  const pairs = queryAt === -1 ? [] : rawUrl.slice(queryAt + 1).split('&').filter(Boolean);
  const signing = new Map<string, string>();
  const kept: string[] = [];
  for (const pair of pairs) {
    const name = decodeURIComponent(pair.split('=', 1)[0]);
    if (SIGNED_URL_PARAMETERS.includes(name)) signing.set(name, pair.slice(pair.indexOf('=') + 1));
    else kept.push(pair);
  }
  const expires = signing.get('Expires');
  const signature = signing.get('Signature');
  const keyPairId = signing.get('Key-Pair-Id');
  if (!expires || !signature || !keyPairId) return 'Missing Key: the URL is not signed (Expires, Signature, Key-Pair-Id)';
  const key = trustedKeys.get(keyPairId);
  if (!key) return 'Invalid Key: the Key-Pair-Id is not in the trusted key group';
  const algorithm = signing.get('Hash-Algorithm') ?? 'SHA1';
  if (algorithm !== 'SHA1' && algorithm !== 'SHA256') return 'Invalid Hash-Algorithm';
  if (!/^\d+$/.test(expires)) return 'Invalid Expires';
  const resource = `${resourceOrigin}${path}${kept.length > 0 ? `?${kept.join('&')}` : ''}`;
  const bytes = Buffer.from(signature.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');
  const valid = createVerify(`RSA-${algorithm}`).update(cannedPolicy(resource, Number(expires))).verify(key, bytes);
  if (!valid) return 'Access denied: the signature does not match this URL';
  if (Number(expires) * 1000 <= now.getTime()) return 'Access denied: the signed URL has expired';
  return undefined;
}

/**
 * CloudFront signed URLs with a canned policy: the one signing function the signer's `POST /downloads`
 * route and the application's backend share. Dependency-free (node:crypto only), no AWS call.
 *
 * @see https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-creating-signed-url-canned-policy.html
 */
import { createPrivateKey, createSign, KeyObject } from 'node:crypto';

/** What {@link signDownloadUrl} signs. Give `url`, or `baseUrl` and `key`. */
export interface SignDownloadUrlOptions {
  /** The full CloudFront URL of the file (no `Expires`, `Signature`, `Key-Pair-Id` or `Hash-Algorithm` in it). */
  readonly url?: string;
  /** The distribution's base URL, e.g. `https://d111111abcdef8.cloudfront.net` (with `key`). */
  readonly baseUrl?: string;
  /** The object key, e.g. `uploads/user-1/abc.png` (with `baseUrl`); each path segment is URL-encoded. */
  readonly key?: string;
  /** The public key's id in the distribution's trusted key group (`cloudfront.PublicKey.publicKeyId`). */
  readonly keyPairId: string;
  /** The private key: PEM (PKCS#1 or PKCS#8) or a `KeyObject`. */
  readonly privateKey: string | KeyObject;
  /** When the URL stops working (second precision, rounded down). */
  readonly expiresAt: Date;
}

/** The query parameters CloudFront reserves for signed URLs. */
export const SIGNED_URL_PARAMETERS: readonly string[] = Object.freeze(['Expires', 'Policy', 'Signature', 'Key-Pair-Id', 'Hash-Algorithm']);

/** CloudFront's canned policy for `resource` until `epochSeconds`: exactly this JSON, no white space. */
export function cannedPolicy(resource: string, epochSeconds: number): string {
  return `{"Statement":[{"Resource":${JSON.stringify(resource)},"Condition":{"DateLessThan":{"AWS:EpochTime":${epochSeconds}}}}]}`;
}

/** CloudFront's URL-safe base64: `+` → `-`, `=` → `_`, `/` → `~`. */
export function cloudFrontBase64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/\+/g, '-').replace(/=/g, '_').replace(/\//g, '~');
}

/** The URL of `key` under `baseUrl`, each path segment encoded as S3 keys are in CloudFront URLs. */
export function downloadUrlFor(baseUrl: string, key: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * A CloudFront signed URL (canned policy, RSA-SHA256, `Hash-Algorithm=SHA256`): `url` with `Expires`,
 * `Signature`, `Key-Pair-Id` and `Hash-Algorithm` appended. Throws on a malformed URL, a URL that already
 * carries signing parameters, an invalid date or key.
 */
export function signDownloadUrl(options: SignDownloadUrlOptions): string {
  const url = resourceUrl(options);
  const expires = Math.floor(options.expiresAt.getTime() / 1000);
  if (!Number.isFinite(expires) || expires <= 0) throw new Error('signDownloadUrl: expiresAt is not a valid date');
  if (!/^[A-Za-z0-9]+$/.test(options.keyPairId)) throw new Error('signDownloadUrl: keyPairId must be the public key id (letters and digits)');
  const key = typeof options.privateKey === 'string' ? createPrivateKey(options.privateKey) : options.privateKey;
  const signature = createSign('RSA-SHA256').update(cannedPolicy(url, expires)).sign(key);
  const separator = url.includes('?') ? '&' : '?';
  return `${url}${separator}Expires=${expires}&Signature=${cloudFrontBase64(signature)}`
    + `&Key-Pair-Id=${options.keyPairId}&Hash-Algorithm=SHA256`;
}

function resourceUrl(options: SignDownloadUrlOptions): string {
  const { baseUrl, key } = options;
  const given = options.url ?? (baseUrl !== undefined && key !== undefined ? downloadUrlFor(baseUrl, key) : undefined);
  if (given === undefined) throw new Error('signDownloadUrl: give url, or baseUrl and key');
  let parsed: URL;
  try {
    parsed = new URL(given);
  } catch {
    throw new Error(`signDownloadUrl: not an absolute URL: ${given}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error(`signDownloadUrl: not an http(s) URL: ${given}`);
  if (parsed.hash) throw new Error('signDownloadUrl: the URL must not have a fragment');
  const reserved = SIGNED_URL_PARAMETERS.filter((p) => parsed.searchParams.has(p));
  if (reserved.length > 0) throw new Error(`signDownloadUrl: the URL already carries ${reserved.join(', ')}`);
  return given;
}

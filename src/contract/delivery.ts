/**
 * What the browser sees: the CORS rule of the upload bucket and the response headers the CDN adds.
 *
 * The construct turns these into the bucket's CORS configuration and the CloudFront response headers
 * policy; the local stack applies the very same values, so a test of one is a test of the other.
 * No aws-cdk-lib import here: the local stack and the Lambda bundles share this file.
 */
import { metadataHeader } from './metadata';

/** `Cache-Control` for objects whose keys are never reused: one year, immutable. */
export const DEFAULT_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/**
 * A CSP for user-supplied files: nothing loads, nothing runs, the document is sandboxed and cannot be framed.
 * Images and media still render when opened directly (`img-src`/`media-src 'self'`).
 */
export const DEFAULT_CONTENT_SECURITY_POLICY =
  "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'";

/** HSTS: two years, subdomains included. */
export const HSTS_MAX_AGE_SECONDS = 63_072_000;

/** Options that shape the delivery headers. */
export interface DeliveryHeaderOptions {
  readonly cacheControl?: string;
  readonly contentSecurityPolicy?: string;
}

/** The headers the CDN sets on every object it serves (lower-case names), overriding the origin's. */
export function deliveryHeaders(options: DeliveryHeaderOptions = {}): Record<string, string> {
  return {
    'cache-control': options.cacheControl ?? DEFAULT_CACHE_CONTROL,
    'content-security-policy': options.contentSecurityPolicy ?? DEFAULT_CONTENT_SECURITY_POLICY,
    'strict-transport-security': `max-age=${HSTS_MAX_AGE_SECONDS}; includeSubDomains`,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  };
}

/** One S3 CORS rule, in the shape both S3 and the local stand-in accept. */
export interface UploadCorsRule {
  readonly allowedOrigins: string[];
  readonly allowedMethods: string[];
  readonly allowedHeaders: string[];
  readonly exposedHeaders: string[];
  readonly maxAgeSeconds: number;
}

/**
 * Methods a browser uses against the bucket: PUT (single and multipart parts), POST (form uploads,
 * multipart create/complete), GET/HEAD (read back), DELETE (multipart abort).
 */
export const UPLOAD_CORS_METHODS: readonly string[] = Object.freeze(['PUT', 'POST', 'GET', 'HEAD', 'DELETE']);

/**
 * Request headers a browser must be allowed to send: the ones the signer signs and tells the client to
 * set (`content-type`, `content-md5`, the SHA-256 checksum headers of a PUT signed with `checksumSha256`,
 * and `x-amz-mp-object-size` on a multipart completion signed for Uppy). `content-length` is signed too but is set by the browser itself, so CORS never sees it.
 * Uppy's S3 client (`@uppy/aws-s3` 6) sends only these: `Content-Type` (PUT, CreateMultipartUpload,
 * CompleteMultipartUpload) and the signer's headers; POST-policy forms and part uploads need none.
 */
export const UPLOAD_CORS_ALLOWED_HEADERS: readonly string[] = Object.freeze([
  'content-type', 'content-md5', 'if-none-match', 'x-amz-checksum-sha256', 'x-amz-sdk-checksum-algorithm', 'x-amz-mp-object-size',
  // The signed original filename of a single PUT (src/contract/filename.ts).
  'x-amz-meta-filename',
]);

/** Response headers the browser may read: multipart completion needs each part's ETag. */
export const UPLOAD_CORS_EXPOSED_HEADERS: readonly string[] = Object.freeze(['ETag']);

/**
 * The bucket's CORS rule for the given browser origins (none when there are no origins). The allow-listed
 * app metadata keys (`metadataKeys`) add their signed `x-amz-meta-<key>` headers, which a single PUT and an
 * Uppy CreateMultipartUpload send.
 */
export function uploadCorsRules(allowedOrigins: readonly string[], metadataKeys: readonly string[] = []): UploadCorsRule[] {
  if (allowedOrigins.length === 0) return [];
  return [
    {
      allowedOrigins: [...allowedOrigins],
      allowedMethods: [...UPLOAD_CORS_METHODS],
      allowedHeaders: [...UPLOAD_CORS_ALLOWED_HEADERS, ...metadataKeys.map(metadataHeader)],
      exposedHeaders: [...UPLOAD_CORS_EXPOSED_HEADERS],
      maxAgeSeconds: 3600,
    },
  ];
}

/**
 * Types the CDN serves inline: raster images a browser displays without running anything. Every other
 * type (PDF, ZIP, text, SVG, ...) is served with `Content-Disposition: attachment`.
 */
export const DEFAULT_INLINE_CONTENT_TYPES: readonly string[] = Object.freeze([
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
  'image/avif',
]);

/** A stored `x-amz-meta-filename` value the CDN copies into `filename*` (RFC 8187 value-chars only; see filename.ts). */
const STORED_FILENAME_RE = /^(?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-F]{2}){1,1024}$/;

/**
 * The `Content-Disposition` the CDN sends for a response of `contentType`, replacing whatever the object
 * was stored with: `inline` when the type, without parameters, is one of `inlineTypes`, else `attachment`,
 * with `; filename*=UTF-8''<name>` when the object carries the signed original filename
 * (`x-amz-meta-filename`, already in that encoding).
 */
export function contentDispositionFor(contentType: string | undefined, inlineTypes: readonly string[], storedFilename?: string): string {
  const base = (contentType ?? '').split(';', 1)[0].trim().toLowerCase();
  if (inlineTypes.includes(base)) return 'inline';
  return storedFilename !== undefined && STORED_FILENAME_RE.test(storedFilename) ? `attachment; filename*=UTF-8''${storedFilename}` : 'attachment';
}

/**
 * Headers an uploader could have S3 store with an object (unsigned) that the CDN removes. `Cache-Control`
 * is overridden instead, and `Content-Disposition` set by the function; `Content-Encoding` is read-only for
 * CloudFront, so the verifier refuses objects stored with one.
 */
export const REMOVED_RESPONSE_HEADERS: readonly string[] = Object.freeze(['Content-Language', 'Expires']);

/**
 * Source of the CloudFront Function (viewer response) that applies {@link contentDispositionFor} and drops
 * the stored user metadata (`x-amz-meta-*`: the filename, the app's `metadataKeys`), which is for the
 * application's workers, not for whoever can fetch the file: the deployed twin of what the local CDN route
 * does (it forwards no `x-amz-meta-*`). ES5 only (CloudFront Functions' runtime).
 */
export function contentDispositionFunctionCode(inlineTypes: readonly string[]): string {
  return [
    `var INLINE = ${JSON.stringify([...inlineTypes])};`,
    'function handler(event) {',
    '  var response = event.response;',
    "  var header = response.headers['content-type'];",
    "  var type = header ? header.value.split(';')[0].trim().toLowerCase() : '';",
    "  var name = response.headers['x-amz-meta-filename'];",
    `  var attachment = name && ${STORED_FILENAME_RE.toString()}.test(name.value) ? "attachment; filename*=UTF-8''" + name.value : 'attachment';`,
    "  response.headers['content-disposition'] = { value: INLINE.indexOf(type) === -1 ? attachment : 'inline' };",
    "  for (var h in response.headers) { if (h.indexOf('x-amz-meta-') === 0) delete response.headers[h]; }",
    '  return response;',
    '}',
  ].join('\n');
}

/**
 * SigV4 canonical requests as S3 builds them, where s3rver's differ: s3rver drops the trailing `/`
 * of a bucket-level path (`/bucket/?list-type=2`, what the AWS SDK sends for ListObjectsV2 and
 * ListMultipartUploads), sorts the query as whole `name=value` strings and leaves `!'()*` unencoded.
 * Each of those made a correctly signed request fail with `SignatureDoesNotMatch`.
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 */
import type S3rver from '@20minutes/s3rver';
import v4 from '@20minutes/s3rver/lib/signature/v4';
import { encodeURIComponentRFC3986 } from '@20minutes/s3rver/lib/utils';

/** The SigV4 canonical query string: names and values RFC 3986-encoded, sorted by name then value. */
export function canonicalQueryString(query: S3rver.Context['query'], exclude: readonly string[] = ['X-Amz-Signature']): string {
  const pairs: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(query)) {
    if (exclude.includes(name) || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      pairs.push([encodeURIComponentRFC3986(name), encodeURIComponentRFC3986(v)]);
    }
  }
  pairs.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

/**
 * Makes s3rver's SigV4 string-to-sign use S3's canonical URI and query string for the request being
 * served (`currentRequest` returns it while it is served, else undefined). s3rver's signature module
 * is shared by every instance in the process: the patch is applied once and asks each registered
 * source; the returned function unregisters this one.
 */
export function useS3CanonicalRequests(currentRequest: () => S3rver.Context | undefined): () => void {
  sources.add(currentRequest);
  if (!patched) {
    patched = true;
    const original = v4.getStringToSign;
    v4.getStringToSign = (canonicalRequest, signature) => {
      let ctx: S3rver.Context | undefined;
      for (const source of sources) ctx ??= source();
      if (!ctx) return original(canonicalRequest, signature);
      const trailingSlash = ctx.path.endsWith('/') && !canonicalRequest.uri.endsWith('/');
      return original({
        ...canonicalRequest,
        uri: trailingSlash ? `${canonicalRequest.uri}/` : canonicalRequest.uri,
        querystring: canonicalQueryString(ctx.query),
      }, signature);
    };
  }
  return () => sources.delete(currentRequest);
}

let patched = false;
const sources = new Set<() => S3rver.Context | undefined>();

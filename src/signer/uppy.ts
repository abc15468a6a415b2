/**
 * `POST /uppy/sign`: the `signRequest` contract of `@uppy/aws-s3` 6 (`{ method, key, uploadId?,
 * partNumber?, contentType?, expiresIn? }` → `{ url, key?, headers?, fields? }`).
 *
 * - PutObject → a POST policy (`fields`): Uppy does not send the size, so only a policy's
 *   `content-length-range` lets S3 cap it. The key is the server's (returned as `fields.key` and `key`).
 * - CreateMultipartUpload → a presigned `POST ?uploads` with the content type signed; the server's key.
 *   Uppy does not send the type here: it comes from `contentType` when given, else the requested key's
 *   extension (Uppy's default key ends with the file name), and must be allowed.
 * - UploadPart, ListParts, AbortMultipartUpload → presigned for keys in the caller's scope only.
 * - CompleteMultipartUpload → the signer lists the parts first: over `maxFileSize` (or with a gap) the
 *   upload is aborted and signing refused; otherwise the URL signs `x-amz-mp-object-size` = the listed
 *   total, so S3 refuses a completion whose parts were swapped for larger ones after the check.
 * - DeleteObject → refused unless the policy enables it.
 */
import { readKey, readObject, readPartNumber, readUploadId, invalid } from './fields';
import { accept, Outcome, reject, Rejection } from './http';
import { maxPartNumber } from './multipart';
import { abortQuietly, RouteContext, uploadNotFound } from './multipart-routes';
import { ErrorCodes, UppySignResponse } from './protocol';
import { formatBytes } from './request';
import { MAX_SINGLE_PUT_SIZE, multipartSettings, normalizeContentType, extensionFor, UploadPolicy, CONTENT_TYPE_EXTENSIONS } from '../policy';

const FIELDS = ['method', 'key', 'uploadId', 'partNumber', 'contentType', 'expiresIn'] as const;
const EXAMPLE = '{"method":"PUT","key":"photo.png","contentType":"image/png"}';

/** Extensions that name a type besides the canonical one in CONTENT_TYPE_EXTENSIONS. */
const EXTRA_EXTENSIONS: Readonly<Record<string, string>> = Object.freeze({ '.jpeg': 'image/jpeg', '.tif': 'image/tiff', '.htm': 'text/html' });

export async function uppySignRoute(
  ctx: RouteContext, scope: string, body: unknown, newKey: (contentType: string) => string,
  admit?: () => Promise<Rejection | undefined>,
): Promise<Outcome<UppySignResponse>> {
  const { policy } = ctx.config;
  const read = readObject(body, FIELDS, EXAMPLE);
  if (!read.ok) return read;
  const fields = read.value;

  const method = fields.method;
  if (method !== 'PUT' && method !== 'POST' && method !== 'GET' && method !== 'DELETE') {
    return invalid('method must be "PUT", "POST", "GET" or "DELETE" (the S3 request Uppy wants signed).');
  }
  if (typeof fields.key !== 'string' || fields.key.length === 0 || fields.key.length > 1024) {
    return invalid('key must be a non-empty string of at most 1024 characters.');
  }
  const expires = readExpiresIn(fields.expiresIn, policy);
  if (!expires.ok) return expires;
  const expiresIn = expires.value;
  const hasUploadId = fields.uploadId !== undefined;
  const hasPart = fields.partNumber !== undefined;
  if (hasPart && !(method === 'PUT' && hasUploadId)) {
    return invalid('partNumber is only for UploadPart (method "PUT" with uploadId).');
  }
  if (fields.contentType !== undefined && (hasUploadId || (method !== 'PUT' && method !== 'POST'))) {
    return invalid('contentType is only for PutObject and CreateMultipartUpload.');
  }

  // ---------------------------------------------------------------- new objects: the server's key
  if (!hasUploadId && (method === 'PUT' || method === 'POST')) {
    const type = method === 'PUT' ? readContentType(fields.contentType, policy, true) : createContentType(fields, policy);
    if (!type.ok) return type;
    // A new object counts against the caller's quota (parts, listing, completion do not).
    const refused = await admit?.();
    if (refused) return { ok: false, rejection: refused };
    const key = newKey(type.value);
    if (method === 'PUT') {
      const signed = ctx.presigner.presignPost({
        key,
        contentType: type.value,
        minSize: 1,
        maxSize: Math.min(policy.maxFileSize, MAX_SINGLE_PUT_SIZE),
        expiresIn,
        signingDate: ctx.now(),
      });
      return accept({ url: signed.url, key, fields: { ...signed.fields } });
    }
    const signed = ctx.presigner.presign({
      method: 'POST', key, query: { uploads: '' }, signedHeaders: { 'content-type': type.value }, expiresIn, signingDate: ctx.now(),
    });
    return accept({ url: signed.url, key, headers: { ...signed.headers } });
  }

  // ---------------------------------------------------------------- existing objects: the caller's keys only
  const key = readKey(fields, policy, scope);
  if (!key.ok) return key;

  if (!hasUploadId && method === 'GET') {
    return invalid('method "GET" needs uploadId (ListParts); the signer does not sign GetObject, serve files from the CDN.');
  }
  if (!hasUploadId) { // DELETE: DeleteObject
    if (!multipartSettings(policy).allowDeleteObject) {
      return reject(403, ErrorCodes.OPERATION_NOT_ALLOWED,
        'DeleteObject is not enabled for this signer (allowDeleteObject); removing a file from Uppy leaves the uploaded object in place.');
    }
    return accept(presigned(ctx, { method: 'DELETE', key: key.value, expiresIn }));
  }
  const uploadId = readUploadId(fields);
  if (!uploadId.ok) return uploadId;
  const query = { uploadId: uploadId.value };

  switch (method) {
    case 'PUT': {
      if (!hasPart) return invalid('partNumber is required with method "PUT" and uploadId (UploadPart).');
      const part = readPartNumber(fields.partNumber, maxPartNumber(policy.maxFileSize));
      if (!part.ok) return part;
      return accept(presigned(ctx, { method: 'PUT', key: key.value, query: { ...query, partNumber: String(part.value) }, expiresIn }));
    }
    case 'GET':
      return accept(presigned(ctx, { method: 'GET', key: key.value, query, expiresIn }));
    case 'DELETE':
      return accept(presigned(ctx, { method: 'DELETE', key: key.value, query, expiresIn }));
    default: { // POST: CompleteMultipartUpload, after checking the parts
      const listed = await ctx.store().listParts(key.value, uploadId.value);
      if (listed === undefined) return uploadNotFound();
      const total = listed.reduce((sum, p) => sum + p.size, 0);
      // Uppy's own layout (its part size, unknown here): contiguous parts from 1, the total within the limit.
      const problem: Outcome<never> | undefined = total > policy.maxFileSize
        ? reject(413, ErrorCodes.FILE_TOO_LARGE,
          `The parts in S3 total ${total} bytes, more than the ${formatBytes(policy.maxFileSize)} allowed; the upload was aborted.`)
        : listed.length === 0
          ? reject(409, ErrorCodes.PART_MISSING, 'S3 holds no part of this upload; upload the parts before completing. The upload was aborted.')
          : contiguityProblem(listed.map((p) => p.partNumber));
      if (problem) {
        await abortQuietly(ctx, key.value, uploadId.value);
        return problem;
      }
      return accept(presigned(ctx, {
        method: 'POST', key: key.value, query, signedHeaders: { 'x-amz-mp-object-size': String(total), 'if-none-match': '*' }, expiresIn,
      }));
    }
  }
}

function presigned(
  ctx: RouteContext,
  input: { method: 'GET' | 'PUT' | 'POST' | 'DELETE'; key: string; query?: Record<string, string>; signedHeaders?: Record<string, string>; expiresIn: number },
): UppySignResponse {
  const out = ctx.presigner.presign({ ...input, signingDate: ctx.now() });
  return Object.keys(out.headers).length > 0 ? { url: out.url, headers: { ...out.headers } } : { url: out.url };
}

function contiguityProblem(numbers: readonly number[]): Outcome<never> | undefined {
  const gap = numbers.findIndex((n, i) => n !== i + 1);
  return gap < 0 ? undefined : reject(409, ErrorCodes.PART_MISSING,
    `Part ${gap + 1} is not in S3; upload every part before completing. The upload was aborted.`);
}

function readExpiresIn(value: unknown, policy: UploadPolicy): Outcome<number> {
  if (value === undefined) return accept(policy.expiresInSeconds);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    return invalid('expiresIn must be a positive whole number of seconds; omit it for the default.');
  }
  // Never longer than the policy allows.
  return accept(Math.min(value, policy.expiresInSeconds));
}

function readContentType(value: unknown, policy: UploadPolicy, required: boolean): Outcome<string> {
  if (value === undefined && required) {
    return invalid('contentType is required for PutObject; Uppy sends the file\'s type.');
  }
  const type = typeof value === 'string' ? normalizeContentType(value) : undefined;
  if (type === undefined) return invalid('contentType must be a MIME type of the form "type/subtype", e.g. "image/png".');
  if (!policy.allowedContentTypes.includes(type)) {
    return reject(415, ErrorCodes.CONTENT_TYPE_NOT_ALLOWED, `contentType "${type}" is not allowed; use one of: ${policy.allowedContentTypes.join(', ')}.`);
  }
  return accept(type);
}

/** CreateMultipartUpload's type: `contentType`, else the requested key's extension. */
function createContentType(fields: Record<string, unknown>, policy: UploadPolicy): Outcome<string> {
  if (fields.contentType !== undefined) return readContentType(fields.contentType, policy, true);
  const ext = /(\.[A-Za-z0-9]{1,10})$/.exec(fields.key as string)?.[1]?.toLowerCase();
  const type = ext === undefined ? undefined
    : policy.allowedContentTypes.find((t) => extensionFor(t) === ext) ?? allowedAlias(ext, policy);
  if (type === undefined) {
    const known = policy.allowedContentTypes.map((t) => extensionFor(t)).filter((e) => e !== '');
    return reject(415, ErrorCodes.CONTENT_TYPE_NOT_ALLOWED,
      `Cannot tell the file's type for a multipart upload: the key must end with the extension of an allowed type (${known.join(', ') || 'none known'}) or the request must carry contentType.`);
  }
  return accept(type);
}

function allowedAlias(ext: string, policy: UploadPolicy): string | undefined {
  const type = EXTRA_EXTENSIONS[ext];
  return type !== undefined && policy.allowedContentTypes.includes(type) && CONTENT_TYPE_EXTENSIONS[type] !== undefined ? type : undefined;
}

/**
 * `POST /uppy/sign`: the `signRequest` contract of `@uppy/aws-s3` 6 (`{ method, key, uploadId?,
 * partNumber?, contentType?, expiresIn? }` → `{ url, key?, headers?, fields? }`), plus what
 * `uppySigner()` (cdk-direct-upload/client) adds on the two requests that start an upload: the file's
 * `size`, Uppy's `chunkSize` and the file's `contentType` and `filename`. Uppy itself sends no size at
 * all and no type at CreateMultipartUpload, and without a size S3 cannot be told to bound the parts.
 *
 * - PutObject → a POST policy (`fields`), whose `content-length-range` is the exact `size` when given,
 *   else 1 byte to `maxFileSize`. The key is the server's (returned as `fields.key` and `key`). The
 *   `filename` and the app `metadata` are fields pinned by `eq` conditions, as on `POST /uploads`.
 * - CreateMultipartUpload → needs `size` and `chunkSize`. The layout (size, part size) is fixed now and
 *   written into the server's key (`layoutKeyName`), which Uppy uses for every later request; the
 *   presigned `POST ?uploads` signs the content type (`contentType`, else the extension of `filename`
 *   or of Uppy's key) and the user metadata (`x-amz-meta-*`) as headers Uppy sends with it.
 * - UploadPart → signed with the exact `content-length` of that part of the key's layout, so the parts
 *   add up to at most `size` ≤ `maxFileSize`. A replayed create URL opens more uploads for the same key;
 *   a part is signed only for an upload S3 lists for that key, and every other upload of the key is
 *   aborted first, so at most one upload per key can hold parts.
 * - ListParts, AbortMultipartUpload → presigned for keys in the caller's scope only.
 * - CompleteMultipartUpload → the signer lists the parts first: unless they are exactly the layout's
 *   the upload is aborted and signing refused; otherwise the URL signs `x-amz-mp-object-size` = `size`.
 * - DeleteObject → refused unless the policy enables it.
 */
import { readKey, readObject, readPartNumber, readSize, readUploadId, invalid } from './fields';
import { accept, Outcome, reject, Rejection } from './http';
import { MetadataHeaders, readMetadata, userMetadata } from './metadata';
import { layoutWithPartSize, PartLayout, partLength } from './multipart';
import { abortQuietly, layoutProblem, readLayoutKey, RouteContext, uploadNotFound } from './multipart-routes';
import { ErrorCodes, UppySignResponse } from '../contract/signer-protocol';
import {
  CONTENT_TYPE_EXTENSIONS,
  extensionFor,
  MAX_PART_SIZE,
  MAX_PARTS,
  MAX_SINGLE_PUT_SIZE,
  MIN_PART_SIZE,
  normalizeContentType,
  SignerPolicy,
} from '../contract/upload-rules';

const FIELDS = ['method', 'key', 'uploadId', 'partNumber', 'contentType', 'expiresIn', 'size', 'chunkSize', 'filename', 'metadata'] as const;
const EXAMPLE = '{"method":"PUT","key":"photo.png","contentType":"image/png","size":12345}';
/** Other uploads of a key (a replayed create URL's) aborted per part request; more, and the request is refused. */
const MAX_ABORTS_PER_REQUEST = 10;
const USE_ADAPTER = 'use uppySigner() from cdk-direct-upload/client as the AwsS3 options (its signRequest sends them)';

/** Extensions that name a type besides the canonical one in CONTENT_TYPE_EXTENSIONS. */
const EXTRA_EXTENSIONS: Readonly<Record<string, string>> = Object.freeze({ '.jpeg': 'image/jpeg', '.tif': 'image/tiff', '.htm': 'text/html' });

export async function uppySignRoute(
  ctx: RouteContext, scope: string, body: unknown, newKey: (contentType: string, layout?: PartLayout) => string,
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
  const starts = !hasUploadId && (method === 'PUT' || method === 'POST');
  if (hasPart && !(method === 'PUT' && hasUploadId)) {
    return invalid('partNumber is only for UploadPart (method "PUT" with uploadId).');
  }
  if (!starts && (['contentType', 'size', 'filename', 'metadata'] as const).some((name) => fields[name] !== undefined)) {
    return invalid('contentType, size, filename and metadata are only for PutObject and CreateMultipartUpload.');
  }
  if (fields.chunkSize !== undefined && !(starts && method === 'POST')) {
    return invalid('chunkSize is only for CreateMultipartUpload (method "POST" without uploadId).');
  }

  // ---------------------------------------------------------------- new objects: the server's key
  if (starts) {
    const started = method === 'PUT' ? readPutObject(fields, policy) : readCreate(fields, policy);
    if (!started.ok) return started;
    const appMetadata = readMetadata(fields.metadata, ctx.config.metadataKeys ?? []);
    if (!appMetadata.ok) return appMetadata;
    const { contentType, size, layout, filename } = started.value;
    // Signed as on POST /uploads: policy conditions (PutObject), headers Uppy sends (CreateMultipartUpload).
    const metadata: MetadataHeaders = userMetadata(filename, appMetadata.value) ?? {};
    // A new object counts against the caller's quota (parts, listing, completion do not).
    const refused = await admit?.();
    if (refused) return { ok: false, rejection: refused };
    const key = newKey(contentType, layout);
    if (method === 'PUT') {
      const signed = await ctx.presigner.presignPost({
        key,
        contentType,
        minSize: size ?? 1,
        maxSize: size ?? Math.min(policy.maxFileSize, MAX_SINGLE_PUT_SIZE),
        metadata,
        expiresIn,
        signingDate: ctx.now(),
      });
      return accept({ url: signed.url, key, fields: { ...signed.fields } });
    }
    return accept({ ...(await presigned(ctx, { method: 'POST', key, query: { uploads: '' }, signedHeaders: { 'content-type': contentType, ...metadata }, expiresIn })), key });
  }

  // ---------------------------------------------------------------- existing objects: the caller's keys only
  const key = readKey(fields, policy, scope);
  if (!key.ok) return key;

  if (!hasUploadId && method === 'GET') {
    return invalid('method "GET" needs uploadId (ListParts); the signer does not sign GetObject, serve files from the CDN.');
  }
  if (!hasUploadId) { // DELETE: DeleteObject
    if (!policy.allowDeleteObject) {
      return reject(403, ErrorCodes.OPERATION_NOT_ALLOWED,
        'DeleteObject is not enabled for this signer (allowDeleteObject); removing a file from Uppy leaves the uploaded object in place.');
    }
    // Anonymous callers share one scope: a delete would reach everybody's uploads (the construct refuses
    // the combination; this holds for any environment).
    if (policy.auth === 'none') {
      return reject(403, ErrorCodes.OPERATION_NOT_ALLOWED, 'DeleteObject is never signed for anonymous callers; authenticate to delete your uploads.');
    }
    return accept(await presigned(ctx, { method: 'DELETE', key: key.value, expiresIn }));
  }
  const uploadId = readUploadId(fields);
  if (!uploadId.ok) return uploadId;
  const query = { uploadId: uploadId.value };

  switch (method) {
    case 'PUT': return signPart(ctx, key.value, uploadId.value, fields, expiresIn);
    case 'GET':
      return accept(await presigned(ctx, { method: 'GET', key: key.value, query, expiresIn }));
    case 'DELETE':
      return accept(await presigned(ctx, { method: 'DELETE', key: key.value, query, expiresIn }));
    default: { // POST: CompleteMultipartUpload, after checking the parts against the key's layout
      const layout = readLayoutKey(key.value, policy.maxFileSize);
      if (!layout.ok) return layout;
      const listed = await ctx.store().listParts(key.value, uploadId.value);
      if (listed === undefined) return uploadNotFound();
      const problem = layoutProblem(listed, layout.value, policy.maxFileSize);
      if (problem) {
        await abortQuietly(ctx, key.value, uploadId.value);
        return problem;
      }
      const signedHeaders: Record<string, string> = { 'x-amz-mp-object-size': String(layout.value.size), 'if-none-match': '*' };
      return accept(await presigned(ctx, { method: 'POST', key: key.value, query, signedHeaders, expiresIn }));
    }
  }
}

/**
 * UploadPart: the exact length of that part of the key's layout, for an upload S3 lists for the key.
 * Every other upload of the key (a replayed create URL's) is aborted first, so its parts cannot count.
 */
async function signPart(
  ctx: RouteContext, key: string, uploadId: string, fields: Record<string, unknown>, expiresIn: number,
): Promise<Outcome<UppySignResponse>> {
  if (fields.partNumber === undefined) return invalid('partNumber is required with method "PUT" and uploadId (UploadPart).');
  const layout = readLayoutKey(key, ctx.config.policy.maxFileSize);
  if (!layout.ok) return layout;
  const part = readPartNumber(fields.partNumber, layout.value.partCount);
  if (!part.ok) return part;
  const uploads = await ctx.store().listUploads(key);
  if (!uploads.includes(uploadId)) return uploadNotFound();
  const others = uploads.filter((id) => id !== uploadId);
  // A bounded batch per request keeps the call well inside the function's timeout however often the URL was replayed.
  await Promise.all(others.slice(0, MAX_ABORTS_PER_REQUEST).map((id) => abortQuietly(ctx, key, id)));
  if (others.length > MAX_ABORTS_PER_REQUEST) {
    return reject(409, ErrorCodes.UPLOAD_REPLAYED,
      `This key has ${uploads.length} multipart uploads (its create URL was used again); the extra ones are being aborted and no part is signed. Start a new upload.`);
  }
  return accept(await presigned(ctx, {
    method: 'PUT',
    key,
    query: { partNumber: String(part.value), uploadId },
    signedHeaders: { 'content-length': String(partLength(layout.value, part.value)) },
    expiresIn,
  }));
}

interface StartedUpload {
  readonly contentType: string;
  /** Exact size, when the client sent it. */
  readonly size?: number;
  /** Multipart only. */
  readonly layout?: PartLayout;
  /** The original filename, when the client sent it (signed as user metadata). */
  readonly filename?: string;
}

/** PutObject: the type Uppy sends; the size when `uppySigner` sends it (else the POST policy caps at the limit). */
function readPutObject(fields: Record<string, unknown>, policy: SignerPolicy): Outcome<StartedUpload> {
  const type = readContentType(fields.contentType, policy, true);
  if (!type.ok) return type;
  const filename = readFilename(fields.filename);
  if (!filename.ok) return filename;
  const named = filename.value !== undefined ? { filename: filename.value } : {};
  if (fields.size === undefined) return accept({ contentType: type.value, ...named });
  const size = readSize(fields, { ...policy, maxFileSize: Math.min(policy.maxFileSize, MAX_SINGLE_PUT_SIZE) });
  return size.ok ? accept({ contentType: type.value, size: size.value, ...named }) : size;
}

/** CreateMultipartUpload: size and chunk size fix the layout; the type from `contentType`, `filename` or the key. */
function readCreate(fields: Record<string, unknown>, policy: SignerPolicy): Outcome<StartedUpload> {
  if (fields.size === undefined || fields.chunkSize === undefined) {
    return invalid(`CreateMultipartUpload needs the file's size and Uppy's chunkSize, so that S3 can bound every part; ${USE_ADAPTER}.`);
  }
  const size = readSize(fields, policy);
  if (!size.ok) return size;
  const layout = typeof fields.chunkSize === 'number' ? layoutWithPartSize(size.value, fields.chunkSize) : undefined;
  if (layout === undefined) {
    return invalid(`chunkSize must be a whole number of bytes from ${MIN_PART_SIZE} to ${MAX_PART_SIZE} that splits the file into at most ${MAX_PARTS} parts; ${USE_ADAPTER}.`);
  }
  const filename = readFilename(fields.filename);
  if (!filename.ok) return filename;
  const type = createContentType(fields, filename.value, policy);
  const named = filename.value !== undefined ? { filename: filename.value } : {};
  return type.ok ? accept({ contentType: type.value, size: size.value, layout, ...named }) : type;
}

function readFilename(value: unknown): Outcome<string | undefined> {
  if (value === undefined) return accept(undefined);
  // eslint-disable-next-line no-control-regex
  if (typeof value !== 'string' || value.length === 0 || value.length > 255 || /[\u0000-\u001f\u007f]/.test(value)) {
    return invalid('filename must be a non-empty string of at most 255 characters without control characters; omit it if there is none.');
  }
  return accept(value);
}

async function presigned(
  ctx: RouteContext,
  input: { method: 'GET' | 'PUT' | 'POST' | 'DELETE'; key: string; query?: Record<string, string>; signedHeaders?: Record<string, string>; expiresIn: number },
): Promise<UppySignResponse> {
  const out = await ctx.presigner.presign({ ...input, signingDate: ctx.now() });
  return Object.keys(out.headers).length > 0 ? { url: out.url, headers: { ...out.headers } } : { url: out.url };
}

function readExpiresIn(value: unknown, policy: SignerPolicy): Outcome<number> {
  if (value === undefined) return accept(policy.expiresInSeconds);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    return invalid('expiresIn must be a positive whole number of seconds; omit it for the default.');
  }
  // Never longer than the policy allows.
  return accept(Math.min(value, policy.expiresInSeconds));
}

function readContentType(value: unknown, policy: SignerPolicy, required: boolean): Outcome<string> {
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

/**
 * CreateMultipartUpload's type: `contentType` (uppySigner sends the file's type: Uppy does not), else the
 * extension of `filename` or of the requested key.
 */
function createContentType(fields: Record<string, unknown>, filename: string | undefined, policy: SignerPolicy): Outcome<string> {
  if (fields.contentType !== undefined) return readContentType(fields.contentType, policy, true);
  const ext = /(\.[A-Za-z0-9]{1,10})$/.exec(filename ?? fields.key as string)?.[1]?.toLowerCase();
  const type = ext === undefined ? undefined
    : policy.allowedContentTypes.find((t) => extensionFor(t) === ext) ?? allowedAlias(ext, policy);
  if (type === undefined) {
    const known = policy.allowedContentTypes.map((t) => extensionFor(t)).filter((e) => e !== '');
    return reject(415, ErrorCodes.CONTENT_TYPE_NOT_ALLOWED,
      `Cannot tell the file's type for a multipart upload: send contentType (uppySigner() sends the file's type), or a filename or key ending with the extension of an allowed type (${known.join(', ') || 'none known'}).`);
  }
  return accept(type);
}

function allowedAlias(ext: string, policy: SignerPolicy): string | undefined {
  const type = EXTRA_EXTENSIONS[ext];
  return type !== undefined && policy.allowedContentTypes.includes(type) && CONTENT_TYPE_EXTENSIONS[type] !== undefined ? type : undefined;
}

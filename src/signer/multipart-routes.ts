/**
 * The native multipart routes: the plan returned by `POST /uploads` above the threshold, and
 * `POST /uploads/multipart/{parts,complete,abort}`. Every route checks the key against the caller's
 * scope before it signs or calls anything; completion lists the parts itself and completes with
 * exactly those (ETags and `x-amz-mp-object-size` included), so what S3 stores is what was checked.
 */
import { SignerConfig } from './config';
import { readKey, readObject, readPartNumber, readSize, readUploadId, invalid } from './fields';
import { accept, Outcome, reject } from './http';
import { CompletionConflictError, layoutOfKey, ListedPart, MultipartStore, PartLayout, partLength } from './multipart';
import { readPartChecksums } from './part-checksums';
import { sha256ChecksumHeaders } from './presign';
import { RequestPresigner } from './request-presigner';
import {
  AbortedUpload,
  CompletedUpload,
  ErrorCodes,
  MAX_PARTS_PER_REQUEST,
  MultipartUploadPlan,
  PresignedPart,
  SignPartsResponse,
  UploadedPart,
} from '../contract/signer-protocol';
import { formatBytes } from '../contract/upload-rules';

/** What the multipart and Uppy routes share (built once per handler). */
export interface RouteContext {
  readonly config: SignerConfig;
  readonly presigner: RequestPresigner;
  /** The S3 operations (created on first use). */
  readonly store: () => MultipartStore;
  readonly now: () => Date;
  /** Called with a line when a refused completion could not be aborted. */
  readonly log: (line: string) => void;
}

/**
 * Creates the multipart upload (its key carries `layout`, see {@link layoutKeyName}) and signs its first
 * parts; with `checksumAlgorithm`, none (each part is signed with its checksum, on request).
 */
export async function createMultipartPlan(
  ctx: RouteContext, key: string, contentType: string, layout: PartLayout, metadata?: Readonly<Record<string, string>>,
  checksumAlgorithm?: 'SHA256',
): Promise<MultipartUploadPlan> {
  const uploadId = await ctx.store().create(key, contentType, metadata, checksumAlgorithm);
  const numbers = checksumAlgorithm ? [] : range(1, Math.min(layout.partCount, MAX_PARTS_PER_REQUEST));
  const { parts, expiresAt } = await signParts(ctx, key, uploadId, layout, numbers);
  return {
    ...(checksumAlgorithm ? { checksumAlgorithm } : {}),
    key,
    uploadId,
    partSize: layout.partSize,
    partCount: layout.partCount,
    parts,
    publicUrl: `${ctx.config.publicBaseUrl}/${key}`,
    expiresAt,
  };
}

/** `POST /uploads/multipart/parts`: signs the requested (or the next missing) parts; lists what S3 holds. */
export async function signPartsRoute(ctx: RouteContext, scope: string, body: unknown): Promise<Outcome<SignPartsResponse>> {
  const fields = readObject(body, ['key', 'uploadId', 'size', 'partNumbers', 'checksumsSha256'], '{"key":"...","uploadId":"...","partNumbers":[2,3]}');
  if (!fields.ok) return fields;
  const ref = readUploadRef(fields.value, ctx, scope);
  if (!ref.ok) return ref;
  const { key, uploadId, layout } = ref.value;

  let requested: number[] | undefined;
  const raw = fields.value.partNumbers;
  if (raw !== undefined) {
    if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_PARTS_PER_REQUEST) {
      return invalid(`partNumbers must be an array of 1 to ${MAX_PARTS_PER_REQUEST} part numbers; omit it for the next parts S3 does not hold.`);
    }
    requested = [];
    for (const value of raw) {
      const n = readPartNumber(value, layout.partCount, 'each of partNumbers');
      if (!n.ok) return n;
      if (requested.includes(n.value)) return invalid(`partNumbers lists ${n.value} more than once; list each part once.`);
      requested.push(n.value);
    }
  }
  const checksums = readPartChecksums(fields.value.checksumsSha256, requested);
  if (!checksums.ok) return checksums;

  // The listing proves the upload exists for this key (an unknown id signs nothing).
  const listed = await ctx.store().listParts(key, uploadId);
  if (listed === undefined) return uploadNotFound();
  const uploaded: UploadedPart[] = listed.map((p) => ({
    partNumber: p.partNumber, size: p.size, etag: p.etag, ...(p.checksumSha256 ? { checksumSha256: p.checksumSha256 } : {}),
  }));
  const held = new Set(listed.map((p) => p.partNumber));
  const numbers = requested ?? range(1, layout.partCount).filter((n) => !held.has(n)).slice(0, MAX_PARTS_PER_REQUEST);
  const { parts, expiresAt } = await signParts(ctx, key, uploadId, layout, numbers, checksums.value);
  return accept({
    key: key,
    uploadId: uploadId,
    partSize: layout.partSize,
    partCount: layout.partCount,
    parts,
    uploadedParts: uploaded,
    expiresAt,
  });
}

/**
 * `POST /uploads/multipart/complete`: S3 must hold exactly the layout's parts, each of its size, the
 * total within `maxFileSize`; otherwise the upload is aborted and the completion refused.
 */
export async function completeRoute(ctx: RouteContext, scope: string, body: unknown): Promise<Outcome<CompletedUpload>> {
  const { policy } = ctx.config;
  const fields = readObject(body, ['key', 'uploadId', 'size'], '{"key":"...","uploadId":"..."}');
  if (!fields.ok) return fields;
  const ref = readUploadRef(fields.value, ctx, scope);
  if (!ref.ok) return ref;
  const { key, uploadId, layout } = ref.value;
  const { size } = layout;

  const store = ctx.store();
  const completed = accept({ key: key, size: size, publicUrl: `${ctx.config.publicBaseUrl}/${key}` });
  const listed = await store.listParts(key, uploadId);
  if (listed === undefined) return await completedMeanwhile(ctx, key, size) ? completed : uploadNotFound();
  const problem = layoutProblem(listed, layout, policy.maxFileSize);
  if (problem) {
    await abortQuietly(ctx, key, uploadId);
    return problem;
  }
  try {
    await store.complete(key, uploadId, listed, size);
  } catch (err) {
    if (!(err instanceof CompletionConflictError)) throw err;
    if (err.reason === 'upload-gone') return await completedMeanwhile(ctx, key, size) ? completed : uploadNotFound();
    if (err.reason === 'object-exists') {
      await abortQuietly(ctx, key, uploadId);
      return objectExists(key);
    }
    return reject(409, ErrorCodes.PARTS_CHANGED,
      'A part was uploaded again while the upload was being completed; nothing was stored and the upload is unchanged. Complete it again once every part is uploaded.');
  }
  return completed;
}

/**
 * Whether the upload is gone because it was completed: S3 may take longer to assemble a large upload than
 * the signer's completion timeout, answering the retried (or the client's repeated) completion with
 * NoSuchUpload. The key is the server's and write-once, so an object of the layout's size at it is this
 * upload's: answer as the completion would have, instead of telling the client to upload it all again.
 */
async function completedMeanwhile(ctx: RouteContext, key: string, size: number): Promise<boolean> {
  return (await ctx.store().storedSize(key)) === size;
}

/** `POST /uploads/multipart/abort`. */
export async function abortRoute(ctx: RouteContext, scope: string, body: unknown): Promise<Outcome<AbortedUpload>> {
  const fields = readObject(body, ['key', 'uploadId'], '{"key":"...","uploadId":"..."}');
  if (!fields.ok) return fields;
  const key = readKey(fields.value, ctx.config.policy, scope);
  if (!key.ok) return key;
  const uploadId = readUploadId(fields.value);
  if (!uploadId.ok) return uploadId;
  if (!await ctx.store().abort(key.value, uploadId.value)) return uploadNotFound();
  return accept({ key: key.value, uploadId: uploadId.value, aborted: true });
}

/** Why the listed parts cannot complete to the layout, or undefined. Over-limit is checked first. */
export function layoutProblem(listed: readonly ListedPart[], layout: PartLayout, maxFileSize: number): Outcome<never> | undefined {
  const total = listed.reduce((sum, p) => sum + p.size, 0);
  if (total > maxFileSize) {
    return reject(413, ErrorCodes.FILE_TOO_LARGE,
      `The parts in S3 total ${total} bytes, more than the ${formatBytes(maxFileSize)} allowed; the upload was aborted.`);
  }
  const extra = listed.find((p) => p.partNumber > layout.partCount);
  if (extra) {
    return reject(409, ErrorCodes.PART_UNEXPECTED,
      `S3 holds part ${extra.partNumber}, but a ${layout.size}-byte file has ${layout.partCount} parts; the upload was aborted.`);
  }
  const held = new Map(listed.map((p) => [p.partNumber, p]));
  for (let n = 1; n <= layout.partCount; n++) {
    const part = held.get(n);
    if (!part) {
      return reject(409, ErrorCodes.PART_MISSING,
        `Part ${n} of ${layout.partCount} is not in S3; upload every part before completing. The upload was aborted.`);
    }
    if (part.size !== partLength(layout, n)) {
      return reject(409, ErrorCodes.PART_SIZE_MISMATCH,
        `Part ${n} has ${part.size} bytes, but the layout of a ${layout.size}-byte file needs ${partLength(layout, n)}; the upload was aborted.`);
    }
  }
  return undefined;
}

/** Aborts, logging (not throwing) a failure: the lifecycle rule removes what is left after a day. */
export async function abortQuietly(ctx: RouteContext, key: string, uploadId: string): Promise<void> {
  try {
    await ctx.store().abort(key, uploadId);
  } catch (err) {
    ctx.log(`[cdk-direct-upload signer] could not abort refused upload ${uploadId} of ${key}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Keys are write-once: S3 refused to complete onto a key that already holds an object. */
export function objectExists(key: string): Outcome<never> {
  return reject(409, ErrorCodes.OBJECT_EXISTS,
    `An object already exists at "${key}" and uploads never replace one; the upload was aborted. Ask the signer for a new upload.`);
}

export function uploadNotFound(): Outcome<never> {
  return reject(404, ErrorCodes.UPLOAD_NOT_FOUND,
    'No multipart upload with this uploadId exists for this key (it was never created, or is already completed or aborted); start a new upload.');
}

/** Signs the parts; `checksums[i]`, when given, is part `numbers[i]`'s SHA-256 (signed, so S3 checks the bytes). */
async function signParts(
  ctx: RouteContext, key: string, uploadId: string, layout: PartLayout, numbers: readonly number[], checksums?: readonly string[],
) {
  const signingDate = ctx.now();
  let expiresAt = new Date(signingDate.getTime() + ctx.config.policy.expiresInSeconds * 1000);
  const parts: PresignedPart[] = await Promise.all(numbers.map(async (partNumber, i) => {
    const size = partLength(layout, partNumber);
    const checksum = checksums?.[i] !== undefined ? sha256ChecksumHeaders(checksums[i]) : undefined;
    const signed = await ctx.presigner.presign({
      method: 'PUT',
      key,
      query: { partNumber: String(partNumber), uploadId },
      signedHeaders: { 'content-length': String(size), ...checksum },
      signingDate,
    });
    expiresAt = signed.expiresAt;
    return checksum ? { partNumber, url: signed.url, size, headers: { ...signed.headers } } : { partNumber, url: signed.url, size };
  }));
  return { parts, expiresAt: expiresAt.toISOString() };
}

/**
 * The key (within the caller's scope), the upload id, and the layout the key carries. `size`, when the
 * caller sends it, must be the size the upload was created with: the layout comes from the key only.
 */
function readUploadRef(
  fields: Record<string, unknown>, ctx: RouteContext, scope: string,
): Outcome<{ key: string; uploadId: string; layout: PartLayout }> {
  const key = readKey(fields, ctx.config.policy, scope);
  if (!key.ok) return key;
  const uploadId = readUploadId(fields);
  if (!uploadId.ok) return uploadId;
  const layout = readLayoutKey(key.value, ctx.config.policy.maxFileSize);
  if (!layout.ok) return layout;
  if (fields.size !== undefined) {
    const size = readSize(fields, ctx.config.policy);
    if (!size.ok) return size;
    if (size.value !== layout.value.size) {
      return invalid(`size must be ${layout.value.size}, the size this upload was created with (got ${size.value}); omit it, the key carries it.`);
    }
  }
  return accept({ key: key.value, uploadId: uploadId.value, layout: layout.value });
}

/** The layout of a multipart key the signer issued; a 400 for other keys, a 413 when the policy's limit is now lower. */
export function readLayoutKey(key: string, maxFileSize: number): Outcome<PartLayout> {
  const layout = layoutOfKey(key);
  if (layout === undefined) {
    return invalid('key is not the key of a multipart upload this signer created (it ends with _<size>_<partSize>); use the key the signer returned.');
  }
  if (layout.size > maxFileSize) {
    return reject(413, ErrorCodes.FILE_TOO_LARGE,
      `This upload was created for ${layout.size} bytes, more than the ${formatBytes(maxFileSize)} now allowed; start a new upload.`);
  }
  return accept(layout);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

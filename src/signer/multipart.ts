/**
 * Multipart uploads: the part layout (pure) and the four S3 calls the signer makes itself
 * (CreateMultipartUpload, ListParts, CompleteMultipartUpload, AbortMultipartUpload).
 *
 * The calls go through `@aws-sdk/client-s3`, loaded on the first multipart request only: it is external
 * to the Lambda bundle (the nodejs22.x runtime ships it), so the single-upload path neither bundles nor
 * loads it.
 */
import type * as S3 from '@aws-sdk/client-s3';
import { SignerConfig } from './config';
import { lazy } from './lazy';
import { MAX_PART_SIZE, MAX_PARTS, MIB, MIN_PART_SIZE, SignerPolicy } from '../contract/upload-rules';

/** Where each part of a file of `size` bytes goes. */
export interface PartLayout {
  readonly size: number;
  readonly partSize: number;
  readonly partCount: number;
}

/**
 * The layout for a file: the policy's part size, grown (to whole MiB) when the file would need more
 * than 10,000 parts; never above 5 GiB per part.
 */
export function partLayout(size: number, policy: SignerPolicy): PartLayout {
  let partSize = Math.max(policy.partSize, MIN_PART_SIZE);
  if (Math.ceil(size / partSize) > MAX_PARTS) {
    partSize = Math.ceil(size / MAX_PARTS / MIB) * MIB;
  }
  partSize = Math.min(partSize, MAX_PART_SIZE);
  return { size, partSize, partCount: Math.max(1, Math.ceil(size / partSize)) };
}

/** Byte length of part `partNumber` (1-based) in a layout. */
export function partLength(layout: PartLayout, partNumber: number): number {
  return partNumber < layout.partCount ? layout.partSize : layout.size - (layout.partCount - 1) * layout.partSize;
}

/**
 * A layout with a caller-chosen part size (Uppy's chunks), when S3 can complete it: parts of 5 MiB to
 * 5 GiB, at most 10,000 of them. Undefined otherwise.
 */
export function layoutWithPartSize(size: number, partSize: number): PartLayout | undefined {
  if (!Number.isSafeInteger(size) || size < 1 || !Number.isSafeInteger(partSize)
    || partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE || Math.ceil(size / partSize) > MAX_PARTS) {
    return undefined;
  }
  return { size, partSize, partCount: Math.ceil(size / partSize) };
}

/**
 * The last key segment of a multipart upload, `<id>_<size>_<partSize><ext>`: the layout fixed when the
 * upload was created travels in the key itself. The key is the server's (a create URL is signed for it,
 * S3 refuses any other), so a caller cannot change the layout afterwards, and the routes need no state.
 */
export function layoutKeyName(id: string, layout: PartLayout, extension: string): string {
  return `${id}_${layout.size}_${layout.partSize}${extension}`;
}

const LAYOUT_KEY_RE = /_([1-9][0-9]{0,15})_([1-9][0-9]{0,15})(?:\.[A-Za-z0-9]{1,10})?$/;

/** The layout a multipart key carries ({@link layoutKeyName}), or undefined for any other key. */
export function layoutOfKey(key: string): PartLayout | undefined {
  const match = LAYOUT_KEY_RE.exec(key.slice(key.lastIndexOf('/') + 1));
  return match ? layoutWithPartSize(Number(match[1]), Number(match[2])) : undefined;
}

/**
 * The highest part number that can still complete within `maxFileSize`: every part but the last is at
 * least 5 MiB (S3 refuses to complete otherwise), so more parts than this cannot fit.
 */
export function maxPartNumber(maxFileSize: number): number {
  return Math.min(MAX_PARTS, Math.max(1, Math.ceil(maxFileSize / MIN_PART_SIZE)));
}

/** A part as ListParts reports it. */
export interface ListedPart {
  readonly partNumber: number;
  readonly size: number;
  /** Without quotes. */
  readonly etag: string;
  /** Base64 SHA-256 of the part, as S3 computed it (uploads created with the SHA-256 algorithm only). */
  readonly checksumSha256?: string;
}

/** The S3 operations multipart needs, on the upload bucket. Injectable for tests. */
export interface MultipartStore {
  /**
   * `metadata`: user metadata (names without `x-amz-meta-`), stored with the completed object.
   * `checksumAlgorithm`: every part gets a SHA-256 checksum (composite), checked at UploadPart and completion.
   */
  create(key: string, contentType: string, metadata?: Readonly<Record<string, string>>, checksumAlgorithm?: 'SHA256'): Promise<string>;
  /** Every part, in part-number order; undefined when no such upload exists for this key. */
  listParts(key: string, uploadId: string): Promise<ListedPart[] | undefined>;
  /**
   * The ids of every multipart upload in progress for exactly this key (ListMultipartUploads with the
   * key as prefix), oldest first.
   */
  listUploads(key: string): Promise<string[]>;
  /**
   * Completes with exactly these parts; `size` is sent as `x-amz-mp-object-size` (S3 checks it), and
   * `If-None-Match: *` (write-once: S3 refuses when an object exists at the key); each part's
   * `checksumSha256`, when listed, is sent as S3 requires for a checksummed upload.
   */
  complete(key: string, uploadId: string, parts: readonly ListedPart[], size: number): Promise<void>;
  /** False when no such upload exists. */
  abort(key: string, uploadId: string): Promise<boolean>;
  /**
   * The size of the object stored at exactly this key (its current version), undefined when none is
   * (ListObjectVersions with the key as prefix: the signer reads no object). Asked only when an upload
   * being completed is gone: a completion that outlasted its timeout may have stored it meanwhile.
   */
  storedSize(key: string): Promise<number | undefined>;
}

/**
 * A dependency (S3 here) could not serve a request: unreachable, timed out, throttled or failing (5xx).
 * The handler answers 503 SERVICE_UNAVAILABLE; any other S3 error stays a fault (500).
 */
export class DependencyUnavailableError extends Error {
  constructor(public readonly dependency: string, public readonly cause: unknown) {
    super(`${dependency} is unavailable`);
    this.name = 'DependencyUnavailableError';
  }
}

/**
 * S3 refused a completion because the upload changed after the signer listed it: a part was uploaded
 * again (new ETag: `InvalidPart`, `InvalidPartOrder`), or the upload was completed or aborted meanwhile
 * (`NoSuchUpload`); or because an object already exists at the key (`If-None-Match: *`: 412
 * `PreconditionFailed`, or 409 `ConditionalRequestConflict` while another write to the key is under way).
 * The caller's doing, not a fault: the route answers 409 / 404, and S3 left the upload as it was (a
 * completion that fails changes nothing).
 */
export class CompletionConflictError extends Error {
  constructor(public readonly reason: 'parts-changed' | 'upload-gone' | 'object-exists', public readonly cause: unknown) {
    super(reason === 'parts-changed' ? 'a part changed during completion'
      : reason === 'upload-gone' ? 'the upload no longer exists' : 'an object exists at the key');
    this.name = 'CompletionConflictError';
  }
}

const PARTS_CHANGED_ERRORS: readonly string[] = ['InvalidPart', 'InvalidPartOrder'];

/**
 * True for errors that say "the service is not answering properly" rather than "this request is wrong":
 * no HTTP response at all (connection refused or reset, DNS, timeouts), 5xx, and throttling.
 */
export function isUnavailable(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown } | undefined;
  const status = e?.$metadata?.httpStatusCode;
  if (status === undefined) return true;
  return status >= 500 || status === 429 || e?.name === 'SlowDown' || e?.name === 'ThrottlingException';
}

/** Wraps a store so that unavailability surfaces as {@link DependencyUnavailableError}. */
export function guardedStore(store: MultipartStore, dependency = 'S3'): MultipartStore {
  const guard = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      throw isUnavailable(err) ? new DependencyUnavailableError(dependency, err) : err;
    }
  };
  return {
    create: (key, contentType, metadata, checksumAlgorithm) => guard(() => store.create(key, contentType, metadata, checksumAlgorithm)),
    listParts: (key, uploadId) => guard(() => store.listParts(key, uploadId)),
    listUploads: (key) => guard(() => store.listUploads(key)),
    complete: async (key, uploadId, parts, size) => {
      try {
        return await guard(() => store.complete(key, uploadId, parts, size));
      } catch (err) {
        const name = (err as { name?: string; Code?: string } | undefined)?.name;
        if (name !== undefined && PARTS_CHANGED_ERRORS.includes(name)) throw new CompletionConflictError('parts-changed', err);
        if (isWriteConflict(err)) throw new CompletionConflictError('object-exists', err);
        if (isNoSuchUpload(err)) throw new CompletionConflictError('upload-gone', err);
        throw err;
      }
    },
    abort: (key, uploadId) => guard(() => store.abort(key, uploadId)),
    storedSize: (key) => guard(() => store.storedSize(key)),
  };
}

/**
 * Bounded S3 calls. Each call has a total budget (an abort signal covers connecting, every attempt and
 * the backoff between them), so a dead or hung S3 ends in a 503 long before the function's timeout
 * (20 s): at most 5 s per call, 12 s for CompleteMultipartUpload (S3 may take a while to assemble parts);
 * the slowest route (complete: ListParts, then CompleteMultipartUpload) answers within ~17 s.
 */
export const S3_SDK_TIMEOUTS = Object.freeze({
  maxAttempts: 2,
  connectionTimeout: 1000,
  /** Per attempt, whole request (thrown, not only warned: `throwOnRequestTimeout`). */
  requestTimeout: 3000,
  callBudget: 5000,
  completeRequestTimeout: 10_000,
  completeBudget: 12_000,
});

type S3Module = typeof S3;
/** `@aws-sdk/client-s3`, required on first use (external to the bundle). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadSdk = lazy(() => require('@aws-sdk/client-s3') as S3Module);

/**
 * S3's answers to a conditional write that cannot happen: 412 PreconditionFailed (an object exists at
 * the key) or 409 ConditionalRequestConflict (another write to the key is under way).
 */
function isWriteConflict(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  return status === 412 || e?.name === 'PreconditionFailed' || e?.Code === 'PreconditionFailed'
    || e?.name === 'ConditionalRequestConflict' || e?.Code === 'ConditionalRequestConflict';
}

function isNoSuchUpload(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchUpload' || e?.Code === 'NoSuchUpload' || e?.$metadata?.httpStatusCode === 404;
}

const unquote = (etag: string | undefined): string => (etag ?? '').replace(/"/g, '');

/** The SDK-backed store (the Lambda's role credentials, or the local stack's endpoint). */
export function sdkMultipartStore(config: SignerConfig): MultipartStore {
  return sdkMultipartCalls(createS3Client(config), config.bucket);
}

/**
 * The signer's one S3 client and SDK module (multipart store, status and downloads), created and
 * `@aws-sdk/client-s3` loaded on first call: the Lambda's role credentials, or the local stack's endpoint;
 * bounded by {@link S3_SDK_TIMEOUTS}.
 */
export function createS3Client(config: SignerConfig): () => { client: S3.S3Client; m: S3Module } {
  let cached: S3.S3Client | undefined;
  return () => {
    const m = loadSdk();
    cached ??= new m.S3Client({
      region: config.region,
      credentials: async () => config.credentials(),
      ...(config.endpoint ? { endpoint: config.endpoint, forcePathStyle: true } : {}),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: S3_SDK_TIMEOUTS.maxAttempts,
      requestHandler: {
        connectionTimeout: S3_SDK_TIMEOUTS.connectionTimeout,
        requestTimeout: S3_SDK_TIMEOUTS.requestTimeout,
        // Without it, recent @smithy/node-http-handler only logs a warning when requestTimeout passes.
        throwOnRequestTimeout: true,
      },
    });
    return { client: cached, m };
  };
}

/** Per-call options: a total time budget (and, optionally, a longer per-attempt timeout). */
export const bounded = (budget: number, requestTimeout?: number) =>
  ({ abortSignal: AbortSignal.timeout(budget), ...(requestTimeout ? { requestTimeout } : {}) });

function sdkMultipartCalls(s3: () => { client: S3.S3Client; m: S3Module }, Bucket: string): MultipartStore {
  return {
    async create(key, contentType, metadata, checksumAlgorithm) {
      const { client, m } = s3();
      const res = await client.send(new m.CreateMultipartUploadCommand({
        Bucket,
        Key: key,
        ContentType: contentType,
        ...(metadata ? { Metadata: { ...metadata } } : {}),
        // SHA-256 checksums of multipart uploads are composite (a checksum of the part checksums).
        ...(checksumAlgorithm ? { ChecksumAlgorithm: checksumAlgorithm, ChecksumType: 'COMPOSITE' as const } : {}),
      }),
      bounded(S3_SDK_TIMEOUTS.callBudget));
      if (!res.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
      return res.UploadId;
    },

    async listParts(key, uploadId) {
      const { client, m } = s3();
      const parts: ListedPart[] = [];
      let marker: string | undefined;
      try {
        for (let page = 0; page < MAX_PARTS / 1000 + 1; page++) {
          const res = await client.send(new m.ListPartsCommand({ Bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }),
            bounded(S3_SDK_TIMEOUTS.callBudget));
          for (const p of res.Parts ?? []) {
            parts.push({
              partNumber: p.PartNumber ?? 0,
              size: p.Size ?? 0,
              etag: unquote(p.ETag),
              ...(p.ChecksumSHA256 ? { checksumSha256: p.ChecksumSHA256 } : {}),
            });
          }
          if (!res.IsTruncated || res.NextPartNumberMarker === undefined) break;
          marker = String(res.NextPartNumberMarker);
        }
      } catch (err) {
        if (isNoSuchUpload(err)) return undefined;
        throw err;
      }
      return parts.sort((a, b) => a.partNumber - b.partNumber);
    },

    async listUploads(key) {
      const { client, m } = s3();
      const ids: string[] = [];
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      // A key has few uploads (one, unless its create URL was replayed); ten pages bound a hostile case.
      for (let page = 0; page < 10; page++) {
        const res = await client.send(new m.ListMultipartUploadsCommand({
          Bucket, Prefix: key, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker,
        }), bounded(S3_SDK_TIMEOUTS.callBudget));
        for (const u of res.Uploads ?? []) if (u.Key === key && u.UploadId) ids.push(u.UploadId);
        if (!res.IsTruncated) break;
        keyMarker = res.NextKeyMarker;
        uploadIdMarker = res.NextUploadIdMarker;
      }
      return ids;
    },

    async complete(key, uploadId, parts, size) {
      const { client, m } = s3();
      await client.send(new m.CompleteMultipartUploadCommand({
        Bucket,
        Key: key,
        UploadId: uploadId,
        MpuObjectSize: size,
        IfNoneMatch: '*',
        MultipartUpload: {
          Parts: parts.map((p) => ({
            PartNumber: p.partNumber, ETag: `"${p.etag}"`, ...(p.checksumSha256 ? { ChecksumSHA256: p.checksumSha256 } : {}),
          })),
        },
      }), bounded(S3_SDK_TIMEOUTS.completeBudget, S3_SDK_TIMEOUTS.completeRequestTimeout));
    },

    async abort(key, uploadId) {
      const { client, m } = s3();
      try {
        await client.send(new m.AbortMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId }), bounded(S3_SDK_TIMEOUTS.callBudget));
        return true;
      } catch (err) {
        if (isNoSuchUpload(err)) return false;
        throw err;
      }
    },

    async storedSize(key) {
      const { client, m } = s3();
      // A write-once key has one version (a few more after replayed POST forms) and at most one delete marker.
      const res = await client.send(new m.ListObjectVersionsCommand({ Bucket, Prefix: key, MaxKeys: 20 }), bounded(S3_SDK_TIMEOUTS.callBudget));
      const latest = (res.Versions ?? []).find((v) => v.Key === key && v.IsLatest);
      const hidden = (res.DeleteMarkers ?? []).some((d) => d.Key === key && d.IsLatest);
      return latest && !hidden ? latest.Size ?? 0 : undefined;
    },
  };
}

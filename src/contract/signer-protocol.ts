/**
 * The signer's wire protocol: request and response shapes and the stable error codes.
 * Exported for clients (TypeScript only; not part of the jsii surface).
 */

/** Route of the native protocol: single PUT, POST form, or (above the multipart threshold) a multipart plan. */
export const UPLOADS_PATH = '/uploads';
/** Native multipart: sign more parts (and list the uploaded ones). */
export const MULTIPART_PARTS_PATH = '/uploads/multipart/parts';
/** Native multipart: complete (the server lists and checks the parts first). */
export const MULTIPART_COMPLETE_PATH = '/uploads/multipart/complete';
/** Native multipart: abort. */
export const MULTIPART_ABORT_PATH = '/uploads/multipart/abort';
/** Uppy 6 (`@uppy/aws-s3`) `signRequest` contract. */
export const UPPY_SIGN_PATH = '/uppy/sign';
/** Signed delivery: a CloudFront signed URL for one of the caller's verified uploads. */
export const DOWNLOADS_PATH = '/downloads';
/** Whether one of the caller's uploads is pending, verified or rejected (and why). */
export const STATUS_PATH = '/uploads/status';
/** Every signer route (all `POST`). */
export const SIGNER_PATHS: readonly string[] = Object.freeze([
  UPLOADS_PATH, MULTIPART_PARTS_PATH, MULTIPART_COMPLETE_PATH, MULTIPART_ABORT_PATH, UPPY_SIGN_PATH, DOWNLOADS_PATH,
  STATUS_PATH,
]);

/** Most part URLs one response carries (the plan's first batch, or one `parts` request). */
export const MAX_PARTS_PER_REQUEST = 100;

/** `POST /uploads` body. */
export interface CreateUploadRequest {
  /** MIME type of the file, e.g. `image/png`. Parameters and case are normalised away. */
  readonly contentType: string;
  /** Exact size of the file in bytes (a positive integer). S3 rejects a body of any other length. */
  readonly size: number;
  /** Original file name, for your records only: it never chooses the key or its extension. */
  readonly filename?: string;
  /**
   * App context stored with the object as signed user metadata (`x-amz-meta-<key>`): only the keys the
   * construct allow-lists (`metadataKeys`), each a non-empty string (any Unicode, encoded as the filename is,
   * at most 512 characters encoded), at most 1,000 bytes in all. The verified queue message carries it decoded.
   */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Base64 MD5 of the file (24 characters). When given, S3 rejects a body with another digest. PUT only. */
  readonly checksum?: string;
  /**
   * Base64 SHA-256 of the file (44 characters), e.g. from Web Crypto. When given, S3 rejects a body with
   * another SHA-256 (`BadDigest`). PUT only: send `method: 'PUT'` for a file above the multipart threshold.
   */
  readonly checksumSha256?: string;
  /**
   * `'SHA256'`: a multipart upload (at any size; a small file is one part) whose every part carries its
   * SHA-256: the plan signs no part yet, ask `POST /uploads/multipart/parts` with `checksumsSha256`, and
   * S3 refuses a part whose bytes have another SHA-256 (`BadDigest`). Not with `method`, `checksum` or
   * `checksumSha256`.
   */
  readonly checksumAlgorithm?: 'SHA256';
  /**
   * How to send the bytes. `'PUT'`: one presigned PUT (up to 5 GiB). `'POST'`: an HTML-form (POST policy)
   * upload whose policy pins key, type and exact size. Omitted: PUT up to the multipart threshold, a
   * {@link MultipartUploadPlan} above it.
   */
  readonly method?: 'PUT' | 'POST';
}

/** `POST /uploads` 200 response: a presigned single request, or a multipart plan (it has `uploadId`). */
export type CreateUploadResponse = PresignedUpload | MultipartUploadPlan;

/** `POST /uploads` 200 response: a presigned request for exactly one object. */
export interface PresignedUpload {
  /** The object key, chosen by the server. */
  readonly key: string;
  /** HTTP method to send the bytes with. */
  readonly method: 'PUT' | 'POST';
  /** Where to send the bytes. */
  readonly url: string;
  /**
   * Headers the client must send exactly as given (they are signed). `content-length` is signed as
   * well; browsers and fetch set it from the body.
   */
  readonly headers?: Record<string, string>;
  /** Form fields for a POST-policy upload (POST method only). */
  readonly fields?: Record<string, string>;
  /** Where the object will be served from once uploaded (the CDN). */
  readonly publicUrl: string;
  /** When the presigned request stops working (ISO 8601). */
  readonly expiresAt: string;
}

/** Most files one batch request (`POST /uploads` with `files`) may carry. */
export const MAX_BATCH_FILES = 100;

/**
 * `POST /uploads` batch body: 1 to {@link MAX_BATCH_FILES} single-upload requests, signed in one call. The
 * body then has no other field. Each entry is checked, counted (one quota unit) and signed exactly as the
 * same body sent alone would be; one bad entry does not fail the others.
 */
export interface BatchUploadRequest {
  readonly files: readonly CreateUploadRequest[];
}

/** One entry of a batch answer that was signed: `ok` and exactly the single request's 200 answer. */
export type BatchUploadSigned = { readonly ok: true } & CreateUploadResponse;

/** One entry of a batch answer that was refused: what the same request alone would have been answered. */
export interface BatchUploadRefused {
  readonly ok: false;
  /** The HTTP status the request alone would have got (4xx; 503 when a dependency failed). */
  readonly status: number;
  readonly error: ErrorResponse['error'];
  /** Seconds to wait before asking again (`QUOTA_EXCEEDED`, `SERVICE_UNAVAILABLE`): the single answer's `retry-after`. */
  readonly retryAfter?: number;
}

/** One entry of a batch answer. */
export type BatchUploadResult = BatchUploadSigned | BatchUploadRefused;

/**
 * `POST /uploads` batch 200 response: one result per request entry, in request order. A malformed
 * envelope (no array, empty, more than {@link MAX_BATCH_FILES}, other fields beside `files`) is a 400 instead.
 */
export interface BatchUploadResponse {
  readonly files: readonly BatchUploadResult[];
}

/** One presigned `UploadPart` request. */
export interface PresignedPart {
  readonly partNumber: number;
  /** `PUT` the part's bytes here. */
  readonly url: string;
  /** Exact byte length of this part (signed as `content-length`: S3 rejects any other length). */
  readonly size: number;
  /**
   * Headers to send exactly as given (signed): the part's `x-amz-checksum-sha256` (and
   * `x-amz-sdk-checksum-algorithm`) when it was signed with a checksum.
   */
  readonly headers?: Record<string, string>;
}

/** A part S3 already holds. */
export interface UploadedPart {
  readonly partNumber: number;
  readonly size: number;
  /** Without quotes. */
  readonly etag: string;
  /** Base64 SHA-256 of the part (uploads created with `checksumAlgorithm: 'SHA256'`). */
  readonly checksumSha256?: string;
}

/**
 * `POST /uploads` 200 response for a file above the multipart threshold: the upload is created, the
 * first parts are signed. Part `n` (1-based) is bytes `[(n-1)·partSize, min(n·partSize, size))`.
 */
export interface MultipartUploadPlan {
  /** The object key, chosen by the server. */
  readonly key: string;
  readonly uploadId: string;
  /** Size of every part but the last. */
  readonly partSize: number;
  readonly partCount: number;
  /**
   * The first parts (at most {@link MAX_PARTS_PER_REQUEST}); ask `POST /uploads/multipart/parts` for more.
   * None with `checksumAlgorithm` (a part is signed with its checksum).
   */
  readonly parts: readonly PresignedPart[];
  /** `'SHA256'` when the upload was created with `checksumAlgorithm`: every part is signed with its SHA-256. */
  readonly checksumAlgorithm?: 'SHA256';
  /** Where the object will be served from once completed. */
  readonly publicUrl: string;
  /** When these part URLs stop working (ISO 8601). */
  readonly expiresAt: string;
}

/** `POST /uploads/multipart/parts` body. */
export interface SignPartsRequest {
  readonly key: string;
  readonly uploadId: string;
  /** Optional: the file's size, as sent to `POST /uploads`; the key carries the layout fixed then, and another size is refused. */
  readonly size?: number;
  /** Parts to sign (at most {@link MAX_PARTS_PER_REQUEST}). Omitted: the first parts S3 does not hold yet. */
  readonly partNumbers?: readonly number[];
  /**
   * The base64 SHA-256 of each part in `partNumbers`, in the same order (uploads created with
   * `checksumAlgorithm: 'SHA256'`): each part URL is signed with its `x-amz-checksum-sha256`.
   */
  readonly checksumsSha256?: readonly string[];
}

/** `POST /uploads/multipart/parts` 200 response. */
export interface SignPartsResponse {
  readonly key: string;
  readonly uploadId: string;
  readonly partSize: number;
  readonly partCount: number;
  /** The requested parts, signed. */
  readonly parts: readonly PresignedPart[];
  /** What S3 already holds (for resuming). */
  readonly uploadedParts: readonly UploadedPart[];
  readonly expiresAt: string;
}

/** `POST /uploads/multipart/complete` body. */
export interface CompleteMultipartRequest {
  readonly key: string;
  readonly uploadId: string;
  /** Optional: the file's size, as sent to `POST /uploads` (the key carries it); S3 must hold exactly its parts. */
  readonly size?: number;
}

/** `POST /uploads/multipart/complete` 200 response. */
export interface CompletedUpload {
  readonly key: string;
  readonly size: number;
  readonly publicUrl: string;
}

/** `POST /uploads/multipart/abort` body. */
export interface AbortMultipartRequest {
  readonly key: string;
  readonly uploadId: string;
}

/** `POST /uploads/multipart/abort` 200 response. */
export interface AbortedUpload {
  readonly key: string;
  readonly uploadId: string;
  readonly aborted: true;
}

/** `POST /uploads/status` body. */
export interface UploadStatusRequest {
  /** The key the server returned for the upload. */
  readonly key: string;
}

/** Where an upload stands: stored but not yet checked, verified (served and announced), or rejected. */
export type UploadState = 'pending' | 'verified' | 'rejected';

/** `POST /uploads/status` 200 response. */
export interface UploadStatus {
  readonly key: string;
  readonly state: UploadState;
  /**
   * Why the verifier rejected the upload (rejected only): its rejection code, e.g. `CONTENT_MISMATCH`,
   * then `: ` and its message, shortened to what an S3 tag value holds (256 characters).
   */
  readonly reason?: string;
  // No size: the route reads only the version's tags (a HEAD would need read access to every upload, a
  // LIST costs 12.5 times a GET per poll); the client knows the size it sent, the verified message says it.
  /**
   * The stored object's content type (pending and verified): the allowed type the signer chose the key's
   * extension from, read from the key (no extra S3 request); absent when the extension names no single
   * allowed type.
   */
  readonly contentType?: string;
  /** Where the object is served from (verified only). */
  readonly publicUrl?: string;
}

/**
 * `POST /uppy/sign` body: what `@uppy/aws-s3` 6 passes to `signRequest`, plus the fields `uppySigner()`
 * (cdk-direct-upload/client) adds when an upload starts. The operation follows from `method` and the ids:
 * `PUT` = PutObject (or UploadPart with `uploadId` and `partNumber`), `POST` = CreateMultipartUpload (or
 * CompleteMultipartUpload with `uploadId`), `GET` + `uploadId` = ListParts, `DELETE` + `uploadId` =
 * AbortMultipartUpload, `DELETE` alone = DeleteObject (only when enabled).
 */
export interface UppySignRequest {
  readonly method: 'PUT' | 'POST' | 'GET' | 'DELETE';
  /**
   * Uppy's key; replaced by the server's on PutObject and CreateMultipartUpload, checked on the rest. A
   * multipart key ends with `_<size>_<partSize>`: the layout fixed at creation, which every part follows.
   */
  readonly key: string;
  readonly uploadId?: string;
  readonly partNumber?: number;
  /**
   * The file's MIME type (PutObject; CreateMultipartUpload, where Uppy sends none and `uppySigner` sends
   * the file's). Without it at creation, the type follows from the extension of `filename` or `key`.
   */
  readonly contentType?: string;
  /**
   * The file's exact size in bytes, at PutObject (optional: the POST policy then allows 1 byte to
   * `maxFileSize`) and CreateMultipartUpload (required: it fixes the layout). Sent by `uppySigner`.
   */
  readonly size?: number;
  /**
   * Uppy's chunk size for this file, at CreateMultipartUpload (required): 5 MiB to 5 GiB, at most 10,000
   * parts. Every part but the last has this length; S3 refuses any other. Sent by `uppySigner`.
   */
  readonly chunkSize?: number;
  /**
   * The file's name, when an upload starts: signed as `x-amz-meta-filename` (as on `POST /uploads`), and the
   * type's fallback at CreateMultipartUpload; it never chooses the key.
   */
  readonly filename?: string;
  /** App metadata, when an upload starts: as `metadata` of `POST /uploads` (allow-listed keys, signed). */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Seconds; never longer than the policy's expiry. */
  readonly expiresIn?: number;
}

/** `POST /uppy/sign` 200 response (Uppy's `PresignedResponse`). */
export interface UppySignResponse {
  readonly url: string;
  /** The server-chosen key (PutObject, CreateMultipartUpload). */
  readonly key?: string;
  /** Signed headers Uppy must send. */
  readonly headers?: Record<string, string>;
  /** POST-policy form fields (PutObject). */
  readonly fields?: Record<string, string>;
}

/** Stable, machine-readable error codes. */
export const ErrorCodes = {
  /** The body is not a JSON object. */
  INVALID_JSON: 'INVALID_JSON',
  /** A field is missing, of the wrong type, or malformed. */
  INVALID_REQUEST: 'INVALID_REQUEST',
  /** The content type is not in the upload policy. */
  CONTENT_TYPE_NOT_ALLOWED: 'CONTENT_TYPE_NOT_ALLOWED',
  /** `size` is above the policy's maximum (or, at completion, the parts in S3 total more: the upload is aborted). */
  FILE_TOO_LARGE: 'FILE_TOO_LARGE',
  /** The request body itself is too large. */
  REQUEST_TOO_LARGE: 'REQUEST_TOO_LARGE',
  /** The request's Content-Type is not JSON. */
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  /** No identity could be read from the authorizer for this caller. */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** No such route. */
  NOT_FOUND: 'NOT_FOUND',
  /** The route exists but not for this method. */
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  /** The key is not one of the caller's (`<prefix>/<caller>/<name>`). */
  KEY_NOT_ALLOWED: 'KEY_NOT_ALLOWED',
  /**
   * No multipart upload with this id exists for this key (never created, completed or aborted); on
   * `/uploads/status`: nothing was ever stored at the key (not uploaded yet, or not completed).
   */
  UPLOAD_NOT_FOUND: 'UPLOAD_NOT_FOUND',
  /** A checksum that is not the base64 digest it must be (MD5: 16 bytes, SHA-256: 32 bytes), or missing for a part. */
  INVALID_CHECKSUM: 'INVALID_CHECKSUM',
  /** A part number outside the upload's layout (1 to its part count, at most 10,000). */
  INVALID_PART_NUMBER: 'INVALID_PART_NUMBER',
  /** Completion refused (and the upload aborted): a part of the layout is not in S3. */
  PART_MISSING: 'PART_MISSING',
  /** Completion refused (and the upload aborted): S3 holds a part outside the layout. */
  PART_UNEXPECTED: 'PART_UNEXPECTED',
  /** Completion refused (and the upload aborted): a part's size differs from the layout. */
  PART_SIZE_MISMATCH: 'PART_SIZE_MISMATCH',
  /**
   * Completion refused (and the upload aborted): an object already exists at the key. Keys are
   * write-once (S3 conditional writes, `If-None-Match: *`); start a new upload for a new key.
   */
  OBJECT_EXISTS: 'OBJECT_EXISTS',
  /**
   * Completion refused because a part was uploaded again between the signer's listing and S3's
   * completion: nothing was stored, the upload is unchanged; complete again.
   */
  PARTS_CHANGED: 'PARTS_CHANGED',
  /**
   * More multipart uploads exist for this key than one part request aborts (its CreateMultipartUpload URL
   * was replayed many times); no part is signed. Start a new upload.
   */
  UPLOAD_REPLAYED: 'UPLOAD_REPLAYED',
  /** The operation is not offered (e.g. DeleteObject while it is not enabled). */
  OPERATION_NOT_ALLOWED: 'OPERATION_NOT_ALLOWED',
  /**
   * The caller used up its upload quota for the current window (`uploadQuota`); the `retry-after`
   * header says in how many seconds the next window starts.
   */
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  /**
   * A dependency the request needs (S3 for multipart, DynamoDB for the quota) is unreachable or failing;
   * nothing was signed. Retry later (`retry-after`).
   */
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** `POST /downloads`: no object is stored at the key. */
  OBJECT_NOT_FOUND: 'OBJECT_NOT_FOUND',
  /** `POST /downloads`: the object is not verified (yet, or it was rejected); nothing is signed. */
  NOT_VERIFIED: 'NOT_VERIFIED',
  /** `metadata` names a key the construct does not allow-list (`metadataKeys`). */
  METADATA_NOT_ALLOWED: 'METADATA_NOT_ALLOWED',
  /** `metadata` is longer than S3's user-metadata budget leaves for it (one value, or all together). */
  METADATA_TOO_LARGE: 'METADATA_TOO_LARGE',
  /**
   * A batch entry that was not tried because the batch reached its answer-size budget (many multipart plans,
   * each with up to 100 part URLs) or its time budget (slow S3 calls): nothing was signed or counted for it;
   * send it in another batch.
   */
  BATCH_INCOMPLETE: 'BATCH_INCOMPLETE',
  /** The signer is misconfigured (a deployment fault, not the caller's). */
  INTERNAL_ERROR: 'INTERNAL_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Every non-2xx response body. */
export interface ErrorResponse {
  readonly error: {
    readonly code: ErrorCode;
    readonly message: string;
  };
}

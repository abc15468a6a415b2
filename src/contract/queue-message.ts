/**
 * What the verifier writes where: object tags (the CDN gate and its own bookkeeping), the message
 * consumers receive for a verified upload, and the rejection record. Shared by the construct (tag
 * names in the bucket policy), the handler and the local stack. No AWS SDK, no aws-cdk-lib.
 */
import type { ScanRejectionCode, ScanVerdict } from './malware-scan';

/** Why an object was rejected (stable, machine-readable). */
export type RejectionCode =
  | 'OUTSIDE_PREFIX'
  | 'EMPTY'
  | 'FILE_TOO_LARGE'
  | 'CONTENT_TYPE_NOT_ALLOWED'
  | 'UNEXPECTED_HEADERS'
  | 'ACTIVE_CONTENT'
  | 'CONTENT_MISMATCH'
  | 'UNRECOGNIZED_CONTENT'
  | 'TRUNCATED';

/**
 * Object tag the verifier sets to `true` on a verified object. The bucket policy denies CloudFront
 * (`s3:ExistingObjectTag/direct-upload:verified`) every object under the upload prefix without it.
 */
export const VERIFIED_TAG = 'direct-upload:verified';
/** Value of {@link VERIFIED_TAG} on a verified object (`false` on a rejected, retained one). */
export const VERIFIED_VALUE = 'true';
/** Object tag recording the ETag the verdict is about (a replaced object is verified again). */
export const ETAG_TAG = 'direct-upload:etag';
/** Object tag recording why a retained object was rejected. */
export const REJECTED_TAG = 'direct-upload:rejected';
/**
 * Object tag the verifier sets to `true` beside {@link VERIFIED_TAG} when unclaimed uploads expire
 * (`unclaimedUploadExpiry`): a lifecycle rule expires verified objects still carrying it. The application
 * claims an upload by rewriting its tags without it (`claimUpload` of `cdk-direct-upload/worker`).
 */
export const UNCLAIMED_TAG = 'direct-upload:unclaimed';
/**
 * Object tag recording the malware scan, with `malwareScanning`: `pending` once the bytes passed and the
 * scan result is awaited, then the verdict (`NO_THREATS_FOUND` on a verified object, another on a rejected one).
 */
export const SCAN_TAG = 'direct-upload:scan';
/**
 * Object tag on a rejected version: `<code>: <message>` (see {@link rejectionReasonTag}), so that the
 * signer's status route can say why, also after the object was deleted (the rejected version then stays,
 * noncurrent and unserved, until the lifecycle rule expires it).
 */
export const REASON_TAG = 'direct-upload:reason';
/** Every tag key the verifier owns starts with this; only the verifier may set such tags. */
export const TAG_KEY_PREFIX = 'direct-upload:';

/** What happens to a rejected object. */
export type RejectedObjectAction = 'delete' | 'retain';

/**
 * How the bytes were checked: `signature` (magic bytes matched and the end of the file is intact),
 * `signature-only` (no end marker to check for this format), `no-signature` (the declared type has no
 * signature to match; only the absence of active content and of another known format was checked).
 */
export type VerificationMethod = 'signature' | 'signature-only' | 'no-signature';

/** The `verification` member added to each S3 event record forwarded to consumers. */
export interface VerificationResult {
  readonly status: 'verified';
  /** The object's `Content-Type` (normalised). */
  readonly contentType: string;
  /** What the bytes were recognised as (absent for types without a signature, e.g. `text/plain`). */
  readonly detectedType?: string;
  /** How the bytes were checked. */
  readonly method: VerificationMethod;
  /** The object's size and ETag when it was verified: read it with `IfMatch: eTag` to be sure. */
  readonly size: number;
  readonly eTag: string;
  /**
   * The version that was verified (versioned buckets, the construct's default): read exactly it with
   * `VersionId`. With the key it is the upload's idempotency key; the same version may be announced
   * more than once (at-least-once delivery).
   */
  readonly versionId?: string;
  readonly verifiedAt: string;
  /** With `malwareScanning`: GuardDuty's verdict on exactly this version (always `NO_THREATS_FOUND` here). */
  readonly malwareScan?: 'NO_THREATS_FOUND';
  /** The original filename the upload was signed with (any Unicode, sanitised), when the client gave one. */
  readonly filename?: string;
  /** The app metadata the upload was signed with (`metadataKeys`), decoded, when the client sent some. */
  readonly metadata?: Record<string, string>;
}

/** The record sent to the rejection queue. */
export interface RejectionRecord {
  readonly rejection: { readonly code: RejectionCode | ScanRejectionCode; readonly message: string };
  /** With `malwareScanning`: GuardDuty's verdict on this version, when it was known at the rejection. */
  readonly malwareScan?: ScanVerdict;
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly eTag: string;
  /** The version that was rejected (and deleted, or retained), in a versioned bucket. */
  readonly versionId?: string;
  readonly declaredContentType?: string;
  readonly detectedType?: string;
  /** The original filename the upload was signed with, when it had one (and was read). */
  readonly filename?: string;
  /** The allow-listed app metadata the upload carried, decoded, when it had some (and was read). */
  readonly metadata?: Record<string, string>;
  /** `deleted`, `retained` (tagged, never served, expired by the lifecycle rule) or `none` (outside the prefix). */
  readonly action: 'deleted' | 'retained' | 'none';
  readonly rejectedAt: string;
  /** The S3 event record that announced the object. */
  readonly event: unknown;
}

/** Characters S3 accepts in a tag value (letters, digits, spaces and `+ - = . _ : / @`), at most 256 of them. */
const TAG_VALUE_UNSAFE = /[^\p{L}\p{N} +\-=._:/@]+/gu;

/** The {@link REASON_TAG} value for a rejection: `<code>: <message>`, cut to a valid tag value. */
export function rejectionReasonTag(code: string, message: string): string {
  return `${code}: ${message}`.replace(TAG_VALUE_UNSAFE, ' ').replace(/\s+/g, ' ').trim().slice(0, 256);
}

/**
 * Decodes `s3.object.key` of an S3 event record back into the object key (S3 form-URL-encodes it: `+` is
 * a space). What every consumer of the queue does first.
 */
export function decodeS3EventKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}

/**
 * What the verifier writes where: object tags (the CDN gate and its own bookkeeping), the message
 * consumers receive for a verified upload, and the rejection record. Shared by the construct (tag
 * names in the bucket policy), the handler and the local stack. No AWS SDK, no aws-cdk-lib.
 */
import type { ScanRejectionCode, ScanVerdict } from './scan';
import type { RejectionCode } from './verify';

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
 * Object tag recording the malware scan, with `malwareScanning`: `pending` once the bytes passed and the
 * scan result is awaited, then the verdict (`NO_THREATS_FOUND` on a verified object, another on a retained reject).
 */
export const SCAN_TAG = 'direct-upload:scan';
/** Every tag key the verifier owns starts with this; only the verifier may set such tags. */
export const TAG_KEY_PREFIX = 'direct-upload:';

/** Environment variable: URL of the queue verified notifications are sent to (the construct's `queue`). */
export const VERIFIED_QUEUE_URL_ENV = 'DIRECT_UPLOAD_VERIFIED_QUEUE_URL';
/** Environment variable: URL of the queue rejection records are sent to. */
export const REJECTION_QUEUE_URL_ENV = 'DIRECT_UPLOAD_REJECTION_QUEUE_URL';
/** Environment variable: what happens to a rejected object, `delete` or `retain`. */
export const REJECTED_OBJECTS_ENV = 'DIRECT_UPLOAD_REJECTED_OBJECTS';

/**
 * Environment variable, with `malwareScanning`: how many seconds (0 to 900, SQS's longest delay) after the
 * byte check an upload still waiting for its scan result is reported `scan-overdue`. Absent: no scanning.
 */
export const SCAN_DEADLINE_SECONDS_ENV = 'DIRECT_UPLOAD_SCAN_DEADLINE_SECONDS';
/** Environment variable, with `malwareScanning`: the verifier's own input queue (its scan deadlines go there). */
export const VERIFICATION_QUEUE_URL_ENV = 'DIRECT_UPLOAD_VERIFICATION_QUEUE_URL';

/** What happens to a rejected object. */
export type RejectedObjectAction = 'delete' | 'retain';

/** The `verification` member added to each S3 event record forwarded to consumers. */
export interface VerificationResult {
  readonly status: 'verified';
  /** The object's `Content-Type` (normalised). */
  readonly contentType: string;
  /** What the bytes were recognised as (absent for types without a signature, e.g. `text/plain`). */
  readonly detectedType?: string;
  /** How the bytes were checked (see `Verdict.method`). */
  readonly method: 'signature' | 'signature-only' | 'no-signature';
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
  /** `deleted`, `retained` (tagged, never served, expired by the lifecycle rule) or `none` (outside the prefix). */
  readonly action: 'deleted' | 'retained' | 'none';
  readonly rejectedAt: string;
  /** The S3 event record that announced the object. */
  readonly event: unknown;
}

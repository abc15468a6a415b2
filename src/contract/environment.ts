/**
 * The environment that connects the construct to its Lambdas: the variable names, in one place.
 * No aws-cdk-lib import, no SDK: the construct, the handlers, the local stack and the tests share it.
 */

/** Environment variable carrying the serialised `UploadPolicy`. */
export const POLICY_ENV = 'DIRECT_UPLOAD_POLICY';
/** Environment variable carrying the bucket name. */
export const BUCKET_ENV = 'DIRECT_UPLOAD_BUCKET';
/** Environment variable carrying the public (CDN) base URL, without a trailing slash. */
export const PUBLIC_BASE_URL_ENV = 'DIRECT_UPLOAD_PUBLIC_BASE_URL';
/** Environment variable carrying the partition's URL suffix (`amazonaws.com`, `amazonaws.com.cn`). */
export const URL_SUFFIX_ENV = 'DIRECT_UPLOAD_URL_SUFFIX';
/**
 * Environment variable, local stack only: an S3 endpoint origin (e.g. `http://127.0.0.1:4568`).
 * When set, URLs are path-style against that origin and acceleration is ignored.
 */
export const S3_ENDPOINT_ENV = 'DIRECT_UPLOAD_S3_ENDPOINT';

/** Environment variable: URL of the queue verified notifications are sent to (the construct's `queue`). */
export const VERIFIED_QUEUE_URL_ENV = 'DIRECT_UPLOAD_VERIFIED_QUEUE_URL';
/** Environment variable: URL of the queue rejection records are sent to. */
export const REJECTION_QUEUE_URL_ENV = 'DIRECT_UPLOAD_REJECTION_QUEUE_URL';
/** Environment variable: what happens to a rejected object, `delete` or `retain`. */
export const REJECTED_OBJECTS_ENV = 'DIRECT_UPLOAD_REJECTED_OBJECTS';

/** Environment variable carrying the quota (JSON `QuotaSettings`); unset = no quota. */
export const QUOTA_ENV = 'DIRECT_UPLOAD_QUOTA';
/** Environment variable, local stack only: a DynamoDB endpoint origin (e.g. dynalite). */
export const DYNAMODB_ENDPOINT_ENV = 'DIRECT_UPLOAD_DYNAMODB_ENDPOINT';

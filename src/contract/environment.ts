/**
 * The environment that connects the construct to its Lambdas, in one place: the variable names, the
 * typed values, the one function that builds the variables (the construct, the local stack, tests and
 * the bench call it) and the loaders the handlers read them back with. No aws-cdk-lib import, no SDK.
 */
import type { RejectedObjectAction } from './queue-message';
import { parseSignerPolicy, parseUploadPolicy, serializeSignerPolicy, serializeUploadPolicy, SignerPolicy, UploadPolicy } from './upload-rules';

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

/** Environment variable carrying the quota (JSON {@link QuotaSettings}); unset = no quota. */
export const QUOTA_ENV = 'DIRECT_UPLOAD_QUOTA';
/** Environment variable, local stack only: a DynamoDB endpoint origin (e.g. dynalite). */
export const DYNAMODB_ENDPOINT_ENV = 'DIRECT_UPLOAD_DYNAMODB_ENDPOINT';

/** URL suffix of the `aws` partition, used when {@link URL_SUFFIX_ENV} is not set. */
export const DEFAULT_URL_SUFFIX = 'amazonaws.com';

/** The optional per-caller upload quota, serialised into {@link QUOTA_ENV}. */
export interface QuotaSettings {
  /** The DynamoDB table name. */
  readonly table: string;
  /** Most new uploads per caller per window (positive integer). */
  readonly maxUploads: number;
  /** Window length in seconds (positive integer). */
  readonly windowSeconds: number;
}

/** What the construct tells the signer function. */
export interface SignerEnvironment {
  /** What may be uploaded, and how the signer signs it. */
  readonly policy: SignerPolicy;
  /** Bucket receiving the uploads. */
  readonly bucket: string;
  /** Base URL objects are served from (the CDN), without a trailing slash. */
  readonly publicBaseUrl: string;
  /** Partition URL suffix. Loaded as {@link DEFAULT_URL_SUFFIX} when absent. */
  readonly urlSuffix?: string;
  /** The per-caller upload quota, when enabled. */
  readonly quota?: QuotaSettings;
  /**
   * Local stack only: an S3 origin such as `http://127.0.0.1:4568` (no path, no trailing slash).
   * When set, URLs are path-style (`${endpoint}/${bucket}/${key}`) and acceleration is ignored.
   */
  readonly endpoint?: string;
  /** Local stack only: a DynamoDB endpoint origin for the quota table. */
  readonly dynamoDbEndpoint?: string;
}

/** What the construct tells the verifier function. */
export interface VerifierEnvironment {
  /** The upload rules the verifier checks (prefix, types, size). */
  readonly policy: UploadPolicy;
  readonly bucket: string;
  /** Where verified notifications go (the queue consumers read). */
  readonly verifiedQueueUrl: string;
  /** Where rejection records go. */
  readonly rejectionQueueUrl: string;
  readonly rejectedObjects: RejectedObjectAction;
}

/** How {@link signerEnvironment} writes JSON values (the construct passes `Stack.toJsonString`, so tokens resolve). */
export type JsonWriter = (value: unknown) => string;

/** The signer function's variables. Values may be deploy-time tokens (strings only). */
export function signerEnvironment(values: SignerEnvironment, toJson: JsonWriter = JSON.stringify): Record<string, string> {
  return {
    [POLICY_ENV]: serializeSignerPolicy(values.policy),
    [BUCKET_ENV]: values.bucket,
    [PUBLIC_BASE_URL_ENV]: values.publicBaseUrl,
    ...optional(URL_SUFFIX_ENV, values.urlSuffix),
    ...optional(QUOTA_ENV, values.quota && toJson({
      table: values.quota.table,
      maxUploads: values.quota.maxUploads,
      windowSeconds: values.quota.windowSeconds,
    })),
    ...optional(S3_ENDPOINT_ENV, values.endpoint),
    ...optional(DYNAMODB_ENDPOINT_ENV, values.dynamoDbEndpoint),
  };
}

/** The verifier function's variables. Values may be deploy-time tokens (strings only). */
export function verifierEnvironment(values: VerifierEnvironment): Record<string, string> {
  return {
    [POLICY_ENV]: serializeUploadPolicy(values.policy),
    [BUCKET_ENV]: values.bucket,
    [VERIFIED_QUEUE_URL_ENV]: values.verifiedQueueUrl,
    [REJECTION_QUEUE_URL_ENV]: values.rejectionQueueUrl,
    [REJECTED_OBJECTS_ENV]: values.rejectedObjects,
  };
}

function optional(name: string, value: string | undefined): Record<string, string> {
  return value === undefined ? {} : { [name]: value };
}

/** A broken environment: a deployment fault, reported once at cold start with every problem. */
export class EnvironmentError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'EnvironmentError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

// S3 bucket naming rules (general purpose buckets): 3-63 characters, lower-case letters, digits,
// dots and hyphens, beginning and ending with a letter or digit.
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const URL_SUFFIX_RE = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/;

/** Reads the signer's variables back; throws an {@link EnvironmentError} naming each broken one. */
export function loadSignerEnvironment(env: Env): SignerEnvironment {
  const problems: string[] = [];
  const policy = attempt(() => parseSignerPolicy(env[POLICY_ENV], POLICY_ENV), problems);
  const bucket = env[BUCKET_ENV] ?? '';
  if (!bucket) {
    problems.push(`${BUCKET_ENV} is not set; set it to the upload bucket's name`);
  } else if (!BUCKET_RE.test(bucket) || bucket.includes('..')) {
    problems.push(`${BUCKET_ENV} is not a valid S3 bucket name (got "${bucket}")`);
  }
  const urlSuffix = env[URL_SUFFIX_ENV] || DEFAULT_URL_SUFFIX;
  if (!URL_SUFFIX_RE.test(urlSuffix)) {
    problems.push(`${URL_SUFFIX_ENV} is not a domain suffix such as "amazonaws.com" (got "${urlSuffix}")`);
  }
  const publicBaseUrl = readPublicBaseUrl(env[PUBLIC_BASE_URL_ENV], problems);
  const endpoint = readOrigin(env[S3_ENDPOINT_ENV], S3_ENDPOINT_ENV, problems);
  const dynamoDbEndpoint = readOrigin(env[DYNAMODB_ENDPOINT_ENV], DYNAMODB_ENDPOINT_ENV, problems);
  const quota = attempt(() => parseQuotaSettings(env[QUOTA_ENV]), problems);
  if (policy?.accelerate && !endpoint && bucket.includes('.')) {
    problems.push(`${POLICY_ENV} enables Transfer Acceleration but ${BUCKET_ENV} "${bucket}" contains dots, which acceleration does not support`);
  }
  if (problems.length > 0 || !policy) throw new EnvironmentError(problems);
  return {
    policy,
    bucket,
    publicBaseUrl,
    urlSuffix,
    ...(quota ? { quota } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(dynamoDbEndpoint ? { dynamoDbEndpoint } : {}),
  };
}

/** Reads the verifier's variables back; throws an {@link EnvironmentError} naming each broken one. */
export function loadVerifierEnvironment(env: Env): VerifierEnvironment {
  const problems: string[] = [];
  const policy = attempt(() => parseUploadPolicy(env[POLICY_ENV], POLICY_ENV), problems);
  const bucket = env[BUCKET_ENV];
  if (!bucket) problems.push(`${BUCKET_ENV} is not set`);
  const verifiedQueueUrl = readQueueUrl(env, VERIFIED_QUEUE_URL_ENV, problems);
  const rejectionQueueUrl = readQueueUrl(env, REJECTION_QUEUE_URL_ENV, problems);
  const rejectedObjects = env[REJECTED_OBJECTS_ENV] ?? 'delete';
  if (rejectedObjects !== 'delete' && rejectedObjects !== 'retain') problems.push(`${REJECTED_OBJECTS_ENV} must be "delete" or "retain"`);
  if (problems.length > 0 || !policy || !bucket) throw new EnvironmentError(problems);
  return { policy, bucket, verifiedQueueUrl, rejectionQueueUrl, rejectedObjects: rejectedObjects as RejectedObjectAction };
}

/** Parses {@link QUOTA_ENV}; undefined when unset. Throws naming the variable when malformed. */
export function parseQuotaSettings(value: string | undefined): QuotaSettings | undefined {
  if (value === undefined || value === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new Error(`${QUOTA_ENV} is not valid JSON`);
  }
  const q = (parsed ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  const table = q.table;
  if (typeof table !== 'string' || !/^[A-Za-z0-9_.-]{3,255}$/.test(table)) problems.push('table must be a DynamoDB table name');
  const { maxUploads, windowSeconds } = q;
  if (!isPositiveInteger(maxUploads)) problems.push('maxUploads must be a positive integer');
  if (!isPositiveInteger(windowSeconds)) problems.push('windowSeconds must be a positive integer');
  if (problems.length > 0) throw new Error(`${QUOTA_ENV} has invalid fields: ${problems.join(', ')}`);
  return { table: table as string, maxUploads: maxUploads as number, windowSeconds: windowSeconds as number };
}

function isPositiveInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

function attempt<T>(read: () => T, problems: string[]): T | undefined {
  try {
    return read();
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
    return undefined;
  }
}

function readQueueUrl(env: Env, name: string, problems: string[]): string {
  const value = env[name] ?? '';
  if (!/^https?:\/\//.test(value)) problems.push(`${name} is not a queue URL`);
  return value;
}

function readPublicBaseUrl(value: string | undefined, problems: string[]): string {
  if (!value) {
    problems.push(`${PUBLIC_BASE_URL_ENV} is not set; set it to the CDN's base URL (e.g. "https://d111111abcdef8.cloudfront.net")`);
    return '';
  }
  const url = parseUrl(value);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username || url.password) {
    problems.push(`${PUBLIC_BASE_URL_ENV} must be an absolute http(s) URL without query or fragment (got "${value}")`);
    return '';
  }
  return value.replace(/\/+$/, '');
}

function readOrigin(value: string | undefined, name: string, problems: string[]): string | undefined {
  if (!value) return undefined;
  const url = parseUrl(value);
  if (
    !url ||
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search || url.hash || url.username || url.password
  ) {
    problems.push(`${name} must be an http(s) origin without path, e.g. "http://127.0.0.1:4568" (got "${value}")`);
    return undefined;
  }
  return url.origin;
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

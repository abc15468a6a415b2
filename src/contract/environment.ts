/**
 * The environment that connects the construct to its Lambdas, in one place: the variable names, the
 * typed values, the one function that builds the variables (the construct, the local stack, tests and
 * the bench call it) and the loaders the handlers read them back with. No aws-cdk-lib import, no SDK.
 */
import { metadataKeysProblems, parseMetadataKeys } from './metadata';
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
/** Environment variable: `expire` when verified uploads are tagged `direct-upload:unclaimed` until claimed. */
export const UNCLAIMED_UPLOADS_ENV = 'DIRECT_UPLOAD_UNCLAIMED_UPLOADS';
/**
 * Environment variable, with `malwareScanning`: how many seconds (0 to 900, SQS's longest delay) after the
 * byte check an upload still waiting for its scan result is reported `scan-overdue`. Absent: no scanning.
 */
export const SCAN_DEADLINE_SECONDS_ENV = 'DIRECT_UPLOAD_SCAN_DEADLINE_SECONDS';
/** Environment variable, with `malwareScanning`: the verifier's own input queue (its scan deadlines go there). */
export const VERIFICATION_QUEUE_URL_ENV = 'DIRECT_UPLOAD_VERIFICATION_QUEUE_URL';

/** Environment variable carrying the quota (JSON {@link QuotaSettings}); unset = no quota. */
export const QUOTA_ENV = 'DIRECT_UPLOAD_QUOTA';
/** Environment variable, local stack only: a DynamoDB endpoint origin (e.g. dynalite). */
export const DYNAMODB_ENDPOINT_ENV = 'DIRECT_UPLOAD_DYNAMODB_ENDPOINT';

/** Environment variable carrying the signed-delivery settings (JSON {@link DownloadSettings}: ids only); unset = public delivery. */
export const DOWNLOADS_ENV = 'DIRECT_UPLOAD_DOWNLOADS';

/**
 * Environment variable carrying the allow-listed app metadata keys (`metadataKeys`), comma-separated;
 * unset = none. The signer signs only these; the verifier rejects any other stored `x-amz-meta-*`.
 */
export const METADATA_KEYS_ENV = 'DIRECT_UPLOAD_METADATA_KEYS';

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

/** Shortest and longest lifetime of a signed download URL, in seconds. */
export const MIN_DOWNLOAD_EXPIRY_SECONDS = 1;
export const MAX_DOWNLOAD_EXPIRY_SECONDS = 7 * 24 * 3600;
export const DEFAULT_DOWNLOAD_EXPIRY_SECONDS = 300;

/** Signed delivery (`POST /downloads`), serialised into {@link DOWNLOADS_ENV}: ids only, never key material. */
export interface DownloadSettings {
  /** The CloudFront public key id (in the distribution's trusted key group). */
  readonly keyPairId: string;
  /** ARN of the Secrets Manager secret holding the private key PEM. */
  readonly secretArn: string;
  /** Lifetime of each signed URL. */
  readonly expiresInSeconds: number;
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
  /** Signed delivery, when enabled. */
  readonly downloads?: DownloadSettings;
  /** The app metadata keys a create request may carry (`metadataKeys`). @default - none */
  readonly metadataKeys?: readonly string[];
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
  /** Tag verified uploads `direct-upload:unclaimed=true` until claimed (`unclaimedUploadExpiry`). @default false */
  readonly tagUnclaimed?: boolean;
  /** Malware scanning (GuardDuty), when on: an upload is verified only once its scan found no threats. */
  readonly malwareScan?: MalwareScanEnvironment;
  /** The app metadata keys the signer signs (`metadataKeys`): stored `x-amz-meta-*` beyond them is rejected. @default - none */
  readonly metadataKeys?: readonly string[];
}

/** The verifier's side of malware scanning. */
export interface MalwareScanEnvironment {
  /** Seconds after the byte check an upload still without a scan result is reported overdue (0 to 900). */
  readonly deadlineSeconds: number;
  /** The verifier's own input queue: scan deadlines are sent there, delayed. Tokens allowed. */
  readonly verificationQueueUrl: string;
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
    ...optional(DOWNLOADS_ENV, values.downloads && toJson({
      keyPairId: values.downloads.keyPairId,
      secretArn: values.downloads.secretArn,
      expiresInSeconds: values.downloads.expiresInSeconds,
    })),
    ...optional(METADATA_KEYS_ENV, metadataKeysValue(values.metadataKeys)),
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
    ...optional(UNCLAIMED_UPLOADS_ENV, values.tagUnclaimed ? 'expire' : undefined),
    ...optional(SCAN_DEADLINE_SECONDS_ENV, values.malwareScan && String(values.malwareScan.deadlineSeconds)),
    ...optional(VERIFICATION_QUEUE_URL_ENV, values.malwareScan?.verificationQueueUrl),
    ...optional(METADATA_KEYS_ENV, metadataKeysValue(values.metadataKeys)),
  };
}

function metadataKeysValue(keys: readonly string[] | undefined): string | undefined {
  return keys && keys.length > 0 ? keys.join(',') : undefined;
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
  const downloads = attempt(() => parseDownloadSettings(env[DOWNLOADS_ENV]), problems);
  const metadataKeys = readMetadataKeys(env, problems);
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
    ...(downloads ? { downloads } : {}),
    ...(metadataKeys.length > 0 ? { metadataKeys } : {}),
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
  const unclaimed = env[UNCLAIMED_UPLOADS_ENV] ?? 'keep';
  if (unclaimed !== 'keep' && unclaimed !== 'expire') problems.push(`${UNCLAIMED_UPLOADS_ENV} must be "keep" or "expire"`);
  const malwareScan = readMalwareScan(env, problems);
  const metadataKeys = readMetadataKeys(env, problems);
  if (problems.length > 0 || !policy || !bucket) throw new EnvironmentError(problems);
  return {
    policy,
    bucket,
    verifiedQueueUrl,
    rejectionQueueUrl,
    rejectedObjects: rejectedObjects as RejectedObjectAction,
    tagUnclaimed: unclaimed === 'expire',
    ...(malwareScan ? { malwareScan } : {}),
    ...(metadataKeys.length > 0 ? { metadataKeys } : {}),
  };
}

/** The allow-list of {@link METADATA_KEYS_ENV}; its problems name the variable. */
function readMetadataKeys(env: Env, problems: string[]): string[] {
  const keys = parseMetadataKeys(env[METADATA_KEYS_ENV]);
  const found = metadataKeysProblems(keys, METADATA_KEYS_ENV);
  problems.push(...found);
  return found.length > 0 ? [] : keys;
}

/** Malware scanning is on when its deadline is set; the verification queue must then be set too. */
function readMalwareScan(env: Env, problems: string[]): MalwareScanEnvironment | undefined {
  const deadline = env[SCAN_DEADLINE_SECONDS_ENV];
  if (deadline === undefined) return undefined;
  const deadlineSeconds = Number(deadline);
  if (!/^\d+$/.test(deadline) || deadlineSeconds > 900) problems.push(`${SCAN_DEADLINE_SECONDS_ENV} must be a whole number of seconds from 0 to 900`);
  const verificationQueueUrl = env[VERIFICATION_QUEUE_URL_ENV] ?? '';
  if (!/^https?:\/\//.test(verificationQueueUrl)) problems.push(`${VERIFICATION_QUEUE_URL_ENV} is not a queue URL (needed with ${SCAN_DEADLINE_SECONDS_ENV})`);
  return { deadlineSeconds, verificationQueueUrl };
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

/** Parses {@link DOWNLOADS_ENV}; undefined when unset. Throws naming the variable when malformed. */
export function parseDownloadSettings(value: string | undefined): DownloadSettings | undefined {
  if (value === undefined || value === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new Error(`${DOWNLOADS_ENV} is not valid JSON`);
  }
  const d = parsed as Partial<DownloadSettings> | null;
  const problems: string[] = [];
  if (typeof d?.keyPairId !== 'string' || !/^[A-Za-z0-9]{1,128}$/.test(d.keyPairId)) problems.push('keyPairId must be a CloudFront public key id');
  if (typeof d?.secretArn !== 'string' || !/^arn:[a-z-]+:secretsmanager:/.test(d.secretArn)) problems.push('secretArn must be a Secrets Manager secret ARN');
  const e = d?.expiresInSeconds;
  if (typeof e !== 'number' || !Number.isSafeInteger(e) || e < MIN_DOWNLOAD_EXPIRY_SECONDS || e > MAX_DOWNLOAD_EXPIRY_SECONDS) {
    problems.push(`expiresInSeconds must be an integer from ${MIN_DOWNLOAD_EXPIRY_SECONDS} to ${MAX_DOWNLOAD_EXPIRY_SECONDS}`);
  }
  if (problems.length > 0) throw new Error(`${DOWNLOADS_ENV} has invalid fields: ${problems.join(', ')}`);
  return { keyPairId: d!.keyPairId!, secretArn: d!.secretArn!, expiresInSeconds: e! };
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

/**
 * The signer's configuration, read once from its environment at cold start.
 *
 * Pure: takes the environment as an argument (the Lambda passes `process.env`, tests and the local
 * stack pass their own record), imports no AWS SDK.
 */
import { parseQuotaSettings, QuotaSettings } from './quota';
import {
  BUCKET_ENV,
  DYNAMODB_ENDPOINT_ENV,
  POLICY_ENV,
  PUBLIC_BASE_URL_ENV,
  QUOTA_ENV,
  S3_ENDPOINT_ENV,
  URL_SUFFIX_ENV,
} from '../contract/environment';
import { parsePolicy, UploadPolicy } from '../contract/upload-rules';

/** Region the function runs in (set by the Lambda runtime): the bucket's region. */
export const REGION_ENV = 'AWS_REGION';
/** Credential variables set by the Lambda runtime for the function's role. */
export const ACCESS_KEY_ID_ENV = 'AWS_ACCESS_KEY_ID';
export const SECRET_ACCESS_KEY_ENV = 'AWS_SECRET_ACCESS_KEY';
export const SESSION_TOKEN_ENV = 'AWS_SESSION_TOKEN';

/** URL suffix of the `aws` partition, used when {@link URL_SUFFIX_ENV} is not set. */
export const DEFAULT_URL_SUFFIX = 'amazonaws.com';

/** Static or temporary AWS credentials used to sign. */
export interface SignerCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Everything the signer needs; built by {@link loadSignerConfig}. */
export interface SignerConfig {
  /** Bucket receiving the uploads. */
  readonly bucket: string;
  /** The bucket's region (the signing region, also with Transfer Acceleration). */
  readonly region: string;
  /** Partition URL suffix, e.g. `amazonaws.com`. */
  readonly urlSuffix: string;
  /** Base URL objects are served from (the CDN), without a trailing slash. */
  readonly publicBaseUrl: string;
  /** What may be uploaded. */
  readonly policy: UploadPolicy;
  /**
   * Local stack only: an S3 origin such as `http://127.0.0.1:4568` (no path, no trailing slash).
   * When set, URLs are path-style (`${endpoint}/${bucket}/${key}`) and acceleration is ignored.
   */
  readonly endpoint?: string;
  /** Returns the credentials to sign with; called per request so it always sees current values. */
  readonly credentials: () => SignerCredentials;
  /** The per-caller upload quota, when enabled ({@link QUOTA_ENV}). */
  readonly quota?: QuotaSettings;
  /** Local stack only: a DynamoDB endpoint origin for the quota table. */
  readonly dynamoDbEndpoint?: string;
}

// S3 bucket naming rules (general purpose buckets): 3-63 characters, lower-case letters, digits,
// dots and hyphens, beginning and ending with a letter or digit.
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION_RE = /^[a-z0-9]+(-[a-z0-9]+)+$/;
const URL_SUFFIX_RE = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/;

/**
 * Reads and checks the signer's configuration. Collects every problem and throws one Error naming
 * each variable and the fix: a broken environment is a deployment fault, reported once at cold start.
 */
export function loadSignerConfig(env: Record<string, string | undefined>): SignerConfig {
  const problems: string[] = [];

  let policy: UploadPolicy | undefined;
  try {
    policy = parsePolicy(env[POLICY_ENV]);
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
  }

  const bucket = env[BUCKET_ENV] ?? '';
  if (!bucket) {
    problems.push(`${BUCKET_ENV} is not set; set it to the upload bucket's name`);
  } else if (!BUCKET_RE.test(bucket) || bucket.includes('..')) {
    problems.push(`${BUCKET_ENV} is not a valid S3 bucket name (got "${bucket}")`);
  }

  const region = env[REGION_ENV] ?? '';
  if (!region) {
    problems.push(`${REGION_ENV} is not set; set it to the bucket's region (e.g. "eu-west-1")`);
  } else if (!REGION_RE.test(region)) {
    problems.push(`${REGION_ENV} is not a region name (got "${region}")`);
  }

  const urlSuffix = env[URL_SUFFIX_ENV] || DEFAULT_URL_SUFFIX;
  if (!URL_SUFFIX_RE.test(urlSuffix)) {
    problems.push(`${URL_SUFFIX_ENV} is not a domain suffix such as "amazonaws.com" (got "${urlSuffix}")`);
  }

  const publicBaseUrl = readPublicBaseUrl(env[PUBLIC_BASE_URL_ENV], problems);
  const endpoint = readEndpoint(env[S3_ENDPOINT_ENV], problems, S3_ENDPOINT_ENV);
  const dynamoDbEndpoint = readEndpoint(env[DYNAMODB_ENDPOINT_ENV], problems, DYNAMODB_ENDPOINT_ENV);
  let quota: QuotaSettings | undefined;
  try {
    quota = parseQuotaSettings(env[QUOTA_ENV]);
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
  }

  if (policy?.accelerate && !endpoint && bucket.includes('.')) {
    problems.push(`${POLICY_ENV} enables Transfer Acceleration but ${BUCKET_ENV} "${bucket}" contains dots, which acceleration does not support`);
  }

  if (!env[ACCESS_KEY_ID_ENV] || !env[SECRET_ACCESS_KEY_ENV]) {
    problems.push(`${ACCESS_KEY_ID_ENV} and ${SECRET_ACCESS_KEY_ENV} must be set (the Lambda runtime sets them for the function's role)`);
  }

  if (problems.length > 0 || !policy) {
    throw new Error(`Invalid signer configuration: ${problems.join('; ')}`);
  }

  return {
    bucket,
    region,
    urlSuffix,
    publicBaseUrl,
    policy,
    ...(endpoint ? { endpoint } : {}),
    ...(quota ? { quota } : {}),
    ...(dynamoDbEndpoint ? { dynamoDbEndpoint } : {}),
    credentials: () => readCredentials(env),
  };
}

function readCredentials(env: Record<string, string | undefined>): SignerCredentials {
  const accessKeyId = env[ACCESS_KEY_ID_ENV];
  const secretAccessKey = env[SECRET_ACCESS_KEY_ENV];
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(`${ACCESS_KEY_ID_ENV} and ${SECRET_ACCESS_KEY_ENV} are not set; the signer has no credentials to sign with`);
  }
  const sessionToken = env[SESSION_TOKEN_ENV];
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
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

function readEndpoint(value: string | undefined, problems: string[], name: string): string | undefined {
  if (!value) {
    return undefined;
  }
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

/**
 * The upload policy: the one definition of what may be uploaded (types, size, prefix, expiry).
 *
 * The construct validates its props with these functions and serialises the policy into the
 * signer's environment; the signer parses it back. Nothing here imports aws-cdk-lib or the AWS SDK,
 * so the Lambda bundle stays small and the local stack can share it.
 */

/** 1 MiB in bytes. */
export const MIB = 1024 * 1024;
/** S3's largest object: 5 TiB. */
export const MAX_OBJECT_SIZE = 5 * 1024 * 1024 * MIB;
/** S3's largest single PUT: 5 GiB. */
export const MAX_SINGLE_PUT_SIZE = 5 * 1024 * MIB;
/** S3's smallest multipart part (every part but the last): 5 MiB. */
export const MIN_PART_SIZE = 5 * MIB;
/** S3's largest multipart part: 5 GiB. */
export const MAX_PART_SIZE = 5 * 1024 * MIB;
/** S3's largest part number (and part count) of a multipart upload. */
export const MAX_PARTS = 10_000;
/** Files above this size get a multipart plan from `POST /uploads`. */
export const DEFAULT_MULTIPART_THRESHOLD = 100 * MIB;
/** Part size of a multipart plan (grown when a file would need more than {@link MAX_PARTS} parts). */
export const DEFAULT_PART_SIZE = 16 * MIB;

/** Image types that are safe to serve inline. SVG and HTML are deliberately absent (they run script). */
export const DEFAULT_ALLOWED_CONTENT_TYPES: readonly string[] = Object.freeze([
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
  'image/avif',
]);
export const DEFAULT_MAX_FILE_SIZE = 25 * MIB;
export const DEFAULT_URL_EXPIRY_SECONDS = 300;
export const MIN_URL_EXPIRY_SECONDS = 1;
/** Presigned URLs signed with a Lambda role's temporary credentials die with the session: keep them short. */
export const MAX_URL_EXPIRY_SECONDS = 3600;
export const DEFAULT_PREFIX = 'uploads';
export const DEFAULT_IDENTITY_CLAIM = 'sub';
/** Longest accepted `filename`, in UTF-16 code units. */
export const MAX_FILENAME_LENGTH = 255;

/** How the signer learns who the caller is. */
export type AuthMode = 'iam' | 'authorizer' | 'none';

/** What may be uploaded: the rules the signer signs for and the verifier checks. */
export interface UploadPolicy {
  /** Key prefix, no leading or trailing slash (e.g. `uploads`). */
  readonly prefix: string;
  /** Lower-case `type/subtype` values. */
  readonly allowedContentTypes: readonly string[];
  /** Largest accepted object, in bytes. */
  readonly maxFileSize: number;
}

/** The upload rules plus how the signer signs: the signer's policy, serialised into its environment. */
export interface SignerPolicy extends UploadPolicy {
  /** Lifetime of a presigned request, in seconds. */
  readonly expiresInSeconds: number;
  /** Whether URLs use the S3 Transfer Acceleration endpoint. */
  readonly accelerate: boolean;
  /** Where the caller's identity comes from. */
  readonly auth: AuthMode;
  /** JWT claim (or Lambda authorizer context key) naming the caller, with `auth: 'authorizer'`. */
  readonly identityClaim: string;
  /** Files above this size (bytes) get a multipart plan from `POST /uploads`; at most {@link MAX_SINGLE_PUT_SIZE}. */
  readonly multipartThreshold: number;
  /** Part size (bytes) of multipart plans, 5 MiB to 5 GiB. */
  readonly partSize: number;
  /** Whether the Uppy route signs `DeleteObject` (keys in the caller's scope only). */
  readonly allowDeleteObject: boolean;
}

/** Problems with multipart settings (bytes), each completing "<name> ..."; shared by construct and parser. */
export function multipartProblems(threshold: number, partSize: number): { threshold?: string; partSize?: string } {
  const out: { threshold?: string; partSize?: string } = {};
  if (!Number.isSafeInteger(threshold) || threshold < 1 || threshold > MAX_SINGLE_PUT_SIZE) {
    out.threshold = 'must be a whole number of bytes from 1 byte to 5 GiB (the largest single PUT)';
  }
  if (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) {
    out.partSize = 'must be a whole number of bytes from 5 MiB to 5 GiB (S3\'s part size limits)';
  }
  return out;
}

/**
 * A byte count for people: `1 MiB (1048576 bytes)`, or `1 MiB` without `withBytes`; counts that are not
 * whole KiB/MiB/GiB/TiB stay in bytes (`1000 bytes`, `1 byte`).
 */
export function formatBytes(bytes: number, withBytes = true): string {
  const units: ReadonlyArray<[string, number]> = [['TiB', 1024 ** 4], ['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]];
  for (const [unit, factor] of units) {
    if (bytes >= factor && bytes % factor === 0) {
      return withBytes ? `${bytes / factor} ${unit} (${bytes} bytes)` : `${bytes / factor} ${unit}`;
    }
  }
  return bytes === 1 ? '1 byte' : `${bytes} bytes`;
}

/** File extensions for common types; the key's extension comes from the type, never the filename. */
export const CONTENT_TYPE_EXTENSIONS: Readonly<Record<string, string>> = Object.freeze({
  'image/jpeg': '.jpg',
  'image/png': '.png',
  'image/webp': '.webp',
  'image/gif': '.gif',
  'image/avif': '.avif',
  'image/heic': '.heic',
  'image/heif': '.heif',
  'image/tiff': '.tiff',
  'image/bmp': '.bmp',
  'image/svg+xml': '.svg',
  'application/pdf': '.pdf',
  'application/zip': '.zip',
  'application/json': '.json',
  'application/gzip': '.gz',
  'text/plain': '.txt',
  'text/csv': '.csv',
  'text/html': '.html',
  'video/mp4': '.mp4',
  'video/webm': '.webm',
  'video/quicktime': '.mov',
  'audio/mpeg': '.mp3',
  'audio/ogg': '.ogg',
  'audio/wav': '.wav',
});

/** Types that execute script when a browser renders them inline. */
export const ACTIVE_CONTENT_TYPES: readonly string[] = Object.freeze([
  'image/svg+xml',
  'text/html',
  'application/xhtml+xml',
  'text/xml',
  'application/xml',
  'text/javascript',
  'application/javascript',
]);

// RFC 7230 token characters for type and subtype.
const TOKEN = "[!#$%&'*+.^_`|~0-9a-z-]+";
const CONTENT_TYPE_RE = new RegExp(`^${TOKEN}/${TOKEN}$`);

/** True when `value` is a bare, lower-case `type/subtype` (no parameters, no wildcard). */
export function isValidContentType(value: string): boolean {
  return CONTENT_TYPE_RE.test(value) && !value.includes('*');
}

/**
 * Normalises a client-declared content type: trims, lower-cases and drops parameters
 * (`Image/PNG; charset=x` → `image/png`). Returns undefined when what remains is not `type/subtype`.
 */
export function normalizeContentType(value: string): string | undefined {
  const base = value.split(';', 1)[0].trim().toLowerCase();
  return isValidContentType(base) ? base : undefined;
}

/** The key extension for a content type (`''` when the type has no well-known extension). */
export function extensionFor(contentType: string): string {
  return CONTENT_TYPE_EXTENSIONS[contentType] ?? '';
}

/**
 * The content type a signer-chosen key was signed for: the one allowed type whose extension
 * ({@link extensionFor}) the key's name ends with; `undefined` when none or several allowed types share it.
 */
export function contentTypeOfKey(key: string, allowedContentTypes: readonly string[]): string | undefined {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const ext = /\.[A-Za-z0-9]{1,10}$/.exec(name)?.[0] ?? '';
  const types = allowedContentTypes.filter((type) => extensionFor(type) === ext);
  return types.length === 1 ? types[0] : undefined;
}

// S3's "safe characters" for keys, plus '/' between segments.
const PREFIX_SEGMENT_RE = /^[A-Za-z0-9!_.*'()-]+$/;

/**
 * Checks a key prefix. Returns a problem description, or undefined when the prefix is fine.
 * The problem text completes the sentence "uploadPrefix ...".
 */
export function prefixProblem(prefix: string): string | undefined {
  if (prefix.length === 0) {
    return 'must not be empty; use a name such as "uploads"';
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(prefix)) {
    return 'must not contain control characters';
  }
  if (prefix.startsWith('/')) {
    return `must not start with "/" (got "${prefix}"); S3 keys have no leading slash, use "${prefix.replace(/^\/+/, '')}"`;
  }
  if (prefix.endsWith('/')) {
    return `must not end with "/" (got "${prefix}"); the separator is added for you, use "${prefix.replace(/\/+$/, '')}"`;
  }
  const segments = prefix.split('/');
  if (segments.some((s) => s === '..' || s === '.')) {
    return `must not contain "." or ".." segments (got "${prefix}")`;
  }
  if (segments.some((s) => s.length === 0)) {
    return `must not contain empty segments ("//") (got "${prefix}")`;
  }
  if (!segments.every((s) => PREFIX_SEGMENT_RE.test(s))) {
    return `may only contain letters, digits and !_.*'()- between "/" separators (got "${prefix}")`;
  }
  if (prefix.length > 256) {
    return `must be at most 256 characters (got ${prefix.length})`;
  }
  return undefined;
}

/** Serialises the upload rules (stable key order, so synth output is stable). */
export function serializeUploadPolicy(policy: UploadPolicy): string {
  return JSON.stringify(uploadPolicyJson(policy));
}

/** Serialises the signer's policy (stable key order, so synth output is stable). */
export function serializeSignerPolicy(policy: SignerPolicy): string {
  return JSON.stringify({
    ...uploadPolicyJson(policy),
    expiresInSeconds: policy.expiresInSeconds,
    accelerate: policy.accelerate,
    auth: policy.auth,
    identityClaim: policy.identityClaim,
    multipartThreshold: policy.multipartThreshold,
    partSize: policy.partSize,
    allowDeleteObject: policy.allowDeleteObject,
  });
}

function uploadPolicyJson(policy: UploadPolicy) {
  return { prefix: policy.prefix, allowedContentTypes: [...policy.allowedContentTypes], maxFileSize: policy.maxFileSize };
}

/**
 * Parses and checks serialised upload rules. Throws an Error naming `source` and each broken field: a
 * broken environment is a deployment fault, reported once at cold start, never per request.
 */
export function parseUploadPolicy(json: string | undefined, source = 'the upload policy'): UploadPolicy {
  const raw = parseJsonObject(json, source);
  const problems: string[] = [];
  const policy = readUploadPolicy(raw, problems);
  if (problems.length > 0) throw new Error(`${source} has invalid fields: ${problems.join(', ')}`);
  return policy;
}

/** Parses and checks a serialised {@link SignerPolicy}; every field is required. */
export function parseSignerPolicy(json: string | undefined, source = 'the signer policy'): SignerPolicy {
  const raw = parseJsonObject(json, source);
  const problems: string[] = [];
  const rules = readUploadPolicy(raw, problems);
  const exp = raw.expiresInSeconds;
  if (typeof exp !== 'number' || !Number.isInteger(exp) || exp < MIN_URL_EXPIRY_SECONDS || exp > MAX_URL_EXPIRY_SECONDS) {
    problems.push('expiresInSeconds');
  }
  if (typeof raw.accelerate !== 'boolean') problems.push('accelerate');
  if (raw.auth !== 'iam' && raw.auth !== 'authorizer' && raw.auth !== 'none') problems.push('auth');
  if (typeof raw.identityClaim !== 'string' || raw.identityClaim.length === 0) problems.push('identityClaim');
  const { multipartThreshold: threshold, partSize } = raw;
  const multipart = multipartProblems(threshold as number, partSize as number);
  if (typeof threshold !== 'number' || multipart.threshold) problems.push('multipartThreshold');
  if (typeof partSize !== 'number' || multipart.partSize) problems.push('partSize');
  if (typeof raw.allowDeleteObject !== 'boolean') problems.push('allowDeleteObject');
  if (problems.length > 0) throw new Error(`${source} has invalid fields: ${problems.join(', ')}`);
  return {
    ...rules,
    expiresInSeconds: exp as number,
    accelerate: raw.accelerate as boolean,
    auth: raw.auth as AuthMode,
    identityClaim: raw.identityClaim as string,
    multipartThreshold: threshold as number,
    partSize: partSize as number,
    allowDeleteObject: raw.allowDeleteObject as boolean,
  };
}

function parseJsonObject(json: string | undefined, source: string): Record<string, unknown> {
  if (!json) throw new Error(`${source} is not set`);
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error(`${source} is not valid JSON`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${source} is not a JSON object`);
  return raw as Record<string, unknown>;
}

function readUploadPolicy(raw: Record<string, unknown>, problems: string[]): UploadPolicy {
  const { prefix, allowedContentTypes: types, maxFileSize: max } = raw;
  if (typeof prefix !== 'string' || prefixProblem(prefix)) problems.push('prefix');
  if (!Array.isArray(types) || types.length === 0 || !types.every((t) => typeof t === 'string' && isValidContentType(t))) {
    problems.push('allowedContentTypes');
  }
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max <= 0 || max > MAX_OBJECT_SIZE) problems.push('maxFileSize');
  return {
    prefix: prefix as string,
    allowedContentTypes: Object.freeze([...(Array.isArray(types) ? types as string[] : [])]),
    maxFileSize: max as number,
  };
}

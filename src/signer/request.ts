/**
 * Reading and checking a `POST /uploads` request. Every bad input becomes a {@link Rejection} value
 * with a stable code and a message that says what to do; nothing here throws on client input.
 */
import { accept, Outcome, reject } from './http';
import { MetadataHeaders, readMetadata } from './metadata';
import { CreateUploadRequest, ErrorCodes } from '../contract/signer-protocol';
import { formatBytes, MAX_FILENAME_LENGTH, MAX_SINGLE_PUT_SIZE, normalizeContentType, SignerPolicy } from '../contract/upload-rules';

/** Largest accepted request body (the JSON metadata, not the file): 8 KiB. */
export const MAX_REQUEST_BODY_BYTES = 8 * 1024;

/** The fields of {@link CreateUploadRequest}; any other field is refused. */
const KNOWN_FIELDS: ReadonlySet<string> = new Set<keyof CreateUploadRequest>(['contentType', 'size', 'filename', 'metadata', 'checksum', 'checksumSha256', 'checksumAlgorithm', 'method']);

/** Base64 of exactly 16 bytes (an MD5 digest): 22 characters and `==`. */
const MD5_BASE64_RE = /^[A-Za-z0-9+/]{22}==$/;
/** Base64 of exactly 32 bytes (a SHA-256 digest): 43 characters and `=`. */
const SHA256_BASE64_RE = /^[A-Za-z0-9+/]{43}=$/;

/** A checked request: the content type is normalised and allowed, the size within limits. */
export interface ValidUploadRequest {
  /** Normalised (`type/subtype`, lower case) and in the policy. */
  readonly contentType: string;
  readonly size: number;
  readonly filename?: string;
  /** The app metadata, encoded as the S3 headers it is signed as (allow-listed keys only). */
  readonly metadata?: MetadataHeaders;
  readonly checksum?: string;
  /** Base64 SHA-256 of the file (PUT only). */
  readonly checksumSha256?: string;
  /** Every part carries a SHA-256 checksum (multipart only). */
  readonly checksumAlgorithm?: 'SHA256';
  /** How the bytes go: one PUT, one POST form, or a multipart upload (above the threshold, no `method`). */
  readonly mode: UploadMode;
}

/** How a file is uploaded. */
export type UploadMode = 'PUT' | 'POST' | 'MULTIPART';

/** The part of an HTTP API (payload v2) event that carries the body. */
export interface RequestBodySource {
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
}

/**
 * The parsed JSON body. Checks, in order: body size (413 above `maxBytes`, before decoding or parsing), the
 * request's Content-Type (415 unless JSON), then JSON syntax (400 INVALID_JSON).
 */
export function readJsonBody(event: RequestBodySource, maxBytes = MAX_REQUEST_BODY_BYTES): Outcome<unknown> {
  const raw = event.body ?? '';
  const tooLarge = (): Outcome<unknown> =>
    reject(413, ErrorCodes.REQUEST_TOO_LARGE, `The request body must be at most ${maxBytes} bytes; send only the file's metadata as JSON, not the file.`);

  let text: string;
  if (event.isBase64Encoded) {
    // Base64 inflates by 4/3: refuse obviously large bodies before decoding them.
    if (raw.length > Math.ceil(maxBytes / 3) * 4 + 4) {
      return tooLarge();
    }
    const bytes = Buffer.from(raw, 'base64');
    if (bytes.length > maxBytes) {
      return tooLarge();
    }
    text = bytes.toString('utf8');
  } else {
    if (raw.length > maxBytes || Buffer.byteLength(raw, 'utf8') > maxBytes) {
      return tooLarge();
    }
    text = raw;
  }

  const contentType = header(event.headers, 'content-type');
  if (contentType !== undefined && contentType.split(';', 1)[0].trim().toLowerCase() !== 'application/json') {
    return reject(415, ErrorCodes.UNSUPPORTED_MEDIA_TYPE, 'The request body must be JSON; send it with "Content-Type: application/json".');
  }

  try {
    return accept(JSON.parse(text) as unknown);
  } catch {
    return reject(400, ErrorCodes.INVALID_JSON, invalidJsonMessage('The request body is not valid JSON'));
  }
}

/** Checks a parsed body against the protocol, the policy and the allow-listed metadata keys. */
export function validateCreateUploadRequest(body: unknown, policy: SignerPolicy, metadataKeys: readonly string[] = []): Outcome<ValidUploadRequest> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return reject(400, ErrorCodes.INVALID_JSON, invalidJsonMessage('The request body must be a JSON object'));
  }
  const fields = body as Record<string, unknown>;

  const unknown = Object.keys(fields).filter((name) => !KNOWN_FIELDS.has(name));
  if (unknown.length > 0) {
    const names = unknown.slice(0, 5).map((name) => JSON.stringify(truncate(name, 64))).join(', ');
    return invalid(`Unknown field${unknown.length > 1 ? 's' : ''} ${names}; send only contentType, size, filename, metadata, checksum, checksumSha256, checksumAlgorithm and method.`);
  }

  // Shapes first (400), then the policy (415, 413).
  const rawType = fields.contentType;
  if (rawType === undefined) {
    return invalid('contentType is required; give the file\'s MIME type, e.g. "image/png".');
  }
  if (typeof rawType !== 'string') {
    return invalid('contentType must be a string such as "image/png".');
  }
  const contentType = normalizeContentType(rawType);
  if (contentType === undefined) {
    return invalid('contentType must be a MIME type of the form "type/subtype", e.g. "image/png".');
  }

  const size = fields.size;
  if (size === undefined) {
    return invalid('size is required; give the file\'s exact size in bytes.');
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) {
    return invalid('size must be a positive integer: the file\'s exact size in bytes.');
  }

  const filename = fields.filename;
  if (filename !== undefined) {
    if (typeof filename !== 'string') {
      return invalid('filename must be a string; omit it if there is none.');
    }
    if (filename.length === 0) {
      return invalid('filename must not be empty; omit it if there is none.');
    }
    if (filename.length > MAX_FILENAME_LENGTH) {
      return invalid(`filename must be at most ${MAX_FILENAME_LENGTH} characters (got ${filename.length}); shorten it or omit it.`);
    }
    if (hasControlCharacter(filename)) {
      return invalid('filename must not contain control characters; remove them or omit filename.');
    }
  }

  const metadata = readMetadata(fields.metadata, metadataKeys);
  if (!metadata.ok) return metadata;

  const checksum = fields.checksum;
  if (checksum !== undefined) {
    if (typeof checksum !== 'string' || !isMd5Base64(checksum)) {
      return invalidChecksum('checksum must be the base64 MD5 digest of the file (24 characters ending in "=="); omit it to upload without one.');
    }
  }

  const checksumSha256 = fields.checksumSha256;
  if (checksumSha256 !== undefined) {
    if (!isSha256Base64(checksumSha256)) {
      return invalidChecksum('checksumSha256 must be the base64 SHA-256 digest of the file (44 characters ending in "="); omit it to upload without one.');
    }
  }

  const method = fields.method;
  if (method !== undefined && method !== 'PUT' && method !== 'POST') {
    return invalid('method must be "PUT" (one presigned PUT) or "POST" (an HTML form upload); omit it to let the server choose.');
  }
  const checksumAlgorithm = fields.checksumAlgorithm;
  if (checksumAlgorithm !== undefined) {
    if (checksumAlgorithm !== 'SHA256') {
      return invalid('checksumAlgorithm must be "SHA256" (a multipart upload whose every part carries its SHA-256); omit it to upload without part checksums.');
    }
    if (method !== undefined || checksum !== undefined || checksumSha256 !== undefined) {
      return invalid('checksumAlgorithm is for multipart uploads, whose parts carry their own SHA-256: omit method, checksum and checksumSha256 with it (for one PUT, send checksumSha256 instead).');
    }
  }
  // Part checksums make the upload multipart at any size (a small file is one part).
  const mode: UploadMode = method ?? (size > policy.multipartThreshold || checksumAlgorithm !== undefined ? 'MULTIPART' : 'PUT');
  for (const [name, value] of [['checksum', checksum], ['checksumSha256', checksumSha256]] as const) {
    if (value !== undefined && mode !== 'PUT') {
      return invalid(mode === 'POST'
        ? `${name} is supported with PUT uploads only; omit it, or omit method: "POST".`
        : `${name} is supported for single uploads only, and a ${size}-byte file is uploaded in parts; omit ${name}, or send method: "PUT".`);
    }
  }

  if (!policy.allowedContentTypes.includes(contentType)) {
    return reject(415, ErrorCodes.CONTENT_TYPE_NOT_ALLOWED,
      `contentType "${contentType}" is not allowed; use one of: ${policy.allowedContentTypes.join(', ')}.`);
  }
  if (size > policy.maxFileSize) {
    return reject(413, ErrorCodes.FILE_TOO_LARGE,
      `size must be at most ${formatBytes(policy.maxFileSize)} (got ${size} bytes); upload a smaller file.`);
  }
  if (mode !== 'MULTIPART' && size > MAX_SINGLE_PUT_SIZE) {
    return reject(413, ErrorCodes.FILE_TOO_LARGE,
      `size must be at most ${formatBytes(MAX_SINGLE_PUT_SIZE)} for a single upload (got ${size} bytes); omit method to upload it in parts.`);
  }

  return accept({
    contentType,
    size,
    mode,
    ...(filename !== undefined ? { filename } : {}),
    ...(metadata.value !== undefined ? { metadata: metadata.value } : {}),
    ...(checksum !== undefined ? { checksum } : {}),
    ...(checksumSha256 !== undefined ? { checksumSha256 } : {}),
    ...(checksumAlgorithm !== undefined ? { checksumAlgorithm } : {}),
  });
}

function invalid<T>(message: string): Outcome<T> {
  return reject(400, ErrorCodes.INVALID_REQUEST, message);
}

function invalidChecksum<T>(message: string): Outcome<T> {
  return reject(400, ErrorCodes.INVALID_CHECKSUM, message);
}

/** Whether a value is the canonical base64 of exactly 32 bytes (a SHA-256 digest). */
export function isSha256Base64(value: unknown): value is string {
  return typeof value === 'string' && isCanonicalBase64(value, SHA256_BASE64_RE);
}

function invalidJsonMessage(problem: string): string {
  return `${problem}; send an object such as {"contentType":"image/png","size":12345}.`;
}

function isMd5Base64(value: string): boolean {
  return isCanonicalBase64(value, MD5_BASE64_RE);
}

function isCanonicalBase64(value: string, shape: RegExp): boolean {
  // The regex bounds the length; the round trip refuses non-canonical padding bits.
  return shape.test(value) && Buffer.from(value, 'base64').toString('base64') === value;
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code <= 0x1f || code === 0x7f) {
      return true;
    }
  }
  return false;
}

function header(headers: Readonly<Record<string, string | undefined>> | undefined, name: string): string | undefined {
  if (!headers) {
    return undefined;
  }
  // HTTP APIs lower-case header names (the fast path); match case-insensitively anyway.
  const exact = headers[name];
  if (exact !== undefined) {
    return exact;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && value !== undefined) {
      return value;
    }
  }
  return undefined;
}

function truncate(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

/**
 * Reading the fields of the multipart and Uppy requests. Like request.ts: every bad input becomes a
 * {@link Rejection} value with a stable code and a message saying what to do; nothing throws.
 */
import { accept, Outcome, reject } from './http';
import { ErrorCodes } from '../contract/signer-protocol';
import { formatBytes, SignerPolicy } from '../contract/upload-rules';

/** The body as a record whose fields are all among `known`. */
export function readObject(body: unknown, known: readonly string[], example: string): Outcome<Record<string, unknown>> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return reject(400, ErrorCodes.INVALID_JSON, `The request body must be a JSON object such as ${example}.`);
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    const names = unknown.slice(0, 5).map((name) => JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name)).join(', ');
    return invalid(`Unknown field${unknown.length > 1 ? 's' : ''} ${names}; send only ${known.join(', ')}.`);
  }
  return accept(fields);
}

/** The last key segment the signer generates: `<uuid><ext>` (checked loosely: one safe segment). */
const KEY_NAME_RE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$/;

/** The caller's key prefix: `<prefix>/<scope>/`. */
export function scopePrefix(policy: SignerPolicy, scope: string): string {
  return `${policy.prefix}/${scope}/`;
}

/**
 * `key`: a string naming one of the caller's objects, `<prefix>/<scope>/<name>` with `name` one safe
 * segment (no `/`, no `..`). Any other key is refused with 403 before anything is signed or called.
 */
export function readKey(fields: Record<string, unknown>, policy: SignerPolicy, scope: string): Outcome<string> {
  const key = fields.key;
  if (key === undefined) return invalid('key is required: the key the server returned for this upload.');
  if (typeof key !== 'string' || key.length === 0 || key.length > 1024) {
    return invalid('key must be a non-empty string of at most 1024 characters: the key the server returned for this upload.');
  }
  const prefix = scopePrefix(policy, scope);
  if (!key.startsWith(prefix) || !KEY_NAME_RE.test(key.slice(prefix.length))) {
    return reject(403, ErrorCodes.KEY_NOT_ALLOWED,
      `key is not one of your uploads; you may only use keys the server gave you (under "${prefix}").`);
  }
  return accept(key);
}

/** S3 upload ids are opaque base64-like tokens; anything else is refused before it reaches S3. */
const UPLOAD_ID_RE = /^[A-Za-z0-9._~+/=-]{1,1024}$/;

export function readUploadId(fields: Record<string, unknown>): Outcome<string> {
  const uploadId = fields.uploadId;
  if (uploadId === undefined) return invalid('uploadId is required: the id returned when the multipart upload was created.');
  if (typeof uploadId !== 'string' || !UPLOAD_ID_RE.test(uploadId)) {
    return invalid('uploadId must be the string returned when the multipart upload was created (letters, digits and ._~+/=- only, at most 1024 characters).');
  }
  return accept(uploadId);
}

/** `size`: a positive integer within the policy. */
export function readSize(fields: Record<string, unknown>, policy: SignerPolicy): Outcome<number> {
  const size = fields.size;
  if (size === undefined) return invalid('size is required: the file\'s exact size in bytes, as sent when the upload was created.');
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) {
    return invalid('size must be a positive integer: the file\'s exact size in bytes.');
  }
  if (size > policy.maxFileSize) {
    return reject(413, ErrorCodes.FILE_TOO_LARGE,
      `size must be at most ${formatBytes(policy.maxFileSize)} (got ${size} bytes); upload a smaller file.`);
  }
  return accept(size);
}

/** A part number: an integer from 1 to `max`. */
export function readPartNumber(value: unknown, max: number, name = 'partNumber'): Outcome<number> {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    return invalid(`${name} must be an integer from 1 to ${max}.`);
  }
  if (value < 1 || value > max) {
    return reject(400, ErrorCodes.INVALID_PART_NUMBER, `${name} must be from 1 to ${max} for this upload (got ${value}).`);
  }
  return accept(value);
}

export function invalid<T>(message: string): Outcome<T> {
  return reject(400, ErrorCodes.INVALID_REQUEST, message);
}

/**
 * The user metadata a new upload is signed with: the original filename (`x-amz-meta-filename`) and the
 * app metadata of the request (`metadata`, allow-listed keys only), as encoded S3 headers. Every path signs
 * exactly these (single PUT headers, POST policy `eq` conditions, the multipart create's headers), so S3
 * refuses an upload that changes, drops or adds one. Bad input is a {@link Rejection} value, never thrown.
 */
import { accept, Outcome, reject } from './http';
import { encodeFilename, FILENAME_HEADER } from '../contract/filename';
import {
  encodeMetadataValue,
  MAX_METADATA_BYTES,
  MAX_METADATA_VALUE_LENGTH,
  METADATA_HEADER_PREFIX,
  metadataBytes,
  metadataHeader,
} from '../contract/metadata';
import { ErrorCodes } from '../contract/signer-protocol';

/** A UTF-16 surrogate without its pair: not Unicode text, and no UTF-8 encoding round-trips it. */
const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Encoded user metadata: `x-amz-meta-<name>` → value, as S3 stores it. */
export type MetadataHeaders = Readonly<Record<string, string>>;

/**
 * Reads `metadata` of a create request: an object of allow-listed keys to non-empty strings (any
 * well-formed Unicode), each encoded value at most {@link MAX_METADATA_VALUE_LENGTH} characters, all
 * together at most {@link MAX_METADATA_BYTES} bytes. Returns the encoded headers (`undefined` for none).
 */
export function readMetadata(value: unknown, allowed: readonly string[]): Outcome<MetadataHeaders | undefined> {
  if (value === undefined) return accept(undefined);
  const keysHint = allowed.length > 0 ? `the allowed keys are ${allowed.join(', ')}` : 'this signer allows no metadata keys (metadataKeys)';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return reject(400, ErrorCodes.INVALID_REQUEST, `metadata must be an object of string values, e.g. {"album-id":"42"}; ${keysHint}.`);
  }
  const entries = Object.entries(value as Record<string, unknown>);
  const unknown = entries.map(([key]) => key).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    const names = unknown.slice(0, 5).map((key) => JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}…` : key)).join(', ');
    return reject(400, ErrorCodes.METADATA_NOT_ALLOWED, `metadata key${unknown.length > 1 ? 's' : ''} ${names} not allowed; ${keysHint}.`);
  }
  const headers: Record<string, string> = {};
  for (const [key, raw] of entries) {
    if (typeof raw !== 'string' || raw.length === 0 || LONE_SURROGATE_RE.test(raw)) {
      return reject(400, ErrorCodes.INVALID_REQUEST, `metadata.${key} must be a non-empty string of well-formed Unicode; omit the key if there is no value.`);
    }
    const encoded = encodeMetadataValue(raw);
    if (encoded.length > MAX_METADATA_VALUE_LENGTH) {
      return reject(400, ErrorCodes.METADATA_TOO_LARGE,
        `metadata.${key} is ${encoded.length} characters encoded (UTF-8 percent-encoding); at most ${MAX_METADATA_VALUE_LENGTH} are stored; shorten it.`);
    }
    headers[metadataHeader(key)] = encoded;
  }
  const bytes = metadataBytes(headers);
  if (bytes > MAX_METADATA_BYTES) {
    return reject(400, ErrorCodes.METADATA_TOO_LARGE,
      `metadata takes ${bytes} bytes as S3 user metadata (${METADATA_HEADER_PREFIX}<key> names plus encoded values); at most ${MAX_METADATA_BYTES} are allowed; send less.`);
  }
  return accept(entries.length > 0 ? headers : undefined);
}

/** The filename's header (when it sanitises to something) and the app metadata, or `undefined` for neither. */
export function userMetadata(filename: string | undefined, metadata: MetadataHeaders | undefined): MetadataHeaders | undefined {
  const encoded = filename !== undefined ? encodeFilename(filename) : undefined;
  const out = { ...(encoded !== undefined ? { [FILENAME_HEADER]: encoded } : {}), ...metadata };
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The same metadata as the SDK's `Metadata` (names without `x-amz-meta-`), for CreateMultipartUpload. */
export function sdkMetadata(headers: MetadataHeaders | undefined): Record<string, string> | undefined {
  return headers && Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.slice(METADATA_HEADER_PREFIX.length), value]));
}

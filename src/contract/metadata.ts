/**
 * App context metadata: up to {@link MAX_METADATA_KEYS} keys the construct allow-lists (`metadataKeys`),
 * each stored with the object as S3 user metadata `x-amz-meta-<key>` and signed on the upload, so S3 refuses
 * another value, a missing one or an extra unsigned one. Values are encoded as the filename is (UTF-8
 * percent-encoded RFC 8187 value-chars, see filename.ts): plain ASCII that any browser can send as a header
 * and that decodes back to exactly the string the client gave.
 *
 * Size: S3 allows 2 KB of user metadata per object (the UTF-8 bytes of every name and value). The filename
 * takes at most 1,043 bytes of it (`x-amz-meta-filename`, 19 bytes, plus at most 1,024 encoded); the app
 * metadata at most {@link MAX_METADATA_BYTES} (names counted with the `x-amz-meta-` prefix, values encoded), so
 * both fit together whatever the client sends. No AWS SDK, no aws-cdk-lib.
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html
 */
import { ENCODED_RE, encodeValue, FILENAME_METADATA } from './filename';

/** Most allow-listed metadata keys. */
export const MAX_METADATA_KEYS = 10;
/** Longest encoded value of one key. */
export const MAX_METADATA_VALUE_LENGTH = 512;
/** Most bytes of all app metadata together: `x-amz-meta-<key>` names plus encoded values. */
export const MAX_METADATA_BYTES = 1000;
/** What S3 prefixes user metadata names with. */
export const METADATA_HEADER_PREFIX = 'x-amz-meta-';
/** A key: lower-case letters, digits and inner hyphens, 1 to 64 characters (a header name S3 stores as given). */
const KEY_RE = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

/** Problems of an allow-list, each completing "<name> ..." sentences the construct and the loader both use. */
export function metadataKeysProblems(keys: readonly string[], name = 'metadataKeys'): string[] {
  const problems: string[] = [];
  if (keys.length > MAX_METADATA_KEYS) {
    problems.push(`${name} lists ${keys.length} keys; allow at most ${MAX_METADATA_KEYS} (S3 stores 2 KB of user metadata per object).`);
  }
  for (const key of keys) {
    if (key === FILENAME_METADATA) {
      problems.push(`${name} must not list "${FILENAME_METADATA}": it is reserved for the original filename, which the signer stores by itself; send filename instead.`);
    } else if (!KEY_RE.test(key)) {
      problems.push(`${name} entry "${key}" is not a metadata key; use 1 to 64 lower-case letters, digits and inner hyphens, e.g. "album-id".`);
    }
  }
  const dupes = keys.filter((k, i) => keys.indexOf(k) !== i);
  if (dupes.length > 0) problems.push(`${name} lists ${[...new Set(dupes)].join(', ')} more than once; list each key once.`);
  return problems;
}

/** The stored header of a key: `x-amz-meta-<key>`. */
export function metadataHeader(key: string): string {
  return `${METADATA_HEADER_PREFIX}${key}`;
}

/** The stored (signed) value of a metadata value. */
export function encodeMetadataValue(value: string): string {
  return encodeValue(value);
}

/** The value a stored value stands for; `undefined` for one {@link encodeMetadataValue} did not write. */
export function decodeMetadataValue(stored: string | undefined): string | undefined {
  if (stored === undefined || stored.length > MAX_METADATA_VALUE_LENGTH || !ENCODED_RE.test(stored)) return undefined;
  try {
    const value = decodeURIComponent(stored);
    return encodeValue(value) === stored ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The decoded app metadata among an object's stored headers (lower-case names): the allow-listed keys whose
 * values decode; `undefined` when there is none.
 */
export function storedMetadata(stored: Readonly<Record<string, string>>, keys: readonly string[]): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const key of keys) {
    const value = decodeMetadataValue(stored[metadataHeader(key)]);
    if (value !== undefined) out[key] = value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Bytes of encoded metadata headers as S3 counts them (names and values; all ASCII). */
export function metadataBytes(headers: Readonly<Record<string, string>>): number {
  return Object.entries(headers).reduce((sum, [name, value]) => sum + name.length + value.length, 0);
}

/** Parses a comma-separated allow-list (the environment's form); empty for none. */
export function parseMetadataKeys(value: string | undefined): string[] {
  return value ? value.split(',') : [];
}

/**
 * The original filename, stored with the object as S3 user metadata (`x-amz-meta-filename`), signed on the
 * upload so S3 refuses any other value. Browsers cannot send header values outside Latin-1 (and S3 answers
 * non-ASCII metadata RFC 2047-encoded), so the value is the sanitised name, NFC, as UTF-8 percent-encoded
 * RFC 8187 `value-chars`: plain ASCII that round-trips, and exactly what `Content-Disposition:
 * attachment; filename*=UTF-8''<value>` carries, so the CDN copies it without decoding.
 * No AWS SDK, no aws-cdk-lib.
 */

/** The user-metadata name (S3 stores it as `x-amz-meta-filename`). */
export const FILENAME_METADATA = 'filename';
/** The header S3 stores and returns the encoded filename under. */
export const FILENAME_HEADER = `x-amz-meta-${FILENAME_METADATA}`;
/** Longest encoded value (S3 allows 2 KB of user metadata in all). */
export const MAX_ENCODED_FILENAME = 1024;

const UTF8 = new TextEncoder();
/** RFC 8187 attr-char: what stays unencoded. */
const ATTR_CHAR = /^[A-Za-z0-9!#$&+\-.^_`|~]$/;
/** An encoded value as this module writes it. */
export const ENCODED_RE = /^(?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-F]{2})+$/;

/**
 * The name a user may see: NFC, no control or format characters, no path (the part after the last `/`
 * or `\`), no leading dots or surrounding spaces; `undefined` when nothing is left.
 */
export function sanitizeFilename(name: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  const base = name.normalize('NFC').replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, '')
    .split(/[/\\]/).pop() ?? '';
  const clean = base.trim().replace(/^\.+/, '').trim();
  return clean.length > 0 ? clean : undefined;
}

/** Percent-encodes UTF-8 outside RFC 8187 attr-char (the encoding of every signed user-metadata value). */
export function encodeValue(text: string): string {
  let out = '';
  for (const ch of text) {
    out += ATTR_CHAR.test(ch) ? ch : [...UTF8.encode(ch)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  }
  return out;
}

/**
 * The stored value for a filename: sanitised, then encoded, cut (whole characters) to
 * {@link MAX_ENCODED_FILENAME}; `undefined` when the name sanitises to nothing.
 */
export function encodeFilename(name: string): string | undefined {
  const clean = sanitizeFilename(name);
  if (clean === undefined) return undefined;
  let out = '';
  for (const ch of clean) {
    const next = encodeValue(ch);
    if (out.length + next.length > MAX_ENCODED_FILENAME) break;
    out += next;
  }
  return out;
}

/** Whether a stored value is one {@link encodeFilename} writes. */
export function isEncodedFilename(value: string): boolean {
  if (value.length > MAX_ENCODED_FILENAME || !ENCODED_RE.test(value)) return false;
  try {
    const name = decodeURIComponent(value);
    return encodeFilename(name) === value;
  } catch {
    return false;
  }
}

/** The filename a stored value stands for (`undefined` for a value this module did not write). */
export function decodeFilename(value: string | undefined): string | undefined {
  return value !== undefined && isEncodedFilename(value) ? decodeURIComponent(value) : undefined;
}

/**
 * The verification decision for one object: is it what the upload policy allows, and are its bytes
 * what its `Content-Type` says? Pure (the bytes come in; nothing is read or written here).
 */
import { checkComplete, containsActiveMarkup, detectFormat, RangeReader, sameFormat, SIGNATURE_CONTENT_TYPES } from './detect';
import { FILENAME_HEADER, isEncodedFilename } from '../contract/filename';
import { decodeMetadataValue, metadataHeader } from '../contract/metadata';
import { RejectionCode, VerificationMethod } from '../contract/queue-message';
import { ACTIVE_CONTENT_TYPES, normalizeContentType, UploadPolicy } from '../contract/upload-rules';

export type { RejectionCode };

/** An object whose bytes are what the upload rules allow. */
export interface Accepted {
  readonly ok: true;
  /** A sentence for humans (logs). */
  readonly message: string;
  /** The declared `Content-Type`, normalised (`type/subtype`). */
  readonly declaredType: string;
  /** What the bytes are, when recognised. */
  readonly detectedType?: string;
  readonly method: VerificationMethod;
}

/** An object that must not be served. */
export interface Rejected {
  readonly ok: false;
  readonly code: RejectionCode;
  /** A sentence for humans (logs, the rejection record). */
  readonly message: string;
  /** The declared `Content-Type`, normalised, when there was one. */
  readonly declaredType?: string;
  /** What the bytes are, when recognised. */
  readonly detectedType?: string;
}

/** What was found about one object. */
export type Verdict = Accepted | Rejected;

/** One object to verify. */
export interface VerifyInput {
  readonly policy: UploadPolicy;
  readonly key: string;
  /** The object's `Content-Type`, as stored. */
  readonly contentType: string | undefined;
  /**
   * The other response headers stored with the object (lower-case names). The signer signs none of
   * them, so any (but `Cache-Control: no-cache`, which browsers add) is one the uploader added
   * unsigned; such an object is rejected, so nothing an uploader adds is ever served.
   * @default - none
   */
  readonly storedHeaders?: Readonly<Record<string, string>>;
  /**
   * The app metadata keys the signer signs (`metadataKeys`): their `x-amz-meta-<key>` headers, in the one
   * encoding the signer writes, are expected; any other user metadata is not. @default - none
   */
  readonly metadataKeys?: readonly string[];
  /** The object's size in bytes. */
  readonly size: number;
  /** The object's first bytes (up to `HEAD_BYTES`; all of it when smaller). */
  readonly head: Uint8Array;
  /** Reads further ranges (end-of-file checks). */
  readonly read: RangeReader;
}

/**
 * Stored header values that HTTP clients add on their own: a fetch or XMLHttpRequest carrying
 * `If-None-Match` (every write-once PUT) gets `Cache-Control: max-age=0` from Chromium and
 * `Cache-Control: no-cache` from Node's fetch (the Fetch standard's HTTP-network-or-cache fetch), and S3
 * stores it. Both only ask for revalidation, and the CDN replaces `Cache-Control` in what it serves.
 */
const CLIENT_ADDED_HEADERS: Readonly<Record<string, readonly string[]>> = Object.freeze({ 'cache-control': ['no-cache', 'max-age=0'] });

/** The stored headers that the signer did not sign and no client adds by itself, sorted. */
export function unexpectedHeaders(stored: Readonly<Record<string, string>>, metadataKeys: readonly string[] = []): string[] {
  const signed = new Set(metadataKeys.map(metadataHeader));
  return Object.entries(stored)
    .filter(([name, value]) => !CLIENT_ADDED_HEADERS[name]?.includes(value.trim().toLowerCase()))
    // The signer signs the original filename and the allow-listed app metadata, in the one encoding it writes.
    .filter(([name, value]) => !(name === FILENAME_HEADER && isEncodedFilename(value)))
    .filter(([name, value]) => !(signed.has(name) && decodeMetadataValue(value) !== undefined))
    .map(([name]) => name)
    .sort();
}

function reject(code: RejectionCode, message: string, extra: Pick<Rejected, 'declaredType' | 'detectedType'> = {}): Rejected {
  return { ok: false, code, message, ...extra };
}

/** Decides whether an uploaded object may be served and processed. */
export async function verifyObject(input: VerifyInput): Promise<Verdict> {
  const { policy, key, size, head } = input;
  if (!key.startsWith(`${policy.prefix}/`) || key.split('/').some((s) => s === '..' || s === '.')) {
    return reject('OUTSIDE_PREFIX', `key "${key}" is not under the upload prefix "${policy.prefix}/"`);
  }
  if (size === 0) return reject('EMPTY', 'the object is empty');
  if (size > policy.maxFileSize) {
    return reject('FILE_TOO_LARGE', `the object has ${size} bytes, more than the ${policy.maxFileSize} allowed`);
  }
  const declaredType = input.contentType === undefined ? undefined : normalizeContentType(input.contentType);
  if (!declaredType || !policy.allowedContentTypes.includes(declaredType)) {
    return reject('CONTENT_TYPE_NOT_ALLOWED', `content type "${input.contentType ?? ''}" is not allowed`, { declaredType });
  }

  const unexpected = unexpectedHeaders(input.storedHeaders ?? {}, input.metadataKeys);
  if (unexpected.length > 0) {
    return reject('UNEXPECTED_HEADERS', `the upload stored response headers the signer did not sign: ${unexpected.join(', ')}`, { declaredType });
  }

  const detected = detectFormat(head);
  const detectedType = detected?.contentType;
  if (detected?.active && !(ACTIVE_CONTENT_TYPES.includes(declaredType) && sameFormat(declaredType, detected.contentType))) {
    return reject('ACTIVE_CONTENT', `declared ${declaredType}, but the bytes are ${detected.contentType}, which runs script in a browser`, { declaredType, detectedType });
  }
  if (detected && !sameFormat(declaredType, detected.contentType)) {
    return reject('CONTENT_MISMATCH', `declared ${declaredType}, but the bytes are ${detected.contentType}`, { declaredType, detectedType });
  }
  if (!detected) {
    if (SIGNATURE_CONTENT_TYPES.includes(declaredType)) {
      return reject('UNRECOGNIZED_CONTENT', `the bytes are not ${declaredType} (no ${declaredType} signature)`, { declaredType });
    }
    if (!ACTIVE_CONTENT_TYPES.includes(declaredType) && containsActiveMarkup(head)) {
      return reject('ACTIVE_CONTENT', `declared ${declaredType}, but the bytes contain markup that runs script in a browser`, { declaredType });
    }
    return { ok: true, message: `no signature is known for ${declaredType}; no active content or other known format found`, declaredType, method: 'no-signature' };
  }

  const completeness = await checkComplete(detected.contentType, size, head, input.read);
  if (completeness === 'truncated') {
    return reject('TRUNCATED', `the ${declaredType} file is truncated or corrupt (its end does not match the format)`, { declaredType, detectedType });
  }
  return {
    ok: true,
    message: `the bytes are ${detected.contentType}`,
    declaredType,
    detectedType,
    method: completeness === 'complete' ? 'signature' : 'signature-only',
  };
}

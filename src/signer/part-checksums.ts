/**
 * Reading the per-part SHA-256 checksums of `POST /uploads/multipart/parts` (uploads created with
 * `checksumAlgorithm: 'SHA256'`): one base64 SHA-256 per requested part number, in the same order.
 */
import { invalid } from './fields';
import { accept, Outcome, reject } from './http';
import { isSha256Base64 } from './request';
import { ErrorCodes } from '../contract/signer-protocol';

/** The checksums, aligned with `partNumbers` (undefined when none were sent). */
export function readPartChecksums(raw: unknown, partNumbers: readonly number[] | undefined): Outcome<readonly string[] | undefined> {
  if (raw === undefined) return accept(undefined);
  if (partNumbers === undefined) {
    return invalid('checksumsSha256 needs partNumbers: list the parts to sign, and their checksums in the same order.');
  }
  if (!Array.isArray(raw) || raw.length !== partNumbers.length) {
    return invalid(`checksumsSha256 must be an array with one checksum per part number (${partNumbers.length}), in the order of partNumbers.`);
  }
  const bad = raw.findIndex((value) => !isSha256Base64(value));
  if (bad >= 0) {
    return reject(400, ErrorCodes.INVALID_CHECKSUM,
      `checksumsSha256[${bad}] (part ${partNumbers[bad]}) must be the base64 SHA-256 digest of the part (44 characters ending in "="), e.g. from crypto.subtle.digest('SHA-256', bytes).`);
  }
  return accept(raw as string[]);
}

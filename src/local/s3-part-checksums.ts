/**
 * Part-level SHA-256 checksums of multipart uploads, as S3 applies them (composite checksums; SHA-256
 * has no full-object type):
 * - CreateMultipartUpload with `x-amz-checksum-algorithm: SHA256` makes the upload a SHA-256 one
 *   (`x-amz-checksum-type: FULL_OBJECT` with SHA-256 is `InvalidRequest`); other algorithms are
 *   refused as not emulated;
 * - UploadPart: an `x-amz-checksum-sha256` that does not match the part's bytes is `BadDigest` (s3.ts
 *   checks it) and the part previously stored under that number, if any, stays as it was; a checksum of
 *   another algorithm than the upload's (or any checksum on an upload created without one) is
 *   `InvalidRequest` ("Checksum Type mismatch"); a part sent without a checksum is hashed by S3 itself;
 * - ListParts reports the upload's `ChecksumAlgorithm`, `ChecksumType` and each part's `ChecksumSHA256`;
 * - CompleteMultipartUpload of a SHA-256 upload needs every listed part's `ChecksumSHA256`, equal to
 *   the part's: otherwise `InvalidPart`, and nothing is stored.
 * Not emulated: the composite checksum of the completed object (`…-N` on HeadObject), CRC and SHA-1
 * algorithms.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity-upload.html
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import S3rver from '@20minutes/s3rver';
import S3Error from '@20minutes/s3rver/lib/models/error';

/** The checksum algorithms S3 knows, as their header suffix (`x-amz-checksum-<name>`). */
const CHECKSUM_HEADERS: readonly string[] = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'];

/** The upload's algorithm (lower case, `sha256`), from the headers its CreateMultipartUpload carried. */
export async function uploadChecksumAlgorithm(uploadDir: string): Promise<'sha256' | undefined> {
  const headers = JSON.parse(await readFile(path.join(uploadDir, 'metadata'), 'utf8')) as Record<string, string | undefined>;
  return headers['x-amz-checksum-algorithm']?.toLowerCase() === 'sha256' ? 'sha256' : undefined;
}

/** CreateMultipartUpload: refuses the checksum settings S3 refuses, and those not emulated. */
export function checkCreateChecksum(ctx: S3rver.Context | undefined): void {
  const algorithm = ctx?.get('x-amz-checksum-algorithm')?.toUpperCase();
  const type = ctx?.get('x-amz-checksum-type')?.toUpperCase();
  if (!algorithm) return;
  if (algorithm !== 'SHA256') {
    throw new S3Error('NotImplemented', `The local S3 stand-in emulates SHA256 part checksums only (got ${algorithm})`, { Header: 'x-amz-checksum-algorithm' });
  }
  if (type === 'FULL_OBJECT') {
    throw new S3Error('InvalidRequest', 'The FULL_OBJECT checksum type cannot be used with the sha256 checksum algorithm.');
  }
}

/**
 * Stores a part as S3 does for its upload's checksum: `put` writes it (and throws BadDigest for a
 * wrong `x-amz-checksum-sha256`), the previous part under that number is restored if it fails, and a
 * SHA-256 upload keeps each part's SHA-256 beside it (`<n>.sha256`).
 */
export async function putPartWithChecksum<T>(
  ctx: S3rver.Context | undefined, uploadDir: string, partNumber: number, put: () => Promise<T>,
): Promise<T> {
  const algorithm = await uploadChecksumAlgorithm(uploadDir);
  const sent = CHECKSUM_HEADERS.find((name) => ctx?.get(`x-amz-checksum-${name}`));
  if (sent !== undefined && sent !== algorithm) {
    throw new S3Error('InvalidRequest', `Checksum Type mismatch occurred, expected checksum Type: ${algorithm ?? 'null'}, actual checksum Type: ${sent}`);
  }
  const file = path.join(uploadDir, String(partNumber));
  const kept = existsSync(file) ? [file, `${file}.md5`, `${file}.sha256`].filter((f) => existsSync(f)) : [];
  await Promise.all(kept.map((f) => rename(f, `${f}.previous`)));
  let result: T;
  try {
    result = await put();
  } catch (err) {
    await Promise.all(kept.map((f) => rename(`${f}.previous`, f)));
    throw err;
  }
  await Promise.all(kept.map((f) => rm(`${f}.previous`, { force: true })));
  if (algorithm === 'sha256') await writeFile(`${file}.sha256`, await sha256Base64(file));
  else await rm(`${file}.sha256`, { force: true });
  return result;
}

/** The part's SHA-256 (base64) as stored, or undefined when its upload has none. */
export async function partChecksum(uploadDir: string, partNumber: number): Promise<string | undefined> {
  const file = path.join(uploadDir, `${partNumber}.sha256`);
  return existsSync(file) ? readFile(file, 'utf8') : undefined;
}

/** ListParts: the upload's checksum elements (before the parts) and a part's. */
export async function listPartsChecksumXml(uploadDir: string): Promise<string> {
  return await uploadChecksumAlgorithm(uploadDir) === 'sha256' ? '<ChecksumAlgorithm>SHA256</ChecksumAlgorithm><ChecksumType>COMPOSITE</ChecksumType>' : '';
}

export async function partChecksumXml(uploadDir: string, partNumber: number): Promise<string> {
  const checksum = await partChecksum(uploadDir, partNumber);
  return checksum === undefined ? '' : `<ChecksumSHA256>${checksum}</ChecksumSHA256>`;
}

/**
 * CompleteMultipartUpload of a SHA-256 upload: every part in the request must carry the part's
 * SHA-256 (`ChecksumSHA256`), else S3 answers `InvalidPart`.
 */
export async function checkCompletionChecksums(ctx: S3rver.Context | undefined, uploadDir: string): Promise<void> {
  if (await uploadChecksumAlgorithm(uploadDir) !== 'sha256') return;
  const body = (ctx as { request?: { body?: { CompleteMultipartUpload?: { Part?: unknown } } } } | undefined)?.request?.body;
  const parts = ([] as Array<{ PartNumber?: unknown; ChecksumSHA256?: unknown }>).concat(
    (body?.CompleteMultipartUpload?.Part ?? []) as Array<{ PartNumber?: unknown; ChecksumSHA256?: unknown }>);
  for (const part of parts) {
    const stored = await partChecksum(uploadDir, Number(part.PartNumber));
    if (stored === undefined || part.ChecksumSHA256 !== stored) {
      throw new S3Error('InvalidPart', 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.', {
        PartNumber: String(part.PartNumber),
      });
    }
  }
}

async function sha256Base64(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('base64');
}

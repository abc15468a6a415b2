/**
 * Claiming an upload: with `unclaimedUploadExpiry`, the verifier tags each verified upload
 * `direct-upload:unclaimed=true` and a lifecycle rule expires it unless the application claims it. A claim is
 * one PutObjectTagging of the verified version that keeps the verifier's tags and drops the unclaimed one;
 * the bucket policy allows exactly that, on verified objects only (`grantClaimUploads`). No AWS SDK here:
 * pass your own client.
 */
import type { UploadMessage } from './messages';
import { ETAG_TAG, VERIFIED_TAG, VERIFIED_VALUE } from '../contract/queue-message';

export { UNCLAIMED_TAG } from '../contract/queue-message';

/**
 * The PutObjectTagging input of a claim (what `@aws-sdk/client-s3`'s `PutObjectTaggingCommand` takes; its
 * input types are mutable, so these are too).
 */
export interface ClaimTaggingInput {
  Bucket: string;
  Key: string;
  VersionId: string;
  Tagging: { TagSet: Array<{ Key: string; Value: string }> };
}

/** Any client with `putObjectTagging`, e.g. `new S3()` of `@aws-sdk/client-s3` (the aggregated client). */
export interface S3TaggingClient {
  putObjectTagging(input: ClaimTaggingInput): Promise<unknown>;
}

/** What a claim needs of an upload message. */
export type ClaimableUpload = Pick<UploadMessage, 'bucket' | 'key' | 'versionId' | 'verification'>;

/** Why an upload cannot be claimed (the message is not one the verifier announced). */
export class ClaimError extends Error {
  public constructor(public readonly code: 'NOT_VERIFIED' | 'NO_VERSION', message: string) {
    super(message);
    this.name = 'ClaimError';
  }
}

/**
 * The request that claims `upload`: for `s3.send(new PutObjectTaggingCommand(claimRequest(upload)))` with an
 * `S3Client`. Throws a {@link ClaimError} for a message without a verification result or a version id.
 */
export function claimRequest(upload: ClaimableUpload): ClaimTaggingInput {
  const verification = upload.verification;
  if (verification?.status !== 'verified') {
    throw new ClaimError('NOT_VERIFIED', `"${upload.key}" has no verification result: only uploads the verifier announced can be claimed.`);
  }
  const versionId = upload.versionId ?? verification.versionId;
  if (!versionId) {
    throw new ClaimError('NO_VERSION', `"${upload.key}" has no version id: claims name the verified version (the construct's bucket is versioned).`);
  }
  return {
    Bucket: upload.bucket,
    Key: upload.key,
    VersionId: versionId,
    // The ETag tag stays, so a redelivered event is still recognised as done (and not marked unclaimed again).
    Tagging: { TagSet: [{ Key: VERIFIED_TAG, Value: VERIFIED_VALUE }, { Key: ETAG_TAG, Value: verification.eTag }] },
  };
}

/**
 * Claims `upload` (one S3 request): the lifecycle rule no longer expires it. Idempotent. The grantee needs
 * `grantClaimUploads`; S3 refuses (AccessDenied) a claim of an object that is not verified.
 *
 * @example
 * await claimUpload(new S3({}), upload);
 */
export async function claimUpload(s3: S3TaggingClient, upload: ClaimableUpload): Promise<void> {
  await s3.putObjectTagging(claimRequest(upload));
}

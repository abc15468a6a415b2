import { Duration, Size } from 'aws-cdk-lib';

/**
 * What may be uploaded: the rules the signer signs with and the verifier checks against. Pass the same
 * values to an `UploadSigner` and an `UploadVerifier` (the `DirectUploadBucket` does that for you).
 */
export interface UploadRules {
  /**
   * Key prefix every upload is stored under (`<prefix>/<caller>/<uuid><ext>`). No leading or trailing
   * slash, no `.`/`..` segments.
   *
   * @default 'uploads'
   */
  readonly uploadPrefix?: string;

  /**
   * Content types (`type/subtype`, lower case, no parameters) the signer accepts. The key's extension
   * comes from the type. `image/svg+xml` and `text/html` run script when served inline: allowing them
   * is possible but produces a synth warning.
   *
   * @default - image/jpeg, image/png, image/webp, image/gif, image/avif
   */
  readonly allowedContentTypes?: string[];

  /**
   * Largest accepted file. Enforced by S3 through the signed `content-length`.
   *
   * @default Size.mebibytes(25)
   */
  readonly maxFileSize?: Size;

  /**
   * Lifetime of a presigned request, between 1 second and 1 hour. URLs signed with the signer's
   * temporary credentials stop working when those credentials expire, so longer values would lie.
   *
   * @default Duration.minutes(5)
   */
  readonly urlExpiry?: Duration;

  /**
   * Files larger than this are uploaded in parts: `POST /uploads` returns a multipart plan (upload id,
   * part size, presigned part URLs) instead of a single PUT. At most 5 GiB (S3's largest single PUT).
   *
   * @default Size.mebibytes(100)
   * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html
   */
  readonly multipartThreshold?: Size;

  /**
   * Part size of multipart plans, from 5 MiB to 5 GiB. The signer grows it (to whole MiB) for a file that
   * would need more than 10,000 parts.
   *
   * @default Size.mebibytes(16)
   */
  readonly multipartPartSize?: Size;

  /**
   * Let the Uppy route (`POST /uppy/sign`) sign `DeleteObject` for the caller's own keys (Uppy asks for
   * it when a user removes an uploaded file). Grants the signer `s3:DeleteObject` on the upload prefix.
   *
   * @default false
   */
  readonly allowDeleteObject?: boolean;

  /**
   * App context a client may attach to an upload (`metadata: { [key]: string }` on `POST /uploads` and
   * the Uppy route), allow-listed here: up to 10 keys of 1 to 64 lower-case letters, digits and inner
   * hyphens, not `filename` (the original filename has its own field). Each value is stored as S3 user
   * metadata `x-amz-meta-<key>`, signed on every upload path so S3 refuses another value, and announced
   * decoded in the verified queue message; any other key is refused (400 `METADATA_NOT_ALLOWED`), and the
   * verifier rejects objects carrying user metadata beyond these keys.
   *
   * @default - no keys: requests with `metadata` are refused
   * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html
   */
  readonly metadataKeys?: string[];
}

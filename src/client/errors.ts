/** A failed upload (or image preparation): the signer's error code when it refused, and what is needed to resume. */
export class UploadError extends Error {
  constructor(
    message: string,
    /**
     * The signer's error code (e.g. `FILE_TOO_LARGE`), or `S3_ERROR` / `NETWORK_ERROR` / `ABORTED`, or
     * from `prepareImage`: `IMAGE_NOT_DECODABLE` / `IMAGE_NOT_ENCODABLE` / `UNSUPPORTED_RUNTIME`.
     */
    public readonly code: string,
    public readonly status?: number,
    /** Set for multipart uploads that can be resumed with `options.resume`. */
    public readonly resume?: { readonly key: string; readonly uploadId: string },
  ) {
    super(message);
    this.name = 'UploadError';
  }
}

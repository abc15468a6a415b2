/** How the CDN serves uploaded files. */
export enum DeliveryMode {
  /** Anyone with the URL reads a verified file (immutable URLs, unguessable keys). */
  PUBLIC = 'PUBLIC',
  /**
   * Only CloudFront signed URLs made with a key of the distribution's trusted key group: the signer's
   * `POST /downloads` signs for a caller's own verified keys, your backend signs with `signDownloadUrl`.
   */
  SIGNED_URLS = 'SIGNED_URLS',
}

/**
 * `cdk-direct-upload/worker`: dependency-free helpers for the application's backend that consumes the
 * upload queue: read its messages, claim uploads, sign download URLs. No AWS SDK, no aws-cdk-lib.
 */
export * from './messages';
export * from './claim';
export { signDownloadUrl, cannedPolicy, downloadUrlFor } from './sign-download';
export type { SignDownloadUrlOptions } from './sign-download';

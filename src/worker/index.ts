/**
 * Dependency-free helpers for the application's backend. Not part of the construct's jsii API: import
 * them from `cdk-direct-upload/worker`.
 */
export { signDownloadUrl, cannedPolicy, downloadUrlFor } from './sign-download';
export type { SignDownloadUrlOptions } from './sign-download';

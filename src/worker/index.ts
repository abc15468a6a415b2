/**
 * `cdk-direct-upload/worker`: dependency-free helpers for the application's backend that consumes the
 * upload queue: read its messages, claim uploads. No AWS SDK, no aws-cdk-lib.
 */
export * from './messages';
export * from './claim';

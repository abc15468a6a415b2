/**
 * The local stack, for offline development and end-to-end tests: `cdk-direct-upload/lib/local`.
 *
 * Not part of the construct library's API (nothing here is exported from the package root, so jsii
 * never sees it) and it needs the stand-ins as (dev) dependencies of the project using it:
 * `@20minutes/s3rver`, `fauxqs`, `@aws-sdk/client-s3`, `@aws-sdk/client-sqs`.
 */
export { startLocalStack, localPolicy } from './local-stack';
export type { LocalStack, LocalStackOptions, LocalStackPorts, LocalUploadQuota } from './local-stack';
export type { InjectScanResultOptions } from './malware-scan';
export type { ScanVerdict } from '../contract/malware-scan';
export { startDemoServer, demoContentSecurityPolicy } from './demo-server';
export type { DemoServer, DemoServerOptions, DemoMessage } from './demo-server';
export { LOCAL_USER_HEADER, toHttpApiEvent, localAuthorizerContext } from './http-api';
export type { HttpApiRequest, LocalAuthorizer } from './http-api';
export { decodeS3EventKey, encodeS3EventKey } from './s3-events';
export type { S3EventNotification, S3EventRecord, S3TestEvent, ObjectCreatedEventName } from './s3-events';
export { PortError } from './net';
export { S3RVER_CREDENTIALS } from './s3';
export { startLocalEventSource } from './event-source';
export type { LocalEventSource, LocalEventSourceOptions, LocalBatchHandler, LocalSqsRecord } from './event-source';
export type { LocalCredentials } from './s3';

/**
 * The contract between the constructs and their Lambdas: the environment, the upload rules, the signer's
 * wire protocol, the message a worker receives and what the browser sees. No aws-cdk-lib, no SDK.
 */
export * from './delivery';
export * from './environment';
export * from './queue-defaults';
export * from './malware-scan';
export * from './metadata';
export * from './queue-message';
export * from './signer-protocol';
export * from './upload-rules';

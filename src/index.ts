export * from './direct-upload-bucket';
export * from './delivery/upload-delivery';
export * from './signer/upload-signer';
export * from './upload-rules';
export * from './verifier/upload-verifier';

export { DirectUploadBucket } from './direct-upload-bucket';
export type { DirectUploadBucketProps } from './direct-upload-bucket';
export { UploadDelivery } from './delivery/upload-delivery';
export type { UploadDeliveryOptions, UploadDeliveryProps } from './delivery/upload-delivery';
export { UploadSigner } from './signer/upload-signer';
export type { UploadQuotaOptions, UploadSignerOptions, UploadSignerProps } from './signer/upload-signer';
export type { UploadRules } from './upload-rules';
export { UploadVerifier } from './verifier/upload-verifier';
export type { UploadVerifierProps } from './verifier/upload-verifier';

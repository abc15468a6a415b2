export * from './direct-upload-bucket';

/**
 * Signed delivery on the local stack: a key pair made at start (the construct's custom resource does the
 * same at deploy), the public key trusted by the CDN route, the private key handed to the real signer in
 * place of the Secrets Manager read. Object tags are read from the local S3 exactly as in the Lambda.
 */
import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { DEFAULT_DOWNLOAD_EXPIRY_SECONDS, DownloadSettings } from '../contract/environment';
import { SignerConfig } from '../signer/config';
import { DownloadStore, sdkDownloadStore } from '../signer/downloads';

/** The local stack's `signedDownloads` option. */
export interface LocalSignedDownloadsOptions {
  /** Lifetime of each signed URL. @default 300 */
  readonly expiresInSeconds?: number;
}

/** The key pair and the wiring of signed delivery. */
export interface LocalSignedDownloads {
  readonly keyPairId: string;
  /** PKCS#8 PEM: what the construct keeps in Secrets Manager. */
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
  /** For the CDN route: the trusted key group. */
  readonly trustedKeys: ReadonlyMap<string, KeyObject>;
  /** The signer's signed-delivery settings. */
  settings(region: string): DownloadSettings;
  /** The signer's download store: tags from the local S3, the private key from memory. */
  store(config: SignerConfig): DownloadStore;
}

export function localSignedDownloads(options: LocalSignedDownloadsOptions = {}): LocalSignedDownloads {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPairId = 'KLOCAL0000000001';
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return {
    keyPairId,
    privateKeyPem,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    trustedKeys: new Map([[keyPairId, publicKey]]),
    settings(region) {
      return {
        keyPairId,
        secretArn: `arn:aws:secretsmanager:${region}:000000000000:secret:direct-upload-local-key`,
        expiresInSeconds: options.expiresInSeconds ?? DEFAULT_DOWNLOAD_EXPIRY_SECONDS,
      };
    },
    store(config) {
      const s3 = sdkDownloadStore(config);
      return { verification: (key) => s3.verification(key), privateKey: async () => privateKeyPem };
    },
  };
}

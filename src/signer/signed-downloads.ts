import { Duration, aws_iam as iam, aws_s3 as s3, aws_secretsmanager as secretsmanager } from 'aws-cdk-lib';
import { DownloadSettings } from '../contract/environment';

/** What the signer needs to answer `POST /downloads` (signed delivery). */
export interface SignedDownloadsOptions {
  /** The CloudFront public key id the URLs are signed for (in the distribution's trusted key group). */
  readonly publicKeyId: string;
  /** The secret holding the matching private key PEM; the signer may read this secret only. */
  readonly privateKeySecret: secretsmanager.ISecret;
  /**
   * Lifetime of each signed URL.
   *
   * @default Duration.minutes(5)
   */
  readonly urlExpiry?: Duration;
}

/**
 * The signer's part of signed delivery: GetSecretValue on the one secret, GetObjectTagging on the prefix
 * (is the key verified?). Returns the settings (ids only) for the signer's environment.
 */
export function grantSignedDownloads(role: iam.IRole, bucket: s3.IBucket, prefix: string, options: SignedDownloadsOptions): DownloadSettings {
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [options.privateKeySecret.secretArn] }));
  options.privateKeySecret.encryptionKey?.grantDecrypt(role);
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObjectTagging'], resources: [bucket.arnForObjects(`${prefix}/*`)] }));
  return {
    keyPairId: options.publicKeyId,
    secretArn: options.privateKeySecret.secretArn,
    expiresInSeconds: (options.urlExpiry ?? Duration.minutes(5)).toSeconds(),
  };
}

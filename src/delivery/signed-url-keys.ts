import {
  CustomResource,
  Duration,
  RemovalPolicy,
  aws_cloudfront as cloudfront,
  aws_iam as iam,
  aws_logs as logs,
  aws_secretsmanager as secretsmanager,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { KeyPairFunction } from './key-pair-function';
import { acknowledge, acknowledgeBundledFunction } from '../private/nag';
import { functionRoleAndLogs } from '../private/resources';

/** Properties of {@link SignedUrlKeys}. */
export interface SignedUrlKeysProps {
  /**
   * Your own public key (its private key PEM in `privateKeySecret`), instead of a key pair made at deploy.
   *
   * @default - an RSA 2048 key pair generated at deploy by a custom resource
   */
  readonly publicKey?: cloudfront.IPublicKey;
  /**
   * The secret holding the private key PEM of `publicKey` (required with it).
   *
   * @default - a secret the construct creates and the custom resource fills
   */
  readonly privateKeySecret?: secretsmanager.ISecret;
  /**
   * More public keys to trust (key rotation: add the new key here, switch `publicKey`/`privateKeySecret`
   * to it, then remove the old one after the longest URL lifetime).
   *
   * @default - none
   */
  readonly additionalPublicKeys?: cloudfront.IPublicKey[];
}

/**
 * The keys of signed delivery: a trusted key group for the distribution and the private key in Secrets
 * Manager. No key material in the template, the assets or an environment variable.
 */
export class SignedUrlKeys extends Construct {
  /** The key the signer signs with. */
  public readonly publicKey: cloudfront.IPublicKey;
  /** The secret holding its private key PEM. */
  public readonly privateKeySecret: secretsmanager.ISecret;
  /** The distribution's trusted key group. */
  public readonly keyGroup: cloudfront.KeyGroup;

  constructor(scope: Construct, id: string, props: SignedUrlKeysProps = {}) {
    super(scope, id);
    if (Boolean(props.publicKey) !== Boolean(props.privateKeySecret)) {
      throw new Error('SignedUrlKeys: publicKey and privateKeySecret go together (your key pair), or neither (one is made at deploy).');
    }
    if (props.publicKey && props.privateKeySecret) {
      this.publicKey = props.publicKey;
      this.privateKeySecret = props.privateKeySecret;
    } else {
      const secret = new secretsmanager.Secret(this, 'PrivateKey', {
        description: 'cdk-direct-upload: CloudFront signed-URL private key (PEM), written at deploy',
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const { role, logGroup } = functionRoleAndLogs(this, 'cdk-direct-upload: writes the CloudFront private key to its secret at deploy', logs.RetentionDays.ONE_MONTH);
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:PutSecretValue', 'secretsmanager:GetSecretValue'], resources: [secret.secretArn] }));
      const fn = new KeyPairFunction(this, 'KeyPairFunction', {
        description: 'cdk-direct-upload: makes the CloudFront key pair of signed delivery',
        role,
        logGroup,
        timeout: Duration.seconds(30),
        memorySize: 256,
      });
      acknowledgeBundledFunction(fn, role, logGroup, {
        concurrency: 'Run by CloudFormation only, once per deployment that creates or updates the key pair.',
        deadLetterQueue: 'Invoked synchronously by CloudFormation (custom resource), which reports its failure.',
      });
      acknowledge(role, [{ id: 'AwsSolutions-IAM5', reason: 'The only wildcard is the log stream of the function\'s own log group.' }], true);
      const keyPair = new CustomResource(this, 'KeyPair', {
        serviceToken: fn.functionArn,
        resourceType: 'Custom::DirectUploadKeyPair',
        properties: { SecretArn: secret.secretArn },
      });
      this.publicKey = new cloudfront.PublicKey(this, 'PublicKey', {
        comment: 'cdk-direct-upload: signed delivery',
        encodedKey: keyPair.getAttString('PublicKey'),
      });
      this.privateKeySecret = secret;
      acknowledge(secret, [
        { id: 'AwsSolutions-SMG4', reason: 'A CloudFront key is rotated by adding a second public key to the key group (additionalPublicKeys), not by Secrets Manager rotation; see the README.' },
        { id: 'HIPAA.Security-SecretsManagerRotationEnabled', reason: 'CloudFront keys rotate through the key group (additionalPublicKeys), see the README.' },
        { id: 'NIST.800.53.R5-SecretsManagerRotationEnabled', reason: 'CloudFront keys rotate through the key group (additionalPublicKeys), see the README.' },
        { id: 'HIPAA.Security-SecretsManagerUsingKMSKey', reason: 'Encrypted with the AWS managed key aws/secretsmanager; pass privateKeySecret for a customer managed key.' },
        { id: 'NIST.800.53.R5-SecretsManagerUsingKMSKey', reason: 'Encrypted with the AWS managed key aws/secretsmanager; pass privateKeySecret for a customer managed key.' },
      ]);
    }
    this.keyGroup = new cloudfront.KeyGroup(this, 'KeyGroup', {
      comment: 'cdk-direct-upload: keys trusted for signed delivery',
      items: [this.publicKey, ...(props.additionalPublicKeys ?? [])],
    });
  }
}

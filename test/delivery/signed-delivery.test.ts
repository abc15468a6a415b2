/**
 * DeliveryMode.SIGNED_URLS in the template: a trusted key group on the behaviour, the public key from the
 * key-pair custom resource, the private key only in Secrets Manager, the signer reading that one secret.
 */
import { Duration, aws_cloudfront as cloudfront, aws_secretsmanager as secretsmanager } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { DeliveryMode } from '../../src';
import { DOWNLOADS_ENV } from '../../src/contract/environment';
import { synth } from '../util';

const PEM_RE = /-----BEGIN [A-Z ]*KEY-----/;
const PUBLIC_PEM = '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----';

describe('DeliveryMode.SIGNED_URLS', () => {
  test('the default behaviour trusts one key group whose public key comes from the key-pair custom resource', () => {
    const { template } = synth({ delivery: DeliveryMode.SIGNED_URLS });
    const [dist] = Object.values(template.findResources('AWS::CloudFront::Distribution'));
    const groups = dist.Properties.DistributionConfig.DefaultCacheBehavior.TrustedKeyGroups;
    expect(groups).toHaveLength(1);
    const keyGroups = template.findResources('AWS::CloudFront::KeyGroup');
    expect(Object.keys(keyGroups)).toEqual([groups[0].Ref]);
    const [keyGroup] = Object.values(keyGroups);
    const [publicKeyId] = Object.keys(template.findResources('AWS::CloudFront::PublicKey'));
    expect(keyGroup.Properties.KeyGroupConfig.Items).toEqual([{ Ref: publicKeyId }]);
    const [publicKey] = Object.values(template.findResources('AWS::CloudFront::PublicKey'));
    const [keyPairId] = Object.keys(template.findResources('Custom::DirectUploadKeyPair'));
    expect(publicKey.Properties.PublicKeyConfig.EncodedKey).toEqual({ 'Fn::GetAtt': [keyPairId, 'PublicKey'] });
  });

  test('no key material in the template; the key-pair function may write that one secret only', () => {
    const { template } = synth({ delivery: DeliveryMode.SIGNED_URLS });
    expect(JSON.stringify(template.toJSON())).not.toMatch(PEM_RE);
    const [secretId] = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
    template.hasResourceProperties('Custom::DirectUploadKeyPair', { SecretArn: { Ref: secretId } });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{ Effect: 'Allow', Action: ['secretsmanager:PutSecretValue', 'secretsmanager:GetSecretValue'], Resource: { Ref: secretId } }]) },
    });
  });

  test('the signer gets the ids and lifetime (not the key), GetSecretValue on the secret, GetObjectTagging on the prefix, and a /downloads route', () => {
    const { template } = synth({ delivery: DeliveryMode.SIGNED_URLS, downloadUrlExpiry: Duration.minutes(2) });
    const [secretId] = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
    const [signer] = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { [DOWNLOADS_ENV]: Match.anyValue() } } } }));
    const settings = JSON.stringify(signer.Properties.Environment.Variables[DOWNLOADS_ENV]);
    expect(settings).toContain('\\"expiresInSeconds\\":120');
    expect(settings).toContain(secretId);
    expect(settings).not.toMatch(PEM_RE);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: secretId } }]) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 's3:GetObjectTagging' })]) },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /downloads' });
  });

  test('public delivery (the default): no key group, no secret, no /downloads route', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::CloudFront::KeyGroup', 0);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey)).not.toContain('POST /downloads');
  });

  test('a user-supplied key pair: no custom resource; the key group trusts it and the extra rotation key', () => {
    const { template } = synth((stack) => {
      const pem = PUBLIC_PEM;
      return {
        delivery: DeliveryMode.SIGNED_URLS,
        signedUrlKeys: {
          publicKey: new cloudfront.PublicKey(stack, 'Mine', { encodedKey: pem }),
          privateKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'MySecret', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cf-key-AbCdEf'),
          additionalPublicKeys: [new cloudfront.PublicKey(stack, 'Next', { encodedKey: pem })],
        },
      };
    });
    template.resourceCountIs('Custom::DirectUploadKeyPair', 0);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    const [keyGroup] = Object.values(template.findResources('AWS::CloudFront::KeyGroup'));
    expect(keyGroup.Properties.KeyGroupConfig.Items).toHaveLength(2);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cf-key-AbCdEf' }]) },
    });
  });

  test('validation: lifetime range, options without SIGNED_URLS, half a key pair — each named, thrown once', () => {
    expect(() => synth({ delivery: DeliveryMode.SIGNED_URLS, downloadUrlExpiry: Duration.days(8) })).toThrow(/downloadUrlExpiry \(seconds\)/);
    expect(() => synth({ downloadUrlExpiry: Duration.minutes(1) })).toThrow(/downloadUrlExpiry requires delivery: DeliveryMode.SIGNED_URLS/);
    expect(() => synth((stack) => ({
      delivery: DeliveryMode.SIGNED_URLS,
      signedUrlKeys: { publicKey: new cloudfront.PublicKey(stack, 'Mine', { encodedKey: PUBLIC_PEM }) },
    }))).toThrow(/signedUrlKeys.publicKey and signedUrlKeys.privateKeySecret go together/);
  });
});

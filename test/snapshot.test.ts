import { Duration, aws_certificatemanager as acm, aws_kms as kms, aws_s3 as s3, aws_sns as sns, aws_sqs as sqs } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { stableTemplate, synth, testStack } from './util';
import { UploadDelivery, UploadSigner, UploadVerifier } from '../src';

// One snapshot per configuration: asset hashes masked, cdk-nag metadata left out (test/nag.test.ts runs
// cdk-nag itself); fine-grained assertions for what matters live in the other test files.
test('default configuration', () => {
  expect(stableTemplate(synth().template)).toMatchSnapshot();
});

test('JWT authorizer and custom domain', () => {
  const { template } = synth((stack) => ({
    authorizer: new HttpJwtAuthorizer('Jwt', 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool', { jwtAudience: ['client-id'] }),
    allowedOrigins: ['https://app.example.com'],
    domainNames: ['files.example.com'],
    certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:123456789012:certificate/abc'),
  }));
  expect(stableTemplate(template)).toMatchSnapshot();
});

test('anonymous uploads', () => {
  expect(stableTemplate(synth({ allowAnonymousUploads: true, allowedOrigins: ['https://app.example.com'] }).template)).toMatchSnapshot();
});

test('no verifier', () => {
  expect(stableTemplate(synth({ verifyUploads: false, createAlarms: false }).template)).toMatchSnapshot();
});

test('SSE-KMS, quota, alarm topic, retained rejects, PDFs', () => {
  const { template } = synth((stack) => ({
    encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
    uploadQuota: { maxUploads: 100, window: Duration.hours(1) },
    alarmTopic: sns.Topic.fromTopicArn(stack, 'Alarms', 'arn:aws:sns:eu-west-1:123456789012:alarms'),
    rejectedUploadRetention: Duration.days(30),
    allowedContentTypes: ['image/png', 'application/pdf'],
  }));
  expect(stableTemplate(template)).toMatchSnapshot();
});

test('malware scanning with SSE-KMS and retained rejects', () => {
  const { template } = synth((stack) => ({
    encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
    rejectedUploadRetention: Duration.days(30),
    malwareScanning: true,
  }));
  expect(stableTemplate(template)).toMatchSnapshot();
});

test('existingBucket', () => {
  expect(stableTemplate(synth((stack) => ({ existingBucket: new s3.Bucket(stack, 'Files', { versioned: true }) })).template)).toMatchSnapshot();
});

test('the three parts alone, around a bucket the user made', () => {
  const stack = testStack();
  const bucket = new s3.Bucket(stack, 'Files', { versioned: true });
  const delivery = new UploadDelivery(stack, 'Delivery', { bucket });
  new UploadVerifier(stack, 'Verifier', { bucket, verifiedQueue: new sqs.Queue(stack, 'Verified') });
  new UploadSigner(stack, 'Signer', { bucket, publicBaseUrl: delivery.url });
  expect(stableTemplate(Template.fromStack(stack))).toMatchSnapshot();
});

test('the template is identical across synths (deterministic asset hash)', () => {
  expect(JSON.stringify(synth().template.toJSON())).toBe(JSON.stringify(synth().template.toJSON()));
});

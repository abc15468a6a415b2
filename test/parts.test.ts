/**
 * The three parts on their own, around a bucket the user made: what the README's "Use the parts" shows.
 */
import { Aspects, Duration, RemovalPolicy, Stack, aws_certificatemanager as acm, aws_iam as iam, aws_s3 as s3, aws_sqs as sqs } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { call, iamAuthorizer, makeEvent, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, TEST_SESSION_TOKEN, uploadBody } from './signer/helpers';
import { functionEnvironment, testStack } from './util';
import { DirectUploadBucket, UploadDelivery, UploadSigner, UploadVerifier } from '../src';
import { PUBLIC_BASE_URL_ENV } from '../src/contract/environment';
import { createSignerHandlerFromEnv } from '../src/signer/handler';

/** The README's example: the user's bucket and queue, then delivery, verifier and signer. */
function partsStack(stack: Stack) {
  const bucket = new s3.Bucket(stack, 'Files', {
    bucketName: 'parts-uploads-1234',
    versioned: true,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    serverAccessLogsPrefix: 'logs/',
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const queue = new sqs.Queue(stack, 'Verified', { enforceSSL: true });
  const rules = { uploadPrefix: 'media', maxFileSize: undefined, urlExpiry: Duration.minutes(2) };
  const delivery = new UploadDelivery(stack, 'Delivery', {
    bucket,
    uploadPrefix: rules.uploadPrefix,
    domainNames: ['files.example.com'],
    certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:123456789012:certificate/abc'),
  });
  const verifier = new UploadVerifier(stack, 'Verifier', { ...rules, bucket, verifiedQueue: queue });
  const signer = new UploadSigner(stack, 'Signer', { ...rules, bucket, publicBaseUrl: delivery.url });
  return { bucket, queue, delivery, verifier, signer };
}

/** Findings cdk-nag reports that the user's own resources do not explain (the parts', and CDK's helpers). */
function findingsOutsideUserResources(stack: Stack): string[] {
  const annotations = Annotations.fromStack(stack);
  const userOwned = /^\/TestStack\/(Files|Verified)\//;
  return [...annotations.findError('*', Match.stringLikeRegexp('.')), ...annotations.findWarning('*', Match.stringLikeRegexp('.'))]
    .filter((m) => !userOwned.test(m.id))
    .map((m) => `${m.id}: ${String(m.entry.data).split(':')[0]}`);
}

describe('the parts without DirectUploadBucket', () => {
  test('GIVEN a bucket the user made, THEN the parts use it and create no bucket of their own', () => {
    const stack = testStack();
    const { delivery, signer, verifier } = partsStack(stack);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    expect(stack.resolve(delivery.url)).toBe('https://files.example.com');
    expect(signer.uploadPrefix).toBe('media');
    // The verifier's bucket-policy statements land on the user's bucket.
    const [, policy] = Object.entries(template.findResources('AWS::S3::BucketPolicy'))[0];
    const sids = policy.Properties.PolicyDocument.Statement.map((s: { Sid?: string }) => s.Sid);
    expect(sids).toEqual(expect.arrayContaining(verifier.bucketPolicyStatements.map((s) => s.sid)));
    expect(sids).toEqual(expect.arrayContaining(['DenyCdnUnverifiedUploads', 'DenyVerificationTagsExceptVerifier', 'DenyOverwritingUploads']));
  });

  test.each([
    ['AwsSolutions', () => new AwsSolutionsChecks()],
    ['HIPAA Security', () => new HIPAASecurityChecks()],
    ['NIST 800-53 R5', () => new NIST80053R5Checks()],
  ])('cdk-nag %s: no finding on the parts (only on the user\'s own bucket and queue)', (_name, pack) => {
    const stack = testStack();
    partsStack(stack);
    Aspects.of(stack).add(pack());
    expect(findingsOutsideUserResources(stack)).toEqual([]);
  });

  test('synthesizes without warnings', () => {
    const stack = testStack();
    partsStack(stack);
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  test('the synthesized signer environment, run through the real handler, signs an upload under the prefix', async () => {
    const stack = testStack();
    partsStack(stack);
    const template = Template.fromStack(stack);
    const [bucketId] = Object.keys(template.findResources('AWS::S3::Bucket'));
    const env = functionEnvironment(template, PUBLIC_BASE_URL_ENV, { [bucketId]: 'parts-uploads-1234' });
    const handler = createSignerHandlerFromEnv({
      ...env,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: TEST_SECRET_ACCESS_KEY,
      AWS_SESSION_TOKEN: TEST_SESSION_TOKEN,
    });
    const result = await call(handler, makeEvent({ body: uploadBody(), authorizer: iamAuthorizer('arn:aws:sts::123456789012:assumed-role/Uploader/alice') }));
    expect(result.status).toBe(200);
    expect(result.body.key).toMatch(/^media\/[^/]+\/[0-9a-f-]{36}\.png$/);
    expect(String(result.body.url)).toMatch(/^https:\/\/parts-uploads-1234\.s3\.eu-west-1\.amazonaws\.com\/media\//);
    expect(result.body.publicUrl).toBe(`https://files.example.com/${result.body.key}`);
    expect(new URL(String(result.body.url)).searchParams.get('X-Amz-Expires')).toBe('120');
  });

  test('the README\'s "Use the parts" example synthesizes, cdk-nag clean outside the user\'s bucket and queue', () => {
    const stack = testStack();
    const backendRole = new iam.Role(stack, 'Backend', { assumedBy: new iam.AccountRootPrincipal() });
    // --- as in the README
    const bucket = new s3.Bucket(stack, 'Files', { versioned: true, enforceSSL: true }); // versioned: required
    const queue = new sqs.Queue(stack, 'Verified', { enforceSSL: true });
    const rules = { uploadPrefix: 'media', urlExpiry: Duration.minutes(2) };
    const delivery = new UploadDelivery(stack, 'Delivery', { bucket, uploadPrefix: rules.uploadPrefix });
    new UploadVerifier(stack, 'Verifier', { ...rules, bucket, verifiedQueue: queue }); // tags verified uploads, gates the CDN
    const signer = new UploadSigner(stack, 'Signer', { ...rules, bucket, publicBaseUrl: delivery.url });
    signer.grantInvoke(backendRole); // IAM authorization by default
    // ---
    for (const pack of [new AwsSolutionsChecks(), new HIPAASecurityChecks(), new NIST80053R5Checks()]) Aspects.of(stack).add(pack);
    expect(findingsOutsideUserResources(stack).filter((f) => !f.startsWith('/TestStack/Backend/'))).toEqual([]);
    Template.fromStack(stack).resourceCountIs('AWS::CloudFront::Distribution', 1);
  });

  test('every part and the L3 are exported from the package entry point', () => {
    for (const part of [UploadSigner, UploadVerifier, UploadDelivery, DirectUploadBucket]) {
      expect(typeof part).toBe('function');
    }
  });
});

/**
 * The construct's upload verification wiring (verifyUploads, rejectedUploadRetention, inlineContentTypes).
 */
import { Duration, aws_kms as kms } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { synth } from './util';
import { contentDispositionFor, contentDispositionFunctionCode, DEFAULT_INLINE_CONTENT_TYPES } from '../src/contract/delivery';
import {
  POLICY_ENV,
  PUBLIC_BASE_URL_ENV,
  REJECTED_OBJECTS_ENV,
  REJECTION_QUEUE_URL_ENV,
  VERIFIED_QUEUE_URL_ENV,
} from '../src/contract/environment';
import { parseUploadPolicy } from '../src/contract/upload-rules';

function verifier(template: Template) {
  const found = Object.entries(template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: Match.objectLike({ [VERIFIED_QUEUE_URL_ENV]: Match.anyValue() }) } },
  }));
  expect(found).toHaveLength(1);
  return found[0] as [string, { Properties: Record<string, any> }];
}

function logicalId(template: Template, type: string, idPattern: RegExp): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => idPattern.test(id));
  expect(ids).toHaveLength(1);
  return ids[0];
}

function roleStatements(template: Template, roleId: string): any[] {
  return Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

function bucketPolicyStatements(template: Template): any[] {
  const bucketId = logicalId(template, 'AWS::S3::Bucket', /^UploadsBucket[0-9A-F]+$/);
  return Object.values(template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: bucketId } } }))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('verifyUploads (default: on)', () => {
  test('S3 notifies the internal verification queue; the public queue gets only what the verifier sends', () => {
    const { template, uploads } = synth({ uploadPrefix: 'user-files' });
    const verificationId = logicalId(template, 'AWS::SQS::Queue', /^UploadsVerifierVerificationQueue/);
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        QueueConfigurations: [{
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'user-files/' }] } },
          QueueArn: { 'Fn::GetAtt': [verificationId, 'Arn'] },
        }],
      },
    });
    const [, fn] = verifier(template);
    const queueId = logicalId(template, 'AWS::SQS::Queue', /^UploadsQueue[0-9A-F]+$/);
    const rejectionId = logicalId(template, 'AWS::SQS::Queue', /^UploadsVerifierRejectionQueue/);
    expect(fn.Properties.Environment.Variables).toMatchObject({
      [VERIFIED_QUEUE_URL_ENV]: { Ref: queueId },
      [REJECTION_QUEUE_URL_ENV]: { Ref: rejectionId },
      [REJECTED_OBJECTS_ENV]: 'delete',
    });
    expect(fn.Properties.Environment.Variables[PUBLIC_BASE_URL_ENV]).toBeUndefined();
    expect(parseUploadPolicy(fn.Properties.Environment.Variables[POLICY_ENV]).prefix).toBe('user-files');
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Timeout: 30 });
    expect(uploads.verifierFunction).toBeDefined();
    expect(uploads.rejectionQueue).toBeDefined();
  });

  test('the verifier consumes its queue with partial batch failures; queues are encrypted, SSL-only, redrive to the DLQ', () => {
    const { template } = synth();
    const verificationId = logicalId(template, 'AWS::SQS::Queue', /^UploadsVerifierVerificationQueue/);
    const dlqId = logicalId(template, 'AWS::SQS::Queue', /^UploadsDeadLetterQueue/);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [verificationId, 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
    });
    for (const pattern of [/^UploadsVerifierVerificationQueue/, /^UploadsVerifierRejectionQueue/]) {
      const [, queue] = Object.entries(template.findResources('AWS::SQS::Queue')).find(([id]) => pattern.test(id))!;
      expect(queue.Properties).toMatchObject({
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 },
      });
    }
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 180, RedrivePolicy: Match.anyValue() });
    template.hasOutput('*', { Value: { Ref: logicalId(template, 'AWS::SQS::Queue', /^UploadsVerifierRejectionQueue/) } });
  });

  test('least privilege: read, tag and delete under the prefix only; send to the two queues; nothing else on S3', () => {
    const { template } = synth();
    const [, fn] = verifier(template);
    const statements = roleStatements(template, fn.Properties.Role['Fn::GetAtt'][0]);
    const s3 = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('s3:')));
    expect(s3).toHaveLength(1);
    expect(s3[0].Action).toEqual([
      's3:GetObject', 's3:GetObjectTagging', 's3:PutObjectTagging',
      's3:GetObjectVersion', 's3:GetObjectVersionTagging', 's3:PutObjectVersionTagging',
      's3:DeleteObject', 's3:DeleteObjectVersion',
    ]);
    expect(s3[0].Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(template, 'AWS::S3::Bucket', /^UploadsBucket[0-9A-F]+$/), 'Arn'] }, '/uploads/*']] });
    const sends = statements.filter((s) => [s.Action].flat().includes('sqs:SendMessage'));
    expect(sends.map((s) => s.Resource['Fn::GetAtt'][0]).sort()).toEqual([
      logicalId(template, 'AWS::SQS::Queue', /^UploadsQueue[0-9A-F]+$/),
      logicalId(template, 'AWS::SQS::Queue', /^UploadsVerifierRejectionQueue/),
    ].sort());
  });

  test('the signer still cannot tag (a client cannot mark its own upload verified)', () => {
    const { template } = synth();
    const signerRoleId = logicalId(template, 'AWS::IAM::Role', /^UploadsSignerRole/);
    const actions = roleStatements(template, signerRoleId).flatMap((s) => [s.Action].flat());
    const s3Actions = actions.filter((a: string) => a.startsWith('s3:'));
    expect(s3Actions).toContain('s3:PutObject');
    expect(s3Actions.filter((a: string) => /^s3:PutObject(Version)?Tagging$|\*/.test(a))).toEqual([]);
  });

  test('the CDN gate: CloudFront is denied GetObject under the prefix unless the object is tagged verified=true', () => {
    const { template } = synth({ uploadPrefix: 'media' });
    const statements = bucketPolicyStatements(template);
    const gate = statements.find((s) => s.Sid === 'DenyCdnUnverifiedUploads');
    expect(gate).toEqual({
      Sid: 'DenyCdnUnverifiedUploads',
      Effect: 'Deny',
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Action: 's3:GetObject',
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(template, 'AWS::S3::Bucket', /^UploadsBucket[0-9A-F]+$/), 'Arn'] }, '/media/*']] },
      Condition: { StringNotEquals: { 's3:ExistingObjectTag/direct-upload:verified': 'true' } },
    });
    // The OAC Allow is still there: the Deny narrows it.
    expect(statements.some((s) => s.Effect === 'Allow' && s.Principal?.Service === 'cloudfront.amazonaws.com')).toBe(true);
  });

  test('only the verifier role may set direct-upload:* tags', () => {
    const { template } = synth();
    const [, fn] = verifier(template);
    const tags = bucketPolicyStatements(template).find((s) => s.Sid === 'DenyVerificationTagsExceptVerifier');
    expect(tags).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: ['s3:PutObject', 's3:PutObjectTagging', 's3:PutObjectVersionTagging'],
      Condition: {
        'ForAnyValue:StringLike': { 's3:RequestObjectTagKeys': ['direct-upload:*'] },
        'ArnNotEquals': { 'aws:PrincipalArn': { 'Fn::GetAtt': [fn.Properties.Role['Fn::GetAtt'][0], 'Arn'] } },
      },
    });
  });

  test('SSE-KMS: the verifier may decrypt what it reads', () => {
    const { template } = synth((stack) => ({ encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }) }));
    const [, fn] = verifier(template);
    const actions = roleStatements(template, fn.Properties.Role['Fn::GetAtt'][0]).flatMap((s) => [s.Action].flat());
    expect(actions).toContain('kms:Decrypt');
  });

  test('rejectedUploadRetention: rejects are retained (no DeleteObject) and expired by a tag-filtered lifecycle rule', () => {
    const { template } = synth({ rejectedUploadRetention: Duration.days(30) });
    const [, fn] = verifier(template);
    expect(fn.Properties.Environment.Variables[REJECTED_OBJECTS_ENV]).toBe('retain');
    const actions = roleStatements(template, fn.Properties.Role['Fn::GetAtt'][0]).flatMap((s) => [s.Action].flat());
    expect(actions).not.toContain('s3:DeleteObject');
    expect(actions).not.toContain('s3:DeleteObjectVersion');
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([{
          Id: 'ExpireRejectedUploads',
          Status: 'Enabled',
          Prefix: 'uploads/',
          TagFilters: [{ Key: 'direct-upload:verified', Value: 'false' }],
          ExpirationInDays: 30,
        }]),
      },
    });
  });
});

describe('verifyUploads: false (v1 behaviour)', () => {
  test('S3 notifies the public queue directly; no verifier, no gate, no rejection queue; a warning', () => {
    const { template, uploads, stack } = synth({ verifyUploads: false });
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    template.resourceCountIs('AWS::SQS::Queue', 2);
    expect(uploads.verifierFunction).toBeUndefined();
    expect(uploads.rejectionQueue).toBeUndefined();
    const queueId = logicalId(template, 'AWS::SQS::Queue', /^UploadsQueue[0-9A-F]+$/);
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: { QueueConfigurations: [Match.objectLike({ QueueArn: { 'Fn::GetAtt': [queueId, 'Arn'] } })] },
    });
    expect(bucketPolicyStatements(template).filter((s) => /Verif/.test(s.Sid ?? ''))).toEqual([]);
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('verifyUploads is false'));
  });
});

describe('Content-Disposition on every response', () => {
  test('allowing a PDF adds a viewer-response function built from the shared inline list', () => {
    const { template } = synth({ allowedContentTypes: ['image/png', 'application/pdf'] });
    const fnId = logicalId(template, 'AWS::CloudFront::Function', /ContentDisposition/);
    template.hasResourceProperties('AWS::CloudFront::Function', {
      FunctionCode: contentDispositionFunctionCode(DEFAULT_INLINE_CONTENT_TYPES),
    });
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: {
        DefaultCacheBehavior: Match.objectLike({
          FunctionAssociations: [{ EventType: 'viewer-response', FunctionARN: { 'Fn::GetAtt': [fnId, 'FunctionARN'] } }],
        }),
      },
    });
  });

  test('inlineContentTypes reaches the function', () => {
    const { template } = synth({ allowedContentTypes: ['image/png', 'application/pdf'], inlineContentTypes: ['image/png', 'application/pdf'] });
    template.hasResourceProperties('AWS::CloudFront::Function', { FunctionCode: contentDispositionFunctionCode(['image/png', 'application/pdf']) });
  });

  test('the function code behaves like the local CDN route (contentDispositionFor)', () => {
    const code = contentDispositionFunctionCode(DEFAULT_INLINE_CONTENT_TYPES);
    const handler = new Function(`${code}\nreturn handler;`)() as (e: unknown) => { headers: Record<string, { value: string }> };
    for (const type of ['image/png', 'IMAGE/JPEG; x=1', 'application/pdf', 'image/svg+xml', 'text/html', undefined]) {
      const response = handler({ response: { statusCode: 200, headers: type ? { 'content-type': { value: type } } : {} } });
      expect(response.headers['content-disposition']?.value).toBe(contentDispositionFor(type, DEFAULT_INLINE_CONTENT_TYPES));
    }
    expect(contentDispositionFor('application/pdf', DEFAULT_INLINE_CONTENT_TYPES)).toBe('attachment');
    expect(contentDispositionFor('image/webp', DEFAULT_INLINE_CONTENT_TYPES)).toBe('inline');
  });
});

describe('validation', () => {
  test.each([
    [{ verifyUploads: false, rejectedUploadRetention: Duration.days(3) }, /rejectedUploadRetention requires verifyUploads/],
    [{ rejectedUploadRetention: Duration.hours(36) }, /rejectedUploadRetention must be a whole number of days .*got 1\.5 days|rejectedUploadRetention must be a whole number of days/],
    [{ inlineContentTypes: ['image/*'] }, /inlineContentTypes entry "image\/\*"/],
  ])('%p', (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  test('an active type made inline is a warning, not an error', () => {
    const { stack } = synth({ allowedContentTypes: ['image/svg+xml'], inlineContentTypes: ['image/svg+xml'] });
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('inlineContentTypes contains image/svg\\+xml'));
  });
});

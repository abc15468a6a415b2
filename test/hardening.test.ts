/**
 * Issue 10, construct side: each hole, one fine-grained template assertion.
 */
import { Aspects, Size, Stack, aws_certificatemanager as acm, aws_iam as iam, aws_kms as kms, aws_lambda as lambda, aws_logs as logs, aws_s3 as s3 } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { synth } from './util';
import { contentDispositionFunctionCode, DEFAULT_INLINE_CONTENT_TYPES } from '../src/contract/delivery';
import { PUBLIC_BASE_URL_ENV, VERIFIED_QUEUE_URL_ENV } from '../src/contract/environment';

function resourceOf(template: Template, type: string, props: object = {}): [string, { Properties: Record<string, any> }] {
  const found = Object.entries(template.findResources(type, { Properties: Match.objectLike(props) }));
  expect(found).toHaveLength(1);
  return found[0] as [string, { Properties: Record<string, any> }];
}

function uploadBucketId(template: Template): string {
  const ids = Object.keys(template.findResources('AWS::S3::Bucket')).filter((id) => /^UploadsBucket[0-9A-F]+$/.test(id));
  expect(ids).toHaveLength(1);
  return ids[0];
}

function statementsOfRole(template: Template, roleId: string): any[] {
  return Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

function functionRoleId(template: Template, envVar: string): string {
  const [, fn] = resourceOf(template, 'AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ [envVar]: Match.anyValue() }) } });
  return fn.Properties.Role['Fn::GetAtt'][0];
}

function uploadBucketPolicy(template: Template): any[] {
  const bucketId = uploadBucketId(template);
  return Object.values(template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: bucketId } } }))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

const withKey = (stack: Stack) => ({ encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }) });

describe('SSE-KMS multipart (issue 10.5)', () => {
  test('the signer role may decrypt as well as generate data keys (multipart uploads need both)', () => {
    const { template } = synth(withKey);
    const kmsActions = statementsOfRole(template, functionRoleId(template, PUBLIC_BASE_URL_ENV))
      .filter((s) => [s.Action].flat().some((a: string) => a.startsWith('kms:')))
      .flatMap((s) => [s.Action].flat())
      .sort();
    expect(kmsActions).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
  });
});

describe('CDN error caching (issue 10.6)', () => {
  test('403 and 404 from the origin are not cached (error caching TTL 0)', () => {
    const { template } = synth();
    const [, dist] = resourceOf(template, 'AWS::CloudFront::Distribution');
    expect(dist.Properties.DistributionConfig.CustomErrorResponses).toEqual([
      { ErrorCode: 403, ErrorCachingMinTTL: 0 },
      { ErrorCode: 404, ErrorCachingMinTTL: 0 },
    ]);
  });
});

describe('no warning of the construct\'s own making (issue 10.7)', () => {
  test('with a certificate, TLSv1.2_2021 is enforced', () => {
    const { template } = synth((stack) => ({
      domainNames: ['files.example.com'],
      certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:123456789012:certificate/abc'),
    }));
    const [, dist] = resourceOf(template, 'AWS::CloudFront::Distribution');
    expect(dist.Properties.DistributionConfig.ViewerCertificate).toMatchObject({ MinimumProtocolVersion: 'TLSv1.2_2021' });
  });

  test.each([
    ['default', () => ({})],
    ['KMS + custom domain', (stack: Stack) => ({
      ...withKey(stack),
      domainNames: ['files.example.com'],
      certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:123456789012:certificate/abc'),
    })],
    ['PDF downloads', () => ({ allowedContentTypes: ['image/png', 'application/pdf'] })],
    ['the README\'s web app (JWT, origins, 20 MiB)', () => ({
      authorizer: new HttpJwtAuthorizer('Jwt', 'https://issuer.example.com', { jwtAudience: ['client'] }),
      allowedOrigins: ['https://app.example.com'],
      maxFileSize: Size.mebibytes(20),
    })],
    ['existingBucket', (stack: Stack) => ({ existingBucket: new s3.Bucket(stack, 'Files', { versioned: true }) })],
  ])('%s: zero warnings', (_name, props) => {
    const { stack } = synth(props);
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });
});

/** A consumer's worker, clean for all three packs on its own: own log group, own role, DLQ, concurrency. */
function consumerFindings(grant: boolean): string[] {
  const packs = [new AwsSolutionsChecks(), new HIPAASecurityChecks(), new NIST80053R5Checks()];
  const { stack } = synth(withKey, (uploads, s) => {
    const role = new iam.Role(s, 'WorkerRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const worker = new lambda.Function(s, 'Worker', {
      runtime: lambda.Runtime.NODEJS_20_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
      role,
      logGroup: new logs.LogGroup(s, 'WorkerLogs'),
    });
    if (grant) uploads.grantConsumeUploads(worker);
    for (const pack of packs) Aspects.of(s).add(pack);
  });
  const annotations = Annotations.fromStack(stack);
  return [...annotations.findError('*', Match.anyValue()), ...annotations.findWarning('*', Match.anyValue())]
    .filter((m) => m.id.startsWith('/TestStack/Worker'))
    .map((m) => `${m.id}: ${String(m.entry.data).split(':')[0]}`)
    .sort();
}

describe('grantConsumeUploads (issue 10.8)', () => {
  test('grants GetObject and GetObjectVersion on the prefix, KMS decrypt, and consuming the queue; nothing else', () => {
    let returned: iam.Grant | undefined;
    const { template } = synth(withKey, (uploads, stack) => {
      returned = uploads.grantConsumeUploads(new iam.Role(stack, 'Worker', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }));
    });
    const roleId = Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id.startsWith('Worker'))!;
    const statements = statementsOfRole(template, roleId);
    const byService = (prefix: string) => statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith(prefix)));
    const objects = byService('s3:');
    expect(objects).toHaveLength(1);
    expect([objects[0].Action].flat().sort()).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
    expect(objects[0].Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [uploadBucketId(template), 'Arn'] }, '/uploads/*']] });
    expect(byService('kms:').flatMap((s) => [s.Action].flat())).toEqual(['kms:Decrypt']);
    expect(byService('sqs:').flatMap((s) => [s.Action].flat())).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']));
    // The returned grant covers every statement it added.
    expect(returned!.success).toBe(true);
    const granted = returned!.principalStatements.flatMap((s) => s.actions);
    expect(granted).toEqual(expect.arrayContaining(['s3:GetObject', 's3:GetObjectVersion', 'kms:Decrypt', 'sqs:ReceiveMessage']));
  });

  test('adds no cdk-nag finding (AwsSolutions, HIPAA, NIST 800-53 R5) to the consumer\'s worker', () => {
    const without = consumerFindings(false);
    expect(consumerFindings(true)).toEqual(without);
  });
});

describe('write-once and versions (issue 10.3)', () => {
  test('the bucket is versioned; noncurrent versions expire after a day; incomplete multipart uploads are aborted', () => {
    const { template } = synth();
    const bucket = template.toJSON().Resources[uploadBucketId(template)];
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual(expect.arrayContaining([
      { Id: 'AbortIncompleteMultipartUploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
      { Id: 'ExpireNoncurrentVersions', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 1 }, ExpiredObjectDeleteMarker: true },
    ]));
  });

  test('the bucket policy denies PutObject under the prefix without If-None-Match, except multipart parts and POST forms', () => {
    const { template } = synth({ uploadPrefix: 'media' });
    const statement = uploadBucketPolicy(template).find((s) => s.Sid === 'DenyOverwritingUploads');
    expect(statement).toEqual({
      Sid: 'DenyOverwritingUploads',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:PutObject',
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [uploadBucketId(template), 'Arn'] }, '/media/*']] },
      Condition: {
        Null: { 's3:if-none-match': 'true' },
        Bool: { 's3:ObjectCreationOperation': 'true' },
        StringNotEquals: { 's3:authType': 'POST' },
      },
    });
  });

  test('the verifier role may read, tag and delete the exact version it read', () => {
    const { template } = synth();
    const s3Actions = statementsOfRole(template, functionRoleId(template, VERIFIED_QUEUE_URL_ENV))
      .filter((s) => [s.Action].flat().some((a: string) => a.startsWith('s3:')))
      .flatMap((s) => [s.Action].flat());
    expect(s3Actions).toEqual(expect.arrayContaining([
      's3:GetObjectVersion', 's3:GetObjectVersionTagging', 's3:PutObjectVersionTagging', 's3:DeleteObjectVersion',
    ]));
  });

  test('the upload bucket no longer acknowledges S3BucketVersioningEnabled (it is versioned)', () => {
    const { template } = synth();
    const bucket = template.toJSON().Resources[uploadBucketId(template)];
    const acknowledged = (bucket.Metadata?.cdk_nag?.rules_to_suppress ?? []).map((r: { id: string }) => r.id);
    expect(acknowledged.filter((id: string) => id.endsWith('S3BucketVersioningEnabled'))).toEqual([]);
  });
});

describe('uploader-supplied headers do not change delivery (issue 10.10, CDN side)', () => {
  test('the response headers policy overrides Cache-Control and removes Content-Language and Expires', () => {
    const { template } = synth();
    const [, policy] = resourceOf(template, 'AWS::CloudFront::ResponseHeadersPolicy');
    const config = policy.Properties.ResponseHeadersPolicyConfig;
    expect(config.CustomHeadersConfig.Items).toEqual([expect.objectContaining({ Header: 'Cache-Control', Override: true })]);
    expect(config.RemoveHeadersConfig.Items.map((i: { Header: string }) => i.Header).sort()).toEqual(['Content-Language', 'Expires']);
  });

  test('the Content-Disposition function runs for every type (also when every allowed type is inline)', () => {
    const { template } = synth();
    const [fnId, fn] = resourceOf(template, 'AWS::CloudFront::Function');
    expect(fn.Properties.FunctionCode).toBe(contentDispositionFunctionCode(DEFAULT_INLINE_CONTENT_TYPES));
    const [, dist] = resourceOf(template, 'AWS::CloudFront::Distribution');
    expect(dist.Properties.DistributionConfig.DefaultCacheBehavior.FunctionAssociations).toEqual([
      { EventType: 'viewer-response', FunctionARN: { 'Fn::GetAtt': [fnId, 'FunctionARN'] } },
    ]);
  });

  test('the function replaces a stored Content-Disposition: inline for inline types, attachment otherwise', () => {
    const code = contentDispositionFunctionCode(DEFAULT_INLINE_CONTENT_TYPES);
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const handler = new Function(`${code}; return handler;`)() as (event: unknown) => { headers: Record<string, { value: string }> };
    const respond = (type: string) => handler({
      response: { headers: { 'content-type': { value: type }, 'content-disposition': { value: 'attachment; filename="x.html"' } } },
    }).headers['content-disposition'].value;
    expect(respond('image/png')).toBe('inline');
    expect(respond('IMAGE/PNG; charset=x')).toBe('inline');
    expect(respond('application/pdf')).toBe('attachment');
    expect(respond('text/html')).toBe('attachment');
  });
});

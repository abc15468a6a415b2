/**
 * UploadSigner on its own: a bucket it is given, nothing else.
 */
import { Duration, Stack, aws_iam as iam, aws_kms as kms, aws_s3 as s3 } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { UploadSigner, UploadSignerProps } from '../../src';
import { POLICY_ENV } from '../../src/contract/environment';
import { parseSignerPolicy } from '../../src/contract/upload-rules';
import { testStack } from '../util';

function signer(props: Partial<UploadSignerProps> = {}, stack: Stack = testStack()) {
  const bucket = props.bucket ?? new s3.Bucket(stack, 'Files', { versioned: true });
  const construct = new UploadSigner(stack, 'Signer', { bucket, publicBaseUrl: 'https://files.example.com', ...props });
  return { stack, bucket, signer: construct, template: Template.fromStack(stack) };
}

function roleActions(template: Template): string[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .flatMap((s: { Action: string | string[] }) => [s.Action].flat());
}

describe('UploadSigner', () => {
  test('GIVEN a bucket, THEN it creates the API, function and role, and no bucket', () => {
    const { template } = signer();
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
  });

  test('its role may put, list parts of and abort uploads under the prefix; with SSE-KMS generate data keys and decrypt', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const { template } = signer({ bucket: new s3.Bucket(stack, 'Files', { encryptionKey: key, versioned: true }), uploadPrefix: 'media' }, stack);
    expect(roleActions(template).filter((a) => /^(s3|kms):/.test(a)).sort()).toEqual([
      'kms:Decrypt', 'kms:GenerateDataKey', 's3:AbortMultipartUpload', 's3:GetObjectTagging', 's3:GetObjectVersionTagging',
      's3:ListBucketMultipartUploads', 's3:ListBucketVersions', 's3:ListMultipartUploadParts', 's3:PutObject',
    ]);
  });

  test('the status route may read tags under the prefix and list versions of keys under the prefix only', () => {
    const { template, stack } = signer({ uploadPrefix: 'media' });
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement) as Array<{ Action: string | string[]; Resource: unknown; Condition?: unknown }>;
    const tags = statements.filter((st) => [st.Action].flat().includes('s3:GetObjectVersionTagging'));
    expect(tags).toHaveLength(1);
    expect([tags[0].Action].flat()).toEqual(['s3:GetObjectTagging', 's3:GetObjectVersionTagging']);
    expect(JSON.stringify(stack.resolve(tags[0].Resource))).toMatch(/"\/media\/\*"\]/);
    const list = statements.filter((st) => [st.Action].flat().includes('s3:ListBucketVersions'));
    expect(list).toHaveLength(1);
    expect([list[0].Action].flat()).toEqual(['s3:ListBucketVersions']);
    expect(stack.resolve(list[0].Resource)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Files/), 'Arn'] });
    expect(list[0].Condition).toEqual({ StringLike: { 's3:prefix': ['media/*'] } });
  });

  test('the API routes POST /uploads/status to the signer', () => {
    const { template } = signer();
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /uploads/status' });
  });

  test('it may list the bucket\'s multipart uploads (the Uppy part check) on the bucket only, not its objects', () => {
    const { template, stack } = signer();
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((st: { Action: string | string[] }) => [st.Action].flat().includes('s3:ListBucketMultipartUploads'));
    expect(statements).toHaveLength(1);
    expect([statements[0].Action].flat()).toEqual(['s3:ListBucketMultipartUploads']);
    expect(stack.resolve(statements[0].Resource)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Files/), 'Arn'] });
  });

  test('browsers may read retry-after from the API (the typed client waits as a 429/503 says)', () => {
    const { template } = signer({ allowedOrigins: ['https://app.example.com'] });
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { CorsConfiguration: Match.objectLike({ ExposeHeaders: ['retry-after'] }) });
  });

  test('allowDeleteObject with allowAnonymousUploads is refused at synth: anonymous callers share one scope', () => {
    expect(() => signer({ allowAnonymousUploads: true, allowDeleteObject: true }))
      .toThrow(/allowDeleteObject cannot be combined with allowAnonymousUploads/);
  });

  test('defaults: no acceleration (the bucket is not known to have it), IAM auth, the rules\' defaults', () => {
    const { template } = signer();
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
    const policy = parseSignerPolicy(fn.Properties.Environment.Variables[POLICY_ENV]);
    expect(policy).toMatchObject({ prefix: 'uploads', accelerate: false, auth: 'iam', maxFileSize: 25 * 2 ** 20, expiresInSeconds: 300 });
    expect(fn.Properties.Environment.Variables.DIRECT_UPLOAD_PUBLIC_BASE_URL).toBe('https://files.example.com');
  });

  test('uploadQuota adds the table and UpdateItem on it only', () => {
    const { template, signer: s } = signer({ uploadQuota: { maxUploads: 10, window: Duration.hours(1) } });
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    expect(s.quotaTable).toBeDefined();
    expect(roleActions(template).filter((a) => a.startsWith('dynamodb:'))).toEqual(['dynamodb:UpdateItem']);
  });

  test('grantInvoke grants execute-api:Invoke on the POST routes only', () => {
    const stack = testStack();
    const { signer: s } = signer({}, stack);
    const role = new iam.Role(stack, 'App', { assumedBy: new iam.AccountRootPrincipal() });
    const grant = s.grantInvoke(role);
    expect(grant.principalStatements.flatMap((st) => st.actions)).toEqual(['execute-api:Invoke']);
  });

  test('warns on its own node about anonymous uploads and wildcard origins, which the user chose', () => {
    const { stack } = signer({ allowAnonymousUploads: true, allowedOrigins: ['*'] });
    const annotations = Annotations.fromStack(stack);
    annotations.hasWarning('/TestStack/Signer', Match.stringLikeRegexp('allowAnonymousUploads is true'));
    annotations.hasWarning('/TestStack/Signer', Match.stringLikeRegexp('allowedOrigins contains'));
  });

  test('validation names its own props, every problem at once', () => {
    expect(() => signer({ memorySize: 64, urlExpiry: Duration.hours(2), identityClaim: 'a b' })).toThrow(new RegExp([
      '^Invalid UploadSigner props:',
      '- urlExpiry must be between 1 second and 1 hour \\(got 2 hours\\)[^\\n]*',
      '- identityClaim "a b" is not a claim name; use e.g. "sub".',
      '- memorySize must be an integer from 128 to 10240 MiB \\(got 64\\)\\.$',
    ].join('\\n')));
  });
});

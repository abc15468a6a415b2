import { RemovalPolicy, Size, Duration, Stack, aws_iam as iam, aws_kms as kms, aws_certificatemanager as acm, aws_cloudfront as cloudfront, aws_s3 as s3 } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { synth } from './util';
import { DEFAULT_CACHE_CONTROL, DEFAULT_CONTENT_SECURITY_POLICY, deliveryHeaders } from '../src/contract/delivery';
import { POLICY_ENV, PUBLIC_BASE_URL_ENV } from '../src/contract/environment';
import { parseSignerPolicy } from '../src/contract/upload-rules';

/** The single resource of a type, by logical id and properties. */
function only(template: Template, type: string, props: object = {}): [string, { Properties: Record<string, any> }] {
  const found = Object.entries(template.findResources(type, { Properties: Match.objectLike(props) }));
  expect(found).toHaveLength(1);
  return found[0] as [string, { Properties: Record<string, any> }];
}

function uploadBucket(template: Template) {
  // The upload bucket is the one that has a lifecycle rule aborting multipart uploads.
  return only(template, 'AWS::S3::Bucket', {
    LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'AbortIncompleteMultipartUploads' })]) },
  });
}

function signerFunction(template: Template) {
  // The verifier carries the policy too; only the signer knows the public base URL.
  return only(template, 'AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ [PUBLIC_BASE_URL_ENV]: Match.anyValue() }) } });
}

describe('bucket', () => {
  test('is private, SSL-only, S3-encrypted, owner-enforced and accelerated by default', () => {
    const { template } = synth();
    const [id, bucket] = uploadBucket(template);
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
    });
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
    ]);
    expect(bucket.Properties.OwnershipControls.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    expect(bucket.Properties.AccelerateConfiguration).toEqual({ AccelerationStatus: 'Enabled' });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Effect: 'Deny',
          Action: 's3:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        })]),
      },
    });
  });

  test('transfer acceleration can be turned off', () => {
    const { template } = synth({ transferAcceleration: false });
    const [, bucket] = uploadBucket(template);
    expect(bucket.Properties.AccelerateConfiguration).toBeUndefined();
    const policy = parseSignerPolicy(signerFunction(template)[1].Properties.Environment.Variables[POLICY_ENV]);
    expect(policy.accelerate).toBe(false);
  });

  test('aborts incomplete multipart uploads after one day', () => {
    const { template } = synth();
    const [, bucket] = uploadBucket(template);
    expect(bucket.Properties.LifecycleConfiguration.Rules).toContainEqual({
      Id: 'AbortIncompleteMultipartUploads',
      Status: 'Enabled',
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
    });
  });

  test('CORS allows the origins, the upload methods and the signed headers, and exposes ETag', () => {
    const { template } = synth({ allowedOrigins: ['https://app.example.com', 'http://localhost:5173'] });
    const [, bucket] = uploadBucket(template);
    expect(bucket.Properties.CorsConfiguration.CorsRules).toEqual([{
      AllowedOrigins: ['https://app.example.com', 'http://localhost:5173'],
      AllowedMethods: ['PUT', 'POST', 'GET', 'HEAD', 'DELETE'],
      AllowedHeaders: ['content-type', 'content-md5', 'if-none-match', 'x-amz-checksum-sha256', 'x-amz-sdk-checksum-algorithm', 'x-amz-mp-object-size',
        'x-amz-meta-filename'],
      ExposedHeaders: ['ETag'],
      MaxAge: 3600,
    }]);
  });

  test('has no CORS rule without allowed origins', () => {
    const { template } = synth();
    expect(uploadBucket(template)[1].Properties.CorsConfiguration).toBeUndefined();
  });

  test('writes server access logs to a private log bucket through a bucket policy', () => {
    const { template, uploads } = synth();
    const logBucketId = Object.keys(template.findResources('AWS::S3::Bucket')).find((k) => k !== uploadBucket(template)[0])!;
    expect(uploadBucket(template)[1].Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logBucketId },
      LogFilePrefix: 'upload-bucket/',
    });
    expect(uploads.accessLogsBucket).toBeDefined();
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logBucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Effect: 'Allow',
          Principal: { Service: 'logging.s3.amazonaws.com' },
          Action: 's3:PutObject',
        })]),
      },
    });
    const logBucket = template.toJSON().Resources[logBucketId];
    expect(logBucket.Properties.AccessControl).toBeUndefined();
    expect(logBucket.Properties.PublicAccessBlockConfiguration.BlockPublicPolicy).toBe(true);
  });

  test('server access logs can be turned off', () => {
    const { template, uploads } = synth({ serverAccessLogs: false });
    template.resourceCountIs('AWS::S3::Bucket', 1);
    expect(uploadBucket(template)[1].Properties.LoggingConfiguration).toBeUndefined();
    expect(uploads.accessLogsBucket).toBeUndefined();
  });

  test('retains buckets by default; destroy + auto-delete when asked', () => {
    const retained = synth().template;
    expect(Object.values(retained.findResources('AWS::S3::Bucket')).every((b) => b.DeletionPolicy === 'Retain')).toBe(true);
    retained.resourceCountIs('Custom::S3AutoDeleteObjects', 0);

    const destroyed = synth({ removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true }).template;
    expect(Object.values(destroyed.findResources('AWS::S3::Bucket')).every((b) => b.DeletionPolicy === 'Delete')).toBe(true);
    destroyed.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
  });

  test('SSE-KMS with a customer key: CloudFront may decrypt, the signer may generate data keys', () => {
    const { template } = synth((stack) => ({ encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }) }));
    const [, bucket] = uploadBucket(template);
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]).toMatchObject({
      ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' },
      BucketKeyEnabled: true,
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Principal: { Service: 'cloudfront.amazonaws.com' },
          Action: 'kms:Decrypt',
        })]),
      },
    });
    const [, fn] = signerFunction(template);
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: fn.Properties.Role['Fn::GetAtt'][0] }] },
    });
    const actions = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement).flatMap((s) => [s.Action].flat());
    expect(actions).toContain('kms:GenerateDataKey');
  });
});

describe('notifications', () => {
  // v1 wiring (verifyUploads: false); with the verifier, see test/verifier.test.ts.
  test('ObjectCreated under the prefix goes to an encrypted, SSL-only queue with a DLQ', () => {
    const { template, uploads } = synth({ uploadPrefix: 'user-files', verifyUploads: false });
    const [queueId, queue] = only(template, 'AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() });
    const [dlqId, dlq] = only(template, 'AWS::SQS::Queue', { MessageRetentionPeriod: 1_209_600 });
    expect(queue.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 300,
      MessageRetentionPeriod: 345_600,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 },
    });
    expect(dlq.Properties.SqsManagedSseEnabled).toBe(true);
    for (const id of [queueId, dlqId]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({
            Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          })]),
        },
      });
    }
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        QueueConfigurations: [{
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'user-files/' }] } },
          QueueArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
        }],
      },
    });
    expect(uploads.uploadPrefix).toBe('user-files');
  });

  test('queue settings are configurable', () => {
    const { template } = synth({ maxReceiveCount: 3, queueVisibilityTimeout: Duration.minutes(15), queueRetentionPeriod: Duration.days(7) });
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 900,
      MessageRetentionPeriod: 604_800,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }),
    });
  });

  test('grantConsumeUploads grants consuming the queue and reading objects under the prefix only', () => {
    const { template } = synth({ verifyUploads: false }, (uploads, stack) => {
      uploads.grantConsumeUploads(new iam.Role(stack, 'Worker', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }));
    });
    const t = template;
    const [queueId] = only(t, 'AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() });
    const [bucketId] = uploadBucket(template);
    const [, policy] = only(t, 'AWS::IAM::Policy', { Roles: [{ Ref: Match.stringLikeRegexp('^Worker') }] });
    const statements = policy.Properties.PolicyDocument.Statement as Array<{ Action: string[]; Resource: unknown }>;
    const sqsStatement = statements.find((s) => [s.Action].flat().includes('sqs:ReceiveMessage'))!;
    expect(sqsStatement.Resource).toEqual({ 'Fn::GetAtt': [queueId, 'Arn'] });
    expect(sqsStatement.Action).toEqual(expect.arrayContaining(['sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']));
    const s3Statement = statements.find((s) => [s.Action].flat().includes('s3:GetObject'))!;
    expect([s3Statement.Resource].flat()).toContainEqual({
      'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/uploads/*']],
    });
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a) => /^s3:(Put|Delete)/.test(a))).toEqual([]);
  });
});

describe('CDN', () => {
  test('serves through OAC (no OAI), HTTPS only, GET/HEAD only', () => {
    const { template } = synth();
    const [oacId] = only(template, 'AWS::CloudFront::OriginAccessControl');
    const [, dist] = only(template, 'AWS::CloudFront::Distribution');
    const config = dist.Properties.DistributionConfig;
    expect(config.Origins).toHaveLength(1);
    expect(config.Origins[0].OriginAccessControlId).toEqual({ 'Fn::GetAtt': [oacId, 'Id'] });
    expect(config.Origins[0].S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    expect(config.DefaultCacheBehavior).toMatchObject({
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: ['GET', 'HEAD'],
      Compress: true,
    });
    expect(config.PriceClass).toBe('PriceClass_100');
    template.resourceCountIs('AWS::CloudFront::CloudFrontOriginAccessIdentity', 0);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Effect: 'Allow',
          Principal: { Service: 'cloudfront.amazonaws.com' },
          Action: 's3:GetObject',
          Condition: { StringEquals: { 'AWS:SourceArn': Match.anyValue() } },
        })]),
      },
    });
  });

  test('caches immutable objects for a year, keyed on the path only', () => {
    const { template } = synth();
    const [, policy] = only(template, 'AWS::CloudFront::CachePolicy');
    const config = policy.Properties.CachePolicyConfig;
    expect(config).toMatchObject({ DefaultTTL: 31_536_000, MaxTTL: 31_536_000, MinTTL: 31_536_000 });
    expect(config.ParametersInCacheKeyAndForwardedToOrigin).toMatchObject({
      CookiesConfig: { CookieBehavior: 'none' },
      HeadersConfig: { HeaderBehavior: 'none' },
      QueryStringsConfig: { QueryStringBehavior: 'none' },
    });
  });

  test('response headers policy sets exactly the delivery headers the local stack serves', () => {
    const { template } = synth();
    const [, policy] = only(template, 'AWS::CloudFront::ResponseHeadersPolicy');
    const config = policy.Properties.ResponseHeadersPolicyConfig;
    const expected = deliveryHeaders();
    expect(config.CustomHeadersConfig.Items).toEqual([{ Header: 'Cache-Control', Value: DEFAULT_CACHE_CONTROL, Override: true }]);
    expect(expected['cache-control']).toBe('public, max-age=31536000, immutable');
    const sec = config.SecurityHeadersConfig;
    expect(sec.ContentSecurityPolicy).toEqual({ ContentSecurityPolicy: expected['content-security-policy'], Override: true });
    expect(sec.ContentTypeOptions).toEqual({ Override: true });
    expect(expected['x-content-type-options']).toBe('nosniff');
    expect(`max-age=${sec.StrictTransportSecurity.AccessControlMaxAgeSec}; includeSubDomains`).toBe(expected['strict-transport-security']);
    expect(sec.StrictTransportSecurity).toMatchObject({ IncludeSubdomains: true, Override: true });
    expect(sec.FrameOptions).toEqual({ FrameOption: expected['x-frame-options'], Override: true });
    expect(sec.ReferrerPolicy).toEqual({ ReferrerPolicy: expected['referrer-policy'], Override: true });
  });

  test('cache control and CSP are configurable', () => {
    const { template } = synth({ cacheControl: 'public, max-age=600', contentSecurityPolicy: "default-src 'none'" });
    const [, policy] = only(template, 'AWS::CloudFront::ResponseHeadersPolicy');
    const config = policy.Properties.ResponseHeadersPolicyConfig;
    expect(config.CustomHeadersConfig.Items[0].Value).toBe('public, max-age=600');
    expect(config.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy).toBe("default-src 'none'");
    expect(DEFAULT_CONTENT_SECURITY_POLICY).toContain('sandbox');
  });

  test('custom domain, certificate, price class and web ACL', () => {
    const { template, uploads, stack } = synth((s) => ({
      domainNames: ['files.example.com'],
      certificate: acm.Certificate.fromCertificateArn(s, 'Cert', 'arn:aws:acm:us-east-1:123456789012:certificate/abc'),
      priceClass: cloudfront.PriceClass.PRICE_CLASS_ALL,
      webAclId: 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/y',
    }));
    const [, dist] = only(template, 'AWS::CloudFront::Distribution');
    expect(dist.Properties.DistributionConfig).toMatchObject({
      Aliases: ['files.example.com'],
      PriceClass: 'PriceClass_All',
      WebACLId: 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/y',
      ViewerCertificate: { MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' },
    });
    expect(stack.resolve(uploads.cdnUrl)).toBe('https://files.example.com');
    const policy = signerFunction(template)[1].Properties.Environment.Variables;
    expect(policy.DIRECT_UPLOAD_PUBLIC_BASE_URL).toBe('https://files.example.com');
  });
});

describe('signer', () => {
  test('every signer route (single, multipart, Uppy) is POST and IAM-authorized by default, on one integration', () => {
    const { template } = synth();
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route'));
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual([
      'POST /uploads', 'POST /uploads/multipart/abort', 'POST /uploads/multipart/complete', 'POST /uploads/multipart/parts', 'POST /uploads/status',
      'POST /uppy/sign',
    ]);
    expect(new Set(routes.map((r) => r.Properties.AuthorizationType))).toEqual(new Set(['AWS_IAM']));
    expect(new Set(routes.map((r) => JSON.stringify(r.Properties.Target))).size).toBe(1);
    const policy = parseSignerPolicy(signerFunction(template)[1].Properties.Environment.Variables[POLICY_ENV]);
    expect(policy.auth).toBe('iam');
  });

  test('uses the given authorizer (JWT) and its identity claim', () => {
    const { template } = synth({
      authorizer: new HttpJwtAuthorizer('Jwt', 'https://issuer.example.com', { jwtAudience: ['client'] }),
      identityClaim: 'email',
    });
    const [authorizerId] = only(template, 'AWS::ApiGatewayV2::Authorizer', { AuthorizerType: 'JWT' });
    for (const routeKey of ['POST /uploads', 'POST /uploads/multipart/parts', 'POST /uploads/multipart/complete', 'POST /uploads/multipart/abort', 'POST /uppy/sign']) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: routeKey, AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizerId } });
    }
    const policy = parseSignerPolicy(signerFunction(template)[1].Properties.Environment.Variables[POLICY_ENV]);
    expect(policy).toMatchObject({ auth: 'authorizer', identityClaim: 'email' });
  });

  test('anonymous uploads only by explicit opt-in, with a synth warning', () => {
    const { template, stack } = synth({ allowAnonymousUploads: true });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /uploads', AuthorizationType: 'NONE' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /uppy/sign', AuthorizationType: 'NONE' });
    const policy = parseSignerPolicy(signerFunction(template)[1].Properties.Environment.Variables[POLICY_ENV]);
    expect(policy.auth).toBe('none');
    Annotations.fromStack(stack).hasWarning('/TestStack/Uploads/Signer', Match.stringLikeRegexp('allowAnonymousUploads is true'));
  });

  test('the default configuration produces no warning', () => {
    const { stack } = synth({ allowedOrigins: ['https://app.example.com'] });
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  test('warns about wildcard origins and active content types', () => {
    const { stack } = synth({ allowedOrigins: ['*'], allowedContentTypes: ['image/png', 'image/svg+xml'] });
    const annotations = Annotations.fromStack(stack);
    annotations.hasWarning('/TestStack/Uploads/Signer', Match.stringLikeRegexp('allowedOrigins contains "\\*"'));
    annotations.hasWarning('/TestStack/Uploads/Signer', Match.stringLikeRegexp('image/svg\\+xml'));
  });

  test('the function is pinned to nodejs22.x on arm64, logs to its own log group, and carries the policy', () => {
    const { template } = synth({
      uploadPrefix: 'media/in',
      allowedContentTypes: ['image/png', 'application/pdf'],
      maxFileSize: Size.mebibytes(100),
      urlExpiry: Duration.minutes(2),
    });
    const [, fn] = signerFunction(template);
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler', MemorySize: 256 });
    expect(fn.Properties.LoggingConfig.LogGroup).toEqual({ Ref: expect.stringMatching(/SignerLogGroup/) });
    expect(parseSignerPolicy(fn.Properties.Environment.Variables[POLICY_ENV])).toEqual({
      prefix: 'media/in',
      allowedContentTypes: ['image/png', 'application/pdf'],
      maxFileSize: 100 * 1024 * 1024,
      expiresInSeconds: 120,
      accelerate: true,
      auth: 'iam',
      identityClaim: 'sub',
      multipartThreshold: 100 * 1024 * 1024,
      partSize: 16 * 1024 * 1024,
      allowDeleteObject: false,
    });
    expect(fn.Properties.Environment.Variables.DIRECT_UPLOAD_BUCKET).toEqual({ Ref: uploadBucket(template)[0] });
  });

  test('the signer role may only put, list parts of and abort uploads under the prefix (and write its logs)', () => {
    const { template } = synth();
    const [, fn] = signerFunction(template);
    const roleId = fn.Properties.Role['Fn::GetAtt'][0];
    const [, role] = only(template, 'AWS::IAM::Role', { AssumeRolePolicyDocument: Match.anyValue(), Description: Match.stringLikeRegexp('signer') });
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }));
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    const s3Actions = statements.flatMap((s) => [s.Action].flat()).filter((a: string) => a.startsWith('s3:'));
    // PutObject also covers CreateMultipartUpload, UploadPart and CompleteMultipartUpload.
    // The status route reads tags and lists a key's versions (never object bytes).
    expect(s3Actions).toEqual([
      's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:ListBucketMultipartUploads',
      's3:GetObjectTagging', 's3:GetObjectVersionTagging', 's3:ListBucketVersions',
    ]);
    const put = statements.find((s) => [s.Action].flat().includes('s3:PutObject'));
    expect(put.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [uploadBucket(template)[0], 'Arn'] }, '/uploads/*']] });
    const other = statements.flatMap((s) => [s.Action].flat()).filter((a: string) => !a.startsWith('s3:'));
    expect(other.sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
  });

  test('allowDeleteObject adds DeleteObject on the prefix and reaches the policy', () => {
    const { template } = synth({ allowDeleteObject: true });
    const [, fn] = signerFunction(template);
    const roleId = fn.Properties.Role['Fn::GetAtt'][0];
    const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }));
    const statement = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).find((st) => [st.Action].flat().includes('s3:PutObject'));
    expect(statement.Action).toContain('s3:DeleteObject');
    expect(statement.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [uploadBucket(template)[0], 'Arn'] }, '/uploads/*']] });
    expect(parseSignerPolicy(fn.Properties.Environment.Variables[POLICY_ENV]).allowDeleteObject).toBe(true);
  });

  test('multipart settings reach the policy: defaults 100 MiB threshold, 16 MiB parts, no DeleteObject', () => {
    const defaults = parseSignerPolicy(signerFunction(synth().template)[1].Properties.Environment.Variables[POLICY_ENV]);
    expect(defaults).toMatchObject({ multipartThreshold: 100 * 1024 ** 2, partSize: 16 * 1024 ** 2, allowDeleteObject: false });
    const custom = parseSignerPolicy(signerFunction(synth({
      multipartThreshold: Size.mebibytes(50), multipartPartSize: Size.mebibytes(64),
    }).template)[1].Properties.Environment.Variables[POLICY_ENV]);
    expect(custom).toMatchObject({ multipartThreshold: 50 * 1024 ** 2, partSize: 64 * 1024 ** 2 });
  });

  test('the $default stage throttles and writes access logs', () => {
    const { template } = synth();
    const [, stage] = only(template, 'AWS::ApiGatewayV2::Stage');
    expect(stage.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
    });
    expect(stage.Properties.AccessLogSettings.DestinationArn).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/ApiAccessLogGroup/), 'Arn'],
    });
    expect(JSON.parse(stage.Properties.AccessLogSettings.Format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
    const logGroups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(logGroups).toHaveLength(3); // signer, API access logs, verifier
    expect(logGroups.every((g) => g.Properties.RetentionInDays === 30)).toBe(true);
  });

  test('throttling is configurable', () => {
    const { template } = synth({ throttle: { rateLimit: 50, burstLimit: 20 } });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 20 },
    });
  });

  test('the API answers CORS preflights for the allowed origins only', () => {
    const { template } = synth({ allowedOrigins: ['https://app.example.com'] });
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: {
        AllowOrigins: ['https://app.example.com'],
        AllowMethods: ['POST'],
        AllowHeaders: Match.arrayWith(['authorization', 'content-type']),
      },
    });
    const none = synth().template;
    expect(only(none, 'AWS::ApiGatewayV2::Api')[1].Properties.CorsConfiguration).toBeUndefined();
  });

  test('grantInvokeSigner grants execute-api:Invoke on the signer\'s POST routes only', () => {
    const { template: t } = synth({}, (uploads, stack) => {
      uploads.grantInvokeSigner(new iam.Role(stack, 'Backend', { assumedBy: new iam.AccountRootPrincipal() }));
    });
    const [, policy] = only(t, 'AWS::IAM::Policy', { Roles: [{ Ref: Match.stringLikeRegexp('^Backend') }] });
    const [statement] = policy.Properties.PolicyDocument.Statement;
    expect(statement.Action).toBe('execute-api:Invoke');
    const arn = JSON.stringify(statement.Resource);
    for (const path of ['/uploads"', '/uploads/multipart/parts"', '/uploads/multipart/complete"', '/uploads/multipart/abort"', '/uppy/sign"', '/uploads/status"']) {
      expect(arn).toContain(`/$default/POST${path}`);
    }
    expect(statement.Resource).toHaveLength(6);
    expect(arn).toContain('execute-api');
    expect(arn).toContain('AWS::Partition');
  });
});

test('outputs the signer URL, bucket, queue URL and ARN, and the CDN domain', () => {
  const { template, uploads, stack } = synth();
  const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
  const find = (name: string) => Object.entries(outputs).find(([k]) => k.includes(name))?.[1].Value;
  expect(find('SignerUrl')).toEqual(stack.resolve(uploads.signerUrl));
  expect(find('BucketName')).toEqual(stack.resolve(uploads.bucket.bucketName));
  expect(find('QueueUrl')).toEqual(stack.resolve(uploads.queue.queueUrl));
  expect(find('QueueArn')).toEqual(stack.resolve(uploads.queue.queueArn));
  expect(find('CdnDomainName')).toEqual(stack.resolve(uploads.distribution.distributionDomainName));
  expect(stack.resolve(uploads.signerUrl)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/Api/), 'ApiEndpoint'] });
});

describe('existingBucket', () => {
  const userBucket = (stack: Stack, props: s3.BucketProps = { versioned: true }) => new s3.Bucket(stack, 'Files', props);

  test('GIVEN a versioned bucket of the app, THEN it is used (CORS, lifecycle, gate added) and no other bucket is created', () => {
    const { template, uploads, stack } = synth((s) => ({ existingBucket: userBucket(s), allowedOrigins: ['https://app.example.com'] }));
    template.resourceCountIs('AWS::S3::Bucket', 1);
    expect(uploads.accessLogsBucket).toBeUndefined();
    const [bucketId, bucket] = only(template, 'AWS::S3::Bucket');
    expect(bucketId).toMatch(/^Files/);
    expect(bucket.Properties.CorsConfiguration.CorsRules[0].AllowedOrigins).toEqual(['https://app.example.com']);
    expect(bucket.Properties.LifecycleConfiguration.Rules.map((r: { Id: string }) => r.Id)).toEqual(['AbortIncompleteMultipartUploads', 'ExpireNoncurrentVersions']);
    const [, policy] = only(template, 'AWS::S3::BucketPolicy');
    expect(policy.Properties.Bucket).toEqual({ Ref: bucketId });
    expect(policy.Properties.PolicyDocument.Statement.map((s: { Sid?: string }) => s.Sid)).toEqual(expect.arrayContaining(['DenyCdnUnverifiedUploads', 'DenyOverwritingUploads']));
    expect(signerFunction(template)[1].Properties.Environment.Variables.DIRECT_UPLOAD_BUCKET).toEqual({ Ref: bucketId });
    expect(stack.resolve(uploads.bucket.bucketName)).toEqual({ Ref: bucketId });
  });

  test('the signer accelerates only when the given bucket has Transfer Acceleration', () => {
    const accel = (props: s3.BucketProps) => parseSignerPolicy(signerFunction(synth((s) => ({ existingBucket: userBucket(s, props) })).template)[1]
      .Properties.Environment.Variables[POLICY_ENV]).accelerate;
    expect(accel({ versioned: true })).toBe(false);
    expect(accel({ versioned: true, transferAcceleration: true })).toBe(true);
  });

  test('refuses a bucket that is not versioned', () => {
    expect(() => synth((s) => ({ existingBucket: userBucket(s, {}) }))).toThrow(/existingBucket must be versioned \(versioned: true\)/);
  });

  test('refuses an imported bucket unless acceptUnmanagedBucket is set; accepted, it synthesizes without a bucket of its own', () => {
    expect(() => synth((s) => ({ existingBucket: s3.Bucket.fromBucketName(s, 'Imported', 'their-bucket') })))
      .toThrow(/existingBucket is an imported bucket: its CORS rule, lifecycle rules and bucket policy .* cannot be applied/);
    const { template } = synth((s) => ({ existingBucket: s3.Bucket.fromBucketName(s, 'Imported', 'their-bucket'), acceptUnmanagedBucket: true }));
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.resourceCountIs('AWS::S3::BucketPolicy', 0);
  });

  test('refuses the props that configure a new bucket', () => {
    expect(() => synth((s) => ({ existingBucket: userBucket(s), bucketName: 'x-y', serverAccessLogs: false })))
      .toThrow('existingBucket cannot be combined with bucketName, serverAccessLogs: those configure a new bucket; configure your bucket instead.');
  });
});

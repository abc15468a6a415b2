/**
 * Unclaimed uploads, construct side: the lifecycle rule, the verifier's environment, the bucket policy that
 * lets a claim drop the unclaimed tag (and nothing else), grantClaimUploads, validation, cdk-nag.
 *
 * The local S3 stand-in does not evaluate bucket policies, so the policy is proved here: its statements are
 * asserted literally, and a small evaluator of the condition operators they use (it throws on any other)
 * runs the requests that matter through the synthesized Deny statements and the grantee's Allow.
 */
import { Aspects, Duration, aws_iam as iam, aws_s3 as s3, aws_sqs as sqs } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { DirectUploadBucketProps, UploadVerifier } from '../../src';
import { REJECTED_OBJECTS_ENV, UNCLAIMED_UPLOADS_ENV } from '../../src/contract/environment';
import { loadVerifierConfig } from '../../src/verifier/config';
import { consumerWorker, functionEnvironment, synth, testStack } from '../util';

const ON: DirectUploadBucketProps = { unclaimedUploadExpiry: Duration.days(7) };
const VERIFIED = 'direct-upload:verified';
const ETAG = 'direct-upload:etag';
const UNCLAIMED = 'direct-upload:unclaimed';

function bucketOf(template: Template): { id: string; properties: any } {
  const [id, bucket] = Object.entries(template.findResources('AWS::S3::Bucket'))
    .find(([, b]) => b.Properties.VersioningConfiguration?.Status === 'Enabled')!;
  return { id, properties: bucket.Properties };
}

function bucketPolicy(template: Template): any[] {
  const { id } = bucketOf(template);
  const [policy] = Object.values(template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: id } } }));
  return policy.Properties.PolicyDocument.Statement;
}

function roleStatements(template: Template, rolePrefix: string): any[] {
  const roleId = Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id.startsWith(rolePrefix))!;
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** The verifier function's environment variables (as synthesized, tokens unresolved). */
function verifierVariables(template: Template): Record<string, unknown> {
  const [fn] = Object.values(template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: Match.objectLike({ DIRECT_UPLOAD_REJECTED_OBJECTS: Match.anyValue() }) } },
  }));
  return fn.Properties.Environment.Variables;
}

function verifierRoleArn(template: Template): unknown {
  const tagDeny = bucketPolicy(template).find((s) => s.Sid === 'DenyVerificationTagsExceptVerifier');
  return tagDeny.Condition.ArnNotEquals['aws:PrincipalArn'];
}

/** One request as IAM sees it: the action, who, the tags sent and the tags the object version has. */
interface Request {
  readonly action: string;
  readonly principalArn: unknown;
  readonly requestTags: Record<string, string>;
  readonly existingTags: Record<string, string>;
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const like = (value: string, pattern: string) => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(value);

/** The request's value(s) of a condition key: a single value, undefined when absent, or an array for set keys. */
function contextValue(request: Request, key: string): unknown {
  if (key === 'aws:PrincipalArn') return request.principalArn;
  if (key === 's3:RequestObjectTagKeys') return Object.keys(request.requestTags);
  if (key.startsWith('s3:RequestObjectTag/')) return request.requestTags[key.slice('s3:RequestObjectTag/'.length)];
  if (key.startsWith('s3:ExistingObjectTag/')) return request.existingTags[key.slice('s3:ExistingObjectTag/'.length)];
  throw new Error(`evaluator: unknown condition key ${key}`);
}

/** IAM condition semantics for the operators these statements use (absent keys: negated operators are true). */
function conditionHolds(operator: string, key: string, expected: unknown, request: Request): boolean {
  const actual = contextValue(request, key);
  const values = list(expected);
  switch (operator) {
    case 'StringEquals': return actual !== undefined && values.includes(actual);
    case 'StringNotEquals': return actual === undefined || !values.includes(actual);
    case 'ArnEquals': return values.some((v) => same(v, actual));
    case 'ArnNotEquals': return !values.some((v) => same(v, actual));
    case 'ForAnyValue:StringEquals': return (actual as string[]).some((a) => values.includes(a));
    case 'ForAnyValue:StringLike': return (actual as string[]).some((a) => values.some((p) => like(a, p as string)));
    case 'ForAnyValue:StringNotEquals': return (actual as string[]).some((a) => !values.includes(a));
    case 'ForAllValues:StringEquals': return (actual as string[]).every((a) => values.includes(a));
    default: throw new Error(`evaluator: unknown operator ${operator}`);
  }
}

function matches(statement: any, request: Request): boolean {
  if (!list(statement.Action).includes(request.action)) return false;
  return Object.entries(statement.Condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys as Record<string, unknown>).every(([key, expected]) => conditionHolds(operator, key, expected, request)));
}

/** Whether a Deny of the bucket policy that applies to everyone matches the request. */
function deniedByBucket(template: Template, request: Request): boolean {
  return bucketPolicy(template).some((s) => s.Effect === 'Deny' && same(s.Principal, { AWS: '*' }) && matches(s, request));
}

const APP_ROLE = 'arn:aws:iam::123456789012:role/app-backend';
const verified = { [VERIFIED]: 'true', [ETAG]: 'e1', [UNCLAIMED]: 'true' };
const claim = { [VERIFIED]: 'true', [ETAG]: 'e1' };
const tagging = (requestTags: Record<string, string>, existingTags: Record<string, string>, principalArn: unknown = APP_ROLE): Request =>
  ({ action: 's3:PutObjectVersionTagging', principalArn, requestTags, existingTags });

describe('unclaimedUploadExpiry', () => {
  test('off by default: no unclaimed rule, no environment variable, the tag Deny still covers every tag write', () => {
    const { template } = synth();
    expect(bucketOf(template).properties.LifecycleConfiguration.Rules.map((r: any) => r.Id)).not.toContain('ExpireUnclaimedUploads');
    expect(verifierVariables(template)).not.toHaveProperty(UNCLAIMED_UPLOADS_ENV);
    const tagDeny = bucketPolicy(template).find((s) => s.Sid === 'DenyVerificationTagsExceptVerifier');
    expect(tagDeny.Action).toEqual(['s3:PutObject', 's3:PutObjectTagging', 's3:PutObjectVersionTagging']);
    // And a claim-shaped write is refused: nobody but the verifier writes verification tags.
    expect(deniedByBucket(template, tagging(claim, verified))).toBe(true);
  });

  test('the lifecycle rule expires exactly what the verifier marks: the prefix and direct-upload:unclaimed=true, after N days', () => {
    const { template } = synth({ ...ON, uploadPrefix: 'media' });
    const rule = bucketOf(template).properties.LifecycleConfiguration.Rules.find((r: any) => r.Id === 'ExpireUnclaimedUploads');
    expect(rule).toEqual({
      Id: 'ExpireUnclaimedUploads',
      Status: 'Enabled',
      Prefix: 'media/',
      TagFilters: [{ Key: UNCLAIMED, Value: 'true' }],
      ExpirationInDays: 7,
    });
    // The expired current version becomes noncurrent; the existing rule removes it a day later.
    expect(bucketOf(template).properties.LifecycleConfiguration.Rules).toEqual(expect.arrayContaining([
      expect.objectContaining({ Id: 'ExpireNoncurrentVersions', NoncurrentVersionExpiration: { NoncurrentDays: 1 } }),
    ]));
    expect(verifierVariables(template)[UNCLAIMED_UPLOADS_ENV]).toBe('expire');
  });

  test('the verifier loads the synthesized environment: marks uploads unclaimed with the option, not without; refuses a bad value', () => {
    const load = (props: DirectUploadBucketProps) => {
      const { template } = synth(props);
      // Refs (bucket, queues) resolve to queue-URL-shaped literals, as the Lambda runtime would see them.
      const refs = Object.fromEntries(Object.values(verifierVariables(template))
        .flatMap((v) => (typeof v === 'object' && v !== null && 'Ref' in v ? [[(v as { Ref: string }).Ref, `https://sqs.local/${(v as { Ref: string }).Ref}`]] : [])));
      return functionEnvironment(template, REJECTED_OBJECTS_ENV, refs);
    };
    expect(loadVerifierConfig(load(ON)).tagUnclaimed).toBe(true);
    expect(loadVerifierConfig(load({})).tagUnclaimed).toBe(false);
    expect(() => loadVerifierConfig({ ...load(ON), [UNCLAIMED_UPLOADS_ENV]: 'soon' })).toThrow(/DIRECT_UPLOAD_UNCLAIMED_UPLOADS must be "keep" or "expire"/);
  });

  test('the bucket policy: the verifier-only Deny keeps PutObject; tag writes by others must be claims of verified objects', () => {
    const { template } = synth(ON);
    const statements = bucketPolicy(template);
    const arn = verifierRoleArn(template);
    const bucketObjects = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketOf(template).id, 'Arn'] }, '/*']] };
    const common = { 'ForAnyValue:StringLike': { 's3:RequestObjectTagKeys': ['direct-upload:*'] }, 'ArnNotEquals': { 'aws:PrincipalArn': arn } };
    const deny = (sid: string, condition: object) => ({
      Sid: sid,
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: ['s3:PutObjectTagging', 's3:PutObjectVersionTagging'],
      Resource: bucketObjects,
      Condition: { ...common, ...condition },
    });
    expect(statements.find((s) => s.Sid === 'DenyVerificationTagsExceptVerifier')).toEqual({
      Sid: 'DenyVerificationTagsExceptVerifier', Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:PutObject', Resource: bucketObjects, Condition: common,
    });
    expect(statements.filter((s) => /Claim/.test(s.Sid ?? ''))).toEqual([
      deny('DenyVerificationTagWritesExceptClaims', { StringNotEquals: { [`s3:RequestObjectTag/${VERIFIED}`]: 'true' } }),
      deny('DenyClaimsOfUnverifiedObjects', { StringNotEquals: { [`s3:ExistingObjectTag/${VERIFIED}`]: 'true' } }),
      deny('DenyClaimsWithOtherTags', { 'ForAnyValue:StringNotEquals': { 's3:RequestObjectTagKeys': [VERIFIED, ETAG] } }),
    ]);
  });

  test.each([
    ['a claim of a verified, unclaimed upload', false, tagging(claim, verified)],
    ['a claim repeated on a claimed upload', false, tagging(claim, claim)],
    ['verifying an untagged upload', true, tagging(claim, {})],
    ['verifying a rejected, retained upload', true, tagging(claim, { [VERIFIED]: 'false', [ETAG]: 'e1' })],
    ['verified alone on an untagged upload', true, tagging({ [VERIFIED]: 'true' }, {})],
    ['marking a verified upload unclaimed again', true, tagging(verified, verified)],
    ['un-verifying a verified upload', true, tagging({ [VERIFIED]: 'false', [ETAG]: 'e1' }, verified)],
    ['a claim with an extra verifier tag', true, tagging({ ...claim, 'direct-upload:rejected': 'x' }, verified)],
    ['a claim with the application\'s own tag beside it', true, tagging({ ...claim, owner: 'alice' }, verified)],
    ['dropping the verifier\'s tags for the application\'s own', false, tagging({ owner: 'alice' }, verified)],
    ['the verifier, any tags', false, tagging({ [VERIFIED]: 'true', [UNCLAIMED]: 'true' }, {}, 'VERIFIER')],
    ['an upload (PutObject) carrying the verified tag', true, { ...tagging(claim, {}), action: 's3:PutObject' }],
    ['an upload (PutObject) carrying the verified tag, on top of a verified version', true, { ...tagging(claim, verified), action: 's3:PutObject' }],
  ])('the bucket policy, by evaluation: %s → denied: %s', (_name, denied, request) => {
    const { template } = synth(ON);
    const resolved = request.principalArn === 'VERIFIER' ? { ...request, principalArn: verifierRoleArn(template) } : request;
    expect(deniedByBucket(template, resolved)).toBe(denied);
  });

  test('grantClaimUploads: tagging of verified uploads under the prefix, claims only; one grant; nothing else', () => {
    let grant: iam.Grant | undefined;
    const { template } = synth({ ...ON, uploadPrefix: 'media' }, (uploads, stack) => {
      grant = uploads.grantClaimUploads(new iam.Role(stack, 'Backend', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }));
    });
    expect(grant!.success).toBe(true);
    expect(roleStatements(template, 'Backend')).toEqual([{
      Effect: 'Allow',
      Action: ['s3:PutObjectTagging', 's3:PutObjectVersionTagging'],
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketOf(template).id, 'Arn'] }, '/media/*']] },
      Condition: {
        'StringEquals': { [`s3:ExistingObjectTag/${VERIFIED}`]: 'true', [`s3:RequestObjectTag/${VERIFIED}`]: 'true' },
        'ForAllValues:StringEquals': { 's3:RequestObjectTagKeys': [VERIFIED, ETAG] },
      },
    }]);
    // The grantee's own policy allows claims and nothing more.
    const allow = roleStatements(template, 'Backend')[0];
    expect(matches(allow, tagging(claim, verified))).toBe(true);
    expect(matches(allow, tagging(claim, {}))).toBe(false);
    expect(matches(allow, tagging({ owner: 'alice' }, verified))).toBe(false);
    expect(matches(allow, tagging(verified, verified))).toBe(false);
  });

  test('grantClaimUploads adds no cdk-nag finding (AwsSolutions, HIPAA, NIST 800-53 R5) to the consumer\'s worker, and the construct stays clean', () => {
    const findings = (grant: boolean) => {
      const { stack } = synth(ON, (uploads, s) => {
        const worker = consumerWorker(s);
        if (grant) uploads.grantClaimUploads(worker);
        for (const pack of [new AwsSolutionsChecks(), new HIPAASecurityChecks(), new NIST80053R5Checks()]) Aspects.of(s).add(pack);
      });
      const annotations = Annotations.fromStack(stack);
      return [...annotations.findError('*', Match.anyValue()), ...annotations.findWarning('*', Match.anyValue())]
        .map((m) => `${m.id}: ${String(m.entry.data).split(':')[0]}`)
        .sort();
    };
    const without = findings(false);
    expect(without.filter((f) => !f.startsWith('/TestStack/Worker'))).toEqual([]);
    expect(findings(true)).toEqual(without);
  });

  test('grantClaimUploads without unclaimedUploadExpiry throws, naming the prop', () => {
    expect(() => synth({}, (uploads, stack) => uploads.grantClaimUploads(new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() }))))
      .toThrow(/unclaimedUploadExpiry/);
  });

  test.each([
    [{ unclaimedUploadExpiry: Duration.hours(36) }, /unclaimedUploadExpiry must be a whole number of days from 1 to 3650 \(got 1 day 12 hours\)/],
    [{ unclaimedUploadExpiry: Duration.days(0) }, /unclaimedUploadExpiry must be a whole number of days/],
    [{ unclaimedUploadExpiry: Duration.days(3651) }, /unclaimedUploadExpiry must be a whole number of days/],
    [{ unclaimedUploadExpiry: Duration.days(7), verifyUploads: false }, /unclaimedUploadExpiry requires verifyUploads/],
  ])('invalid: %p', (props, message) => {
    expect(() => synth(props as DirectUploadBucketProps)).toThrow(message);
  });

  test('UploadVerifier refuses it on a bucket whose lifecycle rules this app does not manage', () => {
    const stack = testStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Imported', 'imported-bucket');
    expect(() => new UploadVerifier(stack, 'Verifier', { bucket, verifiedQueue: new sqs.Queue(stack, 'Q'), unclaimedUploadExpiry: Duration.days(3) }))
      .toThrow(/unclaimedUploadExpiry needs a bucket of this app/);
  });
});

describe('unclaimedUploadExpiry with malwareScanning (GuardDuty re-writes the tags it finds)', () => {
  const BOTH: DirectUploadBucketProps = { ...ON, malwareScanning: true };
  const GD = 'GuardDutyMalwareScanStatus';
  const SCAN = 'direct-upload:scan';
  const clean = { [GD]: 'NO_THREATS_FOUND' };
  const pending = { [SCAN]: 'pending', [ETAG]: 'e1' };
  const scanRoleArn = (template: Template): unknown =>
    bucketPolicy(template).find((s) => s.Sid === 'DenyGuardDutyVerifying').Condition.ArnEquals['aws:PrincipalArn'];

  test('both sides\' statements are in the bucket policy; the claim Denies exempt the verifier and GuardDuty\'s role only', () => {
    const { template } = synth(BOTH);
    const statements = bucketPolicy(template);
    const writers = [verifierRoleArn(template)].flat();
    expect(writers).toHaveLength(2);
    expect(writers).toContainEqual(scanRoleArn(template));
    expect(statements.map((s) => s.Sid)).toEqual(expect.arrayContaining([
      'DenyVerificationTagsExceptVerifier', 'DenyVerificationTagWritesExceptClaims', 'DenyClaimsOfUnverifiedObjects',
      'DenyClaimsWithOtherTags', 'DenyMalwareScanTagExceptGuardDuty', 'DenyGuardDutyVerifying', 'DenyGuardDutyMarkingUnclaimed',
    ]));
    for (const sid of ['DenyVerificationTagWritesExceptClaims', 'DenyClaimsOfUnverifiedObjects', 'DenyClaimsWithOtherTags']) {
      expect(statements.find((s) => s.Sid === sid).Condition.ArnNotEquals['aws:PrincipalArn']).toEqual(writers);
    }
  });

  test.each([
    ['GuardDuty re-writes a verified, unclaimed upload\'s tags with its own', false, 'GD', { ...verified, [SCAN]: 'NO_THREATS_FOUND', ...clean }, { ...verified, [SCAN]: 'NO_THREATS_FOUND' }],
    ['GuardDuty re-writes a claimed upload\'s tags with its own', false, 'GD', { ...claim, ...clean }, claim],
    ['GuardDuty re-writes a pending upload\'s tags with its own', false, 'GD', { ...pending, ...clean }, pending],
    ['GuardDuty tags an untagged upload', false, 'GD', clean, {}],
    ['GuardDuty sets direct-upload:verified=true on a pending upload', true, 'GD', { ...pending, [VERIFIED]: 'true', ...clean }, pending],
    ['GuardDuty sets direct-upload:verified=true on an untagged upload', true, 'GD', { ...claim, ...clean }, {}],
    ['GuardDuty sets direct-upload:verified=true on a rejected, retained upload', true, 'GD', { ...claim, ...clean }, { [VERIFIED]: 'false', [ETAG]: 'e1' }],
    ['GuardDuty re-adds unclaimed=true after a claim raced its read', true, 'GD', { ...verified, ...clean }, claim],
    ['GuardDuty un-verifies (hides) a verified upload: allowed, it can only hide', false, 'GD', { [VERIFIED]: 'false', [ETAG]: 'e1', ...clean }, verified],
    ['the application claims a verified upload (scanning on)', false, 'APP', claim, verified],
    ['the application claims and writes GuardDuty\'s tag beside it', true, 'APP', { ...claim, ...clean }, verified],
    ['the application verifies an untagged upload (scanning on)', true, 'APP', claim, {}],
    ['the verifier completes an upload: verified, unclaimed, its scan tag, GuardDuty\'s tag kept', false, 'VERIFIER', { ...verified, [SCAN]: 'NO_THREATS_FOUND', ...clean }, { ...pending, ...clean }],
  ])('by evaluation: %s → denied: %s', (_name, denied, who, requestTags, existingTags) => {
    const { template } = synth(BOTH);
    const principalArn = who === 'GD' ? scanRoleArn(template) : who === 'VERIFIER' ? [verifierRoleArn(template)].flat().find((a) => !same(a, scanRoleArn(template))) : APP_ROLE;
    expect(deniedByBucket(template, tagging(requestTags, existingTags, principalArn))).toBe(denied);
  });
});

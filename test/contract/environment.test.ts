/**
 * The environment the construct synthesizes is the one the handlers load: each function's
 * `Environment.Variables` from the default and the full stack, deploy-time values replaced by
 * placeholders of the right kind, goes through the real loaders (and round-trips through the builders).
 */
import { Template } from 'aws-cdk-lib/assertions';
import {
  BUCKET_ENV,
  loadSignerEnvironment,
  loadVerifierEnvironment,
  POLICY_ENV,
  PUBLIC_BASE_URL_ENV,
  QUOTA_ENV,
  REJECTION_QUEUE_URL_ENV,
  signerEnvironment,
  VERIFIED_QUEUE_URL_ENV,
  verifierEnvironment,
} from '../../src/contract/environment';
import { lambdaRuntimeEnvironment, loadSignerConfig } from '../../src/signer/config';
import { loadVerifierConfig } from '../../src/verifier/config';
import { fullProps, synth } from '../util';

/** What a deploy-time value of each variable looks like once CloudFormation resolved it. */
const PLACEHOLDERS: Record<string, string> = {
  [BUCKET_ENV]: 'uploads-bucket-123',
  [PUBLIC_BASE_URL_ENV]: 'https://d111111abcdef8.cloudfront.net',
  [VERIFIED_QUEUE_URL_ENV]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/verified',
  [REJECTION_QUEUE_URL_ENV]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/rejected',
  [QUOTA_ENV]: 'quota-table-123',
  'AWS::URLSuffix': 'amazonaws.com',
};

/** Resolves intrinsics the way CloudFormation would, with a placeholder for each reference. */
function resolve(value: unknown, name: string): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v.Ref === 'AWS::URLSuffix') return PLACEHOLDERS['AWS::URLSuffix'];
  if (Array.isArray(v['Fn::Join'])) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => resolve(part, name)).join(separator);
  }
  if (v.Ref !== undefined || v['Fn::GetAtt'] !== undefined) {
    if (!(name in PLACEHOLDERS)) throw new Error(`${name} has a deploy-time value but no placeholder: ${JSON.stringify(value)}`);
    return PLACEHOLDERS[name];
  }
  throw new Error(`${name}: unexpected value ${JSON.stringify(value)}`);
}

/** Every function's variables that belong to the contract, by role. */
function contractEnvironments(template: Template) {
  const signer: Record<string, string>[] = [];
  const verifier: Record<string, string>[] = [];
  for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
    const vars = (fn.Properties.Environment?.Variables ?? {}) as Record<string, unknown>;
    if (!(POLICY_ENV in vars)) {
      expect(Object.keys(vars).filter((name) => name.startsWith('DIRECT_UPLOAD_'))).toEqual([]);
      continue;
    }
    const env = Object.fromEntries(Object.entries(vars).map(([name, value]) => [name, resolve(value, name)]));
    (VERIFIED_QUEUE_URL_ENV in env ? verifier : signer).push(env);
  }
  return { signer, verifier };
}

const RUNTIME = lambdaRuntimeEnvironment('eu-west-1', { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' });

describe.each([
  ['the default stack', () => synth()],
  ['the full stack', () => synth(fullProps)],
])('%s', (_, build) => {
  const { template } = build();
  const { signer, verifier } = contractEnvironments(template);

  test('has one signer and one verifier function, and the loaders accept their environments', () => {
    expect(signer).toHaveLength(1);
    expect(verifier).toHaveLength(1);
    expect(() => loadSignerConfig({ ...signer[0], ...RUNTIME })).not.toThrow();
    expect(() => loadVerifierConfig(verifier[0])).not.toThrow();
  });

  test('what the loaders read builds the very same variables again', () => {
    const { NODE_OPTIONS, ...contractVars } = signer[0];
    expect(NODE_OPTIONS).toBe('--enable-source-maps');
    expect(signerEnvironment(loadSignerEnvironment(signer[0]))).toEqual(contractVars);
    expect(verifierEnvironment(loadVerifierEnvironment(verifier[0]))).toEqual(verifier[0]);
  });

  test('the verifier is told the upload rules only, none of the signer\'s settings', () => {
    expect(Object.keys(JSON.parse(verifier[0][POLICY_ENV])).sort()).toEqual(['allowedContentTypes', 'maxFileSize', 'prefix']);
  });

  test('signer and verifier check the same upload rules', () => {
    const signerPolicy = loadSignerEnvironment(signer[0]).policy;
    const verifierPolicy = loadVerifierEnvironment(verifier[0]).policy;
    expect(verifierPolicy.prefix).toBe(signerPolicy.prefix);
    expect(verifierPolicy.allowedContentTypes).toEqual(signerPolicy.allowedContentTypes);
    expect(verifierPolicy.maxFileSize).toBe(signerPolicy.maxFileSize);
  });
});

test('the full stack carries the quota and the JWT identity to the signer', () => {
  const { signer } = contractEnvironments(synth(fullProps).template);
  const loaded = loadSignerEnvironment(signer[0]);
  expect(loaded.quota).toEqual({ table: PLACEHOLDERS[QUOTA_ENV], maxUploads: 100, windowSeconds: 3600 });
  expect(loaded.policy.auth).toBe('authorizer');
});

test('a stack whose signer lost a variable fails the loader, naming it', () => {
  const { signer } = contractEnvironments(synth().template);
  const { [BUCKET_ENV]: _, ...withoutBucket } = signer[0];
  expect(() => loadSignerConfig({ ...withoutBucket, ...RUNTIME })).toThrow(/DIRECT_UPLOAD_BUCKET is not set/);
});

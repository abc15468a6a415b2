/**
 * `metadataKeys`: validated at synth (naming the prop and the fix), written into the signer's and the
 * verifier's environment (which their loaders read back), and allowed as `x-amz-meta-<key>` request
 * headers by the bucket's CORS rule, on the L3 and on an `UploadSigner` of its own.
 */
import { aws_s3 as s3 } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { synth, testStack } from './util';
import { UploadSigner } from '../src';
import {
  loadSignerEnvironment, loadVerifierEnvironment, METADATA_KEYS_ENV, POLICY_ENV, PUBLIC_BASE_URL_ENV,
  signerEnvironment, VERIFIED_QUEUE_URL_ENV, verifierEnvironment,
} from '../src/contract/environment';
import { parseSignerPolicy, parseUploadPolicy } from '../src/contract/upload-rules';

const KEYS = ['album-id', 'caption'];

describe('metadataKeys are validated at synth, naming the prop and the fix', () => {
  test.each([
    ['more than 10 keys', Array.from({ length: 11 }, (_, i) => `k${i}`), /metadataKeys lists 11 keys; allow at most 10/],
    ['an upper-case key', ['Album'], /metadataKeys entry "Album" is not a metadata key; use 1 to 64 lower-case letters, digits and inner hyphens/],
    ['an underscore', ['album_id'], /metadataKeys entry "album_id" is not a metadata key/],
    ['a leading hyphen', ['-a'], /metadataKeys entry "-a" is not a metadata key/],
    ['a key of 65 characters', ['a'.repeat(65)], /metadataKeys entry "a{65}" is not a metadata key/],
    ['an empty key', [''], /metadataKeys entry "" is not a metadata key/],
    ['the reserved filename', ['filename'], /metadataKeys must not list "filename": it is reserved for the original filename.*send filename instead/],
    ['a duplicate', ['a', 'b', 'a'], /metadataKeys lists a more than once; list each key once/],
  ])('%s', (_, metadataKeys, message) => {
    expect(() => synth({ metadataKeys })).toThrow(message);
    expect(() => new UploadSigner(testStack(), 'Signer', { bucket: new s3.Bucket(testStack(), 'B'), publicBaseUrl: 'https://f.example.com', metadataKeys }))
      .toThrow(message);
  });

  test('ten valid keys of up to 64 characters are accepted', () => {
    expect(() => synth({ metadataKeys: [...Array.from({ length: 9 }, (_, i) => `key-${i}`), 'a'.repeat(64)] })).not.toThrow();
  });
});

describe('GIVEN metadataKeys on a DirectUploadBucket', () => {
  const { template } = synth({ metadataKeys: KEYS, allowedOrigins: ['https://app.example.com'] });

  test('THEN the signer and the verifier are told the allow-list, and their loaders read it back', () => {
    const vars = Object.values(template.findResources('AWS::Lambda::Function'))
      .map((fn) => fn.Properties.Environment?.Variables as Record<string, unknown> | undefined)
      .filter((v): v is Record<string, unknown> => v !== undefined && METADATA_KEYS_ENV in v);
    // The signer and the verifier, nothing else.
    expect(vars.map((v) => [PUBLIC_BASE_URL_ENV in v ? 'signer' : VERIFIED_QUEUE_URL_ENV in v ? 'verifier' : 'other', v[METADATA_KEYS_ENV]]).sort())
      .toEqual([['signer', 'album-id,caption'], ['verifier', 'album-id,caption']]);
    const value = vars[0][METADATA_KEYS_ENV] as string;
    const signerEnv = signerEnvironment({ policy: parseSignerPolicy(vars.find((v) => PUBLIC_BASE_URL_ENV in v)![POLICY_ENV] as string), bucket: 'b-1', publicBaseUrl: 'https://f.example.com' });
    expect(loadSignerEnvironment({ ...signerEnv, [METADATA_KEYS_ENV]: value }).metadataKeys).toEqual(KEYS);
    const verifierEnv = verifierEnvironment({
      policy: parseUploadPolicy(vars.find((v) => VERIFIED_QUEUE_URL_ENV in v)![POLICY_ENV] as string, POLICY_ENV),
      bucket: 'b-1',
      verifiedQueueUrl: 'https://q/1',
      rejectionQueueUrl: 'https://q/2',
      rejectedObjects: 'delete',
    });
    expect(loadVerifierEnvironment({ ...verifierEnv, [METADATA_KEYS_ENV]: value }).metadataKeys).toEqual(KEYS);
    // A broken allow-list is a deployment fault the loader names.
    expect(() => loadVerifierEnvironment({ ...verifierEnv, [METADATA_KEYS_ENV]: 'a,Bad' })).toThrow(/DIRECT_UPLOAD_METADATA_KEYS entry "Bad" is not a metadata key/);
  });

  test('THEN the bucket\'s CORS rule lets browsers send x-amz-meta-<key> for each key (and no other)', () => {
    const buckets = Object.values(template.findResources('AWS::S3::Bucket'))
      .map((b) => b.Properties.CorsConfiguration?.CorsRules?.[0]?.AllowedHeaders as string[] | undefined)
      .filter((h): h is string[] => h !== undefined);
    expect(buckets).toHaveLength(1);
    expect(buckets[0].filter((h) => h.startsWith('x-amz-meta-')).sort()).toEqual(['x-amz-meta-album-id', 'x-amz-meta-caption', 'x-amz-meta-filename']);
  });
});

test('GIVEN no metadataKeys THEN neither function has the variable (the templates of existing users do not change)', () => {
  const { template } = synth();
  for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
    expect(Object.keys(fn.Properties.Environment?.Variables ?? {})).not.toContain(METADATA_KEYS_ENV);
  }
});

test('GIVEN an UploadSigner with metadataKeys THEN its function is told them', () => {
  const stack = testStack();
  new UploadSigner(stack, 'Signer', { bucket: new s3.Bucket(stack, 'B'), publicBaseUrl: 'https://f.example.com', metadataKeys: ['tenant'] });
  const fns = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
  expect(fns.map((fn) => fn.Properties.Environment.Variables[METADATA_KEYS_ENV])).toEqual(['tenant']);
});

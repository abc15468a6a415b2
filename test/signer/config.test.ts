import {
  TEST_ACCESS_KEY_ID,
  TEST_BUCKET,
  TEST_PUBLIC_BASE_URL,
  TEST_REGION,
  TEST_SECRET_ACCESS_KEY,
  TEST_SESSION_TOKEN,
  testEnv,
  testPolicy,
} from './helpers';
import {
  BUCKET_ENV,
  DEFAULT_URL_SUFFIX,
  POLICY_ENV,
  PUBLIC_BASE_URL_ENV,
  S3_ENDPOINT_ENV,
  URL_SUFFIX_ENV,
} from '../../src/contract/environment';
import { serializeSignerPolicy } from '../../src/contract/upload-rules';
import { loadSignerConfig } from '../../src/signer/config';

describe('loadSignerConfig', () => {
  test('reads a complete environment', () => {
    const config = loadSignerConfig(testEnv());

    expect(config.bucket).toBe(TEST_BUCKET);
    expect(config.region).toBe(TEST_REGION);
    expect(config.urlSuffix).toBe(DEFAULT_URL_SUFFIX);
    expect(config.publicBaseUrl).toBe(TEST_PUBLIC_BASE_URL);
    expect(config.policy).toEqual(testPolicy());
    expect(config.endpoint).toBeUndefined();
    expect(config.credentials()).toEqual({
      accessKeyId: TEST_ACCESS_KEY_ID,
      secretAccessKey: TEST_SECRET_ACCESS_KEY,
      sessionToken: TEST_SESSION_TOKEN,
    });
  });

  test('strips trailing slashes from the public base URL and keeps its path', () => {
    expect(loadSignerConfig(testEnv({ [PUBLIC_BASE_URL_ENV]: 'https://cdn.example.com/' })).publicBaseUrl).toBe('https://cdn.example.com');
    expect(loadSignerConfig(testEnv({ [PUBLIC_BASE_URL_ENV]: 'https://cdn.example.com/media//' })).publicBaseUrl)
      .toBe('https://cdn.example.com/media');
  });

  test('uses the partition URL suffix when set', () => {
    expect(loadSignerConfig(testEnv({ [URL_SUFFIX_ENV]: 'amazonaws.com.cn' })).urlSuffix).toBe('amazonaws.com.cn');
  });

  test('reads the local S3 endpoint as an origin', () => {
    expect(loadSignerConfig(testEnv({ [S3_ENDPOINT_ENV]: 'http://127.0.0.1:4568/' })).endpoint).toBe('http://127.0.0.1:4568');
    expect(loadSignerConfig(testEnv({ [S3_ENDPOINT_ENV]: '' })).endpoint).toBeUndefined();
  });

  test('omits the session token when there is none', () => {
    const config = loadSignerConfig(testEnv({ AWS_SESSION_TOKEN: undefined }));
    expect(config.credentials()).toEqual({ accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY });
  });

  test('reads credentials when called, so it sees the current values', () => {
    // GIVEN
    const env = testEnv();
    const config = loadSignerConfig(env);
    // WHEN
    env.AWS_ACCESS_KEY_ID = 'AKIDROTATED';
    // THEN
    expect(config.credentials().accessKeyId).toBe('AKIDROTATED');
    env.AWS_ACCESS_KEY_ID = undefined;
    expect(() => config.credentials()).toThrow(/AWS_ACCESS_KEY_ID/);
  });

  test.each([
    ['policy missing', { [POLICY_ENV]: undefined }, /DIRECT_UPLOAD_POLICY is not set/],
    ['policy not JSON', { [POLICY_ENV]: '{' }, /DIRECT_UPLOAD_POLICY is not valid JSON/],
    ['policy field broken', { [POLICY_ENV]: serializeSignerPolicy(testPolicy({ maxFileSize: -1 })) }, /maxFileSize/],
    ['bucket missing', { [BUCKET_ENV]: undefined }, /DIRECT_UPLOAD_BUCKET is not set/],
    ['bucket invalid', { [BUCKET_ENV]: 'Not_A_Bucket' }, /DIRECT_UPLOAD_BUCKET is not a valid S3 bucket name/],
    ['region missing', { AWS_REGION: undefined }, /AWS_REGION is not set/],
    ['region invalid', { AWS_REGION: 'EU WEST' }, /AWS_REGION is not a region name/],
    ['URL suffix invalid', { [URL_SUFFIX_ENV]: 'not a suffix' }, /DIRECT_UPLOAD_URL_SUFFIX/],
    ['public base URL missing', { [PUBLIC_BASE_URL_ENV]: undefined }, /DIRECT_UPLOAD_PUBLIC_BASE_URL is not set/],
    ['public base URL relative', { [PUBLIC_BASE_URL_ENV]: '/media' }, /DIRECT_UPLOAD_PUBLIC_BASE_URL must be an absolute/],
    ['public base URL with query', { [PUBLIC_BASE_URL_ENV]: 'https://cdn.example.com/?a=b' }, /DIRECT_UPLOAD_PUBLIC_BASE_URL/],
    ['endpoint with a path', { [S3_ENDPOINT_ENV]: 'http://127.0.0.1:4568/s3' }, /DIRECT_UPLOAD_S3_ENDPOINT must be an http\(s\) origin/],
    ['endpoint not a URL', { [S3_ENDPOINT_ENV]: 'localhost:4568' }, /DIRECT_UPLOAD_S3_ENDPOINT/],
    ['access key missing', { AWS_ACCESS_KEY_ID: undefined }, /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set/],
    ['secret key missing', { AWS_SECRET_ACCESS_KEY: '' }, /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set/],
  ])('throws on %s', (_name, overrides, message) => {
    expect(() => loadSignerConfig(testEnv(overrides))).toThrow(message);
  });

  test('reports every problem at once', () => {
    // The contract's variables first, then the ones the Lambda runtime sets.
    expect(() => loadSignerConfig({})).toThrow(
      /DIRECT_UPLOAD_POLICY.*DIRECT_UPLOAD_BUCKET.*DIRECT_UPLOAD_PUBLIC_BASE_URL.*AWS_REGION.*AWS_ACCESS_KEY_ID/,
    );
  });

  test('refuses Transfer Acceleration with a dotted bucket name', () => {
    const env = testEnv({ [BUCKET_ENV]: 'my.bucket', [POLICY_ENV]: serializeSignerPolicy(testPolicy({ accelerate: true })) });
    expect(() => loadSignerConfig(env)).toThrow(/acceleration does not support/);
    // Locally, acceleration is ignored, so the same names are fine.
    expect(loadSignerConfig({ ...env, [S3_ENDPOINT_ENV]: 'http://127.0.0.1:4568' }).bucket).toBe('my.bucket');
  });
});

import { Duration, RemovalPolicy, Size, Token, aws_certificatemanager as acm, aws_s3 as s3 } from 'aws-cdk-lib';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { synth } from './util';

const jwt = () => new HttpJwtAuthorizer('Jwt', 'https://issuer.example.com', { jwtAudience: ['client'] });

describe('props are validated at synth, naming the prop and the fix', () => {
  test.each([
    ['maxFileSize zero', { maxFileSize: Size.bytes(0) }, /maxFileSize must be positive \(got 0 bytes\); use e\.g\. Size\.mebibytes\(25\)/],
    ['maxFileSize above 5 TiB', { maxFileSize: Size.tebibytes(6) }, /maxFileSize must be at most 5 TiB, the largest S3 object \(got 6 TiB\); use a smaller Size/],
    ['multipartThreshold above 5 GiB', { multipartThreshold: Size.gibibytes(6) }, /multipartThreshold must be a whole number of bytes from 1 byte to 5 GiB .*\(got 6 GiB\)/],
    ['multipartThreshold zero', { multipartThreshold: Size.bytes(0) }, /multipartThreshold must be .*\(got 0 bytes\)/],
    ['multipartPartSize below 5 MiB', { multipartPartSize: Size.mebibytes(4) }, /multipartPartSize must be a whole number of bytes from 5 MiB to 5 GiB .*\(got 4 MiB\)/],
    ['multipartPartSize above 5 GiB', { multipartPartSize: Size.gibibytes(6) }, /multipartPartSize must be .*\(got 6 GiB\)/],
    ['empty allowedContentTypes', { allowedContentTypes: [] }, /allowedContentTypes must not be empty/],
    ['content type without subtype', { allowedContentTypes: ['image'] }, /allowedContentTypes entry "image" is not a lower-case "type\/subtype"/],
    ['content type with a wildcard', { allowedContentTypes: ['image/*'] }, /allowedContentTypes entry "image\/\*" is not .* wildcards/],
    ['content type with parameters', { allowedContentTypes: ['text/plain; charset=utf-8'] }, /allowedContentTypes entry "text\/plain; charset=utf-8"/],
    ['upper-case content type', { allowedContentTypes: ['Image/PNG'] }, /allowedContentTypes entry "Image\/PNG"/],
    ['duplicate content types', { allowedContentTypes: ['image/png', 'image/png'] }, /allowedContentTypes lists image\/png more than once/],
    ['urlExpiry below 1 s', { urlExpiry: Duration.millis(500) }, /urlExpiry must be between 1 second and 1 hour \(got 500 millis\)/],
    ['urlExpiry above 1 h', { urlExpiry: Duration.hours(2) }, /urlExpiry must be between 1 second and 1 hour \(got 2 hours\)/],
    ['urlExpiry fractional', { urlExpiry: Duration.millis(1500) }, /urlExpiry must be a whole number of seconds/],
    ['prefix with ..', { uploadPrefix: 'uploads/../secrets' }, /uploadPrefix must not contain "\." or "\.\." segments/],
    ['prefix with a leading slash', { uploadPrefix: '/uploads' }, /uploadPrefix must not start with "\/" \(got "\/uploads"\).*use "uploads"/],
    ['prefix with a trailing slash', { uploadPrefix: 'uploads/' }, /uploadPrefix must not end with "\/"/],
    ['prefix with control characters', { uploadPrefix: 'up\nloads' }, /uploadPrefix must not contain control characters/],
    ['empty prefix', { uploadPrefix: '' }, /uploadPrefix must not be empty/],
    ['prefix with unsafe characters', { uploadPrefix: 'up loads' }, /uploadPrefix may only contain letters, digits/],
    ['origin with a path', { allowedOrigins: ['https://app.example.com/'] }, /allowedOrigins entry "https:\/\/app\.example\.com\/" is not an origin; use scheme:\/\/host\[:port\]/],
    ['origin without scheme', { allowedOrigins: ['app.example.com'] }, /allowedOrigins entry "app\.example\.com" is not an origin/],
    ['plain http origin', { allowedOrigins: ['http://app.example.com'] }, /allowedOrigins entry "http:\/\/app\.example\.com" uses http:\/\/; only https:\/\//],
    ['accelerated bucket name with dots', { bucketName: 'my.uploads' }, /bucketName "my\.uploads" contains dots, which Transfer Acceleration does not support; remove the dots or set transferAcceleration: false/],
    ['autoDeleteObjects without DESTROY', { autoDeleteObjects: true }, /autoDeleteObjects requires removalPolicy: RemovalPolicy\.DESTROY/],
    ['maxReceiveCount zero', { maxReceiveCount: 0 }, /maxReceiveCount must be an integer from 1 to 1000 \(got 0\)/],
    ['maxReceiveCount fractional', { maxReceiveCount: 2.5 }, /maxReceiveCount must be an integer from 1 to 1000 \(got 2\.5\)/],
    ['visibility timeout above 12 h', { queueVisibilityTimeout: Duration.hours(13) }, /queueVisibilityTimeout must be at most 12 hours/],
    ['retention above 14 days', { queueRetentionPeriod: Duration.days(15) }, /queueRetentionPeriod must be between 1 minute and 14 days/],
    ['retention below 1 minute', { queueRetentionPeriod: Duration.seconds(30) }, /queueRetentionPeriod must be between 1 minute and 14 days/],
    ['domain without certificate', { domainNames: ['files.example.com'] }, /domainNames requires certificate/],
    ['multi-line cache control', { cacheControl: 'public\r\nSet-Cookie: x' }, /cacheControl must be a non-empty single-line header value/],
    ['empty CSP', { contentSecurityPolicy: ' ' }, /contentSecurityPolicy must be a non-empty single-line header value/],
    ['memory too small', { signerMemorySize: 64 }, /signerMemorySize must be an integer from 128 to 10240 MiB \(got 64\)/],
    ['negative throttle', { throttle: { rateLimit: -1 } }, /throttle\.rateLimit must be a non-negative number \(got -1\)/],
    ['malformed identity claim', { identityClaim: 'a claim' }, /identityClaim "a claim" is not a claim name/],
  ])('%s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  test('authorizer and anonymous uploads are exclusive', () => {
    expect(() => synth({ authorizer: jwt(), allowAnonymousUploads: true }))
      .toThrow(/allowAnonymousUploads cannot be combined with authorizer; remove one of them/);
  });

  test('a log bucket with logs turned off', () => {
    expect(() => synth((stack) => ({ serverAccessLogs: false, serverAccessLogsBucket: s3.Bucket.fromBucketName(stack, 'Logs', 'logs') })))
      .toThrow(/serverAccessLogsBucket is set but serverAccessLogs is false; remove one of them/);
  });

  test('certificate without domain names', () => {
    expect(() => synth((stack) => ({
      certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:123456789012:certificate/abc'),
    }))).toThrow(/certificate requires domainNames/);
  });

  test('every problem is reported at once, in one error', () => {
    expect(() => synth({ maxFileSize: Size.bytes(0), uploadPrefix: '/x', allowedOrigins: ['nope'], maxReceiveCount: 0 }))
      .toThrow(/Invalid DirectUploadBucket props:\n- maxFileSize[^\n]*\n- uploadPrefix[^\n]*\n- allowedOrigins[^\n]*\n- maxReceiveCount/);
  });

  test('valid edge values pass', () => {
    expect(() => synth({
      maxFileSize: Size.tebibytes(5),
      urlExpiry: Duration.hours(1),
      uploadPrefix: 'a/b-c/d_e',
      allowedOrigins: ['https://app.example.com:8443', 'http://localhost:3000', 'http://127.0.0.1:5173', '*'],
      bucketName: 'my.uploads',
      transferAcceleration: false,
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
      maxReceiveCount: 1000,
    })).not.toThrow();
  });

  test('unresolved tokens are not validated at synth', () => {
    expect(() => synth({ uploadPrefix: Token.asString({ Ref: 'PrefixParam' }), bucketName: Token.asString({ Ref: 'NameParam' }) }))
      .not.toThrow();
  });
});

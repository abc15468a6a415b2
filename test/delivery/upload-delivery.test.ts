/**
 * UploadDelivery on its own: a distribution of its own, or a behaviour on the user's.
 */
import { Stack, aws_certificatemanager as acm, aws_cloudfront as cloudfront, aws_cloudfront_origins as origins, aws_s3 as s3 } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { UploadDelivery, UploadDeliveryProps } from '../../src';
import { contentDispositionFor, contentDispositionFunctionCode, DEFAULT_INLINE_CONTENT_TYPES } from '../../src/contract/delivery';
import { encodeFilename } from '../../src/contract/filename';
import { testStack } from '../util';

function delivery(props: Partial<UploadDeliveryProps> = {}, stack: Stack = testStack()) {
  const bucket = props.bucket ?? new s3.Bucket(stack, 'Files', { versioned: true });
  const construct = new UploadDelivery(stack, 'Delivery', { bucket, ...props });
  return { stack, bucket, delivery: construct, template: Template.fromStack(stack) };
}

/** The user's own site distribution. */
function siteDistribution(stack: Stack): cloudfront.Distribution {
  const site = new s3.Bucket(stack, 'Site');
  return new cloudfront.Distribution(stack, 'App', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(site) } });
}

describe('UploadDelivery', () => {
  test('the edge caches a key for the full TTL whatever Cache-Control the object was stored with (minTtl = defaultTtl = maxTtl)', () => {
    const { template } = delivery();
    const [policy] = Object.values(template.findResources('AWS::CloudFront::CachePolicy'));
    const { MinTTL, DefaultTTL, MaxTTL } = policy.Properties.CachePolicyConfig;
    expect(DefaultTTL).toBeGreaterThanOrEqual(86_400);
    expect({ MinTTL, MaxTTL }).toEqual({ MinTTL: DefaultTTL, MaxTTL: DefaultTTL });
  });

  test('GIVEN a bucket, THEN a distribution of its own: OAC, HTTPS only, 403/404 not cached, the Content-Disposition function', () => {
    const { template, stack, delivery: d } = delivery();
    const [dist] = Object.values(template.findResources('AWS::CloudFront::Distribution'));
    const config = dist.Properties.DistributionConfig;
    expect(config.DefaultCacheBehavior).toMatchObject({ ViewerProtocolPolicy: 'https-only', AllowedMethods: ['GET', 'HEAD'] });
    expect(config.CustomErrorResponses).toEqual([{ ErrorCode: 403, ErrorCachingMinTTL: 0 }, { ErrorCode: 404, ErrorCachingMinTTL: 0 }]);
    expect(config.DefaultCacheBehavior.FunctionAssociations[0].EventType).toBe('viewer-response');
    template.hasResourceProperties('AWS::CloudFront::Function', { FunctionCode: contentDispositionFunctionCode(DEFAULT_INLINE_CONTENT_TYPES) });
    expect(JSON.stringify(stack.resolve(d.url))).toMatch(/"https:\/\/",\{"Fn::GetAtt":\["DeliveryDistribution[0-9A-F]+","DomainName"\]/);
  });

  test('existingDistribution: the same behaviour under <prefix>/* on the user\'s distribution, no second distribution, a warning', () => {
    const stack = testStack();
    const app = siteDistribution(stack);
    const { template, delivery: d } = delivery({ existingDistribution: app, uploadPrefix: 'media' }, stack);
    template.resourceCountIs('AWS::CloudFront::Distribution', 1);
    expect(d.distribution).toBe(app);
    const [dist] = Object.values(template.findResources('AWS::CloudFront::Distribution'));
    const behaviors = dist.Properties.DistributionConfig.CacheBehaviors;
    expect(behaviors).toHaveLength(1);
    expect(behaviors[0]).toMatchObject({
      PathPattern: 'media/*',
      ViewerProtocolPolicy: 'https-only',
      CachePolicyId: stack.resolve(d.cachePolicy.cachePolicyId),
      ResponseHeadersPolicyId: stack.resolve(d.responseHeadersPolicy.responseHeadersPolicyId),
      FunctionAssociations: [{ EventType: 'viewer-response', FunctionARN: stack.resolve(d.contentDispositionFunction.functionArn) }],
    });
    Annotations.fromStack(stack).hasWarning('/TestStack/Delivery', Match.stringLikeRegexp('existingDistribution is set: uploaded files are served on your application\'s own domain'));
  });

  test('a distribution of its own produces no warning', () => {
    const { stack } = delivery();
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  test('existingDistribution refuses the settings that belong to the distribution', () => {
    const stack = testStack();
    expect(() => delivery({
      existingDistribution: siteDistribution(stack),
      priceClass: cloudfront.PriceClass.PRICE_CLASS_ALL,
      webAclId: 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/y',
    }, stack)).toThrow('Invalid UploadDelivery props:\n- existingDistribution cannot be combined with priceClass, webAclId: those are settings of your distribution; set them there.');
  });

  test('custom domain: the url is the first domain name', () => {
    const stack = testStack();
    const { delivery: d } = delivery({
      domainNames: ['files.example.com'],
      certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:123456789012:certificate/abc'),
    }, stack);
    expect(d.url).toBe('https://files.example.com');
  });
});

describe('the Content-Disposition function and the original filename', () => {
  const code = contentDispositionFunctionCode(DEFAULT_INLINE_CONTENT_TYPES);
  const handler = new Function(`${code}\nreturn handler;`)() as (e: unknown) => { headers: Record<string, { value: string }> };
  const serve = (type: string, filename?: string) => handler({
    response: { statusCode: 200, headers: { 'content-type': { value: type }, ...(filename !== undefined ? { 'x-amz-meta-filename': { value: filename } } : {}) } },
  }).headers['content-disposition'].value;

  test('a download carries filename*=UTF-8\'\' with the stored (already encoded) name, as the local CDN route does', () => {
    const stored = encodeFilename('Фото 東京 #1 + ü.pdf')!;
    expect(serve('application/pdf', stored)).toBe(`attachment; filename*=UTF-8''${stored}`);
    expect(serve('application/pdf', stored)).toBe(contentDispositionFor('application/pdf', DEFAULT_INLINE_CONTENT_TYPES, stored));
    expect(serve('image/png', stored)).toBe('inline');
  });

  test('viewers get no stored user metadata (x-amz-meta-*: the filename, the app metadata); the other headers stay', () => {
    const out = handler({
      response: {
        statusCode: 200,
        headers: {
          'content-type': { value: 'application/pdf' },
          'etag': { value: '"e"' },
          'x-amz-meta-filename': { value: 'a.pdf' },
          'x-amz-meta-album-id': { value: '42' },
        },
      },
    });
    expect(Object.keys(out.headers).sort()).toEqual(['content-disposition', 'content-type', 'etag']);
    expect(out.headers['content-disposition'].value).toBe("attachment; filename*=UTF-8''a.pdf");
  });

  test('a stored value outside the encoding (quotes, separators, raw Unicode) is ignored: plain attachment', () => {
    for (const value of ['a"; filename=evil.html', 'x\r\nSet-Cookie: a=b', 'Фото.pdf', '', '%zz']) {
      expect(serve('application/pdf', value)).toBe('attachment');
      expect(contentDispositionFor('application/pdf', DEFAULT_INLINE_CONTENT_TYPES, value)).toBe('attachment');
    }
  });
});

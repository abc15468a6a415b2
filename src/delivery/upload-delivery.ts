import {
  Annotations,
  Duration,
  aws_certificatemanager as acm,
  aws_cloudfront as cloudfront,
  aws_cloudfront_origins as origins,
  aws_s3 as s3,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  DEFAULT_INLINE_CONTENT_TYPES,
  HSTS_MAX_AGE_SECONDS,
  REMOVED_RESPONSE_HEADERS,
  contentDispositionFunctionCode,
  deliveryHeaders,
} from '../contract/delivery';
import { ACTIVE_CONTENT_TYPES, DEFAULT_PREFIX } from '../contract/upload-rules';
import { acknowledge } from '../private/nag';
import { contentTypeProblems, found, headerValueProblem, requiresProblem, throwIfProblems } from '../private/validation';

/** How uploads are served: the delivery's options a `DirectUploadBucket` passes on as they are. */
export interface UploadDeliveryOptions {
  /**
   * Content types served inline (`Content-Disposition: inline`); every other type is served with
   * `Content-Disposition: attachment`, so a browser downloads a PDF or ZIP instead of rendering it on the
   * CDN domain. A CloudFront Function sets the header on every response, replacing any stored disposition.
   *
   * @default - image/jpeg, image/png, image/webp, image/gif, image/avif
   */
  readonly inlineContentTypes?: string[];

  /**
   * `Cache-Control` the CDN sends for every object, overriding what the object was stored with. Keys
   * are never reused, so objects are immutable.
   *
   * @default 'public, max-age=31536000, immutable'
   */
  readonly cacheControl?: string;

  /**
   * `Content-Security-Policy` the CDN sends for every object.
   *
   * @default "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'"
   */
  readonly contentSecurityPolicy?: string;

  /**
   * Custom domain names for the distribution (requires `certificate`, in us-east-1).
   *
   * @default - the distribution's cloudfront.net domain
   */
  readonly domainNames?: string[];

  /**
   * ACM certificate (us-east-1) covering `domainNames`; TLSv1.2_2021 is then enforced.
   *
   * @default - none
   */
  readonly certificate?: acm.ICertificate;

  /**
   * CloudFront price class.
   *
   * @default cloudfront.PriceClass.PRICE_CLASS_100
   */
  readonly priceClass?: cloudfront.PriceClass;

  /**
   * AWS WAF web ACL (ARN, WAFv2, scope CLOUDFRONT) attached to the distribution.
   *
   * @default - no web ACL
   */
  readonly webAclId?: string;
}

/** Properties of an {@link UploadDelivery}: what it serves, from where, with which headers. */
export interface UploadDeliveryProps extends UploadDeliveryOptions {
  /** The bucket uploads land in; read through Origin Access Control (the bucket policy allows this distribution). */
  readonly bucket: s3.IBucket;

  /**
   * The key prefix uploads are stored under. With `existingDistribution` the behaviour serves `<prefix>/*`.
   *
   * @default 'uploads'
   */
  readonly uploadPrefix?: string;

  /**
   * Serve uploads from this distribution of yours, under `<uploadPrefix>/*` (same headers, same gate),
   * instead of a distribution of their own. Produces a synth warning: user content on your application's
   * domain shares its origin (cookies scoped to the domain, same-origin script access if the sandboxing
   * CSP were ever bypassed). Error caching (TTL 0 for 403/404) is the distribution's: set it there.
   * Cannot be combined with `domainNames`, `certificate`, `priceClass` or `webAclId`.
   *
   * @default - a new distribution, on its own domain
   */
  readonly existingDistribution?: cloudfront.Distribution;
}

/** The delivery's secure baseline, in one place. */
const DELIVERY_DEFAULTS = {
  uploadPrefix: DEFAULT_PREFIX,
  inlineContentTypes: DEFAULT_INLINE_CONTENT_TYPES,
  priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
  cacheTtl: Duration.days(365),
} as const;

/** Problems of the delivery's props, each naming the prop and the fix. */
export function uploadDeliveryProblems(props: UploadDeliveryOptions & { readonly existingDistribution?: cloudfront.Distribution }): string[] {
  const domains = (props.domainNames?.length ?? 0) > 0;
  const conflicts = (['domainNames', 'certificate', 'priceClass', 'webAclId'] as const).filter((p) => props[p] !== undefined);
  return found(
    requiresProblem(domains && !props.certificate, 'domainNames requires certificate (an ACM certificate in us-east-1 covering them).'),
    requiresProblem(Boolean(props.certificate) && !domains, 'certificate requires domainNames (the names it covers).'),
    headerValueProblem('cacheControl', props.cacheControl),
    headerValueProblem('contentSecurityPolicy', props.contentSecurityPolicy),
    contentTypeProblems('inlineContentTypes', props.inlineContentTypes),
    requiresProblem(Boolean(props.existingDistribution) && conflicts.length > 0,
      `existingDistribution cannot be combined with ${conflicts.join(', ')}: those are settings of your distribution; set them there.`),
  );
}

/**
 * Delivery of uploaded files: a CloudFront distribution reading the bucket through Origin Access Control
 * (HTTPS only, GET/HEAD, cached a year on the path only, origin 403/404 never cached), with immutable
 * cache and security headers, a forced `Content-Disposition`, and headers an uploader could have stored
 * removed or overridden. Or the same behaviour on a distribution you already have.
 *
 * @example
 * const delivery = new UploadDelivery(this, 'Delivery', { bucket });
 */
export class UploadDelivery extends Construct {
  /** The distribution serving uploads (the one given as `existingDistribution`, or a new one). */
  public readonly distribution: cloudfront.Distribution;
  /** Base URL the files are served from, e.g. `https://d1234.cloudfront.net`, without a trailing slash. */
  public readonly url: string;
  /** Cache policy: a year, keyed on the path only. */
  public readonly cachePolicy: cloudfront.CachePolicy;
  /** Response headers: immutable caching, security headers, uploader-stored headers removed. */
  public readonly responseHeadersPolicy: cloudfront.ResponseHeadersPolicy;
  /** The viewer-response function that sets `Content-Disposition`. */
  public readonly contentDispositionFunction: cloudfront.Function;

  constructor(scope: Construct, id: string, props: UploadDeliveryProps) {
    super(scope, id);
    throwIfProblems('UploadDelivery', uploadDeliveryProblems(props));
    const d = DELIVERY_DEFAULTS;
    this.warnAboutChoices(props);

    this.cachePolicy = new cloudfront.CachePolicy(this, 'CachePolicy', {
      comment: 'Immutable uploads: keys are never reused, so cache for a year',
      defaultTtl: d.cacheTtl,
      maxTtl: d.cacheTtl,
      // Browsers add `Cache-Control: max-age=0` to a write-once PUT and S3 stores it: never let a stored
      // header shorten the edge cache of an immutable key.
      minTtl: d.cacheTtl,
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
    });
    this.responseHeadersPolicy = this.createResponseHeadersPolicy(props);
    this.contentDispositionFunction = new cloudfront.Function(this, 'ContentDispositionFunction', {
      comment: 'cdk-direct-upload: Content-Disposition inline for inline types, attachment otherwise',
      code: cloudfront.FunctionCode.fromInline(contentDispositionFunctionCode(props.inlineContentTypes ?? [...d.inlineContentTypes])),
    });
    const behavior: cloudfront.BehaviorOptions = {
      origin: origins.S3BucketOrigin.withOriginAccessControl(props.bucket),
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
      cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
      cachePolicy: this.cachePolicy,
      responseHeadersPolicy: this.responseHeadersPolicy,
      compress: true,
      functionAssociations: [{ function: this.contentDispositionFunction, eventType: cloudfront.FunctionEventType.VIEWER_RESPONSE }],
    };

    if (props.existingDistribution) {
      props.existingDistribution.addBehavior(`${props.uploadPrefix ?? d.uploadPrefix}/*`, behavior.origin, behavior);
      this.distribution = props.existingDistribution;
      this.url = `https://${this.distribution.distributionDomainName}`;
      return;
    }
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'cdk-direct-upload: uploaded files',
      defaultBehavior: behavior,
      // S3 answers 403 until the verifier tags an upload: never cache that (CloudFront caches errors for
      // 10 s by default), so a client polling publicUrl sees the file as soon as it is verified.
      errorResponses: [403, 404].map((httpStatus) => ({ httpStatus, ttl: Duration.seconds(0) })),
      domainNames: props.domainNames,
      certificate: props.certificate,
      // Only with a certificate: for *.cloudfront.net CloudFront fixes the TLS policy, and newer aws-cdk-lib
      // warns when one is set without a certificate.
      minimumProtocolVersion: props.certificate ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: props.priceClass ?? d.priceClass,
      webAclId: props.webAclId,
    });
    this.url = `https://${props.domainNames?.[0] ?? this.distribution.distributionDomainName}`;
    this.acknowledgeEncryptionKeyWildcard(props.bucket);
    this.acknowledgeDistribution(props);
  }

  private createResponseHeadersPolicy(props: UploadDeliveryProps): cloudfront.ResponseHeadersPolicy {
    const headers = deliveryHeaders({ cacheControl: props.cacheControl, contentSecurityPolicy: props.contentSecurityPolicy });
    return new cloudfront.ResponseHeadersPolicy(this, 'ResponseHeadersPolicy', {
      comment: 'User-supplied files: immutable caching and security headers',
      customHeadersBehavior: {
        customHeaders: [{ header: 'Cache-Control', value: headers['cache-control'], override: true }],
      },
      removeHeaders: [...REMOVED_RESPONSE_HEADERS],
      securityHeadersBehavior: {
        contentTypeOptions: { override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.seconds(HSTS_MAX_AGE_SECONDS),
          includeSubdomains: true,
          override: true,
        },
        contentSecurityPolicy: { contentSecurityPolicy: headers['content-security-policy'], override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });
  }

  /**
   * With SSE-KMS, S3BucketOrigin scopes the key policy to every distribution of the account (a key →
   * distribution → bucket → key cycle rules out the exact id). Reads stay limited to this distribution
   * by the bucket policy, which names it: the warning is about aws-cdk-lib's wiring, not a user's choice.
   */
  private acknowledgeEncryptionKeyWildcard(bucket: s3.IBucket): void {
    if (!bucket.encryptionKey) return;
    Annotations.of(bucket.encryptionKey.node.scope ?? this).acknowledgeWarning(
      '@aws-cdk/aws-cloudfront-origins:wildcardKeyPolicyForOac',
      'The bucket policy limits CloudFront reads to this distribution; the key policy wildcard only avoids a deployment cycle.',
    );
  }

  /** CloudFront findings that depend on choices only the user can make. */
  private acknowledgeDistribution(props: UploadDeliveryProps): void {
    acknowledge(this.distribution, [
      { id: 'AwsSolutions-CFR1', reason: 'Uploads are served to the application\'s users wherever they are; add geo restrictions on the exposed distribution if your audience is regional.' },
      { id: 'AwsSolutions-CFR3', reason: 'CloudFront standard logs need an ACL-enabled bucket; S3 server access logs and API access logs already record every write. Enable distribution logging on the exposed distribution if you need read logs.' },
      ...(props.webAclId ? [] : [{ id: 'AwsSolutions-CFR2', reason: 'No web ACL given (webAclId): the distribution serves static, immutable objects only (GET/HEAD) through OAC; attach a WAF web ACL with webAclId where required.' }]),
      ...(props.certificate ? [] : [{ id: 'AwsSolutions-CFR4', reason: 'Without a custom domain the distribution uses the *.cloudfront.net certificate, whose TLS policy CloudFront fixes; with certificate set, TLSv1.2_2021 is enforced.' }]),
    ]);
  }

  private warnAboutChoices(props: UploadDeliveryProps): void {
    const inline = (props.inlineContentTypes ?? []).filter((t) => ACTIVE_CONTENT_TYPES.includes(t));
    if (inline.length > 0) {
      Annotations.of(this).addWarningV2(
        'cdk-direct-upload:activeInlineTypes',
        `inlineContentTypes contains ${inline.join(', ')}: such files are rendered (sandboxed by the CSP) on your CDN domain instead of downloaded.`,
      );
    }
    if (props.existingDistribution) {
      Annotations.of(this).addWarningV2(
        'cdk-direct-upload:existingDistribution',
        'existingDistribution is set: uploaded files are served on your application\'s own domain, where a file that escaped the sandboxing CSP would run with your origin\'s cookies and storage. Prefer a distribution of their own. Set 403/404 error caching to 0 on your distribution, or a verified upload can look missing for 10 s.',
      );
    }
  }
}

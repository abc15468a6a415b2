import {
  Annotations,
  Aws,
  CfnOutput,
  Duration,
  Fn,
  RemovalPolicy,
  Size,
  SizeRoundingBehavior,
  Stack,
  Token,
  aws_apigatewayv2 as apigwv2,
  aws_apigatewayv2_authorizers as authorizers,
  aws_apigatewayv2_integrations as integrations,
  aws_certificatemanager as acm,
  aws_cloudfront as cloudfront,
  aws_cloudfront_origins as origins,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cwactions,
  aws_dynamodb as dynamodb,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_lambda_event_sources as eventsources,
  aws_logs as logs,
  aws_s3 as s3,
  aws_s3_notifications as s3n,
  aws_sns as sns,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import {
  DEFAULT_INLINE_CONTENT_TYPES,
  HSTS_MAX_AGE_SECONDS,
  REMOVED_RESPONSE_HEADERS,
  contentDispositionFunctionCode,
  deliveryHeaders,
  uploadCorsRules,
} from './delivery';
import { acknowledge, acknowledgePrefixWildcard } from './nag';
import {
  ACTIVE_CONTENT_TYPES,
  AuthMode,
  BUCKET_ENV,
  DEFAULT_ALLOWED_CONTENT_TYPES,
  DEFAULT_IDENTITY_CLAIM,
  DEFAULT_MAX_FILE_SIZE,
  DEFAULT_PREFIX,
  DEFAULT_URL_EXPIRY_SECONDS,
  DEFAULT_MULTIPART_THRESHOLD,
  DEFAULT_PART_SIZE,
  MAX_OBJECT_SIZE,
  multipartProblems,
  MAX_URL_EXPIRY_SECONDS,
  MIN_URL_EXPIRY_SECONDS,
  POLICY_ENV,
  PUBLIC_BASE_URL_ENV,
  URL_SUFFIX_ENV,
  UploadPolicy,
  isValidContentType,
  prefixProblem,
  serializePolicy,
} from './policy';
import {
  DEAD_LETTER_RETENTION_SECONDS,
  DEFAULT_MAX_RECEIVE_COUNT,
  DEFAULT_QUEUE_RETENTION_SECONDS,
  DEFAULT_VISIBILITY_TIMEOUT_SECONDS,
} from './queue-defaults';
import { SIGNER_PATHS, UPLOADS_PATH } from './signer/protocol';
import { QUOTA_ENV, QUOTA_KEY_ATTRIBUTE, QUOTA_TTL_ATTRIBUTE } from './signer/quota';
import { SignerFunction } from './signer/signer-function';
import {
  REJECTED_OBJECTS_ENV,
  REJECTION_QUEUE_URL_ENV,
  TAG_KEY_PREFIX,
  VERIFIED_QUEUE_URL_ENV,
  VERIFIED_TAG,
  VERIFIED_VALUE,
} from './verifier/protocol';
import { VerifierFunction } from './verifier/verifier-function';

/**
 * A per-caller upload quota: at most `maxUploads` new uploads per caller in each fixed `window`.
 * Counted in a DynamoDB table with one conditional, atomic `UpdateItem` per new upload (single PUT, POST
 * form, multipart create, Uppy PutObject / CreateMultipartUpload; never per part). Over the quota the
 * signer answers `429 QUOTA_EXCEEDED` with `retry-after`; when DynamoDB cannot be reached it refuses with
 * `503 SERVICE_UNAVAILABLE` (fails closed). The caller is the identity that scopes keys (JWT claim, IAM
 * principal); anonymous callers are counted per source IP.
 */
export interface UploadQuotaOptions {
  /**
   * Most new uploads one caller may start per window: an integer from 1 to 1,000,000.
   */
  readonly maxUploads: number;

  /**
   * Length of the fixed window, a whole number of seconds from 1 second to 31 days. Windows are aligned
   * to multiples of this length since the Unix epoch (e.g. whole hours for `Duration.hours(1)`).
   */
  readonly window: Duration;
}

/**
 * Properties for a {@link DirectUploadBucket}. Every property is optional: the defaults are the
 * secure baseline (see the README's "Secure defaults" table).
 */
export interface DirectUploadBucketProps {
  // ---------------------------------------------------------------- upload policy
  /**
   * Key prefix every upload is stored under (`<prefix>/<caller>/<uuid><ext>`). No leading or trailing
   * slash, no `.`/`..` segments.
   *
   * @default 'uploads'
   */
  readonly uploadPrefix?: string;

  /**
   * Content types (`type/subtype`, lower case, no parameters) the signer accepts. The key's extension
   * comes from the type. `image/svg+xml` and `text/html` run script when served inline: allowing them
   * is possible but produces a synth warning.
   *
   * @default - image/jpeg, image/png, image/webp, image/gif, image/avif
   */
  readonly allowedContentTypes?: string[];

  /**
   * Largest accepted file. Enforced by S3 through the signed `content-length`.
   *
   * @default Size.mebibytes(25)
   */
  readonly maxFileSize?: Size;

  /**
   * Lifetime of a presigned request, between 1 second and 1 hour. URLs signed with the signer's
   * temporary credentials stop working when those credentials expire, so longer values would lie.
   *
   * @default Duration.minutes(5)
   */
  readonly urlExpiry?: Duration;

  /**
   * Files larger than this are uploaded in parts: `POST /uploads` returns a multipart plan (upload id,
   * part size, presigned part URLs) instead of a single PUT. At most 5 GiB (S3's largest single PUT).
   *
   * @default Size.mebibytes(100)
   * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html
   */
  readonly multipartThreshold?: Size;

  /**
   * Part size of multipart plans, from 5 MiB to 5 GiB. The signer grows it (to whole MiB) for a file that
   * would need more than 10,000 parts.
   *
   * @default Size.mebibytes(16)
   */
  readonly multipartPartSize?: Size;

  /**
   * Let the Uppy route (`POST /uppy/sign`) sign `DeleteObject` for the caller's own keys (Uppy asks for
   * it when a user removes an uploaded file). Grants the signer `s3:DeleteObject` on the upload prefix.
   *
   * @default false
   */
  readonly allowDeleteObject?: boolean;

  // ---------------------------------------------------------------- who may upload
  /**
   * Browser origins allowed to call the signer and upload to the bucket (CORS), e.g.
   * `https://app.example.com`. `http://` is accepted for `localhost` and `127.0.0.1` only.
   * `*` is accepted with a synth warning.
   *
   * @default - no browser origin: only non-browser clients can upload
   */
  readonly allowedOrigins?: string[];

  /**
   * Authorizer for the signer route, e.g. an `HttpJwtAuthorizer`. The caller's identity (JWT claim
   * `identityClaim`, or the Lambda authorizer's context key of that name) scopes its keys.
   *
   * @default - IAM authorization (SigV4); grant callers with `grantInvokeSigner()`
   */
  readonly authorizer?: apigwv2.IHttpRouteAuthorizer;

  /**
   * Let anyone on the internet obtain upload URLs. Keys then share the scope `anonymous`.
   * Produces a synth warning; cannot be combined with `authorizer`.
   *
   * @default false
   */
  readonly allowAnonymousUploads?: boolean;

  /**
   * The JWT claim (or Lambda authorizer context key) that identifies the caller, when `authorizer` is set.
   *
   * @default 'sub'
   */
  readonly identityClaim?: string;

  /**
   * Throttling of the signer API (all routes of the default stage).
   *
   * @default - 500 requests per second, burst 1000
   */
  readonly throttle?: apigwv2.ThrottleSettings;

  /**
   * Limit how many uploads each caller may start per time window (a DynamoDB counter, see
   * {@link UploadQuotaOptions}). Route throttling (`throttle`) bounds the total request rate; the quota
   * bounds what one authenticated caller can do with it.
   *
   * @default - no per-caller quota
   */
  readonly uploadQuota?: UploadQuotaOptions;

  /**
   * Memory of the signer function, in MiB (CPU scales with it).
   *
   * @default 256
   */
  readonly signerMemorySize?: number;

  /**
   * Retention of the signer's function logs and API access logs.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  // ---------------------------------------------------------------- operations
  /**
   * Create CloudWatch alarms: dead-letter queue not empty, signer function errors, signer API 5xx,
   * a spike of signer API 4xx (`clientErrorAlarmThreshold`), and verifier function errors.
   *
   * @default true
   */
  readonly createAlarms?: boolean;

  /**
   * SNS topic notified when an alarm fires and when it recovers. Requires `createAlarms`.
   *
   * @default - no alarm actions (the alarms are visible in the CloudWatch console only)
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * The 4xx responses of the signer API in 5 minutes above which the client-error alarm fires
   * (rejected types and sizes, unknown routes, throttled or over-quota callers, failed authorization).
   * Set it above your normal level.
   *
   * @default 100
   */
  readonly clientErrorAlarmThreshold?: number;

  // ---------------------------------------------------------------- bucket
  /**
   * Physical bucket name. Must not contain dots while `transferAcceleration` is on.
   *
   * @default - generated by CloudFormation
   */
  readonly bucketName?: string;

  /**
   * Upload through the S3 Transfer Acceleration endpoint (faster for distant clients; billed per GB).
   *
   * @default true
   * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/transfer-acceleration.html
   */
  readonly transferAcceleration?: boolean;

  /**
   * Customer-managed KMS key for SSE-KMS. The key policy is extended so CloudFront (OAC) can decrypt;
   * the signer's role may generate data keys. The key must live in the same stack for that.
   *
   * @default - SSE-S3 (S3-managed keys)
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Write S3 server access logs.
   *
   * @default true
   */
  readonly serverAccessLogs?: boolean;

  /**
   * Bucket receiving the server access logs (it must allow `logging.s3.amazonaws.com` to write).
   *
   * @default - a new, private, SSL-only bucket when `serverAccessLogs` is true
   */
  readonly serverAccessLogsBucket?: s3.IBucket;

  /**
   * What happens to the buckets when the stack is deleted.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Empty the buckets on stack deletion (requires `removalPolicy: RemovalPolicy.DESTROY`).
   *
   * @default false
   */
  readonly autoDeleteObjects?: boolean;

  // ---------------------------------------------------------------- notifications
  /**
   * Receives before a notification moves to the dead-letter queue.
   *
   * @default 5
   */
  readonly maxReceiveCount?: number;

  /**
   * Visibility timeout of the notification queue: how long a consumer has to process one message.
   * Set it to at least six times your consumer Lambda's timeout.
   *
   * @default Duration.minutes(5)
   */
  readonly queueVisibilityTimeout?: Duration;

  /**
   * How long unconsumed notifications are kept.
   *
   * @default Duration.days(4)
   */
  readonly queueRetentionPeriod?: Duration;

  // ---------------------------------------------------------------- CDN
  /**
   * `Cache-Control` the CDN sends for every object. Keys are never reused, so objects are immutable.
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
   * Custom domain names for the CDN (requires `certificate`, in us-east-1).
   *
   * @default - the distribution's cloudfront.net domain
   */
  readonly domainNames?: string[];

  /**
   * ACM certificate (us-east-1) covering `domainNames`.
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

  // ---------------------------------------------------------------- upload verification
  /**
   * Verify every upload before the CDN serves it or consumers hear of it. A verifier function reads the
   * first bytes of each new object (ranged GET) and checks that they are what the declared and allowed
   * content type says (magic bytes; HTML/SVG/XML/script recognised as active content), that the file is
   * not truncated or empty, and that size and key follow the upload policy. A verified object is tagged
   * `direct-upload:verified=true` — the bucket policy lets CloudFront read only such objects under the
   * prefix — and its S3 event, with a `verification` result, is sent to `queue`. A rejected object is
   * deleted (or retained, see `rejectedUploadRetention`) and a record is sent to `rejectionQueue`.
   *
   * With `false`, S3 notifies `queue` directly and the CDN serves every object (a synth warning says so).
   *
   * @default true
   */
  readonly verifyUploads?: boolean;

  /**
   * Keep rejected uploads for this long (whole days) instead of deleting them at once, for forensics:
   * they stay where they are, tagged `direct-upload:verified=false` (never served by the CDN, never
   * announced on `queue`), and a lifecycle rule expires them. Requires `verifyUploads`.
   *
   * @default - rejected uploads are deleted as soon as the rejection is recorded
   */
  readonly rejectedUploadRetention?: Duration;

  /**
   * Content types the CDN serves inline (`Content-Disposition: inline`). Every other type is served with
   * `Content-Disposition: attachment`, so a browser downloads a PDF or ZIP instead of rendering it on your
   * CDN domain. A CloudFront Function (viewer response) sets the header on every response, replacing any
   * disposition stored with the object.
   *
   * @default - image/jpeg, image/png, image/webp, image/gif, image/avif
   */
  readonly inlineContentTypes?: string[];
}

/** The secure baseline, in one place. */
const DEFAULTS = {
  uploadPrefix: DEFAULT_PREFIX,
  allowedContentTypes: DEFAULT_ALLOWED_CONTENT_TYPES,
  maxFileSize: Size.bytes(DEFAULT_MAX_FILE_SIZE),
  urlExpiry: Duration.seconds(DEFAULT_URL_EXPIRY_SECONDS),
  allowedOrigins: [] as string[],
  allowAnonymousUploads: false,
  identityClaim: DEFAULT_IDENTITY_CLAIM,
  throttle: { rateLimit: 500, burstLimit: 1000 },
  signerMemorySize: 256,
  logRetention: logs.RetentionDays.ONE_MONTH,
  transferAcceleration: true,
  serverAccessLogs: true,
  removalPolicy: RemovalPolicy.RETAIN,
  autoDeleteObjects: false,
  maxReceiveCount: DEFAULT_MAX_RECEIVE_COUNT,
  queueVisibilityTimeout: Duration.seconds(DEFAULT_VISIBILITY_TIMEOUT_SECONDS),
  queueRetentionPeriod: Duration.seconds(DEFAULT_QUEUE_RETENTION_SECONDS),
  priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
  verifyUploads: true,
  inlineContentTypes: DEFAULT_INLINE_CONTENT_TYPES,
  verifierMemorySize: 256,
  verifierTimeout: Duration.seconds(30),
  rejectionRetention: Duration.days(14),
  multipartThreshold: Size.bytes(DEFAULT_MULTIPART_THRESHOLD),
  multipartPartSize: Size.bytes(DEFAULT_PART_SIZE),
  allowDeleteObject: false,
  // The signer answers by itself within ~17 s even when S3 hangs (bounded SDK calls, see
  // signer/multipart.ts); the function timeout is the backstop, and the API waits a little longer than
  // the function so the function is never left running after the client got its answer.
  signerTimeout: Duration.seconds(20),
  apiIntegrationTimeout: Duration.seconds(25),
  createAlarms: true,
  clientErrorAlarmThreshold: 100,
} as const;

/**
 * Direct-to-S3 uploads, in one statement: a private bucket, a signing Lambda behind an HTTP API that
 * issues presigned requests S3 itself enforces, ObjectCreated notifications on an SQS queue with a
 * dead-letter queue, and a CloudFront distribution (OAC) that serves the files with immutable cache
 * and security headers. The application server never carries the bytes.
 *
 * @example
 * const uploads = new DirectUploadBucket(this, 'Uploads', {
 *   allowedOrigins: ['https://app.example.com'],
 * });
 * uploads.grantConsumeUploads(worker);
 */
export class DirectUploadBucket extends Construct {
  /** The bucket uploads land in. */
  public readonly bucket: s3.Bucket;
  /** The bucket receiving server access logs, when this construct created one. */
  public readonly accessLogsBucket?: s3.Bucket;
  /** ObjectCreated notifications for the upload prefix. */
  public readonly queue: sqs.Queue;
  /** Notifications that failed `maxReceiveCount` times. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The CDN serving uploaded files. */
  public readonly distribution: cloudfront.Distribution;
  /** The signing function. */
  public readonly signerFunction: lambda.Function;
  /** The signer's HTTP API. */
  public readonly api: apigwv2.HttpApi;
  /** Base URL of the signer API (`POST {signerUrl}/uploads`), without a trailing slash. */
  public readonly signerUrl: string;
  /** Base URL the files are served from, e.g. `https://d1234.cloudfront.net`, without a trailing slash. */
  public readonly cdnUrl: string;
  /** The key prefix uploads are stored under (no trailing slash). */
  public readonly uploadPrefix: string;
  /** The upload verifier, when `verifyUploads` is on. */
  public readonly verifierFunction?: lambda.Function;
  /** The verifier's input: raw ObjectCreated notifications (internal; consume `queue` instead). */
  public readonly verificationQueue?: sqs.Queue;
  /**
   * Records of rejected uploads (key, reason code and message, declared and detected type, the S3 event),
   * when `verifyUploads` is on. Kept 14 days; alarm on it or consume it for auditing.
   */
  public readonly rejectionQueue?: sqs.Queue;
  /** The upload counters, when `uploadQuota` is set. */
  public readonly quotaTable?: dynamodb.Table;
  /** Every alarm this construct created (empty with `createAlarms: false`). */
  public readonly alarms: cloudwatch.Alarm[];
  /** The dead-letter queue holds messages (a notification or verification failed `maxReceiveCount` times). */
  public readonly deadLetterQueueAlarm?: cloudwatch.Alarm;
  /** The signer function failed (errors or timeouts). */
  public readonly signerErrorsAlarm?: cloudwatch.Alarm;
  /** The signer API answered 5xx (including 503 when S3 or the quota table is unavailable). */
  public readonly serverErrorsAlarm?: cloudwatch.Alarm;
  /** The signer API answered more 4xx than `clientErrorAlarmThreshold` in 5 minutes. */
  public readonly clientErrorsAlarm?: cloudwatch.Alarm;
  /** The verifier function failed (errors or timeouts), when `verifyUploads` is on. */
  public readonly verifierErrorsAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: DirectUploadBucketProps = {}) {
    super(scope, id);
    // Server access logs are delivered through a bucket policy (not ACLs) whatever the app's feature
    // flags say: ACL-based delivery fails on buckets with ACLs disabled. Must precede any child.
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);

    validateProps(props);

    const prefix = props.uploadPrefix ?? DEFAULTS.uploadPrefix;
    const allowedContentTypes = props.allowedContentTypes ?? [...DEFAULTS.allowedContentTypes];
    const allowedOrigins = props.allowedOrigins ?? DEFAULTS.allowedOrigins;
    const anonymous = props.allowAnonymousUploads ?? DEFAULTS.allowAnonymousUploads;
    const accelerate = props.transferAcceleration ?? DEFAULTS.transferAcceleration;
    const serverAccessLogs = props.serverAccessLogs ?? DEFAULTS.serverAccessLogs;
    const removalPolicy = props.removalPolicy ?? DEFAULTS.removalPolicy;
    const autoDeleteObjects = props.autoDeleteObjects ?? DEFAULTS.autoDeleteObjects;
    const logRetention = props.logRetention ?? DEFAULTS.logRetention;
    this.uploadPrefix = prefix;

    this.warnAboutChoices(props, allowedContentTypes, allowedOrigins, anonymous);

    // ------------------------------------------------------------------ buckets
    if (serverAccessLogs && !props.serverAccessLogsBucket) {
      this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        encryption: s3.BucketEncryption.S3_MANAGED, // server access logs support SSE-S3 only
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(365) }],
        removalPolicy,
        autoDeleteObjects,
      });
      acknowledge(this.accessLogsBucket, [
        { id: 'AwsSolutions-S1', reason: 'This is the server access log bucket itself; logging it into itself would loop.' },
      ]);
    }

    const corsRules = uploadCorsRules(allowedOrigins).map((rule) => ({
      allowedOrigins: rule.allowedOrigins,
      allowedMethods: rule.allowedMethods.map((m) => m as s3.HttpMethods),
      allowedHeaders: rule.allowedHeaders,
      exposedHeaders: rule.exposedHeaders,
      maxAge: rule.maxAgeSeconds,
    }));

    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: props.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: props.encryptionKey ? true : undefined,
      transferAcceleration: accelerate,
      cors: corsRules.length > 0 ? corsRules : undefined,
      // Versioned, so the verifier reads and tags one exact version and an overwrite can never inherit the
      // verified tag; versions nobody serves any more expire after a day.
      versioned: true,
      lifecycleRules: [
        { id: 'AbortIncompleteMultipartUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { id: 'ExpireNoncurrentVersions', noncurrentVersionExpiration: Duration.days(1), expiredObjectDeleteMarker: true },
      ],
      serverAccessLogsBucket: serverAccessLogs ? props.serverAccessLogsBucket ?? this.accessLogsBucket : undefined,
      serverAccessLogsPrefix: serverAccessLogs ? 'upload-bucket/' : undefined,
      removalPolicy,
      autoDeleteObjects,
    });
    // Write-once, enforced by S3: a PutObject or CompleteMultipartUpload under the prefix without
    // If-None-Match is denied, whoever signed it. Multipart create/part uploads cannot carry the header
    // (s3:ObjectCreationOperation is false for them); POST forms cannot either, so they are exempt
    // (s3:authType POST): their policy pins one fresh key and expires with urlExpiry, and in this versioned
    // bucket a replayed form only adds a new, untagged version the verifier checks again.
    this.bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyOverwritingUploads',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:PutObject'],
      resources: [this.bucket.arnForObjects(`${prefix}/*`)],
      conditions: {
        Null: { 's3:if-none-match': 'true' },
        Bool: { 's3:ObjectCreationOperation': 'true' },
        StringNotEquals: { 's3:authType': 'POST' },
      },
    }));
    if (!serverAccessLogs) {
      acknowledge(this.bucket, [
        { id: 'AwsSolutions-S1', reason: 'Server access logs were turned off explicitly with serverAccessLogs: false.' },
        { id: 'HIPAA.Security-S3BucketLoggingEnabled', reason: 'Server access logs were turned off explicitly with serverAccessLogs: false.' },
        { id: 'NIST.800.53.R5-S3BucketLoggingEnabled', reason: 'Server access logs were turned off explicitly with serverAccessLogs: false.' },
      ]);
    }

    // ------------------------------------------------------------------ notifications
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(DEAD_LETTER_RETENTION_SECONDS),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: props.queueVisibilityTimeout ?? DEFAULTS.queueVisibilityTimeout,
      retentionPeriod: props.queueRetentionPeriod ?? DEFAULTS.queueRetentionPeriod,
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        maxReceiveCount: props.maxReceiveCount ?? DEFAULTS.maxReceiveCount,
      },
    });
    const verify = props.verifyUploads ?? DEFAULTS.verifyUploads;
    if (verify) {
      const verification = this.createVerifier(props, prefix, logRetention);
      this.verifierFunction = verification.verifierFunction;
      this.verificationQueue = verification.verificationQueue;
      this.rejectionQueue = verification.rejectionQueue;
    }
    this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(this.verificationQueue ?? this.queue), {
      prefix: `${prefix}/`,
    });
    this.acknowledgeCdkInternals();

    // ------------------------------------------------------------------ CDN
    const headers = deliveryHeaders({
      cacheControl: props.cacheControl,
      contentSecurityPolicy: props.contentSecurityPolicy,
    });
    const cachePolicy = new cloudfront.CachePolicy(this, 'CachePolicy', {
      comment: 'Immutable uploads: keys are never reused, so cache for a year',
      defaultTtl: Duration.days(365),
      maxTtl: Duration.days(365),
      minTtl: Duration.seconds(0),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
    });
    const responseHeadersPolicy = new cloudfront.ResponseHeadersPolicy(this, 'ResponseHeadersPolicy', {
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
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'cdk-direct-upload: uploaded files',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
        cachePolicy,
        responseHeadersPolicy,
        compress: true,
        functionAssociations: this.contentDispositionFunctions(props.inlineContentTypes ?? [...DEFAULTS.inlineContentTypes]),
      },
      // S3 answers 403 until the verifier tags an upload: never cache that (CloudFront caches errors for
      // 10 s by default), so a client polling publicUrl sees the file as soon as it is verified.
      errorResponses: [403, 404].map((httpStatus) => ({ httpStatus, ttl: Duration.seconds(0) })),
      domainNames: props.domainNames,
      certificate: props.certificate,
      // Only with a certificate: for *.cloudfront.net CloudFront fixes the TLS policy, and newer aws-cdk-lib
      // warns when one is set without a certificate.
      minimumProtocolVersion: props.certificate ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: props.priceClass ?? DEFAULTS.priceClass,
      webAclId: props.webAclId,
    });
    this.acknowledgeDistribution(props);
    if (props.encryptionKey) {
      // S3BucketOrigin scopes the key policy to every distribution of the account (a key → distribution →
      // bucket → key cycle rules out the exact id). Reads stay limited to this distribution by the bucket
      // policy, which names it; the warning is about aws-cdk-lib's wiring, not a choice of the user.
      Annotations.of(props.encryptionKey.node.scope ?? this).acknowledgeWarning(
        '@aws-cdk/aws-cloudfront-origins:wildcardKeyPolicyForOac',
        'The bucket policy limits CloudFront reads to this distribution; the key policy wildcard only avoids a deployment cycle.',
      );
    }
    this.cdnUrl = `https://${props.domainNames?.[0] ?? this.distribution.distributionDomainName}`;

    // ------------------------------------------------------------------ signer
    const policy = this.uploadPolicy(props, prefix);

    const signerLogGroup = new logs.LogGroup(this, 'SignerLogGroup', {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const signerRole = new iam.Role(this, 'SignerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'cdk-direct-upload signer: presigns uploads (single, form, multipart) under the upload prefix',
    });
    signerLogGroup.grantWrite(signerRole);
    // Presigned requests carry the signer's permissions: PutObject under the prefix (it also covers
    // CreateMultipartUpload, UploadPart and CompleteMultipartUpload), listing and aborting multipart
    // uploads there, and DeleteObject only when the Uppy route may sign it.
    signerRole.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: [
        's3:PutObject',
        's3:AbortMultipartUpload',
        's3:ListMultipartUploadParts',
        ...(props.allowDeleteObject ?? DEFAULTS.allowDeleteObject ? ['s3:DeleteObject'] : []),
      ],
      resources: [this.bucket.arnForObjects(`${prefix}/*`)],
    }));
    // SSE-KMS: a single PUT needs GenerateDataKey; multipart uploads also need Decrypt (S3 decrypts the
    // data key to encrypt each part and to complete the upload).
    props.encryptionKey?.grant(signerRole, 'kms:GenerateDataKey', 'kms:Decrypt');

    const quotaEnvironment: Record<string, string> = {};
    if (props.uploadQuota) {
      this.quotaTable = this.createQuotaTable(removalPolicy);
      // One conditional UpdateItem per new upload; nothing else (no reads, no deletes: TTL expires items).
      signerRole.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['dynamodb:UpdateItem'],
        resources: [this.quotaTable.tableArn],
      }));
      quotaEnvironment[QUOTA_ENV] = Stack.of(this).toJsonString({
        table: this.quotaTable.tableName,
        maxUploads: props.uploadQuota.maxUploads,
        windowSeconds: props.uploadQuota.window.toSeconds(),
      });
    }

    this.signerFunction = new SignerFunction(this, 'Signer', {
      description: 'cdk-direct-upload: signs direct-to-S3 upload requests',
      role: signerRole,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.signerMemorySize ?? DEFAULTS.signerMemorySize,
      timeout: DEFAULTS.signerTimeout,
      logGroup: signerLogGroup,
      environment: {
        [POLICY_ENV]: serializePolicy(policy),
        [BUCKET_ENV]: this.bucket.bucketName,
        [PUBLIC_BASE_URL_ENV]: this.cdnUrl,
        [URL_SUFFIX_ENV]: Aws.URL_SUFFIX,
        NODE_OPTIONS: '--enable-source-maps',
        ...quotaEnvironment,
      },
    });
    acknowledgePrefixWildcard(signerRole, {
      bucket: this.bucket,
      prefix,
      logGroup: signerLogGroup,
      reason: 'Keys are chosen per request by the signer (<prefix>/<caller>/<uuid>), so PutObject is granted on the upload prefix; nothing outside it. The log stream wildcard is the function\'s own log group.',
    });
    acknowledge(this.signerFunction, [
      {
        id: 'AwsSolutions-L1',
        reason: 'The runtime is pinned to nodejs22.x on purpose: the bundle is built for exactly that target at build time.',
      },
    ]);

    const accessLogGroup = new logs.LogGroup(this, 'ApiAccessLogGroup', {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: 'cdk-direct-upload signer',
      createDefaultStage: false,
      corsPreflight: allowedOrigins.length > 0 ? {
        allowOrigins: allowedOrigins,
        allowMethods: [apigwv2.CorsHttpMethod.POST],
        allowHeaders: ['authorization', 'content-type', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'],
        maxAge: Duration.hours(1),
      } : undefined,
    });
    const stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? DEFAULTS.throttle,
    });
    // No L2 property for HTTP API access logs at the supported aws-cdk-lib floor: set the L1 property.
    (stage.node.defaultChild as apigwv2.CfnStage).accessLogSettings = {
      destinationArn: accessLogGroup.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        ip: '$context.identity.sourceIp',
        requestTime: '$context.requestTime',
        httpMethod: '$context.httpMethod',
        routeKey: '$context.routeKey',
        status: '$context.status',
        responseLength: '$context.responseLength',
        integrationError: '$context.integrationErrorMessage',
        principal: '$context.authorizer.principalId',
        iamUser: '$context.identity.userArn',
      }),
    };
    // Every route: the same function, the same authorizer (each route checks the caller's scope itself).
    const integration = new integrations.HttpLambdaIntegration('SignerIntegration', this.signerFunction, {
      timeout: DEFAULTS.apiIntegrationTimeout,
    });
    const routeAuthorizer = props.authorizer ?? (anonymous ? new apigwv2.HttpNoneAuthorizer() : new authorizers.HttpIamAuthorizer());
    for (const path of SIGNER_PATHS) {
      this.api.addRoutes({ path, methods: [apigwv2.HttpMethod.POST], integration, authorizer: routeAuthorizer });
    }
    if (anonymous) {
      acknowledge(this.api, [
        { id: 'AwsSolutions-APIG4', reason: 'Anonymous uploads were enabled explicitly with allowAnonymousUploads: true.' },
      ], true);
    }
    this.signerUrl = this.api.apiEndpoint;

    // ------------------------------------------------------------------ outputs
    new CfnOutput(this, 'SignerUrl', { value: this.signerUrl, description: `Signer API base URL (POST ${UPLOADS_PATH})` });
    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName, description: 'Upload bucket name' });
    new CfnOutput(this, 'QueueUrl', { value: this.queue.queueUrl, description: 'ObjectCreated notification queue URL' });
    new CfnOutput(this, 'QueueArn', { value: this.queue.queueArn, description: 'ObjectCreated notification queue ARN' });
    if (this.rejectionQueue) {
      new CfnOutput(this, 'RejectionQueueUrl', { value: this.rejectionQueue.queueUrl, description: 'Rejected upload records queue URL' });
    }
    new CfnOutput(this, 'CdnDomainName', {
      value: this.distribution.distributionDomainName,
      description: 'CloudFront domain serving the uploads',
    });

    // ------------------------------------------------------------------ alarms
    this.alarms = [];
    if (props.createAlarms ?? DEFAULTS.createAlarms) {
      const made = this.createAlarms(props);
      this.alarms.push(...Object.values(made).filter((a): a is cloudwatch.Alarm => a !== undefined));
      this.deadLetterQueueAlarm = made.deadLetterQueue;
      this.signerErrorsAlarm = made.signerErrors;
      this.serverErrorsAlarm = made.serverErrors;
      this.clientErrorsAlarm = made.clientErrors;
      this.verifierErrorsAlarm = made.verifierErrors;
      new CfnOutput(this, 'AlarmNames', {
        value: Fn.join(',', this.alarms.map((a) => a.alarmName)),
        description: 'CloudWatch alarms of the upload stack (comma-separated)',
      });
    }
    this.acknowledgeCompliancePacks(props);
  }

  /**
   * Lets `grantee` call the signer when it uses IAM authorization (the default).
   * With an `authorizer` or anonymous uploads this grant is not needed.
   */
  public grantInvokeSigner(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: SIGNER_PATHS.map((path) => this.api.arnForExecuteApi('POST', path, '$default')),
    });
  }

  /**
   * Lets `grantee` post-process uploads: consume the notification queue and read the uploaded objects.
   */
  public grantConsumeUploads(grantee: iam.IGrantable): iam.Grant {
    // Exactly what a worker needs: the object (and the exact version a message names), the key to decrypt
    // it, and the queue. No listing, no bucket-level reads: keys arrive in the messages.
    let grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resourceArns: [this.bucket.arnForObjects(`${this.uploadPrefix}/*`)],
    }).combine(this.queue.grantConsumeMessages(grantee));
    if (this.bucket.encryptionKey) grant = grant.combine(this.bucket.encryptionKey.grantDecrypt(grantee));
    // The consumer's own cdk-nag run sees these statements on its role: explain them there.
    const principal = grantee.grantPrincipal;
    if (Construct.isConstruct(principal)) {
      acknowledgePrefixWildcard(principal, {
        bucket: this.bucket,
        prefix: this.uploadPrefix,
        reason: 'grantConsumeUploads: workers read uploads by the keys their messages name, all under the upload prefix (keys are chosen per upload); nothing outside it.',
      });
      acknowledge(principal, ['HIPAA.Security', 'NIST.800.53.R5'].map((pack) => ({
        id: `${pack}-IAMNoInlinePolicy`,
        reason: 'grantConsumeUploads adds a generated least-privilege policy (GetObject on the upload prefix, the bucket key, the notification queue) to the role it is given, like every aws-cdk-lib grant.',
      })), true);
    }
    return grant;
  }

  private warnAboutChoices(
    props: DirectUploadBucketProps,
    allowedContentTypes: string[],
    allowedOrigins: string[],
    anonymous: boolean,
  ): void {
    const annotations = Annotations.of(this);
    if (anonymous) {
      annotations.addWarningV2(
        'cdk-direct-upload:anonymousUploads',
        'allowAnonymousUploads is true: anyone on the internet can obtain upload URLs. Keep the throttle low and watch the bucket size.',
      );
    }
    if (allowedOrigins.includes('*')) {
      annotations.addWarningV2(
        'cdk-direct-upload:wildcardOrigin',
        'allowedOrigins contains "*": any web site can upload through its visitors\' browsers. List your origins instead.',
      );
    }
    const active = allowedContentTypes.filter((t) => ACTIVE_CONTENT_TYPES.includes(t));
    if (active.length > 0) {
      annotations.addWarningV2(
        'cdk-direct-upload:activeContentTypes',
        `allowedContentTypes contains ${active.join(', ')}: such files run script when opened. They are served with a sandboxing CSP, but prefer converting them server-side.`,
      );
    }
    if (props.verifyUploads === false) {
      annotations.addWarningV2(
        'cdk-direct-upload:unverifiedUploads',
        'verifyUploads is false: the CDN serves, and queue announces, every upload without checking its bytes (an HTML file labelled image/png included).',
      );
    }
    const inline = (props.inlineContentTypes ?? []).filter((t) => ACTIVE_CONTENT_TYPES.includes(t));
    if (inline.length > 0) {
      annotations.addWarningV2(
        'cdk-direct-upload:activeInlineTypes',
        `inlineContentTypes contains ${inline.join(', ')}: such files are rendered (sandboxed by the CSP) on your CDN domain instead of downloaded.`,
      );
    }
    if (props.authorizer && props.identityClaim === undefined) {
      // Nothing to warn about: 'sub' is the standard claim. Kept explicit for readers.
    }
  }

  /** The upload policy (signer and verifier share it). */
  private uploadPolicy(props: DirectUploadBucketProps, prefix: string): UploadPolicy {
    const anonymous = props.allowAnonymousUploads ?? DEFAULTS.allowAnonymousUploads;
    const authMode: AuthMode = props.authorizer ? 'authorizer' : anonymous ? 'none' : 'iam';
    return {
      prefix,
      allowedContentTypes: props.allowedContentTypes ?? [...DEFAULTS.allowedContentTypes],
      maxFileSize: (props.maxFileSize ?? DEFAULTS.maxFileSize).toBytes(),
      expiresInSeconds: (props.urlExpiry ?? DEFAULTS.urlExpiry).toSeconds(),
      accelerate: props.transferAcceleration ?? DEFAULTS.transferAcceleration,
      auth: authMode,
      identityClaim: props.identityClaim ?? DEFAULTS.identityClaim,
      multipartThreshold: (props.multipartThreshold ?? DEFAULTS.multipartThreshold).toBytes(),
      partSize: (props.multipartPartSize ?? DEFAULTS.multipartPartSize).toBytes(),
      allowDeleteObject: props.allowDeleteObject ?? DEFAULTS.allowDeleteObject,
    };
  }

  // ------------------------------------------------------------------ upload verification
  /**
   * The verifier: an internal queue receiving the bucket's ObjectCreated events, the function consuming it
   * (partial batch failures, then the dead-letter queue), the rejection queue, the CDN gate in the bucket
   * policy, and the lifecycle rule for retained rejects.
   */
  private createVerifier(props: DirectUploadBucketProps, prefix: string, logRetention: logs.RetentionDays) {
    const maxReceiveCount = props.maxReceiveCount ?? DEFAULTS.maxReceiveCount;
    const timeout = DEFAULTS.verifierTimeout;
    const verificationQueue = new sqs.Queue(this, 'VerificationQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS recommends at least six times the function timeout for an SQS event source.
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      retentionPeriod: props.queueRetentionPeriod ?? DEFAULTS.queueRetentionPeriod,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });
    const rejectionQueue = new sqs.Queue(this, 'RejectionQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(DEAD_LETTER_RETENTION_SECONDS),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });

    const retention = props.rejectedUploadRetention;
    const uploads = this.bucket.arnForObjects(`${prefix}/*`);
    const logGroup = new logs.LogGroup(this, 'VerifierLogGroup', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const role = new iam.Role(this, 'VerifierRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'cdk-direct-upload verifier: reads the first bytes of new uploads, tags or removes them',
    });
    logGroup.grantWrite(role);
    // Read (ranged) and tag under the prefix; delete only when rejects are not retained.
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: [
        's3:GetObject', 's3:GetObjectTagging', 's3:PutObjectTagging',
        // The exact version the verifier read (the bucket is versioned): tag it, or remove it.
        's3:GetObjectVersion', 's3:GetObjectVersionTagging', 's3:PutObjectVersionTagging',
        ...(retention ? [] : ['s3:DeleteObject', 's3:DeleteObjectVersion']),
      ],
      resources: [uploads],
    }));
    props.encryptionKey?.grantDecrypt(role);
    this.queue.grantSendMessages(role);
    rejectionQueue.grantSendMessages(role);

    const verifierFunction = new VerifierFunction(this, 'Verifier', {
      description: 'cdk-direct-upload: verifies uploaded bytes before they are served or announced',
      role,
      architecture: lambda.Architecture.ARM_64,
      memorySize: DEFAULTS.verifierMemorySize,
      timeout,
      logGroup,
      environment: {
        [POLICY_ENV]: serializePolicy(this.uploadPolicy(props, prefix)),
        [BUCKET_ENV]: this.bucket.bucketName,
        [VERIFIED_QUEUE_URL_ENV]: this.queue.queueUrl,
        [REJECTION_QUEUE_URL_ENV]: rejectionQueue.queueUrl,
        [REJECTED_OBJECTS_ENV]: retention ? 'retain' : 'delete',
      },
    });
    verifierFunction.addEventSource(new eventsources.SqsEventSource(verificationQueue, {
      batchSize: 10,
      reportBatchItemFailures: true,
    }));

    // The CDN gate: CloudFront (OAC) may read an object under the prefix only once it carries the
    // verified tag. A Deny overrides the OAC Allow that S3BucketOrigin adds; a missing tag also denies
    // (a negated condition on an absent key is true).
    this.bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyCdnUnverifiedUploads',
      effect: iam.Effect.DENY,
      principals: [new iam.ServicePrincipal('cloudfront.amazonaws.com')],
      actions: ['s3:GetObject'],
      resources: [uploads],
      conditions: { StringNotEquals: { [`s3:ExistingObjectTag/${VERIFIED_TAG}`]: VERIFIED_VALUE } },
    }));
    // Only the verifier may set the verifier's tags (on upload or afterwards), whoever else can write.
    this.bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyVerificationTagsExceptVerifier',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:PutObject', 's3:PutObjectTagging'],
      resources: [this.bucket.arnForObjects('*')],
      conditions: {
        'ForAnyValue:StringLike': { 's3:RequestObjectTagKeys': [`${TAG_KEY_PREFIX}*`] },
        'ArnNotEquals': { 'aws:PrincipalArn': role.roleArn },
      },
    }));
    if (retention) {
      this.bucket.addLifecycleRule({
        id: 'ExpireRejectedUploads',
        prefix: `${prefix}/`,
        tagFilters: { [VERIFIED_TAG]: 'false' },
        expiration: Duration.days(retention.toDays()),
      });
    }

    acknowledgePrefixWildcard(role, {
      bucket: this.bucket,
      prefix,
      logGroup,
      reason: 'The verifier handles any new object under the upload prefix (keys are per upload): read, tag and (unless rejects are retained) delete on the prefix only. The log stream wildcard is the function\'s own log group.',
    });
    acknowledge(verifierFunction, [
      {
        id: 'AwsSolutions-L1',
        reason: 'The runtime is pinned to nodejs22.x on purpose: the bundle is built for exactly that target at build time.',
      },
    ]);
    return { verifierFunction, verificationQueue, rejectionQueue };
  }

  /**
   * CloudFront Function setting Content-Disposition on every response (inline or attachment), so a
   * disposition the uploader had S3 store never reaches a browser.
   */
  private contentDispositionFunctions(inlineTypes: string[]): cloudfront.FunctionAssociation[] {
    const fn = new cloudfront.Function(this, 'ContentDispositionFunction', {
      comment: 'cdk-direct-upload: Content-Disposition inline for inline types, attachment otherwise',
      code: cloudfront.FunctionCode.fromInline(contentDispositionFunctionCode(inlineTypes)),
    });
    return [{ function: fn, eventType: cloudfront.FunctionEventType.VIEWER_RESPONSE }];
  }

  /** CloudFront findings that depend on choices only the user can make. */
  private acknowledgeDistribution(props: DirectUploadBucketProps): void {
    const acks = [
      { id: 'AwsSolutions-CFR1', reason: 'Uploads are served to the application\'s users wherever they are; add geo restrictions on the exposed distribution if your audience is regional.' },
      { id: 'AwsSolutions-CFR3', reason: 'CloudFront standard logs need an ACL-enabled bucket; S3 server access logs and API access logs already record every write. Enable distribution logging on the exposed distribution if you need read logs.' },
    ];
    if (!props.webAclId) {
      acks.push({ id: 'AwsSolutions-CFR2', reason: 'No web ACL given (webAclId): the distribution serves static, immutable objects only (GET/HEAD) through OAC; attach a WAF web ACL with webAclId where required.' });
    }
    if (!props.certificate) {
      acks.push({ id: 'AwsSolutions-CFR4', reason: 'Without a custom domain the distribution uses the *.cloudfront.net certificate, whose TLS policy CloudFront fixes; with certificate set, TLSv1.2_2021 is enforced.' });
    }
    acknowledge(this.distribution, acks);
  }

  /** The quota counters: one item per caller and window, expired by TTL. */
  private createQuotaTable(removalPolicy: RemovalPolicy): dynamodb.Table {
    const table = new dynamodb.Table(this, 'QuotaTable', {
      partitionKey: { name: QUOTA_KEY_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: QUOTA_TTL_ATTRIBUTE,
      removalPolicy,
    });
    // Point-in-time recovery on the L1: the L2's `pointInTimeRecovery` is deprecated in newer aws-cdk-lib
    // (consumers would see a warning) and its replacement does not exist at the supported floor.
    (table.node.defaultChild as dynamodb.CfnTable).pointInTimeRecoverySpecification = { pointInTimeRecoveryEnabled: true };
    acknowledge(table, [
      { id: 'HIPAA.Security-DynamoDBInBackupPlan', reason: QUOTA_BACKUP_REASON },
      { id: 'NIST.800.53.R5-DynamoDBInBackupPlan', reason: QUOTA_BACKUP_REASON },
    ]);
    return table;
  }

  /** The operator's alarms; every one with the topic's alarm and OK actions when `alarmTopic` is set. */
  private createAlarms(props: DirectUploadBucketProps) {
    const fiveMinutes = Duration.minutes(5);
    const make = (id: string, metric: cloudwatch.IMetric, threshold: number, description: string) => {
      const alarm = new cloudwatch.Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `cdk-direct-upload: ${description}`,
      });
      if (props.alarmTopic) {
        alarm.addAlarmAction(new cwactions.SnsAction(props.alarmTopic));
        alarm.addOkAction(new cwactions.SnsAction(props.alarmTopic));
      } else {
        acknowledge(alarm, [
          { id: 'HIPAA.Security-CloudWatchAlarmAction', reason: NO_ALARM_TOPIC_REASON },
          { id: 'NIST.800.53.R5-CloudWatchAlarmAction', reason: NO_ALARM_TOPIC_REASON },
        ]);
      }
      return alarm;
    };
    return {
      deadLetterQueue: make('DeadLetterQueueAlarm',
        this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM }),
        0, 'messages in the dead-letter queue: a notification or verification failed repeatedly; inspect and redrive'),
      signerErrors: make('SignerErrorsAlarm',
        this.signerFunction.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        0, 'the signer function failed (errors or timeouts)'),
      serverErrors: make('ServerErrorsAlarm',
        this.api.metricServerError({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        0, 'the signer API answered 5xx (a dependency such as S3 or the quota table unavailable, or a fault)'),
      clientErrors: make('ClientErrorsAlarm',
        this.api.metricClientError({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        props.clientErrorAlarmThreshold ?? DEFAULTS.clientErrorAlarmThreshold,
        'a spike of 4xx from the signer API (rejected uploads, throttled or over-quota callers, failed authorization)'),
      verifierErrors: this.verifierFunction ? make('VerifierErrorsAlarm',
        this.verifierFunction.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        0, 'the upload verifier failed (errors or timeouts); its messages are retried, then dead-lettered') : undefined,
    };
  }

  /**
   * Findings of the HIPAA Security and NIST 800-53 R5 packs that the defaults answer differently, each
   * with its reason; the rest of those packs passes as is.
   */
  private acknowledgeCompliancePacks(props: DirectUploadBucketProps): void {
    const packs = ['HIPAA.Security', 'NIST.800.53.R5'];
    const both = (rule: string, reason: string) => packs.map((p) => ({ id: `${p}-${rule}`, reason }));
    const buckets = [this.bucket, ...(this.accessLogsBucket ? [this.accessLogsBucket] : [])];
    for (const bucket of buckets) {
      acknowledge(bucket, [
        ...both('S3BucketReplicationEnabled', 'Cross-region replication is a disaster-recovery choice with its cost and data-residency consequences; add a replication rule on the exposed bucket if you need it. Uploaded objects are immutable (server-chosen, never reused keys).'),
        ...(bucket === this.bucket ? [] : both('S3BucketVersioningEnabled', 'The server access log bucket only receives log objects S3 writes under new keys; nothing overwrites them, so versions would only duplicate what the one-year expiry removes.')),
        ...(bucket === this.bucket && props.encryptionKey ? [] : both('S3DefaultEncryptionKMS', bucket === this.bucket
          ? 'Encrypted at rest with SSE-S3 by default; pass encryptionKey for SSE-KMS with a customer-managed key.'
          : 'S3 server access logs can only be delivered to a bucket encrypted with SSE-S3, which this bucket uses.')),
      ]);
    }
    const logsReason = 'Encrypted at rest by CloudWatch Logs with service-managed keys. The logs hold request metadata (route, status, caller id, keys), never credentials, signatures or file contents.';
    const functions = [this.signerFunction, ...(this.verifierFunction ? [this.verifierFunction] : [])];
    for (const fn of functions) {
      acknowledge(fn, [
        ...both('LambdaConcurrency', fn === this.signerFunction
          ? 'Reserved concurrency would cap uploads and take capacity from the account pool; the signer is bounded by the API\'s route throttle (throttle) instead.'
          : 'The verifier is bounded by its SQS event source (batches, retries, dead-letter queue); reserved concurrency would only slow verification during bursts.'),
        ...both('LambdaDLQ', fn === this.signerFunction
          ? 'The signer is invoked synchronously by the HTTP API (the caller gets the error); a Lambda DLQ only applies to asynchronous invocations.'
          : 'The verifier is invoked by an SQS event source mapping: failed messages go to the source queue\'s dead-letter queue (maxReceiveCount), not a Lambda DLQ.'),
        ...both('LambdaInsideVPC', 'The function calls only public AWS APIs (S3, SQS, DynamoDB) with IAM; a VPC would add NAT or endpoints and cold-start cost without protecting anything.'),
      ]);
      acknowledge(fn.role!, both('IAMNoInlinePolicy', 'The role\'s policy is generated from grants on this construct\'s own resources (least privilege, one prefix, one table, one log group); a managed policy would be no narrower and could be attached elsewhere.'), true);
    }
    const logGroups = this.node.findAll().filter((c): c is logs.LogGroup => c instanceof logs.LogGroup);
    for (const lg of logGroups) acknowledge(lg, both('CloudWatchLogGroupEncrypted', logsReason));
  }

  /** CDK creates its own helper functions for bucket notifications and auto-delete; explain them to cdk-nag. */
  private acknowledgeCdkInternals(): void {
    const stack = Stack.of(this);
    const internals = stack.node.children.filter((c) =>
      c.node.id.startsWith('BucketNotificationsHandler') || c.node.id.startsWith('Custom::S3AutoDeleteObjects'));
    // Newer aws-cdk-lib releases give the notifications handler's policy a construct under the bucket.
    const notifications = this.bucket.node.tryFindChild('Notifications');
    if (notifications) internals.push(notifications);
    for (const internal of internals) {
      acknowledge(internal, [
        {
          id: 'AwsSolutions-IAM4',
          reason: 'aws-cdk-lib\'s own helper function (bucket notifications / auto-delete) uses the AWS managed basic execution role.',
          appliesTo: [BASIC_EXECUTION_ROLE_FINDING],
          findings: () => [BASIC_EXECUTION_ROLE_FINDING],
        },
        { id: 'AwsSolutions-IAM5', reason: 'aws-cdk-lib\'s own helper function needs PutBucketNotification / object deletion on resources only known at deploy time.' },
        { id: 'AwsSolutions-L1', reason: 'aws-cdk-lib chooses the runtime of its own helper function; it is not configurable.' },
        ...['HIPAA.Security', 'NIST.800.53.R5'].flatMap((pack) => [
          { id: `${pack}-IAMNoInlinePolicy`, reason: 'aws-cdk-lib\'s own helper function role; its inline policy is generated by aws-cdk-lib for this stack\'s buckets only.' },
          { id: `${pack}-LambdaConcurrency`, reason: 'aws-cdk-lib\'s own helper function, run only by CloudFormation during deployments.' },
          { id: `${pack}-LambdaDLQ`, reason: 'aws-cdk-lib\'s own helper function, invoked synchronously by CloudFormation (custom resource), which reports its failure.' },
          { id: `${pack}-LambdaInsideVPC`, reason: 'aws-cdk-lib\'s own helper function calls only the S3 API during deployments.' },
        ]),
      ], true);
    }
  }
}

const QUOTA_BACKUP_REASON = 'The table holds short-lived upload counters that expire by TTL within two windows; point-in-time recovery is on, and a backup plan would restore nothing of value.';
const NO_ALARM_TOPIC_REASON = 'No alarmTopic was given, so the alarm has no action; it is visible in the CloudWatch console and ready for actions (pass alarmTopic, or add actions to the exposed alarm).';

const BASIC_EXECUTION_ROLE_FINDING = 'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';


function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(2)} ${units[unit]}`;
}

const ORIGIN_RE = /^(https?):\/\/([a-z0-9.-]+|\[[0-9a-f:]+\])(:\d{1,5})?$/i;
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Validates props; throws once, listing every problem with the prop name and the fix. */
function validateProps(props: DirectUploadBucketProps): void {
  const problems: string[] = [];

  if (props.maxFileSize && !props.maxFileSize.isUnresolved()) {
    const bytes = props.maxFileSize.toBytes({ rounding: SizeRoundingBehavior.NONE });
    if (bytes <= 0) {
      problems.push(`maxFileSize must be positive (got ${formatBytes(bytes)}); use e.g. Size.mebibytes(25).`);
    } else if (bytes > MAX_OBJECT_SIZE) {
      problems.push(`maxFileSize must be at most 5 TiB, the largest S3 object (got ${formatBytes(bytes)}); use a smaller Size.`);
    }
  }

  if (props.allowedContentTypes) {
    const types = props.allowedContentTypes.filter((t) => !Token.isUnresolved(t));
    if (props.allowedContentTypes.length === 0) {
      problems.push('allowedContentTypes must not be empty; omit it for the image defaults or list types such as "image/png".');
    }
    for (const t of types) {
      if (!isValidContentType(t)) {
        problems.push(`allowedContentTypes entry "${t}" is not a lower-case "type/subtype" without parameters or wildcards; use e.g. "image/png".`);
      }
    }
    const dupes = types.filter((t, i) => types.indexOf(t) !== i);
    if (dupes.length > 0) {
      problems.push(`allowedContentTypes lists ${[...new Set(dupes)].join(', ')} more than once; list each type once.`);
    }
  }

  if (props.urlExpiry && !props.urlExpiry.isUnresolved()) {
    const ms = props.urlExpiry.toMilliseconds();
    if (ms < MIN_URL_EXPIRY_SECONDS * 1000 || ms > MAX_URL_EXPIRY_SECONDS * 1000) {
      problems.push(`urlExpiry must be between 1 second and 1 hour (got ${props.urlExpiry.toHumanString()}); presigned URLs die with the signer's temporary credentials anyway.`);
    } else if (ms % 1000 !== 0) {
      problems.push(`urlExpiry must be a whole number of seconds (got ${props.urlExpiry.toHumanString()}); use Duration.seconds(n).`);
    }
  }

  if (props.uploadPrefix !== undefined && !Token.isUnresolved(props.uploadPrefix)) {
    const problem = prefixProblem(props.uploadPrefix);
    if (problem) problems.push(`uploadPrefix ${problem}.`);
  }

  for (const origin of props.allowedOrigins ?? []) {
    if (Token.isUnresolved(origin) || origin === '*') continue;
    const m = ORIGIN_RE.exec(origin);
    if (!m) {
      problems.push(`allowedOrigins entry "${origin}" is not an origin; use scheme://host[:port] with no path or trailing slash, e.g. "https://app.example.com".`);
    } else if (m[1].toLowerCase() === 'http' && !LOCAL_HOSTS.has(m[2].toLowerCase())) {
      problems.push(`allowedOrigins entry "${origin}" uses http://; only https:// origins are allowed (http:// only for localhost and 127.0.0.1).`);
    }
  }

  if (props.authorizer && props.allowAnonymousUploads) {
    problems.push('allowAnonymousUploads cannot be combined with authorizer; remove one of them.');
  }
  if (props.identityClaim !== undefined && !Token.isUnresolved(props.identityClaim) && !/^[A-Za-z0-9_:.\-/]{1,128}$/.test(props.identityClaim)) {
    problems.push(`identityClaim "${props.identityClaim}" is not a claim name; use e.g. "sub".`);
  }

  const accelerate = props.transferAcceleration ?? DEFAULTS.transferAcceleration;
  if (props.bucketName !== undefined && !Token.isUnresolved(props.bucketName) && accelerate && props.bucketName.includes('.')) {
    problems.push(`bucketName "${props.bucketName}" contains dots, which Transfer Acceleration does not support; remove the dots or set transferAcceleration: false.`);
  }

  if (props.autoDeleteObjects && (props.removalPolicy ?? DEFAULTS.removalPolicy) !== RemovalPolicy.DESTROY) {
    problems.push('autoDeleteObjects requires removalPolicy: RemovalPolicy.DESTROY; set both or neither.');
  }
  if (props.serverAccessLogsBucket && props.serverAccessLogs === false) {
    problems.push('serverAccessLogsBucket is set but serverAccessLogs is false; remove one of them.');
  }

  if (props.maxReceiveCount !== undefined && !Token.isUnresolved(props.maxReceiveCount)
    && (!Number.isInteger(props.maxReceiveCount) || props.maxReceiveCount < 1 || props.maxReceiveCount > 1000)) {
    problems.push(`maxReceiveCount must be an integer from 1 to 1000 (got ${props.maxReceiveCount}).`);
  }
  if (props.queueVisibilityTimeout && !props.queueVisibilityTimeout.isUnresolved()
    && props.queueVisibilityTimeout.toSeconds({ integral: false }) > 43_200) {
    problems.push(`queueVisibilityTimeout must be at most 12 hours (got ${props.queueVisibilityTimeout.toHumanString()}).`);
  }
  if (props.queueRetentionPeriod && !props.queueRetentionPeriod.isUnresolved()) {
    const s = props.queueRetentionPeriod.toSeconds({ integral: false });
    if (s < 60 || s > 1_209_600) {
      problems.push(`queueRetentionPeriod must be between 1 minute and 14 days (got ${props.queueRetentionPeriod.toHumanString()}).`);
    }
  }

  if ((props.domainNames?.length ?? 0) > 0 && !props.certificate) {
    problems.push('domainNames requires certificate (an ACM certificate in us-east-1 covering them).');
  }
  if (props.certificate && (props.domainNames?.length ?? 0) === 0) {
    problems.push('certificate requires domainNames (the names it covers).');
  }

  for (const [name, value] of [['cacheControl', props.cacheControl], ['contentSecurityPolicy', props.contentSecurityPolicy]] as const) {
    if (value !== undefined && !Token.isUnresolved(value) && (value.trim() === '' || /[\r\n]/.test(value))) {
      problems.push(`${name} must be a non-empty single-line header value; omit it for the secure default.`);
    }
  }

  if (props.signerMemorySize !== undefined && !Token.isUnresolved(props.signerMemorySize)
    && (!Number.isInteger(props.signerMemorySize) || props.signerMemorySize < 128 || props.signerMemorySize > 10_240)) {
    problems.push(`signerMemorySize must be an integer from 128 to 10240 MiB (got ${props.signerMemorySize}).`);
  }
  for (const key of ['rateLimit', 'burstLimit'] as const) {
    const v = props.throttle?.[key];
    if (v !== undefined && !Token.isUnresolved(v) && (!Number.isFinite(v) || v < 0)) {
      problems.push(`throttle.${key} must be a non-negative number (got ${v}).`);
    }
  }

  // multipart
  for (const [name, size, key] of [['multipartThreshold', props.multipartThreshold, 'threshold'], ['multipartPartSize', props.multipartPartSize, 'partSize']] as const) {
    if (size && !size.isUnresolved()) {
      const bytes = size.toBytes({ rounding: SizeRoundingBehavior.NONE });
      const problem = key === 'threshold'
        ? multipartProblems(bytes, DEFAULT_PART_SIZE).threshold
        : multipartProblems(DEFAULT_MULTIPART_THRESHOLD, bytes).partSize;
      if (problem) problems.push(`${name} ${problem} (got ${formatBytes(bytes)}).`);
    }
  }

  // upload verification
  const verify = props.verifyUploads ?? DEFAULTS.verifyUploads;
  if (props.rejectedUploadRetention && !props.rejectedUploadRetention.isUnresolved()) {
    const days = props.rejectedUploadRetention.toHours({ integral: false }) / 24;
    if (!verify) {
      problems.push('rejectedUploadRetention requires verifyUploads (nothing is rejected without the verifier); remove it or set verifyUploads: true.');
    } else if (!Number.isInteger(days) || days < 1 || days > 3650) {
      problems.push(`rejectedUploadRetention must be a whole number of days from 1 to 3650 (got ${props.rejectedUploadRetention.toHumanString()}); use Duration.days(n), or omit it to delete rejects at once.`);
    }
  }
  if (props.inlineContentTypes) {
    for (const t of props.inlineContentTypes.filter((v) => !Token.isUnresolved(v))) {
      if (!isValidContentType(t)) {
        problems.push(`inlineContentTypes entry "${t}" is not a lower-case "type/subtype" without parameters or wildcards; use e.g. "image/png".`);
      }
    }
  }

  // quota and alarms
  if (props.uploadQuota) {
    const { maxUploads, window } = props.uploadQuota;
    if (!Token.isUnresolved(maxUploads) && (!Number.isInteger(maxUploads) || maxUploads < 1 || maxUploads > 1_000_000)) {
      problems.push(`uploadQuota.maxUploads must be an integer from 1 to 1000000 (got ${maxUploads}); e.g. maxUploads: 100.`);
    }
    if (window === undefined || window === null) {
      problems.push('uploadQuota.window is required; e.g. window: Duration.hours(1).');
    } else if (!window.isUnresolved()) {
      const ms = window.toMilliseconds();
      if (ms % 1000 !== 0 || ms < 1000 || ms > 31 * 86_400_000) {
        problems.push(`uploadQuota.window must be a whole number of seconds from 1 second to 31 days (got ${window.toHumanString()}); use e.g. Duration.hours(1).`);
      }
    }
  }
  const alarmsOn = props.createAlarms ?? DEFAULTS.createAlarms;
  if (props.alarmTopic && !alarmsOn) {
    problems.push('alarmTopic is set but createAlarms is false; remove one of them.');
  }
  if (props.clientErrorAlarmThreshold !== undefined && !Token.isUnresolved(props.clientErrorAlarmThreshold)) {
    if (!alarmsOn) {
      problems.push('clientErrorAlarmThreshold is set but createAlarms is false; remove one of them.');
    } else if (!Number.isInteger(props.clientErrorAlarmThreshold) || props.clientErrorAlarmThreshold < 1) {
      problems.push(`clientErrorAlarmThreshold must be a positive integer number of 4xx responses per 5 minutes (got ${props.clientErrorAlarmThreshold}).`);
    }
  }

  if (problems.length > 0) {
    throw new Error(`Invalid DirectUploadBucket props:\n- ${problems.join('\n- ')}`);
  }
}

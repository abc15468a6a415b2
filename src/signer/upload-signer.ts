import {
  Annotations,
  Aws,
  Duration,
  RemovalPolicy,
  Stack,
  Token,
  aws_apigatewayv2 as apigwv2,
  aws_apigatewayv2_authorizers as authorizers,
  aws_apigatewayv2_integrations as integrations,
  aws_dynamodb as dynamodb,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_s3 as s3,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { QUOTA_KEY_ATTRIBUTE, QUOTA_TTL_ATTRIBUTE } from './quota';
import { grantSignedDownloads, SignedDownloadsOptions } from './signed-downloads';
import { SignerFunction } from './signer-function';
import { signerEnvironment } from '../contract/environment';
import { DOWNLOADS_PATH, SIGNER_PATHS } from '../contract/signer-protocol';
import { DEFAULT_IDENTITY_CLAIM } from '../contract/upload-rules';
import { acknowledge, acknowledgeBundledFunction, acknowledgeLogGroup, acknowledgePrefixWildcard, compliance } from '../private/nag';
import { functionRoleAndLogs } from '../private/resources';
import { metadataKeysOf, signerPolicy, uploadPrefixOf, uploadRuleProblems, warnAboutActiveTypes } from '../private/upload-rules';
import { found, integerProblem, requiresProblem, resolvedMillis, resolvedNumber, resolvedString, throwIfProblems } from '../private/validation';
import { UploadRules } from '../upload-rules';

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

/** Who may sign uploads and how much: the signer's options a `DirectUploadBucket` passes on as they are. */
export interface UploadSignerOptions {
  /**
   * Browser origins allowed to call the signer (CORS preflight of the HTTP API; a `DirectUploadBucket`
   * also allows them on its bucket), e.g. `https://app.example.com`. `http://` is accepted for `localhost` and `127.0.0.1` only.
   * `*` is accepted with a synth warning.
   *
   * @default - no browser origin: only non-browser clients can call the signer
   */
  readonly allowedOrigins?: string[];

  /**
   * Authorizer for every signer route, e.g. an `HttpJwtAuthorizer`. The caller's identity (JWT claim
   * `identityClaim`, or the Lambda authorizer's context key of that name) scopes its keys.
   *
   * @default - IAM authorization (SigV4); grant callers with `grantInvoke()`
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
   * {@link UploadQuotaOptions}). `throttle` bounds the total request rate; the quota bounds what one
   * authenticated caller can do with it.
   *
   * @default - no per-caller quota
   */
  readonly uploadQuota?: UploadQuotaOptions;

  /**
   * Retention of the function logs and the API access logs.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** Properties of an {@link UploadSigner}: where uploads go, and who may sign them. */
export interface UploadSignerProps extends UploadRules, UploadSignerOptions {
  /**
   * Signed delivery: answer `POST /downloads` with CloudFront signed URLs for the caller's verified keys.
   *
   * @default - no downloads route (public delivery)
   */
  readonly signedDownloads?: SignedDownloadsOptions;

  /** The bucket uploads land in. The signer may write under `uploadPrefix` only. */
  readonly bucket: s3.IBucket;

  /**
   * Base URL the files are served from, without a trailing slash (the signer answers `publicUrl` =
   * `<publicBaseUrl>/<key>`), e.g. an `UploadDelivery`'s `url`.
   */
  readonly publicBaseUrl: string;

  /**
   * Presign URLs for the bucket's S3 Transfer Acceleration endpoint. Turn it on only when the bucket has
   * acceleration enabled.
   *
   * @default false
   */
  readonly transferAcceleration?: boolean;

  /**
   * Memory of the signer function, in MiB (CPU scales with it).
   *
   * @default 256
   */
  readonly memorySize?: number;

  /**
   * What happens to the quota table when the stack is deleted.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The signer's secure baseline, in one place. */
const SIGNER_DEFAULTS = {
  transferAcceleration: false,
  allowedOrigins: [] as string[],
  allowAnonymousUploads: false,
  identityClaim: DEFAULT_IDENTITY_CLAIM,
  throttle: { rateLimit: 500, burstLimit: 1000 },
  memorySize: 256,
  logRetention: logs.RetentionDays.ONE_MONTH,
  removalPolicy: RemovalPolicy.RETAIN,
  // The signer answers by itself within ~17 s even when S3 hangs (bounded SDK calls, see
  // signer/multipart.ts); the function timeout is the backstop, and the API waits a little longer than
  // the function so the function is never left running after the client got its answer.
  timeout: Duration.seconds(20),
  apiIntegrationTimeout: Duration.seconds(25),
} as const;

/**
 * Problems of the signer's own props (the upload rules are checked by `uploadRuleProblems`). `names`
 * renames props for a construct that exposes them under other names (e.g. `signerMemorySize`).
 */
export function uploadSignerProblems(props: UploadSignerOptions & Pick<UploadRules, 'allowDeleteObject'> & { readonly memorySize?: number }, names: { memorySize?: string } = {}): string[] {
  const claim = resolvedString(props.identityClaim);
  const window = props.uploadQuota?.window;
  const windowMs = resolvedMillis(window ?? undefined);
  return found(
    originProblems(props.allowedOrigins ?? []),
    requiresProblem(Boolean(props.authorizer && props.allowAnonymousUploads), 'allowAnonymousUploads cannot be combined with authorizer; remove one of them.'),
    requiresProblem(Boolean(props.allowAnonymousUploads && props.allowDeleteObject),
      'allowDeleteObject cannot be combined with allowAnonymousUploads: every anonymous caller shares one key scope, so anyone could delete any upload; authenticate callers or leave allowDeleteObject off.'),
    claim !== undefined && !/^[A-Za-z0-9_:.\-/]{1,128}$/.test(claim) ? `identityClaim "${claim}" is not a claim name; use e.g. "sub".` : undefined,
    integerProblem(names.memorySize ?? 'memorySize', props.memorySize, 128, 10_240, ' MiB'),
    (['rateLimit', 'burstLimit'] as const).map((key) => {
      const v = resolvedNumber(props.throttle?.[key]);
      return v !== undefined && (!Number.isFinite(v) || v < 0) ? `throttle.${key} must be a non-negative number (got ${v}).` : undefined;
    }).filter((p): p is string => p !== undefined),
    props.uploadQuota ? integerProblem('uploadQuota.maxUploads', props.uploadQuota.maxUploads, 1, 1_000_000) : undefined,
    props.uploadQuota && (window === undefined || window === null) ? 'uploadQuota.window is required; e.g. window: Duration.hours(1).' : undefined,
    windowMs !== undefined && (windowMs % 1000 !== 0 || windowMs < 1000 || windowMs > 31 * 86_400_000)
      ? `uploadQuota.window must be a whole number of seconds from 1 second to 31 days (got ${window!.toHumanString()}); use e.g. Duration.hours(1).`
      : undefined,
  );
}

const ORIGIN_RE = /^(https?):\/\/([a-z0-9.-]+|\[[0-9a-f:]+\])(:\d{1,5})?$/i;
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function originProblems(origins: readonly string[]): string[] {
  return origins.filter((o) => !Token.isUnresolved(o) && o !== '*').flatMap((origin) => {
    const m = ORIGIN_RE.exec(origin);
    if (!m) return [`allowedOrigins entry "${origin}" is not an origin; use scheme://host[:port] with no path or trailing slash, e.g. "https://app.example.com".`];
    if (m[1].toLowerCase() === 'http' && !LOCAL_HOSTS.has(m[2].toLowerCase())) {
      return [`allowedOrigins entry "${origin}" uses http://; only https:// origins are allowed (http:// only for localhost and 127.0.0.1).`];
    }
    return [];
  });
}

/**
 * The signer: an HTTP API whose routes (`POST /uploads`, multipart, `/uppy/sign`) run one small Lambda
 * that presigns uploads S3 itself enforces (type, exact length, one server-chosen key under the prefix,
 * a short expiry). Its role may write under the upload prefix only; optional per-caller quota.
 *
 * @example
 * const signer = new UploadSigner(this, 'Signer', {
 *   bucket,
 *   publicBaseUrl: 'https://files.example.com',
 *   allowedOrigins: ['https://app.example.com'],
 * });
 */
export class UploadSigner extends Construct {
  /** The signing function. */
  public readonly signerFunction: lambda.Function;
  /** The signing function's role: what every presigned request may do. */
  public readonly role: iam.Role;
  /** The HTTP API. */
  public readonly api: apigwv2.HttpApi;
  /** Base URL of the API (`POST {url}/uploads`), without a trailing slash. */
  public readonly url: string;
  /** The key prefix the signer signs for (no trailing slash). */
  public readonly uploadPrefix: string;
  /** The upload counters, when `uploadQuota` is set. */
  public readonly quotaTable?: dynamodb.Table;

  /** The API's routes (`/downloads` only with signed delivery). */
  private readonly routePaths: readonly string[];

  constructor(scope: Construct, id: string, props: UploadSignerProps) {
    super(scope, id);
    throwIfProblems('UploadSigner', [...uploadRuleProblems(props), ...uploadSignerProblems(props)]);
    const d = SIGNER_DEFAULTS;
    const anonymous = props.allowAnonymousUploads ?? d.allowAnonymousUploads;
    const allowedOrigins = props.allowedOrigins ?? d.allowedOrigins;
    const logRetention = props.logRetention ?? d.logRetention;
    this.uploadPrefix = uploadPrefixOf(props);
    this.warnAboutChoices(props, anonymous, allowedOrigins);

    const { role, logGroup } = functionRoleAndLogs(this, 'cdk-direct-upload signer: presigns uploads (single, form, multipart) under the upload prefix', logRetention);
    this.role = role;
    this.routePaths = SIGNER_PATHS.filter((path) => path !== DOWNLOADS_PATH || props.signedDownloads);
    this.grantPresign(props);
    this.quotaTable = props.uploadQuota ? this.createQuotaTable(props.removalPolicy ?? d.removalPolicy) : undefined;

    const policy = signerPolicy(props, {
      auth: props.authorizer ? 'authorizer' : anonymous ? 'none' : 'iam',
      identityClaim: props.identityClaim ?? d.identityClaim,
      accelerate: props.transferAcceleration ?? d.transferAcceleration,
    });
    this.signerFunction = new SignerFunction(this, 'Function', {
      description: 'cdk-direct-upload: signs direct-to-S3 upload requests',
      role,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? d.memorySize,
      timeout: d.timeout,
      logGroup,
      environment: {
        ...signerEnvironment({
          policy,
          bucket: props.bucket.bucketName,
          publicBaseUrl: props.publicBaseUrl,
          urlSuffix: Aws.URL_SUFFIX,
          quota: this.quotaTable && props.uploadQuota ? {
            table: this.quotaTable.tableName,
            maxUploads: props.uploadQuota.maxUploads,
            windowSeconds: props.uploadQuota.window.toSeconds(),
          } : undefined,
          downloads: props.signedDownloads && grantSignedDownloads(role, props.bucket, this.uploadPrefix, props.signedDownloads),
          metadataKeys: metadataKeysOf(props),
        }, (value) => Stack.of(this).toJsonString(value)),
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    this.api = this.createApi(props, allowedOrigins, anonymous, logRetention);
    this.url = this.api.apiEndpoint;

    acknowledgePrefixWildcard(role, {
      bucket: props.bucket,
      prefix: this.uploadPrefix,
      logGroup,
      reason: 'Keys are chosen per request by the signer (<prefix>/<caller>/<uuid>), so PutObject is granted on the upload prefix; nothing outside it. The log stream wildcard is the function\'s own log group.',
    });
    acknowledgeBundledFunction(this.signerFunction, role, logGroup, {
      concurrency: 'Reserved concurrency would cap uploads and take capacity from the account pool; the signer is bounded by the API\'s route throttle (throttle) instead.',
      deadLetterQueue: 'The signer is invoked synchronously by the HTTP API (the caller gets the error); a Lambda DLQ only applies to asynchronous invocations.',
    });
  }

  /**
   * Lets `grantee` call every signer route when it uses IAM authorization (the default).
   * With an `authorizer` or anonymous uploads this grant is not needed.
   */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: this.routePaths.map((path) => this.api.arnForExecuteApi('POST', path, '$default')),
    });
  }

  /**
   * Presigned requests carry the role's permissions: PutObject under the prefix (it also covers
   * CreateMultipartUpload, UploadPart and CompleteMultipartUpload), listing and aborting multipart uploads
   * there, DeleteObject only when the Uppy route may sign it; and, with SSE-KMS, the bucket key (a single
   * PUT needs GenerateDataKey, multipart uploads also Decrypt).
   */
  private grantPresign(props: UploadSignerProps): void {
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: [
        's3:PutObject',
        's3:AbortMultipartUpload',
        's3:ListMultipartUploadParts',
        ...(props.allowDeleteObject ? ['s3:DeleteObject'] : []),
      ],
      resources: [props.bucket.arnForObjects(`${this.uploadPrefix}/*`)],
    }));
    // Before signing an Uppy part the signer lists the key's multipart uploads (a replayed create URL's
    // extra uploads are aborted); ListMultipartUploads is a bucket-level action.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:ListBucketMultipartUploads'], resources: [props.bucket.bucketArn] }));
    props.bucket.encryptionKey?.grant(this.role, 'kms:GenerateDataKey', 'kms:Decrypt');
    this.grantStatusReads(props.bucket);
  }

  /**
   * `POST /uploads/status` (and a completion whose upload is gone) lists a key's versions (ListObjectVersions, under the prefix only) and reads
   * the newest version's tags; it reads no object bytes and writes nothing.
   */
  private grantStatusReads(bucket: s3.IBucket): void {
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['s3:GetObjectTagging', 's3:GetObjectVersionTagging'],
      resources: [bucket.arnForObjects(`${this.uploadPrefix}/*`)],
    }));
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['s3:ListBucketVersions'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${this.uploadPrefix}/*`] } },
    }));
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
    acknowledge(table, compliance('DynamoDBInBackupPlan', 'The table holds short-lived upload counters that expire by TTL within two windows; point-in-time recovery is on, and a backup plan would restore nothing of value.'));
    // One conditional UpdateItem per new upload; nothing else (no reads, no deletes: TTL expires items).
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [table.tableArn] }));
    return table;
  }

  /** The HTTP API: every route on the same function and authorizer; throttled, access-logged. */
  private createApi(props: UploadSignerProps, allowedOrigins: string[], anonymous: boolean, logRetention: logs.RetentionDays): apigwv2.HttpApi {
    const accessLogGroup = new logs.LogGroup(this, 'ApiAccessLogGroup', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    acknowledgeLogGroup(accessLogGroup);
    const api = new apigwv2.HttpApi(this, 'Api', {
      description: 'cdk-direct-upload signer',
      createDefaultStage: false,
      corsPreflight: allowedOrigins.length > 0 ? {
        allowOrigins: allowedOrigins,
        allowMethods: [apigwv2.CorsHttpMethod.POST],
        allowHeaders: ['authorization', 'content-type', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'],
        // The typed client waits as the signer's 429/503 answers say.
        exposeHeaders: ['retry-after'],
        maxAge: Duration.hours(1),
      } : undefined,
    });
    const stage = api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? SIGNER_DEFAULTS.throttle,
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
    // Each route checks the caller's scope itself; they share one integration and one authorizer.
    const integration = new integrations.HttpLambdaIntegration('SignerIntegration', this.signerFunction, {
      timeout: SIGNER_DEFAULTS.apiIntegrationTimeout,
    });
    const authorizer = props.authorizer ?? (anonymous ? new apigwv2.HttpNoneAuthorizer() : new authorizers.HttpIamAuthorizer());
    for (const path of this.routePaths) {
      api.addRoutes({ path, methods: [apigwv2.HttpMethod.POST], integration, authorizer });
    }
    if (anonymous) {
      acknowledge(api, [
        { id: 'AwsSolutions-APIG4', reason: 'Anonymous uploads were enabled explicitly with allowAnonymousUploads: true.' },
      ], true);
    }
    return api;
  }

  private warnAboutChoices(props: UploadSignerProps, anonymous: boolean, allowedOrigins: string[]): void {
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
    warnAboutActiveTypes(this, props);
  }
}

import {
  Duration,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_lambda_event_sources as eventsources,
  aws_logs as logs,
  aws_s3 as s3,
  aws_s3_notifications as s3n,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { MalwareScanning, SCAN_DEADLINE_SECONDS, scanRewriteStatements, scanTagStatement } from './malware-scanning';
import { claimStatements, grantClaims } from './unclaimed';
import { VerifierFunction } from './verifier-function';
import { verifierEnvironment } from '../contract/environment';
import { DEAD_LETTER_RETENTION_SECONDS, DEFAULT_MAX_RECEIVE_COUNT, DEFAULT_QUEUE_RETENTION_SECONDS } from '../contract/queue-defaults';
import { TAG_KEY_PREFIX, UNCLAIMED_TAG, VERIFIED_TAG, VERIFIED_VALUE } from '../contract/queue-message';
import { isVersioned, writeOnceStatement } from '../private/bucket';
import { acknowledgeBundledFunction, acknowledgeCdkHelpers, acknowledgePrefixWildcard } from '../private/nag';
import { functionRoleAndLogs, secureQueue } from '../private/resources';
import { metadataKeysOf, uploadPolicy, uploadPrefixOf, uploadRuleProblems } from '../private/upload-rules';
import { found, integerProblem, resolvedMillis, throwIfProblems } from '../private/validation';
import { UploadRules } from '../upload-rules';

/** Properties of an {@link UploadVerifier}: the bucket it watches, where verified uploads are announced. */
export interface UploadVerifierProps extends UploadRules {
  /**
   * The bucket uploads land in (versioned: the verifier reads and tags one exact version). The verifier
   * subscribes to its ObjectCreated events under `uploadPrefix` and adds the CDN gate to its bucket policy.
   */
  readonly bucket: s3.IBucket;

  /** Where verified uploads are announced: their S3 event with a `verification` result. */
  readonly verifiedQueue: sqs.IQueue;

  /**
   * Where verification events and rejection records go after `maxReceiveCount` failed receives.
   *
   * @default - a new queue, encrypted, SSL-only, kept 14 days
   */
  readonly deadLetterQueue?: sqs.IQueue;

  /**
   * Receives before a verification event moves to the dead-letter queue.
   *
   * @default 5
   */
  readonly maxReceiveCount?: number;

  /**
   * How long unprocessed verification events are kept.
   *
   * @default Duration.days(4)
   */
  readonly queueRetentionPeriod?: Duration;

  /**
   * Keep rejected uploads for this long (whole days) instead of deleting them at once, for forensics:
   * they stay where they are, tagged `direct-upload:verified=false` (never served by the CDN, never
   * announced), and a lifecycle rule expires them. Needs a bucket of this app (`s3.Bucket`).
   *
   * @default - rejected uploads are deleted as soon as the rejection is recorded
   */
  readonly rejectedUploadRetention?: Duration;

  /**
   * Delete verified uploads the application does not claim within this time (whole days). The verifier tags
   * each verified upload `direct-upload:unclaimed=true` in its one tag write, a lifecycle rule expires objects
   * still carrying it, and the application claims an upload with `claimUpload` of `cdk-direct-upload/worker`
   * (one PutObjectTagging, allowed by `grantClaimUploads`). Needs a bucket of this app (`s3.Bucket`).
   *
   * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lifecycle-mgmt.html
   * @default - uploads are kept whether or not they are claimed
   */
  readonly unclaimedUploadExpiry?: Duration;

  /**
   * Scan every upload for malware with GuardDuty Malware Protection for S3 (a protection plan on the upload
   * prefix, its service role, the scan results routed to the verifier). An upload is then verified — served
   * by the CDN, announced on `verifiedQueue` — only when its bytes passed **and** GuardDuty found no threats
   * (`NO_THREATS_FOUND`), whichever is known first. `THREATS_FOUND` is rejected like bad bytes (deleted, or
   * retained with `rejectedUploadRetention`); `UNSUPPORTED`, `ACCESS_DENIED` and `FAILED` are rejected too
   * (never served) and counted by `malwareProtection.scanIncompleteMetric`; a scan result that has not arrived
   * 15 minutes after the byte check is counted by `malwareProtection.scanOverdueMetric` (the upload stays pending).
   *
   * GuardDuty bills this per GB scanned and per object (see the cost section of the README).
   *
   * @see https://docs.aws.amazon.com/guardduty/latest/ug/gdu-malware-protection-s3.html
   * @default false
   */
  readonly malwareScanning?: boolean;

  /**
   * Retention of the verifier's function logs.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** The verifier's baseline, in one place. */
const VERIFIER_DEFAULTS = {
  maxReceiveCount: DEFAULT_MAX_RECEIVE_COUNT,
  queueRetentionPeriod: Duration.seconds(DEFAULT_QUEUE_RETENTION_SECONDS),
  logRetention: logs.RetentionDays.ONE_MONTH,
  memorySize: 256,
  timeout: Duration.seconds(30),
  batchSize: 10,
} as const;

/** The verifier props that are validated here (all but the resources it is given). */
export type UploadVerifierOptions = Omit<UploadVerifierProps, 'bucket' | 'verifiedQueue' | 'deadLetterQueue'>;

/** Problems of the verifier's own props (the upload rules are checked by `uploadRuleProblems`). */
export function uploadVerifierProblems(props: UploadVerifierOptions): string[] {
  const queueRetention = resolvedMillis(props.queueRetentionPeriod);
  return found(
    wholeDaysProblem('rejectedUploadRetention', props.rejectedUploadRetention, 'delete rejects at once'),
    wholeDaysProblem('unclaimedUploadExpiry', props.unclaimedUploadExpiry, 'keep unclaimed uploads'),
    integerProblem('maxReceiveCount', props.maxReceiveCount, 1, 1000),
    queueRetention !== undefined && (queueRetention < 60_000 || queueRetention > 1_209_600_000)
      ? `queueRetentionPeriod must be between 1 minute and 14 days (got ${props.queueRetentionPeriod!.toHumanString()}).`
      : undefined,
  );
}

function wholeDaysProblem(name: string, duration: Duration | undefined, omitted: string): string | undefined {
  const days = (resolvedMillis(duration) ?? 86_400_000) / 86_400_000;
  return !Number.isInteger(days) || days < 1 || days > 3650
    ? `${name} must be a whole number of days from 1 to 3650 (got ${duration!.toHumanString()}); use Duration.days(n), or omit it to ${omitted}.`
    : undefined;
}

/**
 * The verifier: S3 notifies a verification queue of every new object under the prefix; a function reads
 * its first bytes (ranged GET of the exact version), checks them against the declared, allowed type, the
 * size and the key, and tags the version verified (then announces it on `verifiedQueue`) or removes it and
 * records why on `rejectionQueue`. The bucket policy lets CloudFront read verified objects only, lets only
 * the verifier set its tags, and refuses overwrites of uploads (write-once).
 *
 * @example
 * const verifier = new UploadVerifier(this, 'Verifier', { bucket, verifiedQueue: queue });
 */
export class UploadVerifier extends Construct {
  /** The verifying function. */
  public readonly verifierFunction: lambda.Function;
  /** The verifying function's role. */
  public readonly role: iam.Role;
  /** The verifier's input: raw ObjectCreated notifications (internal; consume `verifiedQueue` instead). */
  public readonly verificationQueue: sqs.Queue;
  /** Records of rejected uploads (key, reason code and message, declared and detected type, the S3 event); kept 14 days. */
  public readonly rejectionQueue: sqs.Queue;
  /** The dead-letter queue of the verification and rejection queues (given or created). */
  public readonly deadLetterQueue: sqs.IQueue;
  /**
   * The bucket-policy statements the verifier's guarantees rest on: CloudFront may read verified objects
   * only, only the verifier may set its tags, uploads are write-once. Added to the bucket's policy when
   * aws-cdk-lib can; add them yourself to a bucket whose policy this app does not manage.
   */
  public readonly bucketPolicyStatements: iam.PolicyStatement[];
  private readonly bucket: s3.IBucket;
  private readonly uploadPrefix: string;
  private readonly unclaimedExpire: boolean;
  /** The GuardDuty protection plan, its role, the scan-result rule and metrics, with `malwareScanning`. */
  public readonly malwareProtection?: MalwareScanning;

  constructor(scope: Construct, id: string, props: UploadVerifierProps) {
    super(scope, id);
    throwIfProblems('UploadVerifier', [
      ...uploadRuleProblems(props),
      ...uploadVerifierProblems(props),
      ...found(
        isVersioned(props.bucket) === false ? 'bucket must be versioned (versioned: true): the verifier tags the exact version it read, and an overwrite must not inherit the verdict.' : undefined,
        props.rejectedUploadRetention && !(props.bucket instanceof s3.Bucket)
          ? 'rejectedUploadRetention needs a bucket of this app (s3.Bucket) for its lifecycle rule; remove it, or add the rule to your bucket and omit this prop.'
          : undefined,
        props.unclaimedUploadExpiry && !(props.bucket instanceof s3.Bucket)
          ? 'unclaimedUploadExpiry needs a bucket of this app (s3.Bucket) for its lifecycle rule and claim policy; remove it.'
          : undefined,
      ),
    ]);
    const d = VERIFIER_DEFAULTS;
    const prefix = uploadPrefixOf(props);
    const maxReceiveCount = props.maxReceiveCount ?? d.maxReceiveCount;
    const retention = props.rejectedUploadRetention;
    const unclaimed = props.unclaimedUploadExpiry;
    this.bucket = props.bucket;
    this.uploadPrefix = prefix;
    this.unclaimedExpire = unclaimed !== undefined;
    this.deadLetterQueue = props.deadLetterQueue
      ?? secureQueue(this, 'DeadLetterQueue', { retentionPeriod: Duration.seconds(DEAD_LETTER_RETENTION_SECONDS) });
    const redrive = { queue: this.deadLetterQueue, maxReceiveCount };
    this.verificationQueue = secureQueue(this, 'VerificationQueue', {
      // AWS recommends at least six times the function timeout for an SQS event source.
      visibilityTimeout: Duration.seconds(d.timeout.toSeconds() * 6),
      retentionPeriod: props.queueRetentionPeriod ?? d.queueRetentionPeriod,
      deadLetterQueue: redrive,
    });
    this.rejectionQueue = secureQueue(this, 'RejectionQueue', {
      retentionPeriod: Duration.seconds(DEAD_LETTER_RETENTION_SECONDS),
      deadLetterQueue: redrive,
    });

    const uploads = props.bucket.arnForObjects(`${prefix}/*`);
    const { role, logGroup } = functionRoleAndLogs(this, 'cdk-direct-upload verifier: reads the first bytes of new uploads, tags or removes them', props.logRetention ?? d.logRetention);
    this.role = role;
    // Read (ranged) and tag under the prefix, the exact version it read; delete only when rejects are not retained.
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: [
        's3:GetObject', 's3:GetObjectTagging', 's3:PutObjectTagging',
        's3:GetObjectVersion', 's3:GetObjectVersionTagging', 's3:PutObjectVersionTagging',
        ...(retention ? [] : ['s3:DeleteObject', 's3:DeleteObjectVersion']),
      ],
      resources: [uploads],
    }));
    props.bucket.encryptionKey?.grantDecrypt(role);
    props.verifiedQueue.grantSendMessages(role);
    if (props.malwareScanning) {
      this.malwareProtection = new MalwareScanning(this, 'MalwareScanning', { bucket: props.bucket, prefix, verificationQueue: this.verificationQueue, logGroup });
      // The verifier sends itself the delayed scan deadline of each upload waiting for its scan.
      this.verificationQueue.grantSendMessages(role);
      // GuardDuty turns on the bucket's EventBridge notifications; say so in the notification config this
      // app manages, or the next deployment that changes it would turn them off again.
      if (props.bucket instanceof s3.Bucket) props.bucket.enableEventBridgeNotification();
    }
    this.rejectionQueue.grantSendMessages(role);

    this.verifierFunction = new VerifierFunction(this, 'Function', {
      description: 'cdk-direct-upload: verifies uploaded bytes before they are served or announced',
      role,
      architecture: lambda.Architecture.ARM_64,
      memorySize: d.memorySize,
      timeout: d.timeout,
      logGroup,
      environment: verifierEnvironment({
        policy: uploadPolicy(props),
        bucket: props.bucket.bucketName,
        verifiedQueueUrl: props.verifiedQueue.queueUrl,
        rejectionQueueUrl: this.rejectionQueue.queueUrl,
        rejectedObjects: retention ? 'retain' : 'delete',
        tagUnclaimed: unclaimed !== undefined,
        metadataKeys: metadataKeysOf(props),
        ...(props.malwareScanning
          ? { malwareScan: { deadlineSeconds: SCAN_DEADLINE_SECONDS, verificationQueueUrl: this.verificationQueue.queueUrl } }
          : {}),
      }),
    });
    this.verifierFunction.addEventSource(new eventsources.SqsEventSource(this.verificationQueue, {
      batchSize: d.batchSize,
      reportBatchItemFailures: true,
    }));
    props.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(this.verificationQueue), { prefix: `${prefix}/` });
    acknowledgeCdkHelpers(this, props.bucket);

    const scanRole = this.malwareProtection?.role;
    // GuardDuty's role re-writes the tags it finds (ours too) when it adds its own: it is exempt from the
    // verifier-only Deny and from the claim-shape Denies, and denied verifying or re-marking anything itself.
    const tagWriters = scanRole ? [role, scanRole] : [role];
    this.bucketPolicyStatements = [
      gateStatement(props.bucket, prefix),
      // With claims, tag writes that are not claims are denied by their own statements.
      tagStatement(props.bucket, tagWriters, unclaimed ? ['s3:PutObject'] : undefined),
      ...(unclaimed ? claimStatements(props.bucket, tagWriters) : []),
      writeOnceStatement(props.bucket, prefix),
      ...(scanRole
        ? [scanTagStatement(props.bucket, [role, scanRole]), ...scanRewriteStatements(props.bucket, scanRole, unclaimed !== undefined)]
        : []),
    ];
    for (const statement of this.bucketPolicyStatements) props.bucket.addToResourcePolicy(statement);
    if (retention && props.bucket instanceof s3.Bucket) {
      props.bucket.addLifecycleRule({
        id: 'ExpireRejectedUploads',
        prefix: `${prefix}/`,
        tagFilters: { [VERIFIED_TAG]: 'false' },
        expiration: Duration.days(retention.toDays()),
      });
    }
    if (unclaimed && props.bucket instanceof s3.Bucket) {
      // Expires the current version; the noncurrent-version rule of the construct's bucket then removes it.
      props.bucket.addLifecycleRule({
        id: 'ExpireUnclaimedUploads',
        prefix: `${prefix}/`,
        tagFilters: { [UNCLAIMED_TAG]: 'true' },
        expiration: Duration.days(unclaimed.toDays()),
      });
    }

    acknowledgePrefixWildcard(role, {
      bucket: props.bucket,
      prefix,
      logGroup,
      reason: 'The verifier handles any new object under the upload prefix (keys are per upload): read, tag and (unless rejects are retained) delete on the prefix only. The log stream wildcard is the function\'s own log group.',
    });
    acknowledgeBundledFunction(this.verifierFunction, role, logGroup, {
      concurrency: 'The verifier is bounded by its SQS event source (batches, retries, dead-letter queue); reserved concurrency would only slow verification during bursts.',
      deadLetterQueue: 'The verifier is invoked by an SQS event source mapping: failed messages go to the source queue\'s dead-letter queue (maxReceiveCount), not a Lambda DLQ.',
    });
  }

  /**
   * Lets `grantee` claim verified uploads (`claimUpload` of `cdk-direct-upload/worker`): one PutObjectTagging
   * per upload that keeps the verified tag and drops the unclaimed one, on verified objects under the prefix
   * only. Needs `unclaimedUploadExpiry`.
   */
  public grantClaimUploads(grantee: iam.IGrantable): iam.Grant {
    if (!this.unclaimedExpire) {
      throw new Error('grantClaimUploads needs unclaimedUploadExpiry: without it uploads never expire and need no claim.');
    }
    return grantClaims(grantee, this.bucket, this.uploadPrefix);
  }
}

/**
 * The CDN gate: CloudFront (OAC) may read an object under the prefix only once it carries the verified
 * tag. A Deny overrides the OAC Allow; a missing tag also denies (a negated condition on an absent key is
 * true). S3 evaluates the tags of the version it serves, the current one.
 */
function gateStatement(bucket: s3.IBucket, prefix: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'DenyCdnUnverifiedUploads',
    effect: iam.Effect.DENY,
    principals: [new iam.ServicePrincipal('cloudfront.amazonaws.com')],
    actions: ['s3:GetObject'],
    resources: [bucket.arnForObjects(`${prefix}/*`)],
    conditions: { StringNotEquals: { [`s3:ExistingObjectTag/${VERIFIED_TAG}`]: VERIFIED_VALUE } },
  });
}

/** Only the verifier may set the verifier's tags (on upload or afterwards), whoever else can write. */
function tagStatement(bucket: s3.IBucket, writers: iam.IRole[], actions = ['s3:PutObject', 's3:PutObjectTagging', 's3:PutObjectVersionTagging']): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'DenyVerificationTagsExceptVerifier',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions,
    resources: [bucket.arnForObjects('*')],
    conditions: {
      'ForAnyValue:StringLike': { 's3:RequestObjectTagKeys': [`${TAG_KEY_PREFIX}*`] },
      'ArnNotEquals': { 'aws:PrincipalArn': writers.length === 1 ? writers[0].roleArn : writers.map((r) => r.roleArn) },
    },
  });
}

import { Aspects, CfnResource, Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** Construct metadata key that aws-cdk-lib's `Validations.of(x).acknowledge()` writes and cdk-nag 3 reads. */
export const ACKNOWLEDGED_RULES_METADATA_KEY = 'aws:cdk:acknowledged-rules';

/** One acknowledged cdk-nag finding. */
export interface NagAcknowledgement {
  /** Rule id, e.g. `AwsSolutions-IAM5`. */
  readonly id: string;
  /** Why the finding is acceptable: a reviewer reads this. At least 10 characters. */
  readonly reason: string;
  /**
   * For cdk-nag 2: the finding ids (or `{ regex }`) the acknowledgement is limited to.
   * Give `findings` too, or cdk-nag 3 does not see the acknowledgement.
   */
  readonly appliesTo?: Array<string | { regex: string }>;
  /**
   * For cdk-nag 3: the exact finding ids (e.g. `Resource::<BucketA1B2.Arn>/uploads/*`), computed at
   * synthesis, when logical ids are final. cdk-nag 3 matches findings exactly, not by pattern.
   */
  readonly findings?: () => string[];
}

/**
 * Acknowledges cdk-nag findings on a construct, for both cdk-nag lines, without making cdk-nag a
 * runtime dependency of this library:
 * - cdk-nag 2 (Aspects): CloudFormation resource metadata `cdk_nag.rules_to_suppress`, the format
 *   `NagSuppressions.addResourceSuppressions` writes, on the construct's resource (or every
 *   resource below it with `applyToChildren`);
 * - cdk-nag 3 (aws-cdk-lib `Validations`): construct metadata `aws:cdk:acknowledged-rules`, the
 *   format `Validations.of(scope).acknowledge()` writes; it covers everything below `scope`.
 */
export function acknowledge(scope: IConstruct, acks: NagAcknowledgement[], applyToChildren = false): void {
  const targets = applyToChildren ? scope.node.findAll() : [scope];
  for (const target of targets) {
    const resource = target.node.defaultChild ?? target;
    if (!(resource instanceof CfnResource)) continue;
    const existing = (resource.getMetadata('cdk_nag') as { rules_to_suppress?: object[] } | undefined)?.rules_to_suppress ?? [];
    const added = acks.map(({ id, reason, appliesTo }) => (appliesTo ? { id, reason, applies_to: appliesTo } : { id, reason }));
    const merged = [...new Set([...existing, ...added].map((r) => JSON.stringify(r)))].map((r) => JSON.parse(r));
    resource.addMetadata('cdk_nag', { rules_to_suppress: merged });
  }

  const whole = acks.filter((a) => !a.appliesTo);
  if (whole.length > 0) {
    scope.node.addMetadata(ACKNOWLEDGED_RULES_METADATA_KEY, Object.fromEntries(whole.map((a) => [a.id, a.reason])));
  }
  const specific = acks.filter((a) => a.findings);
  if (specific.length > 0) {
    // Logical ids are only final once the app is complete: record the exact findings during synthesis
    // (aspects run before validation plugins).
    Aspects.of(scope).add({
      visit(node: IConstruct) {
        if (node !== scope) return;
        const entries = specific.flatMap((a) => a.findings!().map((f) => [`${a.id}[${f}]`, a.reason] as const));
        scope.node.addMetadata(ACKNOWLEDGED_RULES_METADATA_KEY, Object.fromEntries(entries));
      },
    });
  }
}

function escapeRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The logical id of a construct's CloudFormation resource, once the app is complete. */
function logicalIdOf(construct: IConstruct): string {
  return Stack.of(construct).resolve((construct.node.defaultChild as CfnResource).logicalId);
}

/**
 * Acknowledges `AwsSolutions-IAM5` on `role` (and its policies) for exactly two kinds of wildcard: objects
 * under `<bucket>/<prefix>/*` (upload keys are chosen per request) and, when given, the log streams of
 * the role's own `logGroup`. Any other wildcard the role gets stays a finding.
 */
export function acknowledgePrefixWildcard(role: IConstruct, options: {
  readonly bucket: IConstruct;
  readonly prefix: string;
  readonly reason: string;
  readonly logGroup?: IConstruct;
}): void {
  const { bucket, prefix, logGroup } = options;
  // An imported bucket has no resource of this app: its ARN is a literal (cdk-nag 2 only, by pattern).
  const owned = bucket.node.defaultChild instanceof CfnResource;
  acknowledge(role, [{
    id: 'AwsSolutions-IAM5',
    reason: options.reason,
    appliesTo: [
      { regex: owned ? `/^Resource::<.*${escapeRegex(bucket.node.id)}.*\\.Arn>\\/${escapeRegex(prefix)}\\/\\*$/` : `/^Resource::arn:.*:s3:::[^/]+\\/${escapeRegex(prefix)}\\/\\*$/` },
      ...(logGroup ? [{ regex: `/^Resource::<.*${escapeRegex(logGroup.node.id)}.*\\.Arn>:\\*$/` }] : []),
    ],
    findings: () => [
      // A token prefix (e.g. a parameter) has no literal finding id to acknowledge.
      ...(Token.isUnresolved(prefix) || !owned ? [] : [`Resource::<${logicalIdOf(bucket)}.Arn>/${prefix}/*`]),
      ...(logGroup ? [`Resource::<${logicalIdOf(logGroup)}.Arn>:*`] : []),
    ],
  }], true);
}

/** The compliance packs whose findings this library answers for besides AwsSolutions. */
const COMPLIANCE_PACKS = ['HIPAA.Security', 'NIST.800.53.R5'];

/** One acknowledgement of `rule` for each compliance pack (HIPAA Security, NIST 800-53 R5). */
export function compliance(rule: string, reason: string): NagAcknowledgement[] {
  return COMPLIANCE_PACKS.map((pack) => ({ id: `${pack}-${rule}`, reason }));
}

/** Why a bundled function is what it is; the rest of the acknowledgements are the same for every one. */
export interface BundledFunctionReasons {
  /** Why the function has no reserved concurrency. */
  readonly concurrency: string;
  /** Why the function has no Lambda dead-letter queue. */
  readonly deadLetterQueue: string;
}

/**
 * The acknowledgements every function this library bundles needs, on the function, its role and its log
 * group: the pinned runtime, no VPC, the generated inline policy, service-managed log encryption.
 */
export function acknowledgeBundledFunction(fn: IConstruct, role: IConstruct, logGroup: IConstruct, reasons: BundledFunctionReasons): void {
  acknowledge(fn, [
    { id: 'AwsSolutions-L1', reason: 'The runtime is pinned to nodejs22.x on purpose: the bundle is built for exactly that target at build time.' },
    ...compliance('LambdaConcurrency', reasons.concurrency),
    ...compliance('LambdaDLQ', reasons.deadLetterQueue),
    ...compliance('LambdaInsideVPC', 'The function calls only public AWS APIs (S3, SQS, DynamoDB) with IAM; a VPC would add NAT or endpoints and cold-start cost without protecting anything.'),
  ]);
  acknowledge(role, compliance('IAMNoInlinePolicy', 'The role\'s policy is generated from grants on this construct\'s own resources (least privilege, one prefix, one table, one log group); a managed policy would be no narrower and could be attached elsewhere.'), true);
  acknowledgeLogGroup(logGroup);
}

/** A log group of this library: encrypted by CloudWatch Logs, holding request metadata only. */
export function acknowledgeLogGroup(logGroup: IConstruct): void {
  acknowledge(logGroup, compliance('CloudWatchLogGroupEncrypted', 'Encrypted at rest by CloudWatch Logs with service-managed keys. The logs hold request metadata (route, status, caller id, keys), never credentials, signatures or file contents.'));
}

const BASIC_EXECUTION_ROLE_FINDING = 'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';

/**
 * aws-cdk-lib creates its own helper functions for bucket notifications and auto-delete, at the stack's
 * top level; explain them to cdk-nag. Call after the notification or the auto-deleting bucket exists.
 */
export function acknowledgeCdkHelpers(scope: IConstruct, bucket: IConstruct): void {
  const internals = Stack.of(scope).node.children.filter((c) =>
    c.node.id.startsWith('BucketNotificationsHandler') || c.node.id.startsWith('Custom::S3AutoDeleteObjects'));
  // Newer aws-cdk-lib releases give the notifications handler's policy a construct under the bucket.
  const notifications = bucket.node.tryFindChild('Notifications');
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
      ...compliance('IAMNoInlinePolicy', 'aws-cdk-lib\'s own helper function role; its inline policy is generated by aws-cdk-lib for this stack\'s buckets only.'),
      ...compliance('LambdaConcurrency', 'aws-cdk-lib\'s own helper function, run only by CloudFormation during deployments.'),
      ...compliance('LambdaDLQ', 'aws-cdk-lib\'s own helper function, invoked synchronously by CloudFormation (custom resource), which reports its failure.'),
      ...compliance('LambdaInsideVPC', 'aws-cdk-lib\'s own helper function calls only the S3 API during deployments.'),
    ], true);
  }
}

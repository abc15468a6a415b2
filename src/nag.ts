import { CfnResource } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** One acknowledged cdk-nag finding. */
export interface NagAcknowledgement {
  /** Rule id, e.g. `AwsSolutions-IAM5`. */
  readonly id: string;
  /** Why the finding is acceptable: a reviewer reads this. At least 10 characters. */
  readonly reason: string;
  /** Finding ids (or `{ regex }`) the acknowledgement is limited to. */
  readonly appliesTo?: Array<string | { regex: string }>;
}

/**
 * Acknowledges cdk-nag findings on a construct's CloudFormation resources.
 *
 * Writes cdk-nag's own resource metadata (`cdk_nag.rules_to_suppress`, the format
 * `NagSuppressions.addResourceSuppressions` writes), so consumers running cdk-nag see the reasons,
 * without making cdk-nag a runtime dependency of this library.
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
}

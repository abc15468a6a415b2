/**
 * Claims of unclaimed uploads, construct side. With `unclaimedUploadExpiry` the verifier tags verified
 * uploads `direct-upload:unclaimed=true` and a lifecycle rule expires them; a claim is one PutObjectTagging
 * writing exactly the verified tag and the ETag tag. The bucket policy lets anyone but the verifier write
 * verification tags only in that shape, on an object that is already verified: a claim can drop
 * `unclaimed`, never verify anything.
 */
import { aws_iam as iam, aws_s3 as s3 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ETAG_TAG, TAG_KEY_PREFIX, VERIFIED_TAG, VERIFIED_VALUE } from '../contract/queue-message';
import { acknowledge, acknowledgePrefixWildcard, compliance } from '../private/nag';

const TAGGING_ACTIONS = ['s3:PutObjectTagging', 's3:PutObjectVersionTagging'];
/** The tag keys a claim writes; any other key of the verifier's is the verifier's alone. */
const CLAIM_TAG_KEYS = [VERIFIED_TAG, ETAG_TAG];

/**
 * A tag write that is not the verifier's and not a claim is denied. A claim is the conjunction of three
 * conditions, so its negation takes three Deny statements (a Deny's conditions are ANDed), each denying the
 * writes that break one of them: the request sets `verified` to anything but `true` (or leaves it out), the
 * object is not verified yet (a missing tag counts as not verified), or the request sets a key outside
 * {verified, etag}.
 */
export function claimStatements(bucket: s3.IBucket, writers: iam.IRole[]): iam.PolicyStatement[] {
  // The writers are the verifier and, with malware scanning, GuardDuty's role (it re-writes existing tags).
  const exempt = writers.length === 1 ? writers[0].roleArn : writers.map((r) => r.roleArn);
  const deny = (sid: string, condition: Record<string, Record<string, unknown>>) => new iam.PolicyStatement({
    sid,
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: TAGGING_ACTIONS,
    resources: [bucket.arnForObjects('*')],
    conditions: {
      'ForAnyValue:StringLike': { 's3:RequestObjectTagKeys': [`${TAG_KEY_PREFIX}*`] },
      'ArnNotEquals': { 'aws:PrincipalArn': exempt },
      ...condition,
    },
  });
  return [
    deny('DenyVerificationTagWritesExceptClaims', { StringNotEquals: { [`s3:RequestObjectTag/${VERIFIED_TAG}`]: VERIFIED_VALUE } }),
    deny('DenyClaimsOfUnverifiedObjects', { StringNotEquals: { [`s3:ExistingObjectTag/${VERIFIED_TAG}`]: VERIFIED_VALUE } }),
    deny('DenyClaimsWithOtherTags', { 'ForAnyValue:StringNotEquals': { 's3:RequestObjectTagKeys': CLAIM_TAG_KEYS } }),
  ];
}

/** The grantee may write claims (and nothing else) on verified objects under the prefix. */
export function grantClaims(grantee: iam.IGrantable, bucket: s3.IBucket, prefix: string): iam.Grant {
  const grant = iam.Grant.addToPrincipal({
    grantee,
    actions: TAGGING_ACTIONS,
    resourceArns: [bucket.arnForObjects(`${prefix}/*`)],
    conditions: {
      'StringEquals': {
        [`s3:ExistingObjectTag/${VERIFIED_TAG}`]: VERIFIED_VALUE,
        [`s3:RequestObjectTag/${VERIFIED_TAG}`]: VERIFIED_VALUE,
      },
      'ForAllValues:StringEquals': { 's3:RequestObjectTagKeys': CLAIM_TAG_KEYS },
    },
  });
  const principal = grantee.grantPrincipal;
  if (Construct.isConstruct(principal)) {
    acknowledgePrefixWildcard(principal, {
      bucket,
      prefix,
      reason: 'grantClaimUploads: claims name the upload their message announced, any key under the upload prefix (keys are chosen per upload), and only rewrite the tags of verified objects; nothing outside the prefix.',
    });
    acknowledge(principal, compliance('IAMNoInlinePolicy',
      'grantClaimUploads adds a generated least-privilege policy (tagging of verified uploads under the prefix, claims only) to the role it is given, like every aws-cdk-lib grant.'), true);
  }
  return grant;
}

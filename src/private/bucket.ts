/** What the library needs of an upload bucket, whoever created it. */
import { Stack, aws_iam as iam, aws_s3 as s3 } from 'aws-cdk-lib';

/**
 * Whether the bucket is versioned: true or false for a bucket of this app, undefined for an imported
 * one (its configuration is not known at synth).
 */
export function isVersioned(bucket: s3.IBucket): boolean | undefined {
  if (!(bucket instanceof s3.Bucket)) return undefined;
  const cfn = bucket.node.defaultChild as s3.CfnBucket;
  const config = Stack.of(bucket).resolve(cfn.versioningConfiguration) as { status?: string } | undefined;
  return config?.status === 'Enabled';
}

/**
 * Write-once, enforced by S3: a PutObject or CompleteMultipartUpload under the prefix without
 * If-None-Match is denied, whoever signed it. Multipart create and part uploads cannot carry the header
 * (`s3:ObjectCreationOperation` is false for them); POST forms cannot either, so they are exempt
 * (`s3:authType` POST): their policy pins one fresh key and expires with the URL expiry, and in a versioned
 * bucket a replayed form only adds a new, untagged version the verifier checks again.
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes-enforce.html
 */
export function writeOnceStatement(bucket: s3.IBucket, prefix: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'DenyOverwritingUploads',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['s3:PutObject'],
    resources: [bucket.arnForObjects(`${prefix}/*`)],
    conditions: {
      Null: { 's3:if-none-match': 'true' },
      Bool: { 's3:ObjectCreationOperation': 'true' },
      StringNotEquals: { 's3:authType': 'POST' },
    },
  });
}

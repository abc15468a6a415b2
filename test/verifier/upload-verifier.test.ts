/**
 * UploadVerifier on its own: the bucket and the announcement queue it is given.
 */
import { Duration, Stack, aws_s3 as s3, aws_sqs as sqs } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { UploadVerifier, UploadVerifierProps } from '../../src';
import { VERIFIED_QUEUE_URL_ENV } from '../../src/contract/environment';
import { testStack } from '../util';

function verifier(props: Partial<UploadVerifierProps> = {}, stack: Stack = testStack()) {
  const bucket = props.bucket ?? new s3.Bucket(stack, 'Files', { versioned: true });
  const verifiedQueue = props.verifiedQueue ?? new sqs.Queue(stack, 'Verified');
  const construct = new UploadVerifier(stack, 'Verifier', { bucket, verifiedQueue, ...props });
  return { stack, bucket, verifier: construct, template: Template.fromStack(stack) };
}

describe('UploadVerifier', () => {
  test('GIVEN a versioned bucket and a queue, THEN S3 notifies its verification queue and it announces on the given queue', () => {
    const { template, stack, verifier: v } = verifier({ uploadPrefix: 'media' });
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        QueueConfigurations: [Match.objectLike({
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'media/' }] } },
          QueueArn: stack.resolve(v.verificationQueue.queueArn),
        })],
      },
    });
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: Match.objectLike({ [VERIFIED_QUEUE_URL_ENV]: Match.anyValue() }) } },
    }));
    expect(JSON.stringify(fn.Properties.Environment.Variables[VERIFIED_QUEUE_URL_ENV])).toMatch(/"Ref":"Verified[0-9A-F]+"/);
  });

  test('without a dead-letter queue it creates one (14 days) for both its queues', () => {
    const { template, stack, verifier: v } = verifier();
    const dlqArn = stack.resolve(v.deadLetterQueue.queueArn);
    for (const queue of [v.verificationQueue, v.rejectionQueue]) {
      const id = stack.resolve((queue.node.defaultChild as sqs.CfnQueue).logicalId);
      expect(template.toJSON().Resources[id].Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: dlqArn, maxReceiveCount: 5 });
    }
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 1_209_600 });
  });

  test('refuses a bucket of this app that is not versioned', () => {
    const stack = testStack();
    expect(() => verifier({ bucket: new s3.Bucket(stack, 'Plain') }, stack)).toThrow(/bucket must be versioned \(versioned: true\)/);
  });

  test('an imported bucket: the bucket-policy statements cannot be added, so they are exposed; retained rejects are refused', () => {
    const stack = testStack();
    const imported = s3.Bucket.fromBucketName(stack, 'Imported', 'their-bucket');
    const { verifier: v, template } = verifier({ bucket: imported }, stack);
    template.resourceCountIs('AWS::S3::BucketPolicy', 0);
    expect(v.bucketPolicyStatements.map((s) => s.sid)).toEqual(['DenyCdnUnverifiedUploads', 'DenyVerificationTagsExceptVerifier', 'DenyOverwritingUploads']);
    const other = testStack();
    expect(() => verifier({ bucket: s3.Bucket.fromBucketName(other, 'Imported', 'their-bucket'), rejectedUploadRetention: Duration.days(3) }, other))
      .toThrow(/rejectedUploadRetention needs a bucket of this app/);
  });

  test('validation names its own props', () => {
    expect(() => verifier({ maxReceiveCount: 0, rejectedUploadRetention: Duration.hours(5) })).toThrow(new RegExp([
      '^Invalid UploadVerifier props:',
      '- rejectedUploadRetention must be a whole number of days from 1 to 3650 \\(got 5 hours\\)[^\\n]*',
      '- maxReceiveCount must be an integer from 1 to 1000 \\(got 0\\)\\.$',
    ].join('\\n')));
  });
});

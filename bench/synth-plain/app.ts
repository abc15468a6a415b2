/**
 * Figure 5's comparison app: the example app (examples/app.ts) with one plain `s3.Bucket` in place of
 * the DirectUploadBucket construct — same worker function, read access to the bucket. There is no
 * queue, so the worker has no event source. Synthesized with `cdk synth` by bench/figures/synth.ts.
 */
import { App, Stack, StackProps, aws_lambda as lambda, aws_s3 as s3 } from 'aws-cdk-lib';
import { Construct } from 'constructs';

export class PlainBucketStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const bucket = new s3.Bucket(this, 'Uploads');

    const worker = new lambda.Function(this, 'Worker', {
      runtime: lambda.Runtime.NODEJS_LATEST,
      handler: 'index.handler',
      code: lambda.Code.fromInline(
        'exports.handler = async (event) => { for (const r of event.Records) console.log(r.body); };',
      ),
    });
    bucket.grantRead(worker);
  }
}

const app = new App();
new PlainBucketStack(app, 'PlainBucketExample', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1' },
});
app.synth();

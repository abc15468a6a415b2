/**
 * Example app: a web app's upload stack.
 *
 *   npm run example:synth      # offline, no credentials needed
 *   npm run example:deploy     # with AWS credentials (builds the Lambda bundles, then cdk deploy)
 *   npm run example:destroy
 *
 * Set ALLOWED_ORIGIN to your web app's origin (default http://localhost:5173 for local front-end work).
 */
import { App, CfnOutput, Duration, Size, Stack, StackProps, aws_lambda as lambda } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { DirectUploadBucket } from '../src';

export class DirectUploadExampleStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const uploads = new DirectUploadBucket(this, 'Uploads', {
      allowedOrigins: [process.env.ALLOWED_ORIGIN ?? 'http://localhost:5173'],
      maxFileSize: Size.mebibytes(20),
      urlExpiry: Duration.minutes(5),
    });

    // A post-processing worker: consumes ObjectCreated notifications and reads the uploaded files.
    const worker = new lambda.Function(this, 'Worker', {
      // By name: the aws-cdk-lib floor (2.156) has no NODEJS_22_X, and its NODEJS_LATEST is the deprecated nodejs18.x.
      runtime: new lambda.Runtime('nodejs22.x', lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true }),
      handler: 'index.handler',
      code: lambda.Code.fromInline(
        'exports.handler = async (event) => { for (const r of event.Records) console.log(r.body); };',
      ),
    });
    uploads.grantConsumeUploads(worker);
    worker.addEventSource(new SqsEventSource(uploads.queue, { batchSize: 10, reportBatchItemFailures: true }));

    // Your application backend (here: any IAM principal you choose) calls the signer with SigV4.
    new CfnOutput(this, 'UploadsEndpoint', { value: `${uploads.signerUrl}/uploads` });
  }
}

const app = new App();
new DirectUploadExampleStack(app, 'DirectUploadExample', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1' },
});
app.synth();

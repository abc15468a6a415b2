/**
 * Integration test, as cdklabs libraries write them: `integ-runner` checks this app's synthesized snapshot
 * offline (`npx projen integ:snapshot`, in `npm test`), and with AWS credentials deploys it, runs the
 * assertion below for real and destroys it (`npm run integ`).
 *
 * The assertion invokes a test client in the stack that does what a browser does, against the deployed
 * construct: sign → PUT to S3 → the verified upload's message arrives on the queue → the CDN serves the
 * same bytes; and an SVG declared as PNG is signed and uploaded (S3 cannot know), then rejected by the
 * verifier: never announced, never served.
 */
import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, RemovalPolicy, Stack, aws_lambda as lambda } from 'aws-cdk-lib';
import { DirectUploadBucket } from '../../src';
import { SVG, makePng } from '../verifier/samples';

const app = new App();
const stack = new Stack(app, 'DirectUploadInteg');

const uploads = new DirectUploadBucket(stack, 'Uploads', {
  // The test client calls the signer without credentials; every other default stays as shipped.
  allowAnonymousUploads: true,
  removalPolicy: RemovalPolicy.DESTROY,
  autoDeleteObjects: true,
});

const rejections = uploads.rejectionQueue;
if (!rejections) throw new Error('the integration test needs the verifier (verifyUploads: true, the default)');

/** The client: Node 22's fetch for HTTP, the runtime's own AWS SDK for SQS. Gives up after 90 s. */
const CLIENT = `
const { SQSClient, ReceiveMessageCommand, DeleteMessageCommand } = require('@aws-sdk/client-sqs');
const sqs = new SQSClient({});
const PNG = Buffer.from(process.env.PNG, 'base64');
const SVG = Buffer.from(process.env.SVG, 'base64');
const id = (key) => key.split('/').pop();

async function upload(bytes, contentType) {
  const res = await fetch(process.env.SIGNER_URL + '/uploads', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ contentType, size: bytes.length }),
  });
  const plan = await res.json();
  if (!res.ok) return { signed: false, uploaded: false };
  const put = await fetch(plan.url, { method: plan.method, headers: plan.headers, body: bytes });
  return { signed: true, uploaded: put.ok, key: plan.key, publicUrl: plan.publicUrl };
}

/** Receives from a queue until a message names the key; reports every other key seen on the way. */
async function waitFor(queueUrl, key, deadline, seen) {
  while (Date.now() < deadline) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 5, MaxNumberOfMessages: 10 }));
    let found = false;
    for (const m of r.Messages ?? []) {
      seen.push(m.Body);
      if (m.Body.includes(id(key))) found = true;
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
    if (found) return true;
  }
  return false;
}

exports.handler = async () => {
  const deadline = Date.now() + 90000;
  const announced = [];
  const svg = await upload(SVG, 'image/png');
  const svgRejected = svg.uploaded && (await waitFor(process.env.REJECTION_QUEUE_URL, svg.key, deadline, []));
  const png = await upload(PNG, 'image/png');
  const pngAnnounced = png.uploaded && (await waitFor(process.env.QUEUE_URL, png.key, deadline, announced));
  const served = png.uploaded ? await fetch(png.publicUrl) : undefined;
  const body = served && served.ok ? Buffer.from(await served.arrayBuffer()) : Buffer.alloc(0);
  const svgServed = svg.uploaded ? (await fetch(svg.publicUrl)).status === 200 : false;
  return {
    pngSigned: png.signed,
    pngUploaded: png.uploaded,
    pngAnnounced,
    pngServed: Boolean(served && served.ok),
    pngBytesMatch: body.equals(PNG),
    svgSigned: svg.signed,
    svgUploaded: svg.uploaded,
    svgRejected,
    svgAnnounced: Boolean(svg.key) && announced.some((b) => b.includes(id(svg.key))),
    svgServed,
  };
};
`;

const client = new lambda.Function(stack, 'TestClient', {
  runtime: new lambda.Runtime('nodejs22.x', lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true }),
  handler: 'index.handler',
  code: lambda.Code.fromInline(CLIENT),
  timeout: Duration.minutes(2),
  environment: {
    SIGNER_URL: uploads.signerUrl,
    QUEUE_URL: uploads.queue.queueUrl,
    REJECTION_QUEUE_URL: rejections.queueUrl,
    PNG: makePng(2, 2).toString('base64'),
    SVG: SVG.toString('base64'),
  },
});
uploads.grantConsumeUploads(client);
rejections.grantConsumeMessages(client);

const integ = new IntegTest(app, 'DirectUploadIntegTest', {
  testCases: [stack],
  diffAssets: false,
  cdkCommandOptions: { destroy: { args: { force: true } } },
});

integ.assertions
  .invokeFunction({ functionName: client.functionName })
  .expect(ExpectedResult.objectLike({
    Payload: JSON.stringify({
      pngSigned: true,
      pngUploaded: true,
      pngAnnounced: true,
      pngServed: true,
      pngBytesMatch: true,
      svgSigned: true,
      svgUploaded: true,
      svgRejected: true,
      svgAnnounced: false,
      svgServed: false,
    }),
  }))
  .waitForAssertions({ totalTimeout: Duration.minutes(6), interval: Duration.seconds(30) });

app.synth();

/**
 * Writes the CloudFormation template of every configuration the suite synthesizes to a directory, for
 * the checkers CloudFormation's own resource specifications back (cfn-lint) and for checkov:
 *   tsx test/templates/synth.ts test/templates/out
 * The example app's template comes from `cdk synth` in examples/ (scripts/check-templates.sh).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, aws_lambda as lambda } from 'aws-cdk-lib';
import { DirectUploadBucket, DirectUploadBucketProps } from '../../src';
import { fullProps } from '../util';

/** A configuration: its props, built in the stack (keys, certificates), and what to do after (grants). */
export interface Configuration {
  readonly props: (stack: Stack) => DirectUploadBucketProps;
  readonly extend?: (uploads: DirectUploadBucket, stack: Stack) => void;
}

/** Every configuration whose template is checked. Add one here when a new mode or part lands. */
export const CONFIGURATIONS: Record<string, Configuration> = {
  default: { props: () => ({}) },
  // Every option on (test/util.ts), and a worker granted the queue.
  full: {
    props: fullProps,
    extend: (uploads, stack) => {
      const worker = new lambda.Function(stack, 'Worker', {
        runtime: new lambda.Runtime('nodejs22.x', lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true }),
        handler: 'index.handler',
        code: lambda.Code.fromInline('exports.handler = async () => ({ batchItemFailures: [] });'),
      });
      uploads.grantConsumeUploads(worker);
    },
  },
  anonymous: { props: () => ({ allowAnonymousUploads: true, allowedOrigins: ['https://app.example.com'] }) },
  // GuardDuty Malware Protection for S3 on the prefix, with SSE-KMS (the plan's role decrypts).
  malwareScanning: { props: (stack) => ({ ...fullProps(stack), malwareScanning: true }) },
  // Delivery modes: verified-only (the default, above) and unverified (no verifier, no CDN gate).
  unverified: { props: () => ({ verifyUploads: false }) },
  // The relaxed switches: no access logs, no alarms, no acceleration.
  relaxed: { props: () => ({ serverAccessLogs: false, createAlarms: false, transferAcceleration: false }) },
};

/** Synthesizes one configuration in a fresh app and returns its template. */
export function synthesize(configuration: Configuration): unknown {
  const app = new App();
  const stack = new Stack(app, 'TemplateCheck', { env: { account: '123456789012', region: 'eu-west-1' } });
  const uploads = new DirectUploadBucket(stack, 'Uploads', configuration.props(stack));
  configuration.extend?.(uploads, stack);
  return app.synth().getStackByName(stack.stackName).template;
}

if (require.main === module) {
  const out = process.argv[2] ?? join(__dirname, 'out');
  mkdirSync(out, { recursive: true });
  for (const [name, configuration] of Object.entries(CONFIGURATIONS)) {
    const file = join(out, `${name}.template.json`);
    writeFileSync(file, JSON.stringify(synthesize(configuration), null, 1));
    console.log(file);
  }
}

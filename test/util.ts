import { App, Duration, RemovalPolicy, Stack, aws_certificatemanager as acm, aws_iam as iam, aws_kms as kms, aws_lambda as lambda, aws_logs as logs, aws_sns as sns } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { DirectUploadBucket, DirectUploadBucketProps } from '../src';

/** What every construct test needs: a fresh app, a stack, the construct and its template. */
export interface Synthesized {
  readonly app: App;
  readonly stack: Stack;
  readonly uploads: DirectUploadBucket;
  readonly template: Template;
}

/**
 * Builds the construct in a fresh stack. `props` may be a function that adds to the stack (a key,
 * a certificate) and returns the props; `extend` runs after the construct exists (grants), before
 * the template is synthesized (a stack synthesizes once).
 */
export function synth(
  props: DirectUploadBucketProps | ((stack: Stack) => DirectUploadBucketProps) = {},
  extend?: (uploads: DirectUploadBucket, stack: Stack) => void,
): Synthesized {
  const app = new App();
  const stack = new Stack(app, 'TestStack', { env: { account: '123456789012', region: 'eu-west-1' } });
  const resolved = typeof props === 'function' ? props(stack) : props;
  const uploads = new DirectUploadBucket(stack, 'Uploads', resolved);
  extend?.(uploads, stack);
  return { app, stack, uploads, template: Template.fromStack(stack) };
}

/**
 * A snapshot of the template with asset hashes masked, so snapshots do not change when only the
 * bundled handler's bytes change (the handler has tests of its own), and without the cdk-nag
 * acknowledgement metadata (test/nag.test.ts checks those by running cdk-nag).
 */
export function stableTemplate(template: Template): unknown {
  const json = JSON.stringify(template.toJSON(), (key, value) => (key === 'cdk_nag' ? undefined : value));
  const masked = JSON.parse(json.replace(/[0-9a-f]{64}(\.zip)?/g, '<asset-hash>$1'));
  for (const resource of Object.values(masked.Resources ?? {}) as Array<{ Metadata?: object }>) {
    if (resource.Metadata && Object.keys(resource.Metadata).length === 0) delete resource.Metadata;
  }
  return masked;
}

/** A consumer's worker, clean for every cdk-nag pack on its own: own log group, own role (ids `Worker*`). */
export function consumerWorker(stack: Stack): lambda.Function {
  return new lambda.Function(stack, 'Worker', {
    runtime: lambda.Runtime.NODEJS_20_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {};'),
    role: new iam.Role(stack, 'WorkerRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }),
    logGroup: new logs.LogGroup(stack, 'WorkerLogs'),
  });
}

/** A stack of a fresh app, in the test account and region. */
export function testStack(): Stack {
  return new Stack(new App(), 'TestStack', { env: { account: '123456789012', region: 'eu-west-1' } });
}

/**
 * The environment of the template's one function that has `marker` in its environment, as the Lambda
 * runtime would see it: `AWS::URLSuffix` and the `refs` given (logical id → value) resolved, every other
 * value a literal (fails the test otherwise).
 */
export function functionEnvironment(template: Template, marker: string, refs: Record<string, string> = {}): Record<string, string> {
  const fns = Object.values(template.findResources('AWS::Lambda::Function'))
    .map((fn) => fn.Properties.Environment?.Variables as Record<string, unknown> | undefined)
    .filter((vars): vars is Record<string, unknown> => vars !== undefined && marker in vars);
  if (fns.length !== 1) throw new Error(`expected one function with ${marker}, found ${fns.length}`);
  return Object.fromEntries(Object.entries(fns[0]).map(([name, value]) => {
    if (typeof value === 'string') return [name, value];
    const ref = (value as { Ref?: string }).Ref;
    if (ref === 'AWS::URLSuffix') return [name, 'amazonaws.com'];
    if (ref !== undefined && ref in refs) return [name, refs[ref]];
    throw new Error(`${name} is not a literal at synth: ${JSON.stringify(value)}`);
  }));
}

/**
 * Every option on: quota, alarms with a topic, JWT, KMS, custom domain, WAF, auto-delete. Shared by the
 * cdk-nag tests and the template checks (test/templates).
 */
export function fullProps(stack: Stack): DirectUploadBucketProps {
  return {
    authorizer: new HttpJwtAuthorizer('Jwt', 'https://issuer.example.com', { jwtAudience: ['client'] }),
    allowedOrigins: ['https://app.example.com'],
    encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
    domainNames: ['files.example.com'],
    certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:123456789012:certificate/abc'),
    webAclId: 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/y',
    removalPolicy: RemovalPolicy.DESTROY,
    autoDeleteObjects: true,
    uploadQuota: { maxUploads: 100, window: Duration.hours(1) },
    alarmTopic: sns.Topic.fromTopicArn(stack, 'Alarms', 'arn:aws:sns:eu-west-1:123456789012:alarms'),
  };
}

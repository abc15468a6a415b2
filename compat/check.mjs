// Consumer-side compatibility check, run by .ci/run after `npx projen package`:
// installs the packaged tarball next to the newest aws-cdk-lib and cdk-nag 3, then
//  1. synthesizes the default and a full configuration (upper end of the supported aws-cdk-lib range),
//  2. runs cdk-nag 3's AwsSolutions, HIPAA Security and NIST 800-53 R5 packs (aws-cdk-lib Validations API):
//     no unacknowledged finding,
//  3. fails on any synth warning other than those a configuration expects (a consumer's `cdk synth --strict`
//     must stay green),
//  4. negative control: with the construct's acknowledgements stripped, cdk-nag 3 does report findings.
import { App, Aspects, Duration, Stack, aws_iam as iam, aws_kms as kms, aws_certificatemanager as acm, aws_s3 as s3, aws_sns as sns, aws_sqs as sqs } from 'aws-cdk-lib';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as nag from 'cdk-nag';
import { DirectUploadBucket, UploadDelivery, UploadSigner, UploadVerifier } from 'cdk-direct-upload';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const ACK_KEY = 'aws:cdk:acknowledged-rules';

// The packs the construct answers for; a pack this cdk-nag line does not ship is reported, not silently skipped.
const PACKS = [['AwsSolutions', nag.AwsSolutionsChecks], ['HIPAA Security', nag.HIPAASecurityChecks], ['NIST 800-53 R5', nag.NIST80053R5Checks]];
for (const [name, Pack] of PACKS) {
  if (typeof Pack !== 'function') {
    console.log(`FAIL cdk-nag does not export the ${name} pack`);
    process.exit(1);
  }
}

/** The L3 with `props`, and a consumer's worker role: what grantConsumeUploads adds must be clean for the consumer's cdk-nag too. */
const l3 = (props) => (stack) => {
  const uploads = new DirectUploadBucket(stack, 'Uploads', props(stack));
  uploads.grantConsumeUploads(new iam.Role(stack, 'Worker', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }));
};

/** The three parts alone, around the user's own bucket and queue (whose findings are the user's: see USER_OWNED). */
const parts = (stack) => {
  const bucket = new s3.Bucket(stack, 'Files', { versioned: true, enforceSSL: true });
  const delivery = new UploadDelivery(stack, 'Delivery', { bucket });
  new UploadVerifier(stack, 'Verifier', { bucket, verifiedQueue: new sqs.Queue(stack, 'Verified', { enforceSSL: true }) });
  new UploadSigner(stack, 'Signer', { bucket, publicBaseUrl: delivery.url });
};
const USER_OWNED = /^Compat\/(Files|Verified)(\/|$)/;

function build(construct, { stripAcknowledgements = false } = {}) {
  const app = new App();
  const stack = new Stack(app, 'Compat', { env: { account: '123456789012', region: 'eu-west-1' } });
  construct(stack);
  if (stripAcknowledgements) {
    Aspects.of(app).add({
      visit(node) {
        // constructs keeps metadata in a private array (the public getter returns a copy).
        const entries = node.node._metadata ?? [];
        for (let i = entries.length - 1; i >= 0; i--) if (entries[i].type === ACK_KEY) entries.splice(i, 1);
      },
    }, { priority: 10_000 });
  }
  const assembly = app.synth();
  const violations = PACKS.flatMap(([, Pack]) => new Pack().validateScope(app).violations)
    .map((v) => ({ ...v, violatingResources: v.violatingResources.filter((r) => !USER_OWNED.test(r.constructPath)) }))
    .filter((v) => v.violatingResources.length > 0)
    .map((v) => `${v.ruleName} @ ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
  const warnings = assembly.getStackByName('Compat').messages
    .filter((m) => m.level === 'warning')
    .map((m) => `${m.id}: ${String(m.entry.data).split('\n')[0]}`);
  return { assembly, violations, warnings };
}

const configurations = {
  default: l3(() => ({})),
  full: l3((stack) => ({
    authorizer: new HttpJwtAuthorizer('Jwt', 'https://issuer.example.com', { jwtAudience: ['client'] }),
    allowedOrigins: ['https://app.example.com'],
    encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
    domainNames: ['files.example.com'],
    certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:123456789012:certificate/abc'),
    webAclId: 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/y',
    uploadQuota: { maxUploads: 100, window: Duration.hours(1) },
    alarmTopic: sns.Topic.fromTopicArn(stack, 'Alarms', 'arn:aws:sns:eu-west-1:123456789012:alarms'),
  })),
  relaxed: l3(() => ({ allowAnonymousUploads: true, serverAccessLogs: false, createAlarms: false })),
  parts,
};
// The warnings a configuration asks for (a choice the user made knowingly); any other warning fails.
const expectedWarnings = {
  relaxed: [/allowAnonymousUploads is true/],
};

const require = createRequire(import.meta.url);
const cdkVersion = require('aws-cdk-lib/package.json').version;
const nagVersion = require('cdk-nag/package.json').version;
let failed = 0;
for (const [name, configure] of Object.entries(configurations)) {
  const { assembly, violations, warnings } = build(configure);
  const unexpected = warnings.filter((w) => !(expectedWarnings[name] ?? []).some((re) => re.test(w)));
  const missing = (expectedWarnings[name] ?? []).filter((re) => !warnings.some((w) => re.test(w)));
  const template = assembly.getStackByName('Compat').template;
  // Every function the construct bundles (signer, verifier) ships its prebuilt asset in the package.
  const bundled = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Runtime === 'nodejs22.x');
  const assetOk = bundled.length >= 2 && bundled.every((fn) => {
    const hash = fn.Properties.Code.S3Key.replace(/\.zip$/, '');
    const assetDir = readdirSync(assembly.directory).find((d) => d.startsWith(`asset.${hash}`));
    return Boolean(assetDir) && existsSync(path.join(assembly.directory, assetDir, 'index.js'));
  });
  if (violations.length > 0 || !assetOk || unexpected.length > 0 || missing.length > 0) {
    failed++;
    console.log(`FAIL ${name}: ${violations.length} unacknowledged finding(s), ${unexpected.length} unexpected warning(s)`
      + `${missing.length > 0 ? `, expected warning(s) missing: ${missing.join(', ')}` : ''}${assetOk ? '' : ', a Lambda asset is missing'}`);
    for (const v of [...violations, ...unexpected]) console.log(`  ${v}`);
  } else {
    console.log(`ok   ${name}: synthesized with aws-cdk-lib ${cdkVersion} (${warnings.length} expected warning(s)), cdk-nag ${nagVersion} ${PACKS.map(([n]) => n).join(', ')} clean`);
  }
}
// Sub-path entry points resolve from the package (ESM here; CJS uses the same exports map).
const client = await import('cdk-direct-upload/client');
if (typeof client.uploadFile !== 'function' || client.ErrorCodes?.FILE_TOO_LARGE !== 'FILE_TOO_LARGE') {
  failed++;
  console.log('FAIL cdk-direct-upload/client does not export uploadFile and the protocol');
} else {
  console.log('ok   cdk-direct-upload/client exports uploadFile and the protocol');
}
const localUrl = import.meta.resolve('cdk-direct-upload/local');
if (!localUrl.endsWith('/lib/local/index.js')) {
  failed++;
  console.log(`FAIL cdk-direct-upload/local resolves to ${localUrl}`);
} else {
  console.log('ok   cdk-direct-upload/local resolves to lib/local/index.js');
}

const control = build(configurations.default, { stripAcknowledgements: true });
if (control.violations.length === 0) {
  failed++;
  console.log('FAIL negative control: without acknowledgements cdk-nag 3 should report findings (the check above could not fail)');
} else {
  console.log(`ok   negative control: without acknowledgements cdk-nag 3 reports ${control.violations.length} rule(s)`);
}
const passed = Object.keys(configurations).length + 3 - failed;
console.log(`compat: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

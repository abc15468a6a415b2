import { Aspects, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, HIPAASecurityChecks, NagPack, NIST80053R5Checks } from 'cdk-nag';
import { DeliveryMode, DirectUploadBucketProps } from '../src';
import { fullProps, synth } from './util';

type Props = DirectUploadBucketProps | ((stack: Stack) => DirectUploadBucketProps);

/** The packs this library answers for, with the prefix of their rule ids. */
const PACKS: ReadonlyArray<readonly [string, () => NagPack]> = [
  ['AwsSolutions-', () => new AwsSolutionsChecks({ verbose: true })],
  ['HIPAA.Security-', () => new HIPAASecurityChecks({ verbose: true })],
  ['NIST.800.53.R5-', () => new NIST80053R5Checks({ verbose: true })],
];

/** Runs a cdk-nag pack (AwsSolutions by default) on the construct; returns every unacknowledged finding. */
function nagFindings(props: Props, pack: readonly [string, () => NagPack] = PACKS[0]) {
  const { stack } = synth(props, (_uploads, s) => {
    Aspects.of(s).add(pack[1]());
  });
  const annotations = Annotations.fromStack(stack);
  const pattern = Match.stringLikeRegexp(pack[0].replace(/\./g, '\\.'));
  return [...annotations.findError('*', pattern), ...annotations.findWarning('*', pattern)]
    .map((m) => `${m.id}: ${String(m.entry.data).split('\n')[0]}`);
}

const FULL: Props = fullProps;

describe.each(PACKS.slice(1).map((p) => [p[0].slice(0, -1), p] as const))('cdk-nag %s', (_name, pack) => {
  test('default configuration: no unacknowledged finding', () => {
    expect(nagFindings({}, pack)).toEqual([]);
  });

  test('full configuration (quota, alarm topic, KMS, JWT, domain, WAF): no unacknowledged finding', () => {
    expect(nagFindings(FULL, pack)).toEqual([]);
  });

  test('relaxed and verifier variants: no unacknowledged finding', () => {
    expect(nagFindings({ allowAnonymousUploads: true, serverAccessLogs: false, createAlarms: false }, pack)).toEqual([]);
    expect(nagFindings({ verifyUploads: false, uploadQuota: { maxUploads: 5, window: Duration.minutes(1) } }, pack)).toEqual([]);
  });

  test('acknowledgements are real: without them the pack reports exactly the known findings', () => {
    const { stack } = synth(FULL, (_uploads, s) => {
      Aspects.of(s).add({
        visit(node) {
          const cfn = node as unknown as { getMetadata?: (k: string) => unknown; addMetadata?: (k: string, v: unknown) => void };
          if (cfn.getMetadata?.('cdk_nag')) cfn.addMetadata?.('cdk_nag', { rules_to_suppress: [] });
        },
      });
      Aspects.of(s).add(pack[1]());
    });
    const errors = Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp(pack[0].replace(/\./g, '\\.')));
    const ids = new Set(errors.map((e) => String(e.entry.data).split(/[:[]/)[0].slice(pack[0].length)));
    expect([...ids].sort()).toEqual([
      'CloudWatchLogGroupEncrypted', 'DynamoDBInBackupPlan', 'IAMNoInlinePolicy', 'LambdaConcurrency', 'LambdaDLQ', 'LambdaInsideVPC',
      'S3BucketReplicationEnabled', 'S3BucketVersioningEnabled', 'S3DefaultEncryptionKMS',
    ]);
  });
});

describe('cdk-nag AwsSolutions', () => {
  test('default configuration: no unacknowledged finding', () => {
    expect(nagFindings({})).toEqual([]);
  });

  test('full configuration: no unacknowledged finding', () => {
    expect(nagFindings(FULL)).toEqual([]);
  });

  test('relaxed configuration (anonymous, no server access logs): acknowledged, with reasons', () => {
    expect(nagFindings({ allowAnonymousUploads: true, serverAccessLogs: false, allowedOrigins: ['https://app.example.com'] })).toEqual([]);
  });

  test('verifier variants (retained rejects, PDFs served as downloads; and no verifier): no unacknowledged finding', () => {
    expect(nagFindings({ rejectedUploadRetention: Duration.days(30), allowedContentTypes: ['image/png', 'application/pdf'] })).toEqual([]);
    expect(nagFindings({ verifyUploads: false })).toEqual([]);
  });

  test('acknowledgements are real: without them cdk-nag reports findings', () => {
    // GIVEN the construct, WHEN its acknowledgements are stripped, THEN cdk-nag flags it (so the test above can fail).
    const { stack } = synth({}, (_uploads, s) => {
      Aspects.of(s).add({
        visit(node) {
          const cfn = node as unknown as { getMetadata?: (k: string) => unknown; addMetadata?: (k: string, v: unknown) => void };
          if (cfn.getMetadata?.('cdk_nag')) cfn.addMetadata?.('cdk_nag', { rules_to_suppress: [] });
        },
      });
      Aspects.of(s).add(new AwsSolutionsChecks());
    });
    const errors = Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-'));
    const ids = new Set(errors.map((e) => String(e.entry.data).split(/[:[]/)[0]));
    expect([...ids].sort()).toEqual(['AwsSolutions-CFR3', 'AwsSolutions-CFR4', 'AwsSolutions-IAM4', 'AwsSolutions-IAM5']);
  });
});

describe.each(PACKS.map((p) => [p[0].slice(0, -1), p] as const))('cdk-nag %s, signed delivery', (_name, pack) => {
  test('a generated key pair, alone and with every option: no unacknowledged finding', () => {
    expect(nagFindings({ delivery: DeliveryMode.SIGNED_URLS }, pack)).toEqual([]);
    const everything: Props = (stack) => ({ ...fullProps(stack), delivery: DeliveryMode.SIGNED_URLS, downloadUrlExpiry: Duration.minutes(1) });
    expect(nagFindings(everything, pack)).toEqual([]);
  });
});

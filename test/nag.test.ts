import { Aspects, Duration, RemovalPolicy, Stack, aws_certificatemanager as acm, aws_kms as kms } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DirectUploadBucketProps } from '../src';
import { synth } from './util';

/** Runs cdk-nag's AwsSolutions pack on the construct; returns every unacknowledged finding. */
function nagFindings(props: DirectUploadBucketProps | ((stack: Stack) => DirectUploadBucketProps)) {
  const { stack } = synth(props, (_uploads, s) => {
    Aspects.of(s).add(new AwsSolutionsChecks({ verbose: true }));
  });
  const annotations = Annotations.fromStack(stack);
  const pattern = Match.stringLikeRegexp('AwsSolutions-');
  return [...annotations.findError('*', pattern), ...annotations.findWarning('*', pattern)]
    .map((m) => `${m.id}: ${String(m.entry.data).split('\n')[0]}`);
}

describe('cdk-nag AwsSolutions', () => {
  test('default configuration: no unacknowledged finding', () => {
    expect(nagFindings({})).toEqual([]);
  });

  test('full configuration: no unacknowledged finding', () => {
    expect(nagFindings((stack) => ({
      authorizer: new HttpJwtAuthorizer('Jwt', 'https://issuer.example.com', { jwtAudience: ['client'] }),
      allowedOrigins: ['https://app.example.com'],
      encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
      domainNames: ['files.example.com'],
      certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:123456789012:certificate/abc'),
      webAclId: 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/y',
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    }))).toEqual([]);
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

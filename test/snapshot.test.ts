import { aws_certificatemanager as acm } from 'aws-cdk-lib';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { stableTemplate, synth } from './util';

// One snapshot per configuration; asset hashes are masked so only template changes show up.
test('default configuration', () => {
  expect(stableTemplate(synth().template)).toMatchSnapshot();
});

test('JWT authorizer and custom domain', () => {
  const { template } = synth((stack) => ({
    authorizer: new HttpJwtAuthorizer('Jwt', 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool', { jwtAudience: ['client-id'] }),
    allowedOrigins: ['https://app.example.com'],
    domainNames: ['files.example.com'],
    certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:123456789012:certificate/abc'),
  }));
  expect(stableTemplate(template)).toMatchSnapshot();
});

test('anonymous uploads', () => {
  expect(stableTemplate(synth({ allowAnonymousUploads: true, allowedOrigins: ['https://app.example.com'] }).template)).toMatchSnapshot();
});

test('the template is identical across synths (deterministic asset hash)', () => {
  expect(JSON.stringify(synth().template.toJSON())).toBe(JSON.stringify(synth().template.toJSON()));
});

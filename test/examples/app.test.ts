import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');

// The example app is synthesized by the real, pinned aws-cdk CLI, exactly as a user would.
test('cdk synth --strict of the example app produces the upload stack (no warning)', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'cdk-example-'));
  try {
    execFileSync(path.join(root, 'node_modules/.bin/cdk'), ['synth', '--strict', '--quiet', '--output', out], {
      cwd: path.join(root, 'examples'),
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', CI: 'true' },
      stdio: 'pipe',
      timeout: 120_000,
    });
    const template = JSON.parse(readFileSync(path.join(out, 'DirectUploadExample.template.json'), 'utf8'));
    const types = Object.values(template.Resources as Record<string, { Type: string }>).map((r) => r.Type);
    expect(types).toEqual(expect.arrayContaining([
      'AWS::S3::Bucket', 'AWS::SQS::Queue', 'AWS::CloudFront::Distribution', 'AWS::ApiGatewayV2::Route',
      'AWS::Lambda::EventSourceMapping',
    ]));
    const signer = Object.values(template.Resources as Record<string, { Type: string; Properties: { Code?: { S3Key?: string }; Runtime?: string } }>)
      .find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Runtime === 'nodejs22.x');
    expect(signer?.Properties.Code?.S3Key).toMatch(/^[0-9a-f]{64}\.zip$/);
    expect(Object.keys(template.Outputs)).toEqual(expect.arrayContaining(['UploadsEndpoint']));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

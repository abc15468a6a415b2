/**
 * One hand-written SigV4 path at most: the single PUT (presign.ts, held to the SDK by
 * presign-differential.test.ts). Every other request is signed by `@smithy/signature-v4`, which the
 * signer loads on the first such request, so it costs the single-upload cold start nothing.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [full] : [];
  });
}

test('the runtime computes HMACs in one module only: the single-PUT fast path (the local S3 stand-in aside)', () => {
  const signing = sourceFiles(path.join(ROOT, 'src'))
    .filter((file) => !file.startsWith(path.join(ROOT, 'src', 'local') + path.sep))
    .filter((file) => /createHmac|getSigningKey/.test(readFileSync(file, 'utf8')))
    .map((file) => path.relative(ROOT, file));

  expect(signing).toEqual([path.join('src', 'signer', 'presign.ts')]);
});

test('@smithy/signature-v4 is loaded by the first multipart / Uppy / POST signature, not when the handler is built', () => {
  // A fresh process: the handler built from the construct's environment, then one query-signed request.
  const script = `
    const loaded = () => Object.keys(require.cache).some((file) => file.includes('@smithy/signature-v4'));
    const { benchEnv } = require('./bench/lib/fixtures');
    const { createSignerHandlerFromEnv } = require('./src/signer/handler');
    const { loadSignerConfig } = require('./src/signer/config');
    const { createRequestPresigner } = require('./src/signer/request-presigner');
    createSignerHandlerFromEnv(benchEnv('iam'));
    const atInit = loaded();
    createRequestPresigner(loadSignerConfig(benchEnv('iam')))
      .presign({ method: 'GET', key: 'uploads/u/a.bin', query: { uploadId: 'x' } })
      .then((signed) => process.stdout.write(JSON.stringify({ atInit, afterSigning: loaded(), signed: /X-Amz-Signature=[0-9a-f]{64}$/.test(signed.url) })));
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', NODE_NO_WARNINGS: '1' },
  });

  expect(JSON.parse(out)).toEqual({ atInit: false, afterSigning: true, signed: true });
});

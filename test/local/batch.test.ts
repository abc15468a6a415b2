/**
 * Batch signing end to end on the local stack: one `POST /uploads` `{ files }` signs three uploads (PUT,
 * POST form, PUT); the S3 stand-in (SigV4 and POST policies checked) stores each, refuses a body of the
 * wrong size for entry 2, and every key is in the caller's scope.
 */
import { drain, makePng, objectExists, putSigned } from './helpers';
import type { BatchUploadResponse, PresignedUpload } from '../../src/contract/signer-protocol';
import { LOCAL_USER_HEADER } from '../../src/local/http-api';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack({ log: () => undefined, verifyUploads: false });
});
afterAll(async () => {
  await stack?.stop();
});
afterEach(async () => {
  await stack.flush();
  await drain(stack);
});

async function signBatch(files: unknown[], user = 'hana'): Promise<PresignedUpload[]> {
  const res = await fetch(`${stack.signerUrl}/uploads`, {
    method: 'POST', headers: { 'content-type': 'application/json', [LOCAL_USER_HEADER]: user }, body: JSON.stringify({ files }),
  });
  expect(res.status).toBe(200);
  const answer = (await res.json()) as BatchUploadResponse;
  return answer.files.map((f) => {
    if (!f.ok) throw new Error(`entry refused: ${JSON.stringify(f)}`);
    return f as unknown as PresignedUpload;
  });
}

async function postForm(signed: PresignedUpload, body: Buffer): Promise<number> {
  const form = new FormData();
  for (const [name, value] of Object.entries(signed.fields ?? {})) form.set(name, value);
  form.set('file', new Blob([new Uint8Array(body)]));
  return (await fetch(signed.url, { method: 'POST', body: form })).status;
}

test('a 3-file batch uploads through the stand-in; every key is in the caller\'s scope', async () => {
  const bodies = [makePng(4, 4), makePng(40, 40, [1, 2, 3]), makePng(90, 90, [9, 8, 7])];
  const [a, b, c] = await signBatch([
    { contentType: 'image/png', size: bodies[0].length },
    { contentType: 'image/png', size: bodies[1].length, method: 'POST' },
    { contentType: 'image/png', size: bodies[2].length, filename: 'three.png' },
  ]);
  for (const s of [a, b, c]) expect(s.key).toMatch(/^uploads\/hana\/[0-9a-f-]{36}\.png$/);
  expect((await putSigned(a.url, a.headers!, bodies[0])).status).toBe(200);
  expect(await postForm(b, bodies[1])).toBe(204);
  expect((await putSigned(c.url, c.headers!, bodies[2])).status).toBe(200);
  for (const s of [a, b, c]) expect(await objectExists(stack, s.key)).toBe(true);
});

test('entry 2\'s signature binds its own size: a wrong-size body is refused, the other entries store', async () => {
  const bodies = [makePng(4, 4), makePng(40, 40, [1, 2, 3]), makePng(90, 90, [9, 8, 7])];
  const [a, b, c] = await signBatch(bodies.map((body) => ({ contentType: 'image/png', size: body.length })));
  expect(new Set(bodies.map((x) => x.length)).size).toBe(3);
  // Entry 2 sent with entry 3's bytes (another length): S3 refuses, nothing is stored at its key.
  const wrong = await putSigned(b.url, { ...b.headers!, 'content-length': String(bodies[2].length) }, bodies[2]);
  expect(wrong.status).toBe(403);
  expect(await objectExists(stack, b.key)).toBe(false);
  // The same for a POST-form entry: its policy pins the exact length.
  const [form] = await signBatch([{ contentType: 'image/png', size: bodies[1].length, method: 'POST' }]);
  expect(await postForm(form, bodies[2])).toBe(400);
  expect(await objectExists(stack, form.key)).toBe(false);
  expect((await putSigned(a.url, a.headers!, bodies[0])).status).toBe(200);
  expect((await putSigned(c.url, c.headers!, bodies[2])).status).toBe(200);
  // Write-once per entry: the same signed PUT cannot replace what was stored.
  expect((await putSigned(a.url, a.headers!, bodies[0])).status).toBe(412);
});

/**
 * An overwrite end to end on the local stack (signer, versioned S3 stand-in, verifier, CDN gate): the
 * replaced bytes are never served under the tags the old bytes earned.
 */
import { GetObjectTaggingCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { drain, makePng, putSigned, signFor } from './helpers';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import { HTML } from '../verifier/samples';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ log: () => undefined });
  await stack.flush();
  await drain(stack);
});

afterAll(async () => {
  await stack?.stop();
});

async function cdnGet(key: string): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(`${stack.cdnUrl}/${key}`);
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

test('verified bytes replaced by unchecked ones: the CDN refuses them (403), and after verification they are gone', async () => {
  const png = makePng(8, 8);
  const signed = await signFor(stack, png);
  expect((await putSigned(signed.url, signed.headers ?? {}, png)).status).toBe(200);
  await stack.flush();
  const verified = await cdnGet(signed.key);
  expect(verified.status).toBe(200);
  expect(verified.body.equals(png)).toBe(true);

  // A second write to the key (a writer holding any valid credential for it), not yet verified.
  await stack.s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: signed.key, Body: HTML, ContentType: 'image/png' }));
  const { TagSet = [] } = await stack.s3.send(new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: signed.key }));
  expect(TagSet).toEqual([]);
  expect((await cdnGet(signed.key)).status).toBe(403);

  // Its own event reaches the verifier, which rejects the HTML. What the key serves then depends on what the
  // verifier deletes (the current object: nothing is left, 404; that version: the verified PNG is current
  // again, 200), never the HTML.
  await stack.flush();
  const after = await cdnGet(signed.key);
  expect(after.body.includes(HTML)).toBe(false);
  expect(after.status === 404 || (after.status === 200 && after.body.equals(png))).toBe(true);
});

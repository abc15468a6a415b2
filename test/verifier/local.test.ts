/**
 * End-to-end against the local stack: the real signer, the SigV4-verifying S3 stand-in, the S3-event
 * bridge, the real verifier handler on the verification queue, the CDN route with the verification gate.
 */
import { PutObjectCommand, GetObjectTaggingCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { HTML, SVG, makeJpeg, makePdf, makePng, makeWebp } from './samples';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import { decodeS3EventKey } from '../../src/local/s3-events';
import { DEFAULT_PREFIX } from '../../src/policy';
import type { RejectionRecord } from '../../src/verifier/protocol';
import { drain, putSigned, recordsOf, signFor } from '../local/helpers';

/** Sign, upload with the presigned PUT, return the key. */
async function upload(stack: LocalStack, body: Buffer, contentType: string, user = 'alice'): Promise<string> {
  const signed = await signFor(stack, body, { contentType }, user);
  const put = await putSigned(signed.url, signed.headers ?? {}, body);
  if (put.status !== 200) throw new Error(`upload failed: ${put.status} ${put.text}`);
  return signed.key;
}

async function cdnGet(stack: LocalStack, key: string) {
  const res = await fetch(`${stack.cdnUrl}/${key.split('/').map(encodeURIComponent).join('/')}`);
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

async function rejections(stack: LocalStack): Promise<RejectionRecord[]> {
  return (await drain(stack, stack.rejectionQueueUrl)).map((m) => JSON.parse(m.Body ?? '{}') as RejectionRecord);
}

describe('with the verifier (the construct\'s default)', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ log: () => undefined });
  });
  afterAll(async () => {
    await stack?.stop();
  });
  beforeEach(async () => {
    await stack.flush();
    await drain(stack);
    await drain(stack, stack.rejectionQueueUrl);
  });

  test.each([
    ['image/jpeg', makeJpeg()],
    ['image/png', makePng(16, 16)],
    ['image/webp', makeWebp(8, 8)],
  ])('a real %s passes, is tagged, announced with its verification, and becomes servable', async (type, bytes) => {
    const key = await upload(stack, bytes, type);
    await stack.flush();

    const records = recordsOf(await drain(stack));
    expect(records.map((r) => decodeS3EventKey(r.s3.object.key))).toEqual([key]);
    expect((records[0] as any).verification).toMatchObject({ status: 'verified', contentType: type, detectedType: type, size: bytes.length });
    const { TagSet } = await stack.s3.send(new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: key }));
    expect(TagSet).toEqual(expect.arrayContaining([{ Key: 'direct-upload:verified', Value: 'true' }]));
    const served = await cdnGet(stack, key);
    expect(served.status).toBe(200);
    expect(served.body.equals(bytes)).toBe(true);
    expect(served.headers.get('content-type')).toBe(type);
    expect(served.headers.get('content-disposition')).toBe('inline');
    expect(await rejections(stack)).toEqual([]);
  });

  test.each([
    ['an HTML file labelled image/png', HTML, 'ACTIVE_CONTENT'],
    ['an SVG labelled image/png', SVG, 'ACTIVE_CONTENT'],
    ['a truncated PNG', makePng(64, 64, [200, 10, 10]).subarray(0, 50), 'TRUNCATED'],
  ])('%s is rejected, recorded, deleted, never announced and never served', async (_name, bytes, code) => {
    const key = await upload(stack, bytes, 'image/png', 'mallory');
    await stack.flush();
    expect(recordsOf(await drain(stack))).toEqual([]);
    expect(await rejections(stack)).toMatchObject([{ key, rejection: { code }, action: 'deleted', declaredContentType: 'image/png' }]);
    expect((await cdnGet(stack, key)).status).toBe(404);
  });

  test('an empty object (not signable, written another way) is rejected', async () => {
    const key = `${DEFAULT_PREFIX}/bob/empty.png`;
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: Buffer.alloc(0), ContentType: 'image/png' }));
    await stack.flush();
    expect(await rejections(stack)).toMatchObject([{ key, rejection: { code: 'EMPTY' }, size: 0 }]);
    expect((await cdnGet(stack, key)).status).toBe(404);
  });

  test('a redelivered event is harmless: no second notification, no rejection, still served', async () => {
    const png = makePng(3, 3);
    const key = await upload(stack, png, 'image/png');
    await stack.flush();
    const [record] = recordsOf(await drain(stack));
    const { verification, ...original } = record as any;
    expect(verification.status).toBe('verified');
    for (let i = 0; i < 2; i++) {
      await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.verificationQueueUrl, MessageBody: JSON.stringify({ Records: [original] }) }));
    }
    await stack.flush();
    expect(await drain(stack)).toEqual([]);
    expect(await rejections(stack)).toEqual([]);
    expect((await cdnGet(stack, key)).status).toBe(200);
  });

  test('a consumer of the queue sees only verified uploads', async () => {
    const good = [await upload(stack, makePng(2, 2), 'image/png'), await upload(stack, makeJpeg(), 'image/jpeg', 'bob')];
    const bad = [await upload(stack, HTML, 'image/png', 'mallory'), await upload(stack, SVG, 'image/png', 'mallory')];
    await stack.flush();
    const records = recordsOf(await drain(stack));
    expect(records.map((r) => decodeS3EventKey(r.s3.object.key)).sort()).toEqual([...good].sort());
    expect(records.every((r) => (r as any).verification?.status === 'verified')).toBe(true);
    expect((await rejections(stack)).map((r) => r.key).sort()).toEqual([...bad].sort());
  });
});

describe('retained rejects, the CDN gate, downloads and poison messages', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({
      log: () => undefined,
      rejectedUploads: 'retain',
      policy: { allowedContentTypes: ['image/png', 'application/pdf'] },
      maxReceiveCount: 2,
      verificationVisibilityTimeoutSeconds: 0, // a failed message is visible again at once: retries happen within flush()
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('an object that exists but is not verified is refused by the CDN (403), as the bucket policy refuses CloudFront', async () => {
    const key = await upload(stack, HTML, 'image/png', 'mallory');
    await stack.flush();
    expect(await rejections(stack)).toMatchObject([{ key, action: 'retained' }]);
    const served = await cdnGet(stack, key);
    expect(served.status).toBe(403);
    expect(served.body.toString()).not.toContain('<script>');
  });

  test('a verified PDF is served as a download (Content-Disposition: attachment); an image inline', async () => {
    const pdf = await upload(stack, makePdf(), 'application/pdf');
    const png = await upload(stack, makePng(1, 1), 'image/png');
    await stack.flush();
    const served = await cdnGet(stack, pdf);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-disposition')).toBe('attachment');
    expect(served.headers.get('content-security-policy')).toContain('sandbox');
    expect((await cdnGet(stack, png)).headers.get('content-disposition')).toBe('inline');
  });

  test('a poison message is retried, then lands in the dead-letter queue', async () => {
    await drain(stack, stack.deadLetterQueueUrl);
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.verificationQueueUrl, MessageBody: '{"not": "an S3 event"}' }));
    await stack.flush();
    const dead = await drain(stack, stack.deadLetterQueueUrl);
    expect(dead.map((m) => m.Body)).toEqual(['{"not": "an S3 event"}']);
  });
});

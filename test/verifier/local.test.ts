/**
 * End-to-end against the local stack: the real signer, the SigV4-verifying S3 stand-in, the S3-event
 * bridge, the real verifier handler on the verification queue, the CDN route with the verification gate.
 */
import { GetObjectTaggingCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { HTML, SVG, makeJpeg, makePdf, makePng, makeWebp } from './samples';
import type { RejectionRecord } from '../../src/contract/queue-message';
import { DEFAULT_PREFIX } from '../../src/contract/upload-rules';
import { LocalStack, startLocalStack } from '../../src/local/local-stack';
import { decodeS3EventKey } from '../../src/local/s3-events';
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

  test.each([
    ['content-disposition', 'inline; filename="x.html"'],
    ['content-encoding', 'gzip'],
    ['content-language', 'de'],
    ['cache-control', 'public, max-age=31536000'],
    ['expires', 'Thu, 01 Jan 2037 00:00:00 GMT'],
  ])('an unsigned %s header added to a presigned PUT is stored (as S3 does), so the upload is rejected, deleted and never served', async (header, value) => {
    const png = makePng(3, 3);
    const signed = await signFor(stack, png, { contentType: 'image/png' }, 'mallory');
    const put = await putSigned(signed.url, { ...signed.headers, [header]: value }, png);
    expect(put.status).toBe(200);
    await stack.flush();

    expect(await drain(stack)).toEqual([]);
    const [record] = await rejections(stack);
    expect(record).toMatchObject({ key: signed.key, rejection: { code: 'UNEXPECTED_HEADERS' }, action: 'deleted' });
    expect(record.rejection.message).toContain(header);
    expect((await cdnGet(stack, signed.key)).status).not.toBe(200);
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

  describe('write-once keys (versioned bucket, conditional writes)', () => {
    test('a replayed PUT URL after the object exists is refused (412); without If-None-Match its signature fails (403)', async () => {
      const png = makePng(5, 5);
      const signed = await signFor(stack, png, { contentType: 'image/png' });
      expect((await putSigned(signed.url, signed.headers ?? {}, png)).status).toBe(200);
      await stack.flush();
      expect(recordsOf(await drain(stack))).toHaveLength(1);

      // Same length and type, other bytes (active content): the URL allows exactly that, but not over an object.
      const swap = Buffer.concat([HTML, Buffer.alloc(png.length)]).subarray(0, png.length);
      const replay = await putSigned(signed.url, signed.headers ?? {}, swap);
      expect([replay.status, replay.code]).toEqual([412, 'PreconditionFailed']);
      const { 'if-none-match': _dropped, ...unconditional } = signed.headers ?? {};
      const stripped = await putSigned(signed.url, unconditional, swap);
      expect([stripped.status, stripped.code]).toEqual([403, 'SignatureDoesNotMatch']);

      await stack.flush();
      expect(await drain(stack)).toEqual([]);
      const served = await cdnGet(stack, signed.key);
      expect([served.status, served.body.equals(png)]).toEqual([200, true]);
    });

    test('a replayed POST form (S3 cannot make a form conditional) only adds a new version: never served before its own verdict, deleted alone when rejected', async () => {
      const png = makePng(5, 5);
      const signed = await signFor(stack, png, { contentType: 'image/png', method: 'POST' }, 'mallory');
      const post = async (bytes: Buffer) => {
        const form = new FormData();
        for (const [name, value] of Object.entries(signed.fields ?? {})) form.set(name, value);
        form.set('file', new Blob([bytes], { type: 'image/png' }));
        return (await fetch(signed.url, { method: 'POST', body: form })).status;
      };
      expect(await post(png)).toBe(204);
      await stack.flush();
      expect(recordsOf(await drain(stack))).toHaveLength(1);

      // The same form again, other bytes of the pinned length and type: S3 accepts it (a new current version)
      const swap = Buffer.concat([HTML, Buffer.alloc(png.length)]).subarray(0, png.length);
      expect(await post(swap)).toBe(204);
      // ... and before the verifier has looked at it, the CDN serves neither version (the current one is untagged)
      expect((await cdnGet(stack, signed.key)).status).toBe(403);

      await stack.flush();
      expect(await drain(stack)).toEqual([]);
      expect(await rejections(stack)).toMatchObject([{ key: signed.key, rejection: { code: 'ACTIVE_CONTENT' }, action: 'deleted' }]);
      // The rejected version is hidden behind a delete marker (its reason tagged on it for the status route), so
      // the key serves nothing; the PNG's version stays, tagged verified, noncurrent.
      expect((await cdnGet(stack, signed.key)).status).toBe(404);
      const { Versions = [], DeleteMarkers = [] } = await stack.s3.send(new ListObjectVersionsCommand({ Bucket: stack.bucket, Prefix: signed.key }));
      expect(DeleteMarkers.map((d) => d.IsLatest)).toEqual([true]);
      expect(Versions).toHaveLength(2);
    });

    test('race: the key is rewritten between the verifier\'s read and its tag write; the new bytes are never tagged nor served', async () => {
      const png = makePng(6, 6);
      const signed = await signFor(stack, png, { contentType: 'image/png' }, 'mallory');
      const key = signed.key;
      const duringTagWrite: Array<{ status: number; currentVerified: string | undefined }> = [];
      let raced = false;
      // The verifier's S3 client is the stack's: a middleware writes the key right after the verifier's
      // ranged GET, and looks at the CDN and the current version right after its tag write. The rewrite
      // carries no condition, as a replayed POST form (S3 conditional writes do not cover forms).
      stack.s3.middlewareStack.add((next, context) => async (args) => {
        const result = await next(args);
        const input = args.input as { Key?: string; Range?: string };
        if (!raced && context.commandName === 'GetObjectCommand' && input.Key === key && input.Range?.startsWith('bytes=0-')) {
          raced = true;
          await stack.s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: HTML, ContentType: 'image/png' }));
        }
        if (context.commandName === 'PutObjectTaggingCommand' && input.Key === key && duringTagWrite.length === 0) {
          const { TagSet = [] } = await stack.s3.send(new GetObjectTaggingCommand({ Bucket: stack.bucket, Key: key }));
          duringTagWrite.push({
            status: (await cdnGet(stack, key)).status,
            currentVerified: TagSet.find((t) => t.Key === 'direct-upload:verified')?.Value,
          });
        }
        return result;
      }, { step: 'initialize', name: 'race-the-verifier' });
      try {
        expect((await putSigned(signed.url, signed.headers ?? {}, png)).status).toBe(200);
        await stack.flush();
      } finally {
        stack.s3.middlewareStack.remove('race-the-verifier');
      }

      expect(raced).toBe(true);
      // Right after the PNG's version was tagged, the current version (the HTML) was untagged and not served.
      expect(duringTagWrite).toEqual([{ status: 403, currentVerified: undefined }]);
      // The PNG's version was announced, the HTML's version rejected and deleted on its own event.
      const [announced] = recordsOf(await drain(stack)).map((r) => (r as any).verification);
      const [rejected] = await rejections(stack);
      expect(announced).toMatchObject({ status: 'verified', versionId: expect.any(String) });
      expect(rejected).toMatchObject({ key, rejection: { code: 'ACTIVE_CONTENT' }, action: 'deleted', versionId: expect.any(String) });
      expect(rejected.versionId).not.toBe(announced.versionId);
      // The rejected (current) version is hidden by a delete marker: the CDN serves nothing at the key, never the HTML.
      expect((await cdnGet(stack, key)).status).toBe(404);
    });
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
